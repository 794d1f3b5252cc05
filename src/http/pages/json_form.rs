//! A JSON document (the rating tables and rules) as an HTML form and back.
//!
//! The document is laid out as sections: the plain values of each object become labelled inputs,
//! arrays of objects become tables with one row per element (nested objects as dotted columns),
//! arrays of plain values one comma-separated input. Each input is named by its path in the
//! document (`tables.commercial.ncd_levels[3].factor`), so the problems the document's own
//! validation reports by path land next to the input they are about. Posting the form rebuilds the
//! document from the version it was drawn from: values keep their JSON types, table rows can be
//! removed, and one blank row per table adds an element. Written here rather than taken from a
//! crate: JSON-schema form generators are JavaScript, and the pages must work without scripts.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::error::FieldError;

/// Form fields carry this prefix before their path; other fields (csrf, note…) are not data.
pub const FIELD_PREFIX: &str = "f:";
/// A checkbox per table row: `remove:{table path}[index]`.
pub const REMOVE_PREFIX: &str = "remove:";
/// The blank row of a table is `{table path}[new]`.
pub const NEW_ROW: &str = "new";

#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The path in the document, and the input's name after `FIELD_PREFIX`.
    pub path: String,
    /// The last key of the path: the label's translation key.
    pub key: String,
    pub value: String,
    /// `number`, `text`, `bool`, `list` or `json`.
    pub kind: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub path: String,
    /// Relative paths within a row (`limit`, `condition.kind`).
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Input>>,
    /// The blank row for adding an element.
    pub blank: Vec<Input>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The object's path (`tables.compulsory`); empty for the top level.
    pub path: String,
    pub inputs: Vec<Input>,
    pub table: Option<Table>,
}

fn key_of(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last).to_string()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn scalar_text(value: &Value) -> Option<(String, &'static str)> {
    match value {
        Value::String(s) => Some((s.clone(), "text")),
        Value::Number(n) => Some((n.to_string(), "number")),
        Value::Bool(b) => Some((b.to_string(), "bool")),
        Value::Null => Some((String::new(), "text")),
        _ => None,
    }
}

fn is_plain(value: &Value) -> bool {
    !matches!(value, Value::Object(_) | Value::Array(_))
}

/// A row object's plain values by dotted relative path (nested objects flattened).
fn flatten_row(value: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                flatten_row(child, &join(prefix, key), out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

fn input(path: String, value: &Value) -> Input {
    let key = key_of(&path);
    match scalar_text(value) {
        Some((text, kind)) => Input { path, key, value: text, kind },
        None => match value {
            Value::Array(items) if items.iter().all(is_plain) => Input {
                path,
                key,
                value: items.iter().filter_map(scalar_text).map(|(t, _)| t).collect::<Vec<_>>().join(", "),
                kind: "list",
            },
            other => Input { path, key, value: other.to_string(), kind: "json" },
        },
    }
}

/// Lays a document out as sections, in document order.
pub fn sections(document: &Value) -> Vec<Section> {
    let mut out = Vec::new();
    walk(document, "", &mut out);
    out
}

fn walk(value: &Value, path: &str, out: &mut Vec<Section>) {
    let Value::Object(map) = value else { return };
    let mut section = Section { path: path.to_string(), inputs: Vec::new(), table: None };
    let mut nested = Vec::new();
    for (key, child) in map {
        let child_path = join(path, key);
        match child {
            Value::Object(_) => nested.push((child_path, child)),
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                nested.push((child_path, child))
            }
            other => section.inputs.push(input(child_path, other)),
        }
    }
    if !section.inputs.is_empty() {
        out.push(section);
    }
    for (child_path, child) in nested {
        match child {
            Value::Array(items) => out.push(Section {
                path: child_path.clone(),
                inputs: Vec::new(),
                table: Some(table(&child_path, items)),
            }),
            other => walk(other, &child_path, out),
        }
    }
}

fn table(path: &str, items: &[Value]) -> Table {
    let mut columns: Vec<String> = Vec::new();
    let rows_flat: Vec<Vec<(String, Value)>> = items
        .iter()
        .map(|item| {
            let mut flat = Vec::new();
            flatten_row(item, "", &mut flat);
            for (column, _) in &flat {
                if !columns.contains(column) {
                    columns.push(column.clone());
                }
            }
            flat
        })
        .collect();
    let rows = rows_flat
        .iter()
        .enumerate()
        .map(|(index, flat)| {
            columns
                .iter()
                .map(|column| {
                    let value = flat.iter().find(|(c, _)| c == column).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
                    let mut cell = input(format!("{path}[{index}].{column}"), &value);
                    cell.key = column.clone();
                    cell
                })
                .collect()
        })
        .collect();
    let blank = columns
        .iter()
        .map(|column| Input {
            path: format!("{path}[{NEW_ROW}].{column}"),
            key: column.clone(),
            value: String::new(),
            kind: "text",
        })
        .collect();
    Table { path: path.to_string(), columns, rows, blank }
}

/// Puts what was posted back into the inputs, so a refused form shows what was typed, not the old values.
pub fn overlay(sections: &mut [Section], posted: &[(String, String)]) {
    let values: HashMap<&str, &str> = posted
        .iter()
        .filter_map(|(name, value)| name.strip_prefix(FIELD_PREFIX).map(|path| (path, value.as_str())))
        .collect();
    for section in sections {
        let table_cells = section.table.iter_mut().flat_map(|t| t.rows.iter_mut().flatten().chain(t.blank.iter_mut()));
        for input in section.inputs.iter_mut().chain(table_cells) {
            if let Some(value) = values.get(input.path.as_str()) {
                input.value = value.to_string();
            }
        }
    }
}

/// One step of a path: a key or an index.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    New,
}

fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').map_or((part, None), |(k, r)| (k, Some(r)));
        if key.is_empty() {
            return None;
        }
        steps.push(Step::Key(key.to_string()));
        if let Some(rest) = rest {
            let inner = rest.strip_suffix(']')?;
            steps.push(if inner == NEW_ROW { Step::New } else { Step::Index(inner.parse().ok()?) });
        }
    }
    Some(steps)
}

/// Converts a posted text to the JSON type the same place held before (`like`).
fn typed(text: &str, like: Option<&Value>, path: &str) -> Result<Value, FieldError> {
    let text = text.trim();
    let bad = |what: &str| FieldError::new(path, "invalid", format!("{what}, not {text:?}"));
    Ok(match like {
        Some(Value::Number(n)) => {
            if n.is_i64() || n.is_u64() {
                Value::from(text.parse::<i64>().map_err(|_| bad("a whole number"))?)
            } else {
                serde_json::Number::from_f64(text.parse::<f64>().map_err(|_| bad("a number"))?)
                    .map(Value::Number)
                    .ok_or_else(|| bad("a finite number"))?
            }
        }
        Some(Value::Bool(_)) => Value::Bool(matches!(text, "true" | "on" | "1" | "yes")),
        Some(Value::Array(items)) => {
            let element = items.first();
            let mut out = Vec::new();
            for part in text.split([',', '，']).map(str::trim).filter(|p| !p.is_empty()) {
                out.push(typed(part, element, path)?);
            }
            Value::Array(out)
        }
        Some(Value::Object(_)) => serde_json::from_str(text).map_err(|e| bad(&format!("JSON ({e})")))?,
        Some(Value::Null) | None if text.is_empty() => Value::Null,
        // A text, or a place that held nothing: a number if it reads as one (a new row's limit), else text.
        Some(Value::String(_)) => Value::String(text.to_string()),
        _ => text.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(text.to_string())),
    })
}

fn get<'a>(value: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get(k),
        Step::Index(i) => v.get(*i),
        Step::New => None,
    })
}

fn set(value: &mut Value, steps: &[Step], new: Value) -> bool {
    let Some((last, parents)) = steps.split_last() else { return false };
    let mut current = value;
    for step in parents {
        current = match step {
            Step::Key(k) => {
                let Value::Object(map) = current else { return false };
                map.entry(k.clone()).or_insert_with(|| Value::Object(Map::new()))
            }
            Step::Index(i) => match current.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            Step::New => return false,
        };
    }
    match (last, current) {
        (Step::Key(k), Value::Object(map)) => {
            if new.is_null() && !map.contains_key(k) {
                return true;
            }
            map.insert(k.clone(), new);
            true
        }
        (Step::Index(i), Value::Array(items)) if *i < items.len() => {
            items[*i] = new;
            true
        }
        _ => false,
    }
}

/// Rebuilds the document from `base` and the posted fields; every value that cannot be read is
/// reported by its path. Unknown paths are refused rather than ignored.
pub fn rebuild(base: &Value, posted: &[(String, String)]) -> Result<Value, Vec<FieldError>> {
    let mut document = base.clone();
    let mut errors = Vec::new();
    // New rows by table: relative column → text.
    let mut new_rows: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut removals: HashMap<String, Vec<usize>> = HashMap::new();
    for (name, text) in posted {
        if let Some(target) = name.strip_prefix(REMOVE_PREFIX) {
            if let Some((table, index)) = target.rsplit_once('[')
                && let Ok(index) = index.trim_end_matches(']').parse::<usize>()
            {
                removals.entry(table.to_string()).or_default().push(index);
            }
            continue;
        }
        let Some(path) = name.strip_prefix(FIELD_PREFIX) else { continue };
        if let Some((table, column)) = path.split_once(&format!("[{NEW_ROW}].")) {
            new_rows.entry(table.to_string()).or_default().push((column.to_string(), text.clone()));
            continue;
        }
        let Some(steps) = parse_path(path) else {
            errors.push(FieldError::new(path, "unknown_field", "not a place in the document"));
            continue;
        };
        let current = get(&document, &steps).cloned();
        if current.is_none() && text.trim().is_empty() {
            continue;
        }
        let like = current.clone().or_else(|| sibling_like(&document, &steps));
        match typed(text, like.as_ref(), path) {
            Ok(value) => {
                if !set(&mut document, &steps, value) {
                    errors.push(FieldError::new(path, "unknown_field", "not a place in the document"));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    for (table, mut indexes) in removals {
        indexes.sort_unstable_by(|a, b| b.cmp(a));
        if let Some(Value::Array(items)) = parse_path(&table).and_then(|steps| get_mut(&mut document, &steps)) {
            for index in indexes {
                if index < items.len() {
                    items.remove(index);
                }
            }
        }
    }
    for (table, cells) in new_rows {
        if cells.iter().all(|(_, text)| text.trim().is_empty()) {
            continue;
        }
        let Some(Value::Array(items)) = parse_path(&table).and_then(|steps| get_mut(&mut document, &steps)) else {
            errors.push(FieldError::new(table.clone(), "unknown_field", "not a table in the document"));
            continue;
        };
        // The new element takes its shape and types from the last one.
        let template = items.last().cloned().unwrap_or(Value::Object(Map::new()));
        let mut row = Value::Object(Map::new());
        for (column, text) in cells {
            let Some(steps) = parse_path(&column) else { continue };
            let path = format!("{table}[{}].{column}", items.len());
            if text.trim().is_empty() {
                continue;
            }
            match typed(&text, get(&template, &steps), &path) {
                Ok(value) => {
                    set(&mut row, &steps, value);
                }
                Err(e) => errors.push(e),
            }
        }
        items.push(row);
    }
    if errors.is_empty() { Ok(document) } else { Err(errors) }
}

/// For a cell a row did not have: the type the same column has in another row of the table.
fn sibling_like(document: &Value, steps: &[Step]) -> Option<Value> {
    let position = steps.iter().rposition(|s| matches!(s, Step::Index(_)))?;
    let table = get(document, &steps[..position])?.as_array()?;
    table.iter().find_map(|row| get(row, &steps[position + 1..]).filter(|v| !v.is_null()).cloned())
}

fn get_mut<'a>(value: &'a mut Value, steps: &[Step]) -> Option<&'a mut Value> {
    steps.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get_mut(k),
        Step::Index(i) => v.get_mut(*i),
        Step::New => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document() -> Value {
        json!({
            "tables": {
                "compulsory": { "base": "950.00", "limits": { "medical": "18000" } },
                "commercial": {
                    "rate": "0.011",
                    "seat_limits": ["10000", "20000"],
                    "ncd_levels": [{ "level": -1, "factor": "0.8" }, { "level": 0, "factor": "1.0" }],
                },
            },
            "rules": [
                { "code": "age", "condition": { "kind": "vehicle_age_above", "years": 10 }, "outcome": "refer" },
                { "code": "ncd", "condition": { "kind": "ncd_level_above", "level": 3 }, "outcome": "refer" },
            ],
        })
    }

    /// What a browser posts for the form as drawn, unchanged.
    fn posted_as_drawn(document: &Value) -> Vec<(String, String)> {
        let mut posted = Vec::new();
        for section in sections(document) {
            for input in &section.inputs {
                posted.push((format!("{FIELD_PREFIX}{}", input.path), input.value.clone()));
            }
            if let Some(table) = &section.table {
                for cell in table.rows.iter().flatten().chain(&table.blank) {
                    posted.push((format!("{FIELD_PREFIX}{}", cell.path), cell.value.clone()));
                }
            }
        }
        posted
    }

    #[test]
    fn the_form_as_drawn_rebuilds_the_same_document() {
        let doc = document();
        assert_eq!(rebuild(&doc, &posted_as_drawn(&doc)).expect("rebuilt"), doc);
    }

    #[test]
    fn sections_follow_the_document() {
        let mut paths: Vec<String> = sections(&document()).into_iter().map(|s| s.path).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "rules",
                "tables.commercial",
                "tables.commercial.ncd_levels",
                "tables.compulsory",
                "tables.compulsory.limits"
            ]
        );
        let rules = sections(&document()).into_iter().find(|s| s.path == "rules").expect("rules").table.expect("table");
        let mut columns = rules.columns.clone();
        columns.sort();
        assert_eq!(columns, ["code", "condition.kind", "condition.level", "condition.years", "outcome"]);
        let years = rules.columns.iter().position(|c| c == "condition.years").expect("years column");
        assert_eq!(rules.rows[1][years].value, "", "a column a row lacks is blank");
    }

    #[test]
    fn changes_keep_their_types_and_rows_come_and_go() {
        let doc = document();
        let mut posted = posted_as_drawn(&doc);
        for (name, value) in posted.iter_mut() {
            match name.as_str() {
                "f:tables.commercial.ncd_levels[1].factor" => *value = "0.95".into(),
                "f:rules[0].condition.years" => *value = "12".into(),
                "f:tables.commercial.seat_limits" => *value = "10000, 20000，50000".into(),
                "f:tables.commercial.ncd_levels[new].level" => *value = "1".into(),
                "f:tables.commercial.ncd_levels[new].factor" => *value = "1.2".into(),
                _ => {}
            }
        }
        posted.push(("remove:rules[1]".into(), "on".into()));
        let rebuilt = rebuild(&doc, &posted).expect("rebuilt");
        assert_eq!(rebuilt["tables"]["commercial"]["ncd_levels"][1]["factor"], "0.95");
        assert_eq!(rebuilt["tables"]["commercial"]["ncd_levels"][2], json!({ "level": 1, "factor": "1.2" }));
        assert_eq!(rebuilt["rules"][0]["condition"]["years"], 12, "a number stays a number");
        assert_eq!(rebuilt["rules"].as_array().expect("rules").len(), 1);
        assert_eq!(rebuilt["tables"]["commercial"]["seat_limits"], json!(["10000", "20000", "50000"]));
    }

    #[test]
    fn unreadable_values_and_unknown_places_are_named() {
        let doc = document();
        let mut posted = posted_as_drawn(&doc);
        for (name, value) in posted.iter_mut() {
            if name == "f:rules[0].condition.years" {
                *value = "ten".into();
            }
        }
        posted.push(("f:tables.nowhere[9].x".into(), "1".into()));
        let errors = rebuild(&doc, &posted).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["rules[0].condition.years", "tables.nowhere[9].x"]);
    }
}

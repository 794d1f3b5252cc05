//! Reading triangles from CSV, writing developments as JSON or CSV.
//!
//! Input CSV: a header row naming exactly the columns `triangle`, `origin`, `age`, `value` (in any
//! order, matched case-insensitively), then one row per observed cumulative cell. Surrounding
//! whitespace is trimmed; lines that are empty (or only commas) are skipped. Extra columns are
//! rejected rather than ignored, so that a file carrying, say, both a paid and an incurred
//! column is not silently read through whichever one happens to be called `value`.

use std::collections::HashMap;
use std::io;

use serde::Serialize;
use thiserror::Error;

use super::chain_ladder::{Development, Triangle, TriangleError};

/// The columns an input CSV must have.
pub const INPUT_COLUMNS: [&str; 4] = ["triangle", "origin", "age", "value"];

/// The columns [`write_csv`] writes. `factor` and `observed` come after the ten agreed columns
/// because a `factor` row's age-to-age factor has no other column to go in.
pub const OUTPUT_COLUMNS: [&str; 12] = [
    "triangle",
    "kind",
    "from_age",
    "to_age",
    "origin",
    "latest_age",
    "latest",
    "cdf",
    "ultimate",
    "ibnr",
    "factor",
    "observed",
];

/// One thing wrong with an input file. Lines are counted from 1, the header being line 1.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InputProblem {
    #[error("the input is empty: a header row `triangle,origin,age,value` is required")]
    MissingHeader,
    #[error("line {line}: the header has no column {column:?}")]
    MissingColumn { line: u64, column: &'static str },
    #[error("line {line}: the header names column {column:?} more than once")]
    DuplicateColumn { line: u64, column: String },
    #[error("line {line}: the header has unexpected column {column:?} (only triangle, origin, age, value are read)")]
    UnexpectedColumn { line: u64, column: String },
    #[error("line {line}: expected {expected} fields, found {found}")]
    FieldCount { line: u64, expected: usize, found: usize },
    #[error("line {line}, field {field:?}: {reason}")]
    BadField { line: u64, field: &'static str, reason: String },
    #[error(
        "line {line}: triangle {triangle:?}, origin {origin:?}, age {age} already has a value (on line {first_line})"
    )]
    DuplicateCell { line: u64, first_line: u64, triangle: String, origin: String, age: u32 },
    #[error("line {line}: {message}")]
    Unreadable { line: u64, message: String },
    #[error("{0}")]
    Triangle(TriangleError),
}

/// Everything wrong with an input file; reading yields no triangle when there is any problem.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}", list_problems(.problems))]
pub struct ReadError {
    pub problems: Vec<InputProblem>,
}

fn list_problems(problems: &[InputProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write: {0}")]
    Io(#[from] io::Error),
}

#[derive(Clone, Copy)]
enum Column {
    Triangle,
    Origin,
    Age,
    Value,
}

/// Positions of the four input columns in the header.
struct Layout {
    triangle: usize,
    origin: usize,
    age: usize,
    value: usize,
    width: usize,
}

struct PendingTriangle {
    name: String,
    cells: Vec<(String, u32, f64)>,
    has_bad_rows: bool,
}

/// Reads every triangle in a CSV file (see the module docs for the format), in order of first
/// appearance of each triangle name, with origins sorted as [`Triangle::from_cells`] does.
///
/// All problems are collected, each bad row reported with its line and field; triangles whose
/// rows are all valid are also checked as triangles (holes, empty rows). Any problem → `Err`.
/// A bad header stops there, since rows cannot be read without knowing the columns.
pub fn read_triangles_csv<R: io::Read>(input: R) -> Result<Vec<Triangle>, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true) // field counts are checked here, to report them per line
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    let mut problems = Vec::new();

    let layout = loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Err(ReadError::from(vec![InputProblem::MissingHeader])),
            Ok(true) if is_blank(&record) => continue,
            Ok(true) => break parse_header(&record, line_of(&record))?,
            Err(error) => return Err(ReadError::from(vec![unreadable(&error, &reader)])),
        }
    };

    let mut pending: Vec<PendingTriangle> = Vec::new();
    let mut triangle_slots: HashMap<String, usize> = HashMap::new();
    let mut first_lines: HashMap<(usize, String, u32), u64> = HashMap::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) if is_blank(&record) => {}
            Ok(true) => {
                let line = line_of(&record);
                let field = |index: usize| record.get(index).unwrap_or_default();
                let (triangle, origin, age, value) = if record.len() == layout.width {
                    (
                        parse_text(field(layout.triangle), line, "triangle", &mut problems),
                        parse_text(field(layout.origin), line, "origin", &mut problems),
                        parse_age(field(layout.age), line, &mut problems),
                        parse_value(field(layout.value), line, &mut problems),
                    )
                } else {
                    problems.push(InputProblem::FieldCount { line, expected: layout.width, found: record.len() });
                    // Still mark the triangle (if the name is there) as having a bad row.
                    (Some(field(layout.triangle)).filter(|name| !name.is_empty()), None, None, None)
                };

                let Some(triangle) = triangle else { continue };
                let slot = *triangle_slots.entry(triangle.to_owned()).or_insert_with(|| {
                    pending.push(PendingTriangle { name: triangle.to_owned(), cells: Vec::new(), has_bad_rows: false });
                    pending.len() - 1
                });
                let Some(target) = pending.get_mut(slot) else { continue };
                let (Some(origin), Some(age), Some(value)) = (origin, age, value) else {
                    target.has_bad_rows = true;
                    continue;
                };
                match first_lines.get(&(slot, origin.to_owned(), age)) {
                    Some(&first_line) => {
                        target.has_bad_rows = true;
                        problems.push(InputProblem::DuplicateCell {
                            line,
                            first_line,
                            triangle: triangle.to_owned(),
                            origin: origin.to_owned(),
                            age,
                        });
                    }
                    None => {
                        first_lines.insert((slot, origin.to_owned(), age), line);
                        target.cells.push((origin.to_owned(), age, value));
                    }
                }
            }
            Err(error) => {
                let recoverable = matches!(error.kind(), csv::ErrorKind::Utf8 { .. });
                problems.push(unreadable(&error, &reader));
                // After an I/O or similar failure the reader cannot be trusted to make progress.
                if !recoverable {
                    break;
                }
            }
        }
    }

    let mut triangles = Vec::with_capacity(pending.len());
    // Triangles with bad rows are not built: their dropped rows would show up as false holes.
    for candidate in pending.into_iter().filter(|candidate| !candidate.has_bad_rows) {
        match Triangle::from_cells(candidate.name, candidate.cells) {
            Ok(triangle) => triangles.push(triangle),
            Err(error) => problems.push(InputProblem::Triangle(error)),
        }
    }
    if problems.is_empty() { Ok(triangles) } else { Err(ReadError::from(problems)) }
}

impl From<Vec<InputProblem>> for ReadError {
    fn from(problems: Vec<InputProblem>) -> Self {
        Self { problems }
    }
}

fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map(csv::Position::line).unwrap_or_default()
}

fn is_blank(record: &csv::StringRecord) -> bool {
    record.iter().all(str::is_empty)
}

fn unreadable<R: io::Read>(error: &csv::Error, reader: &csv::Reader<R>) -> InputProblem {
    let line = error.position().map(csv::Position::line).unwrap_or_else(|| reader.position().line());
    InputProblem::Unreadable { line, message: error.to_string() }
}

fn parse_header(record: &csv::StringRecord, line: u64) -> Result<Layout, ReadError> {
    let mut positions: [Option<usize>; 4] = [None; 4];
    let mut problems = Vec::new();
    for (index, name) in record.iter().enumerate() {
        // Spreadsheet exports often start with a UTF-8 byte order mark, which trimming keeps.
        let name = name.trim_start_matches('\u{feff}').trim();
        let column = match name.to_ascii_lowercase().as_str() {
            "triangle" => Column::Triangle,
            "origin" => Column::Origin,
            "age" => Column::Age,
            "value" => Column::Value,
            _ => {
                problems.push(InputProblem::UnexpectedColumn { line, column: name.to_owned() });
                continue;
            }
        };
        match positions.get_mut(column as usize) {
            Some(slot @ None) => *slot = Some(index),
            _ => problems.push(InputProblem::DuplicateColumn { line, column: name.to_owned() }),
        }
    }
    for (position, column) in positions.iter().zip(INPUT_COLUMNS) {
        if position.is_none() {
            problems.push(InputProblem::MissingColumn { line, column });
        }
    }
    match positions {
        [Some(triangle), Some(origin), Some(age), Some(value)] if problems.is_empty() => {
            Ok(Layout { triangle, origin, age, value, width: record.len() })
        }
        _ => Err(ReadError::from(problems)),
    }
}

fn bad_field(line: u64, field: &'static str, reason: String) -> InputProblem {
    InputProblem::BadField { line, field, reason }
}

fn parse_text<'a>(text: &'a str, line: u64, field: &'static str, problems: &mut Vec<InputProblem>) -> Option<&'a str> {
    if text.is_empty() {
        problems.push(bad_field(line, field, "is empty".to_owned()));
        return None;
    }
    Some(text)
}

fn parse_age(text: &str, line: u64, problems: &mut Vec<InputProblem>) -> Option<u32> {
    let reason = match text.parse::<u32>() {
        Ok(age) => return Some(age),
        Err(_) if text.is_empty() => "is empty".to_owned(),
        Err(_) => match text.parse::<i128>() {
            Ok(negative) if negative < 0 => format!("{text:?} is negative (ages are whole numbers >= 0)"),
            Ok(_) => format!("{text:?} is too large for an age"),
            Err(_) => format!("{text:?} is not a whole number"),
        },
    };
    problems.push(bad_field(line, "age", reason));
    None
}

fn parse_value(text: &str, line: u64, problems: &mut Vec<InputProblem>) -> Option<f64> {
    let reason = match text.parse::<f64>() {
        Ok(value) if value.is_finite() => return Some(value),
        // Rust parses "NaN", "inf" and out-of-range literals such as "1e400" (→ inf).
        Ok(_) => format!("{text:?} is not a finite number"),
        Err(_) if text.is_empty() => "is empty".to_owned(),
        Err(_) => format!("{text:?} is not a decimal number"),
    };
    problems.push(bad_field(line, "value", reason));
    None
}

#[derive(Serialize)]
struct JsonReport<'a> {
    triangles: &'a [Development],
}

/// Writes `{"triangles":[…]}`, each development as
/// `{"triangle","factors":[{"from_age","to_age","factor","observed"}],"origins":[{"origin",
/// "latest_age","latest","cdf","ultimate","ibnr"}],"total":{"latest","ultimate","ibnr"}}`, plus
/// `"tail_factor"` only when a tail other than 1 was applied.
pub fn write_json<W: io::Write>(developments: &[Development], output: W) -> Result<(), WriteError> {
    serde_json::to_writer(output, &JsonReport { triangles: developments })?;
    Ok(())
}

/// Writes one table with the columns [`OUTPUT_COLUMNS`]: per development its `factor` rows, then
/// its `origin` rows, then one `total` row; columns that do not apply to a row are empty. Numbers
/// use Rust's shortest round-trip formatting, so they parse back to the same `f64`. A tail factor
/// shows only through the cdfs (and in the JSON).
pub fn write_csv<W: io::Write>(developments: &[Development], output: W) -> Result<(), WriteError> {
    let mut writer = csv::Writer::from_writer(output);
    writer.write_record(OUTPUT_COLUMNS)?;
    for development in developments {
        let triangle = development.triangle.as_str();
        for factor in &development.factors {
            writer.write_record([
                triangle,
                "factor",
                &factor.from_age.to_string(),
                &factor.to_age.to_string(),
                "",
                "",
                "",
                "",
                "",
                "",
                &factor.factor.to_string(),
                if factor.observed { "true" } else { "false" },
            ])?;
        }
        for origin in &development.origins {
            writer.write_record([
                triangle,
                "origin",
                "",
                "",
                &origin.origin,
                &origin.latest_age.to_string(),
                &origin.latest.to_string(),
                &origin.cdf.to_string(),
                &origin.ultimate.to_string(),
                &origin.ibnr.to_string(),
                "",
                "",
            ])?;
        }
        let total = &development.total;
        writer.write_record([
            triangle,
            "total",
            "",
            "",
            "",
            "",
            &total.latest.to_string(),
            "",
            &total.ultimate.to_string(),
            &total.ibnr.to_string(),
            "",
            "",
        ])?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::chain_ladder::{develop, develop_with_tail};
    use super::*;

    fn problems(input: &str) -> Vec<String> {
        let error = read_triangles_csv(input.as_bytes()).unwrap_err();
        error.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn reads_several_triangles_in_first_appearance_order() {
        let input = "\u{feff}value , Age,origin,triangle\n\
                     100, 1, 2010, dealer B\n\
                     \n\
                     5,1,2019Q2,quarterly\n\
                     10,1,9,dealer A\n\
                     12,1,10,dealer A\n\
                     15,2,9,dealer A\n\
                     4,1,2019Q1,quarterly\n\
                     6,2,2019Q1,quarterly\n\
                     ,,,\n";
        let triangles = read_triangles_csv(input.as_bytes()).unwrap();
        let names: Vec<&str> = triangles.iter().map(Triangle::name).collect();
        assert_eq!(names, ["dealer B", "quarterly", "dealer A"]);
        assert_eq!(triangles[1].origins(), ["2019Q1", "2019Q2"]);
        assert_eq!(triangles[2].origins(), ["9", "10"], "numeric, not text, order");
        assert_eq!(triangles[2].ages(), [1, 2]);
        assert_eq!((triangles[2].get(0, 1), triangles[2].get(1, 1)), (Some(15.0), None));
        let dealer_a = develop(&triangles[2]).unwrap();
        assert_eq!(dealer_a.factors[0].factor, 1.5);
        assert_eq!(dealer_a.total.ultimate, 15.0 + 18.0);
    }

    #[test]
    fn every_bad_row_is_reported_with_line_and_field() {
        let input = "triangle,origin,age,value\n\
                     A,2019,1,100\n\
                     A,2019,x,100\n\
                     A,2020,1,abc\n\
                     ,2021,1,5\n\
                     A,2022,1\n\
                     A,2023,-1,NaN\n\
                     A,2024,1,1e400\n\
                     B, ,1,\n";
        assert_eq!(
            problems(input),
            [
                r#"line 3, field "age": "x" is not a whole number"#,
                r#"line 4, field "value": "abc" is not a decimal number"#,
                r#"line 5, field "triangle": is empty"#,
                "line 6: expected 4 fields, found 3",
                r#"line 7, field "age": "-1" is negative (ages are whole numbers >= 0)"#,
                r#"line 7, field "value": "NaN" is not a finite number"#,
                r#"line 8, field "value": "1e400" is not a finite number"#,
                r#"line 9, field "origin": is empty"#,
                r#"line 9, field "value": is empty"#,
            ]
        );
    }

    #[test]
    fn duplicate_cells_are_rejected_with_both_lines() {
        let input = "triangle,origin,age,value\nA,2019,1,100\nB,2019,1,100\nA,2019,1,101\n";
        assert_eq!(problems(input), [r#"line 4: triangle "A", origin "2019", age 1 already has a value (on line 2)"#]);
    }

    #[test]
    fn a_hole_in_a_row_is_rejected() {
        let input = "triangle,origin,age,value\nA,2019,1,1\nA,2019,3,3\nA,2020,2,2\nB,1,1,1\n";
        let error = read_triangles_csv(input.as_bytes()).unwrap_err();
        assert_eq!(
            error.problems,
            [InputProblem::Triangle(TriangleError::HoleInRow { triangle: "A".into(), origin: "2019".into(), age: 2 })]
        );
        // A bad row's triangle is not checked for holes: the dropped row would look like one.
        let input = "triangle,origin,age,value\nA,2019,1,1\nA,2019,2\nA,2019,3,3\n";
        assert_eq!(problems(input), ["line 3: expected 4 fields, found 3"]);
    }

    #[test]
    fn header_problems_are_all_reported() {
        assert_eq!(
            problems("triangle,origin,age,amount,triangle\n"),
            [
                r#"line 1: the header has unexpected column "amount" (only triangle, origin, age, value are read)"#,
                r#"line 1: the header names column "triangle" more than once"#,
                r#"line 1: the header has no column "value""#,
            ]
        );
        assert_eq!(problems(""), [InputProblem::MissingHeader.to_string()]);
        assert_eq!(read_triangles_csv("triangle,origin,age,value\n".as_bytes()).unwrap(), []);
    }

    #[test]
    fn invalid_utf8_is_reported_and_reading_goes_on() {
        let mut input = b"triangle,origin,age,value\nA,1,1,1\nA,".to_vec();
        input.extend_from_slice(&[0xff, 0xfe]);
        input.extend_from_slice(b",1,2\nA,2,1,x\n");
        let error = read_triangles_csv(input.as_slice()).unwrap_err();
        let messages: Vec<String> = error.problems.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("line 3: "), "{messages:?}");
        assert_eq!(messages[1], r#"line 4, field "value": "x" is not a decimal number"#);
    }

    fn small_development() -> Development {
        let input = "triangle,origin,age,value\nT,2019,1,100\nT,2019,2,150\nT,2020,1,80\n";
        let triangles = read_triangles_csv(input.as_bytes()).unwrap();
        develop(&triangles[0]).unwrap()
    }

    #[test]
    fn json_has_the_documented_shape() {
        let mut output = Vec::new();
        write_json(&[small_development()], &mut output).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&output).unwrap();
        let keys = |value: &serde_json::Value| {
            let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&json), ["triangles"]);
        let triangle = &json["triangles"][0];
        assert_eq!(keys(triangle), ["factors", "origins", "total", "triangle"]);
        assert_eq!(triangle["triangle"], "T");
        assert_eq!(keys(&triangle["factors"][0]), ["factor", "from_age", "observed", "to_age"]);
        assert_eq!(triangle["factors"][0]["factor"], 1.5);
        assert_eq!(triangle["factors"][0]["observed"], true);
        assert_eq!(keys(&triangle["origins"][0]), ["cdf", "ibnr", "latest", "latest_age", "origin", "ultimate"]);
        assert_eq!(triangle["origins"][1]["origin"], "2020");
        assert_eq!(triangle["origins"][1]["latest_age"], 1);
        assert_eq!(triangle["origins"][1]["ultimate"], 120.0);
        assert_eq!(keys(&triangle["total"]), ["ibnr", "latest", "ultimate"]);
        assert_eq!(triangle["total"]["ibnr"], 40.0);
    }

    #[test]
    fn json_names_a_tail_only_when_one_is_applied() {
        let input = "triangle,origin,age,value\nT,2019,1,100\n";
        let triangles = read_triangles_csv(input.as_bytes()).unwrap();
        let mut output = Vec::new();
        write_json(&[develop_with_tail(&triangles[0], None, 1.1).unwrap()], &mut output).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&output).unwrap();
        assert_eq!(json["triangles"][0]["tail_factor"], 1.1);
        assert_eq!(json["triangles"][0]["origins"][0]["cdf"], 1.1);
    }

    #[test]
    fn csv_output_round_trips() {
        let mut development = small_development();
        // A value that needs all 17 significant digits to come back bit for bit.
        development.origins[1].cdf = 0.1 + 0.2;
        let mut output = Vec::new();
        write_csv(std::slice::from_ref(&development), &mut output).unwrap();
        let text = String::from_utf8(output).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "triangle,kind,from_age,to_age,origin,latest_age,latest,cdf,ultimate,ibnr,factor,observed",
                "T,factor,1,2,,,,,,,1.5,true",
                "T,origin,,,2019,2,150,1,150,0,,",
                "T,origin,,,2020,1,80,0.30000000000000004,120,40,,",
                "T,total,,,,,230,,270,40,,",
            ]
        );

        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), OUTPUT_COLUMNS);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let number = |row: &csv::StringRecord, column: usize| row[column].parse::<f64>().unwrap();
        assert_eq!(number(&rows[0], 10), development.factors[0].factor);
        for (row, origin) in rows[1..3].iter().zip(&development.origins) {
            assert_eq!(&row[4], origin.origin);
            assert_eq!(row[5].parse::<u32>().unwrap(), origin.latest_age);
            let values = [number(row, 6), number(row, 7), number(row, 8), number(row, 9)];
            assert_eq!(values, [origin.latest, origin.cdf, origin.ultimate, origin.ibnr]);
        }
        let total = development.total;
        assert_eq!(
            [number(&rows[3], 6), number(&rows[3], 8), number(&rows[3], 9)],
            [total.latest, total.ultimate, total.ibnr]
        );
    }
}

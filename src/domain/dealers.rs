//! Dealers as users type them in: one form, or a CSV file of many. A file
//! with any bad row is refused whole, with every problem named by line and field.

use serde::{Deserialize, Serialize};

/// A dealer's status: whether it may sell, and whether it is under remediation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DealerStatus {
    Active,
    Remediation,
    Suspended,
}

impl DealerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DealerStatus::Active => "active",
            DealerStatus::Remediation => "remediation",
            DealerStatus::Suspended => "suspended",
        }
    }

    /// English names and the Chinese words a spreadsheet is likely to hold.
    pub fn parse(text: &str) -> Option<DealerStatus> {
        match text.trim().to_lowercase().as_str() {
            "active" | "正常" => Some(DealerStatus::Active),
            "remediation" | "整改" | "整改中" => Some(DealerStatus::Remediation),
            "suspended" | "暂停" | "暂停合作" => Some(DealerStatus::Suspended),
            _ => None,
        }
    }
}

/// A dealer's own facts, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DealerFacts {
    pub code: String,
    pub name: String,
    pub dealer_group: String,
    pub region: String,
    pub brands: Vec<String>,
    pub has_repair_shop: bool,
    pub status: DealerStatus,
}

/// One problem with one field.
pub type FactProblem = crate::domain::problem::Problem;

fn problem(field: &'static str, code: &'static str, message: impl Into<String>) -> FactProblem {
    FactProblem::new(field, code, message)
}

/// Dealer codes are what people type and search: 2–32 of A–Z, 0–9 and '-'.
pub fn code_problem(code: &str) -> Option<FactProblem> {
    let valid = (2..=32).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    (!valid).then(|| problem("code", "invalid", "a dealer code is 2 to 32 capital letters, digits or '-'"))
}

/// Checks the text fields and returns the facts trimmed, or every problem found.
pub fn check_facts(
    code: &str,
    name: &str,
    dealer_group: &str,
    region: &str,
    brands: &[String],
    has_repair_shop: bool,
    status: DealerStatus,
) -> Result<DealerFacts, Vec<FactProblem>> {
    let mut problems = Vec::new();
    let code = code.trim().to_uppercase();
    problems.extend(code_problem(&code));
    for (field, value, max) in [("name", name, 128), ("dealer_group", dealer_group, 128), ("region", region, 64)] {
        let chars = value.trim().chars().count();
        if chars == 0 {
            problems.push(problem(field, "required", "this field is required"));
        } else if chars > max {
            problems.push(problem(field, "too_long", format!("at most {max} characters")));
        }
    }
    let brands: Vec<String> = brands.iter().map(|b| b.trim().to_string()).filter(|b| !b.is_empty()).collect();
    if brands.is_empty() || brands.len() > 10 || brands.iter().any(|b| b.chars().count() > 32) {
        problems.push(problem("brands", "invalid", "one to ten brands of at most 32 characters each"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(DealerFacts {
        code,
        name: name.trim().to_string(),
        dealer_group: dealer_group.trim().to_string(),
        region: region.trim().to_string(),
        brands,
        has_repair_shop,
        status,
    })
}

/// Brands as typed: separated by '|', '、', ',' or '/'.
pub fn split_brands(text: &str) -> Vec<String> {
    text.split(['|', '、', ',', '，', '/']).map(str::trim).filter(|b| !b.is_empty()).map(str::to_string).collect()
}

/// Yes/no as a spreadsheet may hold it.
pub fn parse_yes_no(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "是" | "有" => Some(true),
        "no" | "n" | "false" | "0" | "否" | "无" | "" => Some(false),
        _ => None,
    }
}

/// The columns of a dealer import file, in this order, with a header row.
pub const IMPORT_COLUMNS: [&str; 8] =
    ["code", "name", "dealer_group", "region", "brands", "has_repair_shop", "status", "channel_manager"];

/// A problem in an import file: line 1 is the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportProblem {
    pub line: u64,
    pub field: String,
    pub message: String,
}

/// One good row of an import file: the facts and the channel manager's username, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line: u64,
    pub facts: DealerFacts,
    pub channel_manager: Option<String>,
}

/// Parses a whole import file, reporting every bad row and field; duplicates within the file are bad rows too.
pub fn parse_import(bytes: &[u8]) -> Result<Vec<ImportRow>, Vec<ImportProblem>> {
    let text = match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) {
        Ok(text) => text,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64;
            return Err(vec![ImportProblem {
                line,
                field: "file".into(),
                message: "the file is not UTF-8 text; save it as CSV UTF-8".into(),
            }]);
        }
    };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_lowercase()).collect(),
        Err(e) => {
            return Err(vec![ImportProblem {
                line: 1,
                field: "file".into(),
                message: format!("unreadable header: {e}"),
            }]);
        }
    };
    if header != IMPORT_COLUMNS {
        let message = format!("the header must be exactly: {}", IMPORT_COLUMNS.join(","));
        return Err(vec![ImportProblem { line: 1, field: "header".into(), message }]);
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                problems.push(ImportProblem { line, field: "row".into(), message: e.to_string() });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != IMPORT_COLUMNS.len() {
            let message = format!("expected {} columns, found {}", IMPORT_COLUMNS.len(), record.len());
            problems.push(ImportProblem { line, field: "row".into(), message });
            continue;
        }
        let cell = |i: usize| record.get(i).unwrap_or("");
        let mut row_problems = Vec::new();
        let has_repair_shop = parse_yes_no(cell(5)).unwrap_or_else(|| {
            row_problems.push(ImportProblem {
                line,
                field: "has_repair_shop".into(),
                message: "write yes or no (是/否)".into(),
            });
            false
        });
        let status = DealerStatus::parse(cell(6)).unwrap_or_else(|| {
            let message = "one of active, remediation, suspended (正常/整改中/暂停合作)".into();
            row_problems.push(ImportProblem { line, field: "status".into(), message });
            DealerStatus::Active
        });
        match check_facts(cell(0), cell(1), cell(2), cell(3), &split_brands(cell(4)), has_repair_shop, status) {
            Ok(facts) if row_problems.is_empty() => {
                if let Some(first) = seen.insert(facts.code.clone(), line) {
                    let message = format!("code {} already appears on line {first}", facts.code);
                    problems.push(ImportProblem { line, field: "code".into(), message });
                    continue;
                }
                let manager = Some(cell(7).to_string()).filter(|m| !m.is_empty());
                rows.push(ImportRow { line, facts, channel_manager: manager });
            }
            Ok(_) => problems.extend(row_problems),
            Err(fact_problems) => {
                problems.extend(row_problems);
                problems.extend(fact_problems.into_iter().map(|p| ImportProblem {
                    line,
                    field: p.field,
                    message: p.message,
                }));
            }
        }
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(ImportProblem { line: 2, field: "file".into(), message: "the file has no dealer rows".into() });
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "code,name,dealer_group,region,brands,has_repair_shop,status,channel_manager\n";

    #[test]
    fn a_good_file_gives_every_row() {
        let file = format!(
            "{HEADER}SZ-001,深圳丰田南山4S店,广汇汽车,广东-深圳,丰田|雷克萨斯,是,正常,cm001\nGZ-002,广州本田4S店,独立经营,广东-广州,本田,no,remediation,\n"
        );
        let rows = parse_import(file.as_bytes()).expect("valid file");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].facts.brands, ["丰田", "雷克萨斯"]);
        assert!(rows[0].facts.has_repair_shop);
        assert_eq!(rows[0].channel_manager.as_deref(), Some("cm001"));
        assert_eq!(rows[1].facts.status, DealerStatus::Remediation);
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[1].channel_manager, None);
    }

    #[test]
    fn every_bad_row_and_field_is_reported_by_line() {
        let file = format!(
            "{HEADER}SZ-001,深圳丰田,集团,广东-深圳,丰田,是,正常,\nbad code,,集团,广东,丰田,maybe,closed,\nSZ-001,重复,集团,广东,丰田,否,正常,\nshort,row\n"
        );
        let problems = parse_import(file.as_bytes()).expect_err("bad file");
        let found: Vec<(u64, &str)> = problems.iter().map(|p| (p.line, p.field.as_str())).collect();
        assert_eq!(found, [(3, "has_repair_shop"), (3, "status"), (3, "code"), (3, "name"), (4, "code"), (5, "row")]);
    }

    #[test]
    fn a_wrong_header_is_refused_before_any_row() {
        let problems = parse_import("code,name\nX1,Y\n".as_bytes()).expect_err("bad header");
        assert_eq!((problems[0].line, problems[0].field.as_str()), (1, "header"));
    }

    #[test]
    fn an_excel_bom_is_accepted_and_non_utf8_is_refused() {
        let file = format!("\u{FEFF}{HEADER}SZ-001,深圳丰田,集团,广东-深圳,丰田,是,正常,\n");
        assert!(parse_import(file.as_bytes()).is_ok());
        let mut gbk = HEADER.as_bytes().to_vec();
        gbk.extend_from_slice(&[0xC9, 0xEE, 0xDB, 0xDA, b'\n']);
        assert_eq!(parse_import(&gbk).expect_err("not utf-8")[0].field, "file");
    }

    #[test]
    fn an_empty_file_is_refused() {
        assert_eq!(parse_import(HEADER.as_bytes()).expect_err("no rows")[0].field, "file");
    }

    #[test]
    fn codes_are_normalised_to_capitals() {
        let facts = check_facts(" sz-1 ", "n", "g", "r", &["b".into()], false, DealerStatus::Active).expect("ok");
        assert_eq!(facts.code, "SZ-1");
        assert!(code_problem("S").is_some());
        assert!(code_problem("深圳").is_some());
    }
}

//! Monthly dealer statements and their reconciliation against the ledger, so a statement is only
//! confirmed or paid when it is exactly the ledger lines it claims to be.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{EntryKind, show};

/// One booked ledger entry as reconciliation sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerLine {
    pub entry_id: i64,
    pub dealer_id: i64,
    pub booked_on: NaiveDate,
    pub kind: EntryKind,
    pub amount: Decimal,
    pub statement_id: Option<i64>,
}

/// What a statement claims: its dealer, month, total and number of lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementTotals {
    pub statement_id: i64,
    pub dealer_id: i64,
    /// first of month
    pub month: NaiveDate,
    pub total: Decimal,
    pub line_count: u64,
}

/// One disagreement between a statement and the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// None for a ledger line left off every statement of its dealer and month.
    pub statement_id: Option<i64>,
    pub dealer_id: i64,
    /// first of month
    pub month: NaiveDate,
    /// English sentence, e.g. "statement 12 (dealer 3, 2026-10) shows 1234.50 but its 40 ledger lines sum to 1234.40 (difference 0.10)"
    pub message: String,
}

/// Checks every statement against the ledger: its total equals the sum of the lines assigned to it; its line count matches; every line assigned to a statement was booked in that statement's dealer and month; and no line of a month that has a statement is left unassigned. Returns every difference (empty = reconciled).
///
/// Differences come per statement in input order (total, count, misplaced lines), then unassigned
/// lines in ledger order. Lines assigned to a statement not passed in are not judged, so a caller may
/// reconcile one dealer's statements against a wider ledger.
pub fn reconcile(statements: &[StatementTotals], ledger: &[LedgerLine]) -> Vec<Difference> {
    let mut by_statement: HashMap<i64, Vec<&LedgerLine>> = HashMap::new();
    for line in ledger {
        if let Some(statement_id) = line.statement_id {
            by_statement.entry(statement_id).or_default().push(line);
        }
    }

    let mut differences = Vec::new();
    let mut stated_months: HashSet<(i64, NaiveDate)> = HashSet::new();
    for statement in statements {
        let month = first_of_month(statement.month);
        stated_months.insert((statement.dealer_id, month));
        let label =
            format!("statement {} (dealer {}, {})", statement.statement_id, statement.dealer_id, month.format("%Y-%m"));
        let mut differ = |message: String| {
            differences.push(Difference {
                statement_id: Some(statement.statement_id),
                dealer_id: statement.dealer_id,
                month,
                message,
            })
        };
        let lines = by_statement.get(&statement.statement_id).map_or(&[][..], Vec::as_slice);
        let sum: Decimal = lines.iter().map(|line| line.amount).sum();
        if sum != statement.total {
            differ(format!(
                "{label} shows {} but its {} sum{} to {} (difference {})",
                show(statement.total),
                count_lines(lines.len()),
                if lines.len() == 1 { "s" } else { "" },
                show(sum),
                show(statement.total - sum)
            ));
        }
        if lines.len() as u64 != statement.line_count {
            differ(format!(
                "{label} counts {} but {} {} assigned to it",
                count_lines_plain(statement.line_count),
                count_lines(lines.len()),
                if lines.len() == 1 { "is" } else { "are" }
            ));
        }
        for line in lines {
            if line.dealer_id != statement.dealer_id || first_of_month(line.booked_on) != month {
                differ(format!(
                    "ledger entry {} is on {label} but was booked for dealer {} on {}",
                    line.entry_id, line.dealer_id, line.booked_on
                ));
            }
        }
    }

    for line in ledger.iter().filter(|line| line.statement_id.is_none()) {
        let month = first_of_month(line.booked_on);
        if stated_months.contains(&(line.dealer_id, month)) {
            differences.push(Difference {
                statement_id: None,
                dealer_id: line.dealer_id,
                month,
                message: format!(
                    "ledger entry {} ({} {} booked {}) is on no statement, but dealer {} has a statement for {}",
                    line.entry_id,
                    line.kind.as_str(),
                    show(line.amount),
                    line.booked_on,
                    line.dealer_id,
                    month.format("%Y-%m")
                ),
            });
        }
    }
    differences
}

/// Statements are keyed by month; any day of it stands for the month.
fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

fn count_lines(count: usize) -> String {
    format!("{count} ledger line{}", if count == 1 { "" } else { "s" })
}

fn count_lines_plain(count: u64) -> String {
    format!("{count} line{}", if count == 1 { "" } else { "s" })
}

/// Where a statement is in its life; it only moves forward, so a paid amount can't be reopened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementStatus {
    Draft,
    Confirmed,
    Paid,
}

impl StatementStatus {
    /// The stored name, the same as the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementStatus::Draft => "draft",
            StatementStatus::Confirmed => "confirmed",
            StatementStatus::Paid => "paid",
        }
    }

    /// The status for a stored name; None for anything else.
    pub fn parse(t: &str) -> Option<Self> {
        [StatementStatus::Draft, StatementStatus::Confirmed, StatementStatus::Paid]
            .into_iter()
            .find(|status| status.as_str() == t)
    }

    /// draft → confirmed → paid, nothing else
    pub fn can_become(self, next: StatementStatus) -> bool {
        matches!(
            (self, next),
            (StatementStatus::Draft, StatementStatus::Confirmed) | (StatementStatus::Confirmed, StatementStatus::Paid)
        )
    }
}

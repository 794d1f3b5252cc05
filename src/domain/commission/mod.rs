//! Dealer commission (手续费): filed rate ranges (报行合一), agreement terms with volume tiers and a
//! loss-ratio clause, and the ledger arithmetic for accruals, reversals, adjustments, true-ups and
//! statement reconciliation.
//!
//! Pure functions only, so the same rules serve the API, batch jobs and tests without a database.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod ledger;
mod rates;
mod statement;
mod terms;
#[cfg(test)]
mod tests;

pub use ledger::{EntryKind, accrual, endorsement_adjustment, reversal, tier_true_up};
pub use rates::{FiledRange, FiledRates, Problem};
pub use statement::{Difference, LedgerLine, StatementStatus, StatementTotals, reconcile};
pub use terms::{
    LossRatioClause, Terms, Tier, clause_applies, loss_ratio_for_clause, month_rate, overlaps, rate_at_issue,
    validate_terms,
};

use crate::domain::money::round_to_fen;
use rust_decimal::Decimal;

/// Products an agreement can price; anything else is a typo that would silently never match a filing.
const PRODUCTS: [&str; 2] = ["compulsory", "commercial"];
/// Business types an agreement can price.
const BUSINESS_TYPES: [&str; 3] = ["new_car", "renewal", "transfer_in"];

/// Rounds half away from zero to the fen and fixes the scale at 2, so every booked amount compares,
/// serializes and displays the same way (and never as a negative zero).
fn fen(amount: Decimal) -> Decimal {
    let mut rounded = round_to_fen(amount);
    rounded.rescale(2);
    if rounded.is_zero() {
        rounded.set_sign_positive(true);
    }
    rounded
}

/// Shows a rate or amount with at least two decimals ("0.30", "0.125", "1234.50") so messages read
/// the way the filing and the statement print them.
fn show(value: Decimal) -> String {
    let mut shown = value.normalize();
    if shown.scale() < 2 {
        shown.rescale(2);
    }
    shown.to_string()
}

//! Ledger arithmetic. Entries are never changed once booked; every event (issue, cancellation,
//! endorsement, month end, correction) books a new entry, computed here to the fen.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Terms, fen, month_rate};

/// Why a ledger entry was booked; stored as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Commission earned when a policy is issued.
    Accrual,
    /// Commission clawed back when a policy is cancelled.
    Reversal,
    /// Commission on an endorsement's premium change.
    Adjustment,
    /// Month-end settlement of volume tiers.
    TierTrueUp,
    /// A manual fix, booked as a new entry because entries are never edited.
    Correction,
}

impl EntryKind {
    /// Every kind, for filters and dropdowns.
    pub const ALL: [EntryKind; 5] =
        [EntryKind::Accrual, EntryKind::Reversal, EntryKind::Adjustment, EntryKind::TierTrueUp, EntryKind::Correction];

    /// The stored name, the same as the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Accrual => "accrual",
            EntryKind::Reversal => "reversal",
            EntryKind::Adjustment => "adjustment",
            EntryKind::TierTrueUp => "tier_true_up",
            EntryKind::Correction => "correction",
        }
    }

    /// The kind for a stored name; None for anything else rather than guessing.
    pub fn parse(t: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == t)
    }
}

/// premium × rate, half-up to the fen.
pub fn accrual(premium: Decimal, rate: Decimal) -> Decimal {
    fen(premium * rate)
}

/// The commission clawed back on a cancellation, negative: the commission on the refunded premium at the rate
/// booked, −round(refund × rate), never more than is still booked on the policy; a refund of everything charged
/// (`charged`: issue plus endorsements) claws back everything booked, fen for fen.
///
/// Refund × rate rather than a share of what was booked: after an endorsement the booked commission is on the
/// premium charged (issue plus adjustments), which is not the full-term premium the refund is a share of.
pub fn reversal(refund: Decimal, rate: Decimal, still_booked: Decimal, charged: Decimal) -> Decimal {
    if refund <= Decimal::ZERO || still_booked <= Decimal::ZERO {
        return fen(Decimal::ZERO);
    }
    if refund >= charged {
        return fen(-still_booked);
    }
    fen(-fen(refund * rate).min(still_booked))
}

/// Commission on an endorsement's premium adjustment (either sign): round(adjustment × rate).
pub fn endorsement_adjustment(adjustment: Decimal, rate: Decimal) -> Decimal {
    fen(adjustment * rate)
}

/// The month-end true-up: round(month_written × month_rate) − commission already booked for that month's policies (accruals + reversals + adjustments). Can be negative or 0.00.
pub fn tier_true_up(terms: &Terms, month_written: Decimal, already_booked: Decimal, clause_applied: bool) -> Decimal {
    fen(fen(month_written * month_rate(terms, month_written, clause_applied)) - already_booked)
}

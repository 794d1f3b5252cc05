//! The facts the store reads from the database; monitoring only ever reads them.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One policy. `segments` are the premium as it stood from each effective day (issue, then endorsements),
/// ascending; the first starts at `start`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyFact {
    pub policy_id: i64,
    /// The car, `vehicle_key` of its VIN: its compulsory and commercial policies share it, whichever sales they came
    /// from, so exposure and the renewal rate count the car once.
    pub vehicle_id: i64,
    pub dealer_id: i64,
    /// "compulsory" | "commercial"
    pub product: String,
    pub business_type: String,
    pub issued_on: NaiveDate,
    pub start: NaiveDate,
    /// Exclusive: the policy covers `start <= d < end`.
    pub end: NaiveDate,
    /// Cover stops before this day when the policy was cancelled.
    pub cancelled_from: Option<NaiveDate>,
    /// (effective day, full-term premium from that day)
    pub segments: Vec<(NaiveDate, Decimal)>,
    pub pricing_coefficient: Decimal,
    /// A later policy renews this one.
    pub renewed_by_policy: bool,
}

/// The key that stands for a car (its VIN) among the facts: FNV-1a over the VIN's bytes, upper-cased, kept to 63
/// bits. A key rather than the VIN keeps a million facts small and lets the polars analytics group on an integer;
/// two VINs sharing a key among a few million cars is a chance of about one in a million.
pub fn vehicle_key(vin: &str) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash =
        vin.trim().bytes().fold(OFFSET, |hash, byte| (hash ^ u64::from(byte.to_ascii_uppercase())).wrapping_mul(PRIME));
    (hash >> 1) as i64
}

/// Premium written: issue (+premium), endorsement (+adjustment), cancellation (−refund), on the day it was booked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PremiumEntry {
    pub dealer_id: i64,
    pub policy_id: i64,
    pub booked_on: NaiveDate,
    pub amount: Decimal,
}

/// Commission owed to the dealer, on the day it was booked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CommissionEntry {
    pub dealer_id: i64,
    pub booked_on: NaiveDate,
    pub amount: Decimal,
}

/// One claim as it stands now, with its stage history.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClaimFact {
    pub claim_id: i64,
    pub dealer_id: i64,
    pub accident_on: NaiveDate,
    pub reported_at: DateTime<Utc>,
    /// "reported" | "registered" | "surveyed" | "settled" | "closed" | "declined" | "withdrawn"
    pub stage: String,
    /// Last time it reached "closed".
    pub closed_at: Option<DateTime<Utc>>,
    /// (stage entered, at) in order, from the transitions: e.g. ("reported", t0), ("registered", t1) …
    pub stages: Vec<(String, DateTime<Utc>)>,
    /// Past its stage's service target now.
    pub overdue: bool,
}

/// A change to a claim's case reserve; closing or declining releases the reserve by a movement to zero.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReserveMovement {
    pub claim_id: i64,
    pub at: DateTime<Utc>,
    pub amount: Decimal,
}

/// A claim payment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Payment {
    pub claim_id: i64,
    pub dealer_id: i64,
    pub paid_on: NaiveDate,
    pub amount: Decimal,
}

/// Repair work the insurer sent to the dealer's workshop.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Referral {
    pub dealer_id: i64,
    pub referred_on: NaiveDate,
    pub value: Decimal,
}

/// Everything monitoring needs, for any number of dealers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Facts {
    pub policies: Vec<PolicyFact>,
    pub premiums: Vec<PremiumEntry>,
    pub commissions: Vec<CommissionEntry>,
    pub claims: Vec<ClaimFact>,
    pub reserves: Vec<ReserveMovement>,
    pub payments: Vec<Payment>,
    pub referrals: Vec<Referral>,
}

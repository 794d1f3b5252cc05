//! Underwriting: the identifiers a quote is keyed on, rating tables and rules
//! as data, and the dates and amounts of the policy lifecycle.

pub mod changes;
pub mod channel;
pub mod history;
pub mod identity;
pub mod issuing;
pub mod lifecycle;
pub mod rating;
pub mod rules;

use serde::{Deserialize, Serialize};

use rating::{RatingTables, TableProblem};
use rules::UnderwritingRule;

/// Everything a quote is priced and judged with; stored whole as one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingDocument {
    pub tables: RatingTables,
    pub rules: Vec<UnderwritingRule>,
}

impl RatingDocument {
    /// The defaults of DOMAIN.md.
    pub fn defaults() -> Self {
        Self { tables: RatingTables::defaults(), rules: rules::default_rules() }
    }

    /// Every problem in the tables and rules, with its path in the document.
    pub fn validate(&self) -> Result<(), Vec<TableProblem>> {
        let mut problems = match self.tables.validate() {
            Ok(()) => Vec::new(),
            Err(found) => found
                .into_iter()
                .map(|p| TableProblem { path: format!("tables.{}", p.path), message: p.message })
                .collect(),
        };
        if let Err(found) = rules::validate_rules(&self.rules) {
            problems.extend(found);
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

/// New car, renewal or transfer-in from another insurer (新/续/转).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BusinessType {
    NewCar,
    Renewal,
    TransferIn,
}

impl BusinessType {
    pub fn as_str(self) -> &'static str {
        match self {
            BusinessType::NewCar => "new_car",
            BusinessType::Renewal => "renewal",
            BusinessType::TransferIn => "transfer_in",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [BusinessType::NewCar, BusinessType::Renewal, BusinessType::TransferIn].into_iter().find(|b| b.as_str() == text)
    }
}

/// The two products; each policy is one of them and numbered in its own series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    Compulsory,
    Commercial,
}

impl Product {
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Compulsory => "compulsory",
            Product::Commercial => "commercial",
        }
    }

    /// The series letters of the product's policy numbers.
    pub fn number_prefix(self) -> &'static str {
        match self {
            Product::Compulsory => "PDZA",
            Product::Commercial => "PDAA",
        }
    }

    /// A policy number: series, year of issue and the policy's id, so numbers never collide.
    pub fn policy_number(self, year: i32, id: i64) -> String {
        format!("{}{year}{id:010}", self.number_prefix())
    }

    /// Reads a product code back; None for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        [Product::Compulsory, Product::Commercial].into_iter().find(|product| product.as_str() == text)
    }

    /// The pricing coefficient a policy of this product carries. The channel coefficient prices commercial premium
    /// only; compulsory premium is statutory and never carries it, so its policy carries 1.
    pub fn pricing_coefficient(self, quoted: rust_decimal::Decimal) -> rust_decimal::Decimal {
        match self {
            Product::Compulsory => rust_decimal::Decimal::ONE,
            Product::Commercial => quoted,
        }
    }
}

/// Where a quote stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuoteStatus {
    /// Passed every rule: may be issued.
    Accepted,
    /// A rule referred it: waits for an underwriter.
    Referred,
    /// A rule declined it.
    Declined,
    /// An underwriter approved the referral: may be issued.
    Approved,
    /// An underwriter declined the referral.
    Rejected,
    /// Policies were issued from it.
    Issued,
}

impl QuoteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStatus::Accepted => "accepted",
            QuoteStatus::Referred => "referred",
            QuoteStatus::Declined => "declined",
            QuoteStatus::Approved => "approved",
            QuoteStatus::Rejected => "rejected",
            QuoteStatus::Issued => "issued",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        use QuoteStatus::*;
        [Accepted, Referred, Declined, Approved, Rejected, Issued].into_iter().find(|s| s.as_str() == text)
    }

    pub fn can_issue(self) -> bool {
        matches!(self, QuoteStatus::Accepted | QuoteStatus::Approved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compulsory_premium_never_carries_the_channel_coefficient() {
        let quoted = rust_decimal::Decimal::new(85, 2);
        assert_eq!(Product::Compulsory.pricing_coefficient(quoted), rust_decimal::Decimal::ONE);
        assert_eq!(Product::Commercial.pricing_coefficient(quoted), quoted);
        assert_eq!(Product::parse("compulsory"), Some(Product::Compulsory));
        assert_eq!(Product::parse("Compulsory"), None);
    }

    #[test]
    fn policy_numbers_carry_the_product_series_and_year() {
        assert_eq!(Product::Compulsory.policy_number(2026, 42), "PDZA20260000000042");
        assert_eq!(Product::Commercial.policy_number(2026, 42), "PDAA20260000000042");
    }

    #[test]
    fn the_default_document_is_valid_and_round_trips_exactly() {
        let document = RatingDocument::defaults();
        assert_eq!(document.validate(), Ok(()));
        let text = serde_json::to_string(&document).expect("serialise");
        assert_eq!(serde_json::from_str::<RatingDocument>(&text).expect("parse"), document);
    }

    #[test]
    fn duplicate_rule_codes_are_refused() {
        let mut document = RatingDocument::defaults();
        let first = document.rules[0].clone();
        document.rules.push(first);
        assert!(document.validate().is_err());
    }
}

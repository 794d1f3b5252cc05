//! The store side of the channel (DOMAIN.md "Feedback, visits and complaints"):
//! the vocabularies of daily feedback and complaints, who may act on a complaint
//! (首问负责制), quarters, and the satisfaction survey's arithmetic.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}

vocabulary!(
    /// What a piece of daily feedback is about (DOMAIN.md's list).
    Category {
        Pricing => "pricing",
        ClaimsService => "claims_service",
        RepairReferral => "repair_referral",
        Competitor => "competitor",
        CustomerComplaint => "customer_complaint",
        TrainingNeed => "training_need",
        Other => "other",
    }
);

vocabulary!(
    /// How soon someone at the insurer should look at a piece of feedback.
    Urgency {
        Low => "low",
        Normal => "normal",
        High => "high",
    }
);

vocabulary!(
    /// Where a piece of feedback is in the channel manager's hands.
    FeedbackStatus {
        New => "new",
        Read => "read",
        Acted => "acted",
    }
);

vocabulary!(
    /// Who complained.
    ComplaintSource {
        Customer => "customer",
        Dealer => "dealer",
    }
);

vocabulary!(
    /// What a complaint is about.
    ComplaintCategory {
        ClaimsService => "claims_service",
        LossAssessment => "loss_assessment",
        Payment => "payment",
        Commission => "commission",
        SalesService => "sales_service",
        Other => "other",
    }
);

vocabulary!(
    ComplaintStatus {
        Open => "open",
        Resolved => "resolved",
    }
);

vocabulary!(
    /// A planned visit is recorded once it took place, or cancelled.
    VisitStatus {
        Planned => "planned",
        Done => "done",
        Cancelled => "cancelled",
    }
);

vocabulary!(
    /// What a dealer weighs when it chooses an insurer to push (DOMAIN.md), rated each quarter.
    Dimension {
        Commission => "commission",
        ClaimsSpeed => "claims_speed",
        AssessmentFairness => "assessment_fairness",
        PaymentSpeed => "payment_speed",
        RepairReferrals => "repair_referrals",
        SellerService => "seller_service",
    }
);

/// The longest text of a feedback note or complaint description, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Ratings run from 1 (very poor / very low) to 5 (excellent / very high).
pub const MIN_RATING: i32 = 1;
pub const MAX_RATING: i32 = 5;

/// How a user stands towards a complaint, for deciding what they may do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplaintActor {
    pub user_id: i64,
    pub is_administrator: bool,
    /// The channel manager who owns the complaint's dealer.
    pub manages_dealer: bool,
}

impl ComplaintActor {
    /// The owner resolves or hands on what they took; the dealer's channel manager and
    /// administrators may too, so a complaint never stalls behind someone who left.
    pub fn may_act(&self, owner_id: i64) -> bool {
        self.user_id == owner_id || self.is_administrator || self.manages_dealer
    }
}

/// An open complaint is overdue the day after its due date.
pub fn is_overdue(status: ComplaintStatus, due_on: NaiveDate, today: NaiveDate) -> bool {
    status == ComplaintStatus::Open && due_on < today
}

/// A calendar quarter, written `2026Q3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub number: u32,
}

impl Quarter {
    pub fn of(date: NaiveDate) -> Quarter {
        Quarter { year: date.year(), number: date.month0() / 3 + 1 }
    }

    pub fn parse(text: &str) -> Option<Quarter> {
        let (year, number) =
            text.trim().to_ascii_uppercase().split_once('Q').map(|(y, q)| (y.to_string(), q.to_string()))?;
        let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y))?;
        let number: u32 = number.parse().ok().filter(|q| (1..=4).contains(q))?;
        Some(Quarter { year, number })
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn previous(self) -> Quarter {
        if self.number == 1 {
            Quarter { year: self.year - 1, number: 4 }
        } else {
            Quarter { number: self.number - 1, ..self }
        }
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}Q{}", self.year, self.number)
    }
}

/// One dimension's ratings in a survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rating {
    pub dimension: Dimension,
    /// What the dealer expects of an insurer, 1 to 5.
    pub expected: i32,
    /// What the dealer got from us this quarter, 1 to 5.
    pub perceived: i32,
}

impl Rating {
    /// Satisfaction = perceived − expected (the seed formula): below zero the dealer got less than it expects.
    pub fn gap(&self) -> i32 {
        self.perceived - self.expected
    }
}

/// Checks a survey's ratings: every dimension exactly once, each rating within 1 to 5.
pub fn validate_ratings(ratings: &[Rating]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (index, rating) in ratings.iter().enumerate() {
        for (name, value) in [("expected", rating.expected), ("perceived", rating.perceived)] {
            if !(MIN_RATING..=MAX_RATING).contains(&value) {
                errors.push(FieldError::new(
                    format!("ratings[{index}].{name}"),
                    "out_of_range",
                    format!("a rating is a whole number from {MIN_RATING} to {MAX_RATING}"),
                ));
            }
        }
        if ratings[..index].iter().any(|r| r.dimension == rating.dimension) {
            errors.push(FieldError::new(
                format!("ratings[{index}].dimension"),
                "duplicate",
                format!("{} is rated twice", rating.dimension.as_str()),
            ));
        }
    }
    for dimension in Dimension::ALL {
        if !ratings.iter().any(|r| r.dimension == *dimension) {
            errors.push(FieldError::new(
                "ratings",
                "missing_dimension",
                format!("rate {} too: every dimension is needed", dimension.as_str()),
            ));
        }
    }
    errors
}

/// A dimension's gap averaged over several surveys (dealers of a portfolio, or quarters).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AverageGap {
    pub dimension: Dimension,
    pub surveys: usize,
    pub mean_expected: f64,
    pub mean_perceived: f64,
    /// mean perceived − mean expected, which equals the mean of the gaps.
    pub mean_gap: f64,
}

/// Mean ratings and gap per dimension over the given surveys' ratings.
pub fn average_gaps<'a>(surveys: impl IntoIterator<Item = &'a [Rating]>) -> Vec<AverageGap> {
    let mut sums = [(0usize, 0i64, 0i64); Dimension::ALL.len()];
    for ratings in surveys {
        for rating in ratings {
            if let Some(slot) = Dimension::ALL.iter().position(|d| *d == rating.dimension) {
                sums[slot].0 += 1;
                sums[slot].1 += i64::from(rating.expected);
                sums[slot].2 += i64::from(rating.perceived);
            }
        }
    }
    Dimension::ALL
        .iter()
        .zip(sums)
        .filter(|(_, (n, _, _))| *n > 0)
        .map(|(dimension, (n, expected, perceived))| {
            // Small integer sums: exact in f64.
            let mean_expected = expected as f64 / n as f64;
            let mean_perceived = perceived as f64 / n as f64;
            AverageGap {
                dimension: *dimension,
                surveys: n,
                mean_expected,
                mean_perceived,
                mean_gap: (perceived - expected) as f64 / n as f64,
            }
        })
        .collect()
}

/// The mean of a survey's gaps across its dimensions: one number to rank dealers by.
pub fn overall_gap(ratings: &[Rating]) -> Option<f64> {
    if ratings.is_empty() {
        return None;
    }
    Some(ratings.iter().map(|r| f64::from(r.gap())).sum::<f64>() / ratings.len() as f64)
}

/// Trims a free text and checks it is present and not too long.
pub fn required_text(field: &str, text: &str, max_chars: usize, errors: &mut Vec<FieldError>) -> String {
    let text = text.trim();
    if text.is_empty() {
        errors.push(FieldError::new(field, "required", "write something here"));
    } else if text.contains('\0') {
        errors.push(FieldError::new(field, "nul_character", "text may not contain the NUL character"));
    } else if text.chars().count() > max_chars {
        errors.push(FieldError::new(field, "too_long", format!("at most {max_chars} characters")));
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn full(expected: i32, perceived: i32) -> Vec<Rating> {
        Dimension::ALL.iter().map(|d| Rating { dimension: *d, expected, perceived }).collect()
    }

    #[test]
    fn vocabularies_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
        }
        for d in Dimension::ALL {
            assert_eq!(Dimension::parse(d.as_str()), Some(*d));
        }
        assert_eq!(Category::ALL.len(), 7, "DOMAIN.md lists seven categories");
        assert_eq!(Urgency::parse("urgent"), None);
    }

    #[test]
    fn gap_is_perceived_minus_expected() {
        assert_eq!(Rating { dimension: Dimension::Commission, expected: 5, perceived: 3 }.gap(), -2);
        assert_eq!(Rating { dimension: Dimension::Commission, expected: 2, perceived: 4 }.gap(), 2);
    }

    #[test]
    fn averages_per_dimension_over_surveys() {
        let a = full(4, 3);
        let mut b = full(5, 5);
        b[0].perceived = 2; // commission: expected 5, got 2
        let averages = average_gaps([a.as_slice(), b.as_slice()]);
        assert_eq!(averages.len(), Dimension::ALL.len());
        let commission = averages.iter().find(|a| a.dimension == Dimension::Commission).expect("commission");
        assert_eq!(commission.surveys, 2);
        assert_eq!(commission.mean_expected, 4.5);
        assert_eq!(commission.mean_perceived, 2.5);
        assert_eq!(commission.mean_gap, -2.0);
        let speed = averages.iter().find(|a| a.dimension == Dimension::ClaimsSpeed).expect("speed");
        assert_eq!(speed.mean_gap, -0.5);
        assert_eq!(overall_gap(&a), Some(-1.0));
        assert_eq!(overall_gap(&[]), None);
        assert!(average_gaps(std::iter::empty::<&[Rating]>()).is_empty());
    }

    #[test]
    fn ratings_must_cover_every_dimension_once_within_the_scale() {
        assert!(validate_ratings(&full(3, 4)).is_empty());
        let mut ratings = full(3, 4);
        ratings[1].perceived = 6;
        ratings[2].expected = 0;
        ratings[5].dimension = Dimension::Commission;
        let errors = validate_ratings(&ratings);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"ratings[1].perceived"), "{fields:?}");
        assert!(fields.contains(&"ratings[2].expected"), "{fields:?}");
        assert!(fields.contains(&"ratings[5].dimension"), "{fields:?}");
        assert!(errors.iter().any(|e| e.code == "missing_dimension" && e.message.contains("seller_service")));
    }

    #[test]
    fn quarters_parse_and_step_back() {
        assert_eq!(Quarter::parse("2026q3"), Some(Quarter { year: 2026, number: 3 }));
        assert_eq!(Quarter::parse("2026Q5"), None);
        assert_eq!(Quarter::parse("Q3"), None);
        assert_eq!(Quarter::of(date(2026, 12, 31)).to_string(), "2026Q4");
        assert_eq!(Quarter::of(date(2026, 4, 1)).first_day(), date(2026, 4, 1));
        assert_eq!(Quarter { year: 2026, number: 1 }.previous().to_string(), "2025Q4");
    }

    #[test]
    fn complaint_is_overdue_only_after_its_due_day_while_open() {
        let due = date(2026, 11, 20);
        assert!(!is_overdue(ComplaintStatus::Open, due, due));
        assert!(is_overdue(ComplaintStatus::Open, due, date(2026, 11, 21)));
        assert!(!is_overdue(ComplaintStatus::Resolved, due, date(2026, 12, 1)));
    }

    #[test]
    fn only_the_owner_or_those_above_may_act_on_a_complaint() {
        let other = ComplaintActor { user_id: 2, is_administrator: false, manages_dealer: false };
        assert!(!other.may_act(1));
        assert!(ComplaintActor { user_id: 1, ..other }.may_act(1));
        assert!(ComplaintActor { manages_dealer: true, ..other }.may_act(1));
        assert!(ComplaintActor { is_administrator: true, ..other }.may_act(1));
    }

    #[test]
    fn required_text_is_trimmed_and_bounded() {
        let mut errors = Vec::new();
        assert_eq!(required_text("body", "  hi ", 10, &mut errors), "hi");
        assert!(errors.is_empty());
        required_text("body", "   ", 10, &mut errors);
        required_text("body", "一二三四五六七八九十十", 10, &mut errors);
        assert_eq!(errors.iter().map(|e| e.code.as_str()).collect::<Vec<_>>(), ["required", "too_long"]);
    }
}

//! The channel table: the pricing coefficient (自主定价系数) the underwriters give each region and dealer, inside
//! the range the insurer filed. A quote takes its coefficient from here, never from the seller.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::rating::CoefficientBounds;
use crate::domain::problem::Problem;

/// One region's coefficient (the dealer's `region`, e.g. 广东-深圳).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionCoefficient {
    pub region: String,
    #[schema(value_type = String, example = "0.95")]
    pub coefficient: Decimal,
}

/// One dealer's coefficient, by its code; it wins over its region's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealerCoefficient {
    pub dealer_code: String,
    #[schema(value_type = String, example = "0.90")]
    pub coefficient: Decimal,
}

/// The coefficients in one version of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelTable {
    /// For dealers whose region and code have no line.
    #[schema(value_type = String, example = "1.00")]
    pub default_coefficient: Decimal,
    #[serde(default)]
    pub regions: Vec<RegionCoefficient>,
    #[serde(default)]
    pub dealers: Vec<DealerCoefficient>,
}

impl ChannelTable {
    /// Before underwriters set any: every channel at 1.
    pub fn defaults() -> Self {
        Self { default_coefficient: Decimal::ONE, regions: Vec::new(), dealers: Vec::new() }
    }

    /// A dealer's coefficient: its own line, else its region's, else the default.
    pub fn coefficient_for(&self, region: &str, dealer_code: &str) -> Decimal {
        self.dealers
            .iter()
            .find(|line| line.dealer_code == dealer_code)
            .map(|line| line.coefficient)
            .or_else(|| self.regions.iter().find(|line| line.region == region).map(|line| line.coefficient))
            .unwrap_or(self.default_coefficient)
    }

    /// Every problem at once: each coefficient inside the filed range, no region or dealer twice, no empty name.
    pub fn validate(&self, filed: &CoefficientBounds) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut check = |field: String, value: Decimal| {
            if value < filed.min || value > filed.max {
                let message = format!("{value} is outside the filed range {}–{}", filed.min, filed.max);
                problems.push(Problem::new(field, "outside_filed_range", message));
            }
        };
        check("default_coefficient".into(), self.default_coefficient);
        for (i, line) in self.regions.iter().enumerate() {
            check(format!("regions[{i}].coefficient"), line.coefficient);
        }
        for (i, line) in self.dealers.iter().enumerate() {
            check(format!("dealers[{i}].coefficient"), line.coefficient);
        }
        for (i, line) in self.regions.iter().enumerate() {
            let field = format!("regions[{i}].region");
            if line.region.trim().is_empty() {
                problems.push(Problem::new(field, "required", "name the region"));
            } else if self.regions[..i].iter().any(|earlier| earlier.region == line.region) {
                problems.push(Problem::new(field, "duplicate", format!("{} has a line already", line.region)));
            }
        }
        for (i, line) in self.dealers.iter().enumerate() {
            let field = format!("dealers[{i}].dealer_code");
            if line.dealer_code.trim().is_empty() {
                problems.push(Problem::new(field, "required", "give the dealer's code"));
            } else if self.dealers[..i].iter().any(|earlier| earlier.dealer_code == line.dealer_code) {
                problems.push(Problem::new(field, "duplicate", format!("{} has a line already", line.dealer_code)));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn table() -> ChannelTable {
        ChannelTable {
            default_coefficient: dec("1.00"),
            regions: vec![RegionCoefficient { region: "广东-深圳".into(), coefficient: dec("0.95") }],
            dealers: vec![DealerCoefficient { dealer_code: "DLR0002".into(), coefficient: dec("0.85") }],
        }
    }

    fn filed() -> CoefficientBounds {
        CoefficientBounds { min: dec("0.5"), max: dec("1.5") }
    }

    #[test]
    fn a_dealer_line_wins_over_its_region_and_the_default() {
        let table = table();
        assert_eq!(table.coefficient_for("广东-深圳", "DLR0002"), dec("0.85"));
        assert_eq!(table.coefficient_for("广东-深圳", "DLR0001"), dec("0.95"));
        assert_eq!(table.coefficient_for("浙江-杭州", "DLR0009"), dec("1.00"));
    }

    #[test]
    fn every_coefficient_stays_inside_the_filed_range() {
        assert!(table().validate(&filed()).is_empty());
        let mut bent = table();
        bent.dealers[0].coefficient = dec("0.49");
        bent.default_coefficient = dec("1.51");
        let fields: Vec<String> = bent.validate(&filed()).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, vec!["default_coefficient", "dealers[0].coefficient"]);
    }

    #[test]
    fn a_region_or_dealer_appears_once() {
        let mut twice = table();
        twice.regions.push(twice.regions[0].clone());
        twice.dealers.push(DealerCoefficient { dealer_code: " ".into(), coefficient: dec("1") });
        let problems = twice.validate(&filed());
        let codes: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.code.as_str())).collect();
        assert_eq!(codes, vec![("regions[1].region", "duplicate"), ("dealers[1].dealer_code", "required")]);
    }
}

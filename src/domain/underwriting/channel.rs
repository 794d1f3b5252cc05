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

    /// The table as stored: names trimmed, dealer codes in capitals (as dealers are coded).
    pub fn normalised(self) -> Self {
        Self {
            default_coefficient: self.default_coefficient,
            regions: self
                .regions
                .into_iter()
                .map(|line| RegionCoefficient { region: line.region.trim().to_string(), ..line })
                .collect(),
            dealers: self
                .dealers
                .into_iter()
                .map(|line| DealerCoefficient { dealer_code: line.dealer_code.trim().to_uppercase(), ..line })
                .collect(),
        }
    }

    /// Every problem at once: each coefficient inside the filed range with at most four decimals, no region or
    /// dealer twice, and each one known (`regions` and `dealer_codes` are those of the insurer's dealers).
    pub fn validate(&self, filed: &CoefficientBounds, regions: &[String], dealer_codes: &[String]) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut check = |field: String, value: Decimal| {
            if value < filed.min || value > filed.max {
                let message = format!("{value} is outside the filed range {}–{}", filed.min, filed.max);
                problems.push(Problem::new(field, "outside_filed_range", message));
            } else if value.normalize().scale() > 4 {
                problems.push(Problem::new(field, "too_precise", format!("{value} has more than four decimals")));
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
            } else if !regions.contains(&line.region) {
                problems.push(Problem::new(field, "unknown", format!("no dealer is in the region {}", line.region)));
            }
        }
        for (i, line) in self.dealers.iter().enumerate() {
            let field = format!("dealers[{i}].dealer_code");
            if line.dealer_code.trim().is_empty() {
                problems.push(Problem::new(field, "required", "give the dealer's code"));
            } else if self.dealers[..i].iter().any(|earlier| earlier.dealer_code == line.dealer_code) {
                problems.push(Problem::new(field, "duplicate", format!("{} has a line already", line.dealer_code)));
            } else if !dealer_codes.contains(&line.dealer_code) {
                problems.push(Problem::new(field, "unknown", format!("no dealer has the code {}", line.dealer_code)));
            }
        }
        problems
    }
}

/// A version of the table takes effect today or later: a coefficient never changes a price already given.
pub fn check_effective_from(effective_from: chrono::NaiveDate, today: chrono::NaiveDate) -> Result<(), Problem> {
    if effective_from < today {
        return Err(Problem::new("effective_from", "in_the_past", format!("choose {today} or later")));
    }
    Ok(())
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

    fn check(table: &ChannelTable) -> Vec<Problem> {
        table.validate(&filed(), &["广东-深圳".to_string()], &["DLR0001".to_string(), "DLR0002".to_string()])
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
        assert!(check(&table()).is_empty());
        let mut bent = table();
        bent.dealers[0].coefficient = dec("0.49");
        bent.default_coefficient = dec("1.51");
        let fields: Vec<String> = check(&bent).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, vec!["default_coefficient", "dealers[0].coefficient"]);
    }

    #[test]
    fn coefficients_have_at_most_four_decimals_and_name_known_channels() {
        let mut odd = table();
        odd.default_coefficient = dec("0.9500001");
        odd.dealers[0].dealer_code = " dlr0009 ".into();
        let odd = odd.normalised();
        assert_eq!(odd.dealers[0].dealer_code, "DLR0009");
        let codes: Vec<(String, String)> = check(&odd).into_iter().map(|p| (p.field, p.code)).collect();
        assert_eq!(
            codes,
            vec![
                ("default_coefficient".to_string(), "too_precise".to_string()),
                ("dealers[0].dealer_code".to_string(), "unknown".to_string())
            ]
        );
        let mut fine = table();
        fine.default_coefficient = dec("0.9500");
        assert!(check(&fine).is_empty(), "trailing zeros are not decimals");
    }

    #[test]
    fn a_version_never_takes_effect_in_the_past() {
        let today: chrono::NaiveDate = "2026-12-07".parse().unwrap();
        assert!(check_effective_from(today, today).is_ok());
        assert_eq!(check_effective_from(today.pred_opt().unwrap(), today).unwrap_err().code, "in_the_past");
    }

    #[test]
    fn a_region_or_dealer_appears_once() {
        let mut twice = table();
        twice.regions.push(twice.regions[0].clone());
        twice.dealers.push(DealerCoefficient { dealer_code: " ".into(), coefficient: dec("1") });
        let problems = check(&twice);
        let codes: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.code.as_str())).collect();
        assert_eq!(codes, vec![("regions[1].region", "duplicate"), ("dealers[1].dealer_code", "required")]);
    }
}

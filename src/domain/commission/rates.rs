//! Filed rate ranges (报行合一): the insurer files a commission range per region, product and business
//! type, and no agreement may pay outside it.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{BUSINESS_TYPES, PRODUCTS, show};

/// One filing: the commission range allowed for a region, product and business type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiledRange {
    /// "广东-深圳" (province-city), a province "广东", or "*" for every region.
    pub region: String,
    /// "compulsory" or "commercial".
    pub product: String,
    /// "new_car", "renewal", "transfer_in", or "*" for all of them.
    pub business_type: String,
    pub min_rate: Decimal,
    pub max_rate: Decimal,
}

/// The filing table an agreement is checked against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiledRates {
    pub ranges: Vec<FiledRange>,
    /// compulsory cap (default 0.04)
    pub compulsory_cap: Decimal,
}

/// One thing wrong with an input, addressed by field path so a form can show it next to the field.
pub use crate::domain::problem::Problem;

impl FiledRates {
    /// Defaults: compulsory cap 0.04 and, for every region ("*"): compulsory 0–0.04 for all business types; commercial new_car 0.05–0.25, renewal 0.05–0.20, transfer_in 0.05–0.22; plus a stricter filing for "广东": commercial new_car 0.08–0.22 (to show that the most specific filing wins).
    pub fn defaults() -> Self {
        let range = |region: &str, product: &str, business_type: &str, min: i64, max: i64| FiledRange {
            region: region.to_owned(),
            product: product.to_owned(),
            business_type: business_type.to_owned(),
            min_rate: Decimal::new(min, 2),
            max_rate: Decimal::new(max, 2),
        };
        Self {
            ranges: vec![
                range("*", "compulsory", "*", 0, 4),
                range("*", "commercial", "new_car", 5, 25),
                range("*", "commercial", "renewal", 5, 20),
                range("*", "commercial", "transfer_in", 5, 22),
                range("广东", "commercial", "new_car", 8, 22),
            ],
            compulsory_cap: Decimal::new(4, 2),
        }
    }

    /// The range that applies: the most specific region match (exact "province-city" > province prefix before '-' > "*"), then exact business type over "*". None when no range is filed.
    ///
    /// Region specificity outranks business-type specificity because filings are made per region;
    /// among equally specific duplicates the first one wins (`validate` reports the duplicate).
    pub fn range_for(&self, region: &str, product: &str, business_type: &str) -> Option<&FiledRange> {
        let province = region.split('-').next().unwrap_or(region);
        let mut best: Option<((u8, u8), &FiledRange)> = None;
        for range in self.ranges.iter().filter(|r| r.product == product) {
            let region_rank = if range.region == region {
                3
            } else if range.region == province {
                2
            } else if range.region == "*" {
                1
            } else {
                continue;
            };
            let type_rank = if range.business_type == business_type {
                2
            } else if range.business_type == "*" {
                1
            } else {
                continue;
            };
            let rank = (region_rank, type_rank);
            if best.is_none_or(|(best_rank, _)| rank > best_rank) {
                best = Some((rank, range));
            }
        }
        best.map(|(_, range)| range)
    }

    /// Problems with the table itself (min > max, negative, above 1, duplicate keys), with field paths like "ranges[3].min_rate".
    ///
    /// Also flags unknown products or business types and a cap outside 0–1: such a row would never
    /// match, or would let anything through, without anyone noticing.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.compulsory_cap < Decimal::ZERO {
            problems.push(Problem::new(
                "compulsory_cap",
                "negative",
                format!("compulsory cap {} is negative", show(self.compulsory_cap)),
            ));
        } else if self.compulsory_cap > Decimal::ONE {
            problems.push(Problem::new(
                "compulsory_cap",
                "above_one",
                format!("compulsory cap {} is above 1 (100% of premium)", show(self.compulsory_cap)),
            ));
        }
        let mut first_index: HashMap<(&str, &str, &str), usize> = HashMap::new();
        for (i, range) in self.ranges.iter().enumerate() {
            let at = |field: &str| format!("ranges[{i}].{field}");
            if range.region.trim().is_empty() {
                problems.push(Problem::new(at("region"), "required", "region is empty; use \"*\" for every region"));
            }
            if !PRODUCTS.contains(&range.product.as_str()) {
                problems.push(Problem::new(
                    at("product"),
                    "unknown_product",
                    format!("unknown product \"{}\"; expected compulsory or commercial", range.product),
                ));
            }
            if range.business_type != "*" && !BUSINESS_TYPES.contains(&range.business_type.as_str()) {
                problems.push(Problem::new(
                    at("business_type"),
                    "unknown_business_type",
                    format!(
                        "unknown business type \"{}\"; expected new_car, renewal, transfer_in or *",
                        range.business_type
                    ),
                ));
            }
            for (field, rate) in [("min_rate", range.min_rate), ("max_rate", range.max_rate)] {
                if rate < Decimal::ZERO {
                    problems.push(Problem::new(at(field), "negative", format!("{field} {} is negative", show(rate))));
                } else if rate > Decimal::ONE {
                    problems.push(Problem::new(
                        at(field),
                        "above_one",
                        format!("{field} {} is above 1 (100% of premium)", show(rate)),
                    ));
                }
            }
            if range.min_rate > range.max_rate {
                problems.push(Problem::new(
                    at("min_rate"),
                    "min_above_max",
                    format!("min_rate {} is above max_rate {}", show(range.min_rate), show(range.max_rate)),
                ));
            }
            let key = (range.region.as_str(), range.product.as_str(), range.business_type.as_str());
            if let Some(first) = first_index.get(&key) {
                problems.push(Problem::new(
                    at("region"),
                    "duplicate",
                    format!(
                        "ranges[{first}] already files {} {} {}; a key may be filed once",
                        range.region, range.product, range.business_type
                    ),
                ));
            } else {
                first_index.insert(key, i);
            }
        }
        problems
    }
}

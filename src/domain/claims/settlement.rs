//! Settlement calculator: what each coverage pays for the assessed losses.
//!
//! DOMAIN rule: payable per coverage = min(remaining limit, (assessed − deductible) × liability share), compulsory
//! coverage first within its sub-limits (at-fault or not-at-fault limits), then commercial coverages. Every line keeps
//! its arithmetic in words so an adjuster (or a complaint reviewer) can follow the figure without re-deriving it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::money::round_to_fen;

/// What a loss item is for; decides which coverage answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum LossCategory {
    OwnVehicle,
    ThirdPartyProperty,
    ThirdPartyMedical,
    ThirdPartyDeath,
    Driver,
    Passenger,
}

impl LossCategory {
    /// Every category, for pickers and exhaustive tests.
    pub const ALL: [LossCategory; 6] = [
        LossCategory::OwnVehicle,
        LossCategory::ThirdPartyProperty,
        LossCategory::ThirdPartyMedical,
        LossCategory::ThirdPartyDeath,
        LossCategory::Driver,
        LossCategory::Passenger,
    ];

    /// The stored and displayed code; matches the serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            LossCategory::OwnVehicle => "own_vehicle",
            LossCategory::ThirdPartyProperty => "third_party_property",
            LossCategory::ThirdPartyMedical => "third_party_medical",
            LossCategory::ThirdPartyDeath => "third_party_death",
            LossCategory::Driver => "driver",
            LossCategory::Passenger => "passenger",
        }
    }

    /// Reads a category code back (exact, lower case); None for anything else.
    pub fn parse(t: &str) -> Option<Self> {
        LossCategory::ALL.into_iter().find(|category| category.as_str() == t)
    }
}

/// Compulsory (交强险) limits per accident, per head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompulsoryHeads {
    pub death_disability: Decimal,
    pub medical: Decimal,
    pub property: Decimal,
}

/// The compulsory policy's limits; which set applies depends on whether the insured is at fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompulsoryTerms {
    pub at_fault: CompulsoryHeads,
    pub not_at_fault: CompulsoryHeads,
    /// Already paid under each head for this accident (earlier settlements of the same claim, e.g. before a reopen).
    pub already_paid: CompulsoryHeads,
}

/// One commercial coverage's terms for this claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageTerms {
    /// Sum insured or limit (for passenger: per-seat limit × passenger seats, computed by the caller).
    pub limit: Decimal,
    /// Already paid against this limit (earlier claims for vehicle damage, earlier settlements of this claim for
    /// liabilities).
    pub already_paid: Decimal,
    pub deductible: Decimal,
}

/// The covers in force for the accident; None = not bought.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cover {
    pub compulsory: Option<CompulsoryTerms>,
    pub vehicle_damage: Option<CoverageTerms>,
    pub third_party: Option<CoverageTerms>,
    pub driver: Option<CoverageTerms>,
    pub passenger: Option<CoverageTerms>,
}

/// Assessed amount per loss category (sum of the loss items' assessed amounts; caller sums).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessed {
    pub category: LossCategory,
    pub amount: Decimal,
}

/// One line of the calculation.
///
/// Invariants, so the line explains itself: `before_limit = fen(max(assessed − paid_by_compulsory − deductible, 0)
/// × liability_share)`, `remaining_limit = max(limit − already_paid, 0)`, `payable = min(before_limit,
/// remaining_limit)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettlementLine {
    /// Coverage code: "compulsory_death_disability", "compulsory_medical", "compulsory_property", "vehicle_damage",
    /// "third_party", "driver", "passenger".
    pub coverage: String,
    pub category: LossCategory,
    pub assessed: Decimal,
    /// Paid by compulsory first and so taken off before this commercial line (0 for compulsory lines and
    /// non-third-party lines).
    pub paid_by_compulsory: Decimal,
    pub deductible: Decimal,
    /// The share applied on this line: the claim's liability share on commercial lines, 1 on compulsory lines
    /// (compulsory pays regardless of fault within its limits), so the invariant above holds for every line.
    pub liability_share: Decimal,
    /// (assessed − paid_by_compulsory − deductible, not below 0) × liability share, rounded to the fen (compulsory
    /// lines: assessed, no deductible, no share — compulsory pays regardless of share within its limits).
    pub before_limit: Decimal,
    pub limit: Decimal,
    /// Already paid against `limit`; on a later third_party line this includes what earlier third_party lines of
    /// this settlement made payable, because they share one limit.
    pub already_paid: Decimal,
    /// limit − already_paid, not below 0
    pub remaining_limit: Decimal,
    /// min(before_limit, remaining_limit)
    pub payable: Decimal,
    /// The arithmetic in words, one string per step, e.g. "(12000.00 − 2000.00 − 500.00) × 0.7 = 6650.00",
    /// "min(6650.00, 1000000.00) = 6650.00". Plain ASCII digits, no thousands separators.
    pub steps: Vec<String>,
}

/// The whole calculation for one claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settlement {
    pub liability_share: Decimal,
    /// Compulsory limits used: at fault when liability_share > 0, not at fault when 0.
    pub at_fault: bool,
    pub lines: Vec<SettlementLine>,
    pub total: Decimal,
    /// Assessed amounts no coverage answers (e.g. own vehicle without vehicle damage cover), with the reason, so
    /// the adjuster sees why they are not paid.
    pub uncovered: Vec<(LossCategory, Decimal, String)>,
}

/// One reason the inputs cannot be settled; `field` points at the offending input so a form can highlight it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SettlementProblem {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// Rounds half-up to the fen and fixes the scale at 2, so every amount prints as "5.00", never "5".
fn fen(amount: Decimal) -> Decimal {
    let mut rounded = round_to_fen(amount);
    rounded.rescale(2);
    rounded
}

/// Zero with two decimal places.
fn zero() -> Decimal {
    Decimal::new(0, 2)
}

/// The compulsory heads in line order, with the third-party category each answers.
#[derive(Debug, Clone, Copy)]
enum Head {
    DeathDisability,
    Medical,
    Property,
}

impl Head {
    const ORDER: [Head; 3] = [Head::DeathDisability, Head::Medical, Head::Property];

    fn code(self) -> &'static str {
        match self {
            Head::DeathDisability => "compulsory_death_disability",
            Head::Medical => "compulsory_medical",
            Head::Property => "compulsory_property",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Head::DeathDisability => "death_disability",
            Head::Medical => "medical",
            Head::Property => "property",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Head::DeathDisability => "death and disability",
            Head::Medical => "medical",
            Head::Property => "property",
        }
    }

    fn category(self) -> LossCategory {
        match self {
            Head::DeathDisability => LossCategory::ThirdPartyDeath,
            Head::Medical => LossCategory::ThirdPartyMedical,
            Head::Property => LossCategory::ThirdPartyProperty,
        }
    }

    fn of(self, heads: &CompulsoryHeads) -> Decimal {
        match self {
            Head::DeathDisability => heads.death_disability,
            Head::Medical => heads.medical,
            Head::Property => heads.property,
        }
    }
}

/// Collects every invalid input at once so the user can fix them in one pass.
fn validate(assessed: &[Assessed], liability_share: Decimal, cover: &Cover) -> Vec<SettlementProblem> {
    let mut problems = Vec::new();
    if liability_share < Decimal::ZERO || liability_share > Decimal::ONE {
        problems.push(SettlementProblem {
            field: "liability_share".to_string(),
            code: "out_of_range",
            message: format!("liability share must be between 0 and 1, got {}", liability_share.normalize()),
        });
    }
    let mut negative = |field: String, what: &str, value: Decimal| {
        if value < Decimal::ZERO {
            problems.push(SettlementProblem {
                field,
                code: "negative",
                message: format!("{what} must not be negative, got {value}"),
            });
        }
    };
    for (index, item) in assessed.iter().enumerate() {
        negative(format!("assessed[{index}]"), "assessed amount", item.amount);
    }
    if let Some(compulsory) = &cover.compulsory {
        for (group, heads) in [
            ("at_fault", &compulsory.at_fault),
            ("not_at_fault", &compulsory.not_at_fault),
            ("already_paid", &compulsory.already_paid),
        ] {
            for head in Head::ORDER {
                let what = if group == "already_paid" { "amount already paid" } else { "compulsory limit" };
                negative(format!("cover.compulsory.{group}.{}", head.field()), what, head.of(heads));
            }
        }
    }
    for (name, terms) in [
        ("vehicle_damage", &cover.vehicle_damage),
        ("third_party", &cover.third_party),
        ("driver", &cover.driver),
        ("passenger", &cover.passenger),
    ] {
        if let Some(terms) = terms {
            negative(format!("cover.{name}.limit"), "limit", terms.limit);
            negative(format!("cover.{name}.already_paid"), "amount already paid", terms.already_paid);
            negative(format!("cover.{name}.deductible"), "deductible", terms.deductible);
        }
    }
    problems
}

/// Explains `limit − already paid`, clipped at zero.
fn remaining_step(limit: Decimal, already_paid_parts: &[(&str, Decimal)], remaining: Decimal) -> String {
    let mut text = format!("limit {limit}");
    for (label, amount) in already_paid_parts {
        text.push_str(&format!(" − {label} {amount}"));
    }
    let raw = already_paid_parts.iter().fold(limit, |left, (_, amount)| left - amount);
    if raw < Decimal::ZERO {
        text.push_str(&format!(" is below 0, so remaining {remaining}"));
    } else {
        text.push_str(&format!(" = remaining {remaining}"));
    }
    text
}

/// Compulsory pays the assessed amount up to what is left of the head, whatever the liability share.
fn compulsory_line(
    head: Head,
    assessed: Decimal,
    heads: &CompulsoryHeads,
    paid: &CompulsoryHeads,
    at_fault: bool,
) -> SettlementLine {
    let limit = fen(head.of(heads));
    let already_paid = fen(head.of(paid));
    let remaining_limit = fen((limit - already_paid).max(Decimal::ZERO));
    let before_limit = assessed;
    let payable = before_limit.min(remaining_limit);
    let limits_used = if at_fault { "at-fault" } else { "not-at-fault" };
    let steps = vec![
        format!(
            "compulsory {} head ({limits_used} limits) answers the assessed {assessed} first, with no deductible and \
             regardless of liability share",
            head.label()
        ),
        remaining_step(limit, &[("already paid", already_paid)], remaining_limit),
        format!("min({before_limit}, {remaining_limit}) = {payable}"),
    ];
    SettlementLine {
        coverage: head.code().to_string(),
        category: head.category(),
        assessed,
        paid_by_compulsory: zero(),
        deductible: zero(),
        liability_share: Decimal::ONE,
        before_limit,
        limit,
        already_paid,
        remaining_limit,
        payable,
        steps,
    }
}

/// A commercial line: (assessed − compulsory − deductible, not below 0) × share, capped by the remaining limit.
///
/// `earlier_lines_paid` is what earlier lines of this settlement already took from the same limit (third party).
fn commercial_line(
    coverage: &str,
    category: LossCategory,
    assessed: Decimal,
    paid_by_compulsory: Option<Decimal>,
    terms: &CoverageTerms,
    liability_share: Decimal,
    earlier_lines_paid: Decimal,
) -> SettlementLine {
    let deductible = fen(terms.deductible);
    let limit = fen(terms.limit);
    let cover_already_paid = fen(terms.already_paid);
    let already_paid = fen(cover_already_paid + earlier_lines_paid);
    let compulsory_part = paid_by_compulsory.unwrap_or_else(zero);

    let net = assessed - compulsory_part - deductible;
    let expression = match paid_by_compulsory {
        Some(compulsory) => format!("{assessed} − {compulsory} − {deductible}"),
        None => format!("{assessed} − {deductible}"),
    };
    let share_text = liability_share.normalize();
    let mut steps = Vec::new();
    let before_limit = if net < Decimal::ZERO {
        steps.push(format!("({expression}) is below 0, so 0.00 × {share_text} = 0.00"));
        zero()
    } else {
        let raw = net * liability_share;
        let rounded = fen(raw);
        if raw == rounded {
            steps.push(format!("({expression}) × {share_text} = {rounded}"));
        } else {
            steps.push(format!(
                "({expression}) × {share_text} = {} → {rounded} (rounded half up to the fen)",
                raw.normalize()
            ));
        }
        rounded
    };

    let remaining_limit = fen((limit - already_paid).max(Decimal::ZERO));
    let mut parts = vec![("already paid", cover_already_paid)];
    if earlier_lines_paid > Decimal::ZERO {
        parts.push(("payable on earlier third_party lines", fen(earlier_lines_paid)));
    }
    steps.push(remaining_step(limit, &parts, remaining_limit));
    let payable = before_limit.min(remaining_limit);
    steps.push(format!("min({before_limit}, {remaining_limit}) = {payable}"));

    SettlementLine {
        coverage: coverage.to_string(),
        category,
        assessed,
        paid_by_compulsory: compulsory_part,
        deductible,
        liability_share,
        before_limit,
        limit,
        already_paid,
        remaining_limit,
        payable,
        steps,
    }
}

/// Order: compulsory lines first (death_disability, medical, property — only those with assessed > 0 in the
/// matching third-party category), then vehicle_damage, third_party, driver, passenger (only those with assessed > 0
/// in their category).
/// Category → coverage: ThirdPartyDeath → compulsory_death_disability then third_party; ThirdPartyMedical →
/// compulsory_medical then third_party; ThirdPartyProperty → compulsory_property then third_party; OwnVehicle →
/// vehicle_damage; Driver → driver; Passenger → passenger.
/// Third-party: ONE third_party line per third-party category that has an amount left after compulsory (so up to
/// three third_party lines, category set, in the order death, medical, property), all sharing one limit: the
/// remaining limit of each later line is reduced by what earlier third_party lines made payable. Likewise the
/// compulsory heads use limit − already_paid. Without compulsory terms nothing is taken off before third_party.
/// Validation (all problems collected, not just the first): liability_share in [0, 1] (field "liability_share",
/// code "out_of_range"); amounts ≥ 0 (field "assessed[i]", code "negative"); deductibles and limits ≥ 0; duplicate
/// categories are summed (not an error).
pub fn calculate(
    assessed: &[Assessed],
    liability_share: Decimal,
    cover: &Cover,
) -> Result<Settlement, Vec<SettlementProblem>> {
    let problems = validate(assessed, liability_share, cover);
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut totals: BTreeMap<LossCategory, Decimal> = BTreeMap::new();
    for item in assessed {
        *totals.entry(item.category).or_insert(Decimal::ZERO) += fen(item.amount);
    }
    let amount_of = |category: LossCategory| fen(totals.get(&category).copied().unwrap_or(Decimal::ZERO));

    let at_fault = liability_share > Decimal::ZERO;
    let mut lines = Vec::new();
    let mut uncovered = Vec::new();

    // Compulsory first: what it pays is taken off before the commercial third-party cover.
    let mut paid_by_compulsory: BTreeMap<LossCategory, Decimal> = BTreeMap::new();
    if let Some(compulsory) = &cover.compulsory {
        let heads = if at_fault { &compulsory.at_fault } else { &compulsory.not_at_fault };
        for head in Head::ORDER {
            let amount = amount_of(head.category());
            if amount > Decimal::ZERO {
                let line = compulsory_line(head, amount, heads, &compulsory.already_paid, at_fault);
                paid_by_compulsory.insert(head.category(), line.payable);
                lines.push(line);
            }
        }
    }

    let own_vehicle = amount_of(LossCategory::OwnVehicle);
    if own_vehicle > Decimal::ZERO {
        match &cover.vehicle_damage {
            Some(terms) => lines.push(commercial_line(
                "vehicle_damage",
                LossCategory::OwnVehicle,
                own_vehicle,
                None,
                terms,
                liability_share,
                zero(),
            )),
            None => uncovered.push((
                LossCategory::OwnVehicle,
                own_vehicle,
                "no vehicle damage cover, so damage to the insured vehicle is not paid".to_string(),
            )),
        }
    }

    let mut third_party_paid = zero();
    for head in Head::ORDER {
        let category = head.category();
        let amount = amount_of(category);
        let compulsory_part = paid_by_compulsory.get(&category).copied();
        let left = amount - compulsory_part.unwrap_or(Decimal::ZERO);
        if left <= Decimal::ZERO {
            continue;
        }
        match &cover.third_party {
            Some(terms) => {
                let line = commercial_line(
                    "third_party",
                    category,
                    amount,
                    compulsory_part,
                    terms,
                    liability_share,
                    third_party_paid,
                );
                third_party_paid += line.payable;
                lines.push(line);
            }
            None => {
                let reason = if compulsory_part.is_some() {
                    format!("no third-party liability cover for the {left} above what compulsory pays")
                } else {
                    "no compulsory or third-party liability cover".to_string()
                };
                uncovered.push((category, fen(left), reason));
            }
        }
    }

    for (coverage, category, terms, label) in [
        ("driver", LossCategory::Driver, &cover.driver, "driver"),
        ("passenger", LossCategory::Passenger, &cover.passenger, "passenger"),
    ] {
        let amount = amount_of(category);
        if amount <= Decimal::ZERO {
            continue;
        }
        match terms {
            Some(terms) => {
                lines.push(commercial_line(coverage, category, amount, None, terms, liability_share, zero()))
            }
            None => uncovered.push((category, amount, format!("no {label} liability cover"))),
        }
    }

    let total = fen(lines.iter().map(|line| line.payable).sum());
    Ok(Settlement { liability_share, at_fault, lines, total, uncovered })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// Typical compulsory limits: at fault 180,000 / 18,000 / 2,000; not at fault 18,000 / 1,800 / 100.
    fn compulsory() -> CompulsoryTerms {
        CompulsoryTerms {
            at_fault: CompulsoryHeads { death_disability: dec!(180000), medical: dec!(18000), property: dec!(2000) },
            not_at_fault: CompulsoryHeads { death_disability: dec!(18000), medical: dec!(1800), property: dec!(100) },
            already_paid: CompulsoryHeads { death_disability: dec!(0), medical: dec!(0), property: dec!(0) },
        }
    }

    fn terms(limit: Decimal, already_paid: Decimal, deductible: Decimal) -> CoverageTerms {
        CoverageTerms { limit, already_paid, deductible }
    }

    fn item(category: LossCategory, amount: Decimal) -> Assessed {
        Assessed { category, amount }
    }

    fn line<'a>(settlement: &'a Settlement, coverage: &str, category: LossCategory) -> &'a SettlementLine {
        settlement
            .lines
            .iter()
            .find(|l| l.coverage == coverage && l.category == category)
            .unwrap_or_else(|| panic!("no {coverage} line for {category:?}"))
    }

    /// Every amount in a result carries exactly two decimal places.
    fn assert_two_places(settlement: &Settlement) {
        assert_eq!(settlement.total.scale(), 2, "total {}", settlement.total);
        for l in &settlement.lines {
            for amount in [
                l.assessed,
                l.paid_by_compulsory,
                l.deductible,
                l.before_limit,
                l.limit,
                l.already_paid,
                l.remaining_limit,
                l.payable,
            ] {
                assert_eq!(amount.scale(), 2, "{} line: {amount}", l.coverage);
            }
        }
        for (_, amount, _) in &settlement.uncovered {
            assert_eq!(amount.scale(), 2);
        }
    }

    #[test]
    fn example_1_own_vehicle_deductible_and_share() {
        // (12000.00 − 500.00) × 0.7 = 11500.00 × 0.7 = 8050.00; limit 200000.00 not reached.
        let cover = Cover { vehicle_damage: Some(terms(dec!(200000), dec!(0), dec!(500))), ..Cover::default() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(12000))], dec!(0.7), &cover).unwrap();
        assert_eq!(s.lines.len(), 1);
        let l = &s.lines[0];
        assert_eq!(l.coverage, "vehicle_damage");
        assert_eq!(l.before_limit, dec!(8050.00));
        assert_eq!(l.payable, dec!(8050.00));
        assert_eq!(s.total.to_string(), "8050.00");
        assert_eq!(
            l.steps,
            vec![
                "(12000.00 − 500.00) × 0.7 = 8050.00".to_string(),
                "limit 200000.00 − already paid 0.00 = remaining 200000.00".to_string(),
                "min(8050.00, 200000.00) = 8050.00".to_string(),
            ]
        );
        assert!(s.at_fault);
        assert_two_places(&s);
    }

    #[test]
    fn example_2_limit_binds() {
        // before limit: (20000.00 − 0.00) × 1 = 20000.00; remaining: 100000.00 − 95000.00 = 5000.00;
        // min(20000.00, 5000.00) = 5000.00.
        let cover = Cover { vehicle_damage: Some(terms(dec!(100000), dec!(95000), dec!(0))), ..Cover::default() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(20000))], dec!(1), &cover).unwrap();
        let l = &s.lines[0];
        assert_eq!(l.before_limit, dec!(20000.00));
        assert_eq!(l.remaining_limit, dec!(5000.00));
        assert_eq!(l.payable, dec!(5000.00));
        assert_eq!(s.total, dec!(5000.00));
        assert_eq!(l.steps[2], "min(20000.00, 5000.00) = 5000.00");
    }

    #[test]
    fn example_3_compulsory_first() {
        // At fault (share 0.5 > 0): compulsory property pays min(5000.00, 2000.00) = 2000.00 regardless of share;
        // third party: (5000.00 − 2000.00 − 0.00) × 0.5 = 1500.00; total 3500.00.
        let cover = Cover {
            compulsory: Some(compulsory()),
            third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))),
            ..Cover::default()
        };
        let s = calculate(&[item(LossCategory::ThirdPartyProperty, dec!(5000))], dec!(0.5), &cover).unwrap();
        let codes: Vec<&str> = s.lines.iter().map(|l| l.coverage.as_str()).collect();
        assert_eq!(codes, vec!["compulsory_property", "third_party"]);
        let c = line(&s, "compulsory_property", LossCategory::ThirdPartyProperty);
        assert_eq!(c.payable, dec!(2000.00));
        assert_eq!(c.liability_share, Decimal::ONE);
        let t = line(&s, "third_party", LossCategory::ThirdPartyProperty);
        assert_eq!(t.paid_by_compulsory, dec!(2000.00));
        assert_eq!(t.payable, dec!(1500.00));
        assert_eq!(t.steps[0], "(5000.00 − 2000.00 − 0.00) × 0.5 = 1500.00");
        assert_eq!(s.total, dec!(3500.00));
        assert_two_places(&s);
    }

    #[test]
    fn example_4_not_at_fault_uses_not_at_fault_limits() {
        // Share 0 → not at fault: compulsory property head 100.00 → min(5000.00, 100.00) = 100.00;
        // third party: (5000.00 − 100.00 − 0.00) × 0 = 0.00.
        let cover = Cover {
            compulsory: Some(compulsory()),
            third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))),
            ..Cover::default()
        };
        let s = calculate(&[item(LossCategory::ThirdPartyProperty, dec!(5000))], dec!(0), &cover).unwrap();
        assert!(!s.at_fault);
        assert_eq!(line(&s, "compulsory_property", LossCategory::ThirdPartyProperty).payable, dec!(100.00));
        let t = line(&s, "third_party", LossCategory::ThirdPartyProperty);
        assert_eq!(t.payable.to_string(), "0.00");
        assert_eq!(s.total, dec!(100.00));
        assert_two_places(&s);
    }

    #[test]
    fn example_5_medical_at_fault() {
        // Compulsory medical: min(30000.00, 18000.00) = 18000.00;
        // third party: (30000.00 − 18000.00 − 0.00) × 1 = 12000.00; total 30000.00.
        let cover = Cover {
            compulsory: Some(compulsory()),
            third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))),
            ..Cover::default()
        };
        let s = calculate(&[item(LossCategory::ThirdPartyMedical, dec!(30000))], dec!(1), &cover).unwrap();
        assert_eq!(line(&s, "compulsory_medical", LossCategory::ThirdPartyMedical).payable, dec!(18000.00));
        assert_eq!(line(&s, "third_party", LossCategory::ThirdPartyMedical).payable, dec!(12000.00));
        assert_eq!(s.total, dec!(30000.00));
    }

    #[test]
    fn example_6_third_party_limit_shared_and_runs_out() {
        // Share 1, third-party limit 500000.00, nothing paid before.
        // Compulsory: death min(400000, 180000) = 180000; medical min(300000, 18000) = 18000;
        //             property min(10000, 2000) = 2000.
        // Third party, in order death, medical, property:
        //   death:    (400000 − 180000 − 0) × 1 = 220000; remaining 500000 − 0 = 500000 → 220000
        //   medical:  (300000 − 18000 − 0) × 1 = 282000; remaining 500000 − 220000 = 280000 → 280000 (runs out)
        //   property: (10000 − 2000 − 0) × 1 = 8000; remaining 500000 − 500000 = 0 → 0
        // Total: 180000 + 18000 + 2000 + 220000 + 280000 + 0 = 700000.00
        let cover = Cover {
            compulsory: Some(compulsory()),
            third_party: Some(terms(dec!(500000), dec!(0), dec!(0))),
            ..Cover::default()
        };
        let s = calculate(
            &[
                item(LossCategory::ThirdPartyProperty, dec!(10000)),
                item(LossCategory::ThirdPartyMedical, dec!(300000)),
                item(LossCategory::ThirdPartyDeath, dec!(400000)),
            ],
            dec!(1),
            &cover,
        )
        .unwrap();
        let order: Vec<(&str, LossCategory)> = s.lines.iter().map(|l| (l.coverage.as_str(), l.category)).collect();
        assert_eq!(
            order,
            vec![
                ("compulsory_death_disability", LossCategory::ThirdPartyDeath),
                ("compulsory_medical", LossCategory::ThirdPartyMedical),
                ("compulsory_property", LossCategory::ThirdPartyProperty),
                ("third_party", LossCategory::ThirdPartyDeath),
                ("third_party", LossCategory::ThirdPartyMedical),
                ("third_party", LossCategory::ThirdPartyProperty),
            ]
        );
        let death = &s.lines[3];
        let medical = &s.lines[4];
        let property = &s.lines[5];
        assert_eq!((death.remaining_limit, death.payable), (dec!(500000.00), dec!(220000.00)));
        assert_eq!(
            (medical.before_limit, medical.remaining_limit, medical.payable),
            (dec!(282000.00), dec!(280000.00), dec!(280000.00))
        );
        assert_eq!(medical.already_paid, dec!(220000.00));
        assert_eq!(
            medical.steps[1],
            "limit 500000.00 − already paid 0.00 − payable on earlier third_party lines 220000.00 = remaining 280000.00"
        );
        assert_eq!((property.remaining_limit, property.payable), (dec!(0.00), dec!(0.00)));
        assert_eq!(s.total, dec!(700000.00));
        assert_two_places(&s);
    }

    #[test]
    fn example_7_own_vehicle_uncovered_without_vehicle_damage_cover() {
        // No vehicle damage cover: no line; the 8000.00 is listed as uncovered with its reason.
        let cover = Cover { compulsory: Some(compulsory()), ..Cover::default() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(8000))], dec!(1), &cover).unwrap();
        assert!(s.lines.is_empty());
        assert_eq!(s.total.to_string(), "0.00");
        assert_eq!(s.uncovered.len(), 1);
        let (category, amount, reason) = &s.uncovered[0];
        assert_eq!(*category, LossCategory::OwnVehicle);
        assert_eq!(amount.to_string(), "8000.00");
        assert!(reason.contains("no vehicle damage cover"), "{reason}");
    }

    #[test]
    fn example_8_half_fen_rounds_up() {
        // (100.01 − 0.00) × 0.5 = 50.005 → 50.01 (half up, not banker's 50.00).
        let cover = Cover { vehicle_damage: Some(terms(dec!(100000), dec!(0), dec!(0))), ..Cover::default() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(100.01))], dec!(0.5), &cover).unwrap();
        assert_eq!(s.lines[0].payable.to_string(), "50.01");
        assert_eq!(s.lines[0].steps[0], "(100.01 − 0.00) × 0.5 = 50.005 → 50.01 (rounded half up to the fen)");
        assert_eq!(s.total.to_string(), "50.01");
    }

    #[test]
    fn example_9_validation_collects_all_problems() {
        let mut terms_bad = compulsory();
        terms_bad.at_fault.medical = dec!(-1);
        let cover = Cover {
            compulsory: Some(terms_bad),
            vehicle_damage: Some(terms(dec!(100000), dec!(0), dec!(-500))),
            third_party: Some(terms(dec!(-1), dec!(0), dec!(0))),
            ..Cover::default()
        };
        let problems = calculate(
            &[item(LossCategory::OwnVehicle, dec!(100)), item(LossCategory::Driver, dec!(-5))],
            dec!(1.2),
            &cover,
        )
        .unwrap_err();
        let found: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.code)).collect();
        assert_eq!(
            found,
            vec![
                ("liability_share", "out_of_range"),
                ("assessed[1]", "negative"),
                ("cover.compulsory.at_fault.medical", "negative"),
                ("cover.vehicle_damage.deductible", "negative"),
                ("cover.third_party.limit", "negative"),
            ]
        );
        assert_eq!(problems[0].to_string(), "liability_share: liability share must be between 0 and 1, got 1.2");
        assert_eq!(problems[1].to_string(), "assessed[1]: assessed amount must not be negative, got -5");
        let negative_share = calculate(&[], dec!(-0.1), &Cover::default()).unwrap_err();
        assert_eq!(negative_share[0].code, "out_of_range");
    }

    #[test]
    fn example_10_compulsory_already_paid_reduces_head() {
        // Medical head 18000.00, already paid 15000.00 before a reopen → remaining 3000.00;
        // compulsory medical: min(5000.00, 3000.00) = 3000.00;
        // third party: (5000.00 − 3000.00 − 0.00) × 1 = 2000.00; total 5000.00.
        let mut c = compulsory();
        c.already_paid.medical = dec!(15000);
        let cover = Cover {
            compulsory: Some(c),
            third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))),
            ..Cover::default()
        };
        let s = calculate(&[item(LossCategory::ThirdPartyMedical, dec!(5000))], dec!(1), &cover).unwrap();
        let cm = line(&s, "compulsory_medical", LossCategory::ThirdPartyMedical);
        assert_eq!((cm.already_paid, cm.remaining_limit, cm.payable), (dec!(15000.00), dec!(3000.00), dec!(3000.00)));
        assert_eq!(cm.steps[1], "limit 18000.00 − already paid 15000.00 = remaining 3000.00");
        assert_eq!(line(&s, "third_party", LossCategory::ThirdPartyMedical).payable, dec!(2000.00));
        assert_eq!(s.total, dec!(5000.00));
    }

    #[test]
    fn duplicates_summed_and_full_order() {
        // Own vehicle 3000 + 2000 = 5000 → (5000 − 1000) × 1 = 4000; driver 10000 with limit 10000 → 10000;
        // passenger 50000 above limit 40000 → 40000; property 1500 fully inside compulsory → no third_party line.
        let cover = Cover {
            compulsory: Some(compulsory()),
            vehicle_damage: Some(terms(dec!(100000), dec!(0), dec!(1000))),
            third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))),
            driver: Some(terms(dec!(10000), dec!(0), dec!(0))),
            passenger: Some(terms(dec!(40000), dec!(0), dec!(0))),
        };
        let s = calculate(
            &[
                item(LossCategory::Passenger, dec!(50000)),
                item(LossCategory::OwnVehicle, dec!(3000)),
                item(LossCategory::Driver, dec!(10000)),
                item(LossCategory::ThirdPartyProperty, dec!(1500)),
                item(LossCategory::OwnVehicle, dec!(2000)),
            ],
            dec!(1),
            &cover,
        )
        .unwrap();
        let codes: Vec<&str> = s.lines.iter().map(|l| l.coverage.as_str()).collect();
        assert_eq!(codes, vec!["compulsory_property", "vehicle_damage", "driver", "passenger"]);
        assert_eq!(s.lines[1].assessed, dec!(5000.00));
        assert_eq!(s.lines[1].payable, dec!(4000.00));
        assert_eq!(s.lines[3].payable, dec!(40000.00));
        assert_eq!(s.total, dec!(55500.00));
        assert!(s.uncovered.is_empty());
        assert_two_places(&s);
    }

    #[test]
    fn deductible_above_assessed_pays_nothing() {
        // (300.00 − 500.00) is below 0 → 0.00.
        let cover = Cover { vehicle_damage: Some(terms(dec!(100000), dec!(0), dec!(500))), ..Cover::default() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(300))], dec!(1), &cover).unwrap();
        assert_eq!(s.lines[0].before_limit.to_string(), "0.00");
        assert_eq!(s.lines[0].steps[0], "(300.00 − 500.00) is below 0, so 0.00 × 1 = 0.00");
    }

    #[test]
    fn third_party_without_cover_is_uncovered() {
        // Compulsory property pays 2000.00; the 1000.00 above it has no commercial cover.
        let cover = Cover { compulsory: Some(compulsory()), ..Cover::default() };
        let s = calculate(&[item(LossCategory::ThirdPartyProperty, dec!(3000))], dec!(1), &cover).unwrap();
        assert_eq!(s.total, dec!(2000.00));
        assert_eq!(s.uncovered.len(), 1);
        assert_eq!(s.uncovered[0].1, dec!(1000.00));
        // Nothing at all for third parties.
        let s = calculate(&[item(LossCategory::ThirdPartyMedical, dec!(700))], dec!(1), &Cover::default()).unwrap();
        assert!(s.lines.is_empty());
        assert_eq!(
            s.uncovered[0],
            (LossCategory::ThirdPartyMedical, dec!(700.00), "no compulsory or third-party liability cover".to_string())
        );
    }

    #[test]
    fn categories_round_trip_and_settlement_serializes() {
        for category in LossCategory::ALL {
            assert_eq!(LossCategory::parse(category.as_str()), Some(category));
            assert_eq!(serde_json::to_string(&category).unwrap(), format!("\"{}\"", category.as_str()));
        }
        let cover = Cover { vehicle_damage: Some(terms(dec!(100000), dec!(0), dec!(0))), ..Cover::default() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(5))], dec!(1), &cover).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"total\":\"5.00\""), "{json}");
        assert_eq!(serde_json::from_str::<Settlement>(&json).unwrap(), s);
    }
}

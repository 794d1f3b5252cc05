//! Settlement: what the contract owes for a claim's whole assessed loss at the cover in force at the accident, and
//! what is still payable after everything the claim has already paid.
//!
//! DOMAIN rules: payable per coverage = min(remaining limit, (assessed − deductible) × liability share); compulsory
//! first, always (its sub-limit comes off commercial third party whoever holds it); per seat, per accident; pay once.
//! Every line keeps its arithmetic in words so an adjuster (or a complaint reviewer) can follow the figure.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::money::round_to_fen;
use crate::domain::problem::Problem;

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

/// The compulsory sub-limits that apply to the vehicle, and whether this insurer holds its compulsory policy.
///
/// Commercial third party pays only above these sub-limits whoever holds the compulsory policy (another insurer, or
/// nobody, as when the owner never bought it): the sub-limits come off either way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompulsoryTerms {
    pub at_fault: CompulsoryHeads,
    pub not_at_fault: CompulsoryHeads,
    /// This insurer holds the compulsory policy in force at the accident, so it pays the heads too.
    pub held_here: bool,
}

impl CompulsoryTerms {
    /// The statutory limits in force since 2020-09-19: at fault 180,000 / 18,000 / 2,000; not at fault
    /// 18,000 / 1,800 / 100.
    pub fn statutory(held_here: bool) -> Self {
        CompulsoryTerms {
            at_fault: CompulsoryHeads {
                death_disability: Decimal::new(180_000, 0),
                medical: Decimal::new(18_000, 0),
                property: Decimal::new(2_000, 0),
            },
            not_at_fault: CompulsoryHeads {
                death_disability: Decimal::new(18_000, 0),
                medical: Decimal::new(1_800, 0),
                property: Decimal::new(100, 0),
            },
            held_here,
        }
    }
}

/// One commercial coverage with a single limit (vehicle damage, third party) as it stood at the accident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageTerms {
    /// Sum insured (vehicle damage) or limit per accident (third party).
    pub limit: Decimal,
    /// Taken once per accident, from the first line of the coverage that has something to take it from.
    pub deductible: Decimal,
    /// Paid under this coverage on the policy's other claims: the vehicle-damage sum insured serves the whole policy
    /// year; third party is per accident, so 0 there.
    pub paid_on_other_claims: Decimal,
}

/// Driver or passenger cover: a limit per seat, paid per injured person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatTerms {
    pub per_seat: Decimal,
    /// Seats the cover answers for: 1 for the driver, the passenger seats for passengers.
    pub seats: u32,
    pub deductible: Decimal,
}

/// A commercial coverage bought after the accident: it answers nothing of this claim, and the settlement says so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaterCover {
    pub coverage: String,
    pub from: chrono::NaiveDate,
}

/// The cover in force at the accident instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cover {
    pub compulsory: CompulsoryTerms,
    pub vehicle_damage: Option<CoverageTerms>,
    pub third_party: Option<CoverageTerms>,
    pub driver: Option<SeatTerms>,
    pub passenger: Option<SeatTerms>,
    /// Coverages the policy gained by endorsement after the accident.
    pub added_after_accident: Vec<LaterCover>,
}

impl Cover {
    /// Nothing commercial; compulsory as given.
    pub fn compulsory_only(compulsory: CompulsoryTerms) -> Self {
        Cover {
            compulsory,
            vehicle_damage: None,
            third_party: None,
            driver: None,
            passenger: None,
            added_after_accident: Vec::new(),
        }
    }
}

/// Assessed loss of one category (and, for driver and passenger cover, one person); the caller sums loss items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessed {
    pub category: LossCategory,
    /// The injured person or seat, for driver and passenger losses; empty otherwise.
    #[serde(default)]
    pub person: String,
    pub amount: Decimal,
}

/// One line of the calculation: what the contract owes on one loss (a category, or one injured person).
///
/// Invariants, so the line explains itself: `before_limit = fen(max(assessed − compulsory_part − deductible, 0) ×
/// liability_share)`, `remaining_limit = max(limit − already_used, 0)`, `owed = min(before_limit, remaining_limit)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettlementLine {
    /// Coverage code: "compulsory_death_disability", "compulsory_medical", "compulsory_property", "vehicle_damage",
    /// "third_party", "driver", "passenger".
    pub coverage: String,
    pub category: LossCategory,
    /// The injured person (driver and passenger lines).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub person: String,
    pub assessed: Decimal,
    /// The compulsory sub-limit taken off before commercial third party (whoever holds the compulsory policy); 0 on
    /// other lines.
    #[serde(alias = "paid_by_compulsory")]
    pub compulsory_part: Decimal,
    /// The deductible taken on this line: a coverage's deductible is taken once per accident, on its first line.
    pub deductible: Decimal,
    /// The share applied: the claim's liability share on commercial lines, 1 on compulsory lines.
    pub liability_share: Decimal,
    pub before_limit: Decimal,
    pub limit: Decimal,
    /// Already used of `limit`: paid on the policy's other claims (vehicle damage) and owed on earlier lines of this
    /// settlement that share the limit (third party).
    #[serde(alias = "already_paid")]
    pub already_used: Decimal,
    pub remaining_limit: Decimal,
    /// What the contract owes on this line for all its assessed loss.
    #[serde(alias = "payable")]
    pub owed: Decimal,
    /// The arithmetic in words, one string per step. Plain ASCII digits, no thousands separators.
    pub steps: Vec<String>,
}

/// Per coverage: what the contract owes for the claim's whole assessed loss, what the claim has already paid under
/// it (every earlier settlement), and so what is still payable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageDue {
    pub coverage: String,
    pub owed: Decimal,
    pub paid_before: Decimal,
    /// owed − paid_before
    pub payable: Decimal,
}

/// An assessed loss that no coverage answers, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Uncovered {
    pub category: LossCategory,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub person: String,
    pub amount: Decimal,
    /// `no_cover`, `added_after_accident`, `above_compulsory_no_third_party`, `more_people_than_seats`.
    pub code: String,
    /// When the cover was added, for `added_after_accident`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_from: Option<chrono::NaiveDate>,
    /// The reason in words.
    pub reason: String,
}

/// The whole calculation for one claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settlement {
    pub liability_share: Decimal,
    /// Compulsory limits used: at fault when liability_share > 0, not at fault when 0.
    pub at_fault: bool,
    pub lines: Vec<SettlementLine>,
    #[serde(default)]
    pub dues: Vec<CoverageDue>,
    /// What the contract owes for the claim in all (the total authority is judged on).
    #[serde(default)]
    pub owed: Decimal,
    /// What this settlement still pays: owed less everything already paid on the claim.
    pub total: Decimal,
    #[serde(default)]
    pub uncovered: Vec<Uncovered>,
}

impl Settlement {
    /// What the settlement owes in all under one coverage (0 when it does not hit it).
    pub fn owed_under(&self, coverage: &str) -> Decimal {
        if self.dues.is_empty() {
            // Stored before dues were kept: the lines' amounts are what it owes.
            return fen(self.lines.iter().filter(|line| line.coverage == coverage).map(|line| line.owed).sum());
        }
        self.dues.iter().find(|due| due.coverage == coverage).map(|due| due.owed).unwrap_or_else(zero)
    }

    /// Whether compulsory lines are paid here (else another insurer's or nobody's compulsory answers the sub-limits).
    pub fn compulsory_held_here(&self) -> bool {
        self.lines.iter().any(|line| line.coverage.starts_with("compulsory_"))
            || !self.lines.iter().any(|line| line.compulsory_part > Decimal::ZERO)
    }

    /// What the contract owes for the claim in all: the amount authority is judged on.
    pub fn claim_owed(&self) -> Decimal {
        if self.dues.is_empty() { self.total } else { self.owed }
    }

    /// The dues again with what the claim has paid by now, per coverage.
    pub fn dues_after(&self, paid_on_claim: &BTreeMap<String, Decimal>) -> Vec<CoverageDue> {
        let mut codes: Vec<String> = Vec::new();
        for line in &self.lines {
            if !codes.contains(&line.coverage) {
                codes.push(line.coverage.clone());
            }
        }
        codes
            .into_iter()
            .map(|coverage| {
                let owed = self.owed_under(&coverage);
                due(coverage, owed, paid_on_claim)
            })
            .collect()
    }
}

/// The commercial coverages a settlement answers with.
pub const SETTLED_COVERAGES: [&str; 4] = ["vehicle_damage", "third_party", "driver", "passenger"];

/// A settlement request: a liability share from 0 to 1 (to the millionth), deductibles for commercial coverages only,
/// and loss items to settle.
pub fn check_request(
    liability_share: Decimal,
    deductibles: &BTreeMap<String, Decimal>,
    loss_items: usize,
) -> Vec<Problem> {
    let mut problems = check_deductibles(deductibles);
    if liability_share < Decimal::ZERO || liability_share > Decimal::ONE || liability_share.normalize().scale() > 6 {
        problems.push(Problem::new("liability_share", "out_of_range", "a share from 0 to 1"));
    }
    if loss_items == 0 {
        problems.push(Problem::new("loss_items", "required", "there are no loss items to settle"));
    }
    problems
}

/// Deductibles are given for commercial coverages only, as amounts of 0 or more to the fen.
pub fn check_deductibles(deductibles: &BTreeMap<String, Decimal>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (code, amount) in deductibles {
        if !SETTLED_COVERAGES.contains(&code.as_str()) {
            problems.push(Problem::new(
                format!("deductibles.{code}"),
                "unknown",
                "deductibles apply to commercial coverages",
            ));
        } else if *amount < Decimal::ZERO || fen(*amount) != *amount {
            problems.push(Problem::new(format!("deductibles.{code}"), "invalid", "an amount of 0 or more, to the fen"));
        }
    }
    problems
}

/// One reason the inputs cannot be settled; `field` points at the offending input so a form can highlight it.
pub type SettlementProblem = Problem;

/// Rounds half-up to the fen and fixes the scale at 2, so every amount prints as "5.00", never "5".
pub fn fen(amount: Decimal) -> Decimal {
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

/// The coverage codes of the compulsory heads, in line order.
pub const COMPULSORY_HEADS: [&str; 3] = ["compulsory_death_disability", "compulsory_medical", "compulsory_property"];

/// Collects every invalid input at once so the user can fix them in one pass.
fn validate(
    assessed: &[Assessed],
    liability_share: Decimal,
    cover: &Cover,
    paid_on_claim: &BTreeMap<String, Decimal>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    if liability_share < Decimal::ZERO || liability_share > Decimal::ONE {
        problems.push(Problem::new(
            "liability_share",
            "out_of_range",
            format!("liability share must be between 0 and 1, got {}", liability_share.normalize()),
        ));
    }
    let mut negative = |field: String, what: &str, value: Decimal| {
        if value < Decimal::ZERO {
            problems.push(Problem::new(field, "negative", format!("{what} must not be negative, got {value}")));
        }
    };
    for (index, item) in assessed.iter().enumerate() {
        negative(format!("assessed[{index}]"), "assessed amount", item.amount);
    }
    for (group, heads) in [("at_fault", &cover.compulsory.at_fault), ("not_at_fault", &cover.compulsory.not_at_fault)] {
        for head in Head::ORDER {
            negative(format!("cover.compulsory.{group}.{}", head.field()), "compulsory limit", head.of(heads));
        }
    }
    for (name, terms) in [("vehicle_damage", &cover.vehicle_damage), ("third_party", &cover.third_party)] {
        if let Some(terms) = terms {
            negative(format!("cover.{name}.limit"), "limit", terms.limit);
            negative(format!("cover.{name}.paid_on_other_claims"), "amount already paid", terms.paid_on_other_claims);
            negative(format!("cover.{name}.deductible"), "deductible", terms.deductible);
        }
    }
    for (name, terms) in [("driver", &cover.driver), ("passenger", &cover.passenger)] {
        if let Some(terms) = terms {
            negative(format!("cover.{name}.per_seat"), "limit per seat", terms.per_seat);
            negative(format!("cover.{name}.deductible"), "deductible", terms.deductible);
        }
    }
    for (coverage, amount) in paid_on_claim {
        negative(format!("paid.{coverage}"), "amount already paid", *amount);
    }
    problems
}

/// Explains `limit − already used`, clipped at zero.
fn remaining_step(limit: Decimal, used_parts: &[(&str, Decimal)], remaining: Decimal) -> String {
    let mut text = format!("limit {limit}");
    for (label, amount) in used_parts {
        text.push_str(&format!(" − {label} {amount}"));
    }
    let raw = used_parts.iter().fold(limit, |left, (_, amount)| left - amount);
    if raw < Decimal::ZERO {
        text.push_str(&format!(" is below 0, so remaining {remaining}"));
    } else {
        text.push_str(&format!(" = remaining {remaining}"));
    }
    text
}

/// Compulsory owes the assessed amount up to the head's limit for the accident, whatever the liability share.
fn compulsory_line(head: Head, assessed: Decimal, heads: &CompulsoryHeads, at_fault: bool) -> SettlementLine {
    let limit = fen(head.of(heads));
    let owed = assessed.min(limit);
    let limits_used = if at_fault { "at-fault" } else { "not-at-fault" };
    let steps = vec![
        format!(
            "compulsory {} head ({limits_used} limits) answers the assessed {assessed} first, with no deductible and \
             regardless of liability share",
            head.label()
        ),
        format!("min({assessed}, limit {limit}) = {owed}"),
    ];
    SettlementLine {
        coverage: head.code().to_string(),
        category: head.category(),
        person: String::new(),
        assessed,
        compulsory_part: zero(),
        deductible: zero(),
        liability_share: Decimal::ONE,
        before_limit: assessed,
        limit,
        already_used: zero(),
        remaining_limit: limit,
        owed,
        steps,
    }
}

/// What a commercial line needs besides the assessed amount.
struct CommercialLine<'a> {
    coverage: &'a str,
    category: LossCategory,
    person: &'a str,
    /// The compulsory sub-limit taken off first (third party only).
    compulsory_part: Option<Decimal>,
    /// The deductible still to take for this coverage in this accident; reduced by what this line takes.
    deductible_left: &'a mut Decimal,
    limit: Decimal,
    /// Used of the limit before this line, with the words that say by what.
    used: Vec<(&'static str, Decimal)>,
}

/// A commercial line: (assessed − compulsory sub-limit − deductible, not below 0) × share, within what is left of
/// the limit.
fn commercial_line(assessed: Decimal, liability_share: Decimal, line: CommercialLine<'_>) -> SettlementLine {
    let compulsory_part = line.compulsory_part.unwrap_or_else(zero);
    let after_compulsory = (assessed - compulsory_part).max(Decimal::ZERO);
    let deductible = fen((*line.deductible_left).min(after_compulsory));
    *line.deductible_left -= deductible;
    let limit = fen(line.limit);
    let already_used = fen(line.used.iter().map(|(_, amount)| *amount).sum());

    let net = assessed - compulsory_part - deductible;
    let expression = match line.compulsory_part {
        Some(compulsory) => format!("{assessed} − compulsory {compulsory} − deductible {deductible}"),
        None => format!("{assessed} − deductible {deductible}"),
    };
    let share_text = liability_share.normalize();
    let mut steps = Vec::new();
    let before_limit = if net <= Decimal::ZERO {
        steps.push(format!("({expression}) is not above 0, so 0.00"));
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
    let remaining_limit = fen((limit - already_used).max(Decimal::ZERO));
    steps.push(remaining_step(limit, &line.used, remaining_limit));
    let owed = before_limit.min(remaining_limit);
    steps.push(format!("min({before_limit}, {remaining_limit}) = {owed}"));

    SettlementLine {
        coverage: line.coverage.to_string(),
        category: line.category,
        person: line.person.to_string(),
        assessed,
        compulsory_part,
        deductible,
        liability_share,
        before_limit,
        limit,
        already_used,
        remaining_limit,
        owed,
        steps,
    }
}

/// An uncovered loss with its reason.
fn uncovered(category: LossCategory, person: &str, amount: Decimal, code: &str, reason: String) -> Uncovered {
    Uncovered {
        category,
        person: person.to_string(),
        amount: fen(amount),
        code: code.to_string(),
        cover_from: None,
        reason,
    }
}

/// Why a commercial coverage does not answer: never bought, or bought only after the accident.
fn not_covered(cover: &Cover, coverage: &str, category: LossCategory, person: &str, amount: Decimal) -> Uncovered {
    match cover.added_after_accident.iter().find(|later| later.coverage == coverage) {
        Some(later) => Uncovered {
            cover_from: Some(later.from),
            ..uncovered(
                category,
                person,
                amount,
                "added_after_accident",
                format!("{coverage} cover was added from {}, after the accident, so it does not answer it", later.from),
            )
        },
        None => uncovered(category, person, amount, "no_cover", format!("no {coverage} cover at the accident")),
    }
}

/// Per-person losses of one seat category, in the order the people first appear.
fn by_person(assessed: &[Assessed], category: LossCategory) -> Vec<(String, Decimal)> {
    let mut people: Vec<(String, Decimal)> = Vec::new();
    for item in assessed.iter().filter(|item| item.category == category) {
        let person = item.person.trim();
        match people.iter_mut().find(|(name, _)| name == person) {
            Some((_, amount)) => *amount += fen(item.amount),
            None => people.push((person.to_string(), fen(item.amount))),
        }
    }
    people.retain(|(_, amount)| *amount > Decimal::ZERO);
    people
}

/// What the contract owes for all the claim's assessed loss at the cover of the accident, per line and per
/// coverage, and what is still payable once `paid_on_claim` (every payment on this claim, by coverage) is taken off.
///
/// - Compulsory first, always: each third-party category's compulsory sub-limit (at fault when the share is above 0,
///   else not at fault) comes off before commercial third party, whether or not this insurer holds the compulsory
///   policy; compulsory lines appear only when it does.
/// - Third party: one line per category, death, medical, property, sharing one limit per accident.
/// - Vehicle damage: one line; the sum insured less what the policy's other claims have paid.
/// - Driver and passenger: one line per injured person, each within the per-seat limit, no more people than seats.
/// - A deductible is taken once per coverage per accident.
/// - Pay once: a coverage's payable is its owed less what the claim already paid under it; a settlement that would
///   owe less than was already paid is refused (the overpayment is recovered, not settled around).
pub fn calculate(
    assessed: &[Assessed],
    liability_share: Decimal,
    cover: &Cover,
    paid_on_claim: &BTreeMap<String, Decimal>,
) -> Result<Settlement, Vec<Problem>> {
    let mut problems = validate(assessed, liability_share, cover, paid_on_claim);
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut totals: BTreeMap<LossCategory, Decimal> = BTreeMap::new();
    for item in assessed {
        *totals.entry(item.category).or_insert(Decimal::ZERO) += fen(item.amount);
    }
    let amount_of = |category: LossCategory| fen(totals.get(&category).copied().unwrap_or(Decimal::ZERO));

    let at_fault = liability_share > Decimal::ZERO;
    let heads = if at_fault { &cover.compulsory.at_fault } else { &cover.compulsory.not_at_fault };
    let mut lines = Vec::new();
    let mut missing = Vec::new();

    if cover.compulsory.held_here {
        for head in Head::ORDER {
            let amount = amount_of(head.category());
            if amount > Decimal::ZERO {
                lines.push(compulsory_line(head, amount, heads, at_fault));
            }
        }
    }

    let own_vehicle = amount_of(LossCategory::OwnVehicle);
    if own_vehicle > Decimal::ZERO {
        match &cover.vehicle_damage {
            Some(terms) => {
                let mut deductible_left = fen(terms.deductible);
                lines.push(commercial_line(
                    own_vehicle,
                    liability_share,
                    CommercialLine {
                        coverage: "vehicle_damage",
                        category: LossCategory::OwnVehicle,
                        person: "",
                        compulsory_part: None,
                        deductible_left: &mut deductible_left,
                        limit: terms.limit,
                        used: vec![("paid on the policy's other claims", fen(terms.paid_on_other_claims))],
                    },
                ))
            }
            None => missing.push(not_covered(cover, "vehicle_damage", LossCategory::OwnVehicle, "", own_vehicle)),
        }
    }

    let mut third_party_owed = zero();
    let mut third_party_deductible = cover.third_party.as_ref().map(|terms| fen(terms.deductible)).unwrap_or_else(zero);
    for head in Head::ORDER {
        let category = head.category();
        let amount = amount_of(category);
        let sub_limit = amount.min(fen(head.of(heads)));
        let left = amount - sub_limit;
        if left <= Decimal::ZERO {
            continue;
        }
        match &cover.third_party {
            Some(terms) => {
                let mut used = vec![("paid on other claims", fen(terms.paid_on_other_claims))];
                if third_party_owed > Decimal::ZERO {
                    used.push(("owed on earlier third_party lines", third_party_owed));
                }
                let line = commercial_line(
                    amount,
                    liability_share,
                    CommercialLine {
                        coverage: "third_party",
                        category,
                        person: "",
                        compulsory_part: Some(sub_limit),
                        deductible_left: &mut third_party_deductible,
                        limit: terms.limit,
                        used,
                    },
                );
                third_party_owed += line.owed;
                lines.push(line);
            }
            None if cover.added_after_accident.iter().any(|later| later.coverage == "third_party") => {
                missing.push(not_covered(cover, "third_party", category, "", left))
            }
            None => missing.push(uncovered(
                category,
                "",
                left,
                "above_compulsory_no_third_party",
                format!("no third-party liability cover for the {} above the compulsory sub-limit", fen(left)),
            )),
        }
    }

    for (coverage, category, terms) in
        [("driver", LossCategory::Driver, &cover.driver), ("passenger", LossCategory::Passenger, &cover.passenger)]
    {
        let people = by_person(assessed, category);
        let Some(terms) = terms else {
            for (person, amount) in &people {
                missing.push(not_covered(cover, coverage, category, person, *amount));
            }
            continue;
        };
        if people.len() > terms.seats as usize {
            problems.push(Problem::new(
                format!("loss_items.{coverage}"),
                "more_people_than_seats",
                format!(
                    "{} people are assessed under {coverage} cover, which answers for {} seats",
                    people.len(),
                    terms.seats
                ),
            ));
            continue;
        }
        let mut deductible_left = fen(terms.deductible);
        for (person, amount) in &people {
            lines.push(commercial_line(
                *amount,
                liability_share,
                CommercialLine {
                    coverage,
                    category,
                    person,
                    compulsory_part: None,
                    deductible_left: &mut deductible_left,
                    limit: terms.per_seat,
                    used: Vec::new(),
                },
            ));
        }
    }

    let dues = dues(&lines, paid_on_claim);
    for due in dues.iter().filter(|due| due.paid_before > due.owed) {
        problems.push(Problem::new(
            format!("coverage.{}", due.coverage),
            "below_paid",
            format!(
                "{} is already paid under {} but this settlement owes {}; recover the difference before settling lower",
                due.paid_before, due.coverage, due.owed
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let owed = fen(dues.iter().map(|due| due.owed).sum());
    let total = fen(dues.iter().map(|due| due.payable).sum());
    Ok(Settlement { liability_share, at_fault, lines, dues, owed, total, uncovered: missing })
}

/// Sums the lines per coverage (in line order) and takes off what the claim already paid under each; coverages paid
/// before but owed nothing now are listed too, so an overpayment cannot hide.
fn dues(lines: &[SettlementLine], paid_on_claim: &BTreeMap<String, Decimal>) -> Vec<CoverageDue> {
    let mut owed: Vec<(String, Decimal)> = Vec::new();
    for line in lines {
        match owed.iter_mut().find(|(coverage, _)| *coverage == line.coverage) {
            Some((_, amount)) => *amount += line.owed,
            None => owed.push((line.coverage.clone(), line.owed)),
        }
    }
    for coverage in paid_on_claim.iter().filter(|(_, paid)| **paid > Decimal::ZERO).map(|(coverage, _)| coverage) {
        if !owed.iter().any(|(c, _)| c == coverage) {
            owed.push((coverage.clone(), zero()));
        }
    }
    owed.into_iter().map(|(coverage, amount)| due(coverage, amount, paid_on_claim)).collect()
}

/// One coverage's due: what it owes, what the claim paid under it, and the difference still payable.
fn due(coverage: String, owed: Decimal, paid_on_claim: &BTreeMap<String, Decimal>) -> CoverageDue {
    let owed = fen(owed);
    let paid_before = fen(paid_on_claim.get(&coverage).copied().unwrap_or(Decimal::ZERO));
    CoverageDue { payable: fen((owed - paid_before).max(Decimal::ZERO)), coverage, owed, paid_before }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn terms(limit: Decimal, paid_on_other_claims: Decimal, deductible: Decimal) -> CoverageTerms {
        CoverageTerms { limit, paid_on_other_claims, deductible }
    }

    fn item(category: LossCategory, amount: Decimal) -> Assessed {
        Assessed { category, person: String::new(), amount }
    }

    fn person(category: LossCategory, who: &str, amount: Decimal) -> Assessed {
        Assessed { category, person: who.to_string(), amount }
    }

    fn held() -> Cover {
        Cover::compulsory_only(CompulsoryTerms::statutory(true))
    }

    fn not_held() -> Cover {
        Cover::compulsory_only(CompulsoryTerms::statutory(false))
    }

    fn nothing_paid() -> BTreeMap<String, Decimal> {
        BTreeMap::new()
    }

    fn paid(entries: &[(&str, Decimal)]) -> BTreeMap<String, Decimal> {
        entries.iter().map(|(coverage, amount)| (coverage.to_string(), *amount)).collect()
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
        for amount in [settlement.total, settlement.owed] {
            assert_eq!(amount.scale(), 2, "{amount}");
        }
        for l in &settlement.lines {
            for amount in [
                l.assessed,
                l.compulsory_part,
                l.deductible,
                l.before_limit,
                l.limit,
                l.already_used,
                l.remaining_limit,
                l.owed,
            ] {
                assert_eq!(amount.scale(), 2, "{} line: {amount}", l.coverage);
            }
        }
        for due in &settlement.dues {
            for amount in [due.owed, due.paid_before, due.payable] {
                assert_eq!(amount.scale(), 2, "{}: {amount}", due.coverage);
            }
        }
    }

    #[test]
    fn own_vehicle_pays_assessed_less_deductible_times_share() {
        // (12000.00 − 500.00) × 0.7 = 8050.00; sum insured 200000.00 not reached.
        let cover = Cover { vehicle_damage: Some(terms(dec!(200000), dec!(0), dec!(500))), ..held() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(12000))], dec!(0.7), &cover, &nothing_paid()).unwrap();
        assert_eq!(s.lines.len(), 1);
        let l = &s.lines[0];
        assert_eq!((l.before_limit, l.owed), (dec!(8050.00), dec!(8050.00)));
        assert_eq!(s.total.to_string(), "8050.00");
        assert_eq!(
            l.steps,
            vec![
                "(12000.00 − deductible 500.00) × 0.7 = 8050.00".to_string(),
                "limit 200000.00 − paid on the policy's other claims 0.00 = remaining 200000.00".to_string(),
                "min(8050.00, 200000.00) = 8050.00".to_string(),
            ]
        );
        assert_two_places(&s);
    }

    #[test]
    fn vehicle_damage_serves_the_policy_year_across_claims() {
        // 95,000 of a 100,000 sum insured paid on the policy's other claims: 5,000 is left.
        let cover = Cover { vehicle_damage: Some(terms(dec!(100000), dec!(95000), dec!(0))), ..held() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(20000))], dec!(1), &cover, &nothing_paid()).unwrap();
        assert_eq!(s.lines[0].remaining_limit, dec!(5000.00));
        assert_eq!(s.total, dec!(5000.00));
    }

    #[test]
    fn a_reopened_claim_pays_only_the_newly_found_damage() {
        // 4,000 assessed and paid; reopened, 800 more found: owed 4,800, 4,000 paid, 800 payable.
        let cover = Cover { vehicle_damage: Some(terms(dec!(200000), dec!(0), dec!(0))), ..held() };
        let loss = [item(LossCategory::OwnVehicle, dec!(4000)), item(LossCategory::OwnVehicle, dec!(800))];
        let s = calculate(&loss, dec!(1), &cover, &paid(&[("vehicle_damage", dec!(4000))])).unwrap();
        assert_eq!(s.owed, dec!(4800.00));
        assert_eq!(
            s.dues,
            vec![CoverageDue {
                coverage: "vehicle_damage".into(),
                owed: dec!(4800.00),
                paid_before: dec!(4000.00),
                payable: dec!(800.00)
            }]
        );
        assert_eq!(s.total, dec!(800.00));
        assert_two_places(&s);
    }

    #[test]
    fn settling_the_same_loss_again_pays_nothing_more() {
        let cover = Cover { vehicle_damage: Some(terms(dec!(200000), dec!(0), dec!(0))), ..held() };
        let s = calculate(
            &[item(LossCategory::OwnVehicle, dec!(30000))],
            dec!(1),
            &cover,
            &paid(&[("vehicle_damage", dec!(30000))]),
        )
        .unwrap();
        assert_eq!(s.owed, dec!(30000.00), "authority is judged on the claim's whole owed amount");
        assert_eq!(s.total, dec!(0.00));
    }

    #[test]
    fn a_settlement_owing_less_than_was_paid_is_refused() {
        // Paid 4,000 at full fault; settling again at half fault would owe 2,000.
        let cover = Cover { vehicle_damage: Some(terms(dec!(200000), dec!(0), dec!(0))), ..held() };
        let problems = calculate(
            &[item(LossCategory::OwnVehicle, dec!(4000))],
            dec!(0.5),
            &cover,
            &paid(&[("vehicle_damage", dec!(4000))]),
        )
        .unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].field.as_str(), problems[0].code.as_str()), ("coverage.vehicle_damage", "below_paid"));
        // A coverage paid before and owed nothing now is caught too.
        let problems = calculate(&[], dec!(1), &cover, &paid(&[("driver", dec!(100))])).unwrap_err();
        assert_eq!(problems[0].field, "coverage.driver");
    }

    #[test]
    fn compulsory_pays_first_and_third_party_the_excess_times_share() {
        // Held here, share 0.5: compulsory property 2,000; third party (5000 − 2000 − 0) × 0.5 = 1,500.
        let cover = Cover { third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))), ..held() };
        let s = calculate(&[item(LossCategory::ThirdPartyProperty, dec!(5000))], dec!(0.5), &cover, &nothing_paid())
            .unwrap();
        let codes: Vec<&str> = s.lines.iter().map(|l| l.coverage.as_str()).collect();
        assert_eq!(codes, vec!["compulsory_property", "third_party"]);
        assert_eq!(line(&s, "compulsory_property", LossCategory::ThirdPartyProperty).owed, dec!(2000.00));
        let t = line(&s, "third_party", LossCategory::ThirdPartyProperty);
        assert_eq!((t.compulsory_part, t.owed), (dec!(2000.00), dec!(1500.00)));
        assert_eq!(t.steps[0], "(5000.00 − compulsory 2000.00 − deductible 0.00) × 0.5 = 1500.00");
        assert_eq!(s.total, dec!(3500.00));
        assert_two_places(&s);
    }

    #[test]
    fn third_party_property_within_the_sub_limit_pays_nothing_without_a_compulsory_policy_here() {
        // 1,500 at full fault, no compulsory policy visible: the 2,000 sub-limit still comes off.
        let cover = Cover { third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))), ..not_held() };
        let s =
            calculate(&[item(LossCategory::ThirdPartyProperty, dec!(1500))], dec!(1), &cover, &nothing_paid()).unwrap();
        assert!(s.lines.is_empty(), "{:?}", s.lines);
        assert_eq!(s.total, dec!(0.00));
    }

    #[test]
    fn a_death_at_full_fault_pays_the_excess_over_the_compulsory_sub_limit() {
        // 300,000 − 180,000 = 120,000 from commercial third party, whether or not compulsory is held here.
        for cover in [not_held(), held()] {
            let cover = Cover { third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))), ..cover };
            let s = calculate(&[item(LossCategory::ThirdPartyDeath, dec!(300000))], dec!(1), &cover, &nothing_paid())
                .unwrap();
            assert_eq!(s.owed_under("third_party"), dec!(120000.00));
            let expected_compulsory = if cover.compulsory.held_here { dec!(180000.00) } else { dec!(0.00) };
            assert_eq!(s.owed_under("compulsory_death_disability"), expected_compulsory);
        }
    }

    #[test]
    fn not_at_fault_uses_the_not_at_fault_sub_limits() {
        // Share 0: compulsory property 100 (not at fault); third party × 0 = 0.
        let cover = Cover { third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))), ..held() };
        let s =
            calculate(&[item(LossCategory::ThirdPartyProperty, dec!(5000))], dec!(0), &cover, &nothing_paid()).unwrap();
        assert!(!s.at_fault);
        assert_eq!(s.owed_under("compulsory_property"), dec!(100.00));
        assert_eq!(s.owed_under("third_party"), dec!(0.00));
        // Without compulsory here the not-at-fault sub-limit still comes off: (5000 − 100) × 0 = 0.
        let cover = Cover { third_party: Some(terms(dec!(1000000), dec!(0), dec!(0))), ..not_held() };
        let s =
            calculate(&[item(LossCategory::ThirdPartyProperty, dec!(5000))], dec!(0), &cover, &nothing_paid()).unwrap();
        assert_eq!(line(&s, "third_party", LossCategory::ThirdPartyProperty).compulsory_part, dec!(100.00));
    }

    #[test]
    fn third_party_lines_share_one_limit_per_accident() {
        // Limit 500,000: death 220,000, medical 282,000 capped at the 280,000 left, property 0 left.
        let cover = Cover { third_party: Some(terms(dec!(500000), dec!(0), dec!(0))), ..held() };
        let s = calculate(
            &[
                item(LossCategory::ThirdPartyProperty, dec!(10000)),
                item(LossCategory::ThirdPartyMedical, dec!(300000)),
                item(LossCategory::ThirdPartyDeath, dec!(400000)),
            ],
            dec!(1),
            &cover,
            &nothing_paid(),
        )
        .unwrap();
        let third: Vec<Decimal> = s.lines.iter().filter(|l| l.coverage == "third_party").map(|l| l.owed).collect();
        assert_eq!(third, vec![dec!(220000.00), dec!(280000.00), dec!(0.00)]);
        assert_eq!(s.owed_under("third_party"), dec!(500000.00));
        assert_eq!(s.total, dec!(700000.00));
        assert_two_places(&s);
    }

    #[test]
    fn a_deductible_is_taken_once_per_coverage_per_accident() {
        // Third-party deductible 1,000 across medical (excess 2,000) and property (excess 3,000): taken once.
        let cover = Cover { third_party: Some(terms(dec!(1000000), dec!(0), dec!(1000))), ..held() };
        let s = calculate(
            &[item(LossCategory::ThirdPartyMedical, dec!(20000)), item(LossCategory::ThirdPartyProperty, dec!(5000))],
            dec!(1),
            &cover,
            &nothing_paid(),
        )
        .unwrap();
        let medical = line(&s, "third_party", LossCategory::ThirdPartyMedical);
        let property = line(&s, "third_party", LossCategory::ThirdPartyProperty);
        assert_eq!((medical.deductible, medical.owed), (dec!(1000.00), dec!(1000.00)));
        assert_eq!((property.deductible, property.owed), (dec!(0.00), dec!(3000.00)));
        // A deductible larger than the first line's loss carries its rest to the next.
        let cover =
            Cover { passenger: Some(SeatTerms { per_seat: dec!(10000), seats: 4, deductible: dec!(500) }), ..held() };
        let s = calculate(
            &[
                person(LossCategory::Passenger, "乘客甲", dec!(300)),
                person(LossCategory::Passenger, "乘客乙", dec!(1000)),
            ],
            dec!(1),
            &cover,
            &nothing_paid(),
        )
        .unwrap();
        let deductibles: Vec<Decimal> = s.lines.iter().map(|l| l.deductible).collect();
        assert_eq!(deductibles, vec![dec!(300.00), dec!(200.00)]);
        assert_eq!(s.total, dec!(800.00));
    }

    #[test]
    fn each_passenger_is_paid_up_to_the_per_seat_limit() {
        // One passenger injured for 30,000 under 10,000 a seat: 10,000; a second for 4,000: 4,000.
        let cover =
            Cover { passenger: Some(SeatTerms { per_seat: dec!(10000), seats: 4, deductible: dec!(0) }), ..held() };
        let s = calculate(&[person(LossCategory::Passenger, "后排左", dec!(30000))], dec!(1), &cover, &nothing_paid())
            .unwrap();
        assert_eq!(s.total, dec!(10000.00));
        let s = calculate(
            &[
                person(LossCategory::Passenger, "后排左", dec!(20000)),
                person(LossCategory::Passenger, "后排右", dec!(4000)),
                person(LossCategory::Passenger, "后排左", dec!(10000)),
            ],
            dec!(1),
            &cover,
            &nothing_paid(),
        )
        .unwrap();
        let people: Vec<(&str, Decimal)> = s.lines.iter().map(|l| (l.person.as_str(), l.owed)).collect();
        assert_eq!(people, vec![("后排左", dec!(10000.00)), ("后排右", dec!(4000.00))]);
        assert_eq!(s.total, dec!(14000.00));
    }

    #[test]
    fn more_injured_people_than_seats_is_refused() {
        let cover =
            Cover { driver: Some(SeatTerms { per_seat: dec!(10000), seats: 1, deductible: dec!(0) }), ..held() };
        let problems = calculate(
            &[person(LossCategory::Driver, "张三", dec!(100)), person(LossCategory::Driver, "李四", dec!(100))],
            dec!(1),
            &cover,
            &nothing_paid(),
        )
        .unwrap_err();
        assert_eq!(problems[0].code, "more_people_than_seats");
    }

    #[test]
    fn cover_added_after_the_accident_pays_nothing_and_says_why() {
        let from = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let cover =
            Cover { added_after_accident: vec![LaterCover { coverage: "vehicle_damage".into(), from }], ..held() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(20000))], dec!(1), &cover, &nothing_paid()).unwrap();
        assert_eq!(s.total, dec!(0.00));
        assert_eq!(s.uncovered.len(), 1);
        assert_eq!(s.uncovered[0].code, "added_after_accident");
        assert_eq!(s.uncovered[0].cover_from, Some(from));
        assert_eq!(s.uncovered[0].amount, dec!(20000.00));
    }

    #[test]
    fn loss_no_cover_answers_is_listed_with_its_reason() {
        let s = calculate(&[item(LossCategory::ThirdPartyProperty, dec!(3000))], dec!(1), &held(), &nothing_paid())
            .unwrap();
        assert_eq!(s.total, dec!(2000.00));
        assert_eq!(s.uncovered[0].code, "above_compulsory_no_third_party");
        assert_eq!(s.uncovered[0].amount, dec!(1000.00));
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(8000))], dec!(1), &held(), &nothing_paid()).unwrap();
        assert_eq!((s.uncovered[0].code.as_str(), s.uncovered[0].amount), ("no_cover", dec!(8000.00)));
    }

    #[test]
    fn half_a_fen_rounds_up() {
        let cover = Cover { vehicle_damage: Some(terms(dec!(100000), dec!(0), dec!(0))), ..held() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(100.01))], dec!(0.5), &cover, &nothing_paid()).unwrap();
        assert_eq!(s.total.to_string(), "50.01");
        assert_eq!(
            s.lines[0].steps[0],
            "(100.01 − deductible 0.00) × 0.5 = 50.005 → 50.01 (rounded half up to the fen)"
        );
    }

    #[test]
    fn every_invalid_input_is_named_at_once() {
        let mut cover = Cover {
            vehicle_damage: Some(terms(dec!(100000), dec!(0), dec!(-500))),
            third_party: Some(terms(dec!(-1), dec!(0), dec!(0))),
            ..held()
        };
        cover.compulsory.at_fault.medical = dec!(-1);
        let problems = calculate(
            &[item(LossCategory::OwnVehicle, dec!(100)), item(LossCategory::Driver, dec!(-5))],
            dec!(1.2),
            &cover,
            &nothing_paid(),
        )
        .unwrap_err();
        let found: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.code.as_str())).collect();
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
    }

    #[test]
    fn categories_round_trip_and_a_settlement_serializes() {
        for category in LossCategory::ALL {
            assert_eq!(LossCategory::parse(category.as_str()), Some(category));
        }
        let cover = Cover { vehicle_damage: Some(terms(dec!(100000), dec!(0), dec!(0))), ..held() };
        let s = calculate(&[item(LossCategory::OwnVehicle, dec!(5))], dec!(1), &cover, &nothing_paid()).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"total\":\"5.00\""), "{json}");
        assert_eq!(serde_json::from_str::<Settlement>(&json).unwrap(), s);
    }

    #[test]
    fn a_settlement_stored_before_dues_existed_still_reads() {
        let old = r#"{"liability_share":"1","at_fault":true,"lines":[{"coverage":"vehicle_damage","category":"own_vehicle",
            "assessed":"10.00","paid_by_compulsory":"0.00","deductible":"0.00","liability_share":"1","before_limit":"10.00",
            "limit":"100.00","already_paid":"0.00","remaining_limit":"100.00","payable":"10.00","steps":[]}],"total":"10.00",
            "uncovered":[]}"#;
        let s: Settlement = serde_json::from_str(old).unwrap();
        assert_eq!(s.lines[0].owed, dec!(10.00));
        assert!(s.dues.is_empty());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod invariants {
    use super::*;
    use crate::domain::claims::payment::{self, PaymentTerms};
    use proptest::prelude::*;

    /// One step of claim work on the pure rules.
    #[derive(Debug, Clone)]
    enum Step {
        Assess(usize, i64),
        Settle(u8),
        Pay(u8),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0usize..4, 1i64..5_000_000).prop_map(|(category, fen)| Step::Assess(category, fen)),
            (0u8..=100).prop_map(Step::Settle),
            (1u8..=150).prop_map(Step::Pay),
        ]
    }

    const CATEGORIES: [LossCategory; 4] = [
        LossCategory::OwnVehicle,
        LossCategory::ThirdPartyProperty,
        LossCategory::ThirdPartyDeath,
        LossCategory::Passenger,
    ];

    proptest! {
        /// Whatever the order of assessing, settling (at any share) and paying (any part, or too much), the claim
        /// never pays more under a coverage than the contract owes for its assessed loss at full liability, and
        /// every settlement's payable is what it owes less what was paid.
        #[test]
        fn payments_never_exceed_what_is_owed_over_any_sequence(steps in proptest::collection::vec(step(), 1..40)) {
            let cover = Cover {
                vehicle_damage: Some(CoverageTerms { limit: Decimal::new(150_000, 0), deductible: Decimal::new(500, 0), paid_on_other_claims: Decimal::ZERO }),
                third_party: Some(CoverageTerms { limit: Decimal::new(1_000_000, 0), deductible: Decimal::ZERO, paid_on_other_claims: Decimal::ZERO }),
                passenger: Some(SeatTerms { per_seat: Decimal::new(10_000, 0), seats: 4, deductible: Decimal::ZERO }),
                ..Cover::compulsory_only(CompulsoryTerms::statutory(false))
            };
            let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
            let mut assessed: Vec<Assessed> = Vec::new();
            let mut paid: BTreeMap<String, Decimal> = BTreeMap::new();
            let mut settled: Option<Settlement> = None;
            for step in steps {
                match step {
                    Step::Assess(category, amount) => {
                        let category = CATEGORIES[category];
                        let person = if category == LossCategory::Passenger { "后排".to_string() } else { String::new() };
                        assessed.push(Assessed { category, person, amount: Decimal::new(amount, 2) });
                    }
                    Step::Settle(share) => {
                        if let Ok(s) = calculate(&assessed, Decimal::new(i64::from(share), 2), &cover, &paid) {
                            for due in &s.dues {
                                prop_assert_eq!(due.payable, due.owed - due.paid_before);
                            }
                            settled = Some(s);
                        }
                    }
                    Step::Pay(percent) => {
                        let Some(s) = &settled else { continue };
                        for due in &s.dues {
                            let paid_here = paid.get(&due.coverage).copied().unwrap_or(Decimal::ZERO);
                            let terms = PaymentTerms { coverage: &due.coverage, owed: due.owed, paid_on_claim: paid_here, policy_year: None, approved_on: day, today: day };
                            let amount = fen(payment::still_payable(&terms) * Decimal::new(i64::from(percent), 2));
                            if payment::check_payment(&terms, amount, day).is_ok() {
                                *paid.entry(due.coverage.clone()).or_default() += amount;
                            }
                        }
                    }
                }
                let bound = calculate(&assessed, Decimal::ONE, &Cover { vehicle_damage: cover.vehicle_damage.clone().map(|t| CoverageTerms { deductible: Decimal::ZERO, ..t }), ..cover.clone() }, &BTreeMap::new()).unwrap();
                for (coverage, amount) in &paid {
                    prop_assert!(*amount <= bound.owed_under(coverage), "paid {} under {}, owed at most {}", amount, coverage, bound.owed_under(coverage));
                }
            }
        }
    }
}

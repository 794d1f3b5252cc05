//! Rating: the tables an underwriter maintains, and pricing a quote from them.
//!
//! Every figure (base premiums, rates, NCD factors, coefficient bounds) lives in [`RatingTables`]
//! as data, because insurers and regions differ and regulators change them; the figures in
//! [`RatingTables::defaults`] are only the starting values from the domain notes. The pricing
//! code reads the tables it is given and knows no figure of its own.
//!
//! Money is `Decimal` throughout. Each line's premium is rounded half-up to the fen, and the
//! totals are sums of rounded lines, so the printed breakdown always adds up. On every line,
//! `premium = round_to_fen(base_premium × the line's factors)`, so a reader can check it by hand.

use std::collections::HashSet;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::money::round_to_fen;

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/// Everything needed to price a quote: the compulsory and the commercial tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingTables {
    pub compulsory: CompulsoryTable,
    pub commercial: CommercialTable,
}

/// Compulsory traffic insurance (交强险): a fixed base premium by vehicle class times a floating
/// factor from the at-fault accident history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompulsoryTable {
    /// Base premium for a private car with fewer than 6 seats.
    pub base_premium_under_6_seats: Decimal,
    /// Base premium for a private car with 6 seats or more.
    pub base_premium_6_seats_or_more: Decimal,
    /// The floating factor (浮动费率) for each accident history; every history appears once.
    pub floating_factors: Vec<FloatingFactor>,
    /// Liability limits per accident when the insured is at fault.
    pub at_fault_limits: CompulsoryLimits,
    /// Liability limits per accident when the insured is not at fault.
    pub not_at_fault_limits: CompulsoryLimits,
}

/// Compulsory liability limits per accident. They do not change the premium; quotes and
/// policies show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompulsoryLimits {
    pub death_disability: Decimal,
    pub medical: Decimal,
    pub property: Decimal,
}

/// The vehicle's at-fault accident history, which sets the compulsory floating factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccidentHistory {
    // Explicit names: serde's own snake_case would run the digit into the word ("claim_free1_year").
    #[serde(rename = "claim_free_1_year")]
    ClaimFree1Year,
    #[serde(rename = "claim_free_2_years")]
    ClaimFree2Years,
    #[serde(rename = "claim_free_3_years_or_more")]
    ClaimFree3YearsOrMore,
    NewOrNoRecord,
    OneAtFaultNoDeath,
    TwoOrMoreAtFault,
    AtFaultWithDeath,
}

impl AccidentHistory {
    /// Every history, in the order the default table lists them.
    pub const ALL: [AccidentHistory; 7] = [
        AccidentHistory::ClaimFree1Year,
        AccidentHistory::ClaimFree2Years,
        AccidentHistory::ClaimFree3YearsOrMore,
        AccidentHistory::NewOrNoRecord,
        AccidentHistory::OneAtFaultNoDeath,
        AccidentHistory::TwoOrMoreAtFault,
        AccidentHistory::AtFaultWithDeath,
    ];

    /// The name used in JSON and in messages, e.g. `claim_free_1_year`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccidentHistory::ClaimFree1Year => "claim_free_1_year",
            AccidentHistory::ClaimFree2Years => "claim_free_2_years",
            AccidentHistory::ClaimFree3YearsOrMore => "claim_free_3_years_or_more",
            AccidentHistory::NewOrNoRecord => "new_or_no_record",
            AccidentHistory::OneAtFaultNoDeath => "one_at_fault_no_death",
            AccidentHistory::TwoOrMoreAtFault => "two_or_more_at_fault",
            AccidentHistory::AtFaultWithDeath => "at_fault_with_death",
        }
    }
}

/// One row of the compulsory floating-factor table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatingFactor {
    pub history: AccidentHistory,
    pub factor: Decimal,
}

/// Commercial auto insurance (商业车险): each coverage's base premium, then
/// premium = base × NCD factor × pricing coefficient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommercialTable {
    pub vehicle_damage: VehicleDamageTable,
    /// Third-party liability (三者险): the base premium for each limit that may be chosen, ascending.
    pub third_party_limits: Vec<LimitPremium>,
    /// Driver liability: base premium as a share of the per-seat limit.
    pub driver_rate: Decimal,
    /// Passenger liability: base premium as a share of the per-seat limit, for each passenger seat.
    pub passenger_rate: Decimal,
    /// The per-seat limits that may be chosen for driver and passenger liability, ascending.
    pub seat_limits: Vec<Decimal>,
    /// Riders (附加险) that may be added to a commercial policy.
    pub riders: Vec<Rider>,
    /// No-claim discount (无赔款优待) levels and their factors.
    pub ncd_levels: Vec<NcdLevel>,
    /// The range the pricing coefficient (自主定价系数) must fall in.
    pub pricing_coefficient: CoefficientBounds,
}

/// Vehicle damage (车损险): sum insured is the new-car price less depreciation; base premium is a
/// fixed part plus a rate on the sum insured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleDamageTable {
    pub base_premium: Decimal,
    /// Share of the sum insured added to the base premium.
    pub rate: Decimal,
    /// Share of the new-car price lost per whole month since first registration.
    pub depreciation_per_month: Decimal,
    /// The most depreciation ever taken off, as a share of the new-car price.
    pub max_depreciation: Decimal,
    /// An agreed sum insured may be lower than the actual value, down to this share of it (never higher:
    /// a car is not insured above what it is worth). Older tables without it allow only the actual value.
    #[serde(default = "one")]
    pub min_agreed_share: Decimal,
}

fn one() -> Decimal {
    Decimal::ONE
}

/// One third-party limit and its base premium.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitPremium {
    pub limit: Decimal,
    pub base_premium: Decimal,
}

/// A rider (附加险) that may be added to a commercial policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rider {
    /// Stable code chosen on a quote and shown as the line's code.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub basis: RiderBasis,
}

/// How a rider's premium is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RiderBasis {
    /// A share of another line's premium; that line must be chosen. The share already carries the
    /// NCD factor and pricing coefficient of that line, so they are not applied again.
    ShareOfCoverage { coverage: CoverageKind, rate: Decimal },
    /// A fixed base premium, then × NCD factor × pricing coefficient like a main coverage.
    Fixed { base_premium: Decimal },
}

/// One NCD level and its factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NcdLevel {
    pub level: i32,
    pub factor: Decimal,
}

/// Inclusive bounds for the pricing coefficient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoefficientBounds {
    pub min: Decimal,
    pub max: Decimal,
}

/// The kind of coverage a premium line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageKind {
    Compulsory,
    VehicleDamage,
    ThirdParty,
    Driver,
    Passenger,
    Rider,
}

impl CoverageKind {
    /// The name used in JSON and as the code of a main coverage's premium line.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageKind::Compulsory => "compulsory",
            CoverageKind::VehicleDamage => "vehicle_damage",
            CoverageKind::ThirdParty => "third_party",
            CoverageKind::Driver => "driver",
            CoverageKind::Passenger => "passenger",
            CoverageKind::Rider => "rider",
        }
    }
}

impl fmt::Display for CoverageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RatingTables {
    /// The default tables from the domain notes: starting values for a new installation, which an
    /// underwriter then edits.
    pub fn defaults() -> RatingTables {
        // Factors in tenths, in the order of `AccidentHistory::ALL`: −10%, −20%, −30%, 0, 0, +10%, +30%.
        let floating_tenths = [9, 8, 7, 10, 10, 11, 13];
        let floating_factors = AccidentHistory::ALL
            .iter()
            .zip(floating_tenths)
            .map(|(history, tenths)| FloatingFactor { history: *history, factor: Decimal::new(tenths, 1) })
            .collect();
        let third_party = [
            (100_000, 760),
            (150_000, 850),
            (200_000, 920),
            (300_000, 1040),
            (500_000, 1250),
            (1_000_000, 1630),
            (1_500_000, 1870),
            (2_000_000, 2080),
            (3_000_000, 2440),
            (5_000_000, 2990),
            (10_000_000, 3880),
        ];
        let ncd = [(-4, 5), (-3, 6), (-2, 7), (-1, 8), (0, 10), (1, 12), (2, 14), (3, 16), (4, 18), (5, 20)];
        RatingTables {
            compulsory: CompulsoryTable {
                base_premium_under_6_seats: Decimal::from(950),
                base_premium_6_seats_or_more: Decimal::from(1100),
                floating_factors,
                at_fault_limits: CompulsoryLimits {
                    death_disability: Decimal::from(180_000),
                    medical: Decimal::from(18_000),
                    property: Decimal::from(2_000),
                },
                not_at_fault_limits: CompulsoryLimits {
                    death_disability: Decimal::from(18_000),
                    medical: Decimal::from(1_800),
                    property: Decimal::from(100),
                },
            },
            commercial: CommercialTable {
                vehicle_damage: VehicleDamageTable {
                    base_premium: Decimal::from(500),
                    rate: Decimal::new(110, 4),
                    depreciation_per_month: Decimal::new(6, 3),
                    max_depreciation: Decimal::new(8, 1),
                    min_agreed_share: Decimal::new(7, 1),
                },
                third_party_limits: third_party
                    .iter()
                    .map(|&(limit, premium)| LimitPremium {
                        limit: Decimal::from(limit),
                        base_premium: Decimal::from(premium),
                    })
                    .collect(),
                driver_rate: Decimal::new(42, 4),
                passenger_rate: Decimal::new(27, 4),
                seat_limits: [10_000, 20_000, 50_000, 100_000, 200_000].into_iter().map(Decimal::from).collect(),
                riders: vec![
                    Rider {
                        code: "wheel".into(),
                        name_zh: "车轮单独损失险".into(),
                        name_en: "Wheel-only damage".into(),
                        basis: RiderBasis::Fixed { base_premium: Decimal::from(180) },
                    },
                    Rider {
                        code: "medical_extra".into(),
                        name_zh: "医保外医疗费用责任险".into(),
                        name_en: "Medical costs outside social insurance".into(),
                        basis: RiderBasis::ShareOfCoverage {
                            coverage: CoverageKind::ThirdParty,
                            rate: Decimal::new(5, 2),
                        },
                    },
                    Rider {
                        code: "repair_period".into(),
                        name_zh: "修理期间费用补偿险".into(),
                        name_en: "Compensation during repair".into(),
                        basis: RiderBasis::Fixed { base_premium: Decimal::from(120) },
                    },
                ],
                ncd_levels: ncd
                    .iter()
                    .map(|&(level, tenths)| NcdLevel { level, factor: Decimal::new(tenths, 1) })
                    .collect(),
                pricing_coefficient: CoefficientBounds { min: Decimal::new(5, 1), max: Decimal::new(15, 1) },
            },
        }
    }

    /// Checks a table an underwriter has edited before it can be put in force. Every problem is
    /// reported at once, each with the path of the offending value.
    pub fn validate(&self) -> Result<(), Vec<TableProblem>> {
        let mut check = TableCheck::default();
        check_compulsory(&mut check, &self.compulsory);
        check_commercial(&mut check, &self.commercial);
        if check.problems.is_empty() { Ok(()) } else { Err(check.problems) }
    }

    /// The compulsory floating factor for an accident history, if the table has one.
    pub fn floating_factor(&self, history: AccidentHistory) -> Option<Decimal> {
        self.compulsory.floating_factors.iter().find(|f| f.history == history).map(|f| f.factor)
    }

    /// The NCD factor for a level, if the table has that level.
    pub fn ncd_factor(&self, level: i32) -> Option<Decimal> {
        self.commercial.ncd_levels.iter().find(|l| l.level == level).map(|l| l.factor)
    }

    /// The lowest and highest NCD levels in the table, the bounds NCD movement is clamped to.
    pub fn ncd_range(&self) -> Option<(i32, i32)> {
        let levels = self.commercial.ncd_levels.iter().map(|l| l.level);
        Some((levels.clone().min()?, levels.max()?))
    }
}

/// One thing wrong with a rating table: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableProblem {
    /// Path of the value, e.g. `commercial.third_party_limits[3].limit`.
    pub path: String,
    pub message: String,
}

/// Collects the problems found while checking a table.
#[derive(Default)]
struct TableCheck {
    problems: Vec<TableProblem>,
}

impl TableCheck {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(TableProblem { path: path.into(), message: message.into() });
    }

    /// An amount of money: positive, and no finer than a fen, since lines are stored in fen.
    fn money_positive(&mut self, path: &str, amount: Decimal) {
        if amount <= Decimal::ZERO {
            self.problem(path, format!("must be above 0, is {amount}"));
        } else if !whole_fen(amount) {
            self.problem(path, format!("has more than 2 decimal places: {amount}"));
        }
    }

    /// An amount of money that may be 0.
    fn money_non_negative(&mut self, path: &str, amount: Decimal) {
        if amount < Decimal::ZERO {
            self.problem(path, format!("must not be negative, is {amount}"));
        } else if !whole_fen(amount) {
            self.problem(path, format!("has more than 2 decimal places: {amount}"));
        }
    }

    fn factor(&mut self, path: &str, factor: Decimal) {
        if factor <= Decimal::ZERO {
            self.problem(path, format!("a factor must be above 0, is {factor}"));
        }
    }

    fn rate(&mut self, path: &str, rate: Decimal) {
        if rate < Decimal::ZERO {
            self.problem(path, format!("a rate must not be negative, is {rate}"));
        }
    }

    /// Limits must ascend strictly, so each is listed once and a picker shows them in order.
    fn ascending(&mut self, values: impl Iterator<Item = (String, Decimal)>) {
        let mut previous: Option<Decimal> = None;
        for (path, value) in values {
            if let Some(before) = previous
                && value <= before
            {
                let message = if value == before {
                    format!("{value} is listed twice")
                } else {
                    format!("{value} is not above the limit before it, {before}")
                };
                self.problem(path, message);
            }
            previous = Some(value);
        }
    }
}

fn whole_fen(amount: Decimal) -> bool {
    amount.normalize().scale() <= 2
}

fn check_compulsory(check: &mut TableCheck, table: &CompulsoryTable) {
    check.money_positive("compulsory.base_premium_under_6_seats", table.base_premium_under_6_seats);
    check.money_positive("compulsory.base_premium_6_seats_or_more", table.base_premium_6_seats_or_more);
    let mut seen = HashSet::new();
    for (i, row) in table.floating_factors.iter().enumerate() {
        check.factor(&format!("compulsory.floating_factors[{i}].factor"), row.factor);
        if !seen.insert(row.history) {
            check.problem(
                format!("compulsory.floating_factors[{i}].history"),
                format!("{} is listed twice", row.history.as_str()),
            );
        }
    }
    // Every quote names a history, so a missing row would make compulsory cover unpriceable.
    for history in AccidentHistory::ALL.iter().filter(|h| !seen.contains(*h)) {
        check.problem("compulsory.floating_factors", format!("no factor for {}", history.as_str()));
    }
    for (name, limits) in
        [("at_fault_limits", &table.at_fault_limits), ("not_at_fault_limits", &table.not_at_fault_limits)]
    {
        check.money_positive(&format!("compulsory.{name}.death_disability"), limits.death_disability);
        check.money_positive(&format!("compulsory.{name}.medical"), limits.medical);
        check.money_positive(&format!("compulsory.{name}.property"), limits.property);
    }
}

fn check_commercial(check: &mut TableCheck, table: &CommercialTable) {
    let damage = &table.vehicle_damage;
    check.money_non_negative("commercial.vehicle_damage.base_premium", damage.base_premium);
    check.rate("commercial.vehicle_damage.rate", damage.rate);
    check.rate("commercial.vehicle_damage.depreciation_per_month", damage.depreciation_per_month);
    if damage.max_depreciation < Decimal::ZERO || damage.max_depreciation >= Decimal::ONE {
        let message = format!("must be at least 0 and below 1, is {}", damage.max_depreciation);
        check.problem("commercial.vehicle_damage.max_depreciation", message);
    }
    if damage.min_agreed_share <= Decimal::ZERO || damage.min_agreed_share > Decimal::ONE {
        let message = format!("must be above 0 and at most 1, is {}", damage.min_agreed_share);
        check.problem("commercial.vehicle_damage.min_agreed_share", message);
    }

    for (i, row) in table.third_party_limits.iter().enumerate() {
        check.money_positive(&format!("commercial.third_party_limits[{i}].limit"), row.limit);
        check.money_positive(&format!("commercial.third_party_limits[{i}].base_premium"), row.base_premium);
    }
    check.ascending(
        table
            .third_party_limits
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("commercial.third_party_limits[{i}].limit"), r.limit)),
    );

    check.rate("commercial.driver_rate", table.driver_rate);
    check.rate("commercial.passenger_rate", table.passenger_rate);
    for (i, limit) in table.seat_limits.iter().enumerate() {
        check.money_positive(&format!("commercial.seat_limits[{i}]"), *limit);
    }
    check.ascending(table.seat_limits.iter().enumerate().map(|(i, l)| (format!("commercial.seat_limits[{i}]"), *l)));

    check_riders(check, &table.riders);
    check_ncd_levels(check, &table.ncd_levels);

    let bounds = &table.pricing_coefficient;
    check.factor("commercial.pricing_coefficient.min", bounds.min);
    if bounds.min > bounds.max {
        let message = format!("the maximum {} is below the minimum {}", bounds.max, bounds.min);
        check.problem("commercial.pricing_coefficient.max", message);
    }
}

fn check_riders(check: &mut TableCheck, riders: &[Rider]) {
    let mut codes = HashSet::new();
    for (i, rider) in riders.iter().enumerate() {
        let path = format!("commercial.riders[{i}]");
        let code = rider.code.trim();
        if code.is_empty() {
            check.problem(format!("{path}.code"), "a rider needs a code");
        } else if code != rider.code {
            check.problem(format!("{path}.code"), format!("the code {:?} has spaces around it", rider.code));
        } else if !codes.insert(code) {
            check.problem(format!("{path}.code"), format!("the code {code} is used by another rider"));
        }
        if rider.name_zh.trim().is_empty() {
            check.problem(format!("{path}.name_zh"), "a rider needs a Chinese name");
        }
        if rider.name_en.trim().is_empty() {
            check.problem(format!("{path}.name_en"), "a rider needs an English name");
        }
        match &rider.basis {
            RiderBasis::ShareOfCoverage { coverage, rate } => {
                check.rate(&format!("{path}.basis.rate"), *rate);
                // A rider is a commercial add-on: it can share a commercial main coverage only.
                if matches!(coverage, CoverageKind::Compulsory | CoverageKind::Rider) {
                    let message = format!("a rider can be a share of a commercial main coverage, not of {coverage}");
                    check.problem(format!("{path}.basis.coverage"), message);
                }
            }
            RiderBasis::Fixed { base_premium } => {
                check.money_non_negative(&format!("{path}.basis.base_premium"), *base_premium);
            }
        }
    }
}

fn check_ncd_levels(check: &mut TableCheck, levels: &[NcdLevel]) {
    let mut seen = HashSet::new();
    for (i, row) in levels.iter().enumerate() {
        check.factor(&format!("commercial.ncd_levels[{i}].factor"), row.factor);
        if !seen.insert(row.level) {
            check.problem(format!("commercial.ncd_levels[{i}].level"), format!("level {} is listed twice", row.level));
        }
    }
    // A new vehicle starts at level 0, so the table must price it.
    if !seen.contains(&0) {
        check.problem("commercial.ncd_levels", "level 0, where a new vehicle starts, is missing");
    }
}

// ---------------------------------------------------------------------------------------------
// Pricing
// ---------------------------------------------------------------------------------------------

/// The facts about the vehicle that pricing needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub first_registration: NaiveDate,
    pub new_car_price: Decimal,
    pub seats: u32,
}

/// The coverages chosen on a quote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageChoice {
    pub compulsory: bool,
    pub vehicle_damage: bool,
    pub third_party_limit: Option<Decimal>,
    /// Driver liability limit per seat.
    pub driver_limit: Option<Decimal>,
    /// Passenger liability limit per seat.
    pub passenger_limit: Option<Decimal>,
    /// Codes of the riders chosen.
    #[serde(default)]
    pub riders: Vec<String>,
    /// An agreed vehicle-damage sum insured below the actual value; the actual value when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_damage_sum_insured: Option<Decimal>,
}

impl CoverageChoice {
    /// Whether any commercial main coverage (not compulsory, not a rider) is chosen.
    fn has_commercial_main_coverage(&self) -> bool {
        self.vehicle_damage
            || self.third_party_limit.is_some()
            || self.driver_limit.is_some()
            || self.passenger_limit.is_some()
    }
}

/// Everything a quote is priced from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingInput {
    pub vehicle: Vehicle,
    /// The day cover starts; the vehicle's age is taken on this day.
    pub start_date: NaiveDate,
    pub accident_history: AccidentHistory,
    pub ncd_level: i32,
    pub pricing_coefficient: Decimal,
    pub coverages: CoverageChoice,
}

/// A factor the base premium of a line was multiplied by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// One of [`FACTOR_FLOATING`], [`FACTOR_NCD`], [`FACTOR_PRICING_COEFFICIENT`].
    pub name: String,
    pub value: Decimal,
}

/// The compulsory floating factor from the accident history.
pub const FACTOR_FLOATING: &str = "floating";
/// The NCD factor of the quote's NCD level.
pub const FACTOR_NCD: &str = "ncd";
/// The quote's pricing coefficient.
pub const FACTOR_PRICING_COEFFICIENT: &str = "pricing_coefficient";

/// One coverage's premium with how it was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PremiumLine {
    pub coverage: CoverageKind,
    /// The coverage's name (`vehicle_damage`, `third_party`…) or, for a rider, the rider's code.
    pub code: String,
    /// Vehicle damage: the depreciated value; third party: the limit; driver and passenger: the
    /// limit per seat. None for compulsory cover and riders.
    pub sum_insured: Option<Decimal>,
    pub base_premium: Decimal,
    /// Applied to `base_premium` in order; `premium = round_to_fen(base_premium × factors)`.
    /// Depreciation is not among them: it shapes `sum_insured`, and a factor here would read as a
    /// multiplier of the base. A rider priced as a share of another line has none: its base is
    /// already that share.
    pub factors: Vec<Factor>,
    pub premium: Decimal,
}

/// A priced quote: the lines and their totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Premium {
    pub lines: Vec<PremiumLine>,
    /// The compulsory line's premium, 0 when compulsory cover is not chosen.
    pub compulsory_total: Decimal,
    /// The sum of every other line.
    pub commercial_total: Decimal,
    pub total: Decimal,
}

/// Why a quote cannot be priced: the input field, a stable code and an English message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricingError {
    /// Path of the input field, e.g. `coverages.third_party_limit`.
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for PricingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.code)
    }
}

impl std::error::Error for PricingError {}

fn error(field: &str, code: &'static str, message: impl Into<String>) -> PricingError {
    PricingError { field: field.into(), code, message: message.into() }
}

/// Whole months from first registration to `on`: a month counts once its day-of-month is reached,
/// so 31 Jan → 28 Feb is 0 months and 31 Jan → 1 Mar is 1. 0 when `on` is before registration.
pub fn vehicle_age_months(first_registration: NaiveDate, on: NaiveDate) -> u32 {
    let years = i64::from(on.year()) - i64::from(first_registration.year());
    let months = years * 12 + i64::from(on.month()) - i64::from(first_registration.month());
    let months = if on.day() < first_registration.day() { months - 1 } else { months };
    u32::try_from(months.max(0)).unwrap_or(u32::MAX)
}

/// The share of the new-car price taken off on `on`: months × the monthly rate, at most the cap.
pub fn vehicle_depreciation(table: &VehicleDamageTable, vehicle: &Vehicle, on: NaiveDate) -> Decimal {
    let months = Decimal::from(vehicle_age_months(vehicle.first_registration, on));
    // Too many months to multiply is far past the cap.
    months.checked_mul(table.depreciation_per_month).map_or(table.max_depreciation, |d| d.min(table.max_depreciation))
}

/// Vehicle damage sum insured (actual value) on `on`: the new-car price less depreciation,
/// rounded to the fen.
pub fn vehicle_damage_sum_insured(table: &VehicleDamageTable, vehicle: &Vehicle, on: NaiveDate) -> Decimal {
    let kept = Decimal::ONE.saturating_sub(vehicle_depreciation(table, vehicle, on));
    in_fen(vehicle.new_car_price.saturating_mul(kept))
}

/// Prices a quote: one line per chosen coverage and rider, and the totals. Every problem with the
/// input is reported at once.
pub fn price(tables: &RatingTables, input: &PricingInput) -> Result<Premium, Vec<PricingError>> {
    let mut errors = check_input(tables, input);
    let ncd = tables.ncd_factor(input.ncd_level).unwrap_or(Decimal::ONE);
    // With an unknown NCD level the error is already recorded; the lines are still worked out so
    // that problems with the coverages are reported too, but they are never returned.
    let commercial_factors = [
        Factor { name: FACTOR_NCD.into(), value: ncd },
        Factor { name: FACTOR_PRICING_COEFFICIENT.into(), value: input.pricing_coefficient },
    ];
    let lines = price_lines(tables, input, &commercial_factors, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    totals(lines).map_err(|e| vec![e])
}

/// The checks on the input that do not depend on which coverage is priced.
fn check_input(tables: &RatingTables, input: &PricingInput) -> Vec<PricingError> {
    let mut errors = Vec::new();
    let vehicle = &input.vehicle;
    if !(1..=60).contains(&vehicle.seats) {
        errors.push(error(
            "vehicle.seats",
            "seats_out_of_range",
            format!("seats must be 1 to 60, not {}", vehicle.seats),
        ));
    }
    if vehicle.new_car_price <= Decimal::ZERO {
        errors.push(error("vehicle.new_car_price", "not_positive", "the new-car price must be above 0"));
    } else if !whole_fen(vehicle.new_car_price) {
        let message = format!("the new-car price {} has more than 2 decimal places", vehicle.new_car_price);
        errors.push(error("vehicle.new_car_price", "too_precise", message));
    }
    if vehicle.first_registration > input.start_date {
        let message = format!(
            "first registration {} is after the start of cover {}",
            vehicle.first_registration, input.start_date
        );
        errors.push(error("vehicle.first_registration", "registered_after_start", message));
    }
    if tables.ncd_factor(input.ncd_level).is_none() {
        let levels = match tables.ncd_range() {
            Some((lowest, highest)) => format!("; the table has {lowest} to {highest}"),
            None => String::new(),
        };
        let message = format!("NCD level {} is not in the table{levels}", input.ncd_level);
        errors.push(error("ncd_level", "unknown_ncd_level", message));
    }
    let bounds = &tables.commercial.pricing_coefficient;
    if input.pricing_coefficient < bounds.min || input.pricing_coefficient > bounds.max {
        let message = format!(
            "the pricing coefficient {} is outside {} to {}",
            input.pricing_coefficient, bounds.min, bounds.max
        );
        errors.push(error("pricing_coefficient", "coefficient_out_of_range", message));
    }
    let chosen = &input.coverages;
    if !chosen.compulsory && !chosen.has_commercial_main_coverage() && chosen.riders.is_empty() {
        errors.push(error("coverages", "no_coverage", "choose at least one coverage"));
    }
    errors
}

/// Prices each chosen coverage in the order a policy schedule lists them; riders last, since a
/// rider may be a share of a main coverage's premium.
fn price_lines(
    tables: &RatingTables,
    input: &PricingInput,
    commercial_factors: &[Factor],
    errors: &mut Vec<PricingError>,
) -> Vec<PremiumLine> {
    let chosen = &input.coverages;
    let commercial = &tables.commercial;
    let mut results: Vec<Result<PremiumLine, PricingError>> = Vec::new();
    if chosen.compulsory {
        results.push(compulsory_line(tables, input));
    }
    if chosen.vehicle_damage {
        results.push(vehicle_damage_line(&commercial.vehicle_damage, input, commercial_factors));
    }
    if let Some(limit) = chosen.third_party_limit {
        results.push(third_party_line(commercial, limit, commercial_factors));
    }
    if let Some(limit) = chosen.driver_limit {
        results.push(seat_line(commercial, CoverageKind::Driver, limit, 1, commercial_factors));
    }
    if let Some(limit) = chosen.passenger_limit {
        results.push(passenger_line(commercial, input, limit, commercial_factors));
    }
    let mut lines = Vec::new();
    for result in results {
        match result {
            Ok(line) => lines.push(line),
            Err(e) => errors.push(e),
        }
    }
    let riders = rider_lines(commercial, chosen, &lines, commercial_factors);
    for result in riders {
        match result {
            Ok(line) => lines.push(line),
            Err(e) => errors.push(e),
        }
    }
    lines
}

/// `round_to_fen(base × factors)`, or None when the product leaves `Decimal`'s range.
fn apply_factors(base: Decimal, factors: &[Factor]) -> Option<Decimal> {
    factors.iter().try_fold(base, |amount, factor| amount.checked_mul(factor.value)).map(round_to_fen)
}

/// Rounds half-up to the fen and always carries two decimals, so amounts read `855.00`, not `855.0`.
fn in_fen(amount: Decimal) -> Decimal {
    let mut rounded = round_to_fen(amount);
    // Never panics: a value too large for two more digits keeps the scale it can hold.
    rounded.rescale(2);
    rounded
}

fn out_of_range(field: &str) -> PricingError {
    error(field, "amount_out_of_range", "the premium is too large to work out")
}

fn line(
    coverage: CoverageKind,
    code: &str,
    sum_insured: Option<Decimal>,
    base_premium: Decimal,
    factors: &[Factor],
    field: &str,
) -> Result<PremiumLine, PricingError> {
    let premium = apply_factors(base_premium, factors).ok_or_else(|| out_of_range(field))?;
    Ok(PremiumLine {
        coverage,
        code: code.into(),
        sum_insured: sum_insured.map(in_fen),
        base_premium: in_fen(base_premium),
        factors: factors.to_vec(),
        premium: in_fen(premium),
    })
}

/// Compulsory: base premium by seats × the floating factor of the accident history.
fn compulsory_line(tables: &RatingTables, input: &PricingInput) -> Result<PremiumLine, PricingError> {
    let table = &tables.compulsory;
    let base =
        if input.vehicle.seats < 6 { table.base_premium_under_6_seats } else { table.base_premium_6_seats_or_more };
    let floating = tables.floating_factor(input.accident_history).ok_or_else(|| {
        let message = format!("the rating table has no floating factor for {}", input.accident_history.as_str());
        error("accident_history", "unknown_accident_history", message)
    })?;
    let factors = [Factor { name: FACTOR_FLOATING.into(), value: floating }];
    line(CoverageKind::Compulsory, CoverageKind::Compulsory.as_str(), None, base, &factors, "coverages.compulsory")
}

/// Vehicle damage: base = fixed part + sum insured × rate, rounded to the fen; then × NCD × coefficient.
fn vehicle_damage_line(
    table: &VehicleDamageTable,
    input: &PricingInput,
    factors: &[Factor],
) -> Result<PremiumLine, PricingError> {
    const FIELD: &str = "coverages.vehicle_damage";
    let actual = vehicle_damage_sum_insured(table, &input.vehicle, input.start_date);
    let sum_insured = match input.coverages.vehicle_damage_sum_insured {
        None => actual,
        Some(agreed) => {
            const AGREED: &str = "coverages.vehicle_damage_sum_insured";
            let floor = in_fen(actual.saturating_mul(table.min_agreed_share));
            if agreed > actual {
                let message = format!("the agreed sum insured {agreed} is above the actual value {actual}");
                return Err(error(AGREED, "above_actual_value", message));
            }
            if agreed < floor || agreed <= Decimal::ZERO {
                let message = format!(
                    "the agreed sum insured {agreed} is below {floor}, the least allowed ({} of the actual value {actual})",
                    table.min_agreed_share
                );
                return Err(error(AGREED, "below_agreed_floor", message));
            }
            if !whole_fen(agreed) {
                return Err(error(AGREED, "too_precise", format!("{agreed} has more than 2 decimal places")));
            }
            agreed
        }
    };
    let base = sum_insured
        .checked_mul(table.rate)
        .and_then(|rated| rated.checked_add(table.base_premium))
        .map(round_to_fen)
        .ok_or_else(|| out_of_range(FIELD))?;
    let kind = CoverageKind::VehicleDamage;
    line(kind, kind.as_str(), Some(sum_insured), base, factors, FIELD)
}

/// Third party: the table's base premium for exactly the chosen limit, × NCD × coefficient.
fn third_party_line(table: &CommercialTable, limit: Decimal, factors: &[Factor]) -> Result<PremiumLine, PricingError> {
    const FIELD: &str = "coverages.third_party_limit";
    let row = table.third_party_limits.iter().find(|row| row.limit == limit).ok_or_else(|| {
        let offered: Vec<String> = table.third_party_limits.iter().map(|r| r.limit.normalize().to_string()).collect();
        let message = format!("third-party limit {limit} is not offered; choose one of {}", offered.join(", "));
        error(FIELD, "unknown_limit", message)
    })?;
    let kind = CoverageKind::ThirdParty;
    line(kind, kind.as_str(), Some(limit), row.base_premium, factors, FIELD)
}

/// Passenger liability: one seat-priced line for every seat but the driver's.
fn passenger_line(
    table: &CommercialTable,
    input: &PricingInput,
    limit: Decimal,
    factors: &[Factor],
) -> Result<PremiumLine, PricingError> {
    let passenger_seats = input.vehicle.seats.saturating_sub(1);
    // A seat count out of range is reported on the vehicle; only a single seat is a problem here.
    if input.vehicle.seats == 1 {
        let message = "a vehicle with one seat has no passenger seats to cover";
        return Err(error("coverages.passenger_limit", "no_passenger_seats", message));
    }
    seat_line(table, CoverageKind::Passenger, limit, passenger_seats, factors)
}

/// Driver or passenger liability: base = per-seat limit × rate × seats, rounded to the fen;
/// then × NCD × coefficient.
fn seat_line(
    table: &CommercialTable,
    kind: CoverageKind,
    limit: Decimal,
    seats: u32,
    factors: &[Factor],
) -> Result<PremiumLine, PricingError> {
    let (field, rate) = match kind {
        CoverageKind::Passenger => ("coverages.passenger_limit", table.passenger_rate),
        _ => ("coverages.driver_limit", table.driver_rate),
    };
    if !table.seat_limits.contains(&limit) {
        let offered: Vec<String> = table.seat_limits.iter().map(|l| l.normalize().to_string()).collect();
        let message = format!("per-seat limit {limit} is not offered; choose one of {}", offered.join(", "));
        return Err(error(field, "unknown_limit", message));
    }
    let base = limit
        .checked_mul(rate)
        .and_then(|per_seat| per_seat.checked_mul(Decimal::from(seats)))
        .map(round_to_fen)
        .ok_or_else(|| out_of_range(field))?;
    line(kind, kind.as_str(), Some(limit), base, factors, field)
}

/// The lines for the chosen riders, in the order chosen. `main_lines` are the main coverages
/// already priced, which share-based riders take their share of.
fn rider_lines(
    table: &CommercialTable,
    chosen: &CoverageChoice,
    main_lines: &[PremiumLine],
    commercial_factors: &[Factor],
) -> Vec<Result<PremiumLine, PricingError>> {
    const FIELD: &str = "coverages.riders";
    let mut seen = HashSet::new();
    let mut results = Vec::new();
    for code in &chosen.riders {
        if !seen.insert(code.as_str()) {
            results.push(Err(error(FIELD, "duplicate_rider", format!("the rider {code} is chosen twice"))));
            continue;
        }
        let Some(rider) = table.riders.iter().find(|r| &r.code == code) else {
            results.push(Err(error(FIELD, "unknown_rider", format!("there is no rider {code}"))));
            continue;
        };
        // A rider is an add-on: it is never sold without a commercial main coverage.
        if !chosen.has_commercial_main_coverage() {
            let message = format!("the rider {code} is sold only with a commercial main coverage");
            results.push(Err(error(FIELD, "rider_needs_coverage", message)));
            continue;
        }
        if let RiderBasis::ShareOfCoverage { coverage, .. } = &rider.basis
            && is_chosen(chosen, *coverage)
            && !main_lines.iter().any(|l| l.coverage == *coverage)
        {
            // Its coverage is chosen but refused; that coverage's own error says what to fix.
            continue;
        }
        results.push(rider_line(rider, main_lines, commercial_factors));
    }
    results
}

fn rider_line(
    rider: &Rider,
    main_lines: &[PremiumLine],
    commercial_factors: &[Factor],
) -> Result<PremiumLine, PricingError> {
    const FIELD: &str = "coverages.riders";
    match &rider.basis {
        RiderBasis::Fixed { base_premium } => {
            line(CoverageKind::Rider, &rider.code, None, *base_premium, commercial_factors, FIELD)
        }
        RiderBasis::ShareOfCoverage { coverage, rate } => {
            let Some(shared) = main_lines.iter().find(|l| l.coverage == *coverage) else {
                let message = format!("the rider {} needs {coverage} cover, which is not chosen", rider.code);
                return Err(error(FIELD, "rider_needs_coverage", message));
            };
            // The share already carries the shared line's NCD factor and coefficient.
            let base = shared.premium.checked_mul(*rate).map(round_to_fen).ok_or_else(|| out_of_range(FIELD))?;
            line(CoverageKind::Rider, &rider.code, None, base, &[], FIELD)
        }
    }
}

fn is_chosen(chosen: &CoverageChoice, coverage: CoverageKind) -> bool {
    match coverage {
        CoverageKind::Compulsory => chosen.compulsory,
        CoverageKind::VehicleDamage => chosen.vehicle_damage,
        CoverageKind::ThirdParty => chosen.third_party_limit.is_some(),
        CoverageKind::Driver => chosen.driver_limit.is_some(),
        CoverageKind::Passenger => chosen.passenger_limit.is_some(),
        CoverageKind::Rider => false,
    }
}

/// Sums the rounded lines: compulsory on its own, everything else as commercial.
fn totals(lines: Vec<PremiumLine>) -> Result<Premium, PricingError> {
    let sum = |compulsory: bool| {
        lines
            .iter()
            .filter(|l| (l.coverage == CoverageKind::Compulsory) == compulsory)
            .try_fold(Decimal::new(0, 2), |total, l| total.checked_add(l.premium))
    };
    let too_large = || out_of_range("coverages");
    let compulsory_total = sum(true).ok_or_else(too_large)?;
    let commercial_total = sum(false).ok_or_else(too_large)?;
    let total = compulsory_total.checked_add(commercial_total).ok_or_else(too_large)?;
    Ok(Premium { lines, compulsory_total, commercial_total, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).expect("test decimal")
    }

    fn date(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test date")
    }

    /// A 5-seat car first registered 2024-03-15, cover from 2026-11-23 (32 months later), new-car
    /// price 200000.00, claim-free for a year, NCD level 0 (1.0), coefficient 1.0, nothing chosen.
    fn input() -> PricingInput {
        PricingInput {
            vehicle: Vehicle { first_registration: date(2024, 3, 15), new_car_price: d("200000.00"), seats: 5 },
            start_date: date(2026, 11, 23),
            accident_history: AccidentHistory::ClaimFree1Year,
            ncd_level: 0,
            pricing_coefficient: d("1.0"),
            coverages: CoverageChoice::default(),
        }
    }

    fn priced(input: &PricingInput) -> Premium {
        price(&RatingTables::defaults(), input).expect("the input prices")
    }

    fn refused(input: &PricingInput) -> Vec<(String, &'static str)> {
        let errors = price(&RatingTables::defaults(), input).expect_err("the input is refused");
        errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    fn refusal(field: &str, code: &'static str) -> (String, &'static str) {
        (field.to_string(), code)
    }

    fn line<'a>(premium: &'a Premium, code: &str) -> &'a PremiumLine {
        premium.lines.iter().find(|l| l.code == code).expect("a line with that code")
    }

    fn factor_values(line: &PremiumLine) -> Vec<(&str, Decimal)> {
        line.factors.iter().map(|f| (f.name.as_str(), f.value)).collect()
    }

    // --- compulsory -----------------------------------------------------------------------------

    #[test]
    fn compulsory_for_a_small_car_is_950_times_the_floating_factor() {
        let mut input = input();
        input.coverages.compulsory = true;
        let premium = priced(&input);
        let compulsory = line(&premium, "compulsory");
        // 950 × 0.9 (claim-free 1 year) = 855.00
        assert_eq!(compulsory.base_premium, d("950"));
        assert_eq!(factor_values(compulsory), [("floating", d("0.9"))]);
        assert_eq!(compulsory.premium, d("855.00"));
        assert_eq!(compulsory.sum_insured, None);
        assert_eq!(
            (premium.compulsory_total, premium.commercial_total, premium.total),
            (d("855.00"), d("0"), d("855.00"))
        );
    }

    #[test]
    fn compulsory_for_6_seats_or_more_uses_the_larger_base() {
        let mut input = input();
        input.coverages.compulsory = true;
        input.accident_history = AccidentHistory::NewOrNoRecord;
        input.vehicle.seats = 6;
        // 1100 × 1.0 = 1100.00
        assert_eq!(priced(&input).total, d("1100.00"));
        input.vehicle.seats = 5;
        // 950 × 1.0 = 950.00
        assert_eq!(priced(&input).total, d("950.00"));
    }

    #[test]
    fn compulsory_floating_factor_follows_each_accident_history() {
        let mut input = input();
        input.coverages.compulsory = true;
        input.vehicle.seats = 7;
        let expected = [
            (AccidentHistory::ClaimFree1Year, "990.00"),        // 1100 × 0.9
            (AccidentHistory::ClaimFree2Years, "880.00"),       // 1100 × 0.8
            (AccidentHistory::ClaimFree3YearsOrMore, "770.00"), // 1100 × 0.7
            (AccidentHistory::NewOrNoRecord, "1100.00"),        // 1100 × 1.0
            (AccidentHistory::OneAtFaultNoDeath, "1100.00"),    // 1100 × 1.0
            (AccidentHistory::TwoOrMoreAtFault, "1210.00"),     // 1100 × 1.1
            (AccidentHistory::AtFaultWithDeath, "1430.00"),     // 1100 × 1.3
        ];
        for (history, premium) in expected {
            input.accident_history = history;
            assert_eq!(priced(&input).compulsory_total, d(premium), "{history:?}");
        }
    }

    #[test]
    fn compulsory_takes_no_ncd_or_pricing_coefficient() {
        let mut input = input();
        input.coverages.compulsory = true;
        input.ncd_level = 5;
        input.pricing_coefficient = d("1.5");
        // Still 950 × 0.9 = 855.00: NCD 2.0 and coefficient 1.5 are commercial only.
        assert_eq!(priced(&input).total, d("855.00"));
    }

    #[test]
    fn amounts_always_carry_two_decimals() {
        let mut input = input();
        input.coverages.compulsory = true;
        let premium = priced(&input);
        let compulsory = line(&premium, "compulsory");
        assert_eq!(compulsory.base_premium.to_string(), "950.00");
        assert_eq!(compulsory.premium.to_string(), "855.00");
        assert_eq!(premium.commercial_total.to_string(), "0.00");
        assert_eq!(premium.total.to_string(), "855.00");
    }

    // --- vehicle damage -------------------------------------------------------------------------

    #[test]
    fn vehicle_damage_depreciates_the_price_then_applies_ncd_and_coefficient() {
        let mut input = input();
        input.coverages.vehicle_damage = true;
        input.ncd_level = -1;
        let premium = priced(&input);
        let damage = line(&premium, "vehicle_damage");
        // 2024-03-15 → 2026-11-23 is 32 months; 32 × 0.006 = 0.192
        // sum insured 200000.00 × (1 − 0.192) = 161600.00
        assert_eq!(damage.sum_insured, Some(d("161600.00")));
        // base 500 + 161600.00 × 0.0110 = 500 + 1777.60 = 2277.60
        assert_eq!(damage.base_premium, d("2277.60"));
        // 2277.60 × NCD 0.8 × coefficient 1.0 = 1822.08
        assert_eq!(factor_values(damage), [("ncd", d("0.8")), ("pricing_coefficient", d("1.0"))]);
        assert_eq!(damage.premium, d("1822.08"));
        assert_eq!((premium.compulsory_total, premium.commercial_total), (d("0"), d("1822.08")));
    }

    #[test]
    fn an_agreed_sum_insured_prices_vehicle_damage_within_its_bounds() {
        let tables = RatingTables::defaults();
        let mut input = input();
        input.coverages.vehicle_damage = true;
        let actual = vehicle_damage_sum_insured(&tables.commercial.vehicle_damage, &input.vehicle, input.start_date);
        // Agreed at 90% of the actual value: base = 500 + sum × 1.10%, rounded, then × NCD × coefficient.
        let agreed = round_to_fen(actual * d("0.9"));
        input.coverages.vehicle_damage_sum_insured = Some(agreed);
        let premium = price(&tables, &input).expect("priced");
        let damage = premium.lines.iter().find(|l| l.coverage == CoverageKind::VehicleDamage).expect("damage line");
        assert_eq!(damage.sum_insured, Some(agreed));
        assert_eq!(damage.base_premium, round_to_fen(d("500") + agreed * d("0.011")));
        for (value, code) in
            [(actual + d("0.01"), "above_actual_value"), (round_to_fen(actual * d("0.69")), "below_agreed_floor")]
        {
            input.coverages.vehicle_damage_sum_insured = Some(value);
            let problems = price(&tables, &input).expect_err("refused");
            assert!(
                problems.iter().any(|p| p.code == code && p.field == "coverages.vehicle_damage_sum_insured"),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn depreciation_stops_at_80_percent() {
        let table = RatingTables::defaults().commercial.vehicle_damage;
        let car = |registered| Vehicle { first_registration: registered, new_car_price: d("200000.00"), seats: 5 };
        let on = date(2026, 11, 23);
        // 133 months × 0.006 = 0.798, under the cap: 200000.00 × 0.202 = 40400.00
        assert_eq!(vehicle_age_months(date(2015, 10, 23), on), 133);
        assert_eq!(vehicle_damage_sum_insured(&table, &car(date(2015, 10, 23)), on), d("40400.00"));
        // 134 months × 0.006 = 0.804, capped at 0.8: 200000.00 × 0.2 = 40000.00
        assert_eq!(vehicle_damage_sum_insured(&table, &car(date(2015, 9, 23)), on), d("40000.00"));
        // 137 months: still 40000.00
        assert_eq!(vehicle_depreciation(&table, &car(date(2015, 6, 10)), on), d("0.8"));
        assert_eq!(vehicle_damage_sum_insured(&table, &car(date(2015, 6, 10)), on), d("40000.00"));

        let mut input = input();
        input.vehicle.first_registration = date(2015, 6, 10);
        input.coverages.vehicle_damage = true;
        // base 500 + 40000.00 × 0.0110 = 940.00; × 1.0 × 1.0 = 940.00
        assert_eq!(line(&priced(&input), "vehicle_damage").premium, d("940.00"));
    }

    #[test]
    fn sum_insured_is_rounded_half_up_to_the_fen() {
        let table = RatingTables::defaults().commercial.vehicle_damage;
        let car = Vehicle { first_registration: date(2026, 1, 10), new_car_price: d("123456.78"), seats: 5 };
        // 1 month: 123456.78 × 0.994 = 122716.03932 → 122716.04
        assert_eq!(vehicle_damage_sum_insured(&table, &car, date(2026, 2, 10)), d("122716.04"));
        // registered the day cover starts: no depreciation
        assert_eq!(vehicle_damage_sum_insured(&table, &car, date(2026, 1, 10)), d("123456.78"));
    }

    #[test]
    fn months_count_only_once_the_day_of_month_is_reached() {
        assert_eq!(vehicle_age_months(date(2024, 3, 15), date(2026, 11, 23)), 32);
        assert_eq!(vehicle_age_months(date(2024, 3, 15), date(2026, 11, 14)), 31);
        assert_eq!(vehicle_age_months(date(2024, 3, 15), date(2026, 11, 15)), 32);
        // 31 Jan → 28 Feb: the 31st has not come round again
        assert_eq!(vehicle_age_months(date(2025, 1, 31), date(2025, 2, 28)), 0);
        assert_eq!(vehicle_age_months(date(2025, 1, 31), date(2025, 3, 1)), 1);
        assert_eq!(vehicle_age_months(date(2025, 1, 31), date(2025, 3, 31)), 2);
        // leap day: 29 Feb 2024 → 28 Feb 2025 is 11 months, → 1 Mar 2025 is 12
        assert_eq!(vehicle_age_months(date(2024, 2, 29), date(2025, 2, 28)), 11);
        assert_eq!(vehicle_age_months(date(2024, 2, 29), date(2025, 3, 1)), 12);
        assert_eq!(vehicle_age_months(date(2024, 1, 29), date(2024, 2, 29)), 1);
        // across a year end
        assert_eq!(vehicle_age_months(date(2025, 12, 1), date(2026, 1, 1)), 1);
        // before registration: no age, never a negative one
        assert_eq!(vehicle_age_months(date(2026, 5, 1), date(2026, 4, 1)), 0);
    }

    // --- third party, driver, passenger ---------------------------------------------------------

    #[test]
    fn third_party_uses_the_base_premium_of_the_chosen_limit() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("1000000"));
        input.ncd_level = 1;
        input.pricing_coefficient = d("1.1");
        let premium = priced(&input);
        let third_party = line(&premium, "third_party");
        // 1630 × NCD 1.2 × coefficient 1.1 = 2151.60
        assert_eq!(third_party.sum_insured, Some(d("1000000")));
        assert_eq!(third_party.base_premium, d("1630"));
        assert_eq!(third_party.premium, d("2151.60"));
        assert_eq!(premium.commercial_total, d("2151.60"));
    }

    #[test]
    fn a_limit_written_with_decimals_matches_the_table() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("200000.00"));
        // 920 × 1.0 × 1.0 = 920.00
        assert_eq!(priced(&input).total, d("920.00"));
    }

    #[test]
    fn third_party_limit_not_in_the_table_is_refused() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("250000"));
        assert_eq!(refused(&input), [refusal("coverages.third_party_limit", "unknown_limit")]);
    }

    #[test]
    fn driver_liability_is_the_per_seat_limit_times_the_driver_rate() {
        let mut input = input();
        input.coverages.driver_limit = Some(d("50000"));
        input.ncd_level = -2;
        let premium = priced(&input);
        let driver = line(&premium, "driver");
        // base 50000 × 0.0042 = 210.00; × NCD 0.7 × 1.0 = 147.00
        assert_eq!(driver.base_premium, d("210.00"));
        assert_eq!(driver.sum_insured, Some(d("50000")));
        assert_eq!(driver.premium, d("147.00"));
    }

    #[test]
    fn passenger_liability_covers_every_seat_but_the_drivers() {
        let mut input = input();
        input.coverages.passenger_limit = Some(d("20000"));
        input.pricing_coefficient = d("0.8");
        let premium = priced(&input);
        let passenger = line(&premium, "passenger");
        // 5 seats → 4 passenger seats; base 20000 × 0.0027 × 4 = 216.00; × 1.0 × 0.8 = 172.80
        assert_eq!(passenger.base_premium, d("216.00"));
        assert_eq!(passenger.premium, d("172.80"));
        input.vehicle.seats = 7;
        // 6 passenger seats: 20000 × 0.0027 × 6 = 324.00; × 0.8 = 259.20
        assert_eq!(priced(&input).total, d("259.20"));
    }

    #[test]
    fn seat_limits_must_be_one_the_table_offers() {
        let mut input = input();
        input.coverages.driver_limit = Some(d("30000"));
        input.coverages.passenger_limit = Some(d("15000"));
        assert_eq!(
            refused(&input),
            [refusal("coverages.driver_limit", "unknown_limit"), refusal("coverages.passenger_limit", "unknown_limit")]
        );
    }

    #[test]
    fn a_one_seat_vehicle_has_no_passengers_to_cover() {
        let mut input = input();
        input.vehicle.seats = 1;
        input.coverages.passenger_limit = Some(d("10000"));
        assert_eq!(refused(&input), [refusal("coverages.passenger_limit", "no_passenger_seats")]);
        input.coverages.passenger_limit = None;
        input.coverages.driver_limit = Some(d("10000"));
        // the driver's seat is still covered: 10000 × 0.0042 = 42.00
        assert_eq!(priced(&input).total, d("42.00"));
    }

    // --- NCD and pricing coefficient ------------------------------------------------------------

    #[test]
    fn each_ncd_level_applies_its_factor() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("100000"));
        let expected = [
            (-4, "380.00"), // 760 × 0.5
            (-3, "456.00"), // 760 × 0.6
            (-2, "532.00"), // 760 × 0.7
            (-1, "608.00"), // 760 × 0.8
            (0, "760.00"),  // 760 × 1.0
            (1, "912.00"),  // 760 × 1.2
            (2, "1064.00"), // 760 × 1.4
            (3, "1216.00"), // 760 × 1.6
            (4, "1368.00"), // 760 × 1.8
            (5, "1520.00"), // 760 × 2.0
        ];
        for (level, premium) in expected {
            input.ncd_level = level;
            assert_eq!(priced(&input).total, d(premium), "level {level}");
        }
    }

    #[test]
    fn pricing_coefficient_multiplies_every_commercial_line() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("100000"));
        input.coverages.driver_limit = Some(d("10000"));
        input.pricing_coefficient = d("0.5");
        let premium = priced(&input);
        // third party 760 × 1.0 × 0.5 = 380.00; driver 10000 × 0.0042 = 42.00 × 0.5 = 21.00
        assert_eq!(line(&premium, "third_party").premium, d("380.00"));
        assert_eq!(line(&premium, "driver").premium, d("21.00"));
        // 380.00 + 21.00 = 401.00
        assert_eq!(premium.commercial_total, d("401.00"));
    }

    #[test]
    fn coefficient_bounds_are_inclusive() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("100000"));
        input.pricing_coefficient = d("1.5");
        // 760 × 1.5 = 1140.00
        assert_eq!(priced(&input).total, d("1140.00"));
        input.pricing_coefficient = d("0.5");
        assert_eq!(priced(&input).total, d("380.00"));
    }

    #[test]
    fn coefficient_outside_the_bounds_is_refused_naming_them() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("100000"));
        for coefficient in ["0.49", "1.51"] {
            input.pricing_coefficient = d(coefficient);
            let errors = price(&RatingTables::defaults(), &input).expect_err("out of range");
            assert_eq!(errors.len(), 1);
            assert_eq!((errors[0].field.as_str(), errors[0].code), ("pricing_coefficient", "coefficient_out_of_range"));
            assert_eq!(errors[0].message, format!("the pricing coefficient {coefficient} is outside 0.5 to 1.5"));
        }
    }

    // --- riders ---------------------------------------------------------------------------------

    #[test]
    fn fixed_rider_takes_ncd_and_coefficient() {
        let mut input = input();
        input.coverages.vehicle_damage = true;
        input.coverages.riders = vec!["wheel".into()];
        input.ncd_level = -1;
        input.pricing_coefficient = d("0.9");
        let premium = priced(&input);
        let wheel = line(&premium, "wheel");
        // 180 × NCD 0.8 × coefficient 0.9 = 129.60
        assert_eq!(wheel.coverage, CoverageKind::Rider);
        assert_eq!(wheel.base_premium, d("180"));
        assert_eq!(wheel.premium, d("129.60"));
    }

    #[test]
    fn share_rider_is_a_share_of_its_coverage_without_ncd_again() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("1000000"));
        input.coverages.riders = vec!["medical_extra".into()];
        input.ncd_level = -1;
        input.pricing_coefficient = d("0.9");
        let premium = priced(&input);
        // third party 1630 × 0.8 × 0.9 = 1173.60
        assert_eq!(line(&premium, "third_party").premium, d("1173.60"));
        // rider 1173.60 × 0.05 = 58.68, and not × 0.8 × 0.9 again (that would be 42.25)
        let rider = line(&premium, "medical_extra");
        assert_eq!(rider.base_premium, d("58.68"));
        assert!(rider.factors.is_empty());
        assert_eq!(rider.premium, d("58.68"));
        // 1173.60 + 58.68 = 1232.28
        assert_eq!(premium.commercial_total, d("1232.28"));
    }

    #[test]
    fn share_rider_without_its_coverage_is_refused() {
        let mut input = input();
        input.coverages.vehicle_damage = true;
        input.coverages.riders = vec!["medical_extra".into()];
        assert_eq!(refused(&input), [refusal("coverages.riders", "rider_needs_coverage")]);
    }

    #[test]
    fn share_rider_on_a_refused_coverage_reports_only_the_coverage() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("250000"));
        input.coverages.riders = vec!["medical_extra".into()];
        assert_eq!(refused(&input), [refusal("coverages.third_party_limit", "unknown_limit")]);
    }

    #[test]
    fn rider_without_any_commercial_main_coverage_is_refused() {
        let mut input = input();
        input.coverages.compulsory = true;
        input.coverages.riders = vec!["wheel".into()];
        assert_eq!(refused(&input), [refusal("coverages.riders", "rider_needs_coverage")]);
    }

    #[test]
    fn unknown_and_repeated_riders_are_refused() {
        let mut input = input();
        input.coverages.vehicle_damage = true;
        input.coverages.riders = vec!["glass".into(), "wheel".into(), "wheel".into()];
        assert_eq!(
            refused(&input),
            [refusal("coverages.riders", "unknown_rider"), refusal("coverages.riders", "duplicate_rider")]
        );
    }

    // --- whole policies and rounding ------------------------------------------------------------

    #[test]
    fn policy_with_every_coverage_adds_up_line_by_line() {
        let mut input = input();
        input.ncd_level = -1; // 0.8
        input.pricing_coefficient = d("0.9"); // NCD × coefficient = 0.72
        input.coverages = CoverageChoice {
            compulsory: true,
            vehicle_damage: true,
            third_party_limit: Some(d("1000000")),
            driver_limit: Some(d("20000")),
            passenger_limit: Some(d("10000")),
            riders: vec!["wheel".into(), "medical_extra".into(), "repair_period".into()],
            vehicle_damage_sum_insured: None,
        };
        let premium = priced(&input);
        let premiums: Vec<(&str, Decimal)> = premium.lines.iter().map(|l| (l.code.as_str(), l.premium)).collect();
        assert_eq!(
            premiums,
            [
                ("compulsory", d("855.00")),      // 950 × 0.9
                ("vehicle_damage", d("1639.87")), // (500 + 161600.00 × 0.0110) = 2277.60 × 0.72 = 1639.872
                ("third_party", d("1173.60")),    // 1630 × 0.72
                ("driver", d("60.48")),           // 20000 × 0.0042 = 84.00 × 0.72
                ("passenger", d("77.76")),        // 10000 × 0.0027 × 4 = 108.00 × 0.72
                ("wheel", d("129.60")),           // 180 × 0.72
                ("medical_extra", d("58.68")),    // 1173.60 × 0.05
                ("repair_period", d("86.40")),    // 120 × 0.72
            ]
        );
        // 1639.87 + 1173.60 + 60.48 + 77.76 + 129.60 + 58.68 + 86.40 = 3226.39
        assert_eq!(premium.compulsory_total, d("855.00"));
        assert_eq!(premium.commercial_total, d("3226.39"));
        // 855.00 + 3226.39 = 4081.39
        assert_eq!(premium.total, d("4081.39"));
    }

    #[test]
    fn every_line_is_its_base_times_its_factors() {
        let mut input = input();
        input.ncd_level = 2;
        input.pricing_coefficient = d("1.17");
        input.coverages = CoverageChoice {
            compulsory: true,
            vehicle_damage: true,
            third_party_limit: Some(d("3000000")),
            driver_limit: Some(d("100000")),
            passenger_limit: Some(d("50000")),
            riders: vec!["wheel".into(), "medical_extra".into(), "repair_period".into()],
            vehicle_damage_sum_insured: None,
        };
        for line in priced(&input).lines {
            let product = line.factors.iter().fold(line.base_premium, |amount, f| amount * f.value);
            assert_eq!(line.premium, round_to_fen(product), "{}", line.code);
        }
    }

    #[test]
    fn each_line_is_rounded_half_up_before_the_lines_are_summed() {
        let mut input = input();
        input.ncd_level = -2; // 0.7
        input.pricing_coefficient = d("0.745");
        input.coverages.third_party_limit = Some(d("1000000"));
        input.coverages.driver_limit = Some(d("50000"));
        let premium = priced(&input);
        // third party 1630 × 0.7 × 0.745 = 850.045 → 850.05 (half-up; half-even would give 850.04)
        assert_eq!(line(&premium, "third_party").premium, d("850.05"));
        // driver 50000 × 0.0042 = 210.00; × 0.7 × 0.745 = 109.515 → 109.52
        assert_eq!(line(&premium, "driver").premium, d("109.52"));
        // 850.05 + 109.52 = 959.57, where rounding the unrounded sum 959.560 would give 959.56
        assert_eq!(premium.commercial_total, d("959.57"));
    }

    // --- input checks ---------------------------------------------------------------------------

    #[test]
    fn seats_must_be_1_to_60() {
        let mut input = input();
        input.coverages.compulsory = true;
        for seats in [0, 61] {
            input.vehicle.seats = seats;
            assert_eq!(refused(&input), [refusal("vehicle.seats", "seats_out_of_range")]);
        }
        for seats in [1, 60] {
            input.vehicle.seats = seats;
            assert!(price(&RatingTables::defaults(), &input).is_ok(), "{seats} seats");
        }
    }

    #[test]
    fn new_car_price_must_be_positive_and_whole_fen() {
        let mut input = input();
        input.coverages.vehicle_damage = true;
        for bad in ["0", "-1.00"] {
            input.vehicle.new_car_price = d(bad);
            assert_eq!(refused(&input), [refusal("vehicle.new_car_price", "not_positive")]);
        }
        input.vehicle.new_car_price = d("200000.001");
        assert_eq!(refused(&input), [refusal("vehicle.new_car_price", "too_precise")]);
        // trailing zeros are not extra precision
        input.vehicle.new_car_price = d("200000.000");
        assert!(price(&RatingTables::defaults(), &input).is_ok());
    }

    #[test]
    fn first_registration_may_not_be_after_the_start_of_cover() {
        let mut input = input();
        input.coverages.compulsory = true;
        input.vehicle.first_registration = date(2026, 11, 24);
        assert_eq!(refused(&input), [refusal("vehicle.first_registration", "registered_after_start")]);
        // a new car registered the day cover starts is fine
        input.vehicle.first_registration = date(2026, 11, 23);
        assert!(price(&RatingTables::defaults(), &input).is_ok());
    }

    #[test]
    fn ncd_level_must_be_in_the_table() {
        let mut input = input();
        input.coverages.third_party_limit = Some(d("100000"));
        input.ncd_level = 6;
        let errors = price(&RatingTables::defaults(), &input).expect_err("unknown level");
        assert_eq!((errors[0].field.as_str(), errors[0].code), ("ncd_level", "unknown_ncd_level"));
        assert_eq!(errors[0].message, "NCD level 6 is not in the table; the table has -4 to 5");
    }

    #[test]
    fn a_quote_must_choose_some_coverage() {
        assert_eq!(refused(&input()), [refusal("coverages", "no_coverage")]);
    }

    #[test]
    fn a_history_missing_from_the_table_is_refused() {
        let mut tables = RatingTables::defaults();
        tables.compulsory.floating_factors.retain(|f| f.history != AccidentHistory::AtFaultWithDeath);
        let mut input = input();
        input.coverages.compulsory = true;
        input.accident_history = AccidentHistory::AtFaultWithDeath;
        let errors = price(&tables, &input).expect_err("no factor");
        assert_eq!((errors[0].field.as_str(), errors[0].code), ("accident_history", "unknown_accident_history"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut input = input();
        input.vehicle.seats = 0;
        input.vehicle.new_car_price = d("0");
        input.vehicle.first_registration = date(2027, 1, 1);
        input.ncd_level = 9;
        input.pricing_coefficient = d("2");
        input.coverages.third_party_limit = Some(d("123"));
        input.coverages.riders = vec!["glass".into()];
        assert_eq!(
            refused(&input),
            [
                refusal("vehicle.seats", "seats_out_of_range"),
                refusal("vehicle.new_car_price", "not_positive"),
                refusal("vehicle.first_registration", "registered_after_start"),
                refusal("ncd_level", "unknown_ncd_level"),
                refusal("pricing_coefficient", "coefficient_out_of_range"),
                refusal("coverages.third_party_limit", "unknown_limit"),
                refusal("coverages.riders", "unknown_rider"),
            ]
        );
    }

    #[test]
    fn a_premium_too_large_for_decimal_is_refused_not_a_panic() {
        let mut tables = RatingTables::defaults();
        tables.commercial.ncd_levels[4].factor = Decimal::MAX;
        let mut input = input();
        input.coverages.third_party_limit = Some(d("10000000"));
        let errors = price(&tables, &input).expect_err("overflow");
        assert_eq!(errors[0].code, "amount_out_of_range");
    }

    // --- the tables as data ---------------------------------------------------------------------

    #[test]
    fn default_tables_survive_a_json_round_trip_exactly() {
        let tables = RatingTables::defaults();
        let json = serde_json::to_string(&tables).expect("serialises");
        // Decimals travel as strings, keeping every digit (and the scale) as written.
        assert!(json.contains(r#""rate":"0.0110""#), "{json}");
        assert!(json.contains(r#""history":"claim_free_3_years_or_more","factor":"0.7""#), "{json}");
        assert!(json.contains(r#""basis":{"kind":"share_of_coverage","coverage":"third_party","rate":"0.05"}"#));
        let back: RatingTables = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, tables);
        assert_eq!(serde_json::to_string(&back).expect("serialises again"), json);
    }

    #[test]
    fn a_misspelt_table_field_is_refused_when_read() {
        let json = serde_json::to_string(&RatingTables::defaults()).expect("serialises");
        let misspelt = json.replace("\"driver_rate\"", "\"drivr_rate\"");
        assert!(serde_json::from_str::<RatingTables>(&misspelt).is_err());
    }

    #[test]
    fn default_tables_are_valid() {
        assert_eq!(RatingTables::defaults().validate(), Ok(()));
    }

    fn problem_paths(tables: &RatingTables) -> Vec<String> {
        tables.validate().expect_err("the table has problems").into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn validate_refuses_factors_of_zero_or_less() {
        let mut tables = RatingTables::defaults();
        tables.compulsory.floating_factors[2].factor = d("0");
        tables.commercial.ncd_levels[9].factor = d("-1");
        assert_eq!(
            problem_paths(&tables),
            ["compulsory.floating_factors[2].factor", "commercial.ncd_levels[9].factor"]
        );
    }

    #[test]
    fn validate_wants_each_accident_history_exactly_once() {
        let mut tables = RatingTables::defaults();
        tables.compulsory.floating_factors[6].history = AccidentHistory::ClaimFree1Year;
        assert_eq!(problem_paths(&tables), ["compulsory.floating_factors[6].history", "compulsory.floating_factors"]);
        let problems = tables.validate().expect_err("problems");
        assert_eq!(problems[1].message, "no factor for at_fault_with_death");
    }

    #[test]
    fn validate_wants_third_party_limits_ascending_and_unique() {
        let mut tables = RatingTables::defaults();
        tables.commercial.third_party_limits[3].limit = d("150000");
        let problems = tables.validate().expect_err("problems");
        assert_eq!(problems[0].path, "commercial.third_party_limits[3].limit");
        assert_eq!(problems[0].message, "150000 is not above the limit before it, 200000");

        let mut tables = RatingTables::defaults();
        tables.commercial.third_party_limits[3].limit = d("200000.00");
        let problems = tables.validate().expect_err("problems");
        assert_eq!(problems[0].path, "commercial.third_party_limits[3].limit");
        assert_eq!(problems[0].message, "200000.00 is listed twice");
    }

    #[test]
    fn validate_wants_seat_limits_ascending_and_positive() {
        let mut tables = RatingTables::defaults();
        tables.commercial.seat_limits[0] = d("0");
        tables.commercial.seat_limits[3] = d("20000");
        assert_eq!(problem_paths(&tables), ["commercial.seat_limits[0]", "commercial.seat_limits[3]"]);
    }

    #[test]
    fn validate_wants_money_positive_and_in_whole_fen() {
        let mut tables = RatingTables::defaults();
        tables.compulsory.base_premium_under_6_seats = d("950.001");
        tables.compulsory.not_at_fault_limits.property = d("0");
        tables.commercial.third_party_limits[0].base_premium = d("-760");
        assert_eq!(
            problem_paths(&tables),
            [
                "compulsory.base_premium_under_6_seats",
                "compulsory.not_at_fault_limits.property",
                "commercial.third_party_limits[0].base_premium",
            ]
        );
    }

    #[test]
    fn validate_refuses_negative_rates() {
        let mut tables = RatingTables::defaults();
        tables.commercial.vehicle_damage.rate = d("-0.011");
        tables.commercial.vehicle_damage.depreciation_per_month = d("-0.006");
        tables.commercial.driver_rate = d("-0.0042");
        tables.commercial.passenger_rate = d("-0.0027");
        assert_eq!(
            problem_paths(&tables),
            [
                "commercial.vehicle_damage.rate",
                "commercial.vehicle_damage.depreciation_per_month",
                "commercial.driver_rate",
                "commercial.passenger_rate",
            ]
        );
    }

    #[test]
    fn validate_wants_max_depreciation_from_0_up_to_but_not_1() {
        let mut tables = RatingTables::defaults();
        for bad in ["1", "-0.1"] {
            tables.commercial.vehicle_damage.max_depreciation = d(bad);
            assert_eq!(problem_paths(&tables), ["commercial.vehicle_damage.max_depreciation"]);
        }
        tables.commercial.vehicle_damage.max_depreciation = d("0");
        assert_eq!(tables.validate(), Ok(()));
    }

    #[test]
    fn validate_wants_ncd_levels_unique_and_level_0_present() {
        let mut tables = RatingTables::defaults();
        tables.commercial.ncd_levels[4].level = -1;
        assert_eq!(problem_paths(&tables), ["commercial.ncd_levels[4].level", "commercial.ncd_levels"]);
    }

    #[test]
    fn validate_wants_the_coefficient_range_the_right_way_round() {
        let mut tables = RatingTables::defaults();
        tables.commercial.pricing_coefficient = CoefficientBounds { min: d("1.2"), max: d("0.8") };
        assert_eq!(problem_paths(&tables), ["commercial.pricing_coefficient.max"]);
        tables.commercial.pricing_coefficient = CoefficientBounds { min: d("0"), max: d("1") };
        assert_eq!(problem_paths(&tables), ["commercial.pricing_coefficient.min"]);
        tables.commercial.pricing_coefficient = CoefficientBounds { min: d("1"), max: d("1") };
        assert_eq!(tables.validate(), Ok(()));
    }

    #[test]
    fn validate_wants_rider_codes_present_and_unique() {
        let mut tables = RatingTables::defaults();
        tables.commercial.riders[0].code = " ".into();
        tables.commercial.riders[2].code = "medical_extra".into();
        tables.commercial.riders[2].name_en = String::new();
        assert_eq!(
            problem_paths(&tables),
            ["commercial.riders[0].code", "commercial.riders[2].code", "commercial.riders[2].name_en"]
        );
    }

    #[test]
    fn validate_wants_share_riders_on_a_commercial_main_coverage() {
        let mut tables = RatingTables::defaults();
        tables.commercial.riders[1].basis =
            RiderBasis::ShareOfCoverage { coverage: CoverageKind::Rider, rate: d("-0.05") };
        tables.commercial.riders[2].basis = RiderBasis::Fixed { base_premium: d("120.005") };
        assert_eq!(
            problem_paths(&tables),
            [
                "commercial.riders[1].basis.rate",
                "commercial.riders[1].basis.coverage",
                "commercial.riders[2].basis.base_premium",
            ]
        );
    }
}

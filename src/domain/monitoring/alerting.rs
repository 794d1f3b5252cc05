//! Alerts raised from a dealer's figures against its thresholds.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::compute::{Band, Bands, Figures};

/// Per-dealer thresholds; defaults from DOMAIN.md (target loss ratio 0.75 from the 2020 reform; VCR bands 0.91/0.94).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub target_loss_ratio: Decimal,
    pub bands: Bands,
    /// How many consecutive monthly rises make a trend worth flagging; 0 disables the alert.
    pub rising_months: usize,
    /// Alert when more than this many claims are overdue.
    pub overdue_claims: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            target_loss_ratio: Decimal::new(75, 2),
            bands: Bands::default(),
            rising_months: 3,
            overdue_claims: 0,
        }
    }
}

impl Thresholds {
    /// What is wrong with thresholds a channel manager sets: ratios above 0 and at most 5, danger above warning, a
    /// rising trend of at most 12 months.
    pub fn problems(&self) -> Vec<crate::domain::problem::Problem> {
        use crate::domain::problem::Problem;
        let mut problems = Vec::new();
        let ratio = |d: Decimal| d > Decimal::ZERO && d <= Decimal::from(5);
        if !ratio(self.target_loss_ratio) {
            problems.push(Problem::new(
                "target_loss_ratio",
                "out_of_range",
                "a loss ratio above 0 and at most 5, e.g. 0.75",
            ));
        }
        if !ratio(self.bands.warning_above) || !ratio(self.bands.danger_above) {
            problems.push(Problem::new("bands", "out_of_range", "ratios above 0 and at most 5, e.g. 0.91 and 0.94"));
        } else if self.bands.warning_above >= self.bands.danger_above {
            problems.push(Problem::new("bands.danger_above", "not_above_warning", "danger starts above warning"));
        }
        if !ratio(self.bands.upside_down_above) {
            problems.push(Problem::new(
                "bands.upside_down_above",
                "out_of_range",
                "a repair-referral ratio above 0 and at most 5, e.g. 1",
            ));
        }
        if self.rising_months > 12 {
            problems.push(Problem::new("rising_months", "out_of_range", "0 (off) to 12 months"));
        }
        problems
    }
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    LossRatioAboveTarget,
    VariableCostWarning,
    VariableCostDanger,
    UpsideDown,
    LossRatioAbove100,
    OverdueClaims,
    LossRatioRising,
}

/// One alert, self-explaining so the dashboard and the e-mail need no further lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    /// An English sentence naming the figures and the threshold, e.g. "loss ratio 82.4% is above the target 75.0%".
    pub reason: String,
    /// The figures that triggered it, name → value as string, e.g. {"loss_ratio": "0.824…", "target": "0.75"}.
    pub figures: BTreeMap<String, String>,
}

/// `current` = the figures of the period judged; `recent_months` = monthly figures, oldest first, ending with the
/// latest month (for "rising N months running": the last N+1 monthly loss ratios strictly increase, i.e. it rose
/// N times running; all must be Some).
///
/// The variable-cost band is judged against `thresholds.bands`, since thresholds are per dealer; it equals
/// `current.band` whenever the figures were computed with the same bands. Alerts come out in `AlertKind` order.
pub fn alerts(current: &Figures, recent_months: &[Figures], thresholds: &Thresholds) -> Vec<Alert> {
    let mut out = Vec::new();

    if let Some(loss_ratio) = current.loss_ratio
        && loss_ratio > thresholds.target_loss_ratio
    {
        out.push(alert(
            AlertKind::LossRatioAboveTarget,
            format!("loss ratio {} is above the target {}", percent(loss_ratio), percent(thresholds.target_loss_ratio)),
            [
                ("loss_ratio", loss_ratio.to_string()),
                ("target", thresholds.target_loss_ratio.to_string()),
                ("incurred", current.incurred.to_string()),
                ("earned_premium", current.earned_premium.to_string()),
            ],
        ));
    }

    if let Some(vcr) = current.variable_cost_ratio {
        let bands = &thresholds.bands;
        let figures = |threshold_name: &'static str, threshold: Decimal| {
            [
                ("variable_cost_ratio", vcr.to_string()),
                ("loss_ratio", current.loss_ratio.map(|d| d.to_string()).unwrap_or_default()),
                ("commission_ratio", current.commission_ratio.map(|d| d.to_string()).unwrap_or_default()),
                (threshold_name, threshold.to_string()),
            ]
        };
        match bands.band(vcr) {
            Band::Normal => {}
            Band::Warning => out.push(alert(
                AlertKind::VariableCostWarning,
                format!(
                    "variable cost ratio {} is above the warning threshold {} (danger above {})",
                    percent(vcr),
                    percent(bands.warning_above),
                    percent(bands.danger_above)
                ),
                figures("warning_above", bands.warning_above),
            )),
            Band::Danger => out.push(alert(
                AlertKind::VariableCostDanger,
                format!(
                    "variable cost ratio {} is above the danger threshold {}",
                    percent(vcr),
                    percent(bands.danger_above)
                ),
                figures("danger_above", bands.danger_above),
            )),
        }
    }

    if super::compute::is_upside_down(
        current.referral_value,
        current.written_premium,
        thresholds.bands.upside_down_above,
    ) {
        let ratio = current.referral_ratio.map(percent).unwrap_or_else(|| "—".into());
        out.push(alert(
            AlertKind::UpsideDown,
            format!(
                "repairs referred {} are {ratio} of the premium written {}, above the threshold {}",
                current.referral_value,
                current.written_premium,
                percent(thresholds.bands.upside_down_above)
            ),
            [
                ("referral_value", current.referral_value.to_string()),
                ("written_premium", current.written_premium.to_string()),
                ("referral_ratio", current.referral_ratio.map(|d| d.to_string()).unwrap_or_default()),
                ("threshold", thresholds.bands.upside_down_above.to_string()),
            ],
        ));
    }

    if let Some(loss_ratio) = current.loss_ratio.filter(|ratio| *ratio > Decimal::ONE) {
        out.push(alert(
            AlertKind::LossRatioAbove100,
            format!("loss ratio {} is above 100%: claims cost more than the premium earned", percent(loss_ratio)),
            [
                ("loss_ratio", loss_ratio.to_string()),
                ("incurred", current.incurred.to_string()),
                ("earned_premium", current.earned_premium.to_string()),
            ],
        ));
    }

    if current.overdue_claims > thresholds.overdue_claims {
        out.push(alert(
            AlertKind::OverdueClaims,
            format!(
                "{} of {} open claims are past their service target, more than the {} allowed",
                current.overdue_claims, current.open_claims, thresholds.overdue_claims
            ),
            [
                ("overdue_claims", current.overdue_claims.to_string()),
                ("open_claims", current.open_claims.to_string()),
                ("threshold", thresholds.overdue_claims.to_string()),
            ],
        ));
    }

    if let Some(rising) = rising_alert(recent_months, thresholds.rising_months) {
        out.push(rising);
    }

    out
}

/// The rising-trend alert, when the last `rises + 1` monthly loss ratios are all known and strictly increase.
fn rising_alert(recent_months: &[Figures], rises: usize) -> Option<Alert> {
    if rises == 0 {
        return None;
    }
    let window = recent_months.get(recent_months.len().checked_sub(rises.checked_add(1)?)?..)?;
    let ratios: Vec<Decimal> = window.iter().map(|f| f.loss_ratio).collect::<Option<_>>()?;
    if !ratios.windows(2).all(|pair| pair[0] < pair[1]) {
        return None;
    }
    let trail: Vec<String> = ratios.iter().map(|r| percent(*r)).collect();
    let mut figures = BTreeMap::from([("months".to_string(), rises.to_string())]);
    for (month, ratio) in window.iter().zip(&ratios) {
        figures.insert(format!("loss_ratio_{}", month.period.from.format("%Y-%m")), ratio.to_string());
    }
    Some(Alert {
        kind: AlertKind::LossRatioRising,
        reason: format!("loss ratio rose {rises} months running: {}", trail.join(" → ")),
        figures,
    })
}

fn alert<const N: usize>(kind: AlertKind, reason: String, figures: [(&str, String); N]) -> Alert {
    Alert { kind, reason, figures: figures.into_iter().map(|(k, v)| (k.to_string(), v)).collect() }
}

/// A ratio as a percentage with one decimal, e.g. 0.8245 → "82.5%"; alert readers think in percent.
pub fn percent(ratio: Decimal) -> String {
    match ratio.checked_mul(Decimal::ONE_HUNDRED) {
        Some(pct) => {
            let mut pct = pct.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
            pct.rescale(1);
            format!("{pct}%")
        }
        // Only reachable for ratios near Decimal's limit; say it plainly rather than panic.
        None => format!("{ratio} (as a fraction)"),
    }
}

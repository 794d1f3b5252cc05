//! Per-dealer monitoring: the figures of a period (premium, losses, costs, claims service, renewals) and the alerts
//! they raise. Pure computation over plain facts, so the store and the reports can share one definition.
#![warn(clippy::unwrap_used, clippy::expect_used)]

mod alerting;
mod compute;
mod facts;
mod period;
mod rollup;

pub use alerting::{Alert, AlertKind, Thresholds, alerts, percent};
pub use compute::{
    Band, Bands, ClaimCycle, CycleTimes, Figures, OPEN_STAGES, PremiumDays, Stat, claim_cycle, cycle_stats,
    cycle_times, figures, figures_by_dealer, is_upside_down, loss_ratio_above_100,
};
pub use facts::{
    ClaimFact, CommissionEntry, Facts, Payment, PolicyFact, PremiumEntry, Referral, ReserveMovement, vehicle_key,
};
pub(crate) use period::china_day;
pub use period::{Period, PeriodKind, period_end_at};
pub use rollup::{
    DayKey, DevelopmentDayKey, DevelopmentKey, DevelopmentTotals, LiveClaims, MonthKey, MonthTotals, Rollup, month_of,
};

#[cfg(test)]
mod tests;

//! The service's side of analytics: frames from the database (or a Parquet export), and the
//! service's own settings (periods, service targets, bands) turned into the analytics crate's.

use chrono::{DateTime, Utc};

use crate::domain::claims::ServiceTargets;
use crate::domain::money::rate_to_micros;
use crate::domain::monitoring::{Bands, Period};

/// The analytics crate's parameters for a period, with the service's targets and bands.
pub fn figure_params(
    period: Period,
    now: DateTime<Utc>,
    targets: &ServiceTargets,
    bands: &Bands,
) -> analytics::figures::FigureParams {
    let defaults = analytics::figures::FigureParams::new(period.from, period.to, now);
    analytics::figures::FigureParams {
        target_hours: [targets.register_hours, targets.survey_hours, targets.settle_hours],
        warning_above_micros: rate_to_micros(bands.warning_above).unwrap_or(defaults.warning_above_micros),
        danger_above_micros: rate_to_micros(bands.danger_above).unwrap_or(defaults.danger_above_micros),
        ..defaults
    }
}

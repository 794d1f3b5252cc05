//! The one clock: China Standard Time (UTC+8, no daylight saving), the day policies start and accidents are judged
//! by, and "today" in it.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};

/// UTC+8 in seconds.
const CHINA_OFFSET_SECONDS: i32 = 8 * 3600;

/// China Standard Time.
pub fn china() -> FixedOffset {
    // 8 hours is always a valid offset; the fallback only satisfies the type.
    FixedOffset::east_opt(CHINA_OFFSET_SECONDS).unwrap_or_else(|| Utc.fix())
}

/// The China day an instant falls on.
pub fn china_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china()).date_naive()
}

/// Today in China.
pub fn today() -> NaiveDate {
    china_day(Utc::now())
}

/// 00:00 China time of a day, as UTC.
pub fn start_of_china_day(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (midnight - chrono::Duration::seconds(i64::from(CHINA_OFFSET_SECONDS))).and_utc()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_china_day_starts_at_four_in_the_afternoon_utc_the_day_before() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let start = start_of_china_day(day);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap());
        assert_eq!(china_day(start), day);
        assert_eq!(china_day(start - chrono::Duration::seconds(1)), day.pred_opt().unwrap());
    }
}

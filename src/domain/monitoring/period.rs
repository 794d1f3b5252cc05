//! Reporting periods: half-open ranges of China-local days.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize, Serializer};

/// A reporting period.
///
/// Half-open `[from, to)` so that consecutive periods tile the calendar without
/// double-counting the boundary day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// In answers a period also says its last day and the days it covers, so no reader has to know that `to` is
/// exclusive.
impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown {
            from: NaiveDate,
            to: NaiveDate,
            last_day: NaiveDate,
            covers: String,
        }
        let shown = Shown { from: self.from, to: self.to, last_day: self.last_day(), covers: self.label(" – ") };
        shown.serialize(serializer)
    }
}

/// The shapes of period the dealer reports are cut by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    YearToDate,
    Rolling12Months,
}

/// China is UTC+8 all year (no daylight saving), so a fixed offset is exact.
const CHINA_OFFSET_HOURS: i64 = 8;

impl Period {
    /// Number of days in the period (negative only for a malformed period).
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days()
    }

    /// The period of `kind` that contains `day`. Every period is whole months, the month of `day` included in full
    /// as in the month view (YearToDate: Jan 1 to the end of day's month; Rolling12Months: the 12 months ending
    /// with day's month, i.e. [first of (month − 11), first of next month)). Figures are taken on
    /// [`Period::to_date`], which cuts this at the end of `day`.
    pub fn containing(kind: PeriodKind, day: NaiveDate) -> Period {
        let (year, month) = (day.year(), day.month());
        match kind {
            PeriodKind::Month => Period { from: first_of_month(year, month, 0), to: first_of_month(year, month, 1) },
            PeriodKind::Quarter => {
                let quarter_month = (month - 1) / 3 * 3 + 1;
                Period { from: first_of_month(year, quarter_month, 0), to: first_of_month(year, quarter_month, 3) }
            }
            PeriodKind::YearToDate => Period { from: first_of_month(year, 1, 0), to: first_of_month(year, month, 1) },
            PeriodKind::Rolling12Months => {
                Period { from: first_of_month(year, month, -11), to: first_of_month(year, month, 1) }
            }
        }
    }

    /// The period of `kind` containing `on`, as of `on`: it ends after `on` when `on` is inside it, so earned premium
    /// and exposure count only the days that have passed (DOMAIN.md "earned premium").
    pub fn to_date(kind: PeriodKind, on: NaiveDate) -> Period {
        Period::containing(kind, on).as_of(on)
    }

    /// The period cut at the end of `on`: `[from, min(to, on + 1))`, empty when `on` is before it starts.
    pub fn as_of(self, on: NaiveDate) -> Period {
        let after_on = on.succ_opt().unwrap_or(on);
        Period { from: self.from, to: self.to.min(after_on).max(self.from) }
    }

    /// The last day inside the period (`from` for an empty one).
    pub fn last_day(&self) -> NaiveDate {
        self.to.pred_opt().filter(|day| *day >= self.from).unwrap_or(self.from)
    }

    /// The days covered, first and last inclusive, as every page, answer and export writes them:
    /// "2026-12-01 – 2026-12-07" (`separator` " – "; Chinese pages use " 至 ").
    pub fn label(&self, separator: &str) -> String {
        format!("{}{separator}{}", self.from.format("%Y-%m-%d"), self.last_day().format("%Y-%m-%d"))
    }

    /// The month starting on the first of `year`-`month`.
    pub fn month(year: i32, month: u32) -> Option<Period> {
        let from = NaiveDate::from_ymd_opt(year, month, 1)?;
        let to = if month == 12 {
            NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
        } else {
            from.with_month(month + 1)?
        };
        Some(Period { from, to })
    }

    /// The `count` months ending with the month containing `day`, oldest first.
    pub fn last_months(day: NaiveDate, count: usize) -> Vec<Period> {
        let (year, month) = (day.year(), day.month());
        (0..count)
            .rev()
            .map(|back| {
                // A count beyond chrono's range saturates to its earliest date rather than wrapping.
                let back = i64::try_from(back).unwrap_or(i64::MAX);
                Period {
                    from: first_of_month(year, month, back.saturating_neg()),
                    to: first_of_month(year, month, 1i64.saturating_sub(back)),
                }
            })
            .collect()
    }

    /// [`Period::last_months`] as of `on`: the last month runs to the end of `on`.
    pub fn months_to_date(on: NaiveDate, count: usize) -> Vec<Period> {
        let mut months = Period::last_months(on, count);
        if let Some(last) = months.last_mut() {
            *last = last.as_of(on);
        }
        months
    }

    /// Days of [start, end) inside the period.
    pub fn overlap_days(&self, start: NaiveDate, end: NaiveDate) -> i64 {
        let from = start.max(self.from);
        let to = end.min(self.to);
        if to > from { (to - from).num_days() } else { 0 }
    }

    /// Whether the period starts and ends on the first of a month.
    pub fn is_whole_months(&self) -> bool {
        self.from.day() == 1 && self.to.day() == 1
    }

    /// Whether `day` falls inside the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day < self.to
    }
}

/// The instant the period ends: its `to` day at 00:00 China time, as UTC.
///
/// Reserve movements and closures are timestamps, so "as at period end" needs an instant, not a day.
pub fn period_end_at(period: Period) -> DateTime<Utc> {
    period
        .to
        .and_time(NaiveTime::MIN)
        .checked_sub_signed(TimeDelta::hours(CHINA_OFFSET_HOURS))
        .map_or(DateTime::<Utc>::MIN_UTC, |naive| naive.and_utc())
}

/// The China-local calendar day of an instant; periods are cut in local days.
pub(crate) fn china_day(at: DateTime<Utc>) -> NaiveDate {
    let naive = at.naive_utc();
    naive.checked_add_signed(TimeDelta::hours(CHINA_OFFSET_HOURS)).unwrap_or(naive).date()
}

/// The first day of the month `delta` months after `year`-`month`; saturates at chrono's limits.
fn first_of_month(year: i32, month: u32, delta: i64) -> NaiveDate {
    let index = i64::from(year).saturating_mul(12).saturating_add(i64::from(month) - 1).saturating_add(delta);
    let target_year = index.div_euclid(12);
    // rem_euclid(12) is always in 0..12, so the month is always valid.
    let target_month = u32::try_from(index.rem_euclid(12) + 1).unwrap_or(1);
    i32::try_from(target_year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, target_month, 1))
        .unwrap_or(if target_year < 0 { NaiveDate::MIN } else { NaiveDate::MAX })
}

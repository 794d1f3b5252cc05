//! Analytics on the service's own data: the polars figures agree with the live monitoring figures, through the
//! database and through a Parquet export.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use analytics::figures::dealer_figures;
use analytics::frames::Frames;
use analytics::polars::prelude::*;
use autochannel::analysis::figure_params;
use autochannel::domain::claims::ServiceTargets;
use autochannel::domain::monitoring::{Bands, Figures, Period, PeriodKind, figures_by_dealer};
use chrono::{Duration, NaiveDate, Utc};
use common::TestApp;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

on_both_databases!(the_figures_agree_with_the_live_figures_on_demo_data);

fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

fn demo_data(app: &TestApp, dealers: &str, policies: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_autochannel"))
        .args(["demo-data", "--dealers", dealers, "--policies", policies])
        .env("DATABASE_URL", &app.database_url)
        .env("AUTOCHANNEL_LOG", "error")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

fn fen(amount: Decimal) -> i64 {
    (amount * Decimal::ONE_HUNDRED).to_i64().unwrap()
}

fn centihours(hours: Decimal) -> i64 {
    (hours * Decimal::ONE_HUNDRED).to_i64().unwrap()
}

struct Row<'a> {
    df: &'a DataFrame,
    index: usize,
    dealer: i64,
    period: Period,
}

impl Row<'_> {
    fn int(&self, column: &str) -> Option<i64> {
        self.df.column(column).unwrap().cast(&DataType::Int64).unwrap().i64().unwrap().get(self.index)
    }

    fn money(&self, column: &str, live: Decimal) {
        assert_eq!(self.int(column), Some(fen(live)), "dealer {} {:?}: {column}", self.dealer, self.period);
    }

    fn count(&self, column: &str, live: u64) {
        assert_eq!(
            self.int(column),
            Some(i64::try_from(live).unwrap()),
            "dealer {} {:?}: {column}",
            self.dealer,
            self.period
        );
    }

    fn ratio(&self, column: &str, live: Option<Decimal>) {
        let polars = self.df.column(column).unwrap().f64().unwrap().get(self.index);
        match (polars, live.map(|d| d.to_f64().unwrap())) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "dealer {} {:?}: {column} {a} vs {b}",
                    self.dealer,
                    self.period
                )
            }
            (a, b) => panic!("dealer {} {:?}: {column} {a:?} vs {b:?}", self.dealer, self.period),
        }
    }

    fn stat(&self, prefix: &str, live: Option<&autochannel::domain::monitoring::Stat>) {
        let median = self.int(&format!("{prefix}_median_centihours"));
        let p90 = self.int(&format!("{prefix}_p90_centihours"));
        let expected = live.map(|s| (centihours(s.median_hours), centihours(s.p90_hours)));
        assert_eq!(median.zip(p90), expected, "dealer {} {:?}: {prefix}", self.dealer, self.period);
    }

    fn agrees_with(&self, live: &Figures) {
        self.money("written_premium_fen", live.written_premium);
        self.money("earned_premium_fen", live.earned_premium);
        self.money("paid_fen", live.paid);
        self.money("case_reserves_fen", live.case_reserves);
        self.money("incurred_fen", live.incurred);
        self.money("commission_fen", live.commission);
        self.money("referral_value_fen", live.referral_value);
        self.count("claim_count", live.claim_count);
        self.count("referral_count", live.referral_count);
        self.count("expiring", live.expiring);
        self.count("renewed", live.renewed);
        self.count("open_claims", live.open_claims);
        self.count("overdue_claims", live.overdue_claims);
        self.count("closed_claims", live.cycle.closed);
        self.ratio("exposure", Some(live.exposure));
        self.ratio("loss_ratio", live.loss_ratio);
        self.ratio("price_normalised_loss_ratio", live.price_normalised_loss_ratio);
        self.ratio("commission_ratio", live.commission_ratio);
        self.ratio("variable_cost_ratio", live.variable_cost_ratio);
        self.ratio("frequency", live.frequency);
        self.ratio("severity", live.severity);
        self.ratio("referral_ratio", live.referral_ratio);
        self.ratio("renewal_rate", live.renewal_rate);
        let band = self.df.column("band").unwrap().str().unwrap().get(self.index).map(str::to_string);
        let live_band = live.band.map(|b| serde_json::to_value(b).unwrap().as_str().unwrap().to_string());
        assert_eq!(band, live_band, "dealer {} {:?}: band", self.dealer, self.period);
        let upside_down = self.df.column("upside_down").unwrap().bool().unwrap().get(self.index);
        assert_eq!(upside_down, Some(live.upside_down), "dealer {} {:?}: upside down", self.dealer, self.period);
        self.stat("report_to_close", live.cycle.report_to_close.as_ref());
        for stage in analytics::figures::OPEN_STAGES {
            let live_stage = live.cycle.per_stage.iter().find(|(s, _)| s == stage).map(|(_, stat)| stat);
            self.stat(stage, live_stage);
        }
    }
}

/// Every dealer × every period of the last year and a half: the live figures and the polars ones.
fn assert_agree(frames: &Frames, facts: &autochannel::domain::monitoring::Facts, now: chrono::DateTime<Utc>) -> usize {
    let targets = ServiceTargets::default();
    let bands = Bands::default();
    let day = today();
    let mut periods = Period::last_months(day, 18);
    periods.extend(
        [PeriodKind::Quarter, PeriodKind::YearToDate, PeriodKind::Rolling12Months].map(|k| Period::containing(k, day)),
    );
    periods.push(Period::containing(PeriodKind::Quarter, day - Duration::days(95)));
    let mut compared = 0;
    for period in periods {
        let live = figures_by_dealer(facts, period, &bands);
        let df = dealer_figures(frames, &figure_params(period, now, &targets, &bands)).unwrap();
        let ids = df.column("dealer_id").unwrap().i64().unwrap().clone();
        for (index, dealer) in ids.iter().enumerate() {
            let dealer = dealer.unwrap();
            let row = Row { df: &df, index, dealer, period };
            match live.get(&dealer) {
                Some(figures) => row.agrees_with(figures),
                None => row.agrees_with(&autochannel::domain::monitoring::figures(facts, dealer, period, &bands)),
            }
            compared += 1;
        }
    }
    compared
}

async fn the_figures_agree_with_the_live_figures_on_demo_data(app: TestApp) {
    demo_data(&app, "5", "1500");
    let now = Utc::now();
    let facts = autochannel::store::monitoring::facts(&app.db, None, &ServiceTargets::default(), now).await.unwrap();
    assert!(facts.claims.len() > 50 && facts.policies.len() > 1000, "demo data has business to compare");
    assert!(facts.premiums.iter().any(|p| p.amount.is_sign_negative()), "demo data has cancellations");

    let mut loaded = Vec::new();
    let frames = autochannel::store::frames::load(&app.db, today(), |name, rows| loaded.push((name.to_string(), rows)))
        .await
        .unwrap();
    assert_eq!(loaded.len(), 11, "{loaded:?}");
    assert_eq!(frames.policies.height(), facts.policies.len());
    let compared = assert_agree(&frames, &facts, now);
    assert!(compared >= 5 * 20, "{compared}");

    // The same through Parquet.
    let dir = tempfile::tempdir().unwrap();
    frames.write_parquet(dir.path(), |_, _| {}).unwrap();
    let back = Frames::read_parquet(dir.path()).unwrap();
    assert_agree(&back, &facts, now);
}

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
use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::TestApp;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

on_both_databases!(
    the_figures_agree_with_the_live_figures_on_demo_data,
    the_frames_are_read_from_one_snapshot,
    analytics_are_scoped_to_the_users_dealers,
    a_service_plan_names_its_triggers_and_accepted_items_take_effect,
    service_plan_rules_are_versioned_and_checked,
    the_plan_page_generates_and_decides,
);

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
        self.count("closed_claims", live.cycle.as_ref().unwrap().closed);
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
        self.stat("report_to_close", live.cycle.as_ref().unwrap().report_to_close.as_ref());
        for stage in analytics::figures::OPEN_STAGES {
            let live_stage =
                live.cycle.as_ref().unwrap().per_stage.iter().find(|(s, _)| s == stage).map(|(_, stat)| stat);
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
    // As of today, the 1st of this month, the last day of last month and a day in the middle of it.
    let first_of_month = day.with_day(1).unwrap();
    for on in [day, first_of_month, first_of_month - Duration::days(1), first_of_month - Duration::days(17)] {
        let kinds = [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::YearToDate, PeriodKind::Rolling12Months];
        periods.extend(kinds.map(|k| Period::to_date(k, on)));
    }
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
    assert!(facts.policies.iter().any(|p| p.segments.len() > 1), "demo data has endorsements");

    let mut loaded = Vec::new();
    let frames = autochannel::store::frames::load(&app.db, today(), |name, rows| loaded.push((name.to_string(), rows)))
        .await
        .unwrap();
    assert_eq!(loaded.len(), 11, "{loaded:?}");
    assert_eq!(frames.policies.height(), facts.policies.len());
    let compared = assert_agree(&frames, &facts, now);
    assert!(compared >= 5 * 20, "{compared}");

    // The service's stored totals give every dealer the same figures, as of the same days.
    let targets = ServiceTargets::default();
    let mut dealers: Vec<i64> = facts.policies.iter().map(|p| p.dealer_id).collect();
    dealers.sort_unstable();
    dealers.dedup();
    let first_of_month = today().with_day(1).unwrap();
    for on in [today(), first_of_month, first_of_month - Duration::days(1), first_of_month - Duration::days(17)] {
        for kind in [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::YearToDate, PeriodKind::Rolling12Months] {
            let period = Period::to_date(kind, on);
            let bands = |_| Bands::default();
            let stored = autochannel::store::totals::figures(&app.db, &dealers, &[period], &bands, true, &targets, now)
                .await
                .unwrap();
            for dealer in &dealers {
                let live = autochannel::domain::monitoring::figures(&facts, *dealer, period, &Bands::default());
                assert_eq!(stored[dealer][0], live, "dealer {dealer} as of {on}: {period:?}");
            }
        }
    }

    // The same through Parquet.
    let dir = tempfile::tempdir().unwrap();
    frames.write_parquet(dir.path(), |_, _| {}).unwrap();
    let back = Frames::read_parquet(dir.path()).unwrap();
    assert_agree(&back, &facts, now);
}

/// A write that lands while the frames load (here between the dealers and the policies) is not half in them.
async fn the_frames_are_read_from_one_snapshot(app: TestApp) {
    use sea_orm::ConnectionTrait;
    demo_data(&app, "2", "200");
    let total = |frames: &Frames| frames.policies.column("premium_fen").unwrap().i64().unwrap().sum().unwrap();
    let before = autochannel::store::frames::load(&app.db, today(), |_, _| {}).await.unwrap();

    let frames = autochannel::store::frames::load(&app.db, today(), |name, _| {
        if name == "dealers" {
            // From the progress hook, which is not async: wait for the write on this runtime, on another
            // connection of the pool.
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current()
                    .block_on(app.db.execute_unprepared("UPDATE policies SET premium_fen = premium_fen + 100"))
                    .unwrap();
            });
        }
    })
    .await
    .unwrap();
    assert_eq!(total(&frames), total(&before), "the update came after the snapshot");
    let after = autochannel::store::frames::load(&app.db, today(), |_, _| {}).await.unwrap();
    assert_eq!(total(&after), total(&before) + 100 * before.policies.height() as i64, "and is there on the next load");
}

/// Demo data with one login per role (the demo manager owns DLR0001 and the first manager's dealers).
async fn demo_with_logins(app: &TestApp) {
    demo_data(app, "20", "3000");
    autochannel::demo::create_logins(&app.db, common::PASSWORD, today()).await.unwrap();
}

async fn analytics_are_scoped_to_the_users_dealers(app: TestApp) {
    demo_with_logins(&app).await;
    let admin = app.token("admin").await;
    let manager = app.token("manager").await;
    let all: Vec<Value> = app.get_json("/api/v1/analytics/dealers", &admin).await;
    let mine: Vec<Value> = app.get_json("/api/v1/analytics/dealers?sort=loss_ratio&dir=desc", &manager).await;
    assert_eq!(all.len(), 20);
    assert!(!mine.is_empty() && mine.len() < all.len(), "{} of {}", mine.len(), all.len());
    // Sorted by loss ratio, worst first; dealers without one go last.
    let ratios: Vec<f64> = mine.iter().filter_map(|r| r["loss_ratio"].as_f64()).collect();
    assert!(ratios.windows(2).all(|w| w[0] >= w[1]), "{ratios:?}");
    // The admin's list is by composite score, best first.
    let scores: Vec<f64> = all.iter().filter_map(|r| r["composite_score"].as_f64()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]) && scores.len() >= 15, "{scores:?}");

    let own = mine[0]["dealer_id"].as_i64().unwrap();
    let other = all
        .iter()
        .map(|r| r["dealer_id"].as_i64().unwrap())
        .find(|id| !mine.iter().any(|m| m["dealer_id"] == *id))
        .unwrap();
    let get = |path: String, token: String| {
        let client = app.client.clone();
        let url = app.url(&path);
        async move { client.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let own_view = get(format!("/api/v1/analytics/dealers/{own}"), manager.clone()).await;
    assert_eq!(own_view.status(), 200);
    let body: Value = own_view.json().await.unwrap();
    assert_eq!(body["positions"].as_array().unwrap().len() % 10, 0, "ten figures per peer group");
    assert!(body["positions"].as_array().unwrap().iter().any(|p| p["dimension"] == "region"));
    // The chain ladder is valued at the last quarter end on or before today, and says so.
    let today = autochannel::domain::clock::china_day(Utc::now());
    let quarter_start = analytics::development::quarter_start(today.succ_opt().unwrap());
    assert_eq!(body["valued_at"], json!(quarter_start.pred_opt().unwrap()));
    assert_eq!(get(format!("/api/v1/analytics/dealers/{other}"), manager.clone()).await.status(), 404);
    assert_eq!(get(format!("/api/v1/dealers/{other}/service-plans"), manager.clone()).await.status(), 404);
    for role in ["assistant", "dealer"] {
        let token = app.token(role).await;
        assert_eq!(get("/api/v1/analytics/dealers".into(), token.clone()).await.status(), 403, "{role}");
        assert_eq!(get(format!("/api/v1/analytics/dealers/{own}"), token).await.status(), 403, "{role}");
    }
    let bad = get("/api/v1/analytics/dealers?period=2026Q9".into(), admin.clone()).await;
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
    let csv = get("/api/v1/analytics/dealers?format=csv&period=2026".into(), manager).await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("期间,车商代码,车商,区域") && text.lines().count() == mine.len() + 1, "{text}");
    assert!(text.lines().nth(1).is_some_and(|row| row.starts_with("2026-01-01 至 2026-12-")), "as of today: {text}");
}

/// Rules that fire for every dealer with business: one item of each kind that takes effect elsewhere.
fn always_rules() -> Value {
    let when = json!([{ "figure": "written_premium", "op": ">", "threshold": 0.0 }]);
    let rule = |id: &str, proposal: Value| json!({ "id": id, "title_zh": id, "title_en": id, "when": when, "proposal": proposal });
    json!({ "rules": [
        rule("raise", json!({ "kind": "commission_adjustment", "rate_change_bp": 50 })),
        rule("visits", json!({ "kind": "visit_frequency", "visits_per_quarter": 3 })),
        rule("training", json!({ "kind": "training", "topic": "续保" })),
        rule("fix", json!({ "kind": "remediation" })),
        rule("too_much", json!({ "kind": "commission_adjustment", "rate_change_bp": 1000 })),
    ]})
}

async fn send(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = app.client.request(method, app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn a_service_plan_names_its_triggers_and_accepted_items_take_effect(app: TestApp) {
    demo_with_logins(&app).await;
    let admin = app.token("admin").await;
    let manager = app.token("manager").await;
    let (status, saved) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/service-plan-rules",
        &admin,
        json!({ "base_version": 0, "note": "test", "rules": always_rules() }),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 1);

    let dealer = 1;
    let generate = |key: &'static str| {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/dealers/{dealer}/service-plans"));
        let token = manager.clone();
        async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, plan) = generate("plan-1").await;
    assert_eq!(status, 201, "{plan}");
    let (_, again) = generate("plan-1").await;
    assert_eq!(again["id"], plan["id"], "the same key gives the same plan");
    let plans: Vec<Value> = app.get_json(&format!("/api/v1/dealers/{dealer}/service-plans"), &manager).await;
    assert_eq!(plans.len(), 1);
    assert_eq!(plan["rules_version"], 1);
    let items = plan["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    let item = |rule: &str| items.iter().find(|i| i["rule_id"] == rule).unwrap().clone();
    let trigger = &item("raise")["triggers"][0];
    assert_eq!(
        (trigger["figure"].as_str(), trigger["op"].as_str(), trigger["threshold"].as_f64()),
        (Some("written_premium"), Some(">"), Some(0.0))
    );
    assert!(trigger["actual"].as_f64().unwrap() > 0.0);

    let decide = |id: &Value, body: Value| {
        let path = format!("/api/v1/service-plan-items/{id}/decision");
        let token = manager.clone();
        let app = &app;
        async move { send(app, reqwest::Method::POST, &path, &token, body).await }
    };
    let agreements_before: Vec<Value> = app.get_json(&format!("/api/v1/dealers/{dealer}/agreements"), &admin).await;

    // A commission change beyond the filed range is refused with the range, and nothing is stored.
    let too_much = item("too_much");
    let (status, problem) =
        decide(&too_much["id"], json!({ "decision": "accept", "version": too_much["version"] })).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem.to_string().contains("filed range"), "{problem}");
    let after_refusal: Vec<Value> = app.get_json(&format!("/api/v1/dealers/{dealer}/agreements"), &admin).await;
    assert_eq!(after_refusal.len(), agreements_before.len());

    // Accepting +50 bp makes a new agreement per agreement in force, from the first of next month.
    let raise = item("raise");
    let (status, decided) = decide(&raise["id"], json!({ "decision": "accept", "version": raise["version"] })).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "accepted");
    assert!(decided["applied"].as_str().unwrap().starts_with("commission_agreements:"), "{decided}");
    let after: Vec<Value> = app.get_json(&format!("/api/v1/dealers/{dealer}/agreements"), &admin).await;
    let created: Vec<&Value> =
        after.iter().filter(|a| a["note"].as_str().unwrap_or("").contains("service plan")).collect();
    assert!(!created.is_empty());
    for agreement in &created {
        assert!(agreement["valid_from"].as_str().unwrap().ends_with("-01"));
    }
    // Deciding twice, or at a stale version, is refused.
    let (status, _) = decide(&raise["id"], json!({ "decision": "reject", "note": "no", "version": 2 })).await;
    assert_eq!(status, 409);
    let visits = item("visits");
    let (status, _) = decide(&visits["id"], json!({ "decision": "accept", "version": 7 })).await;
    assert_eq!(status, 409);

    // Changing needs a note and a valid proposal of the same kind; the change plans the next visit.
    let (status, problem) = decide(&visits["id"], json!({ "decision": "change", "version": 1, "proposal": { "kind": "visit_frequency", "visits_per_quarter": 2 } })).await;
    assert_eq!(status, 422);
    assert!(problem.to_string().contains("\"note\""), "{problem}");
    let (status, problem) = decide(
        &visits["id"],
        json!({ "decision": "change", "note": "x", "version": 1, "proposal": { "kind": "training", "topic": "t" } }),
    )
    .await;
    assert_eq!(status, 422);
    assert!(problem.to_string().contains("different_kind"), "{problem}");
    let (status, changed) = decide(&visits["id"], json!({ "decision": "change", "note": "两次足够", "version": 1, "proposal": { "kind": "visit_frequency", "visits_per_quarter": 2 } })).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["decided_proposal"]["visits_per_quarter"], 2);
    let visit_id = changed["applied"].as_str().unwrap().strip_prefix("visit:").unwrap().to_string();
    let visit: Value = app.get_json(&format!("/api/v1/visits/{visit_id}"), &manager).await;
    assert_eq!(visit["visit"]["status"], "planned");
    assert_eq!(visit["visit"]["dealer_id"], dealer);

    let training = item("training");
    let (status, rejected) =
        decide(&training["id"], json!({ "decision": "reject", "note": "本季度已培训", "version": 1 })).await;
    assert_eq!((status, rejected["status"].as_str(), rejected["applied"].is_null()), (200, Some("rejected"), true));

    let fix = item("fix");
    let (status, fixed) = decide(&fix["id"], json!({ "decision": "accept", "version": 1 })).await;
    assert_eq!(status, 200, "{fixed}");
    let dealer_row: Value = app.get_json(&format!("/api/v1/dealers/{dealer}"), &admin).await;
    assert_eq!(dealer_row["status"], "remediation");

    // The history is kept: a second plan leaves the first with its decisions.
    let (status, second) = generate("plan-2").await;
    assert_eq!(status, 201);
    let plans: Vec<Value> = app.get_json(&format!("/api/v1/dealers/{dealer}/service-plans"), &manager).await;
    assert_eq!(plans.len(), 2);
    assert_eq!(plans[0]["id"], second["id"]);
    assert!(plans[1]["items"].as_array().unwrap().iter().any(|i| i["status"] == "changed"));
    // The audit trail holds every decision.
    let (ok, out, _) = {
        let output = Command::new(env!("CARGO_BIN_EXE_autochannel"))
            .args(["audit", "verify"])
            .env("DATABASE_URL", &app.database_url)
            .env("AUTOCHANNEL_LOG", "error")
            .output()
            .unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stdout).to_string(), ())
    };
    assert!(ok && out.contains("intact"), "{out}");
}

async fn service_plan_rules_are_versioned_and_checked(app: TestApp) {
    app.add_user("boss", autochannel::domain::auth::Role::Administrator, &[]).await;
    app.add_user("cm", autochannel::domain::auth::Role::ChannelManager, &[]).await;
    let admin = app.token("boss").await;
    let manager = app.token("cm").await;
    let shipped: Value = app.get_json("/api/v1/service-plan-rules", &manager).await;
    assert_eq!(shipped["version"], 0);
    assert_eq!(shipped["rules"]["rules"].as_array().unwrap().len(), 10);

    let mut bad = shipped["rules"].clone();
    bad["rules"][0]["when"][0]["figure"] = json!("lossratio");
    bad["rules"][2]["proposal"]["rate_change_bp"] = json!(0);
    let (status, problem) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/service-plan-rules",
        &admin,
        json!({ "base_version": 0, "rules": bad }),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["rules[0].when[0].figure", "rules[2].proposal.rate_change_bp"]);
    let (status, _) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/service-plan-rules",
        &admin,
        json!({ "base_version": 0, "rules": { "rules": [{ "id": "x" }] } }),
    )
    .await;
    assert_eq!(status, 422, "an incomplete rule is a clear 4xx");

    let (status, _) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/service-plan-rules",
        &manager,
        json!({ "base_version": 0, "rules": shipped["rules"] }),
    )
    .await;
    assert_eq!(status, 403, "only administrators change the rules");
    let (status, saved) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/service-plan-rules",
        &admin,
        json!({ "base_version": 0, "note": "v1", "rules": shipped["rules"] }),
    )
    .await;
    assert_eq!((status, saved["version"].as_i64()), (200, Some(1)));
    let (status, _) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/service-plan-rules",
        &admin,
        json!({ "base_version": 0, "rules": shipped["rules"] }),
    )
    .await;
    assert_eq!(status, 409, "saving on a stale version loses nothing silently");
}

async fn the_plan_page_generates_and_decides(app: TestApp) {
    demo_with_logins(&app).await;
    // Rules that fire for any dealer with business, so the page always has items to decide.
    let admin = app.token("admin").await;
    let (status, _) = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/service-plan-rules",
        &admin,
        json!({ "base_version": 0, "rules": always_rules() }),
    )
    .await;
    assert_eq!(status, 200);
    let (browser, csrf) = app.browser_login("manager").await;
    let page = browser.get(app.url("/analytics/dealers/1")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("差异化服务方案") && html.contains("position-table"), "the page shows the plan section");
    assert!(html.contains("季末评估日 "), "the page says which quarter end the ultimate loss ratio is valued at");
    // On a phone the table becomes cards: each peer cell says which group it is (ten figures × four groups).
    for group in ["区域", "品牌", "规模档", "全部车商"] {
        assert_eq!(html.matches(&format!("<td data-label=\"{group}\"")).count(), 10, "{group}");
    }
    let generated =
        browser.post(app.url("/analytics/dealers/1/plans")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(generated.status(), 303);
    let html = browser.get(app.url("/analytics/dealers/1")).send().await.unwrap().text().await.unwrap();
    let plans: Vec<Value> = app.get_json("/api/v1/dealers/1/service-plans", &app.token("manager").await).await;
    assert_eq!(plans.len(), 1);
    let item = plans[0]["items"].as_array().unwrap().first().cloned().expect("the rules fire for dealer 1");
    assert!(html.contains("触发条件"), "each item says why it is there");
    let id = item["id"].as_i64().unwrap();
    // Rejecting without a note is refused on the page with what to fix; with a note it is recorded.
    let refused = browser
        .post(app.url(&format!("/service-plan-items/{id}/decide")))
        .form(&[("csrf", csrf.as_str()), ("decision", "reject"), ("version", "1"), ("note", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("role=\"alert\""));
    let done = browser
        .post(app.url(&format!("/service-plan-items/{id}/decide")))
        .form(&[("csrf", csrf.as_str()), ("decision", "reject"), ("version", "1"), ("note", "先观察一个季度")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let html = browser.get(app.url("/analytics/dealers/1")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("先观察一个季度") && html.contains("未采纳"));
}

//! Monitoring end to end: a dealer's figures computed from what was issued,
//! claimed and paid, the alerts they raise, the portfolio and the dashboard
//! pages, and who may see which dealer.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use autochannel::store::audit::Actor;
use autochannel::store::users::{self, Qualification};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::TestApp;
use rust_decimal::Decimal;
use serde_json::{Value, json};

on_both_databases!(
    the_figures_follow_premium_claims_and_reserves,
    a_dealer_above_target_raises_an_alert_and_tops_the_portfolio,
    the_dashboard_and_portfolio_pages_render,
    dealer_staff_see_only_their_own_dealers_figures,
    alerts_are_raised_with_each_dealers_thresholds_and_acknowledged,
    the_totals_stay_exact_through_random_writes,
    the_portfolio_holds_every_dealer_beyond_a_page,
    concurrent_writers_spread_over_shards_and_the_totals_add_up,
    a_closure_keeps_its_cycle_until_the_claim_reopens,
);

fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

struct Store {
    dealer: i64,
    seller: String,
    manager: String,
    adjuster: String,
}

async fn store(app: &TestApp, code: &str, cm: i64) -> Store {
    let dealer = app.add_dealer(code, Some(cm)).await;
    let seller_name = format!("sa-{}", code.to_lowercase());
    let sa = app.add_user(&seller_name, Role::SalesAssistant, &[code]).await;
    let tx = autochannel::store::begin_write(&app.db).await.unwrap();
    let certificate = Qualification {
        certificate_no: format!("QC-{code}"),
        valid_from: today() - Duration::days(800),
        valid_to: today() + Duration::days(400),
    };
    users::add_qualification(&tx, &Actor::system("test"), sa, certificate).await.unwrap();
    tx.commit().await.unwrap();
    Store {
        dealer,
        seller: app.token(&seller_name).await,
        manager: app.token("cm").await,
        adjuster: app.token("adj").await,
    }
}

async fn post_ok(app: &TestApp, token: &str, path: &str, body: &Value) -> Value {
    let response = app.client.post(app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// Issues a commercial policy (with compulsory) and moves its cover to `start` for a year.
async fn sell(app: &TestApp, s: &Store, n: u32, start: NaiveDate) -> Vec<Value> {
    let policies = sell_now(app, s, n).await;
    let end = start + Duration::days(365);
    for p in &policies {
        app.sql(&format!("UPDATE policies SET start_date = '{start}', end_date = '{end}' WHERE id = {}", p["id"]))
            .await
            .unwrap();
    }
    app.rebuild_totals().await;
    policies
}

/// Issues a commercial policy (with compulsory) from tomorrow, as a seller does.
async fn sell_now(app: &TestApp, s: &Store, n: u32) -> Vec<Value> {
    sell_products(app, s, n, true, true).await
}

/// Issues car `n` the chosen products from tomorrow; a car the insurer already covers comes back referred (sold as new,
/// but insured before) and is approved by the underwriter first.
async fn sell_products(app: &TestApp, s: &Store, n: u32, compulsory: bool, commercial: bool) -> Vec<Value> {
    let vin = autochannel::domain::underwriting::identity::with_vin_check_digit(&format!("LSVAU2180N3{n:06}")).unwrap();
    let body = json!({
        "dealer_id": s.dealer, "business_type": "new_car",
        "vehicle": { "vin": vin, "plate": format!("粤C{:05}", n), "first_registration": "2024-03-15", "new_car_price": "200000.00", "seats": 5 },
        "owner": { "name": "陈立", "id_number": "11010519491231002X", "phone": "13800138000" },
        "accident_history": "new_or_no_record", "ncd_level": 0,
        "coverages": { "compulsory": compulsory, "vehicle_damage": commercial,
                       "third_party_limit": if commercial { json!("1000000") } else { Value::Null }, "driver_limit": null,
                       "passenger_limit": null, "riders": [] }
    });
    let quote = post_ok(app, &s.seller, "/api/v1/quotes", &body).await;
    if quote["status"] == "referred" {
        let underwriter = app.token("uw").await;
        let path = format!("/api/v1/quotes/{}/approve", quote["id"]);
        post_ok(app, &underwriter, &path, &json!({ "version": quote["version"], "note": "同一车辆分两次投保" })).await;
    }
    let policies = post_ok(app, &s.seller, &format!("/api/v1/quotes/{}/issue", quote["id"]), &json!(null)).await;
    policies.as_array().unwrap().clone()
}

/// A claim on the commercial policy with an own-vehicle loss, settled and paid in part.
async fn claim(app: &TestApp, s: &Store, policy_no: &str, assessed: &str, pay: &str) -> Value {
    let accident = (Utc::now() - Duration::hours(2)).with_timezone(&autochannel::store::claims::china());
    let c = post_ok(
        app,
        &s.seller,
        "/api/v1/claims",
        &json!({ "policy_no": policy_no, "accident_at": accident.to_rfc3339(),
        "reporter_name": "陈立", "reporter_phone": "13800138000", "place": "路口", "description": "追尾" }),
    )
    .await;
    let path = |step: &str| format!("/api/v1/claims/{}/{step}", c["id"]);
    let c2 = post_ok(
        app,
        &s.adjuster,
        &path("register"),
        &json!({ "version": 1, "reserves": [{ "coverage": "vehicle_damage", "reserve": assessed }] }),
    )
    .await;
    let c3 = post_ok(
        app,
        &s.adjuster,
        &path("loss-items"),
        &json!({ "version": c2["version"], "category": "own_vehicle", "kind": "part",
        "description": "前保险杠", "quantity": "1", "unit_price": assessed }),
    )
    .await;
    let c4 = post_ok(app, &s.adjuster, &path("survey"), &json!({ "version": c3["version"], "repair_at_dealer": true }))
        .await;
    let c5 =
        post_ok(app, &s.adjuster, &path("settle"), &json!({ "version": c4["version"], "liability_share": "1" })).await;
    post_ok(
        app,
        &s.adjuster,
        &path("payments"),
        &json!({ "version": c5["version"], "coverage": "vehicle_damage", "payee": "店", "amount": pay }),
    )
    .await
}

async fn setup(app: &TestApp) -> i64 {
    let cm = app.add_user("cm", Role::ChannelManager, &[]).await;
    let adj = app.add_user("adj", Role::ClaimsAdjuster, &[]).await;
    app.add_user("uw", Role::Underwriter, &[]).await;
    app.sql(&format!("UPDATE users SET authority_limit_fen = 100000000 WHERE id = {adj}")).await.unwrap();
    cm
}

async fn the_figures_follow_premium_claims_and_reserves(app: TestApp) {
    let cm = setup(&app).await;
    let s = store(&app, "D001", cm).await;
    // Cover from 30 days ago for a year (365 days).
    let start = today() - Duration::days(30);
    let policies = sell(&app, &s, 1, start).await;
    let premium: Decimal = policies.iter().map(|p| dec(&p["premium"])).sum();
    let commercial = policies.iter().find(|p| p["product"] == "commercial").unwrap();
    let dashboard: Value =
        app.get_json(&format!("/api/v1/dealers/{}/figures?period=rolling_12_months", s.dealer), &s.manager).await;
    let f = &dashboard["figures"];
    // Issued today: written premium is the whole premium of both policies.
    assert_eq!(dec(&f["written_premium"]), premium);
    // Earned over the days from the start to the period end, of 365: premium × days ÷ 365, summed exactly and
    // rounded to the fen once.
    let from = NaiveDate::parse_from_str(f["period"]["from"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let to = NaiveDate::parse_from_str(f["period"]["to"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(to, today() + Duration::days(1), "as of today: the days that have passed");
    assert_eq!(f["period"]["last_day"], today().to_string());
    assert_eq!(f["period"]["covers"], format!("{from} – {}", today()));
    let days = (to.min(start + Duration::days(365)) - start.max(from)).num_days();
    let expected = autochannel::domain::money::round_to_fen(premium * Decimal::from(days) / Decimal::from(365));
    assert_eq!(dec(&f["earned_premium"]), expected, "earned by day, to the fen");
    assert!(f["loss_ratio"].is_null() || dec(&f["loss_ratio"]).is_zero(), "no claims yet");
    // A claim assessed at 6,000, paid 2,000 so far: incurred = 2,000 paid + 4,000 still reserved.
    claim(&app, &s, commercial["policy_no"].as_str().unwrap(), "6000.00", "2000.00").await;
    let dashboard: Value =
        app.get_json(&format!("/api/v1/dealers/{}/figures?period=rolling_12_months", s.dealer), &s.manager).await;
    let f = &dashboard["figures"];
    assert_eq!(dec(&f["paid"]), Decimal::from(2000));
    assert_eq!(dec(&f["case_reserves"]), Decimal::from(4000));
    assert_eq!(dec(&f["incurred"]), Decimal::from(6000));
    assert_eq!(f["claim_count"], 1);
    let ratio = dec(&f["loss_ratio"]);
    assert_eq!(ratio, Decimal::from(6000) / dec(&f["earned_premium"]), "incurred ÷ earned, exactly");
    assert_eq!(f["referral_count"], 1, "repaired at the dealer's shop");
    assert_eq!(dec(&f["referral_value"]), Decimal::from(6000));
    assert_eq!(dashboard["claims_by_stage"]["settled"], 1);
    assert_eq!(dashboard["trend"].as_array().unwrap().len(), 12);
    // A day whose months cannot be counted is refused with the field named, not a server error.
    let response = app
        .client
        .get(app.url(&format!("/api/v1/dealers/{}/figures?on=9999-12-31", s.dealer)))
        .bearer_auth(&s.manager)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("\"on\""));
}

async fn a_dealer_above_target_raises_an_alert_and_tops_the_portfolio(app: TestApp) {
    let cm = setup(&app).await;
    let good = store(&app, "D001", cm).await;
    let bad = store(&app, "D002", cm).await;
    let start = today() - Duration::days(60);
    sell(&app, &good, 1, start).await;
    let policies = sell(&app, &bad, 2, start).await;
    let commercial = policies.iter().find(|p| p["product"] == "commercial").unwrap();
    claim(&app, &bad, commercial["policy_no"].as_str().unwrap(), "9000.00", "9000.00").await;
    let dashboard: Value =
        app.get_json(&format!("/api/v1/dealers/{}/figures?period=rolling_12_months", bad.dealer), &bad.manager).await;
    let kinds: Vec<&str> =
        dashboard["alerts"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"loss_ratio_above_target"), "{kinds:?}");
    assert!(kinds.contains(&"upside_down"), "repairs and claims outgrow the premium: {kinds:?}");
    let rows: Vec<Value> =
        app.get_json("/api/v1/portfolio?period=rolling_12_months&sort=loss_ratio&dir=desc", &bad.manager).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["code"], "D002", "the worst loss ratio first");
    assert!(rows[0]["alerts"].as_u64().unwrap() >= 2);
    let csv = app
        .client
        .get(app.url("/api/v1/portfolio?period=rolling_12_months&format=csv"))
        .bearer_auth(&bad.manager)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("车商,期间,签单保费"), "{csv}");
    assert!(csv.contains(&format!(" 至 {},", today())), "the period as of today: {csv}");
    assert_eq!(csv.lines().count(), 3);
}

async fn the_dashboard_and_portfolio_pages_render(app: TestApp) {
    let cm = setup(&app).await;
    let s = store(&app, "D001", cm).await;
    sell(&app, &s, 1, today() - Duration::days(40)).await;
    let (browser, _) = app.browser_login("cm").await;
    let html = browser.get(app.url("/portfolio")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("D001") && html.contains("赔付率"), "{html}");
    let html = browser
        .get(app.url(&format!("/dealers/{}/dashboard?period=quarter", s.dealer)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("理赔时效"), "cycle times are on the dashboard");
    for id in ["chart-premium", "chart-ratios", "chart-claims", "chart-referrals", "dashboard-data"] {
        assert!(html.contains(id), "{id} on the dashboard");
    }
    assert!(html.contains("/assets/vendor/echarts/echarts.min.js"));
    let script = browser.get(app.url("/assets/vendor/echarts/echarts.min.js")).send().await.unwrap();
    assert_eq!(script.status(), 200, "ECharts is embedded, not fetched from the internet");
}

async fn dealer_staff_see_only_their_own_dealers_figures(app: TestApp) {
    let cm = setup(&app).await;
    let own = store(&app, "D001", cm).await;
    let other = store(&app, "D002", cm).await;
    app.add_user("staff", Role::DealerStaff, &["D001"]).await;
    let staff = app.token("staff").await;
    let response = app
        .client
        .get(app.url(&format!("/api/v1/dealers/{}/figures", own.dealer)))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for path in [format!("/api/v1/dealers/{}/figures", other.dealer), format!("/dealers/{}/dashboard", other.dealer)] {
        let response = app.client.get(app.url(&path)).bearer_auth(&staff).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let portfolio = app.client.get(app.url("/api/v1/portfolio")).bearer_auth(&staff).send().await.unwrap();
    assert_eq!(portfolio.status(), 403, "the portfolio is the channel managers'");
    app.add_user("cm2", Role::ChannelManager, &[]).await;
    let rows: Vec<Value> = app.get_json("/api/v1/portfolio", &app.token("cm2").await).await;
    assert!(rows.is_empty(), "a channel manager sees only the dealers they own");
}

async fn alerts_are_raised_with_each_dealers_thresholds_and_acknowledged(app: TestApp) {
    let cm = setup(&app).await;
    let bad = store(&app, "D001", cm).await;
    let other = store(&app, "D002", cm).await;
    app.add_user("root", Role::Administrator, &[]).await;
    let admin = app.token("root").await;
    let policies = sell(&app, &bad, 1, today() - Duration::days(20)).await;
    let commercial = policies.iter().find(|p| p["product"] == "commercial").unwrap();
    // A small claim: a loss ratio around 10%, well under the default target of 75%.
    claim(&app, &bad, commercial["policy_no"].as_str().unwrap(), "30.00", "10.00").await;
    sell(&app, &other, 2, today() - Duration::days(20)).await;
    // D001 gets a far stricter loss-ratio target than the default.
    let path = |d: i64| format!("/api/v1/dealers/{d}/thresholds");
    let current: Value = app.get_json(&path(bad.dealer), &bad.manager).await;
    assert_eq!(current["version"], 0, "on the defaults");
    let mut lax = current["thresholds"].clone();
    lax["target_loss_ratio"] = json!("0.01");
    let bad_value = app.client.post(app.url(&path(bad.dealer))).bearer_auth(&bad.manager)
        .json(&json!({ "version": 0, "thresholds": { "target_loss_ratio": "0", "bands": lax["bands"], "rising_months": 3, "overdue_claims": 0 } }))
        .send().await.unwrap();
    assert_eq!(bad_value.status(), 422);
    post_ok(&app, &bad.manager, &path(bad.dealer), &json!({ "version": 0, "thresholds": lax })).await;
    let stale = app
        .client
        .post(app.url(&path(bad.dealer)))
        .bearer_auth(&bad.manager)
        .json(&json!({ "version": 0, "thresholds": lax }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);
    let raised = post_ok(&app, &admin, "/api/v1/alerts/raise", &json!({})).await;
    let alerts: Vec<Value> = app.get_json("/api/v1/alerts", &bad.manager).await;
    assert!(
        alerts.iter().any(|a| a["dealer_id"] == bad.dealer && a["kind"] == "loss_ratio_above_target"),
        "D001's own target of 1% is crossed, though the default 75% would not be: {alerts:?}"
    );
    assert!(alerts.iter().all(|a| a["dealer_id"] != other.dealer), "D002 has no claims: {alerts:?}");
    // Raising again adds nothing.
    let again = post_ok(&app, &admin, "/api/v1/alerts/raise", &json!({})).await;
    assert_eq!(again["raised"], 0, "first run raised {}", raised["raised"]);
    let alert = alerts.iter().find(|a| a["dealer_id"] == bad.dealer).unwrap();
    assert_eq!(alert["period_to"], (today() + Duration::days(1)).to_string(), "judged as of the day it ran");
    let ack = format!("/api/v1/alerts/{}/acknowledge", alert["id"]);
    let bare = app
        .client
        .post(app.url(&ack))
        .bearer_auth(&bad.manager)
        .json(&json!({ "version": alert["version"], "note": " " }))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 422, "an acknowledgement says what was done");
    let done = app
        .client
        .post(app.url(&ack))
        .bearer_auth(&bad.manager)
        .json(&json!({ "version": alert["version"], "note": "已约谈店总，下月复查" }))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 204);
    let open: Vec<Value> = app.get_json("/api/v1/alerts", &bad.manager).await;
    assert!(open.iter().all(|a| a["id"] != alert["id"]));
    let all: Vec<Value> = app.get_json("/api/v1/alerts?open=false", &bad.manager).await;
    let acknowledged = all.iter().find(|a| a["id"] == alert["id"]).unwrap();
    assert_eq!(acknowledged["note"], "已约谈店总，下月复查");
    // Another manager sees none of them.
    app.add_user("cm2", Role::ChannelManager, &[]).await;
    let theirs: Vec<Value> = app.get_json("/api/v1/alerts?open=false", &app.token("cm2").await).await;
    assert!(theirs.is_empty());
    let (browser, _) = app.browser_login("cm").await;
    let html = browser.get(app.url("/alerts?open=false")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("已约谈店总"));
    assert!(html.contains(&format!(" 至 {})", today())), "the days the alert's figures cover");
}

/// A small deterministic generator, so a failing sequence can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

async fn post_any(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = app.client.post(app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert!(status < 500, "{path}: {status} {text}");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Every write that moves a figure — issue, endorse, cancel, renew, report, register, survey with a repair at the
/// dealer, settle, pay, change a reserve, close, decline, withdraw, reopen, close a commission month — in random
/// order on two dealers. After each round the stored monthly totals equal the totals recomputed from the facts,
/// and each dealer's figures from the API equal the figures computed from the facts, for every kind of period.
async fn the_totals_stay_exact_through_random_writes(app: TestApp) {
    use autochannel::domain::monitoring::{self, Bands, Figures, Period, PeriodKind};
    let cm = setup(&app).await;
    let stores = [store(&app, "D001", cm).await, store(&app, "D002", cm).await];
    let mut rng = Lcg(0x2026_1202);
    // (store index, id) of every policy and claim made so far.
    let mut policies: Vec<(usize, i64)> = Vec::new();
    let mut claims: Vec<(usize, i64)> = Vec::new();
    let mut sold = 0;
    let mut ok = std::collections::BTreeMap::<String, usize>::new();
    for round in 0..5 {
        for _ in 0..20 {
            let op = rng.below(14);
            if op == 13 {
                // One car, two sales: compulsory now, commercial in a second quote. Monitoring counts one car.
                let s = rng.below(2) as usize;
                sold += 1;
                for (compulsory, commercial) in [(true, false), (false, true)] {
                    for p in sell_products(&app, &stores[s], 100 + sold, compulsory, commercial).await {
                        policies.push((s, p["id"].as_i64().unwrap()));
                    }
                }
                *ok.entry("split sale".into()).or_default() += 1;
                continue;
            }
            if policies.is_empty() || op < 2 {
                let s = rng.below(2) as usize;
                sold += 1;
                // Half start tomorrow as sold; half are moved to have started 1–60 days ago (with the totals rebuilt,
                // as after any change behind the service's back), so that claims can be reported on them.
                let issued = if op == 0 {
                    sell_now(&app, &stores[s], 100 + sold).await
                } else {
                    sell(&app, &stores[s], 100 + sold, today() - Duration::days(1 + rng.below(60) as i64)).await
                };
                for p in issued {
                    policies.push((s, p["id"].as_i64().unwrap()));
                }
                *ok.entry("issue".into()).or_default() += 1;
                continue;
            }
            let (s, policy_id) = policies[rng.below(policies.len() as u64) as usize];
            let st = &stores[s];
            let policy: Value = app.get_json(&format!("/api/v1/policies/{policy_id}"), &st.seller).await;
            let version = policy["version"].clone();
            let (name, body): (String, (u16, Value)) = match op {
                2 => {
                    let limit = ["1500000", "2000000", "3000000"][rng.below(3) as usize];
                    let body = json!({ "version": version, "coverages": { "compulsory": false, "vehicle_damage": true,
                        "third_party_limit": limit, "driver_limit": null, "passenger_limit": null, "riders": [] } });
                    (
                        "endorse".into(),
                        post_any(&app, &st.seller, &format!("/api/v1/policies/{policy_id}/endorse"), &body).await,
                    )
                }
                3 => {
                    // From the next 00:00 or later, the earliest a store may cancel; compulsory for a statutory reason.
                    let effective = today() + Duration::days(1 + rng.below(40) as i64);
                    let body = json!({ "version": version, "reason": "客户退保", "effective_date": effective,
                                       "statutory_reason": "deregistered" });
                    (
                        "cancel".into(),
                        post_any(&app, &st.seller, &format!("/api/v1/policies/{policy_id}/cancel"), &body).await,
                    )
                }
                4 => {
                    let (code, quote) =
                        post_any(&app, &st.seller, &format!("/api/v1/policies/{policy_id}/renew"), &json!(null)).await;
                    if code < 300 {
                        let (code, issued) =
                            post_any(&app, &st.seller, &format!("/api/v1/quotes/{}/issue", quote["id"]), &json!(null))
                                .await;
                        for p in issued.as_array().into_iter().flatten() {
                            policies.push((s, p["id"].as_i64().unwrap()));
                        }
                        ("renew".into(), (code, Value::Null))
                    } else {
                        ("renew".into(), (code, quote))
                    }
                }
                5 | 6 if policy["product"] == "commercial" => {
                    let accident =
                        (Utc::now() - Duration::hours(2)).with_timezone(&autochannel::store::claims::china());
                    let body = json!({ "policy_no": policy["policy_no"], "accident_at": accident.to_rfc3339(),
                        "reporter_name": "陈立", "reporter_phone": "13800138000", "place": "路口", "description": "追尾" });
                    let (code, c) = post_any(&app, &st.seller, "/api/v1/claims", &body).await;
                    if code < 300 {
                        claims.push((s, c["id"].as_i64().unwrap()));
                    }
                    ("report".into(), (code, c))
                }
                _ if !claims.is_empty() => {
                    let (s, claim_id) = claims[rng.below(claims.len() as u64) as usize];
                    let st = &stores[s];
                    let c: Value = app.get_json(&format!("/api/v1/claims/{claim_id}"), &st.adjuster).await;
                    let v = c["version"].clone();
                    let allowed: Vec<String> =
                        c["allowed"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
                    let path = |step: &str| format!("/api/v1/claims/{claim_id}/{step}");
                    // Mostly the next step forward (listed first), sometimes any allowed one, now and then a reserve change.
                    let pick = match (allowed.first(), rng.below(10)) {
                        (Some(next), 0..=5) => next.clone(),
                        (Some(_), 6..=8) => allowed[rng.below(allowed.len() as u64) as usize].clone(),
                        _ => "reserve".to_string(),
                    };
                    let reserve = format!("{}.00", 1000 + rng.below(9000));
                    let result = match pick.as_str() {
                        "register" => post_any(&app, &st.adjuster, &path("register"),
                            &json!({ "version": v, "reserves": [{ "coverage": "vehicle_damage", "reserve": reserve }] })).await,
                        "survey" => {
                            let (_, c) = post_any(&app, &st.adjuster, &path("loss-items"), &json!({ "version": v,
                                "category": "own_vehicle", "kind": "part", "description": "前保险杠", "quantity": "1",
                                "unit_price": reserve })).await;
                            let v = c["version"].clone();
                            post_any(&app, &st.adjuster, &path("survey"), &json!({ "version": v, "repair_at_dealer": rng.below(2) == 0 })).await
                        }
                        "settle" => post_any(&app, &st.adjuster, &path("settle"), &json!({ "version": v, "liability_share": "1" })).await,
                        "pay" => post_any(&app, &st.adjuster, &path("payments"), &json!({ "version": v,
                            "coverage": "vehicle_damage", "payee": "店", "amount": format!("{}.00", 100 + rng.below(900)) })).await,
                        "reopen" => post_any(&app, &st.adjuster, &path("reopen"), &json!({ "version": v,
                            "reserves": [{ "coverage": "vehicle_damage", "reserve": reserve }], "note": "补充损失" })).await,
                        "decline" | "withdraw" | "close" => post_any(&app, &st.adjuster, &path(&pick), &json!({ "version": v, "note": "随机" })).await,
                        _ => post_any(&app, &st.adjuster, &path("reserve"), &json!({ "version": v, "coverage": "vehicle_damage",
                            "reserve": reserve, "note": "重新估损" })).await,
                    };
                    (pick, result)
                }
                _ => continue,
            };
            if body.0 < 300 {
                *ok.entry(name).or_default() += 1;
            }
        }
        // And one claim all the way to a payment, on a policy in cover since before today.
        let s = round % 2;
        let started = sell(&app, &stores[s], 900 + round as u32, today() - Duration::days(20)).await;
        let commercial = started.iter().find(|p| p["product"] == "commercial").unwrap();
        for p in &started {
            policies.push((s, p["id"].as_i64().unwrap()));
        }
        let paid = claim(&app, &stores[s], commercial["policy_no"].as_str().unwrap(), "3000.00", "1000.00").await;
        claims.push((s, paid["id"].as_i64().unwrap()));
        *ok.entry("settle".into()).or_default() += 1;
        *ok.entry("pay".into()).or_default() += 1;
        if round == 2 {
            // A month close books any volume-tier true-ups and draws up statements.
            let tx = autochannel::store::begin_write(&app.db).await.unwrap();
            let last_month = today() - Duration::days(31);
            autochannel::store::commission::close_month(&tx, &Actor::system("test"), last_month).await.unwrap();
            tx.commit().await.unwrap();
        }
        app.assert_totals_exact().await;
    }
    for step in ["issue", "split sale", "endorse", "cancel", "report", "register", "survey", "settle", "pay"] {
        assert!(ok.get(step).copied().unwrap_or_default() > 0, "no successful {step} in {ok:?}");
    }
    let targets = autochannel::config::ServeConfig::default().service_targets();
    let facts = autochannel::store::monitoring::facts(&app.db, None, &targets, Utc::now()).await.unwrap();
    for s in &stores {
        for (kind, period_kind) in [
            ("month", PeriodKind::Month),
            ("quarter", PeriodKind::Quarter),
            ("year_to_date", PeriodKind::YearToDate),
            ("rolling_12_months", PeriodKind::Rolling12Months),
        ] {
            // As of today, the 1st of this month, a past day inside last month, and days to come.
            let first_of_month = today().with_day(1).unwrap();
            let past = first_of_month - Duration::days(12);
            for on in [today(), first_of_month, past, today() + Duration::days(40), today() + Duration::days(400)] {
                let path = format!("/api/v1/dealers/{}/figures?period={kind}&on={on}", s.dealer);
                let dashboard: Value = app.get_json(&path, &s.manager).await;
                let api: Figures = serde_json::from_value(dashboard["figures"].clone()).unwrap();
                let period = Period::to_date(period_kind, on);
                assert_eq!(api.period, period, "{path}: as of the day");
                let live = monitoring::figures(&facts, s.dealer, period, &Bands::default());
                assert_eq!(api, live, "{path}");
            }
        }
    }
}

/// A page of the dealer list is 200; the overview ranks all of a manager's dealers, so it must not stop there.
async fn the_portfolio_holds_every_dealer_beyond_a_page(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    app.add_user("cm001", Role::ChannelManager, &[]).await;
    let root = app.token("root").await;
    let mut csv = String::from("code,name,dealer_group,region,brands,has_repair_shop,status,channel_manager\n");
    for n in 0..205 {
        csv.push_str(&format!("D{n:04},店{n},集团,广东-深圳,丰田,否,正常,cm001\n"));
    }
    let imported = app
        .client
        .post(app.url("/api/v1/dealers/import"))
        .bearer_auth(&root)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200);
    let cm = app.token("cm001").await;
    let rows: Vec<Value> = app.get_json("/api/v1/portfolio?sort=code&dir=desc", &cm).await;
    assert_eq!(rows.len(), 205);
    assert_eq!(rows[0]["code"], "D0204");
}

/// Forty concurrent transactions add to one dealer-month: none is lost, readers see the sum, and on PostgreSQL
/// the writers spread over several rows of the key (the shards that keep them from queueing on one row lock).
async fn concurrent_writers_spread_over_shards_and_the_totals_add_up(app: TestApp) {
    use autochannel::domain::monitoring::{MonthKey, Rollup};
    use autochannel::store::totals;
    use sea_orm::{ConnectionTrait, Statement};

    let dealer_id = 990_001;
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let mut writers = Vec::new();
    for _ in 0..40 {
        let db = app.db.clone();
        writers.push(tokio::spawn(async move {
            let tx = autochannel::store::begin_write(&db).await.unwrap();
            totals::apply(&tx, &Rollup::written(dealer_id, day, 125)).await.unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let stored = totals::load(&app.db, Some(&[dealer_id]), None).await.unwrap();
    let written: i64 = stored.months.iter().filter(|(k, _)| k.dealer_id == dealer_id).map(|(_, t)| t.written_fen).sum();
    assert_eq!(written, 40 * 125, "every writer's 1.25 yuan is in the total");
    let keys: Vec<&MonthKey> = stored.months.keys().collect();
    assert_eq!(keys.len(), 1, "one key, whatever the rows: {keys:?}");
    let backend = app.db.get_database_backend();
    let rows = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM dealer_totals WHERE dealer_id = {dealer_id} AND grain = 0"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    match app.backend {
        common::Backend::Postgres => assert!(rows > 1, "40 writers on 8 shards used {rows} row(s)"),
        common::Backend::Sqlite => assert_eq!(rows, 1, "SQLite has one writer at a time and one row per key"),
    }
}

/// The dashboards' cycle times come from one stored row per closed claim: written at the closure with the claim's
/// real stage times, removed when it reopens, written again at the next closure; the dashboard's statistics equal
/// those computed from the claim's stage history.
async fn a_closure_keeps_its_cycle_until_the_claim_reopens(app: TestApp) {
    use autochannel::domain::monitoring::{self, Bands, Figures, Period, PeriodKind};
    use autochannel::store::totals;
    let cm = setup(&app).await;
    let s = store(&app, "D001", cm).await;
    let sold = sell(&app, &s, 1, today() - Duration::days(20)).await;
    let commercial = sold.iter().find(|p| p["product"] == "commercial").unwrap();
    let paid = claim(&app, &s, commercial["policy_no"].as_str().unwrap(), "3000.00", "1000.00").await;
    let id = paid["id"].as_i64().unwrap();
    // Backdate the stages so that each lasted whole, different hours (reported 5 h, registered 3 h, surveyed 2 h,
    // settled 1 h before the closure), as if worked over a day.
    let hours_ago = |h: i64| (Utc::now() - Duration::hours(h)).format("%Y-%m-%d %H:%M:%S+00:00").to_string();
    for (stage, hours) in [("reported", 11), ("registered", 6), ("surveyed", 3)] {
        app.sql(&format!(
            "UPDATE claim_transitions SET at = '{}' WHERE claim_id = {id} AND to_stage = '{stage}'",
            hours_ago(hours)
        ))
        .await
        .unwrap();
    }
    app.sql(&format!("UPDATE claims SET reported_at = '{}' WHERE id = {id}", hours_ago(11))).await.unwrap();
    app.sql(&format!(
        "UPDATE claim_transitions SET at = '{}' WHERE claim_id = {id} AND to_stage = 'settled'",
        hours_ago(1)
    ))
    .await
    .unwrap();
    assert!(totals::cycles(&app.db, Some(s.dealer), None).await.unwrap().is_empty(), "no cycle before the closure");

    let c: Value = app.get_json(&format!("/api/v1/claims/{id}"), &s.adjuster).await;
    // 2,000 of the settlement is left unpaid: it is withdrawn with its reason before the claim can close.
    let c = post_ok(
        &app,
        &s.adjuster,
        &format!("/api/v1/claims/{id}/settlement/withdraw"),
        &json!({ "version": c["version"], "note": "余款由第三方承担" }),
    )
    .await;
    let closed =
        post_ok(&app, &s.adjuster, &format!("/api/v1/claims/{id}/close"), &json!({ "version": c["version"] })).await;
    let cycles = totals::cycles(&app.db, Some(s.dealer), None).await.unwrap();
    assert_eq!(cycles.len(), 1, "one cycle per closed claim");
    let [reported, registered, surveyed, settled] =
        cycles[0].stage_us.map(|us| us.map(|us| (us + 1_800_000_000) / 3_600_000_000));
    // Whole hours, rounded: the closure came a moment after the backdated "settled" hour.
    assert_eq!((reported, registered, surveyed, settled), (Some(5), Some(3), Some(2), Some(1)));
    assert_eq!((cycles[0].report_to_close_us + 1_800_000_000) / 3_600_000_000, 11);
    app.assert_totals_exact().await;

    let reopened = post_ok(
        &app,
        &s.adjuster,
        &format!("/api/v1/claims/{id}/reopen"),
        &json!({ "version": closed["version"], "note": "补充损失",
            "reserves": [{ "coverage": "vehicle_damage", "reserve": "500.00" }] }),
    )
    .await;
    assert!(totals::cycles(&app.db, Some(s.dealer), None).await.unwrap().is_empty(), "a reopened claim has no cycle");
    app.assert_totals_exact().await;

    let c: Value = app.get_json(&format!("/api/v1/claims/{id}"), &s.adjuster).await;
    assert_eq!(c["stage"], "surveyed", "reopened to surveyed: {reopened}");
    let path = |step: &str| format!("/api/v1/claims/{id}/{step}");
    let settled =
        post_ok(&app, &s.adjuster, &path("settle"), &json!({ "version": c["version"], "liability_share": "1" })).await;
    let withdrawn = post_ok(
        &app,
        &s.adjuster,
        &path("settlement/withdraw"),
        &json!({ "version": settled["version"], "note": "余款由第三方承担" }),
    )
    .await;
    post_ok(&app, &s.adjuster, &path("close"), &json!({ "version": withdrawn["version"] })).await;
    let again = totals::cycles(&app.db, Some(s.dealer), None).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(again[0].closed_at > cycles[0].closed_at, "the second closure's time");
    assert!(again[0].stage_us[2] > cycles[0].stage_us[2], "the survey stage counts both visits");
    app.assert_totals_exact().await;

    // The dashboard's statistics from the stored cycles equal those from the facts.
    let targets = autochannel::config::ServeConfig::default().service_targets();
    let facts = autochannel::store::monitoring::facts(&app.db, None, &targets, Utc::now()).await.unwrap();
    let dashboard: Value =
        app.get_json(&format!("/api/v1/dealers/{}/figures?period=month", s.dealer), &s.manager).await;
    let api: Figures = serde_json::from_value(dashboard["figures"].clone()).unwrap();
    let live = monitoring::figures(&facts, s.dealer, Period::to_date(PeriodKind::Month, today()), &Bands::default());
    assert_eq!(api, live);
    assert_eq!(api.cycle.as_ref().map(|c| c.closed), Some(1));
}

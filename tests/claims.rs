//! Claims end to end: report → register → survey → settle → close, with
//! decline, withdraw and reopen; settlement with approval; payments within
//! the payable; documents by hash; the owner's look-up; scoping.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::config::ServeConfig;
use autochannel::domain::auth::Role;
use autochannel::store::audit::Actor;
use autochannel::store::users::{self, Qualification};
use chrono::{Duration, NaiveDate, Utc};
use common::{Backend, TestApp, hidden_field};
use serde_json::{Value, json};

on_both_databases!(
    an_adjuster_takes_a_claim_from_report_to_close,
    a_settlement_above_authority_needs_another_adjuster,
    illegal_steps_name_the_allowed_ones,
    two_adjusters_acting_at_once_cannot_both_win,
    the_same_report_key_reports_once_and_the_same_payment_key_pays_once,
    no_claim_without_a_policy_in_force,
    payments_never_exceed_the_payable,
    compulsory_pays_first_within_its_limits,
    documents_are_stored_by_hash_and_repeats_are_flagged,
    a_reopened_claim_is_settled_again_for_the_difference,
    a_second_report_on_the_vehicle_is_flagged,
    sellers_and_dealer_staff_see_only_their_stores_claims,
    the_owner_sees_the_stage_and_nothing_else,
    the_queue_filters_and_shows_overdue_claims,
    an_adjuster_works_a_claim_on_the_pages,
    a_seller_reports_from_the_phone_form,
    the_renewal_is_priced_from_the_cars_claims,
    a_cancellation_today_leaves_this_mornings_accident_covered,
    a_minimal_answer_is_the_claim_alone,
    a_reopened_claim_above_authority_needs_an_approver,
    cover_added_after_the_accident_pays_nothing,
    third_party_pays_only_above_the_compulsory_sub_limit_held_elsewhere,
    each_passenger_is_paid_up_to_the_per_seat_limit,
    a_claim_with_approved_money_unpaid_cannot_close,
    random_claim_work_keeps_the_books,
);

const VIN: &str = "1M8GDM9AXKP042788";
const ID_NUMBER: &str = "11010519491231002X";
const PLATE: &str = "粤B12345";

fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// A minute ago, in China time, as RFC 3339.
fn a_minute_ago() -> String {
    (Utc::now() - Duration::minutes(1)).with_timezone(&autochannel::store::claims::china()).to_rfc3339()
}

struct Store {
    dealer: i64,
    seller: String,
    adjuster: String,
    lead: String,
    junior: String,
    policy_no: String,
    compulsory_no: String,
}

async fn certify(app: &TestApp, user: i64) {
    let tx = autochannel::store::begin_write(&app.db).await.unwrap();
    let certificate = Qualification {
        certificate_no: format!("QC-{user}"),
        valid_from: today() - Duration::days(400),
        valid_to: today() + Duration::days(400),
    };
    users::add_qualification(&tx, &Actor::system("test"), user, certificate).await.unwrap();
    tx.commit().await.unwrap();
}

async fn authority(app: &TestApp, user: i64, yuan: i64) {
    app.sql(&format!("UPDATE users SET authority_limit_fen = {} WHERE id = {user}", yuan * 100)).await.unwrap();
}

/// A store D001 (with its own repair shop) and a seller who has issued a compulsory and a
/// commercial policy (vehicle damage, third party 1,000,000) that started 30 days ago.
async fn store(app: &TestApp) -> Store {
    let dealer = app.add_dealer("D001", None).await;
    let sa = app.add_user("sa", Role::SalesAssistant, &["D001"]).await;
    certify(app, sa).await;
    let adj = app.add_user("adj", Role::ClaimsAdjuster, &[]).await;
    let lead = app.add_user("lead", Role::ClaimsAdjuster, &[]).await;
    let junior = app.add_user("junior", Role::ClaimsAdjuster, &[]).await;
    authority(app, adj, 50_000).await;
    authority(app, lead, 1_000_000).await;
    authority(app, junior, 5_000).await;
    let seller = app.token("sa").await;
    let (policy_no, compulsory_no) = issue(app, &seller, dealer, VIN, PLATE).await;
    Store {
        dealer,
        seller,
        adjuster: app.token("adj").await,
        lead: app.token("lead").await,
        junior: app.token("junior").await,
        policy_no,
        compulsory_no,
    }
}

/// Issues both policies for a vehicle and moves their period back 30 days; returns the
/// commercial and compulsory policy numbers.
async fn issue(app: &TestApp, seller: &str, dealer: i64, vin: &str, plate: &str) -> (String, String) {
    let coverages = json!({ "compulsory": true, "vehicle_damage": true, "third_party_limit": "1000000",
                            "driver_limit": "10000", "passenger_limit": null, "riders": [] });
    issue_with(app, seller, dealer, vin, plate, coverages).await
}

/// [`issue`] with the coverages given; the compulsory number is empty when compulsory is not bought here.
async fn issue_with(
    app: &TestApp,
    seller: &str,
    dealer: i64,
    vin: &str,
    plate: &str,
    coverages: Value,
) -> (String, String) {
    let body = json!({
        "dealer_id": dealer, "business_type": "new_car",
        "vehicle": { "vin": vin, "plate": plate, "first_registration": "2024-03-15", "new_car_price": "200000.00", "seats": 5 },
        "owner": { "name": "陈立", "id_number": ID_NUMBER, "phone": "138 0013 8000" },
        "accident_history": "new_or_no_record", "ncd_level": 0,
        "coverages": coverages
    });
    let quote: Value = post(app, seller, "/api/v1/quotes", &body).await.json().await.unwrap();
    let response = post(app, seller, &format!("/api/v1/quotes/{}/issue", quote["id"]), &json!(null)).await;
    assert_eq!(response.status(), 201);
    let policies: Vec<Value> = response.json().await.unwrap();
    let start = today() - Duration::days(30);
    let end = start + Duration::days(365);
    for p in &policies {
        app.sql(&format!("UPDATE policies SET start_date = '{start}', end_date = '{end}' WHERE id = {}", p["id"]))
            .await
            .unwrap();
    }
    let number = |product: &str| {
        policies
            .iter()
            .find(|p| p["product"] == product)
            .map(|p| p["policy_no"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    (number("commercial"), number("compulsory"))
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client.post(app.url(path)).bearer_auth(token).json(body).send().await.unwrap()
}

async fn post_ok(app: &TestApp, token: &str, path: &str, body: &Value) -> Value {
    let response = post(app, token, path, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

fn report_body(policy_no: &str) -> Value {
    json!({
        "policy_no": policy_no, "accident_at": a_minute_ago(), "reporter_name": "陈立",
        "reporter_phone": "13800138000", "place": "深圳市南山区科技园", "description": "追尾前车，前保险杠受损"
    })
}

async fn report(app: &TestApp, token: &str, policy_no: &str) -> Value {
    let response = post(app, token, "/api/v1/claims", &report_body(policy_no)).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn path(claim: &Value, step: &str) -> String {
    format!("/api/v1/claims/{}/{step}", claim["id"])
}

/// Registers, adds loss items and finishes the survey; returns the claim as it then stands.
async fn surveyed(app: &TestApp, s: &Store, claim: &Value, items: &[(&str, &str)]) -> Value {
    let mut c = post_ok(
        app,
        &s.adjuster,
        &path(claim, "register"),
        &json!({ "version": claim["version"], "reserves": [{ "coverage": "vehicle_damage", "reserve": "8000.00" }] }),
    )
    .await;
    for (category, amount) in items {
        c = post_ok(
            app,
            &s.adjuster,
            &path(claim, "loss-items"),
            &json!({ "version": c["version"], "category": category, "kind": "part", "description": "前保险杠",
                     "quantity": "1", "unit_price": amount }),
        )
        .await;
    }
    post_ok(app, &s.adjuster, &path(claim, "survey"), &json!({ "version": c["version"], "repair_at_dealer": true }))
        .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let statement = sea_orm::Statement::from_string(app.db.get_database_backend(), sql.to_string());
    app.db.query_one_raw(statement).await.unwrap().unwrap().try_get::<i64>("", "n").unwrap()
}

fn reserve_of(claim: &Value) -> String {
    claim["reserve"].as_str().unwrap().to_string()
}

async fn an_adjuster_takes_a_claim_from_report_to_close(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    assert_eq!(claim["stage"], "reported");
    assert!(claim["claim_no"].as_str().unwrap().starts_with("CL"));
    assert_eq!(claim["allowed"], json!(["register", "decline", "withdraw"]));

    let c = surveyed(&app, &s, &claim, &[("own_vehicle", "6000.00")]).await;
    assert_eq!(c["stage"], "surveyed");
    assert_eq!(c["repair_at_dealer"], true);
    assert_eq!(reserve_of(&c), "8000.00", "the initial reserve stands until settlement");
    let referrals = count(
        &app,
        &format!("SELECT COUNT(*) AS n FROM repair_referrals WHERE dealer_id = {} AND value_fen = 600000", s.dealer),
    )
    .await;
    assert_eq!(referrals, 1, "a repair at the dealer's shop is a referral with its value");

    // 6,000 own-vehicle damage, share 100%, deductible 500: (6000 − 500) × 1 = 5,500 within 50,000 authority.
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "settle"),
        &json!({ "version": c["version"], "liability_share": "1", "deductibles": { "vehicle_damage": "500" } }),
    )
    .await;
    assert_eq!(c["stage"], "settled");
    let line = &c["settlements"][0]["calculation"]["lines"][0];
    assert_eq!(line["coverage"], "vehicle_damage");
    assert_eq!(line["owed"], "5500.00");
    assert!(!line["steps"].as_array().unwrap().is_empty(), "the calculation is explained");
    assert_eq!(reserve_of(&c), "5500.00", "the reserve becomes what is left to pay");

    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "payments"),
        &json!({ "version": c["version"], "coverage": "vehicle_damage", "payee": "D001 4S店", "amount": "5500.00" }),
    )
    .await;
    assert_eq!(reserve_of(&c), "0.00");
    assert_eq!(c["paid"], "5500.00");
    let c = post_ok(&app, &s.adjuster, &path(&claim, "close"), &json!({ "version": c["version"] })).await;
    assert_eq!(c["stage"], "closed");
    assert_eq!(c["allowed"], json!(["reopen"]));
    let steps: Vec<&str> =
        c["transitions"].as_array().unwrap().iter().map(|t| t["transition"].as_str().unwrap()).collect();
    for step in ["report", "register", "survey", "settle", "pay", "close"] {
        assert!(steps.contains(&step), "{step} is on the timeline: {steps:?}");
    }
    // Each step names who took it; the file names its policy and whether the dealer repairs in its own shop.
    let actors: Vec<(&str, &str)> = c["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["transition"].as_str().unwrap(), t["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(actors[0], ("report", "sa 测试"), "{actors:?}");
    assert!(actors[1..].iter().all(|(_, actor)| *actor == "adj 测试"), "{actors:?}");
    assert_eq!(c["policy_no"], s.policy_no.as_str());
    assert_eq!(c["dealer_has_repair_shop"], true);
    // Closed means read-only.
    let refused = post(
        &app,
        &s.adjuster,
        &path(&claim, "loss-items"),
        &json!({ "version": c["version"], "category": "own_vehicle", "kind": "part", "description": "x", "quantity": "1", "unit_price": "1" }),
    )
    .await;
    assert_eq!(refused.status(), 409);
    app.add_user("root", Role::Administrator, &[]).await;
    let verify: Value = app.get_json("/api/v1/audit/verify", &app.token("root").await).await;
    assert_eq!(verify["intact"], true, "{verify}");
}

async fn a_settlement_above_authority_needs_another_adjuster(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let c = surveyed(&app, &s, &claim, &[("own_vehicle", "60000.00")]).await;
    // 60,000 is above the adjuster's 50,000: it waits.
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "settle"),
        &json!({ "version": c["version"], "liability_share": "1" }),
    )
    .await;
    assert_eq!(c["stage"], "surveyed");
    assert_eq!(c["settlements"][0]["status"], "pending_approval");
    assert_eq!(c["settlements"][0]["total"], "60000.00");
    // Not by the proposer, not by someone with too little authority.
    let own = post(&app, &s.adjuster, &path(&claim, "approve"), &json!({ "version": c["version"] })).await;
    assert_eq!(own.status(), 409);
    let low = post(&app, &s.junior, &path(&claim, "approve"), &json!({ "version": c["version"] })).await;
    assert_eq!(low.status(), 409);
    let body: Value = low.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("authority"), "{body}");
    // Paying before approval is refused.
    let early = post(
        &app,
        &s.lead,
        &path(&claim, "payments"),
        &json!({ "version": c["version"], "coverage": "vehicle_damage", "payee": "x", "amount": "1.00" }),
    )
    .await;
    assert_eq!(early.status(), 409);
    let c =
        post_ok(&app, &s.lead, &path(&claim, "approve"), &json!({ "version": c["version"], "note": "核实无误" })).await;
    assert_eq!(c["stage"], "settled");
    assert_eq!(c["settlements"][0]["status"], "approved");
    assert_eq!(reserve_of(&c), "60000.00");
}

async fn illegal_steps_name_the_allowed_ones(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let early =
        post(&app, &s.adjuster, &path(&claim, "settle"), &json!({ "version": 1, "liability_share": "1" })).await;
    assert_eq!(early.status(), 409);
    assert!(early.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json"));
    let body: Value = early.json().await.unwrap();
    assert_eq!(body["code"], "illegal_transition");
    assert_eq!(body["allowed"], json!(["register", "decline", "withdraw"]));
    for step in ["close", "reopen", "survey"] {
        let response = post(&app, &s.adjuster, &path(&claim, step), &json!({ "version": 1 })).await;
        assert_eq!(response.status(), 409, "{step} from reported");
    }
    // Declining needs its reason.
    let bare = post(&app, &s.adjuster, &path(&claim, "decline"), &json!({ "version": 1 })).await;
    assert_eq!(bare.status(), 422);
    let c = post_ok(&app, &s.adjuster, &path(&claim, "decline"), &json!({ "version": 1, "note": "非保险责任" })).await;
    assert_eq!(c["stage"], "declined");
    assert_eq!(c["decline_reason"], "非保险责任");
    let after = post(&app, &s.adjuster, &path(&claim, "withdraw"), &json!({ "version": c["version"] })).await;
    assert_eq!(after.status(), 409);
    let body: Value = after.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("final"), "{body}");
    // A seller may withdraw (for the reporter) but not register.
    let other = report(&app, &s.seller, &s.policy_no).await;
    let register = post(&app, &s.seller, &path(&other, "register"), &json!({ "version": 1, "reserves": [] })).await;
    assert_eq!(register.status(), 403);
    let c = post_ok(&app, &s.seller, &path(&other, "withdraw"), &json!({ "version": 1, "note": "客户自行处理" })).await;
    assert_eq!(c["stage"], "withdrawn");
}

async fn two_adjusters_acting_at_once_cannot_both_win(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let body = json!({ "version": 1, "reserves": [{ "coverage": "vehicle_damage", "reserve": "5000" }] });
    let register = path(&claim, "register");
    let (a, b) = tokio::join!(post(&app, &s.adjuster, &register, &body), post(&app, &s.lead, &register, &body));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let file: Value = app.get_json(&format!("/api/v1/claims/{}", claim["id"]), &s.adjuster).await;
    assert_eq!(file["reserve"], "5000.00", "one initial reserve, not two");
    assert_eq!(file["version"], 2);
}

async fn the_same_report_key_reports_once_and_the_same_payment_key_pays_once(app: TestApp) {
    let s = store(&app).await;
    let body = report_body(&s.policy_no);
    let send = || {
        app.client
            .post(app.url("/api/v1/claims"))
            .bearer_auth(&s.seller)
            .header("Idempotency-Key", "fnol-1")
            .json(&body)
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 201);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    let list: Value = app.get_json("/api/v1/claims", &s.adjuster).await;
    assert_eq!(list["total"], 1);

    let c = surveyed(&app, &s, &first, &[("own_vehicle", "3000.00")]).await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&first, "settle"),
        &json!({ "version": c["version"], "liability_share": "1" }),
    )
    .await;
    let payment =
        json!({ "version": c["version"], "coverage": "vehicle_damage", "payee": "陈立", "amount": "1000.00" });
    let pay = || {
        app.client
            .post(app.url(&path(&first, "payments")))
            .bearer_auth(&s.adjuster)
            .header("Idempotency-Key", "pay-1")
            .json(&payment)
            .send()
    };
    assert_eq!(pay().await.unwrap().status(), 201);
    assert_eq!(pay().await.unwrap().status(), 201);
    let file: Value = app.get_json(&format!("/api/v1/claims/{}", first["id"]), &s.adjuster).await;
    assert_eq!(file["payments"].as_array().unwrap().len(), 1, "one payment for one key");
    assert_eq!(file["paid"], "1000.00");
}

async fn no_claim_without_a_policy_in_force(app: TestApp) {
    let s = store(&app).await;
    let refused = |body: Value| {
        let app = &app;
        let token = s.seller.clone();
        async move {
            let response = post(app, &token, "/api/v1/claims", &body).await;
            assert_eq!(response.status(), 422);
            let problem: Value = response.json().await.unwrap();
            problem["errors"][0].clone()
        }
    };
    // Not yet started: move the period to start tomorrow.
    let tomorrow = today() + Duration::days(1);
    app.sql(&format!("UPDATE policies SET start_date = '{tomorrow}', end_date = '{}'", tomorrow + Duration::days(365)))
        .await
        .unwrap();
    let error = refused(report_body(&s.policy_no)).await;
    assert_eq!(error["code"], "not_in_force");
    assert!(error["message"].as_str().unwrap().contains("had not started"), "{error}");
    // Expired.
    let start = today() - Duration::days(400);
    app.sql(&format!("UPDATE policies SET start_date = '{start}', end_date = '{}'", start + Duration::days(365)))
        .await
        .unwrap();
    let error = refused(report_body(&s.policy_no)).await;
    assert!(error["message"].as_str().unwrap().contains("expired"), "{error}");
    // Cancelled before the accident.
    let start = today() - Duration::days(30);
    app.sql(&format!(
        "UPDATE policies SET start_date = '{start}', end_date = '{}', status = 'cancelled', cancelled_from = '{}'",
        start + Duration::days(365),
        today() - Duration::days(2)
    ))
    .await
    .unwrap();
    let error = refused(report_body(&s.policy_no)).await;
    assert!(error["message"].as_str().unwrap().contains("cancelled"), "{error}");
    // By plate, with an unknown plate: no policy.
    let error = refused(json!({ "plate": "粤B99999", "accident_at": a_minute_ago(), "reporter_name": "x",
        "reporter_phone": "13800138000", "place": "x", "description": "x" }))
    .await;
    assert_eq!(error["code"], "no_policy");
    // Every bad field at once.
    let response = post(
        &app,
        &s.seller,
        "/api/v1/claims",
        &json!({ "plate": "B1", "accident_at": "2099-01-01T00:00:00+08:00",
        "reporter_name": "", "reporter_phone": "12", "place": "", "description": "" }),
    )
    .await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for field in ["accident_at", "reporter_name", "reporter_phone", "place", "description", "plate"] {
        assert!(fields.contains(&field), "{field} named in {fields:?}");
    }
}

async fn payments_never_exceed_the_payable(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let c = surveyed(&app, &s, &claim, &[("own_vehicle", "3000.00")]).await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "settle"),
        &json!({ "version": c["version"], "liability_share": "0.5" }),
    )
    .await;
    // (3000 − 0) × 0.5 = 1,500.00 payable.
    assert_eq!(c["settlements"][0]["total"], "1500.00");
    let pay = |version: &Value, amount: &str| json!({ "version": version, "coverage": "vehicle_damage", "payee": "陈立", "amount": amount });
    let too_much = post(&app, &s.adjuster, &path(&claim, "payments"), &pay(&c["version"], "1500.01")).await;
    assert_eq!(too_much.status(), 422);
    let c = post_ok(&app, &s.adjuster, &path(&claim, "payments"), &pay(&c["version"], "1000.00")).await;
    let c = post_ok(&app, &s.adjuster, &path(&claim, "payments"), &pay(&c["version"], "500.00")).await;
    let one_fen = post(&app, &s.adjuster, &path(&claim, "payments"), &pay(&c["version"], "0.01")).await;
    assert_eq!(one_fen.status(), 422);
    let problem: Value = one_fen.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "above_payable");
    let wrong = post(
        &app,
        &s.adjuster,
        &path(&claim, "payments"),
        &json!({ "version": c["version"], "coverage": "third_party", "payee": "x", "amount": "1" }),
    )
    .await;
    assert_eq!(wrong.status(), 422, "nothing is payable under a coverage the settlement did not hit");
    assert_eq!(c["paid"], "1500.00");
    assert_eq!(reserve_of(&c), "0.00");
}

async fn compulsory_pays_first_within_its_limits(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.compulsory_no).await;
    assert!(claim["compulsory_policy_id"].is_i64() && claim["commercial_policy_id"].is_i64(), "both policies answer");
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "register"),
        &json!({ "version": 1, "reserves": [{ "coverage": "compulsory_property", "reserve": "2000" }, { "coverage": "third_party", "reserve": "3000" }] }),
    )
    .await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "loss-items"),
        &json!({ "version": c["version"], "category": "third_party_property",
        "kind": "other", "description": "对方车辆修复", "quantity": "1", "unit_price": "5000.00" }),
    )
    .await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "survey"),
        &json!({ "version": c["version"], "repair_shop": "对方指定修理厂" }),
    )
    .await;
    // At fault (share 0.5): compulsory property pays 2,000 first; third party (5000 − 2000 − 0) × 0.5 = 1,500.
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "settle"),
        &json!({ "version": c["version"], "liability_share": "0.5" }),
    )
    .await;
    let lines = c["settlements"][0]["calculation"]["lines"].as_array().unwrap();
    assert_eq!(lines[0]["coverage"], "compulsory_property");
    assert_eq!(lines[0]["owed"], "2000.00");
    assert_eq!(lines[1]["coverage"], "third_party");
    assert_eq!(lines[1]["compulsory_part"], "2000.00");
    assert_eq!(lines[1]["owed"], "1500.00");
    assert_eq!(c["settlements"][0]["total"], "3500.00");
    assert_eq!(c["repair_at_dealer"], false);
}

/// The smallest valid JPEG header and some bytes: enough for the type check.
fn jpeg(fill: u8, len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(len, fill);
    bytes
}

async fn upload(app: &TestApp, token: &str, claim: &Value, version: &Value, bytes: Vec<u8>) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("version", version.to_string())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("photo.jpg"));
    app.client.post(app.url(&path(claim, "documents"))).bearer_auth(token).multipart(form).send().await.unwrap()
}

async fn documents_are_stored_by_hash_and_repeats_are_flagged(app: TestApp) {
    let s = store(&app).await;
    let first = report(&app, &s.seller, &s.policy_no).await;
    let photo = jpeg(7, 4096);
    let response = upload(&app, &s.seller, &first, &first["version"], photo.clone()).await;
    assert_eq!(response.status(), 200);
    let file: Value = response.json().await.unwrap();
    use sha2::Digest;
    let expected = hex::encode(sha2::Sha256::digest(&photo));
    assert_eq!(file["documents"][0]["sha256"], expected.as_str());
    assert_eq!(file["documents"][0]["content_type"], "image/jpeg");
    assert_eq!(file["documents"][0]["size_bytes"], 4096);
    // It can be read back, byte for byte.
    let download = app
        .client
        .get(app.url(&format!("/api/v1/claims/{}/documents/{}", first["id"], file["documents"][0]["id"])))
        .bearer_auth(&s.adjuster)
        .send()
        .await
        .unwrap();
    assert_eq!(download.bytes().await.unwrap().to_vec(), photo);
    // Not an image or a PDF.
    let text = upload(&app, &s.seller, &first, &file["version"], b"hello, not a photo".to_vec()).await;
    assert_eq!(text.status(), 415);
    // The same photo on another claim of another vehicle.
    let other_vin = autochannel::domain::underwriting::identity::with_vin_check_digit("LSVAU2180N2183294").unwrap();
    let (other_policy, _) = issue(&app, &s.seller, s.dealer, &other_vin, "粤B54321").await;
    let second = report(&app, &s.seller, &other_policy).await;
    let response = upload(&app, &s.seller, &second, &second["version"], photo).await;
    let file: Value = response.json().await.unwrap();
    assert_eq!(file["documents"][0]["also_on_claims"], json!([first["claim_no"]]));
    let codes: Vec<&str> = file["signals"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"duplicate_document"), "{codes:?}");
}

async fn documents_over_the_limit_are_refused(backend: Backend) {
    let config = ServeConfig { document_max_bytes: 2048, ..common::test_config() };
    let app = TestApp::start_with(backend, config).await;
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let response = upload(&app, &s.seller, &claim, &claim["version"], jpeg(1, 4096)).await;
    assert_eq!(response.status(), 413);
    let file: Value = app.get_json(&format!("/api/v1/claims/{}", claim["id"]), &s.adjuster).await;
    assert!(file["documents"].as_array().unwrap().is_empty());
    assert_eq!(upload(&app, &s.seller, &claim, &claim["version"], jpeg(1, 2048)).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_over_the_limit_are_refused_on_sqlite() {
    documents_over_the_limit_are_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_over_the_limit_are_refused_on_postgres() {
    documents_over_the_limit_are_refused(Backend::Postgres).await;
}

async fn a_reopened_claim_is_settled_again_for_the_difference(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let c = surveyed(&app, &s, &claim, &[("own_vehicle", "4000.00")]).await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "settle"),
        &json!({ "version": c["version"], "liability_share": "1" }),
    )
    .await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "payments"),
        &json!({ "version": c["version"], "coverage": "vehicle_damage", "payee": "陈立", "amount": "4000.00" }),
    )
    .await;
    let c = post_ok(&app, &s.adjuster, &path(&claim, "close"), &json!({ "version": c["version"] })).await;
    let bare = post(
        &app,
        &s.adjuster,
        &path(&claim, "reopen"),
        &json!({ "version": c["version"], "reserves": [{ "coverage": "vehicle_damage", "reserve": "1000" }] }),
    )
    .await;
    assert_eq!(bare.status(), 422, "reopening needs its reason");
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "reopen"),
        &json!({ "version": c["version"], "note": "发现隐损",
        "reserves": [{ "coverage": "vehicle_damage", "reserve": "1000" }] }),
    )
    .await;
    assert_eq!(c["stage"], "surveyed");
    assert_eq!(c["reopen_count"], 1);
    assert_eq!(reserve_of(&c), "1000.00");
    // The extra hidden damage is assessed; the vehicle-damage limit counts what was already paid.
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "loss-items"),
        &json!({ "version": c["version"], "category": "own_vehicle",
        "kind": "labour", "description": "隐损修复", "quantity": "1", "unit_price": "800.00" }),
    )
    .await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "settle"),
        &json!({ "version": c["version"], "liability_share": "1" }),
    )
    .await;
    let latest = c["settlements"].as_array().unwrap().last().unwrap().clone();
    let due = &latest["calculation"]["dues"][0];
    // Pay once: 4,800 owed on all the assessed loss, 4,000 already paid, 800 payable now.
    assert_eq!(
        (due["owed"].as_str(), due["paid_before"].as_str(), due["payable"].as_str()),
        (Some("4800.00"), Some("4000.00"), Some("800.00"))
    );
    assert_eq!(latest["calculation"]["total"], "800.00");
    assert_eq!(reserve_of(&c), "800.00", "the reserve is what is still owed");
    let pay = |version: &Value, amount: &str| json!({ "version": version, "coverage": "vehicle_damage", "payee": "陈立", "amount": amount });
    let twice = post(&app, &s.adjuster, &path(&claim, "payments"), &pay(&c["version"], "4000.00")).await;
    assert_eq!(twice.status(), 422, "the same loss is not paid twice");
    let problem: Value = twice.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "above_payable");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("vehicle_damage") && message.contains("800.00 still payable"), "{message}");
    let c = post_ok(&app, &s.adjuster, &path(&claim, "payments"), &pay(&c["version"], "800.00")).await;
    assert_eq!(c["paid"], "4800.00");
    assert_eq!(reserve_of(&c), "0.00", "incurred is what was paid");
    // Reopened again with nothing new found: settling pays nothing more.
    let c = close_and_reopen(&app, &s, &claim, &c, "客户要求复核", "100").await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "settle"),
        &json!({ "version": c["version"], "liability_share": "1" }),
    )
    .await;
    assert_eq!(c["settlements"].as_array().unwrap().last().unwrap()["calculation"]["total"], "0.00");
    let again = post(&app, &s.adjuster, &path(&claim, "payments"), &pay(&c["version"], "4000.00")).await;
    assert_eq!(again.status(), 422);
    assert_eq!(reserve_of(&c), "0.00");
}

async fn a_second_report_on_the_vehicle_is_flagged(app: TestApp) {
    let s = store(&app).await;
    let first = report(&app, &s.seller, &s.policy_no).await;
    assert!(first["possible_duplicates"].as_array().unwrap().is_empty());
    let by_plate = post_ok(
        &app,
        &s.seller,
        "/api/v1/claims",
        &json!({ "plate": "粤b12345", "accident_at": a_minute_ago(),
        "reporter_name": "陈立", "reporter_phone": "13800138000", "place": "同一地点", "description": "再次报案" }),
    )
    .await;
    assert_eq!(by_plate["possible_duplicates"], json!([first["claim_no"]]));
    let codes: Vec<&str> =
        by_plate["signals"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"repeat_vehicle"), "{codes:?}");
}

async fn sellers_and_dealer_staff_see_only_their_stores_claims(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    app.add_dealer("D002", None).await;
    let other = app.add_user("sa2", Role::SalesAssistant, &["D002"]).await;
    certify(&app, other).await;
    app.add_user("staff", Role::DealerStaff, &["D001"]).await;
    app.add_user("staff2", Role::DealerStaff, &["D002"]).await;
    let other = app.token("sa2").await;
    let id = claim["id"].as_i64().unwrap();
    for (token, path) in [
        (&other, format!("/api/v1/claims/{id}")),
        (&app.token("staff2").await, format!("/api/v1/claims/{id}")),
        (&other, format!("/claims/{id}")),
    ] {
        let response = app.client.get(app.url(&path)).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path} is not theirs");
    }
    let list: Value = app.get_json("/api/v1/claims", &other).await;
    assert_eq!(list["total"], 0);
    let staff = app.token("staff").await;
    let list: Value = app.get_json("/api/v1/claims", &staff).await;
    assert_eq!(list["total"], 1, "dealer staff see their own store's claims");
    let report_as_staff = post(&app, &staff, "/api/v1/claims", &report_body(&s.policy_no)).await;
    assert_eq!(report_as_staff.status(), 403);
    // Another store's seller cannot report on this store's policy: it is not theirs to find.
    let response = post(&app, &other, "/api/v1/claims", &report_body(&s.policy_no)).await;
    assert_eq!(response.status(), 422);
    let withdraw = post(&app, &other, &path(&claim, "withdraw"), &json!({ "version": 1 })).await;
    assert_eq!(withdraw.status(), 404);
    let upload_other = upload(&app, &other, &claim, &json!(1), jpeg(3, 1024)).await;
    assert_eq!(upload_other.status(), 404, "no document goes on another store's claim");
}

async fn the_owner_sees_the_stage_and_nothing_else(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let number = claim["claim_no"].as_str().unwrap();
    let lookup = |tail: &str| {
        app.client.get(app.url(&format!("/api/v1/claim-status?claim_no={number}&tail={}", urlencode(tail)))).send()
    };
    let found = lookup("B12345").await.unwrap();
    assert_eq!(found.status(), 200);
    let body: Value = found.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "claim_no": number, "stage": "reported", "awaiting": "reported" }),
        "the stage and what is awaited, nothing else"
    );
    let by_id = lookup(&ID_NUMBER[12..]).await.unwrap();
    assert_eq!(by_id.status(), 200, "the last 6 of the ID number work too");
    let wrong = lookup("B12346").await.unwrap();
    assert_eq!(wrong.status(), 404);
    let text = wrong.text().await.unwrap();
    assert!(!text.contains("reported") && !text.contains(PLATE), "a miss reveals nothing: {text}");
    // The page says the same, in words.
    let page = app
        .client
        .post(app.url("/claim-status"))
        .form(&[("claim_no", number), ("tail", "b12345")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("等待保险公司立案") || html.contains("waiting for the insurer"), "{html}");
    assert!(!html.contains("陈立") && !html.contains(VIN), "no personal data on the public page");
}

fn urlencode(text: &str) -> String {
    url_escape(text)
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

async fn lookups_are_throttled(backend: Backend) {
    let config = ServeConfig { lookup_max_per_ip: 3, ..common::test_config() };
    let app = TestApp::start_with(backend, config).await;
    for _ in 0..3 {
        let response =
            app.client.get(app.url("/api/v1/claim-status?claim_no=CL2026X&tail=ABCDEF")).send().await.unwrap();
        assert_eq!(response.status(), 404);
    }
    let blocked = app.client.get(app.url("/api/v1/claim-status?claim_no=CL2026X&tail=ABCDEF")).send().await.unwrap();
    assert_eq!(blocked.status(), 429);
    assert!(blocked.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_are_throttled_on_sqlite() {
    lookups_are_throttled(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_are_throttled_on_postgres() {
    lookups_are_throttled(Backend::Postgres).await;
}

async fn the_queue_filters_and_shows_overdue_claims(app: TestApp) {
    let s = store(&app).await;
    let old = report(&app, &s.seller, &s.policy_no).await;
    let fresh = report(&app, &s.seller, &s.policy_no).await;
    // The first waited 30 hours: past the 24-hour register target.
    let since = (Utc::now() - Duration::hours(30)).format("%Y-%m-%d %H:%M:%S");
    app.sql(&format!("UPDATE claims SET stage_since = '{since}+00:00' WHERE id = {}", old["id"])).await.unwrap();
    let overdue: Value = app.get_json("/api/v1/claims?overdue=true", &s.adjuster).await;
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["id"], old["id"]);
    assert_eq!(overdue["items"][0]["overdue"], true);
    assert_eq!(overdue["items"][0]["target_hours"], 24);
    let all: Value = app.get_json("/api/v1/claims?stage=reported", &s.adjuster).await;
    assert_eq!(all["items"][0]["id"], old["id"], "longest waiting first");
    let board: Value = app.get_json("/api/v1/claims/board", &s.adjuster).await;
    let reported = board.as_array().unwrap().iter().find(|c| c["stage"] == "reported").unwrap();
    assert_eq!(reported["claims"], 2);
    assert_eq!(reported["overdue"], 1);
    let _ = post_ok(
        &app,
        &s.adjuster,
        &path(&fresh, "register"),
        &json!({ "version": 1, "reserves": [{ "coverage": "vehicle_damage", "reserve": "100" }] }),
    )
    .await;
    let mine: Value = app.get_json("/api/v1/claims?mine=true", &s.adjuster).await;
    assert_eq!(mine["total"], 1);
    let mine: Value = app.get_json("/api/v1/claims?mine=true", &s.lead).await;
    assert_eq!(mine["total"], 0);
    let bad = app.client.get(app.url("/api/v1/claims?stage=lost")).bearer_auth(&s.adjuster).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    // Pages keep the queue's order: one claim a page, the longest waiting first.
    for (page, claim) in [(1, &old), (2, &fresh)] {
        let one: Value = app.get_json(&format!("/api/v1/claims?stage=all&per_page=1&page={page}"), &s.adjuster).await;
        assert_eq!((one["total"].as_u64(), one["items"][0]["id"].clone()), (Some(2), claim["id"].clone()));
    }
    // The search matches any part of the claim number, the plate or the VIN, in any letter case.
    let claim_no = old["claim_no"].as_str().unwrap();
    let plate = old["plate"].as_str().unwrap();
    let vin = old["vin"].as_str().unwrap();
    let plate_tail: String = plate.chars().skip(plate.chars().count() - 4).collect();
    let starting =
        |prefix: &str| [&old, &fresh].iter().filter(|c| c["claim_no"].as_str().unwrap().starts_with(prefix)).count();
    for (q, expected) in [
        (claim_no.to_string(), 1),
        (claim_no[claim_no.len() - 5..].to_string(), 1),
        // The start of a claim number: the claims whose number starts so (a range of ids), and plates or VINs
        // with it inside (none here).
        (claim_no[..claim_no.len() - 1].to_lowercase(), starting(&claim_no[..claim_no.len() - 1])),
        (claim_no[..9].to_string(), starting(&claim_no[..9])),
        (plate_tail.to_lowercase(), 2),
        (vin[5..14].to_string(), 2),
        // Two characters: too short for a trigram index, still found.
        (plate_tail[2..].to_string(), 2),
        ("ZZZZZZ".to_string(), 0),
    ] {
        let found: Value = app.get_json(&format!("/api/v1/claims?stage=all&q={q}"), &s.adjuster).await;
        assert_eq!(found["total"], expected, "search {q}: {found}");
        assert_eq!(found["items"].as_array().unwrap().len(), expected, "search {q}");
        let board: Value = app.get_json(&format!("/api/v1/claims/board?q={q}"), &s.adjuster).await;
        let counted: u64 = board.as_array().unwrap().iter().map(|c| c["claims"].as_u64().unwrap()).sum();
        assert_eq!(counted as usize, expected, "board for {q}");
    }
    // A search pages in the queue's order, and a page past its end still tells how many there are.
    let both = &plate_tail;
    for (page, items) in [(1, vec![old["id"].clone()]), (2, vec![fresh["id"].clone()]), (3, vec![])] {
        let one: Value =
            app.get_json(&format!("/api/v1/claims?stage=all&per_page=1&page={page}&q={both}"), &s.adjuster).await;
        let ids: Vec<Value> = one["items"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
        assert_eq!((one["total"].as_u64(), ids), (Some(2), items), "search page {page}");
    }
    let vin_part = &vin[5..14];
    let past: Value =
        app.get_json(&format!("/api/v1/claims?stage=all&per_page=1&page=5&q={vin_part}"), &s.adjuster).await;
    assert_eq!((past["total"].as_u64(), past["items"].as_array().unwrap().len()), (Some(2), 0));
    // The start of a claim number is looked up in VINs too (a VIN may hold those characters anywhere).
    let holding = format!("{claim_no}XXX");
    app.sql(&format!("UPDATE claims SET vin = '{holding}' WHERE id = {}", fresh["id"])).await.unwrap();
    for q in [claim_no.to_string(), claim_no[..claim_no.len() - 1].to_lowercase()] {
        let found: Value = app.get_json(&format!("/api/v1/claims?stage=all&q={q}"), &s.adjuster).await;
        assert_eq!(found["total"], 2, "search {q} in claim numbers and VINs: {found}");
    }
    // The page shows the board and marks the overdue claim.
    let (browser, _) = app.browser_login("adj").await;
    let html = browser.get(app.url("/claims?overdue=true")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("class=\"overdue\""), "overdue rows stand out");
    assert!(html.contains(old["claim_no"].as_str().unwrap()));
    assert!(!html.contains(fresh["claim_no"].as_str().unwrap()));
}

async fn an_adjuster_works_a_claim_on_the_pages(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let id = claim["id"].as_i64().unwrap();
    let (browser, csrf) = app.browser_login("adj").await;
    let page_url = app.url(&format!("/claims/{id}"));
    let version = |html: &str| hidden_field(html, "version").unwrap();
    let html = browser.get(&page_url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("/claims/{id}/register")), "register is offered");
    assert!(!html.contains(&format!("/claims/{id}/close")), "close is not");
    let submit = |step: &str, fields: Vec<(&str, String)>| {
        let mut form = vec![("csrf".to_string(), csrf.clone())];
        form.extend(fields.into_iter().map(|(k, v)| (k.to_string(), v)));
        browser.post(app.url(&format!("/claims/{id}/{step}"))).form(&form).send()
    };
    let response =
        submit("register", vec![("version", version(&html)), ("reserve.vehicle_damage", "7000".into())]).await.unwrap();
    assert_eq!(response.status(), 303);
    let html = browser.get(&page_url).send().await.unwrap().text().await.unwrap();
    // A bad amount is named and nothing changes.
    let response = submit(
        "loss-items",
        vec![
            ("version", version(&html)),
            ("category", "own_vehicle".into()),
            ("kind", "part".into()),
            ("description", "前大灯".into()),
            ("quantity", "1".into()),
            ("unit_price", "abc".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 422);
    let response = submit(
        "loss-items",
        vec![
            ("version", version(&html)),
            ("category", "own_vehicle".into()),
            ("kind", "part".into()),
            ("description", "前大灯".into()),
            ("quantity", "2".into()),
            ("unit_price", "1500".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 303);
    let html = browser.get(&page_url).send().await.unwrap().text().await.unwrap();
    let response = submit("survey", vec![("version", version(&html)), ("repair", "dealer".into())]).await.unwrap();
    assert_eq!(response.status(), 303);
    let html = browser.get(&page_url).send().await.unwrap().text().await.unwrap();
    let response =
        submit("settle", vec![("version", version(&html)), ("liability_share_percent", "100".into())]).await.unwrap();
    assert_eq!(response.status(), 303);
    let html = browser.get(&page_url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("3000.00"), "the settlement shows its payable");
    assert!(html.contains("本次应付"), "and what is payable now");
    let response = submit(
        "payments",
        vec![
            ("version", version(&html)),
            ("coverage", "vehicle_damage".into()),
            ("payee", "D001".into()),
            ("amount", "3000.00".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 303);
    let html = browser.get(&page_url).send().await.unwrap().text().await.unwrap();
    // A stale version is refused with a message, not a crash.
    let stale = submit("close", vec![("version", "1".into())]).await.unwrap();
    assert_eq!(stale.status(), 409);
    let response = submit("close", vec![("version", version(&html))]).await.unwrap();
    assert_eq!(response.status(), 303);
    let file: Value = app.get_json(&format!("/api/v1/claims/{id}"), &s.adjuster).await;
    assert_eq!(file["stage"], "closed");
    assert_eq!(file["paid"], "3000.00");
    // English is available.
    let html = browser.get(app.url(&format!("/claims/{id}?lang=en"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Timeline"));
}

async fn a_seller_reports_from_the_phone_form(app: TestApp) {
    store(&app).await;
    let (browser, csrf) = app.browser_login("sa").await;
    let form = browser.get(app.url("/claims/new")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(html.contains("type=\"datetime-local\""));
    assert!(html.contains("name=\"viewport\""));
    let when = (Utc::now() + Duration::hours(8) - Duration::minutes(5)).format("%Y-%m-%dT%H:%M").to_string();
    let fields = |phone: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("plate", "粤B12345".to_string()),
            ("accident_at", when.clone()),
            ("reporter_name", "陈立".to_string()),
            ("reporter_phone", phone.to_string()),
            ("place", "店门口".to_string()),
            ("description", "倒车碰到柱子".to_string()),
        ]
    };
    let refused = browser.post(app.url("/claims")).form(&fields("123")).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("倒车碰到柱子"), "what was typed is kept");
    let created = browser.post(app.url("/claims")).form(&fields("13800138000")).send().await.unwrap();
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/claims/"));
    let page = browser.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已报案"));
    assert!(!page.contains("/register\""), "a seller is not offered the adjuster's steps");
}

async fn the_renewal_is_priced_from_the_cars_claims(app: TestApp) {
    let s = store(&app).await;
    let car = |list: &Vec<Value>| list.iter().find(|c| c["vin"] == VIN).unwrap().clone();
    let due: Vec<Value> = app.get_json("/api/v1/renewals?days=366", &s.seller).await;
    assert_eq!(car(&due)["next_ncd_level"], json!(-1), "claim-free: one level down from 0");
    assert_eq!(car(&due)["next_accident_history"], "claim_free_1_year");
    let declined = report(&app, &s.seller, &s.policy_no).await;
    post_ok(&app, &s.adjuster, &path(&declined, "decline"), &json!({ "version": 1, "note": "非保险责任" })).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let due: Vec<Value> = app.get_json("/api/v1/renewals?days=366", &s.seller).await;
    assert_eq!(car(&due)["next_ncd_level"], json!(-1), "a declined claim and an open report do not count");
    // At fault (full liability), paid from vehicle damage: one NCD level up, and the compulsory discount ends.
    let c = surveyed(&app, &s, &claim, &[("own_vehicle", "3000.00")]).await;
    let c = post_ok(&app, &s.adjuster, &path(&claim, "settle"), &settle_body(&c)).await;
    let pay = json!({ "version": c["version"], "coverage": "vehicle_damage", "payee": "陈立", "amount": "3000.00" });
    post_ok(&app, &s.adjuster, &path(&claim, "payments"), &pay).await;
    let due: Vec<Value> = app.get_json("/api/v1/renewals?days=366", &s.seller).await;
    let line = car(&due);
    assert_eq!(line["next_ncd_level"], json!(1), "one paid claim: one level up");
    assert_eq!(line["next_accident_history"], "one_at_fault_no_death");
    assert_eq!(line["moved_by"][0]["claim_no"], claim["claim_no"]);
    let policy_id = line["policies"][0]["id"].clone();
    let quote = post_ok(&app, &s.seller, &format!("/api/v1/policies/{policy_id}/renew"), &json!(null)).await;
    assert_eq!(quote["ncd_level"], 1, "the renewal quote is priced at the new level");
    assert_eq!(quote["accident_history"], "one_at_fault_no_death");
    let compulsory = quote["premium"]["lines"].as_array().unwrap().iter().find(|l| l["code"] == "compulsory").unwrap();
    assert_eq!(compulsory["premium"], "950.00", "after an at-fault accident the compulsory premium is the full 950");
    assert_eq!(quote["history"][0]["claim_no"], claim["claim_no"], "the quote names the claim that moved it");
    assert_eq!(quote["history"][0]["moved"], json!(["floating_factor", "ncd"]));
}

async fn a_cancellation_today_leaves_this_mornings_accident_covered(app: TestApp) {
    let s = store(&app).await;
    // The store cancels a second car's policy today; the accident of a minute ago, reported after, is covered.
    let other_vin = autochannel::domain::underwriting::identity::with_vin_check_digit("LSVAU2180N2000019").unwrap();
    let (other_no, _) = issue(&app, &s.seller, s.dealer, &other_vin, "粤B77777").await;
    let other: Value = app.get_json(&format!("/api/v1/policies?q={other_no}"), &s.seller).await;
    let other = other["items"][0].clone();
    let cancelled = post_ok(
        &app,
        &s.seller,
        &format!("/api/v1/policies/{}/cancel", other["id"]),
        &json!({ "version": other["version"], "reason": "客户退保" }),
    )
    .await;
    assert_eq!(cancelled["cancelled_from"], (today() + Duration::days(1)).to_string(), "from the next 00:00");
    assert_eq!(cancelled["status"], "in_force", "in force to the end of today");
    let late_report = report(&app, &s.seller, &other_no).await;
    assert_eq!(late_report["policy_id"], other["id"]);
    app.add_user("uw", Role::Underwriter, &[]).await;
    let uw = app.token("uw").await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let policies: Value = app.get_json(&format!("/api/v1/policies?q={}", s.policy_no), &s.seller).await;
    let policy = policies["items"][0].clone();
    let path_of = format!("/api/v1/policies/{}/cancel", policy["id"]);
    let body = json!({ "version": policy["version"], "reason": "客户退保" });
    let refused = post(&app, &s.seller, &path_of, &body).await;
    assert_eq!(refused.status(), 422, "a policy with an open claim is cancelled by an underwriter only");
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "has_claims");
    let back_dated = json!({ "version": policy["version"], "reason": "客户退保", "effective_date": today(),
                             "backdate_reason": "客户今日退保" });
    let problem: Value = post(&app, &uw, &path_of, &back_dated).await.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "before_accident", "the accident today keeps its cover: {problem}");
    let cancelled = post_ok(&app, &uw, &path_of, &body).await;
    assert_eq!(cancelled["cancelled_from"], (today() + Duration::days(1)).to_string());
    // The accident a minute ago is still covered: a second report on it is accepted against this policy.
    let again = report(&app, &s.seller, &s.policy_no).await;
    assert_eq!(again["policy_id"], policy["id"]);
    let c = surveyed(&app, &s, &claim, &[("own_vehicle", "1000.00")]).await;
    let c = post_ok(&app, &s.adjuster, &path(&claim, "settle"), &settle_body(&c)).await;
    assert_eq!(last_settlement(&c)["total"], "1000.00", "settled on the cover at the accident");
}

async fn a_minimal_answer_is_the_claim_alone(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let response = app
        .client
        .post(app.url(&path(&claim, "register")))
        .bearer_auth(&s.adjuster)
        .header("Prefer", "return=minimal")
        .json(&json!({ "version": 1, "reserves": [{ "coverage": "vehicle_damage", "reserve": "900" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["stage"], "registered");
    assert_eq!(body["version"], 2);
    assert_eq!(body["reserve"], "900.00");
    assert!(body.get("transitions").is_none(), "the claim alone, not its file: {body}");
}

/// Registers with one reserve, adds the loss items (category, amount, person) and finishes the survey.
async fn assessed(app: &TestApp, s: &Store, claim: &Value, reserve: &str, items: &[(&str, &str, &str)]) -> Value {
    let mut c = post_ok(
        app,
        &s.adjuster,
        &path(claim, "register"),
        &json!({ "version": claim["version"], "reserves": [{ "coverage": reserve, "reserve": "10000.00" }] }),
    )
    .await;
    for (category, amount, person) in items {
        c = post_ok(
            app,
            &s.adjuster,
            &path(claim, "loss-items"),
            &json!({ "version": c["version"], "category": category, "kind": "other", "description": "定损",
                     "person": person, "quantity": "1", "unit_price": amount }),
        )
        .await;
    }
    post_ok(app, &s.adjuster, &path(claim, "survey"), &json!({ "version": c["version"], "repair_shop": "外修厂" }))
        .await
}

/// Closes the claim and reopens it with the reason and a vehicle-damage reserve; returns the claim as it then stands.
async fn close_and_reopen(app: &TestApp, s: &Store, claim: &Value, c: &Value, note: &str, reserve: &str) -> Value {
    let c = post_ok(app, &s.adjuster, &path(claim, "close"), &json!({ "version": c["version"] })).await;
    let reopen = json!({ "version": c["version"], "note": note,
                         "reserves": [{ "coverage": "vehicle_damage", "reserve": reserve }] });
    post_ok(app, &s.adjuster, &path(claim, "reopen"), &reopen).await
}

fn settle_body(c: &Value) -> Value {
    json!({ "version": c["version"], "liability_share": "1" })
}

fn last_settlement(c: &Value) -> Value {
    c["settlements"].as_array().unwrap().last().unwrap().clone()
}

async fn a_reopened_claim_above_authority_needs_an_approver(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let c = assessed(&app, &s, &claim, "vehicle_damage", &[("own_vehicle", "30000.00", "")]).await;
    let c = post_ok(&app, &s.adjuster, &path(&claim, "settle"), &settle_body(&c)).await;
    assert_eq!(c["stage"], "settled", "30,000 is within the adjuster's 50,000");
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "payments"),
        &json!({ "version": c["version"], "coverage": "vehicle_damage", "payee": "陈立", "amount": "30000.00" }),
    )
    .await;
    let c = close_and_reopen(&app, &s, &claim, &c, "发现隐损", "30000").await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "loss-items"),
        &json!({ "version": c["version"], "category": "own_vehicle", "kind": "part", "description": "发动机",
                 "quantity": "1", "unit_price": "30000.00" }),
    )
    .await;
    // The claim owes 60,000 in all: above the adjuster's authority although only 30,000 is new.
    let c = post_ok(&app, &s.adjuster, &path(&claim, "settle"), &settle_body(&c)).await;
    assert_eq!(c["stage"], "surveyed");
    let pending = last_settlement(&c);
    assert_eq!(pending["status"], "pending_approval");
    assert_eq!(pending["calculation"]["owed"], "60000.00");
    assert_eq!(pending["calculation"]["total"], "30000.00");
    let own = post(&app, &s.adjuster, &path(&claim, "approve"), &json!({ "version": c["version"] })).await;
    assert_eq!(own.status(), 409, "the proposer cannot approve");
    let c = post_ok(&app, &s.lead, &path(&claim, "approve"), &json!({ "version": c["version"] })).await;
    assert_eq!(c["stage"], "settled");
    assert_eq!(reserve_of(&c), "30000.00");
}

async fn cover_added_after_the_accident_pays_nothing(app: TestApp) {
    let s = store(&app).await;
    let vin = autochannel::domain::underwriting::identity::with_vin_check_digit("LSVAU2180N2183294").unwrap();
    let third_party_only = json!({ "compulsory": true, "vehicle_damage": false, "third_party_limit": "1000000",
                                   "driver_limit": null, "passenger_limit": null, "riders": [] });
    let (policy_no, _) = issue_with(&app, &s.seller, s.dealer, &vin, "粤B54321", third_party_only).await;
    let claim = report(&app, &s.seller, &policy_no).await;
    let policy: Value = app.get_json(&format!("/api/v1/policies/{}", claim["commercial_policy_id"]), &s.seller).await;
    let add_damage = json!({ "version": policy["version"], "coverages": { "compulsory": false, "vehicle_damage": true,
        "third_party_limit": "1000000", "driver_limit": null, "passenger_limit": null, "riders": [] } });
    let endorse = format!("/api/v1/policies/{}/endorse", policy["id"]);
    // The store may not add cover while the claim is open.
    let refused = post(&app, &s.seller, &endorse, &add_damage).await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "open_claim");
    // An underwriter may; the change applies from tomorrow, after the accident.
    app.add_user("uw", Role::Underwriter, &[]).await;
    let underwriter = app.token("uw").await;
    post_ok(&app, &underwriter, &endorse, &add_damage).await;
    let c = assessed(&app, &s, &claim, "third_party", &[("own_vehicle", "20000.00", "")]).await;
    let c = post_ok(&app, &s.adjuster, &path(&claim, "settle"), &settle_body(&c)).await;
    let settlement = last_settlement(&c);
    assert_eq!(settlement["calculation"]["total"], "0.00");
    assert_eq!(settlement["calculation"]["uncovered"][0]["code"], "added_after_accident");
    assert!(!c["coverages"].as_array().unwrap().contains(&json!("vehicle_damage")), "nothing to reserve under it");
    let (browser, _) = app.browser_login("adj").await;
    let html = browser.get(app.url(&format!("/claims/{}", claim["id"]))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("出险后才批改加保"), "the settlement page says why");
}

async fn third_party_pays_only_above_the_compulsory_sub_limit_held_elsewhere(app: TestApp) {
    let s = store(&app).await;
    let vin = autochannel::domain::underwriting::identity::with_vin_check_digit("LSVAU2180N2183294").unwrap();
    let commercial_only = json!({ "compulsory": false, "vehicle_damage": false, "third_party_limit": "1000000",
                                  "driver_limit": null, "passenger_limit": null, "riders": [] });
    let (policy_no, compulsory_no) = issue_with(&app, &s.seller, s.dealer, &vin, "粤B54321", commercial_only).await;
    assert!(compulsory_no.is_empty());
    // 1,500 of property at full fault lies inside the 2,000 compulsory sub-limit: commercial pays nothing.
    let claim = report(&app, &s.seller, &policy_no).await;
    assert!(claim["compulsory_policy_id"].is_null());
    let c = assessed(&app, &s, &claim, "third_party", &[("third_party_property", "1500.00", "")]).await;
    let c = post_ok(&app, &s.adjuster, &path(&claim, "settle"), &settle_body(&c)).await;
    assert_eq!(last_settlement(&c)["calculation"]["total"], "0.00");
    // A 300,000 death at full fault: 300,000 − 180,000 = 120,000 from commercial third party (above authority).
    let mut body = report_body(&policy_no);
    body["accident_at"] =
        json!((Utc::now() - Duration::days(10)).with_timezone(&autochannel::store::claims::china()).to_rfc3339());
    let death: Value = post(&app, &s.seller, "/api/v1/claims", &body).await.json().await.unwrap();
    let c = assessed(&app, &s, &death, "third_party", &[("third_party_death", "300000.00", "")]).await;
    let c = post_ok(&app, &s.adjuster, &path(&death, "settle"), &settle_body(&c)).await;
    let pending = last_settlement(&c);
    assert_eq!(pending["calculation"]["dues"][0]["coverage"], "third_party");
    assert_eq!(pending["calculation"]["dues"][0]["owed"], "120000.00");
    assert_eq!(pending["status"], "pending_approval");
}

async fn each_passenger_is_paid_up_to_the_per_seat_limit(app: TestApp) {
    let s = store(&app).await;
    let vin = autochannel::domain::underwriting::identity::with_vin_check_digit("LSVAU2180N2183294").unwrap();
    let seats = json!({ "compulsory": true, "vehicle_damage": false, "third_party_limit": "1000000",
                        "driver_limit": "10000", "passenger_limit": "10000", "riders": [] });
    let (policy_no, _) = issue_with(&app, &s.seller, s.dealer, &vin, "粤B54321", seats).await;
    let claim = report(&app, &s.seller, &policy_no).await;
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "register"),
        &json!({ "version": claim["version"], "reserves": [{ "coverage": "passenger", "reserve": "10000" }] }),
    )
    .await;
    let nameless = post(
        &app,
        &s.adjuster,
        &path(&claim, "loss-items"),
        &json!({ "version": c["version"], "category": "passenger", "kind": "other", "description": "医疗费",
                 "quantity": "1", "unit_price": "30000.00" }),
    )
    .await;
    assert_eq!(nameless.status(), 422, "a passenger loss names the person");
    let problem: Value = nameless.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "person");
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "loss-items"),
        &json!({ "version": c["version"], "category": "passenger", "kind": "other", "description": "医疗费",
                 "person": "后排左 王芳", "quantity": "1", "unit_price": "30000.00" }),
    )
    .await;
    let c =
        post_ok(&app, &s.adjuster, &path(&claim, "survey"), &json!({ "version": c["version"], "repair_shop": "—" }))
            .await;
    let c = post_ok(&app, &s.adjuster, &path(&claim, "settle"), &settle_body(&c)).await;
    let settlement = last_settlement(&c);
    assert_eq!(settlement["calculation"]["total"], "10000.00");
    assert_eq!(settlement["calculation"]["lines"][0]["person"], "后排左 王芳");
}

async fn a_claim_with_approved_money_unpaid_cannot_close(app: TestApp) {
    let s = store(&app).await;
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let c = assessed(&app, &s, &claim, "vehicle_damage", &[("own_vehicle", "11772.00", "")]).await;
    let c = post_ok(&app, &s.adjuster, &path(&claim, "settle"), &settle_body(&c)).await;
    let pay = |version: &Value, paid_on: NaiveDate| json!({ "version": version, "coverage": "vehicle_damage", "payee": "陈立", "amount": "1.00", "paid_on": paid_on });
    let future =
        post(&app, &s.adjuster, &path(&claim, "payments"), &pay(&c["version"], today() + Duration::days(1))).await;
    assert_eq!(future.status(), 422);
    let early =
        post(&app, &s.adjuster, &path(&claim, "payments"), &pay(&c["version"], today() - Duration::days(1))).await;
    assert_eq!(early.status(), 422, "not before the settlement's approval");
    let problem: Value = early.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "before_approval");
    let closing = post(&app, &s.adjuster, &path(&claim, "close"), &json!({ "version": c["version"] })).await;
    assert_eq!(closing.status(), 409);
    let problem: Value = closing.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "unpaid");
    let lookup = |app: &TestApp| {
        app.client
            .post(app.url("/claim-status"))
            .form(&[("claim_no", claim["claim_no"].as_str().unwrap()), ("tail", "B12345")])
            .send()
    };
    let html = lookup(&app).await.unwrap().text().await.unwrap();
    assert!(html.contains("等待赔款支付"), "the owner is not told the money is paid");
    let bare =
        post(&app, &s.adjuster, &path(&claim, "settlement/withdraw"), &json!({ "version": c["version"], "note": " " }))
            .await;
    assert_eq!(bare.status(), 422, "withdrawing needs the reason");
    let c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "settlement/withdraw"),
        &json!({ "version": c["version"], "note": "客户放弃索赔" }),
    )
    .await;
    assert_eq!(last_settlement(&c)["status"], "withdrawn");
    assert_eq!(reserve_of(&c), "0.00");
    let c = post_ok(&app, &s.adjuster, &path(&claim, "close"), &json!({ "version": c["version"] })).await;
    assert_eq!(c["stage"], "closed");
    let html = lookup(&app).await.unwrap().text().await.unwrap();
    assert!(!html.contains("赔款已全部支付"), "closed unpaid is not told as paid");
}

/// Random sequences of claim work with endorsements in between, on the real server: after every step the claim's
/// reserves are never negative, paid never exceeds what the contract owes for the assessed loss at the cover of the
/// accident, and the stored totals (incurred = paid + case reserve) agree with the records.
async fn random_claim_work_keeps_the_books(app: TestApp) {
    use autochannel::domain::claims::settlement::{
        self, Assessed, CompulsoryTerms, Cover, CoverageTerms, LossCategory, SeatTerms,
    };
    use rand::{Rng, SeedableRng};
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;
    use std::str::FromStr;

    let s = store(&app).await;
    // The test moved the policies' dates in SQL: the stored totals start again from the records.
    autochannel::store::totals::rebuild(&app.db, &Default::default()).await.unwrap();
    app.add_user("uw", Role::Underwriter, &[]).await;
    let underwriter = app.token("uw").await;
    let policy: Value = {
        let claim = report(&app, &s.seller, &s.policy_no).await;
        let p = app.get_json(&format!("/api/v1/policies/{}", claim["commercial_policy_id"]), &s.seller).await;
        post_ok(&app, &s.seller, &path(&claim, "withdraw"), &json!({ "version": claim["version"] })).await;
        p
    };
    let sum_of = |code: &str| -> Decimal {
        let line = policy["coverages"].as_array().unwrap().iter().find(|c| c["code"] == code).unwrap();
        Decimal::from_str(line["sum_insured"].as_str().unwrap()).unwrap()
    };
    // The cover at the accident, as issued: the upper bound of what any settlement may owe (share 1, no deductible).
    let cover = Cover {
        vehicle_damage: Some(CoverageTerms {
            limit: sum_of("vehicle_damage"),
            deductible: Decimal::ZERO,
            paid_on_other_claims: Decimal::ZERO,
        }),
        third_party: Some(CoverageTerms {
            limit: sum_of("third_party"),
            deductible: Decimal::ZERO,
            paid_on_other_claims: Decimal::ZERO,
        }),
        driver: Some(SeatTerms { per_seat: sum_of("driver"), seats: 1, deductible: Decimal::ZERO }),
        ..Cover::compulsory_only(CompulsoryTerms::statutory(true))
    };
    let seed: u64 = std::env::var("AUTOCHANNEL_INVARIANT_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(27);
    let steps: usize = std::env::var("AUTOCHANNEL_INVARIANT_STEPS").ok().and_then(|v| v.parse().ok()).unwrap_or(80);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let claim = report(&app, &s.seller, &s.policy_no).await;
    let mut c = post_ok(
        &app,
        &s.adjuster,
        &path(&claim, "register"),
        &json!({ "version": claim["version"], "reserves": [{ "coverage": "vehicle_damage", "reserve": "5000" }] }),
    )
    .await;
    let categories =
        [("own_vehicle", ""), ("third_party_property", ""), ("third_party_medical", ""), ("driver", "司机")];
    let mut endorsed_damage = sum_of("vehicle_damage");
    for step in 0..steps {
        let stage = c["stage"].as_str().unwrap().to_string();
        let choice = rng.random_range(0..10);
        let response = match (stage.as_str(), choice) {
            ("registered" | "surveyed", 0..=3) => {
                let (category, person) = categories[rng.random_range(0..categories.len())];
                let amount = format!("{}.00", rng.random_range(100..40_000));
                post(&app, &s.adjuster, &path(&claim, "loss-items"), &json!({ "version": c["version"], "category": category,
                    "kind": "other", "description": "随机定损", "person": person, "quantity": "1", "unit_price": amount })).await
            }
            ("registered", _) => {
                post(
                    &app,
                    &s.adjuster,
                    &path(&claim, "survey"),
                    &json!({ "version": c["version"], "repair_shop": "外修厂" }),
                )
                .await
            }
            ("surveyed", 4..=7) => {
                let share = ["1", "0.7", "0.5", "1"][rng.random_range(0..4)];
                let r = post(
                    &app,
                    &s.adjuster,
                    &path(&claim, "settle"),
                    &json!({ "version": c["version"], "liability_share": share }),
                )
                .await;
                if r.status() == 200 {
                    let file: Value = r.json().await.unwrap();
                    if file["stage"] == "surveyed" && file.get("settlements").is_some() {
                        post(&app, &s.lead, &path(&claim, "approve"), &json!({ "version": file["version"] })).await
                    } else {
                        c = file;
                        continue;
                    }
                } else {
                    r
                }
            }
            ("settled", 0..=5) => {
                let mut paid: BTreeMap<String, Decimal> = BTreeMap::new();
                for payment in c["payments"].as_array().unwrap() {
                    *paid.entry(payment["coverage"].as_str().unwrap().to_string()).or_default() +=
                        Decimal::from_str(payment["amount"].as_str().unwrap()).unwrap();
                }
                let settlements = c["settlements"].as_array().unwrap();
                let Some(approved) = settlements.iter().rev().find(|s| s["status"] == "approved") else {
                    // Withdrawn: nothing is left to pay, so the claim closes on what was paid.
                    let body = json!({ "version": c["version"] });
                    let r = post(&app, &s.adjuster, &path(&claim, "close"), &body).await;
                    assert_eq!(r.status(), 200, "step {step}: a withdrawn settlement lets the claim close");
                    c = app.get_json(&format!("/api/v1/claims/{}", claim["id"]), &s.adjuster).await;
                    continue;
                };
                let left: Vec<(String, Decimal)> = approved["calculation"]["dues"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| {
                        let coverage = d["coverage"].as_str().unwrap().to_string();
                        let owed = Decimal::from_str(d["owed"].as_str().unwrap()).unwrap();
                        let left = owed - paid.get(&coverage).copied().unwrap_or_default();
                        (coverage, left)
                    })
                    .collect();
                let (coverage, left) = left[rng.random_range(0..left.len())].clone();
                // What is left, part of it, or more than it (which must be refused).
                let share = match rng.random_range(0..4) {
                    0 => Decimal::new(rng.random_range(101..150), 2),
                    1 => Decimal::new(rng.random_range(20..100), 2),
                    _ => Decimal::ONE,
                };
                let amount = (left * share).round_dp(2).max(Decimal::new(1, 2));
                let body = json!({ "version": c["version"], "coverage": coverage, "payee": "陈立", "amount": amount.to_string() });
                post(&app, &s.adjuster, &path(&claim, "payments"), &body).await
            }
            ("settled", 6) => {
                let body = json!({ "version": c["version"], "note": "余款不再支付" });
                post(&app, &s.adjuster, &path(&claim, "settlement/withdraw"), &body).await
            }
            ("settled", _) => {
                post(&app, &s.adjuster, &path(&claim, "close"), &json!({ "version": c["version"] })).await
            }
            ("closed", _) => {
                post(
                    &app,
                    &s.adjuster,
                    &path(&claim, "reopen"),
                    &json!({ "version": c["version"], "note": "复核",
                "reserves": [{ "coverage": "vehicle_damage", "reserve": "1000" }] }),
                )
                .await
            }
            (_, _) => {
                // An endorsement in between: the underwriter raises the vehicle-damage sum insured from tomorrow.
                let p: Value = app.get_json(&format!("/api/v1/policies/{}", policy["id"]), &underwriter).await;
                endorsed_damage =
                    (endorsed_damage + Decimal::new(1000, 0)).min(sum_of("vehicle_damage") * Decimal::new(11, 1));
                post(&app, &underwriter, &format!("/api/v1/policies/{}/endorse", policy["id"]),
                    &json!({ "version": p["version"], "vehicle_damage_sum_insured": endorsed_damage.round_dp(2).to_string() })).await;
                let file: Value = app.get_json(&format!("/api/v1/claims/{}", claim["id"]), &s.adjuster).await;
                c = file;
                continue;
            }
        };
        let status = response.status().as_u16();
        if std::env::var("AUTOCHANNEL_INVARIANT_TRACE").is_ok() {
            eprintln!("step {step}: {stage} choice {choice} -> {status}");
        }
        assert!(status < 500, "step {step}: {status} {}", response.text().await.unwrap());
        c = app.get_json(&format!("/api/v1/claims/{}", claim["id"]), &s.adjuster).await;

        for line in c["reserves"].as_array().unwrap() {
            let reserve = Decimal::from_str(line["reserve"].as_str().unwrap()).unwrap();
            assert!(reserve >= Decimal::ZERO, "step {step}: negative reserve {line}");
        }
        let mut assessed: Vec<Assessed> = Vec::new();
        for item in c["loss_items"].as_array().unwrap().iter().filter(|i| i["removed"] == false) {
            assessed.push(Assessed {
                category: LossCategory::parse(item["category"].as_str().unwrap()).unwrap(),
                person: item["person"].as_str().unwrap().to_string(),
                amount: Decimal::from_str(item["assessed"].as_str().unwrap()).unwrap(),
            });
        }
        let bound = settlement::calculate(&assessed, Decimal::ONE, &cover, &BTreeMap::new()).unwrap();
        let mut paid: BTreeMap<String, Decimal> = BTreeMap::new();
        for payment in c["payments"].as_array().unwrap() {
            *paid.entry(payment["coverage"].as_str().unwrap().to_string()).or_default() +=
                Decimal::from_str(payment["amount"].as_str().unwrap()).unwrap();
        }
        for (coverage, amount) in &paid {
            assert!(
                *amount <= bound.owed_under(coverage),
                "step {step}: paid {amount} under {coverage}, owed at most {}",
                bound.owed_under(coverage)
            );
        }
    }
    // The sequence did the work it is about, so the checks above had something to hold.
    let transitions: Vec<&str> =
        c["transitions"].as_array().unwrap().iter().map(|t| t["transition"].as_str().unwrap()).collect();
    for done in ["settle", "pay", "reopen"] {
        assert!(transitions.contains(&done), "seed {seed}: no {done} in {transitions:?}");
    }
    let differences = autochannel::store::totals::verify(&app.db, &Default::default()).await.unwrap();
    assert!(differences.is_empty(), "incurred = paid + case reserve in the stored totals: {differences:?}");
}

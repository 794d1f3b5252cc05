//! Commission end to end: agreements checked against the filed ranges, the
//! ledger booked by issue, endorsement and cancellation, month closing into
//! statements, draft → confirmed → paid, exports and reconciliation.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use autochannel::domain::auth::Role;
use autochannel::store::audit::Actor;
use autochannel::store::users::{self, Qualification};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::{TestApp, hidden_field};
use serde_json::{Value, json};

on_both_databases!(
    agreements_outside_the_filed_range_are_refused_naming_it,
    a_new_agreement_closes_the_open_ended_one_before_it,
    issue_endorse_and_cancel_book_the_ledger,
    a_closed_month_becomes_a_statement_that_reconciles,
    statements_export_to_excel_and_csv_with_chinese_headers,
    a_tampered_statement_fails_reconciliation,
    random_operations_always_reconcile,
    an_endorsed_then_cancelled_policy_claws_back_refund_times_rate,
    a_dealer_above_the_clause_threshold_is_paid_the_lower_rate_at_month_close,
    only_the_dealers_keepers_see_and_change_commission,
    demo_data_reconciles,
    a_channel_manager_works_commission_on_the_pages,
);

const ID_NUMBER: &str = "11010519491231002X";

fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

struct Store {
    dealer: i64,
    seller: String,
    manager: String,
    admin: String,
}

/// D001 in 广东-深圳, owned by channel manager `cm`, with a qualified seller and an administrator.
async fn store(app: &TestApp) -> Store {
    let cm = app.add_user("cm", Role::ChannelManager, &[]).await;
    let dealer = app.add_dealer("D001", Some(cm)).await;
    let sa = app.add_user("sa", Role::SalesAssistant, &["D001"]).await;
    let tx = autochannel::store::begin_write(&app.db).await.unwrap();
    let certificate = Qualification {
        certificate_no: "QC-SA".into(),
        valid_from: today() - Duration::days(400),
        valid_to: today() + Duration::days(400),
    };
    users::add_qualification(&tx, &Actor::system("test"), sa, certificate).await.unwrap();
    tx.commit().await.unwrap();
    app.add_user("root", Role::Administrator, &[]).await;
    Store { dealer, seller: app.token("sa").await, manager: app.token("cm").await, admin: app.token("root").await }
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

fn agreement(product: &str, business_type: &str, rate: &str, from: NaiveDate) -> Value {
    json!({ "product": product, "business_type": business_type, "valid_from": from, "valid_to": null,
            "base_rate": rate, "tiers": [], "loss_ratio_clause": null, "note": "2026 协议" })
}

async fn agree(app: &TestApp, s: &Store, product: &str, business_type: &str, rate: &str) {
    let from = today() - Duration::days(400);
    post_ok(
        app,
        &s.manager,
        &format!("/api/v1/dealers/{}/agreements", s.dealer),
        &agreement(product, business_type, rate, from),
    )
    .await;
}

/// Quotes and issues both policies for a new vehicle; returns them.
async fn sell(app: &TestApp, s: &Store, n: u32) -> Vec<Value> {
    let vin = autochannel::domain::underwriting::identity::with_vin_check_digit(&format!("LSVAU2180N2{n:06}")).unwrap();
    let body = json!({
        "dealer_id": s.dealer, "business_type": "new_car",
        "vehicle": { "vin": vin, "plate": format!("粤B{:05}", n), "first_registration": "2024-03-15", "new_car_price": "200000.00", "seats": 5 },
        "owner": { "name": "陈立", "id_number": ID_NUMBER, "phone": "13800138000" },
        "accident_history": "new_or_no_record", "ncd_level": 0,
        "coverages": { "compulsory": true, "vehicle_damage": true, "third_party_limit": "1000000", "driver_limit": null,
                       "passenger_limit": null, "riders": [] }
    });
    let quote = post_ok(app, &s.seller, "/api/v1/quotes", &body).await;
    let response = post(app, &s.seller, &format!("/api/v1/quotes/{}/issue", quote["id"]), &json!(null)).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn dec(v: &Value) -> rust_decimal::Decimal {
    v.as_str().unwrap().parse().unwrap()
}

async fn ledger(app: &TestApp, s: &Store) -> Vec<Value> {
    let from = today() - Duration::days(800);
    let to = today() + Duration::days(400);
    app.get_json(&format!("/api/v1/dealers/{}/ledger?from={from}&to={to}", s.dealer), &s.manager).await
}

async fn agreements_outside_the_filed_range_are_refused_naming_it(app: TestApp) {
    let s = store(&app).await;
    let path = format!("/api/v1/dealers/{}/agreements", s.dealer);
    // 广东's filing for commercial new-car business is 0.08–0.22; 0.23 is refused though the national range allows it.
    let response = post(&app, &s.manager, &path, &agreement("commercial", "new_car", "0.23", today())).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "outside_filed_range");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("0.08–0.22"), "{problem}");
    let response = post(&app, &s.manager, &path, &agreement("compulsory", "new_car", "0.05", today())).await;
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "above_cap");
    let created = post(&app, &s.manager, &path, &agreement("commercial", "new_car", "0.18", today())).await;
    assert_eq!(created.status(), 201);
    let list: Vec<Value> = app.get_json(&path, &s.manager).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["base_rate"], "0.18");
}

async fn a_new_agreement_closes_the_open_ended_one_before_it(app: TestApp) {
    let s = store(&app).await;
    let path = format!("/api/v1/dealers/{}/agreements", s.dealer);
    let start = today() - Duration::days(100);
    post_ok(&app, &s.manager, &path, &agreement("commercial", "renewal", "0.12", start)).await;
    post_ok(&app, &s.manager, &path, &agreement("commercial", "renewal", "0.15", today())).await;
    let list: Vec<Value> = app.get_json(&path, &s.manager).await;
    let old = list.iter().find(|a| a["base_rate"] == "0.12").unwrap();
    assert_eq!(old["valid_to"], today().to_string(), "closed the day the new one starts");
    // A second agreement starting inside a closed one is refused.
    let response =
        post(&app, &s.manager, &path, &agreement("commercial", "renewal", "0.10", start + Duration::days(10))).await;
    assert_eq!(response.status(), 409);
}

async fn issue_endorse_and_cancel_book_the_ledger(app: TestApp) {
    let s = store(&app).await;
    agree(&app, &s, "compulsory", "new_car", "0.04").await;
    agree(&app, &s, "commercial", "new_car", "0.15").await;
    let policies = sell(&app, &s, 1).await;
    let entries = ledger(&app, &s).await;
    assert_eq!(entries.len(), 2, "one accrual per policy: {entries:?}");
    for p in &policies {
        let entry = entries.iter().find(|e| e["policy_id"] == p["id"]).unwrap();
        let rate = if p["product"] == "compulsory" { "0.04" } else { "0.15" };
        // premium × rate, half up to the fen.
        let expected = autochannel::domain::commission::accrual(dec(&p["premium"]), rate.parse().unwrap());
        assert_eq!(dec(&entry["amount"]), expected, "{entry}");
        assert_eq!(entry["kind"], "accrual");
    }
    // Endorse the commercial coverages: the premium change earns commission at the same rate.
    let commercial = policies.iter().find(|p| p["product"] == "commercial").unwrap();
    let endorsed = post_ok(
        &app,
        &s.seller,
        &format!("/api/v1/policies/{}/endorse", commercial["id"]),
        &json!({ "version": commercial["version"], "coverages": { "compulsory": false, "vehicle_damage": true,
                 "third_party_limit": "2000000", "driver_limit": null, "passenger_limit": null, "riders": [] } }),
    )
    .await;
    let adjustment = dec(&endorsed["versions"].as_array().unwrap().last().unwrap()["adjustment"]);
    let entries = ledger(&app, &s).await;
    let adjusted = entries.iter().find(|e| e["kind"] == "adjustment").unwrap();
    assert_eq!(
        dec(&adjusted["amount"]),
        autochannel::domain::commission::endorsement_adjustment(adjustment, "0.15".parse().unwrap())
    );
    // Cancel on the first day of cover: the refund is the whole premium, and so is the claw-back.
    let cancelled = post_ok(
        &app,
        &s.seller,
        &format!("/api/v1/policies/{}/cancel", commercial["id"]),
        &json!({ "version": endorsed["version"], "effective_date": commercial["start_date"], "reason": "客户改投" }),
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    let entries = ledger(&app, &s).await;
    let net: rust_decimal::Decimal =
        entries.iter().filter(|e| e["policy_id"] == commercial["id"]).map(|e| dec(&e["amount"])).sum();
    assert_eq!(net, rust_decimal::Decimal::ZERO, "cancelled before cover began: no commission is kept");
}

/// Moves a policy's period to have started `days_ago` days ago.
async fn started(app: &TestApp, policy: &Value, days_ago: i64) -> NaiveDate {
    let start = today() - Duration::days(days_ago);
    let end = start + Duration::days(365);
    app.sql(&format!("UPDATE policies SET start_date = '{start}', end_date = '{end}' WHERE id = {}", policy["id"]))
        .await
        .unwrap();
    start
}

async fn an_endorsed_then_cancelled_policy_claws_back_refund_times_rate(app: TestApp) {
    let s = store(&app).await;
    agree(&app, &s, "commercial", "new_car", "0.15").await;
    let policies = sell(&app, &s, 1).await;
    let commercial = policies.iter().find(|p| p["product"] == "commercial").unwrap();
    let start = started(&app, commercial, 100).await;
    let endorsed = post_ok(
        &app,
        &s.seller,
        &format!("/api/v1/policies/{}/endorse", commercial["id"]),
        &json!({ "version": commercial["version"], "coverages": { "compulsory": false, "vehicle_damage": true,
                 "third_party_limit": "3000000", "driver_limit": null, "passenger_limit": null, "riders": [] } }),
    )
    .await;
    let cancel_from = today() + Duration::days(30);
    let cancelled = post_ok(
        &app,
        &s.seller,
        &format!("/api/v1/policies/{}/cancel", commercial["id"]),
        &json!({ "version": endorsed["version"], "effective_date": cancel_from, "reason": "客户改投" }),
    )
    .await;
    let refund = dec(&cancelled["refund"]);
    let period = autochannel::domain::underwriting::lifecycle::Period { start, end: start + Duration::days(365) };
    let remaining =
        autochannel::domain::underwriting::lifecycle::refund_on_cancel(dec(&endorsed["premium"]), &period, cancel_from);
    assert_eq!(refund, remaining, "the refund is the endorsed premium of the days not covered");
    let entries = ledger(&app, &s).await;
    let reversal = entries.iter().find(|e| e["kind"] == "reversal").unwrap();
    let rate: rust_decimal::Decimal = "0.15".parse().unwrap();
    assert_eq!(
        dec(&reversal["amount"]),
        -(refund * rate).round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    );
    assert_eq!(dec(&reversal["basis"]), -refund);
    for entry in entries.iter().filter(|e| e["policy_id"] == commercial["id"]) {
        let expected = (dec(&entry["basis"]) * dec(&entry["rate"]))
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(dec(&entry["amount"]), expected, "every line is rate × its basis: {entry}");
    }
}

async fn a_dealer_above_the_clause_threshold_is_paid_the_lower_rate_at_month_close(app: TestApp) {
    let s = store(&app).await;
    let mut terms = agreement("commercial", "new_car", "0.15", today() - Duration::days(400));
    terms["loss_ratio_clause"] = json!({ "loss_ratio_above": "0.50", "rate": "0.10" });
    post_ok(&app, &s.manager, &format!("/api/v1/dealers/{}/agreements", s.dealer), &terms).await;
    let policies = sell(&app, &s, 1).await;
    let commercial = policies.iter().find(|p| p["product"] == "commercial").unwrap().clone();
    started(&app, &commercial, 200).await;
    // A claim of 50,000 last month on a policy earning since 200 days ago: far above 50%.
    app.add_user("adj", Role::ClaimsAdjuster, &[]).await;
    let adjuster = app.token("adj").await;
    let accident = (chrono::Utc::now() - Duration::minutes(5)).with_timezone(&autochannel::store::claims::china());
    let claim = post_ok(
        &app,
        &s.seller,
        "/api/v1/claims",
        &json!({ "policy_no": commercial["policy_no"],
        "accident_at": accident.to_rfc3339(), "reporter_name": "陈立", "reporter_phone": "13800138000",
        "place": "深圳", "description": "追尾" }),
    )
    .await;
    post_ok(
        &app,
        &adjuster,
        &format!("/api/v1/claims/{}/register", claim["id"]),
        &json!({ "version": claim["version"], "reserves": [{ "coverage": "vehicle_damage", "reserve": "50000.00" }] }),
    )
    .await;
    let month = into_last_month(&app).await;
    let in_month = month + Duration::days(10);
    app.sql(&format!("UPDATE claims SET accident_on = '{in_month}', accident_at = '{in_month}T02:00:00Z'"))
        .await
        .unwrap();
    app.sql(&format!("UPDATE claim_reserve_movements SET created_at = '{in_month}T03:00:00Z'")).await.unwrap();
    autochannel::store::totals::rebuild(&app.db, &Default::default()).await.unwrap();
    post_ok(&app, &s.admin, "/api/v1/commission/close-month", &json!({ "month": month })).await;
    let entries = ledger(&app, &s).await;
    let true_up = entries.iter().find(|e| e["kind"] == "tier_true_up").expect("the clause trues the month up");
    assert_eq!(true_up["rate"], "0.1", "{true_up}");
    let loss_ratio = dec(&true_up["loss_ratio"]);
    assert!(loss_ratio > "0.5".parse().unwrap(), "the line shows the loss ratio it used: {loss_ratio}");
    let written = dec(&commercial["premium"]);
    let round =
        |v: rust_decimal::Decimal| v.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let expected = round(written * "0.10".parse::<rust_decimal::Decimal>().unwrap())
        - round(written * "0.15".parse::<rust_decimal::Decimal>().unwrap());
    assert_eq!(dec(&true_up["amount"]), expected, "the month is paid at the clause rate");
    let reconcile: Value = app.get_json("/api/v1/commission/reconcile", &s.admin).await;
    assert_eq!(reconcile["reconciled"], true, "{reconcile}");
}

/// Moves every ledger entry into last month, as if it had been booked then.
async fn into_last_month(app: &TestApp) -> NaiveDate {
    let first = today().with_day(1).unwrap();
    let last_month = (first - Duration::days(1)).with_day(1).unwrap();
    app.sql(&format!("UPDATE commission_ledger SET booked_on = '{}'", last_month + Duration::days(14))).await.unwrap();
    last_month
}

async fn a_closed_month_becomes_a_statement_that_reconciles(app: TestApp) {
    let s = store(&app).await;
    agree(&app, &s, "compulsory", "new_car", "0.04").await;
    agree(&app, &s, "commercial", "new_car", "0.15").await;
    sell(&app, &s, 1).await;
    sell(&app, &s, 2).await;
    // The current month is not over.
    let early = post(&app, &s.admin, "/api/v1/commission/close-month", &json!({ "month": today() })).await;
    assert_eq!(early.status(), 422);
    let month = into_last_month(&app).await;
    let closed = post_ok(&app, &s.admin, "/api/v1/commission/close-month", &json!({ "month": month })).await;
    assert_eq!(closed["statements"].as_array().unwrap().len(), 1);
    let statements: Vec<Value> = app.get_json(&format!("/api/v1/dealers/{}/statements", s.dealer), &s.manager).await;
    let id = statements[0]["id"].clone();
    let statement: Value = app.get_json(&format!("/api/v1/statements/{id}"), &s.manager).await;
    assert_eq!(statement["status"], "draft");
    assert_eq!(statement["line_count"], 4);
    let sum: rust_decimal::Decimal = statement["lines"].as_array().unwrap().iter().map(|l| dec(&l["amount"])).sum();
    assert_eq!(dec(&statement["total"]), sum, "the total is the sum of its lines, to the fen");
    let reconcile: Value = app.get_json("/api/v1/commission/reconcile", &s.admin).await;
    assert_eq!(reconcile["reconciled"], true, "{reconcile}");
    // Closing again adds nothing.
    let again = post_ok(&app, &s.admin, "/api/v1/commission/close-month", &json!({ "month": month })).await;
    assert!(again["statements"].as_array().unwrap().is_empty());
    // draft → confirmed (the channel manager) → paid (head office); never backwards, never twice.
    let paid_early = post(&app, &s.admin, &format!("/api/v1/statements/{id}/pay"), &json!({ "version": 1 })).await;
    assert_eq!(paid_early.status(), 409);
    let confirmed =
        post_ok(&app, &s.manager, &format!("/api/v1/statements/{id}/confirm"), &json!({ "version": 1 })).await;
    assert_eq!(confirmed["status"], "confirmed");
    let stale = post(&app, &s.admin, &format!("/api/v1/statements/{id}/pay"), &json!({ "version": 1 })).await;
    assert_eq!(stale.status(), 409);
    let paid = post_ok(&app, &s.admin, &format!("/api/v1/statements/{id}/pay"), &json!({ "version": 2 })).await;
    assert_eq!(paid["status"], "paid");
    // The command line agrees.
    let output = Command::new(env!("CARGO_BIN_EXE_autochannel"))
        .args(["--database-url", &app.database_url, "commission", "reconcile"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("OK: 1 statements"));
}

async fn statements_export_to_excel_and_csv_with_chinese_headers(app: TestApp) {
    let s = store(&app).await;
    agree(&app, &s, "commercial", "new_car", "0.15").await;
    sell(&app, &s, 1).await;
    let month = into_last_month(&app).await;
    post_ok(&app, &s.admin, "/api/v1/commission/close-month", &json!({ "month": month })).await;
    let statements: Vec<Value> = app.get_json(&format!("/api/v1/dealers/{}/statements", s.dealer), &s.manager).await;
    let id = &statements[0]["id"];
    let xlsx = app
        .client
        .get(app.url(&format!("/api/v1/statements/{id}?format=xlsx")))
        .bearer_auth(&s.manager)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    assert!(xlsx.headers()["content-disposition"].to_str().unwrap().contains(".xlsx"));
    let bytes = xlsx.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip");
    let csv = app
        .client
        .get(app.url(&format!("/api/v1/statements/{id}?format=csv")))
        .bearer_auth(&s.manager)
        .send()
        .await
        .unwrap();
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("记账日期,保单号,险种,业务类型,类型,保费基数,费率,手续费,备注"), "{text}");
    let total = statements[0]["total"].as_str().unwrap();
    assert!(text.lines().last().unwrap().contains(total), "the total row: {text}");
    assert!(text.contains("计提"));
}

async fn a_tampered_statement_fails_reconciliation(app: TestApp) {
    let s = store(&app).await;
    agree(&app, &s, "commercial", "new_car", "0.15").await;
    sell(&app, &s, 1).await;
    let month = into_last_month(&app).await;
    post_ok(&app, &s.admin, "/api/v1/commission/close-month", &json!({ "month": month })).await;
    app.sql("UPDATE commission_statements SET total_fen = total_fen + 1").await.unwrap();
    let reconcile: Value = app.get_json("/api/v1/commission/reconcile", &s.admin).await;
    assert_eq!(reconcile["reconciled"], false);
    assert!(reconcile["differences"][0]["message"].as_str().unwrap().contains("difference 0.01"), "{reconcile}");
    let output = Command::new(env!("CARGO_BIN_EXE_autochannel"))
        .args(["--database-url", &app.database_url, "commission", "reconcile"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("DIFFERENCE"));
}

async fn random_operations_always_reconcile(app: TestApp) {
    let s = store(&app).await;
    agree(&app, &s, "compulsory", "new_car", "0.04").await;
    agree(&app, &s, "commercial", "new_car", "0.17").await;
    // A fixed-seed sequence of sales, endorsements and cancellations.
    let mut seed: u64 = 7;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut live: Vec<Value> = Vec::new();
    for n in 0..12 {
        let op = if live.is_empty() { 0 } else { next(3) };
        match op {
            0 => {
                live.extend(sell(&app, &s, 100 + n).await.into_iter().filter(|p| p["product"] == "commercial"));
            }
            1 => {
                let i = usize::try_from(next(live.len() as u64)).unwrap();
                let p = &live[i];
                let limit = ["500000", "1500000", "3000000"][usize::try_from(next(3)).unwrap()];
                let fresh: Value = app.get_json(&format!("/api/v1/policies/{}", p["id"]), &s.seller).await;
                let response = post(&app, &s.seller, &format!("/api/v1/policies/{}/endorse", p["id"]),
                    &json!({ "version": fresh["version"], "coverages": { "compulsory": false, "vehicle_damage": true,
                             "third_party_limit": limit, "driver_limit": null, "passenger_limit": null, "riders": [] } })).await;
                assert!(response.status().is_success() || response.status() == 422, "{}", response.status());
            }
            _ => {
                let i = usize::try_from(next(live.len() as u64)).unwrap();
                let p = live.remove(i);
                let fresh: Value = app.get_json(&format!("/api/v1/policies/{}", p["id"]), &s.seller).await;
                let day = NaiveDate::parse_from_str(fresh["start_date"].as_str().unwrap(), "%Y-%m-%d").unwrap()
                    + Duration::days(i64::try_from(next(200)).unwrap());
                post_ok(
                    &app,
                    &s.seller,
                    &format!("/api/v1/policies/{}/cancel", p["id"]),
                    &json!({ "version": fresh["version"], "effective_date": day, "reason": "测试" }),
                )
                .await;
            }
        }
    }
    let month = into_last_month(&app).await;
    post_ok(&app, &s.admin, "/api/v1/commission/close-month", &json!({ "month": month })).await;
    let reconcile: Value = app.get_json("/api/v1/commission/reconcile", &s.admin).await;
    assert_eq!(reconcile["reconciled"], true, "{reconcile}");
    // Line by line, every entry is rate × its basis (a claw-back is capped at what is still booked); nothing kept
    // goes below zero; no refund exceeds the premium of the days not yet covered.
    let round =
        |v: rust_decimal::Decimal| v.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let entries = ledger(&app, &s).await;
    for entry in entries.iter().filter(|e| e["kind"] != "tier_true_up") {
        let exact = round(dec(&entry["basis"]) * dec(&entry["rate"]));
        let booked: rust_decimal::Decimal = entries
            .iter()
            .filter(|e| e["policy_id"] == entry["policy_id"] && e["kind"] != "reversal")
            .map(|e| dec(&e["amount"]))
            .sum();
        if entry["kind"] == "reversal" {
            assert!(dec(&entry["amount"]) <= rust_decimal::Decimal::ZERO);
            assert!(dec(&entry["amount"]) == exact || dec(&entry["amount"]) == -booked, "{entry}");
        } else {
            assert_eq!(dec(&entry["amount"]), exact, "{entry}");
        }
    }
    let policies: Value = app.get_json("/api/v1/policies?per_page=100", &s.seller).await;
    for p in policies["items"].as_array().unwrap() {
        let (Some(from), Some(refund)) = (p["cancelled_from"].as_str(), p["refund"].as_str()) else { continue };
        let from = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
        let start = NaiveDate::parse_from_str(p["start_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        let end = NaiveDate::parse_from_str(p["end_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        let left = rust_decimal::Decimal::from((end - from.max(start)).num_days());
        let days = rust_decimal::Decimal::from((end - start).num_days());
        let not_yet_covered = round(dec(&p["premium"]) * left / days);
        assert!(refund.parse::<rust_decimal::Decimal>().unwrap() <= not_yet_covered, "{p}");
    }
}

async fn only_the_dealers_keepers_see_and_change_commission(app: TestApp) {
    let s = store(&app).await;
    app.add_user("cm2", Role::ChannelManager, &[]).await;
    app.add_dealer("D002", None).await;
    app.add_user("staff", Role::DealerStaff, &["D001"]).await;
    app.add_user("staff2", Role::DealerStaff, &["D002"]).await;
    let path = format!("/api/v1/dealers/{}/agreements", s.dealer);
    let other = app.token("cm2").await;
    let response = post(&app, &other, &path, &agreement("commercial", "new_car", "0.15", today())).await;
    assert_eq!(response.status(), 404, "a channel manager who does not own the dealer");
    let staff = app.token("staff").await;
    let response = post(&app, &staff, &path, &agreement("commercial", "new_car", "0.15", today())).await;
    assert_eq!(response.status(), 403, "dealer staff read, never write");
    let seen = app.client.get(app.url(&path)).bearer_auth(&staff).send().await.unwrap();
    assert_eq!(seen.status(), 200, "dealer staff see their own dealer's agreements");
    let staff2 = app.token("staff2").await;
    for path in [
        path.clone(),
        format!("/api/v1/dealers/{}/statements", s.dealer),
        format!("/api/v1/dealers/{}/ledger", s.dealer),
    ] {
        let response = app.client.get(app.url(&path)).bearer_auth(&staff2).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path} is another store's");
    }
    let reconcile =
        app.client.get(app.url("/api/v1/commission/reconcile")).bearer_auth(&s.manager).send().await.unwrap();
    assert_eq!(reconcile.status(), 403);
}

async fn demo_data_reconciles(app: TestApp) {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_autochannel"))
            .args(["--database-url", &app.database_url])
            .args(args)
            .env("AUTOCHANNEL_LOG", "error")
            .output()
            .unwrap()
    };
    let demo = run(&["demo-data", "--dealers", "4", "--policies", "400"]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let out = String::from_utf8_lossy(&demo.stdout).to_string();
    assert!(out.contains("commission agreements") && out.contains("statements"), "{out}");
    let reconcile = run(&["commission", "reconcile"]);
    assert!(reconcile.status.success(), "{}", String::from_utf8_lossy(&reconcile.stdout));
    let verify = run(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

async fn a_channel_manager_works_commission_on_the_pages(app: TestApp) {
    let s = store(&app).await;
    let (browser, csrf) = app.browser_login("cm").await;
    let page = app.url(&format!("/dealers/{}/commission", s.dealer));
    let html = browser.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("报行合一"), "the form explains the filed ranges");
    let form = |rate: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("product", "commercial".to_string()),
            ("business_type", "new_car".to_string()),
            ("valid_from", (today() - Duration::days(400)).to_string()),
            ("base_rate_percent", rate.to_string()),
        ]
    };
    let refused =
        browser.post(app.url(&format!("/dealers/{}/agreements", s.dealer))).form(&form("23")).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("0.08–0.22"), "the page names the range it broke");
    let saved =
        browser.post(app.url(&format!("/dealers/{}/agreements", s.dealer))).form(&form("15")).send().await.unwrap();
    assert_eq!(saved.status(), 303);
    sell(&app, &s, 1).await;
    let month = into_last_month(&app).await;
    post_ok(&app, &s.admin, "/api/v1/commission/close-month", &json!({ "month": month })).await;
    let html = browser.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-label=\"阶梯\">—</td>"), "an agreement without tiers says so");
    let start = html.find("/statements/").unwrap() + "/statements/".len();
    let id: String = html[start..].chars().take_while(char::is_ascii_digit).collect();
    let statement = browser.get(app.url(&format!("/statements/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(statement.contains("下载 Excel") && statement.contains("草稿"));
    let version = hidden_field(&statement, "version").unwrap();
    let confirmed = browser
        .post(app.url(&format!("/statements/{id}/confirm")))
        .form(&[("csrf", csrf.as_str()), ("version", version.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 303);
    let statement = browser.get(app.url(&format!("/statements/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(statement.contains("已确认"));
    let xlsx = browser.get(app.url(&format!("/api/v1/statements/{id}?format=xlsx"))).send().await.unwrap();
    assert_eq!(xlsx.status(), 200, "the download works from the page's session");
}

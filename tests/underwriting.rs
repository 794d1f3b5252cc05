//! Underwriting end to end: quote → (refer → approve) → issue → endorse →
//! cancel → renew, with the rules, the seller's qualification and scoping.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use autochannel::store::audit::Actor;
use autochannel::store::users::{self, Qualification};
use chrono::{Duration, NaiveDate, Utc};
use common::TestApp;
use serde_json::{Value, json};

on_both_databases!(
    a_seller_quotes_and_issues_both_policies,
    issuing_needs_a_valid_qualification,
    a_referred_quote_waits_for_an_underwriter,
    a_suspended_dealer_is_declined_naming_the_rule,
    every_bad_identifier_is_named,
    sellers_see_only_their_stores_quotes_and_policies,
    the_same_issue_key_issues_once,
    concurrent_endorsements_cannot_both_win,
    lowering_the_vehicle_damage_sum_insured_refunds_pro_rata,
    cancelling_on_the_first_day_refunds_everything,
    renewal_quotes_move_one_ncd_level_down,
    the_store_cannot_back_date_a_cancellation,
    compulsory_cover_is_cancelled_only_for_a_statutory_reason,
    a_new_car_is_quoted_at_ncd_zero_and_a_typed_history_is_referred,
    quotes_expire_and_are_re_rated_at_issue,
    a_car_is_insured_once,
    the_policy_status_follows_the_dates,
    a_new_rating_version_prices_new_quotes_only,
    the_policy_list_finds_by_number_plate_vin_and_owner,
);

const VIN: &str = "1M8GDM9AXKP042788";
const ID_NUMBER: &str = "11010519491231002X";

fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// A store with a qualified sales assistant `sa` and an underwriter `uw`; returns the dealer id.
async fn store(app: &TestApp) -> i64 {
    let dealer = app.add_dealer("D001", None).await;
    let sa = app.add_user("sa", Role::SalesAssistant, &["D001"]).await;
    app.add_user("uw", Role::Underwriter, &[]).await;
    certify(app, sa, "QC-SA", today() - Duration::days(30), today() + Duration::days(365)).await;
    dealer
}

async fn certify(app: &TestApp, user: i64, number: &str, from: NaiveDate, to: NaiveDate) {
    let tx = autochannel::store::begin_write(&app.db).await.unwrap();
    let certificate = Qualification { certificate_no: number.into(), valid_from: from, valid_to: to };
    users::add_qualification(&tx, &Actor::system("test"), user, certificate).await.unwrap();
    tx.commit().await.unwrap();
}

fn quote_body(dealer: i64) -> Value {
    json!({
        "dealer_id": dealer, "business_type": "new_car",
        "vehicle": { "vin": VIN, "plate": "粤B12345", "first_registration": "2024-03-15", "new_car_price": "200000.00", "seats": 5 },
        "owner": { "name": "陈立", "id_number": ID_NUMBER, "phone": "138 0013 8000" },
        "accident_history": "new_or_no_record", "ncd_level": 0,
        "coverages": { "compulsory": true, "vehicle_damage": true, "third_party_limit": "1000000", "driver_limit": null,
                       "passenger_limit": null, "riders": [] }
    })
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client.post(app.url(path)).bearer_auth(token).json(body).send().await.unwrap()
}

async fn quote(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = post(app, token, "/api/v1/quotes", body).await;
    assert_eq!(response.status(), 201, "quote created");
    response.json().await.unwrap()
}

async fn issue(app: &TestApp, token: &str, quote_id: &Value) -> reqwest::Response {
    app.client.post(app.url(&format!("/api/v1/quotes/{quote_id}/issue"))).bearer_auth(token).send().await.unwrap()
}

async fn a_seller_quotes_and_issues_both_policies(app: TestApp) {
    let dealer = store(&app).await;
    let token = app.token("sa").await;
    let mut bent = quote_body(dealer);
    bent["pricing_coefficient"] = json!("0.50");
    let refused = post(&app, &token, "/api/v1/quotes", &bent).await;
    assert_eq!(refused.status(), 422, "the seller cannot type a coefficient");
    // The underwriters' channel table gives the dealer 0.90 (its region 0.95) from today.
    let uw = app.token("uw").await;
    let table = json!({ "effective_from": today(), "note": "深圳渠道", "table": { "default_coefficient": "1.00",
        "regions": [{ "region": "广东-深圳", "coefficient": "0.95" }],
        "dealers": [{ "dealer_code": "D001", "coefficient": "0.90" }] } });
    assert_eq!(post(&app, &token, "/api/v1/channel-coefficients", &table).await.status(), 403, "sellers do not set it");
    let mut outside = table.clone();
    outside["table"]["dealers"][0]["coefficient"] = json!("0.40");
    let problem: Value = post(&app, &uw, "/api/v1/channel-coefficients", &outside).await.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "outside_filed_range", "{problem}");
    assert_eq!(post(&app, &uw, "/api/v1/channel-coefficients", &table).await.status(), 201);
    let quote = quote(&app, &token, &quote_body(dealer)).await;
    assert_eq!(quote["status"], "accepted");
    assert_eq!(quote["pricing_coefficient"], "0.9");
    assert_eq!(quote["owner_id_number"], "110105********002X", "the owner's ID is masked");
    assert_eq!(quote["owner_phone"], "138****8000");
    let lines = quote["premium"]["lines"].as_array().unwrap();
    let codes: Vec<&str> = lines.iter().map(|l| l["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["compulsory", "vehicle_damage", "third_party"]);
    // Compulsory: 950 (under 6 seats) × 1.0 (new or no record) = 950.00
    assert_eq!(lines[0]["premium"], "950.00");
    let total: rust_decimal::Decimal =
        lines.iter().map(|l| l["premium"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap()).sum();
    assert_eq!(quote["premium"]["total"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap(), total);

    let response = issue(&app, &token, &quote["id"]).await;
    assert_eq!(response.status(), 201);
    let policies: Vec<Value> = response.json().await.unwrap();
    assert_eq!(policies.len(), 2);
    assert!(policies[0]["policy_no"].as_str().unwrap().starts_with("PDZA"));
    assert!(policies[1]["policy_no"].as_str().unwrap().starts_with("PDAA"));
    assert_eq!(policies[0]["premium"], "950.00");
    assert_eq!(policies[1]["premium"], quote["premium"]["commercial_total"]);
    let start = NaiveDate::parse_from_str(policies[0]["start_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(start, today() + Duration::days(1), "cover starts the next day at 00:00");
    assert_eq!(policies[0]["business_type"], "new_car");
    // The channel coefficient prices the commercial premium only; the compulsory policy carries 1.
    assert_eq!(policies[0]["pricing_coefficient"], "1");
    assert_eq!(policies[1]["pricing_coefficient"], "0.9");
    let shown: Value = app.get_json(&format!("/api/v1/policies/{}", policies[1]["id"]), &token).await;
    assert_eq!(shown["versions"][0]["kind"], "issue");
    assert_eq!(shown["coverages"].as_array().unwrap().len(), 2);
    let again = issue(&app, &token, &quote["id"]).await;
    assert_eq!(again.status(), 409, "a quote issues once");
}

async fn issuing_needs_a_valid_qualification(app: TestApp) {
    let dealer = store(&app).await;
    let lapsed = app.add_user("sa2", Role::SalesAssistant, &["D001"]).await;
    certify(&app, lapsed, "QC-OLD", today() - Duration::days(400), today() - Duration::days(1)).await;
    app.add_user("sa3", Role::SalesAssistant, &["D001"]).await;
    for seller in ["sa2", "sa3"] {
        let token = app.token(seller).await;
        let quote = quote(&app, &token, &quote_body(dealer)).await;
        let refused = issue(&app, &token, &quote["id"]).await;
        assert_eq!(refused.status(), 422, "{seller} may quote but not issue");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["code"], "seller_unqualified");
        let page: Value = app.get_json("/api/v1/policies", &token).await;
        assert_eq!(page["total"], 0, "nothing was issued");
    }
}

async fn a_referred_quote_waits_for_an_underwriter(app: TestApp) {
    let dealer = store(&app).await;
    let sa = app.token("sa").await;
    let uw = app.token("uw").await;
    let mut body = quote_body(dealer);
    body["vehicle"]["new_car_price"] = json!("1500000.00");
    let referred = quote(&app, &sa, &body).await;
    assert_eq!(referred["status"], "referred");
    assert_eq!(referred["rule_hits"][0]["code"], "luxury");
    assert_eq!(issue(&app, &sa, &referred["id"]).await.status(), 409, "a referred quote cannot be issued");
    let queue: Value = app.get_json("/api/v1/quotes?status=referred", &uw).await;
    assert_eq!(queue["total"], 1);
    let path = format!("/api/v1/quotes/{}/approve", referred["id"]);
    let no_note = post(&app, &uw, &path, &json!({ "version": 1, "note": " " })).await;
    assert_eq!(no_note.status(), 422);
    assert_eq!(
        post(&app, &sa, &path, &json!({ "version": 1, "note": "ok" })).await.status(),
        403,
        "sellers do not approve"
    );
    let approved = post(&app, &uw, &path, &json!({ "version": 1, "note": "车主为老客户，同意承保" })).await;
    assert_eq!(approved.status(), 200);
    assert_eq!(approved.json::<Value>().await.unwrap()["status"], "approved");
    let twice =
        post(&app, &uw, &format!("/api/v1/quotes/{}/decline", referred["id"]), &json!({ "version": 1, "note": "no" }))
            .await;
    assert_eq!(twice.status(), 409);
    assert_eq!(issue(&app, &sa, &referred["id"]).await.status(), 201);
}

async fn a_suspended_dealer_is_declined_naming_the_rule(app: TestApp) {
    let dealer = store(&app).await;
    app.sql("UPDATE dealers SET status = 'suspended'").await.unwrap();
    let token = app.token("sa").await;
    let declined = quote(&app, &token, &quote_body(dealer)).await;
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["rule_hits"][0]["code"], "dealer_suspended");
    assert_eq!(issue(&app, &token, &declined["id"]).await.status(), 409);
}

async fn every_bad_identifier_is_named(app: TestApp) {
    let dealer = store(&app).await;
    let token = app.token("sa").await;
    let mut body = quote_body(dealer);
    body["vehicle"]["vin"] = json!("1M8GDM9AXKP04278O");
    body["vehicle"]["plate"] = json!("XX12345");
    body["owner"]["id_number"] = json!("110105194912310021");
    body["owner"]["phone"] = json!("12345");
    let response = post(&app, &token, "/api/v1/quotes", &body).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    let mut fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort();
    assert!(fields.contains(&"vehicle.vin") && fields.contains(&"vehicle.plate"), "{fields:?}");
    assert!(fields.contains(&"owner.id_number") && fields.contains(&"owner.phone"), "{fields:?}");
}

async fn sellers_see_only_their_stores_quotes_and_policies(app: TestApp) {
    let dealer = store(&app).await;
    let other = app.add_dealer("D002", None).await;
    let outsider = app.add_user("sa-other", Role::SalesAssistant, &["D002"]).await;
    certify(&app, outsider, "QC-O", today() - Duration::days(1), today() + Duration::days(100)).await;
    let sa = app.token("sa").await;
    let them = app.token("sa-other").await;
    let quote = quote(&app, &sa, &quote_body(dealer)).await;
    let policies: Vec<Value> = issue(&app, &sa, &quote["id"]).await.json().await.unwrap();
    let hidden = post(&app, &them, "/api/v1/quotes", &quote_body(dealer)).await;
    assert_eq!(hidden.status(), 404, "no quoting for another store");
    assert_eq!(
        app.client
            .get(app.url(&format!("/api/v1/quotes/{}", quote["id"])))
            .bearer_auth(&them)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(issue(&app, &them, &quote["id"]).await.status(), 404);
    let policy = format!("/api/v1/policies/{}", policies[0]["id"]);
    assert_eq!(app.client.get(app.url(&policy)).bearer_auth(&them).send().await.unwrap().status(), 404);
    let cancel = post(&app, &them, &format!("{policy}/cancel"), &json!({ "version": 1, "reason": "x" })).await;
    assert_eq!(cancel.status(), 404);
    let listed: Value = app.get_json("/api/v1/policies", &them).await;
    assert_eq!(listed["total"], 0);
    let _ = other;
}

async fn the_same_issue_key_issues_once(app: TestApp) {
    let dealer = store(&app).await;
    let token = app.token("sa").await;
    let quote = quote(&app, &token, &quote_body(dealer)).await;
    let send = || {
        app.client
            .post(app.url(&format!("/api/v1/quotes/{}/issue", quote["id"])))
            .bearer_auth(&token)
            .header("idempotency-key", "issue-1")
            .send()
    };
    let (a, b) = tokio::join!(send(), send());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a[0]["policy_no"], b[0]["policy_no"], "the same policies, never two sets");
    let listed: Value = app.get_json("/api/v1/policies", &token).await;
    assert_eq!(listed["total"], 2);
}

async fn issued_commercial_policy(app: &TestApp, token: &str, dealer: i64) -> Value {
    let quote = quote(app, token, &quote_body(dealer)).await;
    let policies: Vec<Value> = issue(app, token, &quote["id"]).await.json().await.unwrap();
    policies.into_iter().find(|p| p["product"] == "commercial").unwrap()
}

async fn concurrent_endorsements_cannot_both_win(app: TestApp) {
    let dealer = store(&app).await;
    let token = app.token("sa").await;
    let policy = issued_commercial_policy(&app, &token, dealer).await;
    let path = format!("/api/v1/policies/{}/endorse", policy["id"]);
    let start = policy["start_date"].clone();
    let first = json!({ "version": 1, "plate": "粤B54321", "effective_date": start });
    let second = json!({ "version": 1, "plate": "粤BD12345", "effective_date": start });
    let (a, b) = tokio::join!(post(&app, &token, &path, &first), post(&app, &token, &path, &second));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let shown: Value = app.get_json(&format!("/api/v1/policies/{}", policy["id"]), &token).await;
    assert_eq!(shown["versions"].as_array().unwrap().len(), 2, "one endorsement recorded");
    assert_eq!(shown["versions"][1]["kind"], "endorse");
    assert_eq!(shown["versions"][1]["adjustment"], "0.00", "a plate change costs nothing");
}

async fn lowering_the_vehicle_damage_sum_insured_refunds_pro_rata(app: TestApp) {
    let dealer = store(&app).await;
    let token = app.token("sa").await;
    let policy = issued_commercial_policy(&app, &token, dealer).await;
    let damage =
        policy["coverages"].as_array().unwrap().iter().find(|c| c["code"] == "vehicle_damage").unwrap().clone();
    let actual: rust_decimal::Decimal = damage["sum_insured"].as_str().unwrap().parse().unwrap();
    let path = format!("/api/v1/policies/{}/endorse", policy["id"]);
    let start = policy["start_date"].clone();
    // Above the actual value, or below the table's 70% floor: refused, naming the field.
    for (amount, code) in [
        (actual + rust_decimal::Decimal::ONE, "above_actual_value"),
        (actual / rust_decimal::Decimal::from(2), "below_agreed_floor"),
    ] {
        let body = json!({ "version": 1, "effective_date": start, "vehicle_damage_sum_insured": amount.round_dp(2).to_string() });
        let refused = post(&app, &token, &path, &body).await;
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "vehicle_damage_sum_insured", "{problem}");
        assert_eq!(problem["errors"][0]["code"], code);
    }
    // 90% of the actual value from the first day: the vehicle-damage premium is repriced on the lower
    // sum insured, the other coverages stay, and the whole difference comes back.
    let agreed = (actual * rust_decimal::Decimal::new(9, 1)).round_dp(2);
    let body = json!({ "version": 1, "effective_date": start, "vehicle_damage_sum_insured": agreed.to_string() });
    let response = post(&app, &token, &path, &body).await;
    assert_eq!(response.status(), 200);
    let endorsed: Value = response.json().await.unwrap();
    let new_damage =
        endorsed["coverages"].as_array().unwrap().iter().find(|c| c["code"] == "vehicle_damage").unwrap().clone();
    assert_eq!(new_damage["sum_insured"], agreed.to_string());
    let dec = |v: &Value| v.as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
    let old_base = dec(&damage["base_premium"]);
    assert_eq!(
        dec(&new_damage["base_premium"]),
        (rust_decimal::Decimal::from(500) + agreed * rust_decimal::Decimal::new(11, 3)).round_dp(2)
    );
    assert!(dec(&new_damage["base_premium"]) < old_base);
    let third_party = |p: &Value| {
        p["coverages"].as_array().unwrap().iter().find(|c| c["code"] == "third_party").unwrap()["premium"].clone()
    };
    assert_eq!(third_party(&endorsed), third_party(&policy), "the other coverages are unchanged");
    let adjustment = dec(&endorsed["versions"][1]["adjustment"]);
    assert_eq!(
        adjustment,
        dec(&endorsed["premium"]) - dec(&policy["premium"]),
        "effective from the first day: the full difference"
    );
    assert!(adjustment < rust_decimal::Decimal::ZERO);
}

async fn cancelling_on_the_first_day_refunds_everything(app: TestApp) {
    let dealer = store(&app).await;
    let token = app.token("sa").await;
    let policy = issued_commercial_policy(&app, &token, dealer).await;
    let path = format!("/api/v1/policies/{}/cancel", policy["id"]);
    let no_reason = post(&app, &token, &path, &json!({ "version": 1, "reason": "" })).await;
    assert_eq!(no_reason.status(), 422);
    // The policy starts tomorrow, the earliest day the store may choose: nothing of its cover has been used.
    let body = json!({ "version": 1, "reason": "车辆转卖", "effective_date": policy["start_date"] });
    let cancelled: Value = post(&app, &token, &path, &body).await.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["refund"], policy["premium"], "cancelled on its first day, the whole premium comes back");
    assert_eq!(cancelled["versions"][1]["kind"], "cancel");
    let again = post(&app, &token, &path, &json!({ "version": 2, "reason": "again" })).await;
    assert_eq!(again.status(), 409);
}

async fn renewal_quotes_move_one_ncd_level_down(app: TestApp) {
    let dealer = store(&app).await;
    let token = app.token("sa").await;
    let policy = issued_commercial_policy(&app, &token, dealer).await;
    let soon: Vec<Value> = app.get_json("/api/v1/renewals", &token).await;
    assert!(soon.is_empty(), "a new policy is not due within 60 days");
    let due: Vec<Value> = app.get_json("/api/v1/renewals?days=366", &token).await;
    assert_eq!(due.len(), 1, "one car, one line: {due:?}");
    let candidate = &due[0];
    assert_eq!(candidate["vin"], VIN);
    assert_eq!(candidate["policies"].as_array().unwrap().len(), 2, "compulsory and commercial together");
    assert_eq!(candidate["next_ncd_level"], -1);
    assert_eq!(candidate["next_accident_history"], "claim_free_1_year");
    let renewal: Value = post(&app, &token, &format!("/api/v1/policies/{}/renew", policy["id"]), &json!(null))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renewal["business_type"], "renewal");
    assert_eq!(renewal["ncd_level"], -1);
    assert_eq!(renewal["accident_history"], "claim_free_1_year");
    assert_eq!(renewal["start_date"], policy["end_date"]);
    assert_eq!(renewal["renewal_of_policy_id"], policy["id"]);
    let codes: Vec<&str> =
        renewal["premium"]["lines"].as_array().unwrap().iter().map(|l| l["code"].as_str().unwrap()).collect();
    assert_eq!(codes[0], "compulsory", "the renewal covers the car's compulsory policy too");
    // A second renewal quote for the same car, made before the first is issued.
    let second: Value = post(&app, &token, &format!("/api/v1/policies/{}/renew", policy["id"]), &json!(null))
        .await
        .json()
        .await
        .unwrap();
    let issued: Vec<Value> = issue(&app, &token, &renewal["id"]).await.json().await.unwrap();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0]["start_date"], policy["end_date"], "the renewal starts when the old policy ends");
    let old: Vec<Value> = app.get_json::<Value>("/api/v1/policies?per_page=10", &token).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["renewal_of_policy_id"].is_null() && p["business_type"] == "new_car")
        .cloned()
        .collect();
    for new in &issued {
        let renewed = old.iter().find(|o| o["product"] == new["product"]).unwrap();
        assert_eq!(new["renewal_of_policy_id"], renewed["id"], "each policy renews its own product");
    }
    let due: Vec<Value> = app.get_json("/api/v1/renewals?days=366", &token).await;
    assert!(due.is_empty(), "the car left the list with both policies: {due:?}");
    let twice = issue(&app, &token, &second["id"]).await;
    assert_eq!(twice.status(), 409, "renewing the car again would insure it twice");
    let problem: Value = twice.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "insured_twice");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains(issued[0]["policy_no"].as_str().unwrap()));
    let again = post(&app, &token, &format!("/api/v1/policies/{}/renew", policy["id"]), &json!(null)).await;
    assert_eq!(again.status(), 409, "a renewed car is not renewed again");
}

/// Moves every policy's period to have started a month ago.
async fn started_all(app: &TestApp) {
    let start = today() - Duration::days(30);
    let end = start + Duration::days(365);
    app.sql(&format!("UPDATE policies SET start_date = '{start}', end_date = '{end}'")).await.unwrap();
}

/// Moves a policy's period to have started `days_ago` days ago.
async fn started(app: &TestApp, policy: &Value, days_ago: i64) -> (NaiveDate, NaiveDate) {
    let start = today() - Duration::days(days_ago);
    let end = start + Duration::days(365);
    app.sql(&format!("UPDATE policies SET start_date = '{start}', end_date = '{end}' WHERE id = {}", policy["id"]))
        .await
        .unwrap();
    (start, end)
}

async fn the_store_cannot_back_date_a_cancellation(app: TestApp) {
    let dealer = store(&app).await;
    let (sa, uw) = (app.token("sa").await, app.token("uw").await);
    let policy = issued_commercial_policy(&app, &sa, dealer).await;
    let (start, _) = started(&app, &policy, 100).await;
    let path = format!("/api/v1/policies/{}/cancel", policy["id"]);
    for day in [start, today(), NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()] {
        let body = json!({ "version": 1, "reason": "客户要求", "effective_date": day });
        let refused = post(&app, &sa, &path, &body).await;
        assert_eq!(refused.status(), 422, "{day}");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["code"], "backdating_needs_underwriter", "{day}: {problem}");
    }
    let no_reason = post(&app, &uw, &path, &json!({ "version": 1, "reason": "报废", "effective_date": start })).await;
    let problem: Value = no_reason.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "backdate_reason", "{problem}");
    let before_start = json!({ "version": 1, "reason": "报废", "effective_date": start - Duration::days(1),
                               "backdate_reason": "车辆已于当日报废" });
    let problem: Value = post(&app, &uw, &path, &before_start).await.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "before_start");
    // An underwriter dates it back 10 days, with the reason: the refund is the premium of the days not covered.
    let from = today() - Duration::days(10);
    let body = json!({ "version": 1, "reason": "报废", "effective_date": from, "backdate_reason": "车辆10天前已报废，有注销证明" });
    let response = post(&app, &uw, &path, &body).await;
    assert_eq!(response.status(), 200);
    let cancelled: Value = response.json().await.unwrap();
    assert_eq!(cancelled["cancelled_from"], from.to_string());
    assert_eq!(cancelled["versions"][1]["changes"]["backdate_reason"], "车辆10天前已报废，有注销证明");
    let dec = |v: &Value| v.as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
    let period = autochannel::domain::underwriting::lifecycle::Period { start, end: start + Duration::days(365) };
    let expected =
        autochannel::domain::underwriting::lifecycle::refund_on_cancel(dec(&policy["premium"]), &period, from);
    assert_eq!(dec(&cancelled["refund"]), expected);
}

async fn compulsory_cover_is_cancelled_only_for_a_statutory_reason(app: TestApp) {
    let dealer = store(&app).await;
    let sa = app.token("sa").await;
    let quote = quote(&app, &sa, &quote_body(dealer)).await;
    let policies: Vec<Value> = issue(&app, &sa, &quote["id"]).await.json().await.unwrap();
    let compulsory = policies.iter().find(|p| p["product"] == "compulsory").unwrap();
    started(&app, compulsory, 30).await;
    let path = format!("/api/v1/policies/{}/cancel", compulsory["id"]);
    let refused = post(&app, &sa, &path, &json!({ "version": 1, "reason": "客户改投他司" })).await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "statutory_reason");
    let unknown = post(&app, &sa, &path, &json!({ "version": 1, "reason": "x", "statutory_reason": "sold" })).await;
    assert_eq!(unknown.status(), 422);
    let body = json!({ "version": 1, "reason": "车辆已报废注销", "statutory_reason": "deregistered" });
    let cancelled: Value = post(&app, &sa, &path, &body).await.json().await.unwrap();
    assert_eq!(cancelled["statutory_reason"], "deregistered");
    assert_eq!(cancelled["cancelled_from"], (today() + Duration::days(1)).to_string(), "from the next 00:00");
    assert_eq!(cancelled["status"], "in_force", "covered until the cancellation takes effect at the next 00:00");
}

async fn a_new_car_is_quoted_at_ncd_zero_and_a_typed_history_is_referred(app: TestApp) {
    let dealer = store(&app).await;
    let sa = app.token("sa").await;
    let mut bent = quote_body(dealer);
    bent["ncd_level"] = json!(-4);
    let problem: Value = post(&app, &sa, "/api/v1/quotes", &bent).await.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "new_car_ncd", "{problem}");
    let mut history = quote_body(dealer);
    history["accident_history"] = json!("claim_free_3_years_or_more");
    let problem: Value = post(&app, &sa, "/api/v1/quotes", &history).await.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "new_car_history");
    let mut defaults = quote_body(dealer);
    defaults.as_object_mut().unwrap().remove("ncd_level");
    defaults.as_object_mut().unwrap().remove("accident_history");
    let plain = quote(&app, &sa, &defaults).await;
    assert_eq!((plain["ncd_level"].clone(), plain["accident_history"].clone()), (json!(0), json!("new_or_no_record")));
    // A transfer-in with a typed discount the insurer cannot confirm waits for an underwriter.
    let mut transfer = quote_body(dealer);
    transfer["business_type"] = json!("transfer_in");
    transfer["ncd_level"] = json!(-4);
    transfer["accident_history"] = json!("claim_free_3_years_or_more");
    let referred = quote(&app, &sa, &transfer).await;
    assert_eq!(referred["status"], "referred");
    assert_eq!(referred["rule_hits"][0]["code"], "history_unverified");
}

async fn quotes_expire_and_are_re_rated_at_issue(app: TestApp) {
    let dealer = store(&app).await;
    let sa = app.token("sa").await;
    let stale = quote(&app, &sa, &quote_body(dealer)).await;
    assert_eq!(stale["valid_until"], (today() + Duration::days(2)).to_string(), "valid 3 days, today included");
    app.sql(&format!("UPDATE quotes SET valid_until = '{}' WHERE id = {}", today() - Duration::days(1), stale["id"]))
        .await
        .unwrap();
    let refused = issue(&app, &sa, &stale["id"]).await;
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "quote_expired");
    // Quoted for a start three days ago (as if quoted then): issued today it starts tomorrow and is priced again.
    let old = quote(&app, &sa, &quote_body(dealer)).await;
    app.sql(&format!("UPDATE quotes SET start_date = '{}' WHERE id = {}", today() - Duration::days(2), old["id"]))
        .await
        .unwrap();
    let response = issue(&app, &sa, &old["id"]).await;
    assert_eq!(response.status(), 201);
    let issued: Vec<Value> = response.json().await.unwrap();
    assert_eq!(issued[0]["rerated"]["reasons"], json!(["start_date_changed"]), "{}", issued[0]);
    assert_eq!(issued[0]["start_date"], (today() + Duration::days(1)).to_string());
    let shown: Value = app.get_json(&format!("/api/v1/quotes/{}", old["id"]), &sa).await;
    assert_eq!(shown["start_date"], (today() + Duration::days(1)).to_string(), "the quote keeps what it was issued at");
}

async fn a_car_is_insured_once(app: TestApp) {
    let dealer = store(&app).await;
    let sa = app.token("sa").await;
    let first = quote(&app, &sa, &quote_body(dealer)).await;
    let second = quote(&app, &sa, &quote_body(dealer)).await;
    let issued: Vec<Value> = issue(&app, &sa, &first["id"]).await.json().await.unwrap();
    let refused = issue(&app, &sa, &second["id"]).await;
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "insured_twice");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains(issued[0]["policy_no"].as_str().unwrap()));
    let listed: Value = app.get_json("/api/v1/policies", &sa).await;
    assert_eq!(listed["total"], 2, "nothing of the second sale was issued");
    let quote_after: Value = app.get_json(&format!("/api/v1/quotes/{}", second["id"]), &sa).await;
    assert_eq!(quote_after["status"], "accepted", "the refused quote is left as it was");
    // Quoted again as a new car, the insured car is referred: the insurer knows its history.
    started_all(&app).await;
    let again = quote(&app, &sa, &quote_body(dealer)).await;
    assert_eq!(again["status"], "referred");
    assert_eq!(again["rule_hits"][0]["code"], "history_unverified", "{again}");
}

async fn count_with_status(app: &TestApp, token: &str, status: &str) -> u64 {
    app.get_json::<Value>(&format!("/api/v1/policies?status={status}"), token).await["total"].as_u64().unwrap()
}

async fn the_policy_status_follows_the_dates(app: TestApp) {
    let dealer = store(&app).await;
    let sa = app.token("sa").await;
    let policy = issued_commercial_policy(&app, &sa, dealer).await;
    assert_eq!(policy["status"], "pending", "cover begins tomorrow");
    assert_eq!(count_with_status(&app, &sa, "pending").await, 2);
    started(&app, &policy, 400).await;
    let shown: Value = app.get_json(&format!("/api/v1/policies/{}", policy["id"]), &sa).await;
    assert_eq!(shown["status"], "expired");
    assert_eq!(count_with_status(&app, &sa, "expired").await, 1);
    assert_eq!(count_with_status(&app, &sa, "in_force").await, 0);
    started(&app, &policy, 10).await;
    assert_eq!(count_with_status(&app, &sa, "in_force").await, 1);
    let page = app.client.get(app.url("/policies?status=expired")).bearer_auth(&sa).send().await.unwrap();
    assert_eq!(page.status(), 200);
}

async fn a_new_rating_version_prices_new_quotes_only(app: TestApp) {
    let dealer = store(&app).await;
    let sa = app.token("sa").await;
    let uw = app.token("uw").await;
    let before = quote(&app, &sa, &quote_body(dealer)).await;
    let versions: Vec<Value> = app.get_json("/api/v1/rating-versions", &uw).await;
    let mut document = versions[0]["document"].clone();
    document["tables"]["compulsory"]["base_premium_under_6_seats"] = json!("1000.00");
    let bad = post(&app, &uw, "/api/v1/rating-versions", &json!({ "effective_from": today().to_string(), "note": "x",
        "document": { "tables": document["tables"].clone(), "rules": [document["rules"][0].clone(), document["rules"][0].clone()] } })).await;
    assert_eq!(bad.status(), 422, "duplicate rule codes are refused");
    let created = post(
        &app,
        &uw,
        "/api/v1/rating-versions",
        &json!({ "effective_from": today().to_string(), "note": "交强险基础保费调整", "document": document }),
    )
    .await;
    assert_eq!(created.status(), 201);
    assert_eq!(post(&app, &sa, "/api/v1/rating-versions", &json!({})).await.status(), 403);
    let after = quote(&app, &sa, &quote_body(dealer)).await;
    assert_eq!(after["premium"]["lines"][0]["premium"], "1000.00");
    assert_ne!(after["rating_version_id"], before["rating_version_id"]);
    let kept: Value = app.get_json(&format!("/api/v1/quotes/{}", before["id"]), &sa).await;
    assert_eq!(
        kept["premium"]["lines"][0]["premium"], "950.00",
        "an earlier quote keeps the version it was priced with"
    );
}

mod pages {
    use super::*;

    async fn a_seller_quotes_issues_and_cancels_on_the_pages(app: TestApp) {
        let dealer = store(&app).await.to_string();
        let (browser, csrf) = app.browser_login("sa").await;
        let form = browser.get(app.url("/quotes/new")).send().await.unwrap().text().await.unwrap();
        assert!(
            form.contains("车架号") && form.contains("100万"),
            "the form speaks Chinese and shows limits as people say them"
        );
        let fields = [
            ("csrf", csrf.as_str()),
            ("dealer_id", dealer.as_str()),
            ("business_type", "new_car"),
            ("vin", VIN),
            ("plate", "粤B·12345"),
            ("first_registration", "2024-03-15"),
            ("new_car_price", "200000"),
            ("seats", "5"),
            ("owner_name", "陈立"),
            ("owner_id_number", ID_NUMBER),
            ("owner_phone", "13800138000"),
            ("accident_history", "new_or_no_record"),
            ("ncd_level", "0"),
            ("compulsory", "on"),
            ("vehicle_damage", "on"),
            ("third_party_limit", "1000000"),
            ("driver_limit", ""),
            ("passenger_limit", ""),
        ];
        let mut bad = fields.to_vec();
        bad[4] = ("plate", "XX123");
        let refused = browser.post(app.url("/quotes")).form(&bad).send().await.unwrap();
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(
            html.contains("车牌应以省份简称开头") && html.contains("value=\"陈立\""),
            "the error is named and what was typed is kept"
        );
        let created = browser.post(app.url("/quotes")).form(&fields).send().await.unwrap();
        assert_eq!(created.status(), 303);
        let quote_url = created.headers()["location"].to_str().unwrap().to_string();
        let quote = browser.get(app.url(&quote_url)).send().await.unwrap().text().await.unwrap();
        assert!(quote.contains("保费明细") && quote.contains("¥950.00") && quote.contains("确认出单"));
        let issued =
            browser.post(app.url(&format!("{quote_url}/issue"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(issued.status(), 303);
        let policy_url = issued.headers()["location"].to_str().unwrap().to_string();
        let policy = browser.get(app.url(&policy_url)).send().await.unwrap().text().await.unwrap();
        assert!(policy.contains("PDZA") && policy.contains("PDAA"), "the policy page links its pair");
        assert!(policy.contains("次日零时起生效"), "the page states when a change takes effect");
        assert!(policy.contains("交强险法定退保原因"), "the compulsory policy asks for the statutory reason");
        let version = common::hidden_field(&policy, "version").unwrap();
        let cancel = |statutory: &'static str, day: String| {
            let form = vec![
                ("csrf", csrf.clone()),
                ("version", version.clone()),
                ("reason", "客户改投他司".to_string()),
                ("effective_date", day),
                ("statutory_reason", statutory.to_string()),
            ];
            browser.post(app.url(&format!("{policy_url}/cancel"))).form(&form).send()
        };
        let refused = cancel("", String::new()).await.unwrap();
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("只能因法定原因退保"));
        let back_dated = cancel("deregistered", (today() - Duration::days(3)).to_string()).await.unwrap();
        assert_eq!(back_dated.status(), 422);
        assert!(back_dated.text().await.unwrap().contains("须由核保人办理"));
        let cancelled = cancel("deregistered", String::new()).await.unwrap();
        assert_eq!(cancelled.status(), 303);
        let after = browser.get(app.url(&policy_url)).send().await.unwrap().text().await.unwrap();
        assert!(after.contains("已退保") && after.contains("客户改投他司") && after.contains("车辆注销登记"));
    }

    async fn an_underwriter_approves_a_referral_on_the_pages(app: TestApp) {
        let dealer = store(&app).await;
        let sa = app.token("sa").await;
        let mut body = quote_body(dealer);
        body["vehicle"]["new_car_price"] = json!("1500000.00");
        let referred = quote(&app, &sa, &body).await;
        let (browser, csrf) = app.browser_login("uw").await;
        let queue = browser.get(app.url("/quotes?status=referred")).send().await.unwrap().text().await.unwrap();
        assert!(queue.contains("待核保") && queue.contains("粤B12345"));
        let page =
            browser.get(app.url(&format!("/quotes/{}", referred["id"]))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("luxury") && page.contains("同意承保"));
        let approved = browser
            .post(app.url(&format!("/quotes/{}/review", referred["id"])))
            .form(&[("csrf", csrf.as_str()), ("version", "1"), ("note", "老客户"), ("decision", "approve")])
            .send()
            .await
            .unwrap();
        assert_eq!(approved.status(), 303);
        let page =
            browser.get(app.url(&format!("/quotes/{}", referred["id"]))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("核保通过") && page.contains("老客户"));
        let rating = browser.get(app.url("/rating")).send().await.unwrap().text().await.unwrap();
        assert!(rating.contains("base_premium_under_6_seats"), "the editor shows the tables in force");
        let refused = browser
            .post(app.url("/rating"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("mode", "json"),
                ("effective_from", "2026-13-01"),
                ("note", "x"),
                ("document", "{not json"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(html.contains("effective_from") && html.contains("document"));

        // The form editor: every value is an input named by its path; changing one saves a new version.
        let base = common::hidden_field(&rating, "base_version").unwrap();
        let field = "f:tables.compulsory.base_premium_under_6_seats";
        let at = rating
            .find(field)
            .map(|i| &rating[i.saturating_sub(20)..(i + 120).min(rating.len())])
            .unwrap_or("(absent)");
        assert!(
            rating.contains(&format!("name=\"{field}\" value=\"950\"")),
            "the compulsory base premium is an input: {at}"
        );
        let effective = (today() + Duration::days(2)).to_string();
        let mut form: Vec<(String, String)> = vec![
            ("csrf".into(), csrf.clone()),
            ("mode".into(), "form".into()),
            ("base_version".into(), base.clone()),
            ("effective_from".into(), effective.clone()),
            ("note".into(), "交强险基础保费调整".into()),
            (field.into(), "980.00".into()),
        ];
        // A factor of zero is refused by the tables' own checks, beside its input; nothing is saved.
        form.push(("f:tables.commercial.ncd_levels[0].factor".into(), "0".into()));
        let bad = browser.post(app.url("/rating")).form(&form).send().await.unwrap();
        assert_eq!(bad.status(), 422);
        let html = bad.text().await.unwrap();
        assert!(html.contains("value=\"980.00\""), "what was typed stays in the form");
        assert!(html.contains("field-error"));
        form.pop();
        // A new third-party limit row is added from the blank row.
        form.push(("f:tables.commercial.third_party_limits[new].limit".into(), "20000000".into()));
        form.push(("f:tables.commercial.third_party_limits[new].base_premium".into(), "2500.00".into()));
        let saved = browser.post(app.url("/rating")).form(&form).send().await.unwrap();
        assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap_or_default());
        let uw = app.token("uw").await;
        let versions: Vec<Value> = app.get_json("/api/v1/rating-versions", &uw).await;
        let newest = versions.iter().find(|v| v["effective_from"] == effective).unwrap();
        assert_eq!(newest["document"]["tables"]["compulsory"]["base_premium_under_6_seats"], "980.00");
        let limits = newest["document"]["tables"]["commercial"]["third_party_limits"].as_array().unwrap();
        assert_eq!(limits.last().unwrap()["base_premium"], "2500.00");
        // Everything not touched is as it was.
        let base_id: i64 = base.parse().unwrap();
        let previous = versions.iter().find(|v| v["id"] == base_id).unwrap();
        assert_eq!(newest["document"]["rules"], previous["document"]["rules"]);
        assert_eq!(
            newest["document"]["tables"]["commercial"]["ncd_levels"],
            previous["document"]["tables"]["commercial"]["ncd_levels"]
        );
    }

    on_both_databases!(
        a_seller_quotes_issues_and_cancels_on_the_pages,
        an_underwriter_approves_a_referral_on_the_pages
    );
}

/// The policy list's search: a whole policy number or VIN (found through their indexes), and any part of the
/// number, plate, VIN or owner's name; never another store's policies.
async fn the_policy_list_finds_by_number_plate_vin_and_owner(app: TestApp) {
    let dealer = store(&app).await;
    app.add_dealer("D002", None).await;
    let outsider = app.add_user("sa-other", Role::SalesAssistant, &["D002"]).await;
    certify(&app, outsider, "QC-O", today() - Duration::days(1), today() + Duration::days(100)).await;
    let sa = app.token("sa").await;
    let first: Vec<Value> =
        issue(&app, &sa, &quote(&app, &sa, &quote_body(dealer)).await["id"]).await.json().await.unwrap();
    let other_vin = autochannel::domain::underwriting::identity::with_vin_check_digit("LSVAU2180N2183294").unwrap();
    let mut body = quote_body(dealer);
    body["vehicle"]["vin"] = json!(other_vin);
    body["vehicle"]["plate"] = json!("沪A6D789");
    body["owner"]["name"] = json!("王芳");
    let second: Vec<Value> = issue(&app, &sa, &quote(&app, &sa, &body).await["id"]).await.json().await.unwrap();
    assert_eq!((first.len(), second.len()), (2, 2));
    let commercial_no = first[1]["policy_no"].as_str().unwrap();
    let ids = |page: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> = page["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
        ids.sort_unstable();
        ids
    };
    let both = |sale: &[Value]| -> Vec<i64> {
        let mut ids: Vec<i64> = sale.iter().map(|p| p["id"].as_i64().unwrap()).collect();
        ids.sort_unstable();
        ids
    };
    for (q, expected) in [
        (commercial_no.to_string(), vec![first[1]["id"].as_i64().unwrap()]),
        (commercial_no.to_lowercase(), vec![first[1]["id"].as_i64().unwrap()]),
        (VIN.to_string(), both(&first)),
        (other_vin.to_lowercase(), both(&second)),
        (VIN[3..12].to_string(), both(&first)),
        ("12345".to_string(), both(&first)),
        ("6d78".to_string(), both(&second)),
        ("王".to_string(), both(&second)),
        ("PDAA2099".to_string(), vec![]),
    ] {
        let page: Value = app
            .get_json(
                &format!("/api/v1/policies?q={}", form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()),
                &sa,
            )
            .await;
        assert_eq!(ids(&page), expected, "search {q}");
        assert_eq!(page["total"].as_u64().unwrap() as usize, expected.len(), "search {q}");
    }
    let them = app.token("sa-other").await;
    for q in [commercial_no, VIN, "12345"] {
        let page: Value = app.get_json(&format!("/api/v1/policies?q={q}"), &them).await;
        assert_eq!(page["total"], 0, "another store's seller finds nothing for {q}");
    }
}

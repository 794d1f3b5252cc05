//! User administration: creation with idempotency keys, exact money in
//! storage, optimistic versions, and the admin pages.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use common::{TestApp, hidden_field};
use serde_json::{Value, json};

on_both_databases!(
    creating_a_user_answers_201_with_its_location,
    the_same_idempotency_key_creates_one_user,
    an_idempotency_key_cannot_be_reused_for_another_request,
    amounts_round_trip_exactly,
    a_stale_version_is_refused_with_409,
    concurrent_changes_of_one_user_cannot_both_win,
    store_staff_must_be_tied_to_a_dealer,
    the_user_form_keeps_what_was_typed_and_marks_bad_fields,
    the_user_form_creates_and_edits_users,
);

async fn admin(app: &TestApp) -> String {
    app.add_user("root", Role::Administrator, &[]).await;
    app.token("root").await
}

fn new_user(username: &str) -> Value {
    json!({ "username": username, "display_name": "周宁", "role": "underwriter", "password": "long-password-1" })
}

async fn creating_a_user_answers_201_with_its_location(app: TestApp) {
    let token = admin(&app).await;
    let response =
        app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&new_user("zhou")).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let created: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/users/{}", created["id"]));
    assert_eq!(created["version"], 1);
    let fetched: Value = app.get_json(&location, &token).await;
    assert_eq!(fetched["display_name"], "周宁");
    let again =
        app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&new_user("zhou")).send().await.unwrap();
    assert_eq!(again.status(), 422, "usernames are unique");
    let problem: Value = again.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "taken");
}

async fn the_same_idempotency_key_creates_one_user(app: TestApp) {
    let token = admin(&app).await;
    let send = || {
        app.client
            .post(app.url("/api/v1/users"))
            .bearer_auth(&token)
            .header("idempotency-key", "create-zhou-1")
            .json(&new_user("zhou"))
            .send()
    };
    let (first, second) = tokio::join!(send(), send());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 201);
    let replayed = [&first, &second].iter().filter(|r| r.headers().contains_key("idempotent-replayed")).count();
    assert_eq!(replayed, 1, "one request did the work, the other got its answer");
    let (a, b): (Value, Value) = (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(a["id"], b["id"]);
    let third = send().await.unwrap();
    assert_eq!(third.json::<Value>().await.unwrap()["id"], a["id"]);
    let list: Value = app.get_json("/api/v1/users?q=zhou", &token).await;
    assert_eq!(list["total"], 1);
}

async fn an_idempotency_key_cannot_be_reused_for_another_request(app: TestApp) {
    let token = admin(&app).await;
    let send = |body: Value| {
        app.client.post(app.url("/api/v1/users")).bearer_auth(&token).header("idempotency-key", "k1").json(&body).send()
    };
    assert_eq!(send(new_user("zhou")).await.unwrap().status(), 201);
    let reused = send(new_user("wang")).await.unwrap();
    assert_eq!(reused.status(), 422);
    assert_eq!(reused.json::<Value>().await.unwrap()["errors"][0]["field"], "Idempotency-Key");
    let bad_key = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .header("idempotency-key", "")
        .json(&new_user("li"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), 422);
}

async fn amounts_round_trip_exactly(app: TestApp) {
    let token = admin(&app).await;
    for (username, amount) in [("big", "9999999999999999.99"), ("small", "0.10"), ("zero", "0")] {
        let mut body = new_user(username);
        body["role"] = json!("claims_adjuster");
        body["authority_limit"] = json!(amount);
        let created: Value = app
            .client
            .post(app.url("/api/v1/users"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let stored: Value = app.get_json(&format!("/api/v1/users/{}", created["id"]), &token).await;
        let expected = if amount == "0" { "0.00".to_string() } else { amount.to_string() };
        assert_eq!(stored["authority_limit"], expected, "{amount} is stored to the fen");
    }
    let column: Vec<i64> = {
        use sea_orm::{EntityTrait, QueryOrder};
        entity::users::Entity::find()
            .order_by_asc(entity::users::Column::Id)
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|u| u.authority_limit_fen)
            .collect()
    };
    assert_eq!(column, [999_999_999_999_999_999, 10, 0], "stored as integer fen");
    let mut body = new_user("fraction");
    body["authority_limit"] = json!("0.001");
    let refused = app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 422);
}

async fn a_stale_version_is_refused_with_409(app: TestApp) {
    let token = admin(&app).await;
    let id = app.add_user("zhou", Role::Underwriter, &[]).await;
    let path = app.url(&format!("/api/v1/users/{id}"));
    let first = app
        .client
        .patch(&path)
        .bearer_auth(&token)
        .json(&json!({ "version": 1, "display_name": "周宁宁" }))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.json::<Value>().await.unwrap()["version"], 2);
    let stale = app
        .client
        .patch(&path)
        .bearer_auth(&token)
        .json(&json!({ "version": 1, "display_name": "周" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);
    assert_eq!(stale.json::<Value>().await.unwrap()["code"], "conflict");
    let now: Value = app.client.get(&path).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["display_name"], "周宁宁", "the stale change was not applied");
}

async fn concurrent_changes_of_one_user_cannot_both_win(app: TestApp) {
    let token = admin(&app).await;
    let id = app.add_user("zhou", Role::ClaimsAdjuster, &[]).await;
    let path = app.url(&format!("/api/v1/users/{id}"));
    for round in 1..=5 {
        let change = |limit: &str| {
            app.client
                .patch(&path)
                .bearer_auth(&token)
                .json(&json!({ "version": round, "authority_limit": limit }))
                .send()
        };
        let (a, b) = tokio::join!(change("1000.00"), change("2000.00"));
        let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}: exactly one change wins");
    }
}

async fn store_staff_must_be_tied_to_a_dealer(app: TestApp) {
    let token = admin(&app).await;
    app.add_dealer("D001", None).await;
    let mut body = new_user("sa1");
    body["role"] = json!("sales_assistant");
    let refused = app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(refused.json::<Value>().await.unwrap()["errors"][0]["field"], "dealers");
    body["dealers"] = json!(["D001"]);
    let created: Value = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["dealers"][0]["code"], "D001");
    let mut manager = new_user("cm1");
    manager["role"] = json!("channel_manager");
    manager["dealers"] = json!(["D001"]);
    let refused = app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&manager).send().await.unwrap();
    assert_eq!(refused.json::<Value>().await.unwrap()["errors"][0]["code"], "not_allowed");
}

async fn the_user_form_keeps_what_was_typed_and_marks_bad_fields(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    let (browser, csrf) = app.browser_login("root").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("username", "Bad Name"),
        ("display_name", "王芳"),
        ("role", "sales_assistant"),
        ("password", "long-password-1"),
        ("dealers", "NOPE"),
        ("authority_limit", "abc"),
    ];
    let response = browser.post(app.url("/admin/users")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("请修改下方标出的内容"));
    assert!(html.contains("value=\"王芳\""), "what was typed is kept");
    assert!(html.contains("请输入金额，例如 50000.00"), "every bad field is marked, in the page's language");
    assert!(html.contains("用户名为 2–64 位小写字母"));
    assert!(html.contains("没有这个代码的车商"));
    assert!(!html.contains("long-password-1"), "the password is not echoed back");
}

async fn the_user_form_creates_and_edits_users(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    app.add_dealer("D001", None).await;
    let (browser, csrf) = app.browser_login("root").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("username", "wangfang"),
        ("display_name", "王芳"),
        ("role", "sales_assistant"),
        ("password", "long-password-1"),
        ("dealers", "D001"),
        ("authority_limit", ""),
    ];
    let created = browser.post(app.url("/admin/users")).form(&form).send().await.unwrap();
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let edit = browser.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    let version = hidden_field(&edit, "version").unwrap();
    let change = [
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("display_name", "王芳芳"),
        ("dealers", "D001"),
        ("authority_limit", ""),
        ("password", ""),
    ];
    let saved = browser.post(app.url(&location)).form(&change).send().await.unwrap();
    assert_eq!(saved.status(), 303);
    let stale = browser.post(app.url(&location)).form(&change).send().await.unwrap();
    assert_eq!(stale.status(), 409, "the same form posted twice is stale the second time");
    assert!(stale.text().await.unwrap().contains("changed by someone else"));
    let list = browser.get(app.url("/admin/users?role=sales_assistant")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("王芳芳"));
}

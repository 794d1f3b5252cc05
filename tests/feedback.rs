//! The store side end to end: daily feedback (stored once per submission, with a photo), the
//! channel manager's feed, complaints handed from one owner to another, overdue complaints,
//! visits with follow-ups, satisfaction surveys and their arithmetic, and who sees what.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use chrono::{Days, Duration, NaiveDate, Utc};
use common::{TestApp, hidden_field};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_databases!(
    feedback_is_stored_once_per_submission_and_validated,
    a_photo_travels_with_the_feedback,
    the_feed_is_scoped_and_notes_are_handled_once,
    a_complaint_handed_over_shows_both_names,
    overdue_complaints_surface_on_lists_figures_and_the_dashboard,
    visits_are_planned_recorded_and_followed_up,
    survey_gaps_are_perceived_minus_expected_and_compared,
    the_phone_form_posts_once_and_the_pages_render,
);

fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// Two dealers, each with its channel manager, sales assistant and dealer staff.
struct World {
    dealer_a: i64,
    dealer_b: i64,
    cm_a: i64,
    seller_a: i64,
}

async fn world(app: &TestApp) -> World {
    let cm_a = app.add_user("cm-a", Role::ChannelManager, &[]).await;
    let cm_b = app.add_user("cm-b", Role::ChannelManager, &[]).await;
    let dealer_a = app.add_dealer("DA01", Some(cm_a)).await;
    let dealer_b = app.add_dealer("DB01", Some(cm_b)).await;
    let seller_a = app.add_user("sa-a", Role::SalesAssistant, &["DA01"]).await;
    app.add_user("sa-a2", Role::SalesAssistant, &["DA01"]).await;
    app.add_user("sa-b", Role::SalesAssistant, &["DB01"]).await;
    app.add_user("staff-a", Role::DealerStaff, &["DA01"]).await;
    app.add_user("staff-b", Role::DealerStaff, &["DB01"]).await;
    app.add_user("admin", Role::Administrator, &[]).await;
    World { dealer_a, dealer_b, cm_a, seller_a }
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let response = app.client.post(app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let response = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e["field"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

async fn feedback_is_stored_once_per_submission_and_validated(app: TestApp) {
    let w = world(&app).await;
    let seller = app.token("sa-a").await;
    let note = json!({ "dealer_id": w.dealer_a, "category": "competitor", "urgency": "high",
        "body": "竞品本周新车险加送两次保养", "submission_ref": "phone-0001-abcdef" });
    let (status, first) = post(&app, "/api/v1/feedback", &seller, note.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["feedback_date"], today().to_string(), "today unless another day is given");
    assert_eq!(first["status"], "new");
    assert_eq!(first["author_id"], w.seller_a);
    // The phone lost the answer and sent the same submission again: stored once, first answer back.
    let (status, again) = post(&app, "/api/v1/feedback", &seller, note.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);
    // An Idempotency-Key does the same for a client that sends no submission reference.
    let keyed = json!({ "dealer_id": w.dealer_a, "category": "pricing", "body": "客户嫌商业险贵" });
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = app
            .client
            .post(app.url("/api/v1/feedback"))
            .bearer_auth(&seller)
            .header("Idempotency-Key", "retry-7")
            .json(&keyed)
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        ids.push(body["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    let (_, page) = get(&app, "/api/v1/feedback", &seller).await;
    assert_eq!(page["total"], 2, "two notes, however often they were sent");

    // Every bad field is named.
    let bad = json!({ "dealer_id": w.dealer_b, "category": "gossip", "urgency": "asap", "body": "  ",
        "feedback_date": (today() + Days::new(1)).to_string() });
    let (status, problem) = post(&app, "/api/v1/feedback", &seller, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let named = fields(&problem);
    for field in ["dealer_id", "category", "urgency", "body", "feedback_date"] {
        assert!(named.iter().any(|f| f == field), "{field} in {named:?}");
    }
    let old = json!({ "dealer_id": w.dealer_a, "category": "other", "body": "x",
        "feedback_date": (today() - Days::new(40)).to_string() });
    let (status, problem) = post(&app, "/api/v1/feedback", &seller, old).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["code"], "too_old");
    let (status, _) = post(
        &app,
        "/api/v1/feedback",
        &seller,
        json!({ "dealer_id": w.dealer_a, "category": "other", "body": "x", "submission_ref": "short" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Only sales assistants log daily feedback.
    let manager = app.token("cm-a").await;
    let (status, _) = post(&app, "/api/v1/feedback", &manager, note).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The smallest valid PNG: a 1×1 transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn feedback_form(dealer: i64, submission: &str, photo: Option<(&'static [u8], &str)>) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new()
        .text("dealer_id", dealer.to_string())
        .text("feedback_date", today().to_string())
        .text("category", "repair_referral")
        .text("urgency", "normal")
        .text("body", "事故车送修到店偏少")
        .text("submission_ref", submission.to_string());
    if let Some((bytes, name)) = photo {
        form = form.part("photo", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    }
    form
}

async fn a_photo_travels_with_the_feedback(app: TestApp) {
    let w = world(&app).await;
    let seller = app.token("sa-a").await;
    let response = app
        .client
        .post(app.url("/api/v1/feedback"))
        .bearer_auth(&seller)
        .multipart(feedback_form(w.dealer_a, "photo-note-0001", Some((PNG, "shop.png"))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let note: Value = response.json().await.unwrap();
    assert_eq!(note["has_photo"], true);
    let photo = app
        .client
        .get(app.url(&format!("/api/v1/feedback/{}/photo", note["id"])))
        .bearer_auth(&seller)
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/png");
    assert_eq!(photo.bytes().await.unwrap().as_ref(), PNG);
    // A PDF is a document, not a photo; the note is not stored without it.
    let response = app
        .client
        .post(app.url("/api/v1/feedback"))
        .bearer_auth(&seller)
        .multipart(feedback_form(w.dealer_a, "photo-note-0002", Some((b"%PDF-1.4 not a photo", "x.pdf"))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(fields(&problem), ["photo"]);
    let (_, page) = get(&app, "/api/v1/feedback", &seller).await;
    assert_eq!(page["total"], 1);
    // Another store's assistant cannot fetch it.
    let other = app.token("sa-b").await;
    let (status, _) = get(&app, &format!("/api/v1/feedback/{}/photo", note["id"]), &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_feed_is_scoped_and_notes_are_handled_once(app: TestApp) {
    let w = world(&app).await;
    let seller_a = app.token("sa-a").await;
    let seller_b = app.token("sa-b").await;
    let (_, a) = post(
        &app,
        "/api/v1/feedback",
        &seller_a,
        json!({ "dealer_id": w.dealer_a, "category": "claims_service", "urgency": "high", "body": "定损慢，客户催" }),
    )
    .await;
    post(
        &app,
        "/api/v1/feedback",
        &seller_a,
        json!({ "dealer_id": w.dealer_a, "category": "training_need", "urgency": "low", "body": "新人需要培训" }),
    )
    .await;
    let (_, b) = post(
        &app,
        "/api/v1/feedback",
        &seller_b,
        json!({ "dealer_id": w.dealer_b, "category": "pricing", "body": "B 店的反馈" }),
    )
    .await;

    let cm_a = app.token("cm-a").await;
    let (_, feed) = get(&app, "/api/v1/feedback", &cm_a).await;
    assert_eq!(feed["total"], 2, "only the manager's own dealers");
    let (_, high) = get(&app, "/api/v1/feedback?urgency=high", &cm_a).await;
    assert_eq!(high["total"], 1);
    assert_eq!(high["items"][0]["category"], "claims_service");
    let (_, training) =
        get(&app, &format!("/api/v1/feedback?category=training_need&dealer_id={}", w.dealer_a), &cm_a).await;
    assert_eq!(training["total"], 1);
    let (status, _) = get(&app, "/api/v1/feedback?category=gossip", &cm_a).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = get(&app, &format!("/api/v1/feedback/{}", b["id"]), &cm_a).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another manager's dealer is not there");
    let (status, _) = get(&app, &format!("/api/v1/feedback/{}", a["id"]), &seller_b).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another store's note is not there");
    let (_, admin_feed) = get(&app, "/api/v1/feedback", &app.token("admin").await).await;
    assert_eq!(admin_feed["total"], 3);
    // Dealer staff never read the insurer's notes about their store.
    let (status, _) = get(&app, "/api/v1/feedback", &app.token("staff-a").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let path = format!("/api/v1/feedback/{}/handle", a["id"]);
    let (status, read) = post(&app, &path, &cm_a, json!({ "version": 1, "status": "read" })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["status"], "read");
    let (status, _) = post(&app, &path, &cm_a, json!({ "version": 1, "status": "acted", "note": "x" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "a stale version loses");
    let (status, problem) = post(&app, &path, &cm_a, json!({ "version": 2, "status": "acted" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["note"], "acting on a note says what was done");
    let (status, acted) =
        post(&app, &path, &cm_a, json!({ "version": 2, "status": "acted", "note": "已协调理赔加快定损" })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(acted["handled_note"], "已协调理赔加快定损");
    assert_eq!(acted["handled_by"], "cm-a 测试");
    let (status, _) =
        post(&app, &format!("/api/v1/feedback/{}/handle", b["id"]), &cm_a, json!({ "version": 1, "status": "read" }))
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(&app, &path, &seller_a, json!({ "version": 3, "status": "read" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "sellers log feedback, managers handle it");
    let (_, acted_only) = get(&app, "/api/v1/feedback?status=acted", &cm_a).await;
    assert_eq!(acted_only["total"], 1);
}

async fn a_complaint_handed_over_shows_both_names(app: TestApp) {
    let w = world(&app).await;
    let seller = app.token("sa-a").await;
    let (status, logged) = post(
        &app,
        "/api/v1/complaints",
        &seller,
        json!({ "dealer_id": w.dealer_a, "source": "customer",
        "complainant": "王先生", "contact": "13812345678", "category": "payment", "description": "赔款三周未到账" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{logged}");
    let c = &logged["complaint"];
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["owner_id"], w.seller_a, "whoever takes a complaint owns it");
    assert_eq!(c["due_on"], (today() + Days::new(7)).to_string());
    assert_eq!(c["contact"], "13812345678", "the owner sees the contact");
    assert_eq!(logged["may_act"], true);

    // A colleague may read it but not act on it, and sees the phone number masked.
    let colleague = app.token("sa-a2").await;
    let (_, seen) = get(&app, &format!("/api/v1/complaints/{id}"), &colleague).await;
    assert_eq!(seen["complaint"]["contact"], "138****5678");
    assert_eq!(seen["may_act"], false);
    let (status, _) =
        post(&app, &format!("/api/v1/complaints/{id}/resolve"), &colleague, json!({ "version": 1, "resolution": "x" }))
            .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Out of scope: another store's assistant gets 404, and cannot receive it.
    let (status, _) = get(&app, &format!("/api/v1/complaints/{id}"), &app.token("sa-b").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let sa_b: Vec<Value> = app
        .get_json::<Value>("/api/v1/users?role=sales_assistant", &app.token("admin").await)
        .await
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let sa_b_id = sa_b.iter().find(|u| u["username"] == "sa-b").map(|u| u["id"].as_i64().unwrap()).unwrap();
    let (status, problem) = post(
        &app,
        &format!("/api/v1/complaints/{id}/hand-over"),
        &seller,
        json!({ "version": 1, "to_user_id": sa_b_id, "note": "请跟进" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["code"], "not_in_scope");
    let (status, problem) = post(
        &app,
        &format!("/api/v1/complaints/{id}/hand-over"),
        &seller,
        json!({ "version": 1, "to_user_id": w.cm_a, "note": " " }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["note"]);

    // Handed to the channel manager: recorded with both names, and the manager owns it now.
    let (status, handed) = post(
        &app,
        &format!("/api/v1/complaints/{id}/hand-over"),
        &seller,
        json!({ "version": 1, "to_user_id": w.cm_a, "note": "涉及赔款支付，需要总部协调" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{handed}");
    assert_eq!(handed["complaint"]["owner"], "cm-a 测试");
    let hand_over = handed["events"].as_array().unwrap().iter().find(|e| e["kind"] == "handed_over").unwrap();
    assert_eq!(hand_over["from_owner"], "sa-a 测试");
    assert_eq!(hand_over["to_owner"], "cm-a 测试");
    assert_eq!(hand_over["actor"], "sa-a 测试");
    assert_eq!(hand_over["note"], "涉及赔款支付，需要总部协调");
    let (status, _) =
        post(&app, &format!("/api/v1/complaints/{id}/resolve"), &seller, json!({ "version": 2, "resolution": "x" }))
            .await;
    assert_eq!(status, StatusCode::CONFLICT, "the former owner no longer acts on it");
    let cm = app.token("cm-a").await;
    let (status, _) =
        post(&app, &format!("/api/v1/complaints/{id}/resolve"), &cm, json!({ "version": 1, "resolution": "x" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "a stale version loses");
    let (status, resolved) = post(
        &app,
        &format!("/api/v1/complaints/{id}/resolve"),
        &cm,
        json!({ "version": 2, "resolution": "已加急支付并致电客户" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resolved["complaint"]["status"], "resolved");
    assert_eq!(resolved["events"].as_array().unwrap().len(), 3, "logged, handed over, resolved");
    let (status, _) = post(
        &app,
        &format!("/api/v1/complaints/{id}/hand-over"),
        &cm,
        json!({ "version": 3, "to_user_id": w.seller_a, "note": "x" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "a resolved complaint is closed");
    // Dealer staff log complaints from the dealer too, and own them.
    let staff = app.token("staff-a").await;
    let (status, from_dealer) = post(
        &app,
        "/api/v1/complaints",
        &staff,
        json!({ "dealer_id": w.dealer_a, "source": "dealer",
        "complainant": "DA01 服务经理", "category": "commission", "description": "上月手续费结算延迟" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(from_dealer["complaint"]["source"], "dealer");
    let (status, _) = post(
        &app,
        "/api/v1/complaints",
        &staff,
        json!({ "dealer_id": w.dealer_b, "source": "dealer",
        "complainant": "x", "category": "other", "description": "x" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "only for their own dealer");
    // The audit trail has every step.
    let (_, audit) = get(&app, "/api/v1/audit?entity=complaint", &app.token("admin").await).await;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    for action in ["log", "hand_over", "resolve"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

async fn overdue_complaints_surface_on_lists_figures_and_the_dashboard(app: TestApp) {
    let w = world(&app).await;
    let seller = app.token("sa-a").await;
    for n in 0..2 {
        post(
            &app,
            "/api/v1/complaints",
            &seller,
            json!({ "dealer_id": w.dealer_a, "source": "customer",
            "complainant": format!("客户{n}"), "category": "claims_service", "description": "理赔慢" }),
        )
        .await;
    }
    // One of them has been waiting past its due date.
    let due = today() - Days::new(2);
    app.sql(&format!("UPDATE complaints SET due_on = '{due}' WHERE complainant = '客户0'")).await.unwrap();
    let (_, overdue) = get(&app, "/api/v1/complaints?overdue=true&mine=true", &seller).await;
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["overdue"], true);
    let (_, all) = get(&app, "/api/v1/complaints", &seller).await;
    assert_eq!(all["items"][0]["complainant"], "客户0", "the most overdue comes first");
    let cm = app.token("cm-a").await;
    let (_, figures) = get(&app, &format!("/api/v1/dealers/{}/store-figures", w.dealer_a), &cm).await;
    assert_eq!(figures["open_complaints"], 2);
    assert_eq!(figures["overdue_complaints"], 1);
    let (status, _) = get(&app, &format!("/api/v1/dealers/{}/store-figures", w.dealer_b), &cm).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (browser, _) = app.browser_login("cm-a").await;
    let page = browser.get(app.url(&format!("/dealers/{}/dashboard", w.dealer_a))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("class=\"overdue\""), "the overdue complaint stands out on the dashboard");
    assert!(html.contains("2 / 1"), "open / overdue on the dashboard tile");
    let (seller_browser, _) = app.browser_login("sa-a").await;
    let home = seller_browser.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("/complaints?mine=true"), "the owner's home links their complaints");
    assert!(home.contains("2 / 1"));
    // The list, which a phone shows as cards: every cell says what it is, the overdue one stands out.
    let list = seller_browser.get(app.url("/complaints?mine=true")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("<table class=\"responsive\">") && list.contains("<tr class=\"overdue\">"), "{list}");
    assert_eq!(list.matches("<td data-label=").count(), 2 * 7, "two complaints of seven fields");
}

async fn visits_are_planned_recorded_and_followed_up(app: TestApp) {
    let w = world(&app).await;
    let cm = app.token("cm-a").await;
    let (status, problem) = post(
        &app,
        "/api/v1/visits",
        &cm,
        json!({ "dealer_id": w.dealer_a,
        "planned_on": (today() - Days::new(1)).to_string(), "purpose": "季度回顾" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["planned_on"]);
    let (status, _) = post(
        &app,
        "/api/v1/visits",
        &cm,
        json!({ "dealer_id": w.dealer_b, "planned_on": today().to_string(), "purpose": "x" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "only the manager's own dealers");
    let (status, planned) = post(
        &app,
        "/api/v1/visits",
        &cm,
        json!({ "dealer_id": w.dealer_a, "planned_on": today().to_string(), "purpose": "季度回顾：赔付率与送修" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = planned["visit"]["id"].as_i64().unwrap();
    let (_, figures) = get(&app, &format!("/api/v1/dealers/{}/store-figures", w.dealer_a), &cm).await;
    assert_eq!(figures["last_visit_on"], Value::Null, "never visited yet");
    assert_eq!(figures["next_planned_visit"], today().to_string());

    let record = json!({ "version": 1, "visited_on": today().to_string(), "findings": "送修量下降，店方希望提高推修",
        "follow_ups": [{ "action": "提交推修计划", "owner_id": w.seller_a, "due_on": (today() + Days::new(7)).to_string() }] });
    let (status, _) =
        post(&app, &format!("/api/v1/visits/{id}/record"), &app.token("cm-b").await, record.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another manager's visit");
    let mut bad = record.clone();
    bad["follow_ups"][0]["owner_id"] = json!(999_999);
    bad["visited_on"] = json!((today() + Days::new(1)).to_string());
    let (status, problem) = post(&app, &format!("/api/v1/visits/{id}/record"), &cm, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let named = fields(&problem);
    assert!(
        named.contains(&"visited_on".to_string()) && named.contains(&"follow_ups[0].owner_id".to_string()),
        "{named:?}"
    );
    let (status, recorded) = post(&app, &format!("/api/v1/visits/{id}/record"), &cm, record.clone()).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["visit"]["status"], "done");
    let follow_up = &recorded["follow_ups"][0];
    assert_eq!(follow_up["owner"], "sa-a 测试");
    let (status, _) = post(&app, &format!("/api/v1/visits/{id}/record"), &cm, record).await;
    assert_eq!(status, StatusCode::CONFLICT, "a visit is recorded once");

    let (_, figures) = get(&app, &format!("/api/v1/dealers/{}/store-figures", w.dealer_a), &cm).await;
    assert_eq!(figures["days_since_last_visit"], 0);
    assert_eq!(figures["open_follow_ups"], 1);
    // The follow-up's owner closes it from their own list.
    let seller = app.token("sa-a").await;
    let (status, _) = post(
        &app,
        &format!("/api/v1/follow-ups/{}/complete", follow_up["id"]),
        &app.token("sa-a2").await,
        json!({ "version": 1, "note": "x" }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "not theirs");
    let (status, _) = post(
        &app,
        &format!("/api/v1/follow-ups/{}/complete", follow_up["id"]),
        &seller,
        json!({ "version": 1, "note": "计划已提交" }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, figures) = get(&app, &format!("/api/v1/dealers/{}/store-figures", w.dealer_a), &cm).await;
    assert_eq!(figures["open_follow_ups"], 0);
    // Sellers read their store's visits but do not plan them; dealer staff see none.
    let (_, seen) = get(&app, "/api/v1/visits", &seller).await;
    assert_eq!(seen["total"], 1);
    let (status, _) = post(
        &app,
        "/api/v1/visits",
        &seller,
        json!({ "dealer_id": w.dealer_a, "planned_on": today().to_string(), "purpose": "x" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get(&app, "/api/v1/visits", &app.token("staff-a").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A planned visit can be cancelled, with a reason.
    let (_, second) = post(
        &app,
        "/api/v1/visits",
        &cm,
        json!({ "dealer_id": w.dealer_a, "planned_on": (today() + Days::new(30)).to_string(), "purpose": "回访" }),
    )
    .await;
    let second_id = second["visit"]["id"].as_i64().unwrap();
    let (status, cancelled) =
        post(&app, &format!("/api/v1/visits/{second_id}/cancel"), &cm, json!({ "version": 1, "note": "店总出差" }))
            .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["visit"]["status"], "cancelled");
}

fn ratings(expected: i64, perceived: &[i64; 6]) -> Value {
    let dims =
        ["commission", "claims_speed", "assessment_fairness", "payment_speed", "repair_referrals", "seller_service"];
    Value::Array(
        dims.iter()
            .zip(perceived)
            .map(|(d, p)| json!({ "dimension": d, "expected": expected, "perceived": p }))
            .collect(),
    )
}

async fn survey_gaps_are_perceived_minus_expected_and_compared(app: TestApp) {
    let w = world(&app).await;
    let quarter = {
        let t = today();
        let q = (chrono::Datelike::month0(&t) / 3) + 1;
        format!("{}Q{q}", chrono::Datelike::year(&t))
    };
    // Dealer A answers itself; the channel manager of B records B's answers.
    let staff_a = app.token("staff-a").await;
    let (status, a) = post(
        &app,
        "/api/v1/surveys",
        &staff_a,
        json!({ "dealer_id": w.dealer_a, "quarter": quarter,
        "respondent": "张经理 售后总监", "ratings": ratings(4, &[2, 3, 4, 5, 3, 4]) }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let gaps: Vec<i64> = a["ratings"].as_array().unwrap().iter().map(|r| r["gap"].as_i64().unwrap()).collect();
    assert_eq!(gaps, [-2, -1, 0, 1, -1, 0]);
    // (−2 − 1 + 0 + 1 − 1 + 0) / 6 = −0.5
    assert_eq!(a["overall_gap"].as_f64().unwrap(), -0.5);
    let (status, _) = post(
        &app,
        "/api/v1/surveys",
        &staff_a,
        json!({ "dealer_id": w.dealer_a, "quarter": quarter,
        "respondent": "x", "ratings": ratings(4, &[2, 3, 4, 5, 3, 4]) }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "one survey per dealer and quarter");
    let (status, corrected) = post(
        &app,
        "/api/v1/surveys",
        &staff_a,
        json!({ "dealer_id": w.dealer_a, "quarter": quarter,
        "respondent": "张经理 售后总监", "ratings": ratings(4, &[3, 3, 4, 5, 3, 4]), "version": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(corrected["ratings"][0]["gap"], -1);
    let (status, _) = post(
        &app,
        "/api/v1/surveys",
        &staff_a,
        json!({ "dealer_id": w.dealer_b, "quarter": quarter,
        "respondent": "x", "ratings": ratings(4, &[3, 3, 3, 3, 3, 3]) }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not their dealer");
    let cm_b = app.token("cm-b").await;
    let (status, _) = post(
        &app,
        "/api/v1/surveys",
        &cm_b,
        json!({ "dealer_id": w.dealer_b, "quarter": quarter,
        "respondent": "李总", "ratings": ratings(3, &[5, 5, 5, 5, 5, 1]) }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // Ratings off the scale, a missing dimension, a quarter not yet begun: each named.
    let mut off = ratings(4, &[2, 3, 4, 5, 3, 6]);
    off.as_array_mut().unwrap().remove(0);
    let (status, problem) = post(
        &app,
        "/api/v1/surveys",
        &cm_b,
        json!({ "dealer_id": w.dealer_b, "quarter": "2099Q1",
        "respondent": "x", "ratings": off }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let named = fields(&problem);
    assert!(
        named.contains(&"quarter".to_string())
            && named.contains(&"ratings[4].perceived".to_string())
            && named.contains(&"ratings".to_string()),
        "{named:?}"
    );

    // Compared across dealers: the administrator sees both; the mean gap per dimension is the mean of the gaps.
    let admin = app.token("admin").await;
    let (_, comparison) = get(&app, &format!("/api/v1/surveys/comparison?quarter={quarter}"), &admin).await;
    let dealers = comparison["dealers"].as_array().unwrap();
    assert_eq!(dealers.len(), 2);
    assert_eq!(dealers[0]["dealer"]["code"], "DA01", "the least satisfied dealer first");
    let commission = comparison["average"].as_array().unwrap().iter().find(|a| a["dimension"] == "commission").unwrap();
    // A: 3 − 4 = −1; B: 5 − 3 = +2; mean +0.5.
    assert_eq!(commission["mean_gap"].as_f64().unwrap(), 0.5);
    assert_eq!(commission["mean_expected"].as_f64().unwrap(), 3.5);
    let (_, own) = get(&app, &format!("/api/v1/surveys/comparison?quarter={quarter}"), &app.token("cm-a").await).await;
    assert_eq!(own["dealers"].as_array().unwrap().len(), 1, "a manager compares their own dealers");
    let (status, _) = get(&app, "/api/v1/surveys/comparison", &staff_a).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, history) = get(&app, &format!("/api/v1/dealers/{}/surveys", w.dealer_a), &staff_a).await;
    assert_eq!(history.as_array().unwrap().len(), 1);
    let (status, _) = get(&app, &format!("/api/v1/dealers/{}/surveys", w.dealer_b), &staff_a).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, figures) = get(&app, &format!("/api/v1/dealers/{}/store-figures", w.dealer_a), &admin).await;
    assert_eq!(figures["latest_survey"]["quarter"], quarter);
}

async fn the_phone_form_posts_once_and_the_pages_render(app: TestApp) {
    let w = world(&app).await;
    let (browser, csrf) = app.browser_login("sa-a").await;
    let form_page = browser.get(app.url("/feedback/new")).send().await.unwrap().text().await.unwrap();
    let submission = hidden_field(&form_page, "submission_ref").unwrap();
    assert!(submission.len() >= 16, "the form carries a fresh submission reference");
    assert!(form_page.contains(&format!("value=\"{}\" checked", w.dealer_a)), "the assistant's store is chosen");
    assert!(form_page.contains(&format!("value=\"{}\"", today())), "today is the default date");
    assert!(form_page.contains("/assets/feedback.js"));
    // Posted twice (the first answer was lost on the way back): one note.
    let mut targets = Vec::new();
    for _ in 0..2 {
        let response = browser
            .post(app.url(&format!("/feedback?csrf={csrf}")))
            .multipart(feedback_form(w.dealer_a, &submission, None))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        targets.push(response.headers()["location"].to_str().unwrap().to_string());
    }
    assert_eq!(targets[0], targets[1]);
    assert!(targets[0].starts_with("/feedback/new?sent="));
    let confirmed = browser.get(app.url(&targets[0])).send().await.unwrap().text().await.unwrap();
    assert!(confirmed.contains("class=\"notice\""), "the sent note is confirmed");
    let (_, page) = get(&app, "/api/v1/feedback", &app.token("sa-a").await).await;
    assert_eq!(page["total"], 1);
    // A post with an error keeps what was typed and names the field.
    let response = browser
        .post(app.url(&format!("/feedback?csrf={csrf}")))
        .multipart(
            reqwest::multipart::Form::new()
                .text("dealer_id", w.dealer_a.to_string())
                .text("body", "保留这段文字")
                .text("submission_ref", "page-error-0001"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("保留这段文字") && html.contains("field-error"));
    // Without the session's token the post is refused.
    let forged = browser
        .post(app.url("/feedback"))
        .multipart(feedback_form(w.dealer_a, "forged-0000001", None))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // The manager's pages: feed, feedback, complaint with a hand-over, visits, surveys.
    let (cm, cm_csrf) = app.browser_login("cm-a").await;
    let feed = cm.get(app.url("/feedback")).send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(feed.text().await.unwrap().contains("事故车送修到店偏少"));
    let csv = cm.get(app.url("/feedback.csv")).send().await.unwrap().text().await.unwrap();
    assert!(csv.lines().count() == 2 && csv.contains("送修"), "{csv}");
    let seller = app.token("sa-a").await;
    let (_, logged) = post(
        &app,
        "/api/v1/complaints",
        &seller,
        json!({ "dealer_id": w.dealer_a, "source": "customer",
        "complainant": "赵女士", "category": "loss_assessment", "description": "定损金额偏低" }),
    )
    .await;
    let id = logged["complaint"]["id"].as_i64().unwrap();
    let (seller_browser, seller_csrf) = app.browser_login("sa-a").await;
    let handed = seller_browser
        .post(app.url(&format!("/complaints/{id}/hand-over")))
        .form(&[
            ("csrf", seller_csrf.as_str()),
            ("version", "1"),
            ("to_user_id", &w.cm_a.to_string()),
            ("note", "需要渠道经理出面"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(handed.status(), StatusCode::SEE_OTHER);
    let complaint = cm.get(app.url(&format!("/complaints/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        complaint.contains("<strong>sa-a 测试</strong> → <strong>cm-a 测试</strong>"),
        "both names on the hand-over"
    );
    let visits = cm
        .post(app.url("/visits"))
        .form(&[
            ("csrf", cm_csrf.as_str()),
            ("dealer_id", &w.dealer_a.to_string()),
            ("planned_on", &today().to_string()),
            ("purpose", "月度拜访"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(visits.status(), StatusCode::SEE_OTHER);
    let visit_path = visits.headers()["location"].to_str().unwrap().to_string();
    let recorded = cm
        .post(app.url(&format!("{visit_path}/record")))
        .form(&[
            ("csrf", cm_csrf.as_str()),
            ("version", "1"),
            ("visited_on", &today().to_string()),
            ("findings", "店方反映理赔慢"),
            ("action_1", "约理赔经理到店"),
            ("owner_1", &w.cm_a.to_string()),
            ("due_1", &(today() + Days::new(7)).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(recorded.status(), StatusCode::SEE_OTHER);
    let visit = cm.get(app.url(&visit_path)).send().await.unwrap().text().await.unwrap();
    assert!(visit.contains("约理赔经理到店") && visit.contains("店方反映理赔慢"));
    for path in ["/visits", "/surveys", "/complaints?mine=true", "/", &format!("/dealers/{}/dashboard", w.dealer_a)] {
        let response = cm.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let (staff, staff_csrf) = app.browser_login("staff-a").await;
    let mut survey: Vec<(String, String)> = vec![
        ("csrf".into(), staff_csrf.clone()),
        ("dealer_id".into(), w.dealer_a.to_string()),
        (
            "quarter".into(),
            format!("{}Q{}", chrono::Datelike::year(&today()), chrono::Datelike::month0(&today()) / 3 + 1),
        ),
        ("respondent".into(), "店总".into()),
    ];
    for d in
        ["commission", "claims_speed", "assessment_fairness", "payment_speed", "repair_referrals", "seller_service"]
    {
        survey.push((format!("expected_{d}"), "4".into()));
        survey.push((format!("perceived_{d}"), "3".into()));
    }
    let saved = staff.post(app.url("/surveys")).form(&survey).send().await.unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let again = staff.post(app.url("/surveys")).form(&survey).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let html = again.text().await.unwrap();
    assert_eq!(hidden_field(&html, "version").as_deref(), Some("1"), "the page offers to correct the recorded survey");
    let quarter = &survey[2].1;
    let comparison =
        cm.get(app.url(&format!("/surveys?quarter={quarter}"))).send().await.unwrap().text().await.unwrap();
    assert!(comparison.contains("DA01") && comparison.contains("chart-survey"), "the manager compares the survey");
    let dashboard =
        staff.get(app.url(&format!("/dealers/{}/dashboard", w.dealer_a))).send().await.unwrap().text().await.unwrap();
    assert!(!dashboard.contains("/feedback?dealer_id"), "store staff do not see the insurer's notes about them");
}

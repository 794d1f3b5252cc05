//! Every class of bad input gets a 4xx in problem+json (API) or an error page
//! (pages): never axum's plain-text rejections, never a 500.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use common::TestApp;
use serde_json::{Value, json};

on_both_databases!(
    malformed_json_is_a_400_problem,
    wrong_types_name_the_field,
    unknown_fields_are_refused,
    wrong_content_type_is_a_415,
    oversize_bodies_are_a_413,
    bad_path_and_query_parameters_are_4xx,
    unknown_routes_and_methods_are_problems_or_pages,
    validation_lists_every_bad_field,
    security_headers_are_on_every_response,
);

async fn admin_token(app: &TestApp) -> String {
    app.add_user("root", Role::Administrator, &[]).await;
    app.token("root").await
}

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    body
}

async fn post_raw(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn malformed_json_is_a_400_problem(app: TestApp) {
    let token = admin_token(&app).await;
    for body in ["{", "{\"username\": }", "[1,2", "{} trailing", ""] {
        let response = post_raw(&app, &token, "/api/v1/users", "application/json", body).await;
        let body = problem(response, 400).await;
        assert_eq!(body["code"], "bad_request");
    }
}

async fn wrong_types_name_the_field(app: TestApp) {
    let token = admin_token(&app).await;
    let body = json!({ "username": "x1", "display_name": "X", "role": "pilot", "password": "long-password-1" });
    let response = app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await.unwrap();
    let problem = problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "role");
    let body = json!({ "username": 7, "display_name": "X", "role": "underwriter", "password": "long-password-1" });
    let response = app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(problem_field(response).await, "username");
    let body = json!({ "version": "one" });
    let response = app.client.patch(app.url("/api/v1/users/1")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(problem_field(response).await, "version");
}

async fn problem_field(response: reqwest::Response) -> String {
    let body = problem(response, 422).await;
    body["errors"][0]["field"].as_str().unwrap().to_string()
}

async fn unknown_fields_are_refused(app: TestApp) {
    let token = admin_token(&app).await;
    let body = json!({ "username": "x1", "display_name": "X", "role": "underwriter", "password": "long-password-1", "is_admin": true });
    let response = app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await.unwrap();
    let problem = problem(response, 422).await;
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("is_admin"));
    let response = app.client.get(app.url("/api/v1/dealers?colour=red")).bearer_auth(&token).send().await.unwrap();
    assert!(self::problem(response, 422).await["errors"][0]["message"].as_str().unwrap().contains("colour"));
}

async fn wrong_content_type_is_a_415(app: TestApp) {
    let token = admin_token(&app).await;
    let response = post_raw(&app, &token, "/api/v1/users", "text/plain", "{}").await;
    assert_eq!(problem(response, 415).await["code"], "unsupported_media_type");
    let response = app.client.post(app.url("/api/v1/auth/login")).body("{}").send().await.unwrap();
    problem(response, 415).await;
}

async fn oversize_bodies_are_a_413(app: TestApp) {
    let token = admin_token(&app).await;
    let huge = format!("{{\"username\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let response = post_raw(&app, &token, "/api/v1/users", "application/json", huge).await;
    assert_eq!(problem(response, 413).await["code"], "payload_too_large");
}

async fn bad_path_and_query_parameters_are_4xx(app: TestApp) {
    let token = admin_token(&app).await;
    let response = app.client.get(app.url("/api/v1/users/abc")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(problem(response, 400).await["code"], "bad_request");
    let response =
        app.client.get(app.url("/api/v1/users/99999999999999999999999")).bearer_auth(&token).send().await.unwrap();
    problem(response, 400).await;
    let response = app.client.get(app.url("/api/v1/users/424242")).bearer_auth(&token).send().await.unwrap();
    problem(response, 404).await;
    let response = app.client.get(app.url("/api/v1/users?page=-1")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(problem(response, 422).await["errors"][0]["field"], "page");
    let response = app.client.get(app.url("/api/v1/audit?from=yesterday")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(problem(response, 422).await["errors"][0]["field"], "from");
    let (browser, _) = app.browser_login("root").await;
    let page = browser.get(app.url("/admin/users/abc")).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = browser.get(app.url("/admin/audit?from=2026-13-45")).send().await.unwrap();
    assert_eq!(page.status(), 200, "a bad date in the page's filter is reported, not fatal");
    assert!(page.text().await.unwrap().contains("YYYY-MM-DD"));
}

async fn unknown_routes_and_methods_are_problems_or_pages(app: TestApp) {
    let token = admin_token(&app).await;
    let response = app.client.get(app.url("/api/v1/nothing-here")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(problem(response, 404).await["code"], "not_found");
    let response = app.client.delete(app.url("/api/v1/users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(problem(response, 405).await["code"], "method_not_allowed");
    let (browser, _) = app.browser_login("root").await;
    let page = browser.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(page.status(), 404);
    let html = page.text().await.unwrap();
    assert!(html.contains("找不到该页面或记录") && html.contains("返回首页"));
    let page = browser.get(app.url("/no/such/page?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Page or record not found"));
}

async fn validation_lists_every_bad_field(app: TestApp) {
    let token = admin_token(&app).await;
    let body = json!({ "username": "Bad Name", "display_name": "", "role": "sales_assistant", "password": "long-password-1",
        "dealers": ["NOPE"], "authority_limit": "12.345" });
    let response = app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await.unwrap();
    let problem = problem(response, 422).await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["username", "display_name", "dealers[0]", "authority_limit"]);
    let body = json!({ "username": "ok-name", "display_name": "X", "role": "underwriter", "password": "short" });
    let response = app.client.post(app.url("/api/v1/users")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(self::problem(response, 422).await["errors"][0]["field"], "password");
}

async fn security_headers_are_on_every_response(app: TestApp) {
    for path in ["/login", "/healthz", "/api/v1/me", "/assets/app.css", "/nowhere"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'self'"), "{path}");
    }
}

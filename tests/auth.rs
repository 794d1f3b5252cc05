//! Sign-in and sign-out, throttling, CSRF, sessions, and the sign-in page's language.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use common::{PASSWORD, TestApp, hidden_field, test_config};
use serde_json::{Value, json};

on_both_databases!(
    api_sign_in_gives_a_token_that_signs_requests,
    wrong_password_is_refused_without_saying_why,
    sign_out_revokes_the_token,
    sign_out_everywhere_ends_every_session,
    disabled_user_loses_their_session,
    requests_without_sign_in_are_refused,
    page_sign_in_sets_a_session_cookie_and_rotates_it,
    form_post_without_csrf_token_is_refused,
    sign_in_page_speaks_chinese_and_english,
    signed_out_visitor_is_sent_to_sign_in,
    sign_in_is_audited,
);

async fn api_sign_in_gives_a_token_that_signs_requests(app: TestApp) {
    app.add_user("lin", Role::Underwriter, &[]).await;
    let token = app.token("lin").await;
    let me: Value = app.get_json("/api/v1/me", &token).await;
    assert_eq!(me["username"], "lin");
    assert_eq!(me["role"], "underwriter");
    assert!(me.get("password_hash").is_none());
}

async fn wrong_password_is_refused_without_saying_why(app: TestApp) {
    app.add_user("lin", Role::Underwriter, &[]).await;
    for username in ["lin", "nobody"] {
        let response = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "username": username, "password": "wrong-password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "bad_credentials");
        assert_eq!(problem["detail"], "wrong username or password");
    }
}

async fn sign_out_revokes_the_token(app: TestApp) {
    app.add_user("lin", Role::Underwriter, &[]).await;
    let token = app.token("lin").await;
    let out = app.client.post(app.url("/api/v1/auth/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(out.status(), 204);
    let after = app.client.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(after.status(), 401);
}

async fn sign_out_everywhere_ends_every_session(app: TestApp) {
    app.add_user("lin", Role::Underwriter, &[]).await;
    let phone = app.token("lin").await;
    let laptop = app.token("lin").await;
    let (browser, _) = app.browser_login("lin").await;
    let out = app.client.post(app.url("/api/v1/auth/logout-everywhere")).bearer_auth(&phone).send().await.unwrap();
    assert_eq!(out.status(), 204);
    for token in [&phone, &laptop] {
        let after = app.client.get(app.url("/api/v1/me")).bearer_auth(token).send().await.unwrap();
        assert_eq!(after.status(), 401);
    }
    let page = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 303, "the browser session ended too");
}

async fn disabled_user_loses_their_session(app: TestApp) {
    let id = app.add_user("lin", Role::Underwriter, &[]).await;
    app.add_user("root", Role::Administrator, &[]).await;
    let token = app.token("lin").await;
    let admin = app.token("root").await;
    let changed = app
        .client
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&admin)
        .json(&json!({ "version": 1, "disabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let after = app.client.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(after.status(), 401);
    let again = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "username": "lin", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401, "a disabled user cannot sign in");
}

async fn requests_without_sign_in_are_refused(app: TestApp) {
    for path in ["/api/v1/me", "/api/v1/dealers", "/api/openapi.json"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
    }
    let forged = app.client.get(app.url("/api/v1/me")).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(forged.status(), 401);
    for path in ["/healthz", "/readyz", "/login", "/assets/app.css"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path} is public");
    }
}

async fn page_sign_in_sets_a_session_cookie_and_rotates_it(app: TestApp) {
    app.add_user("lin", Role::Underwriter, &[]).await;
    let browser = app.browser();
    let page = browser.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let token = hidden_field(&page, "csrf").unwrap();
    let response = browser
        .post(app.url("/login"))
        .form(&[("username", "lin"), ("password", PASSWORD), ("csrf", &token), ("next", "/dealers")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/dealers");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("ac_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let first_session = cookie.split(';').next().unwrap().trim_start_matches("ac_session=").to_string();

    // Signing in again in the same browser ends the earlier session.
    let page = browser.get(app.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), 303, "a signed-in visitor skips the sign-in page");
    let (_, _) = app.browser_login("lin").await;
    let old = app.client.get(app.url("/api/v1/me")).bearer_auth(&first_session).send().await.unwrap();
    assert_eq!(old.status(), 200, "another browser's sign-in leaves this one alone");
    let page = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login_page = page.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let form_token = hidden_field(&login_page, "csrf").unwrap();
    let relogin = page
        .post(app.url("/login"))
        .header("cookie", format!("ac_session={first_session}; ac_prelogin={form_token}"))
        .form(&[("username", "lin"), ("password", PASSWORD), ("csrf", &form_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(relogin.status(), 303);
    let rotated = app.client.get(app.url("/api/v1/me")).bearer_auth(&first_session).send().await.unwrap();
    assert_eq!(rotated.status(), 401, "signing in again revokes the browser's previous session");
}

async fn form_post_without_csrf_token_is_refused(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    let (browser, csrf) = app.browser_login("root").await;
    let form =
        [("username", "newbie"), ("display_name", "新人"), ("role", "underwriter"), ("password", "long-password-1")];
    let refused = browser.post(app.url("/admin/users")).form(&form).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("页面已过期"));
    let mut with_token = form.to_vec();
    with_token.push(("csrf", &csrf));
    let accepted = browser.post(app.url("/admin/users")).form(&with_token).send().await.unwrap();
    assert_eq!(accepted.status(), 303);
    let wrong = browser.post(app.url("/logout")).header("x-csrf-token", "forged").send().await.unwrap();
    assert_eq!(wrong.status(), 403);
    let right = browser.post(app.url("/logout")).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(right.status(), 303);
}

async fn sign_in_page_speaks_chinese_and_english(app: TestApp) {
    let zh = app.client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(zh.contains("<title>登录 · autochannel</title>"));
    assert!(zh.contains("lang=\"zh-CN\""));
    let en = app.client.get(app.url("/login?lang=en")).send().await.unwrap();
    assert!(en.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("lang=en")));
    assert!(en.text().await.unwrap().contains("<title>Sign in · autochannel</title>"));
    let browser_prefers =
        app.client.get(app.url("/login")).header("accept-language", "en-GB,en;q=0.9").send().await.unwrap();
    assert!(browser_prefers.text().await.unwrap().contains("Sign in"));
}

async fn signed_out_visitor_is_sent_to_sign_in(app: TestApp) {
    let response = app.client.get(app.url("/dealers?page=2")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login?next=%2Fdealers%3Fpage%3D2");
}

async fn sign_in_is_audited(app: TestApp) {
    app.add_user("lin", Role::Underwriter, &[]).await;
    app.add_user("root", Role::Administrator, &[]).await;
    let _ = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "lin", "password": "nope-nope-nope"}))
        .send()
        .await
        .unwrap();
    let token = app.token("lin").await;
    app.client.post(app.url("/api/v1/auth/logout")).bearer_auth(&token).send().await.unwrap();
    let admin = app.token("root").await;
    let records: Value = app.get_json("/api/v1/audit?actor=lin", &admin).await;
    let actions: Vec<&str> =
        records["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["logout", "login", "login_failed"]);
}

mod throttling {
    use super::*;
    use common::Backend;

    async fn locks_after_repeated_failures(backend: Backend) {
        let config =
            autochannel::config::ServeConfig { login_max_failures: 3, login_max_failures_per_ip: 5, ..test_config() };
        let app = TestApp::start_with(backend, config).await;
        app.add_user("lin", Role::Underwriter, &[]).await;
        app.add_user("wu", Role::Underwriter, &[]).await;
        let attempt = |username: &'static str, password: &'static str| {
            app.client
                .post(app.url("/api/v1/auth/login"))
                .json(&json!({ "username": username, "password": password }))
                .send()
        };
        for _ in 0..3 {
            assert_eq!(attempt("lin", "wrong-wrong-1").await.unwrap().status(), 401);
        }
        let locked = attempt("lin", PASSWORD).await.unwrap();
        assert_eq!(locked.status(), 429, "even the right password waits out the lock");
        assert!(locked.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
        assert_eq!(attempt("wu", PASSWORD).await.unwrap().status(), 200, "other accounts are not locked");
        for _ in 0..2 {
            assert_eq!(attempt("wu", "wrong-wrong-1").await.unwrap().status(), 401);
        }
        assert_eq!(attempt("wu", PASSWORD).await.unwrap().status(), 429, "the address is locked after 5 failures");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_locks_after_repeated_failures() {
        locks_after_repeated_failures(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_locks_after_repeated_failures() {
        locks_after_repeated_failures(Backend::Postgres).await;
    }
}

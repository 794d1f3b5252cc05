//! Who may call what. The matrix is generated from the router's own table, so
//! a route added without the right rule fails here; the scope tests check
//! every dealer-bearing endpoint for store staff and channel managers.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use autochannel::http::router::{Access, RouteRule, routes};
use common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

on_both_databases!(
    every_route_answers_each_role_as_its_rule_says,
    store_staff_see_only_their_own_dealers,
    channel_managers_see_only_the_dealers_they_own,
    head_office_sees_every_dealer,
    dealer_pages_hide_other_stores,
);

#[test]
fn only_sign_in_probes_assets_and_the_owner_look_up_are_public() {
    let mut public: Vec<String> = routes()
        .rules()
        .iter()
        .filter(|r| r.access == Access::Public)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    public.sort();
    assert_eq!(
        public,
        [
            "GET /api/v1/claim-status",
            "GET /assets/{*path}",
            "GET /claim-status",
            "GET /healthz",
            "GET /login",
            "GET /readyz",
            "POST /api/v1/auth/login",
            "POST /claim-status",
            "POST /login"
        ]
    );
}

fn concrete_path(rule: &RouteRule, user_id: i64, dealer_id: i64) -> String {
    let id = if rule.path.contains("/users/") { user_id } else { dealer_id };
    rule.path.replace("{id}", &id.to_string()).replace("{*path}", "app.css")
}

async fn call(app: &TestApp, rule: &RouteRule, path: &str, token: Option<&str>) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(rule.method.as_bytes()).unwrap();
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/") || path == "/healthz" || path == "/readyz" || path.starts_with("/assets/"))
}

async fn every_route_answers_each_role_as_its_rule_says(app: TestApp) {
    let dealer = app.add_dealer("D001", None).await;
    let mut people = Vec::new();
    for role in Role::ALL {
        let dealers: &[&str] = if role.is_tied_to_dealers() { &["D001"] } else { &[] };
        let username = role.as_str().replace('_', "-");
        let id = app.add_user(&username, role, dealers).await;
        people.push((role, username, id));
    }
    let table = routes();
    assert!(table.rules().len() >= 30, "the router lists its routes");
    for rule in table.rules() {
        let path = concrete_path(rule, people[0].2, dealer);
        let anonymous = call(&app, rule, &path, None).await;
        match rule.access {
            Access::Public => {
                assert_ne!(anonymous.status(), StatusCode::UNAUTHORIZED, "{} {path} is public", rule.method)
            }
            _ if is_page(&path) => {
                assert_eq!(
                    anonymous.status(),
                    StatusCode::SEE_OTHER,
                    "{} {path} sends visitors to sign in",
                    rule.method
                );
                assert!(anonymous.headers()["location"].to_str().unwrap().starts_with("/login"));
            }
            _ => assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{} {path} needs sign-in", rule.method),
        }
        for (role, username, _) in &people {
            let token = app.token(username).await;
            let response = call(&app, rule, &path, Some(&token)).await;
            let allowed = match rule.access {
                Access::Public | Access::SignedIn => true,
                Access::Roles(roles) => roles.contains(role),
            };
            let status = response.status();
            if allowed {
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{role:?} may {} {path}, got {status}",
                    rule.method
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} may not {} {path}", rule.method);
            }
            assert!(!status.is_server_error(), "{role:?} {} {path} gave {status}", rule.method);
        }
    }
}

async fn dealer_codes(app: &TestApp, token: &str) -> Vec<String> {
    let page: Value = app.get_json("/api/v1/dealers", token).await;
    page["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()).collect()
}

async fn status_of(app: &TestApp, token: &str, path: &str) -> StatusCode {
    app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap().status()
}

async fn store_staff_see_only_their_own_dealers(app: TestApp) {
    let own = app.add_dealer("D001", None).await;
    let other = app.add_dealer("D002", None).await;
    for (username, role) in [("sa", Role::SalesAssistant), ("ds", Role::DealerStaff)] {
        app.add_user(username, role, &["D001"]).await;
        let token = app.token(username).await;
        assert_eq!(dealer_codes(&app, &token).await, ["D001"], "{username} lists only their store");
        assert_eq!(status_of(&app, &token, &format!("/api/v1/dealers/{own}")).await, StatusCode::OK);
        let hidden =
            app.client.get(app.url(&format!("/api/v1/dealers/{other}"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "another store is not even said to exist");
        let problem: Value = hidden.json().await.unwrap();
        assert_eq!(problem["code"], "not_found");
        let me: Value = app.get_json("/api/v1/me", &token).await;
        assert_eq!(me["dealers"][0]["code"], "D001");
    }
}

async fn channel_managers_see_only_the_dealers_they_own(app: TestApp) {
    let mine = app.add_user("cm-a", Role::ChannelManager, &[]).await;
    let theirs = app.add_user("cm-b", Role::ChannelManager, &[]).await;
    app.add_dealer("D001", Some(mine)).await;
    let other = app.add_dealer("D002", Some(theirs)).await;
    app.add_dealer("D003", Some(mine)).await;
    let token = app.token("cm-a").await;
    assert_eq!(dealer_codes(&app, &token).await, ["D001", "D003"]);
    assert_eq!(status_of(&app, &token, &format!("/api/v1/dealers/{other}")).await, StatusCode::NOT_FOUND);
    assert_eq!(status_of(&app, &token, &format!("/dealers/{other}")).await, StatusCode::NOT_FOUND);
}

async fn head_office_sees_every_dealer(app: TestApp) {
    let first = app.add_dealer("D001", None).await;
    app.add_dealer("D002", None).await;
    for (username, role) in [("root", Role::Administrator), ("uw", Role::Underwriter), ("adj", Role::ClaimsAdjuster)] {
        app.add_user(username, role, &[]).await;
        let token = app.token(username).await;
        assert_eq!(dealer_codes(&app, &token).await, ["D001", "D002"], "{username}");
        assert_eq!(status_of(&app, &token, &format!("/api/v1/dealers/{first}")).await, StatusCode::OK);
    }
}

async fn dealer_pages_hide_other_stores(app: TestApp) {
    let own = app.add_dealer("D001", None).await;
    let other = app.add_dealer("D002", None).await;
    app.add_user("sa", Role::SalesAssistant, &["D001"]).await;
    let (browser, _) = app.browser_login("sa").await;
    let list = browser.get(app.url("/dealers")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("D001") && !list.contains("D002"));
    let home = browser.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("D001") && !home.contains("D002"));
    assert!(home.contains("我的门店"), "store staff see 'my stores' in the navigation");
    assert!(!home.contains("/admin/users"), "and no administration");
    let shown = browser.get(app.url(&format!("/dealers/{own}"))).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    let shown = shown.text().await.unwrap();
    let title = shown.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).unwrap();
    assert!(!title.contains('<') && title.ends_with(" · autochannel"), "the tab shows the dealer's name: {title}");
    let hidden = browser.get(app.url(&format!("/dealers/{other}"))).send().await.unwrap();
    assert_eq!(hidden.status(), 404);
    let page = hidden.text().await.unwrap();
    assert!(page.contains("找不到该页面或记录") && !page.contains("D002"));
}

//! The OpenAPI document covers every API route, and its browser is served from embedded assets.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use autochannel::http::router::routes;
use common::TestApp;
use serde_json::Value;

on_both_databases!(openapi_document_describes_every_api_route, api_browser_loads_only_embedded_assets, probes_answer);

async fn openapi_document_describes_every_api_route(app: TestApp) {
    app.add_user("uw", Role::Underwriter, &[]).await;
    let token = app.token("uw").await;
    let doc: Value = app.get_json("/api/openapi.json", &token).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut undocumented = Vec::new();
    for rule in routes().rules().iter().filter(|r| r.path.starts_with("/api/v1/") || r.path.ends_with("z")) {
        let method = rule.method.to_lowercase();
        if doc["paths"][rule.path][&method].is_null() {
            undocumented.push(format!("{} {}", rule.method, rule.path));
        }
    }
    assert!(undocumented.is_empty(), "routes missing from the OpenAPI document: {undocumented:?}");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

async fn api_browser_loads_only_embedded_assets(app: TestApp) {
    app.add_user("uw", Role::Underwriter, &[]).await;
    let (browser, _) = app.browser_login("uw").await;
    let page = browser.get(app.url("/api/docs")).send().await.unwrap().text().await.unwrap();
    for asset in [
        "/assets/vendor/swagger-ui/swagger-ui-bundle.js",
        "/assets/vendor/swagger-ui/swagger-ui.css",
        "/assets/api-docs.js",
    ] {
        assert!(page.contains(asset), "{asset}");
        let response = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().await.unwrap().len() > 100);
    }
    assert!(!page.contains("https://"), "nothing is loaded from the internet");
}

async fn probes_answer(app: TestApp) {
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().text().await.unwrap(), "ready");
}

//! Bad input, generated: every route of the router (`RouteTable`, so a new route is fuzzed without
//! being listed here) gets random JSON bodies built from the field names of the OpenAPI document,
//! random form bodies and random query strings, as a user allowed to call it. Whatever comes back
//! must not be a 5xx, and every API error must be problem+json. Cases per route:
//! `AUTOCHANNEL_FUZZ_CASES` (default 12; the README's full run uses 200).

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use autochannel::domain::auth::Role;
use autochannel::http::router::{Access, routes};
use common::TestApp;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

on_both_databases!(no_input_makes_a_server_error);

/// Every property name the API documents: random bodies use them so that they get past
/// "unknown field" and reach the checks behind it.
fn field_names(openapi: &Value) -> Vec<String> {
    let mut names = BTreeSet::new();
    fn walk(value: &Value, names: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    names.extend(properties.keys().cloned());
                }
                for child in map.values() {
                    walk(child, names);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, names)),
            _ => {}
        }
    }
    walk(openapi, &mut names);
    names.into_iter().collect()
}

/// Awkward leaves: empty, huge, negative, wrong types, injection-looking text, odd Unicode.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1)),
        Just(json!(9_007_199_254_740_993u64)),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        Just(json!("")),
        Just(json!("1")),
        Just(json!("-0.01")),
        Just(json!("99999999999999999999999999999.99")),
        Just(json!("2026-02-30")),
        Just(json!("2026-11-25")),
        Just(json!("2026-11-25T08:00:00+08:00")),
        Just(json!("'; DROP TABLE policies; --")),
        Just(json!("<script>alert(1)</script>")),
        Just(json!("粤B12345")),
        Just(json!("\u{0}\u{202e}\u{FFFF}")),
        "[a-z_]{0,12}".prop_map(Value::String),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String("x".repeat(5000))),
    ]
}

fn body(names: Vec<String>) -> impl Strategy<Value = Value> {
    let names = std::sync::Arc::new(names);
    let key = {
        let names = names.clone();
        (0..names.len().max(1)).prop_map(move |i| names.get(i).cloned().unwrap_or_default())
    };
    leaf().prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8).prop_map(|pairs| {
                let mut map = Map::new();
                for (k, v) in pairs {
                    map.insert(k, v);
                }
                Value::Object(map)
            }),
        ]
    })
}

fn path_of(template: &str, id: &str) -> String {
    template
        .replace("{id}", id)
        .replace("{item_id}", id)
        .replace("{document_id}", id)
        .replace("{user_id}", id)
        .replace("{*path}", "app.css")
}

async fn no_input_makes_a_server_error(app: TestApp) {
    app.add_dealer("D001", None).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let dealers: &[&str] = if role.is_tied_to_dealers() { &["D001"] } else { &[] };
        let username = format!("fuzz-{}", role.as_str().replace('_', "-"));
        app.add_user(&username, role, dealers).await;
        tokens.push((role, app.token(&username).await));
    }
    let admin = tokens.iter().find(|(r, _)| *r == Role::Administrator).unwrap().1.clone();
    // User routes aim at a user of their own, so that a fuzzed change cannot disable the fuzzing users.
    let victim = app.add_user("fuzz-victim", Role::Underwriter, &[]).await.to_string();
    let openapi: Value = app.get_json("/api/openapi.json", &admin).await;
    let names = field_names(&openapi);
    assert!(names.len() > 50, "the OpenAPI document names the fields");

    let cases: u32 = std::env::var("AUTOCHANNEL_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(12);
    let mut runner = TestRunner::new(Config { cases, ..Config::default() });
    let bodies = body(names.clone());
    let ids = prop_oneof![
        Just("1".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("abc".to_string()),
        Just("%2e%2e".to_string())
    ];
    let queries = prop::collection::vec(("[a-z_]{1,10}", ".{0,20}"), 0..5);
    let mut sent = 0usize;
    for rule in routes().rules() {
        if rule.path == "/api/v1/auth/logout" || rule.path.ends_with("logout-everywhere") || rule.path == "/logout" {
            continue; // ending the fuzzing user's own session is allowed and ends the test's sign-in
        }
        let token = match rule.access {
            Access::Public | Access::SignedIn => admin.clone(),
            Access::Roles(roles) => tokens.iter().find(|(r, _)| roles.contains(r)).unwrap().1.clone(),
        };
        for _ in 0..cases {
            let id = ids.new_tree(&mut runner).unwrap().current();
            let id = if rule.path.contains("/users/") && id == "1" { victim.clone() } else { id };
            let path = path_of(rule.path, &id);
            let query: Vec<(String, String)> = queries.new_tree(&mut runner).unwrap().current();
            let value = bodies.new_tree(&mut runner).unwrap().current();
            let method = reqwest::Method::from_bytes(rule.method.as_bytes()).unwrap();
            let mut request = app.client.request(method.clone(), app.url(&path)).bearer_auth(&token).query(&query);
            let as_form = !path.starts_with("/api/") && method != reqwest::Method::GET;
            request = if as_form {
                // Pages take forms: the same values, flattened to text.
                let pairs: Vec<(String, String)> = match &value {
                    Value::Object(map) => map
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                        .collect(),
                    other => vec![("value".into(), other.to_string())],
                };
                request.form(&pairs)
            } else if method != reqwest::Method::GET {
                request.json(&value)
            } else {
                request
            };
            let response = request.send().await.unwrap();
            let status = response.status();
            let content_type =
                response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let text = response.text().await.unwrap_or_default();
            sent += 1;
            assert!(!status.is_server_error(), "{} {path}?{query:?} with {value} gave {status}: {text}", rule.method);
            if path.starts_with("/api/") && status.is_client_error() {
                assert!(
                    content_type.starts_with("application/problem+json"),
                    "{} {path} gave {status} as {content_type}",
                    rule.method
                );
                let problem: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(problem["status"], status.as_u16(), "{} {path}: {problem}", rule.method);
            }
        }
    }
    println!("fuzzed {sent} requests over {} routes: no 5xx", routes().rules().len());
}

//! Load generators for the real release server (`src/bin/*_load.rs`, run by `benches/*.sh`).
//! What they share: settings, samples per endpoint, percentiles, the report, signing in, and
//! one timed POST or GET.
//!
//! A crate of its own, not `cargo bench` targets of the service: it depends on nothing of the
//! service, so building it does not rebuild the service and polars with the test-only features
//! that dev-dependencies switch on (that cost 25 minutes on a fresh machine).

/// The service's own VIN check digit (standard library only), so generated VINs pass its checks.
#[path = "../../../src/domain/underwriting/identity.rs"]
#[allow(dead_code)]
pub mod identity;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

pub type Samples = BTreeMap<&'static str, Vec<Duration>>;

pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

pub fn report(title: &str, mut samples: Samples, errors: &[String], elapsed: f64) {
    println!("== {title} ({elapsed:.1} s)");
    let mut total = 0;
    for (name, samples) in samples.iter_mut() {
        let count = samples.len();
        total += count;
        let (p50, p99) = (percentile(samples, 0.50), percentile(samples, 0.99));
        println!(
            "{name:<40} {count:>7} requests {:>8.1}/s  p50 {:>6.1} ms  p99 {:>6.1} ms",
            count as f64 / elapsed,
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
    println!("all: {total} requests, {:.1}/s; errors: {}", total as f64 / elapsed, errors.len());
    for error in errors.iter().take(5) {
        println!("  {error}");
    }
}

pub async fn sign_in(http: &reqwest::Client, base: &str, username: &str, password: &str) -> Value {
    http.post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("token")
}

#[allow(clippy::too_many_arguments)]
pub async fn step(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    name: &'static str,
    path: String,
    body: Value,
    samples: &mut Samples,
    errors: &mut Vec<String>,
    key: Option<String>,
) -> Option<Value> {
    let t = Instant::now();
    let mut request = http.post(format!("{base}{path}")).bearer_auth(token).json(&body);
    if std::env::var("AUTOCHANNEL_LOAD_MINIMAL").is_ok_and(|v| v == "1") {
        request = request.header("prefer", "return=minimal");
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    match request.send().await {
        Ok(r) if r.status().is_success() => {
            let value = r.json::<Value>().await.ok();
            samples.entry(name).or_default().push(t.elapsed());
            value
        }
        Ok(r) => {
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            errors.push(format!("{name}: {status} {}", text.chars().take(160).collect::<String>()));
            None
        }
        Err(e) => {
            errors.push(format!("{name}: {e}"));
            None
        }
    }
}

/// A timed GET; the body is read so that its cost counts.
pub async fn get(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    name: &'static str,
    path: &str,
    samples: &mut Samples,
    errors: &mut Vec<String>,
) -> Option<Value> {
    let t = Instant::now();
    match http.get(format!("{base}{path}")).bearer_auth(token).send().await {
        Ok(r) if r.status().is_success() => {
            let is_json =
                r.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            let bytes = r.bytes().await.unwrap_or_default();
            samples.entry(name).or_default().push(t.elapsed());
            if is_json { serde_json::from_slice(&bytes).ok() } else { Some(Value::Null) }
        }
        Ok(r) => {
            errors.push(format!("{name}: {}", r.status()));
            None
        }
        Err(e) => {
            errors.push(format!("{name}: {e}"));
            None
        }
    }
}

/// One sales assistant per store, created by the administrator for this run (with a qualification valid today)
/// and signed in: `(dealer id, token)` for each of the first `stores` active dealers `manager` owns. A real
/// deployment's assistants are spread over hundreds of stores; a load that issues every policy into one store grows
/// that store by thousands of policies a minute, and its dashboards' working set with it.
pub async fn store_assistants(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    manager: &str,
    password: &str,
    stores: usize,
    run: i64,
) -> Vec<(i64, String)> {
    let dealers = dealers(http, base, manager).await;
    let active = dealers.iter().filter(|d| d["status"] == "active").take(stores);
    let today = chrono::Utc::now().date_naive();
    let mut assistants = Vec::new();
    for (i, dealer) in active.enumerate() {
        let (Some(id), Some(code)) = (dealer["id"].as_i64(), dealer["code"].as_str()) else { continue };
        let username = format!("load{run}s{i}");
        let user: Value = http
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(admin)
            .json(&json!({ "username": username, "display_name": format!("压测助理 {i}"), "role": "sales_assistant",
                "password": password, "dealers": [code] }))
            .send()
            .await
            .expect("create assistant")
            .json()
            .await
            .expect("assistant body");
        let user_id = user["id"].as_i64().unwrap_or_else(|| panic!("assistant for {code} not created: {user}"));
        let qualification = json!({ "certificate_no": format!("QC{run}S{i}"),
            "valid_from": (today - chrono::Duration::days(30)).to_string(), "valid_to": (today + chrono::Duration::days(365)).to_string() });
        let status = http
            .post(format!("{base}/api/v1/users/{user_id}/qualifications"))
            .bearer_auth(admin)
            .json(&qualification)
            .send()
            .await
            .expect("qualification")
            .status();
        assert!(status.is_success(), "qualification for {username}: {status}");
        let signed_in = sign_in(http, base, &username, password).await;
        assistants.push((id, signed_in["token"].as_str().expect("assistant token").to_string()));
    }
    assert!(!assistants.is_empty(), "the demo manager owns active dealers");
    assistants
}

/// The dealers `token` may see (the first 200, a page of the dealer list).
async fn dealers(http: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let mut page: Value = http
        .get(format!("{base}/api/v1/dealers?per_page=200"))
        .bearer_auth(token)
        .send()
        .await
        .expect("dealers")
        .json()
        .await
        .expect("dealers body");
    match page["items"].take() {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// The ids of the dealers `token` may see (the first 200, a page of the dealer list).
pub async fn dealer_ids(http: &reqwest::Client, base: &str, token: &str) -> Vec<i64> {
    dealers(http, base, token).await.iter().filter_map(|d| d["id"].as_i64()).collect()
}

pub async fn gather(tasks: Vec<tokio::task::JoinHandle<(Samples, Vec<String>)>>) -> (Samples, Vec<String>) {
    let mut all = Samples::new();
    let mut errors = Vec::new();
    for task in tasks {
        if let Ok((samples, e)) = task.await {
            for (name, s) in samples {
                all.entry(name).or_default().extend(s);
            }
            errors.extend(e);
        }
    }
    (all, errors)
}

/// Reports a claim on `policy_no` as `reporter`, then takes it register → loss item → survey → settle → pay →
/// close as `lead`, timing each step. `key` (unique to the run) names the idempotency keys of the report and the
/// payment.
#[allow(clippy::too_many_arguments)]
pub async fn claim_to_closed(
    http: &reqwest::Client,
    base: &str,
    reporter: &str,
    lead: &str,
    policy_no: &str,
    key: &str,
    samples: &mut Samples,
    errors: &mut Vec<String>,
) {
    let accident = chrono::Utc::now() - chrono::Duration::minutes(5);
    let body = json!({ "policy_no": policy_no, "accident_at": accident.to_rfc3339(), "reporter_name": "压测",
        "reporter_phone": "13800138000", "place": "测试路", "description": "压测报案" });
    let report_key = Some(format!("{key}-report"));
    let Some(claim) =
        step(http, base, reporter, "POST /api/v1/claims", "/api/v1/claims".into(), body, samples, errors, report_key)
            .await
    else {
        return;
    };
    let id = claim["id"].clone();
    let mut version = claim["version"].clone();
    let steps: Vec<(&'static str, &str, Value)> = vec![
        ("POST …/register", "register", json!({ "reserves": [{ "coverage": "vehicle_damage", "reserve": "3000" }] })),
        (
            "POST …/loss-items",
            "loss-items",
            json!({ "category": "own_vehicle", "kind": "part", "description": "前保险杠", "quantity": "1", "unit_price": "2800.00" }),
        ),
        ("POST …/survey", "survey", json!({ "repair_shop": "压测修理厂" })),
        ("POST …/settle", "settle", json!({ "liability_share": "1" })),
        ("POST …/payments", "payments", json!({ "coverage": "vehicle_damage", "payee": "压测", "amount": "2800.00" })),
        ("POST …/close", "close", json!({})),
    ];
    let mut reserve = Value::Null;
    for (name, action, mut body) in steps {
        body["version"] = version.clone();
        if action == "payments" {
            // Pay what the settlement made payable (the reserve after settling); a policy whose sum insured
            // the earlier claims used up has nothing left to pay.
            if reserve == "0.00" {
                continue;
            }
            body["amount"] = reserve.clone();
        }
        let step_key = (action == "payments").then(|| format!("{key}-pay"));
        let path = format!("/api/v1/claims/{id}/{action}");
        match step(http, base, lead, name, path, body, samples, errors, step_key).await {
            Some(file) => {
                version = file["version"].clone();
                reserve = file["reserve"].clone();
            }
            None => break,
        }
    }
}

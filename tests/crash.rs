//! Crash safety: the real server binary runs a write load (policies issued, feedback, complaints),
//! is killed with SIGKILL at a random moment, and restarted on the same database. Every write it
//! acknowledged must be there, nothing half-written may be visible, and the audit chain and the
//! commission ledger must check out. Kills per database: `AUTOCHANNEL_CRASH_KILLS` (default 3;
//! the full run in the README uses 20).

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use autochannel::domain::auth::Role;
use autochannel::store::audit::Actor;
use autochannel::store::users::{self, Qualification};
use chrono::Utc;
use common::{PASSWORD, TestApp};
use rand::Rng;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::sync::Mutex;

on_both_databases!(acknowledged_writes_survive_sigkill);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_server(app: &TestApp, port: u16, documents: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_autochannel"))
        .arg("serve")
        .env("DATABASE_URL", &app.database_url)
        .env("AUTOCHANNEL_BIND", format!("127.0.0.1:{port}"))
        .env("AUTOCHANNEL_LOG", "error")
        .env("AUTOCHANNEL_LOGIN_MAX_FAILURES", "1000")
        .env("AUTOCHANNEL_DOCUMENT_DIR", documents)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up at {base}");
}

fn quote_body(dealer: i64, n: u64) -> Value {
    // Plates differ per quote so that nothing else refuses them.
    json!({
        "dealer_id": dealer, "business_type": "new_car",
        "vehicle": { "vin": "1M8GDM9AXKP042788", "plate": format!("粤B{:05}", n % 100_000), "first_registration": "2024-03-15",
                     "new_car_price": "200000.00", "seats": 5 },
        "owner": { "name": "陈立", "id_number": "11010519491231002X", "phone": "138 0013 8000" },
        "accident_history": "new_or_no_record", "ncd_level": 0,
        "coverages": { "compulsory": true, "vehicle_damage": true, "third_party_limit": "1000000", "driver_limit": null,
                       "passenger_limit": null, "riders": [] }
    })
}

/// What the server answered 2xx to: these must all be found after the crash.
#[derive(Default)]
struct Acknowledged {
    feedback: Vec<(i64, String)>,
    complaints: Vec<i64>,
    policies: Vec<String>,
}

async fn load(base: String, token: String, dealer: i64, worker: u64, acknowledged: Arc<Mutex<Acknowledged>>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    for n in 0.. {
        let key = format!("w{worker}-{n}-{}", rand::random::<u32>());
        let outcome: Result<(), reqwest::Error> = async {
            match n % 3 {
                0 => {
                    let body = format!("第 {n} 条反馈 {key}");
                    let response = client
                        .post(format!("{base}/api/v1/feedback"))
                        .bearer_auth(&token)
                        .json(&json!({ "dealer_id": dealer, "category": "other", "body": body, "submission_ref": key }))
                        .send()
                        .await?;
                    if response.status().is_success() {
                        let note: Value = response.json().await?;
                        acknowledged.lock().await.feedback.push((note["id"].as_i64().unwrap(), body));
                    }
                }
                1 => {
                    let response = client
                        .post(format!("{base}/api/v1/complaints"))
                        .bearer_auth(&token)
                        .json(&json!({ "dealer_id": dealer, "source": "customer", "complainant": key,
                                       "category": "other", "description": "理赔慢" }))
                        .send()
                        .await?;
                    if response.status().is_success() {
                        let file: Value = response.json().await?;
                        acknowledged.lock().await.complaints.push(file["complaint"]["id"].as_i64().unwrap());
                    }
                }
                _ => {
                    let quote: Value = client
                        .post(format!("{base}/api/v1/quotes"))
                        .bearer_auth(&token)
                        .json(&quote_body(dealer, worker * 10_000 + n))
                        .send()
                        .await?
                        .json()
                        .await?;
                    let Some(id) = quote["id"].as_i64() else { return Ok(()) };
                    let response = client
                        .post(format!("{base}/api/v1/quotes/{id}/issue"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", &key)
                        .send()
                        .await?;
                    if response.status().is_success() {
                        let policies: Vec<Value> = response.json().await?;
                        let mut acknowledged = acknowledged.lock().await;
                        acknowledged
                            .policies
                            .extend(policies.iter().map(|p| p["policy_no"].as_str().unwrap().to_string()));
                    }
                }
            }
            Ok(())
        }
        .await;
        // The server died under us: the load is over.
        if outcome.is_err() {
            return;
        }
    }
}

/// The server runs itself again with mimalloc purging freed pages at once and without transparent huge pages
/// (src/main.rs), which kept its memory lower and flat in the soaks; the restart keeps the process id, so the
/// environment of the process started is the one to read, and its status says whether huge pages are off.
fn server_runs_with_allocator_settings(server: &Child) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let environment = std::fs::read(format!("/proc/{}/environ", server.id())).unwrap();
    for (variable, value) in [("MIMALLOC_PURGE_DELAY", "0"), ("MIMALLOC_ALLOW_THP", "0")] {
        if std::env::var_os(variable).is_some() {
            continue; // set for this test run: the server keeps it
        }
        let expected = format!("{variable}={value}");
        assert!(
            environment.split(|byte| *byte == 0).any(|entry| entry == expected.as_bytes()),
            "the server did not restart itself with {expected}"
        );
    }
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // mimalloc turns huge pages off for the process (prctl PR_SET_THP_DISABLE) when it starts.
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.id())).unwrap();
        if let Some(line) = status.lines().find(|line| line.starts_with("THP_enabled:")) {
            assert_eq!(line.split_whitespace().nth(1), Some("0"), "transparent huge pages still on: {line}");
        }
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let backend = app.db.get_database_backend();
    let row = app.db.query_one_raw(Statement::from_string(backend, sql.to_string())).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn acknowledged_writes_survive_sigkill(app: TestApp) {
    let dealer = app.add_dealer("D001", None).await;
    let seller = app.add_user("sa", Role::SalesAssistant, &["D001"]).await;
    let today = Utc::now().date_naive();
    let tx = autochannel::store::begin_write(&app.db).await.unwrap();
    let certificate = Qualification {
        certificate_no: "QC-CRASH".into(),
        valid_from: today - chrono::Duration::days(30),
        valid_to: today + chrono::Duration::days(400),
    };
    users::add_qualification(&tx, &Actor::system("test"), seller, certificate).await.unwrap();
    tx.commit().await.unwrap();

    let kills: usize = std::env::var("AUTOCHANNEL_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(3);
    let documents = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    for round in 0..kills {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = start_server(&app, port, documents.path());
        wait_ready(&client, &base).await;
        if round == 0 {
            server_runs_with_allocator_settings(&server);
        }
        let login: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "username": "sa", "password": PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap().to_string();
        let workers: Vec<_> = (0..6)
            .map(|w| {
                tokio::spawn(load(base.clone(), token.clone(), dealer, (round * 10 + w) as u64, acknowledged.clone()))
            })
            .collect();
        // Each round first sees a write of both kinds acknowledged (a slow machine under the whole suite may take
        // longer than the kill's random moment to issue its first policy), then dies at a random moment after.
        let wrote_before = {
            let seen = acknowledged.lock().await;
            (seen.feedback.len(), seen.policies.len())
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            let seen = acknowledged.lock().await;
            if seen.feedback.len() > wrote_before.0 && seen.policies.len() > wrote_before.1 {
                break;
            }
            drop(seen);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after = rand::rng().random_range(0..1200);
        tokio::time::sleep(Duration::from_millis(after)).await;
        server.kill().unwrap(); // SIGKILL: no shutdown, no final seal.
        server.wait().unwrap();
        for worker in workers {
            let _ = worker.await;
        }
    }

    // Restart once more and look at everything that was acknowledged.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&app, port, documents.path());
    wait_ready(&client, &base).await;
    let token = app.token_with("sa", PASSWORD).await;
    let acknowledged = acknowledged.lock().await;
    assert!(!acknowledged.feedback.is_empty() && !acknowledged.policies.is_empty(), "the load wrote something");
    for (id, body) in &acknowledged.feedback {
        let note: Value = client
            .get(format!("{base}/api/v1/feedback/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(note["body"], body.as_str(), "acknowledged feedback {id} survived");
    }
    for id in &acknowledged.complaints {
        let response = client.get(format!("{base}/api/v1/complaints/{id}")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200, "acknowledged complaint {id} survived");
    }
    for policy_no in &acknowledged.policies {
        let found: Value = client
            .get(format!("{base}/api/v1/policies?q={policy_no}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found["total"], 1, "acknowledged policy {policy_no} survived");
    }
    // Nothing half-written: every policy has its issue version and coverages and was booked in the
    // ledger; every complaint has its first event.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM policies p WHERE NOT EXISTS (SELECT 1 FROM policy_versions v WHERE v.policy_id = p.id)").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM policies p WHERE NOT EXISTS (SELECT 1 FROM policy_coverages c WHERE c.policy_id = p.id)").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM complaints c WHERE NOT EXISTS (SELECT 1 FROM complaint_events e WHERE e.complaint_id = c.id)").await,
        0
    );
    // The chain: what was in the inbox at the kill is sealed by the restarted server; it verifies whole.
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_autochannel"))
            .env("DATABASE_URL", &app.database_url)
            .env("AUTOCHANNEL_LOG", "error")
            .args(args)
            .output()
            .unwrap()
    };
    let verified = cli(&["audit", "verify"]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stdout));
    let records = count(&app, "SELECT COUNT(*) FROM audit_log").await;
    assert!(records as usize >= acknowledged.feedback.len() + acknowledged.complaints.len());
    let reconciled = cli(&["commission", "reconcile"]);
    assert!(reconciled.status.success(), "{}", String::from_utf8_lossy(&reconciled.stdout));
    println!(
        "{kills} kills survived: {} feedback notes, {} complaints, {} policies acknowledged and found; {records} audit records verify",
        acknowledged.feedback.len(),
        acknowledged.complaints.len(),
        acknowledged.policies.len()
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

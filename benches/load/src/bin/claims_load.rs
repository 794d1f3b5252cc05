//! Claims under load on the real server, in two phases.
//! 1. Queue: clients read the adjuster's queue (API, first and deep pages, filters, a broad search matching a
//!    tenth of the claims and a plate search matching a few) and the queue page, as fast as the server answers.
//! 2. Transitions: each client reports a claim on one of the demo store's policies and takes
//!    it register → loss item → survey → settle → pay → close as the claims lead.
//!
//! Prints throughput, p50 and p99 per endpoint, and the errors. Run through
//! `benches/claims_load.sh`, which builds the release server and fills the database.
//! With AUTOCHANNEL_LOAD_MINIMAL=1 the transitions send `Prefer: return=minimal`.
//! Settings: AUTOCHANNEL_LOAD_URL, AUTOCHANNEL_LOAD_PASSWORD, AUTOCHANNEL_LOAD_CLIENTS (32),
//! AUTOCHANNEL_LOAD_SECONDS (20 per phase).

use std::time::{Duration, Instant};

use serde_json::Value;

use autochannel_load::{Samples, claim_to_closed, gather, report, setting, sign_in};

#[tokio::main]
async fn main() {
    let Ok(base) = std::env::var("AUTOCHANNEL_LOAD_URL") else {
        println!("claims_load: set AUTOCHANNEL_LOAD_URL (see benches/claims_load.sh); nothing run");
        return;
    };
    let password = setting("AUTOCHANNEL_LOAD_PASSWORD", "demo-password-1");
    let clients: usize = setting("AUTOCHANNEL_LOAD_CLIENTS", "32").parse().unwrap_or(32);
    let seconds: u64 = setting("AUTOCHANNEL_LOAD_SECONDS", "20").parse().unwrap_or(20);
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().expect("client");
    let lead = sign_in(&http, &base, "claims_lead", &password).await["token"].as_str().expect("token").to_string();
    let seller_login = sign_in(&http, &base, "assistant", &password).await;
    let seller = seller_login["token"].as_str().expect("token").to_string();

    // Phase 1: the queue.
    let total: Value = http
        .get(format!("{base}/api/v1/claims?stage=all&per_page=1"))
        .bearer_auth(&lead)
        .send()
        .await
        .expect("count")
        .json()
        .await
        .expect("page");
    println!("claims in the database: {}", total["total"]);
    let deep = (total["total"].as_u64().unwrap_or(0) / 50 / 2).max(1);
    // What an adjuster looks up: one vehicle's claims, by the last five characters of its plate.
    let plate = total["items"][0]["plate"].as_str().unwrap_or("A12345").to_string();
    let plate_tail: String = plate.chars().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
    let reads: Vec<(&'static str, String)> = vec![
        ("GET /api/v1/claims (open queue)", "/api/v1/claims".into()),
        ("GET /api/v1/claims?overdue=true", "/api/v1/claims?overdue=true".into()),
        ("GET /api/v1/claims?stage=all&page=deep", format!("/api/v1/claims?stage=all&page={deep}")),
        ("GET /api/v1/claims?q=CL2026", "/api/v1/claims?stage=all&q=CL20260001".into()),
        ("GET /api/v1/claims?q=(plate)", format!("/api/v1/claims?stage=all&q={plate_tail}")),
        ("GET /api/v1/claims/board", "/api/v1/claims/board".into()),
        ("GET /claims (page)", "/claims".into()),
    ];
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (http, base, token, reads) = (http.clone(), base.clone(), lead.clone(), reads.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::new();
            let mut errors = Vec::new();
            let mut n = client;
            while Instant::now() < deadline {
                let (name, path) = &reads[n % reads.len()];
                n += 1;
                let t = Instant::now();
                let response = http.get(format!("{base}{path}")).bearer_auth(&token).send().await;
                let ok = match response {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    Ok(r) => {
                        errors.push(format!("{name}: {}", r.status()));
                        false
                    }
                    Err(e) => {
                        errors.push(format!("{name}: {e}"));
                        false
                    }
                };
                if ok {
                    samples.entry(*name).or_default().push(t.elapsed());
                }
            }
            (samples, errors)
        }));
    }
    let (samples, errors) = gather(tasks).await;
    report(&format!("queue reads, {clients} clients"), samples, &errors, started.elapsed().as_secs_f64());

    // Phase 2: transitions on claims reported for the demo store's policies in force.
    // Three pages of policies: the claims spread over hundreds of vehicles, as a store's claims do, instead of
    // piling onto a few (a vehicle with dozens of claims in a month makes every file and duplicate check longer).
    let mut items = Vec::new();
    for page in 1..=3 {
        let policies: Value = http
            .get(format!("{base}/api/v1/policies?status=in_force&product=commercial&per_page=200&page={page}"))
            .bearer_auth(&seller)
            .send()
            .await
            .expect("policies")
            .json()
            .await
            .expect("page");
        items.extend(policies["items"].as_array().cloned().unwrap_or_default());
    }
    // Policy days are China days (UTC+8): from 16:00 UTC the UTC date is a day behind, and a policy ending "tomorrow"
    // by it has already ended, which refused the script's reports with 422 on accident_at.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string();
    let mut numbers = Vec::new();
    for item in items {
        // In force today: started before and ending after (an expired policy keeps status in_force).
        let started = item["start_date"].as_str().is_some_and(|d| d < today.as_str());
        let ending_later = item["end_date"].as_str().is_some_and(|d| d > today.as_str());
        if !(started && ending_later) {
            continue;
        }
        // Only policies with vehicle damage cover fit the script's loss.
        let detail: Value = http
            .get(format!("{base}/api/v1/policies/{}", item["id"]))
            .bearer_auth(&seller)
            .send()
            .await
            .expect("policy")
            .json()
            .await
            .expect("policy body");
        if detail["coverages"].as_array().is_some_and(|c| c.iter().any(|c| c["code"] == "vehicle_damage")) {
            numbers.extend(item["policy_no"].as_str().map(str::to_string));
        }
    }
    assert!(!numbers.is_empty(), "the demo store has commercial policies in force");
    // Idempotency keys unique to this run: a key reused with another body is refused.
    let run = chrono::Utc::now().timestamp_millis();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (http, base, lead, seller) = (http.clone(), base.clone(), lead.clone(), seller.clone());
        let numbers = numbers.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::new();
            let mut errors = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                n += 1;
                let policy_no = &numbers[(n * clients + client) % numbers.len()];
                let key = format!("load-{run}-{client}-{n}");
                claim_to_closed(&http, &base, &seller, &lead, policy_no, &key, &mut samples, &mut errors).await;
            }
            (samples, errors)
        }));
    }
    let (samples, errors) = gather(tasks).await;
    report(&format!("claim transitions, {clients} clients"), samples, &errors, started.elapsed().as_secs_f64());
}

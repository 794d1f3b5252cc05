//! The whole service under a realistic mix on the real server: clients sign in as each role and
//! work as that role would, as fast as the server answers.
//! - sales assistants (4 of every 10 clients): price a quote and issue it, log feedback, look a
//!   policy up, open the feedback form;
//! - claims (2 of 10): the assistant reports a claim, the claims lead registers, assesses,
//!   surveys, settles, pays and closes it;
//! - channel managers (2 of 10): a dealer's figures and dashboard page, the feedback feed, alerts;
//! - underwriters (1 of 10): the referral queue and the rating tables;
//! - dealer staff (1 of 10): their dashboard and statements.
//!
//! Prints throughput, p50 and p99 per endpoint and the errors. Run through `benches/mix_load.sh`.
//! Settings: AUTOCHANNEL_LOAD_URL, AUTOCHANNEL_LOAD_PASSWORD, AUTOCHANNEL_LOAD_CLIENTS (32),
//! AUTOCHANNEL_LOAD_SECONDS (30), AUTOCHANNEL_LOAD_RATE (requests/s in all; 0, the default, is unpaced),
//! AUTOCHANNEL_LOAD_STORES (1: every quote, issue and feedback note goes to the demo assistant's store; N: to N of
//! the manager's stores in turn, each with an assistant the administrator creates for the run).

use std::time::{Duration, Instant};

use autochannel_load::identity::with_vin_check_digit;
use serde_json::{Value, json};

use autochannel_load::{
    Samples, claim_to_closed, dealer_ids, gather, get, report, setting, sign_in, step, store_assistants,
};

struct Tokens {
    assistant: String,
    /// The stores that quote, issue and log feedback, with their assistant's token.
    stores: Vec<(i64, String)>,
    lead: String,
    manager: String,
    underwriter: String,
    staff: String,
    staff_dealer: i64,
    /// The dealers the channel manager owns (others answer 404, as they should).
    managed: Vec<i64>,
}

#[tokio::main]
async fn main() {
    let Ok(base) = std::env::var("AUTOCHANNEL_LOAD_URL") else {
        println!("mix_load: set AUTOCHANNEL_LOAD_URL (see benches/mix_load.sh); nothing run");
        return;
    };
    let password = setting("AUTOCHANNEL_LOAD_PASSWORD", "demo-password-1");
    let clients: usize = setting("AUTOCHANNEL_LOAD_CLIENTS", "32").parse().unwrap_or(32);
    let seconds: u64 = setting("AUTOCHANNEL_LOAD_SECONDS", "30").parse().unwrap_or(30);
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().expect("client");
    let assistant = sign_in(&http, &base, "assistant", &password).await;
    let staff = sign_in(&http, &base, "dealer", &password).await;
    let token = |v: &Value| v["token"].as_str().expect("token").to_string();
    let manager = token(&sign_in(&http, &base, "manager", &password).await);
    let managed = dealer_ids(&http, &base, &manager).await;
    assert!(!managed.is_empty(), "the demo manager owns dealers");
    let run = chrono::Utc::now().timestamp_millis();
    let store_count: usize = setting("AUTOCHANNEL_LOAD_STORES", "1").parse().unwrap_or(1);
    let stores = if store_count > 1 {
        let admin = token(&sign_in(&http, &base, "admin", &password).await);
        store_assistants(&http, &base, &admin, &manager, &password, store_count, run).await
    } else {
        let dealer_id = assistant["user"]["dealer_ids"][0].as_i64().expect("the assistant's dealer");
        vec![(dealer_id, token(&assistant))]
    };
    println!("stores issuing: {}", stores.len());
    let tokens = std::sync::Arc::new(Tokens {
        assistant: token(&assistant),
        stores,
        lead: token(&sign_in(&http, &base, "claims_lead", &password).await),
        manager,
        managed,
        underwriter: token(&sign_in(&http, &base, "underwriter", &password).await),
        staff: token(&staff),
        staff_dealer: staff["user"]["dealer_ids"][0].as_i64().expect("the dealer's id"),
    });
    // Policies in force with vehicle damage, to report claims on.
    let mut policies = Vec::new();
    let page: Value = http
        .get(format!("{base}/api/v1/policies?status=in_force&product=commercial&per_page=100"))
        .bearer_auth(&tokens.assistant)
        .send()
        .await
        .expect("policies")
        .json()
        .await
        .expect("policies body");
    let today = chrono::Utc::now().date_naive().to_string();
    for item in page["items"].as_array().into_iter().flatten() {
        let in_cover = item["start_date"].as_str().is_some_and(|d| d < today.as_str())
            && item["end_date"].as_str().is_some_and(|d| d > today.as_str());
        if !in_cover {
            continue;
        }
        // Claims are reserved on vehicle damage: only policies that have it.
        let detail: Value = http
            .get(format!("{base}/api/v1/policies/{}", item["id"]))
            .bearer_auth(&tokens.assistant)
            .send()
            .await
            .expect("policy")
            .json()
            .await
            .expect("policy body");
        if detail["coverages"].as_array().is_some_and(|c| c.iter().any(|c| c["code"] == "vehicle_damage")) {
            policies.push(item["policy_no"].as_str().unwrap_or_default().to_string());
        }
    }
    assert!(!policies.is_empty(), "the demo store has commercial policies in force");
    let policies = std::sync::Arc::new(policies);

    // AUTOCHANNEL_LOAD_RATE: requests a second in all (0: as fast as the server answers).
    let rate: f64 = setting("AUTOCHANNEL_LOAD_RATE", "0").parse().unwrap_or(0.0);
    let per_client = rate / clients as f64;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (http, base, tokens, policies) = (http.clone(), base.clone(), tokens.clone(), policies.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::new();
            let mut errors = Vec::new();
            let mut n = 0u64;
            // Each claims client works policies of its own: two claims on one policy settled at once could each be
            // promised the policy's last limit, and the second payment is refused.
            let is_claims = |c: &usize| matches!(c % 10, 4 | 5);
            let claim_clients = (0..clients).filter(is_claims).count().max(1);
            let slot = (0..client).filter(is_claims).count();
            let mine = policies.len().saturating_sub(slot).div_ceil(claim_clients);
            while Instant::now() < deadline {
                n += 1;
                let t = &tokens;
                match client % 10 {
                    0..=3 => {
                        let (dealer_id, seller) = &t.stores[(client + n as usize) % t.stores.len()];
                        // A new car per sale: a VIN issued twice is refused as insured twice (重复投保).
                        let car = format!("LSVAU2180{:02}{:02}{:04}", (run / 1000) % 100, client % 100, n % 10_000);
                        let vin = with_vin_check_digit(&car).unwrap_or_default();
                        let body = json!({
                            "dealer_id": dealer_id, "business_type": "new_car",
                            "vehicle": { "vin": vin, "plate": format!("粤B{:05}", n % 100_000), "first_registration": "2024-03-15", "new_car_price": "200000.00", "seats": 5 },
                            "owner": { "name": "压测", "id_number": "11010519491231002X", "phone": "13800138000" },
                            "accident_history": "new_or_no_record", "ncd_level": 0,
                            "coverages": { "compulsory": true, "vehicle_damage": true, "third_party_limit": "1000000", "driver_limit": null, "passenger_limit": null }
                        });
                        if let Some(quote) = step(&http, &base, seller, "POST /api/v1/quotes", "/api/v1/quotes".into(), body, &mut samples, &mut errors, None).await {
                            let path = format!("/api/v1/quotes/{}/issue", quote["id"]);
                            step(&http, &base, seller, "POST /api/v1/quotes/{id}/issue", path, Value::Null, &mut samples, &mut errors, Some(format!("mix-{run}-{client}-{n}"))).await;
                        }
                        let note = json!({ "dealer_id": dealer_id, "category": "competitor", "body": format!("压测反馈 {n}"), "submission_ref": format!("mix-{run}-{client}-{n}") });
                        step(&http, &base, seller, "POST /api/v1/feedback", "/api/v1/feedback".into(), note, &mut samples, &mut errors, None).await;
                        get(&http, &base, &t.assistant, "GET /api/v1/policies?q=…", &format!("/api/v1/policies?q={}", policies[n as usize % policies.len()]), &mut samples, &mut errors).await;
                        get(&http, &base, &t.assistant, "GET /feedback/new (page)", "/feedback/new", &mut samples, &mut errors).await;
                    }
                    4 | 5 => {
                        let index = if mine == 0 { n as usize % policies.len() } else { slot + (n as usize % mine) * claim_clients };
                        let policy_no = &policies[index];
                        let key = format!("mixc-{run}-{client}-{n}");
                        claim_to_closed(&http, &base, &t.assistant, &t.lead, policy_no, &key, &mut samples, &mut errors).await;
                    }
                    6 | 7 => {
                        let dealer = t.managed[n as usize % t.managed.len()];
                        get(&http, &base, &t.manager, "GET /api/v1/dealers/{id}/figures", &format!("/api/v1/dealers/{dealer}/figures"), &mut samples, &mut errors).await;
                        get(&http, &base, &t.manager, "GET /dealers/{id}/dashboard (page)", &format!("/dealers/{dealer}/dashboard"), &mut samples, &mut errors).await;
                        get(&http, &base, &t.manager, "GET /api/v1/feedback", "/api/v1/feedback", &mut samples, &mut errors).await;
                        get(&http, &base, &t.manager, "GET /api/v1/alerts", "/api/v1/alerts", &mut samples, &mut errors).await;
                    }
                    8 => {
                        get(&http, &base, &t.underwriter, "GET /api/v1/quotes?status=referred", "/api/v1/quotes?status=referred", &mut samples, &mut errors).await;
                        get(&http, &base, &t.underwriter, "GET /rating (page)", "/rating", &mut samples, &mut errors).await;
                    }
                    _ => {
                        let dealer = t.staff_dealer;
                        get(&http, &base, &t.staff, "GET /dealers/{id}/dashboard (staff)", &format!("/dealers/{dealer}/dashboard"), &mut samples, &mut errors).await;
                        get(&http, &base, &t.staff, "GET /api/v1/dealers/{id}/statements", &format!("/api/v1/dealers/{dealer}/statements"), &mut samples, &mut errors).await;
                    }
                }
                // Paced: each client keeps its share of the target rate, so a soak holds a steady load.
                if per_client > 0.0 {
                    let done = samples.values().map(Vec::len).sum::<usize>() + errors.len();
                    let due = started + Duration::from_secs_f64(done as f64 / per_client);
                    tokio::time::sleep_until(due.into()).await;
                }
            }
            (samples, errors)
        }));
    }
    let (samples, errors) = gather(tasks).await;
    report(&format!("mixed load, {clients} clients"), samples, &errors, started.elapsed().as_secs_f64());
}

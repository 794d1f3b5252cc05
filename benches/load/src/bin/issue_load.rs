//! Load on the real server: clients sign in as the demo sales assistant and, as
//! fast as the server answers, price a quote and issue it. Prints throughput,
//! p50 and p99 per endpoint and the errors. Run through `benches/issue_load.sh`,
//! which builds the release server, starts it and runs `pgbench -N` beside it.
//! Settings: AUTOCHANNEL_LOAD_URL, AUTOCHANNEL_LOAD_PASSWORD, AUTOCHANNEL_LOAD_CLIENTS (32), AUTOCHANNEL_LOAD_SECONDS (20).

use std::time::{Duration, Instant};

use autochannel_load::identity::with_vin_check_digit;
use serde_json::{Value, json};

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[derive(Default)]
struct Tally {
    quote: Vec<Duration>,
    issue: Vec<Duration>,
    errors: Vec<String>,
    policies: usize,
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let Ok(base) = std::env::var("AUTOCHANNEL_LOAD_URL") else {
        println!("issue_load: set AUTOCHANNEL_LOAD_URL (see benches/issue_load.sh); nothing run");
        return;
    };
    let password = setting("AUTOCHANNEL_LOAD_PASSWORD", "demo-password-1");
    let clients: usize = setting("AUTOCHANNEL_LOAD_CLIENTS", "32").parse().unwrap_or(32);
    let seconds: u64 = setting("AUTOCHANNEL_LOAD_SECONDS", "20").parse().unwrap_or(20);
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().expect("client");
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": "assistant", "password": password }))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("token");
    let token = login["token"].as_str().expect("token").to_string();
    let dealer = login["user"]["dealer_ids"][0].as_i64().expect("the assistant's dealer");
    // Keys unique to this run, so that a second run on the same database issues rather than replays.
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                // A new car per sale: a VIN issued twice is refused as insured twice (重复投保).
                let car = format!("LSVAU2180{:02}{:02}{:04}", (run / 1000) % 100, client % 100, n % 10_000);
                let vin = with_vin_check_digit(&car).unwrap_or_default();
                let body = json!({
                    "dealer_id": dealer, "business_type": "new_car",
                    "vehicle": { "vin": vin, "plate": format!("粤B{:05}", n % 100_000), "first_registration": "2024-03-15", "new_car_price": "200000.00", "seats": 5 },
                    "owner": { "name": "压测", "id_number": "11010519491231002X", "phone": "13800138000" },
                    "accident_history": "new_or_no_record", "ncd_level": 0,
                    "coverages": { "compulsory": true, "vehicle_damage": true, "third_party_limit": "1000000", "driver_limit": null, "passenger_limit": null }
                });
                let t = Instant::now();
                let quote = http.post(format!("{base}/api/v1/quotes")).bearer_auth(&token).json(&body).send().await;
                tally.quote.push(t.elapsed());
                let id = match quote {
                    Ok(r) if r.status() == 201 => r.json::<Value>().await.ok().and_then(|q| q["id"].as_i64()),
                    Ok(r) => {
                        tally.errors.push(format!("quote {}", r.status()));
                        None
                    }
                    Err(e) => {
                        tally.errors.push(format!("quote {e}"));
                        None
                    }
                };
                let Some(id) = id else { continue };
                let t = Instant::now();
                let issued = http
                    .post(format!("{base}/api/v1/quotes/{id}/issue"))
                    .bearer_auth(&token)
                    .header("idempotency-key", format!("load-{run}-{client}-{n}"))
                    .send()
                    .await;
                tally.issue.push(t.elapsed());
                match issued {
                    Ok(r) if r.status() == 201 => tally.policies += r.json::<Vec<Value>>().await.map(|p| p.len()).unwrap_or(0),
                    Ok(r) => tally.errors.push(format!("issue {}", r.status())),
                    Err(e) => tally.errors.push(format!("issue {e}")),
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        if let Ok(t) = task.await {
            all.quote.extend(t.quote);
            all.issue.extend(t.issue);
            all.errors.extend(t.errors);
            all.policies += t.policies;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("clients {clients}, {elapsed:.1} s");
    for (name, samples) in [("POST /api/v1/quotes", &mut all.quote), ("POST /api/v1/quotes/{id}/issue", &mut all.issue)]
    {
        let count = samples.len();
        let p50 = percentile(samples, 0.50);
        let p99 = percentile(samples, 0.99);
        println!(
            "{name:<34} {count:>7} requests {:>8.1}/s  p50 {:>6.1} ms  p99 {:>6.1} ms",
            count as f64 / elapsed,
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
    println!(
        "policies issued: {} ({:.1}/s); errors: {}",
        all.policies,
        all.policies as f64 / elapsed,
        all.errors.len()
    );
    for error in all.errors.iter().take(5) {
        println!("  {error}");
    }
}

//! The channel manager's reading load on the real server (issue #5's speed targets):
//! 1. the portfolio overview of every dealer, JSON and page, one request at a time (what one
//!    manager opening the overview waits for);
//! 2. dealers' dashboards, JSON figures and page, for dealers picked in turn across the whole
//!    portfolio, from many clients at once.
//!
//! Prints throughput, p50 and p99 per endpoint and the errors. Run through `benches/dashboard_load.sh`.
//! Settings: AUTOCHANNEL_LOAD_URL, AUTOCHANNEL_LOAD_PASSWORD, AUTOCHANNEL_LOAD_CLIENTS (16),
//! AUTOCHANNEL_LOAD_SECONDS (30), AUTOCHANNEL_LOAD_PORTFOLIO_RUNS (30).

use std::time::{Duration, Instant};

use autochannel_load::{Samples, dealer_ids, gather, get, report, setting, sign_in};

#[tokio::main]
async fn main() {
    let Ok(base) = std::env::var("AUTOCHANNEL_LOAD_URL") else {
        println!("dashboard_load: set AUTOCHANNEL_LOAD_URL (see benches/dashboard_load.sh); nothing run");
        return;
    };
    let password = setting("AUTOCHANNEL_LOAD_PASSWORD", "demo-password-1");
    let clients: usize = setting("AUTOCHANNEL_LOAD_CLIENTS", "16").parse().unwrap_or(16);
    let seconds: u64 = setting("AUTOCHANNEL_LOAD_SECONDS", "30").parse().unwrap_or(30);
    let portfolio_runs: usize = setting("AUTOCHANNEL_LOAD_PORTFOLIO_RUNS", "30").parse().unwrap_or(30);
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().expect("client");
    // The administrator's portfolio is every dealer: the largest overview there is.
    let admin = sign_in(&http, &base, "admin", &password).await["token"].as_str().expect("token").to_string();
    let dealers = dealer_ids(&http, &base, &admin).await;
    assert!(!dealers.is_empty(), "the database has dealers");

    let mut samples = Samples::new();
    let mut errors = Vec::new();
    let started = Instant::now();
    let mut rows = 0;
    for _ in 0..portfolio_runs {
        if let Some(list) =
            get(&http, &base, &admin, "GET /api/v1/portfolio", "/api/v1/portfolio", &mut samples, &mut errors).await
        {
            rows = list.as_array().map_or(0, Vec::len);
        }
        get(&http, &base, &admin, "GET /portfolio (page)", "/portfolio", &mut samples, &mut errors).await;
    }
    report(
        &format!("portfolio overview of {rows} dealers, one request at a time"),
        samples,
        &errors,
        started.elapsed().as_secs_f64(),
    );

    let dealers = std::sync::Arc::new(dealers);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (http, base, admin, dealers) = (http.clone(), base.clone(), admin.clone(), dealers.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::new();
            let mut errors = Vec::new();
            // Clients walk the portfolio from different places, so no one dealer stays hot.
            let mut n = client * 7919;
            while Instant::now() < deadline {
                n += 1;
                let dealer = dealers[n % dealers.len()];
                get(
                    &http,
                    &base,
                    &admin,
                    "GET /api/v1/dealers/{id}/figures",
                    &format!("/api/v1/dealers/{dealer}/figures"),
                    &mut samples,
                    &mut errors,
                )
                .await;
                get(
                    &http,
                    &base,
                    &admin,
                    "GET /dealers/{id}/dashboard (page)",
                    &format!("/dealers/{dealer}/dashboard"),
                    &mut samples,
                    &mut errors,
                )
                .await;
            }
            (samples, errors)
        }));
    }
    let (samples, errors) = gather(tasks).await;
    report(&format!("dealer dashboards, {clients} clients"), samples, &errors, started.elapsed().as_secs_f64());
}

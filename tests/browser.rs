//! The pages in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
//! driven over WebDriver. Every role signs in and its start page renders; a channel manager's
//! dealer dashboard and the satisfaction comparison draw every chart without a script error; a
//! sales assistant on a phone-sized window logs feedback, quotes and issues, and reports a claim
//! that the claims lead takes through every stage to closed. Screenshots go to `target/browser/<database>/`; the walk runs on SQLite, then PostgreSQL.
//!
//! Without chromedriver on the machine the test says so and passes, unless
//! `AUTOCHANNEL_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs the browser) makes it fail.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{PASSWORD, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The walk runs once per database; its screenshots go to target/browser/<database>/.
static DATABASE: std::sync::Mutex<&str> = std::sync::Mutex::new("sqlite");

fn screenshots() -> std::path::PathBuf {
    let database = *DATABASE.lock().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("browser").join(database);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn start_browser() -> Option<(Driver, Client)> {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var_os("AUTOCHANNEL_REQUIRE_BROWSER").is_none(),
            "AUTOCHANNEL_REQUIRE_BROWSER is set but {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
        );
        eprintln!("browser walk skipped: {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": CHROMIUM, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--lang=zh-CN"] }),
    );
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        if let Ok(client) = ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await {
            return Some((driver, client));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start at {url}");
}

async fn sign_in(browser: &Client, app: &TestApp, username: &str) {
    browser.delete_all_cookies().await.unwrap();
    browser.goto(&app.url("/login")).await.unwrap();
    browser.find(Locator::Css("input[name=username]")).await.unwrap().send_keys(username).await.unwrap();
    browser.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    browser.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_until(browser, "document.querySelector('.who') !== null", &format!("{username} is signed in")).await;
}

async fn wait_until(browser: &Client, condition: &str, what: &str) {
    for _ in 0..100 {
        if browser.execute(&format!("return !!({condition});"), vec![]).await.unwrap() == Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shot = browser.screenshot().await.unwrap_or_default();
    std::fs::write(screenshots().join("failed.png"), shot).unwrap();
    panic!("in the browser: {what} (see target/browser/failed.png)");
}

/// Sets form fields by name inside `form` (dates and selects included) the way a user's input would.
async fn fill(browser: &Client, form: &str, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        let script = "const f = document.querySelector(arguments[0]); const el = f && f.querySelector(`[name=\"${arguments[1]}\"]`); \
                      if (!el) return false; if (el.type === 'checkbox') { el.checked = arguments[2] === 'on'; } else { el.value = arguments[2]; } \
                      el.dispatchEvent(new Event('input', { bubbles: true })); el.dispatchEvent(new Event('change', { bubbles: true })); return true;";
        let found = browser.execute(script, vec![json!(form), json!(name), json!(value)]).await.unwrap();
        assert_eq!(found, Value::Bool(true), "field {name} in {form}");
    }
}

/// Clicks the submit button of `form` and waits for the next page.
async fn submit(browser: &Client, form: &str) {
    let before = browser.current_url().await.unwrap();
    browser.execute("window.__leaving = true;", vec![]).await.unwrap();
    browser.find(Locator::Css(&format!("{form} button[type=submit]"))).await.unwrap().click().await.unwrap();
    for _ in 0..100 {
        let left = browser.execute("return window.__leaving !== true;", vec![]).await.unwrap_or(Value::Bool(false));
        if left == Value::Bool(true)
            && browser.execute("return document.readyState;", vec![]).await.unwrap() == "complete"
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("submitting {form} on {before} led nowhere");
}

async fn shoot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    assert!(png.len() > 1000, "a screenshot of {name}");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// Every chart on the page drawn (an SVG with shapes inside) and no script error recorded.
async fn charts_drawn(browser: &Client, page: &str) {
    wait_until(
        browser,
        "document.querySelectorAll('.chart').length > 0 && [...document.querySelectorAll('.chart')].every(c => c.dataset.drawn === 'true' && c.querySelectorAll('svg path').length > 3)",
        &format!("every chart on {page} is drawn"),
    )
    .await;
    let errors = browser.execute("return window.__pageErrors || [];", vec![]).await.unwrap();
    assert_eq!(errors, json!([]), "script errors on {page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_walks_its_pages_in_a_real_browser() {
    let Some((_driver, browser)) = start_browser().await else { return };
    for (backend, name) in [(common::Backend::Sqlite, "sqlite"), (common::Backend::Postgres, "postgres")] {
        *DATABASE.lock().unwrap() = name;
        walk(&browser, backend).await;
    }
    browser.close().await.unwrap();
}

/// Every role's pages on one database.
async fn walk(browser: &Client, backend: common::Backend) {
    let app = TestApp::start(backend).await;
    let status = Command::new(env!("CARGO_BIN_EXE_autochannel"))
        .args(["demo-data", "--dealers", "4", "--policies", "400"])
        .env("DATABASE_URL", &app.database_url)
        .env("AUTOCHANNEL_LOG", "error")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    autochannel::demo::create_logins(&app.db, PASSWORD, chrono::Utc::now().date_naive()).await.unwrap();

    for role in ["admin", "manager", "underwriter", "adjuster", "claims_lead", "assistant", "dealer"] {
        sign_in(browser, &app, role).await;
        let title = browser.title().await.unwrap();
        assert!(title.contains("autochannel"), "{role}'s start page: {title}");
        shoot(browser, &format!("home-{role}")).await;
    }

    // The channel manager: portfolio, the first dealer's dashboard with its charts, the survey comparison.
    sign_in(browser, &app, "manager").await;
    browser.goto(&app.url("/portfolio")).await.unwrap();
    wait_until(browser, "document.querySelector('table.portfolio tbody tr') !== null", "the portfolio lists dealers")
        .await;
    shoot(browser, "portfolio").await;
    let dashboard = browser
        .execute(
            "return document.querySelector('table.portfolio a[href*=\"/dashboard\"]').getAttribute('href');",
            vec![],
        )
        .await
        .unwrap();
    browser.goto(&app.url(dashboard.as_str().unwrap())).await.unwrap();
    charts_drawn(browser, "the dealer dashboard").await;
    shoot(browser, "dashboard").await;
    browser.goto(&app.url("/surveys")).await.unwrap();
    let quarter_has_surveys =
        browser.execute("return document.querySelector('.survey-table') !== null;", vec![]).await.unwrap();
    if quarter_has_surveys == Value::Bool(true) {
        charts_drawn(browser, "the survey comparison").await;
    }
    shoot(browser, "surveys").await;

    // Peer analytics: the portfolio by composite score, sorted by loss ratio, then the worst dealer's position
    // among its peers and its losses developed to ultimate.
    browser.goto(&app.url("/analytics?sort=loss_ratio&dir=desc")).await.unwrap();
    wait_until(browser, "document.querySelector('#analytics-table tbody tr') !== null", "the analytics list dealers")
        .await;
    shoot(browser, "analytics").await;
    let worst = browser
        .execute(
            "return document.querySelector('#analytics-table a[href^=\"/analytics/dealers/\"]').getAttribute('href');",
            vec![],
        )
        .await
        .unwrap();
    browser.goto(&app.url(worst.as_str().unwrap())).await.unwrap();
    charts_drawn(browser, "the dealer's peer analytics").await;
    wait_until(browser, "document.querySelectorAll('#position-table tbody tr').length === 10", "ten compared figures")
        .await;
    shoot(browser, "analytics-dealer").await;

    // The sales assistant on a phone: a note in a few taps, confirmed, and in the manager's feed.
    browser.set_window_size(390, 844).await.unwrap();
    sign_in(browser, &app, "assistant").await;
    browser.goto(&app.url("/feedback/new")).await.unwrap();
    browser.find(Locator::Css("input[name=category][value=competitor]")).await.unwrap().click().await.unwrap();
    browser
        .find(Locator::Css("textarea[name=body]"))
        .await
        .unwrap()
        .send_keys("竞品本周新车险加送两次保养")
        .await
        .unwrap();
    shoot(browser, "feedback-phone").await;
    browser.find(Locator::Css("#feedback-form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_until(
        browser,
        "location.search.includes('sent=') && document.querySelector('.notice') !== null",
        "the note is confirmed",
    )
    .await;
    shoot(browser, "feedback-sent").await;
    // Quote → issue on the phone.
    browser.goto(&app.url("/quotes/new")).await.unwrap();
    fill(
        browser,
        "main form",
        &[
            ("vin", "1M8GDM9AXKP042788"),
            ("plate", "粤B7K321"),
            ("first_registration", "2024-03-15"),
            ("new_car_price", "200000.00"),
            ("seats", "5"),
            ("owner_name", "陈立"),
            ("owner_id_number", "11010519491231002X"),
            ("owner_phone", "13800138000"),
            ("compulsory", "on"),
            ("vehicle_damage", "on"),
            ("third_party_limit", "1000000"),
        ],
    )
    .await;
    shoot(browser, "quote-form-phone").await;
    submit(browser, "main form").await;
    wait_until(
        browser,
        "location.pathname.startsWith('/quotes/') && document.querySelector('form[action$=\"/issue\"]') !== null",
        "the quote is priced and can be issued",
    )
    .await;
    shoot(browser, "quote-priced").await;
    submit(browser, "form[action$=\"/issue\"]").await;
    wait_until(browser, "location.pathname.startsWith('/policies/')", "issuing shows the policy").await;
    shoot(browser, "policy-issued").await;

    // A claim through every stage: the assistant reports it on a policy in force; the claims lead
    // registers, assesses, surveys, settles, pays and closes it on the claim page.
    let seller = app.token_with("assistant", PASSWORD).await;
    let in_force: Value =
        app.get_json("/api/v1/policies?status=in_force&product=commercial&per_page=200", &seller).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let mut policy = Value::Null;
    for item in in_force["items"].as_array().unwrap() {
        if item["start_date"].as_str().unwrap() >= today.as_str() {
            continue;
        }
        let detail: Value = app.get_json(&format!("/api/v1/policies/{}", item["id"]), &seller).await;
        if detail["coverages"].as_array().is_some_and(|c| c.iter().any(|c| c["code"] == "vehicle_damage")) {
            policy = detail;
            break;
        }
    }
    assert!(!policy.is_null(), "a demo policy with vehicle damage in force since before today");
    browser.goto(&app.url("/claims/new")).await.unwrap();
    let accident = (chrono::Utc::now() + chrono::Duration::hours(7)).format("%Y-%m-%dT%H:%M").to_string();
    fill(
        browser,
        "main form",
        &[
            ("policy_no", policy["policy_no"].as_str().unwrap()),
            ("accident_at", &accident),
            ("place", "深南大道"),
            ("description", "追尾，前保险杠受损"),
            ("reporter_name", "陈立"),
            ("reporter_phone", "13800138000"),
        ],
    )
    .await;
    submit(browser, "main form").await;
    wait_until(browser, "/^\\/claims\\/\\d+$/.test(location.pathname)", "the report opens the claim").await;
    let claim_path = browser.current_url().await.unwrap().path().to_string();
    shoot(browser, "claim-reported").await;
    browser.set_window_size(1280, 900).await.unwrap();
    sign_in(browser, &app, "claims_lead").await;
    let lead = app.token_with("claims_lead", PASSWORD).await;
    let stage = |expected: &'static str| {
        let (app, lead, claim_path) = (&app, &lead, &claim_path);
        async move {
            let file: Value = app.get_json(&format!("/api/v1{claim_path}"), lead).await;
            assert_eq!(file["stage"], expected, "{file}");
            file
        }
    };
    browser.goto(&app.url(&claim_path)).await.unwrap();
    fill(browser, "form[action$=\"/register\"]", &[("reserve.vehicle_damage", "3000")]).await;
    submit(browser, "form[action$=\"/register\"]").await;
    stage("registered").await;
    fill(browser, "form[action$=\"/loss-items\"]", &[("description", "前保险杠"), ("unit_price", "2800.00")]).await;
    submit(browser, "form[action$=\"/loss-items\"]").await;
    submit(browser, "form[action$=\"/survey\"]").await;
    stage("surveyed").await;
    submit(browser, "form[action$=\"/settle\"]").await;
    let settled = stage("settled").await;
    shoot(browser, "claim-settled").await;
    let payable = settled["reserve"].as_str().unwrap().to_string();
    if payable != "0.00" {
        fill(browser, "form[action$=\"/payments\"]", &[("payee", "陈立"), ("amount", &payable)]).await;
        submit(browser, "form[action$=\"/payments\"]").await;
    }
    submit(browser, "form[action$=\"/close\"]").await;
    stage("closed").await;
    shoot(browser, "claim-closed").await;

    sign_in(browser, &app, "manager").await;
    browser.goto(&app.url("/feedback")).await.unwrap();
    let feed = browser.source().await.unwrap();
    assert!(feed.contains("竞品本周新车险加送两次保养"), "the manager sees the note in the feed");
}

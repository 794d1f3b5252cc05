//! The pages in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
//! driven over WebDriver. Every role signs in and its start page renders; a channel manager's
//! dealer dashboard and the satisfaction comparison draw every chart without a script error; a
//! sales assistant logs feedback on a phone-sized window. Screenshots go to `target/browser/`.
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

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("browser");
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
    let app = TestApp::start(common::Backend::Sqlite).await;
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
        sign_in(&browser, &app, role).await;
        let title = browser.title().await.unwrap();
        assert!(title.contains("autochannel"), "{role}'s start page: {title}");
        shoot(&browser, &format!("home-{role}")).await;
    }

    // The channel manager: portfolio, the first dealer's dashboard with its charts, the survey comparison.
    sign_in(&browser, &app, "manager").await;
    browser.goto(&app.url("/portfolio")).await.unwrap();
    wait_until(&browser, "document.querySelector('table.portfolio tbody tr') !== null", "the portfolio lists dealers")
        .await;
    shoot(&browser, "portfolio").await;
    let dashboard = browser
        .execute(
            "return document.querySelector('table.portfolio a[href*=\"/dashboard\"]').getAttribute('href');",
            vec![],
        )
        .await
        .unwrap();
    browser.goto(&app.url(dashboard.as_str().unwrap())).await.unwrap();
    charts_drawn(&browser, "the dealer dashboard").await;
    shoot(&browser, "dashboard").await;
    browser.goto(&app.url("/surveys")).await.unwrap();
    let quarter_has_surveys =
        browser.execute("return document.querySelector('.survey-table') !== null;", vec![]).await.unwrap();
    if quarter_has_surveys == Value::Bool(true) {
        charts_drawn(&browser, "the survey comparison").await;
    }
    shoot(&browser, "surveys").await;

    // The sales assistant on a phone: a note in a few taps, confirmed, and in the manager's feed.
    browser.set_window_size(390, 844).await.unwrap();
    sign_in(&browser, &app, "assistant").await;
    browser.goto(&app.url("/feedback/new")).await.unwrap();
    browser.find(Locator::Css("input[name=category][value=competitor]")).await.unwrap().click().await.unwrap();
    browser
        .find(Locator::Css("textarea[name=body]"))
        .await
        .unwrap()
        .send_keys("竞品本周新车险加送两次保养")
        .await
        .unwrap();
    shoot(&browser, "feedback-phone").await;
    browser.find(Locator::Css("#feedback-form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_until(
        &browser,
        "location.search.includes('sent=') && document.querySelector('.notice') !== null",
        "the note is confirmed",
    )
    .await;
    shoot(&browser, "feedback-sent").await;
    browser.set_window_size(1280, 900).await.unwrap();
    sign_in(&browser, &app, "manager").await;
    browser.goto(&app.url("/feedback")).await.unwrap();
    let feed = browser.source().await.unwrap();
    assert!(feed.contains("竞品本周新车险加送两次保养"), "the manager sees the note in the feed");
    browser.close().await.unwrap();
}

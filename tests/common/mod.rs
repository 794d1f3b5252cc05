//! `TestApp`: a fresh database (its own SQLite file, or its own PostgreSQL
//! database), the real migrations, the real server on 127.0.0.1:0, and
//! helpers to sign users in.

#![allow(dead_code)]

use std::net::SocketAddr;

use autochannel::app;
use autochannel::config::ServeConfig;
use autochannel::db;
use autochannel::domain::auth::{Role, hash_password};
use autochannel::state::AppState;
use autochannel::store::audit::Actor;
use autochannel::store::users::{self, NewUser};
use chrono::Utc;
use reqwest::redirect::Policy;
use sea_orm::{ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "test-password-1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub db: DatabaseConnection,
    pub backend: Backend,
    pub database_url: String,
    /// A client with no cookies that does not follow redirects.
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

/// Runs each named `async fn(TestApp)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestApp::start($crate::common::Backend::Sqlite).await).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestApp::start($crate::common::Backend::Postgres).await).await;
                }
            )+
        }
    };
}

/// Settings for tests: as shipped, with a quick lock window.
pub fn test_config() -> ServeConfig {
    ServeConfig { bind: "127.0.0.1:0".parse().expect("address"), ..ServeConfig::default() }
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, test_config()).await
    }

    pub async fn start_with(backend: Backend, mut config: ServeConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        // Each test keeps its claim documents in its own directory.
        if config.document_dir == ServeConfig::default().document_dir {
            config.document_dir = dir.path().join("documents");
        }
        let (database_url, postgres) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.path().join("test.db").display()), None),
            Backend::Postgres => {
                let (url, admin, name) = create_postgres_database().await;
                (url, Some((admin, name)))
            }
        };
        let db = db::connect(&database_url).await.expect("connect to the test database");
        db::migrate(&db).await.expect("migrate");
        let listener = tokio::net::TcpListener::bind(config.bind).await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let (shutdown, on_shutdown) = oneshot::channel::<()>();
        let state = AppState::new(db.clone(), config);
        tokio::spawn(async move {
            let _ = app::serve(listener, state, async move {
                let _ = on_shutdown.await;
            })
            .await;
        });
        TestApp {
            base: format!("http://{addr}"),
            db,
            backend,
            database_url,
            client: reqwest::Client::builder().redirect(Policy::none()).build().expect("client"),
            shutdown: Some(shutdown),
            postgres,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Adds a dealer directly (dealer maintenance comes with underwriting); returns its id.
    pub async fn add_dealer(&self, code: &str, channel_manager: Option<i64>) -> i64 {
        let now = Utc::now();
        let row = entity::dealers::ActiveModel {
            code: Set(code.to_string()),
            name: Set(format!("{code} 4S店")),
            dealer_group: Set("测试集团".into()),
            region: Set("广东-深圳".into()),
            brands: Set(r#"["丰田"]"#.into()),
            has_repair_shop: Set(true),
            status: Set("active".into()),
            channel_manager_id: Set(channel_manager),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        entity::dealers::Entity::insert(row).exec(&self.db).await.expect("insert dealer").last_insert_id
    }

    /// Adds a user with the test password; returns its id.
    pub async fn add_user(&self, username: &str, role: Role, dealers: &[&str]) -> i64 {
        let hash = hash_password(PASSWORD).expect("hash");
        let new = NewUser {
            username: username.to_string(),
            display_name: format!("{username} 测试"),
            role,
            password_hash: hash,
            dealer_codes: dealers.iter().map(|d| d.to_string()).collect(),
            authority_limit: None,
        };
        let tx = autochannel::store::begin_write(&self.db).await.expect("begin");
        let user = users::create(&tx, &Actor::system("test"), new).await.expect("create user");
        tx.commit().await.expect("commit");
        user.id
    }

    /// Signs in through the API and returns the bearer token.
    pub async fn token(&self, username: &str) -> String {
        self.token_with(username, PASSWORD).await
    }

    pub async fn token_with(&self, username: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), 200, "login of {username}");
        let body: serde_json::Value = response.json().await.expect("login body");
        body["token"].as_str().expect("token").to_string()
    }

    /// GETs `path` with a bearer token and returns the JSON body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let response = self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request");
        response.json().await.expect("JSON body")
    }

    /// A browser-like client with cookies, not following redirects.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("browser")
    }

    /// Signs in through the sign-in page; returns the browser and the CSRF token of its session.
    pub async fn browser_login(&self, username: &str) -> (reqwest::Client, String) {
        let browser = self.browser();
        let page = browser.get(self.url("/login")).send().await.expect("login page").text().await.expect("text");
        let token = hidden_field(&page, "csrf").expect("login form token");
        let response = browser
            .post(self.url("/login"))
            .form(&[("username", username), ("password", PASSWORD), ("csrf", &token), ("next", "/")])
            .send()
            .await
            .expect("login post");
        assert_eq!(response.status(), 303, "page sign-in of {username} redirects");
        let home = browser.get(self.url("/account")).send().await.expect("account").text().await.expect("text");
        let csrf = hidden_field(&home, "csrf").expect("session csrf token");
        (browser, csrf)
    }

    /// Recomputes the monitoring totals from the facts, as `autochannel monitoring rebuild` does after facts were
    /// changed behind the service's back (tests move policy dates with `sql`).
    pub async fn rebuild_totals(&self) {
        let targets = autochannel::config::ServeConfig::default().service_targets();
        autochannel::store::totals::rebuild(&self.db, &targets).await.expect("rebuild the monitoring totals");
    }

    /// The monitoring totals equal the totals recomputed from the facts.
    pub async fn assert_totals_exact(&self) {
        let targets = autochannel::config::ServeConfig::default().service_targets();
        let differences = autochannel::store::totals::verify(&self.db, &targets).await.expect("verify");
        assert!(differences.is_empty(), "the monitoring totals drifted from the facts: {differences:#?}");
    }

    /// Runs SQL directly, as someone with database access would.
    pub async fn sql(&self, statement: &str) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
        self.db.execute_unprepared(statement).await
    }
}

/// The value of `<input type="hidden" name=NAME value=...>` in a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

async fn create_postgres_database() -> (String, String, String) {
    let admin = std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: the suite also runs on PostgreSQL (see README; .cargo/config.toml sets a default)",
    );
    let name = format!("ac_test_{}_{}", std::process::id(), rand::random::<u64>());
    let conn = Database::connect(&admin).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at TEST_DATABASE_URL={admin} is unreachable ({e}); start it as the README says")
    });
    conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
    let _ = conn.close().await;
    let base = admin.rsplit_once('/').map(|(base, _)| base.to_string()).unwrap_or(admin.clone());
    (format!("{base}/{name}"), admin, name)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some((admin, name)) = self.postgres.take() {
            // Drop runs inside the test's runtime; a thread with its own runtime can still block on the drop.
            let _ = std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                runtime.block_on(async move {
                    if let Ok(conn) = Database::connect(&admin).await {
                        let _ =
                            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                        let _ = conn.close().await;
                    }
                });
            })
            .join();
        }
    }
}

//! The command line as an operator uses it: migrations, users, demo data,
//! audit verification, bad configuration, and `serve --demo` end to end.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::TestApp;

on_both_databases!(
    migrate_status_lists_the_applied_migrations,
    users_are_added_listed_and_disabled,
    demo_data_is_deterministic_and_refuses_a_filled_database,
    serve_demo_signs_in_every_role_with_its_navigation,
    sigterm_stops_the_server_cleanly,
    a_backup_is_a_consistent_copy_that_verifies,
    monitoring_verify_finds_a_changed_total_and_rebuild_repairs_it,
);

async fn monitoring_verify_finds_a_changed_total_and_rebuild_repairs_it(app: TestApp) {
    let (ok, _, err) = run(autochannel(&app).args(["demo-data", "--dealers", "2", "--policies", "120"]));
    assert!(ok, "{err}");
    let (ok, out, err) = run(autochannel(&app).args(["monitoring", "verify"]));
    assert!(ok && out.starts_with("OK"), "demo data leaves exact totals: {out} {err}");
    // A total changed behind the service's back is named, and the command fails.
    app.sql("UPDATE dealer_totals SET written_fen = written_fen + 1 WHERE written_fen <> 0").await.unwrap();
    let (ok, out, _) = run(autochannel(&app).args(["monitoring", "verify"]));
    assert!(!ok && out.contains("DIFFERENCE: dealer") && out.contains("differences"), "{out}");
    let (ok, out, err) = run(autochannel(&app).args(["monitoring", "rebuild"]));
    assert!(ok && out.contains("monitoring totals rebuilt"), "{out} {err}");
    let (ok, out, _) = run(autochannel(&app).args(["monitoring", "verify"]));
    assert!(ok && out.starts_with("OK"), "{out}");
}

async fn a_backup_is_a_consistent_copy_that_verifies(app: TestApp) {
    use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait};
    let (ok, _, err) = run(autochannel(&app).args(["demo-data", "--dealers", "3", "--policies", "150"]));
    assert!(ok, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.copy");
    let (ok, out, err) = run(autochannel(&app).arg("backup").arg(&file));
    assert!(ok, "{err}");
    assert!(out.contains("backup written"), "{out}");
    let (ok, _, err) = run(autochannel(&app).arg("backup").arg(&file));
    assert!(!ok && err.contains("never overwrites"), "an existing file is kept: {err}");
    // Restore the copy where an operator would, then check it as they would.
    let (copy_url, cleanup) = match app.backend {
        common::Backend::Sqlite => (format!("sqlite://{}", file.display()), None),
        common::Backend::Postgres => {
            let admin = std::env::var("TEST_DATABASE_URL").unwrap();
            let name = format!("ac_restore_{}_{}", std::process::id(), rand::random::<u32>());
            let conn = Database::connect(&admin).await.unwrap();
            conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
            let url = format!("{base}/{name}");
            let status = Command::new("pg_restore").args(["--no-owner", "--dbname", &url]).arg(&file).status().unwrap();
            assert!(status.success(), "pg_restore");
            (url, Some((conn, name)))
        }
    };
    let on_copy = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_autochannel"));
        command.env("DATABASE_URL", &copy_url).env("AUTOCHANNEL_LOG", "warn").args(args);
        run(&mut command)
    };
    let (ok, out, err) = on_copy(&["audit", "verify"]);
    assert!(ok && out.starts_with("OK"), "{out}{err}");
    let (ok, out, err) = on_copy(&["commission", "reconcile"]);
    assert!(ok, "{out}{err}");
    let copy = Database::connect(&copy_url).await.unwrap();
    assert_eq!(
        entity::policies::Entity::find().count(&copy).await.unwrap(),
        entity::policies::Entity::find().count(&app.db).await.unwrap()
    );
    assert_eq!(
        entity::audit_log::Entity::find().count(&copy).await.unwrap(),
        entity::audit_log::Entity::find().count(&app.db).await.unwrap(),
        "the whole chain, sealed before the copy"
    );
    assert_eq!(
        entity::feedback::Entity::find().count(&copy).await.unwrap(),
        entity::feedback::Entity::find().count(&app.db).await.unwrap()
    );
    let _ = copy.close().await;
    if let Some((conn, name)) = cleanup {
        let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
    }
}

fn autochannel(app: &TestApp) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_autochannel"));
    command.env("DATABASE_URL", &app.database_url).env("AUTOCHANNEL_LOG", "warn");
    command
}

fn run(command: &mut Command) -> (bool, String, String) {
    let output = command.output().expect("run autochannel");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

async fn migrate_status_lists_the_applied_migrations(app: TestApp) {
    let (ok, out, _) = run(autochannel(&app).args(["migrate", "status"]));
    assert!(ok);
    assert!(out.contains("m20261122_000001_foundation") && out.contains("Applied"), "{out}");
}

async fn users_are_added_listed_and_disabled(app: TestApp) {
    let mut child = autochannel(&app)
        .args(["user", "add", "--name", "zhou", "--role", "claims_adjuster", "--authority-limit", "50000.00"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"long-password-1\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("added user zhou (claims_adjuster)"));
    let token = app.token_with("zhou", "long-password-1").await;
    assert!(!token.is_empty());

    let (ok, out, _) = run(autochannel(&app).args(["user", "list"]));
    assert!(ok && out.contains("zhou") && out.contains("active"), "{out}");

    let (ok, _, err) =
        run(autochannel(&app).args(["user", "add", "--name", "x", "--role", "pilot"]).stdin(Stdio::null()));
    assert!(!ok);
    assert!(err.contains("--role") && err.contains("claims_adjuster"), "{err}");
    let (ok, _, err) = run(autochannel(&app)
        .args(["user", "add", "--name", "sa1", "--role", "sales_assistant", "--dealer", "NOPE"])
        .stdin(Stdio::null()));
    assert!(!ok);
    assert!(err.contains("password"), "an empty password is refused first: {err}");

    let (ok, out, _) = run(autochannel(&app).args(["user", "disable", "zhou"]));
    assert!(ok, "{out}");
    let (_, out, _) = run(autochannel(&app).args(["user", "list", "--role", "claims_adjuster"]));
    assert!(out.contains("disabled"), "{out}");
    let refused = app.client.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(refused.status(), 401, "disabling ends the user's sessions");
    let (ok, out, _) = run(autochannel(&app).args(["audit", "verify"]));
    assert!(ok && out.starts_with("OK: "), "{out}");
}

async fn demo_data_is_deterministic_and_refuses_a_filled_database(app: TestApp) {
    let (ok, out, err) =
        run(autochannel(&app).args(["demo-data", "--dealers", "30", "--seed", "5", "--policies", "600"]));
    assert!(ok, "{err}");
    assert!(out.contains("30 dealers"), "{out}");
    let policies: Vec<(String, i64)> = {
        use sea_orm::{EntityTrait, QueryOrder};
        entity::policies::Entity::find()
            .order_by_asc(entity::policies::Column::Id)
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.policy_no, p.premium_fen))
            .collect()
    };
    assert!(policies.len() >= 600, "{}", policies.len());
    let (ok, out, _) = run(autochannel(&app).args(["audit", "verify"]));
    assert!(ok && out.starts_with("OK"), "{out}");
    let first: Vec<(String, String, String)> = dealer_rows(&app).await;
    assert_eq!(first.len(), 30);
    let (ok, _, err) = run(autochannel(&app).args(["demo-data", "--dealers", "30", "--seed", "5"]));
    assert!(!ok && err.contains("already has dealers"), "{err}");

    let other = TestApp::start(app.backend).await;
    let (ok, _, _) =
        run(autochannel(&other).args(["demo-data", "--dealers", "30", "--seed", "5", "--policies", "600"]));
    assert!(ok);
    assert_eq!(dealer_rows(&other).await, first, "the same seed gives the same dealers");
    let again: Vec<(String, i64)> = {
        use sea_orm::{EntityTrait, QueryOrder};
        entity::policies::Entity::find()
            .order_by_asc(entity::policies::Column::Id)
            .all(&other.db)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.policy_no, p.premium_fen))
            .collect()
    };
    assert_eq!(again.len(), policies.len(), "the same seed gives the same policies");
    let sample = |rows: &[(String, i64)]| rows.iter().map(|r| r.1).sum::<i64>();
    assert_eq!(sample(&again), sample(&policies));
}

async fn dealer_rows(app: &TestApp) -> Vec<(String, String, String)> {
    use sea_orm::{EntityTrait, QueryOrder};
    entity::dealers::Entity::find()
        .order_by_asc(entity::dealers::Column::Code)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.code, d.name, d.region))
        .collect()
}

/// Starts `autochannel serve` with `args` on a free port; returns the process and its base URL.
async fn spawn_server(app: &TestApp, args: &[&str]) -> (std::process::Child, String) {
    let mut server = autochannel(app)
        .arg("serve")
        .args(args)
        .env("AUTOCHANNEL_BIND", "127.0.0.1:0")
        .env("AUTOCHANNEL_DEMO_PASSWORD", "demo-password-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let base = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("autochannel listening on ").map(str::to_string))
    })
    .await
    .unwrap()
    .expect("the server says where it listens");
    (server, base)
}

async fn sigterm_stops_the_server_cleanly(app: TestApp) {
    let (mut server, base) = spawn_server(&app, &[]).await;
    assert_eq!(reqwest::get(format!("{base}/readyz")).await.unwrap().status(), 200);
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

async fn serve_demo_signs_in_every_role_with_its_navigation(app: TestApp) {
    let (mut server, base) = spawn_server(&app, &["--demo"]).await;
    let expectations = [
        ("admin", "系统管理员", "/admin/users"),
        ("manager", "渠道经理", "/api/docs"),
        ("underwriter", "核保员", "/api/docs"),
        ("adjuster", "理赔员", "/api/docs"),
        ("assistant", "驻店销售助理", "我的门店"),
        ("dealer", "车商人员", "我的门店"),
    ];
    for (username, role_label, nav_mark) in expectations {
        let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let login = browser.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
        assert!(login.contains("登录"));
        let token = common::hidden_field(&login, "csrf").unwrap();
        let home = browser
            .post(format!("{base}/login"))
            .form(&[("username", username), ("password", "demo-password-1"), ("csrf", token.as_str())])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(home.contains(role_label), "{username} sees their role");
        assert!(home.contains(nav_mark), "{username} sees their navigation");
        if username != "admin" {
            assert!(!home.contains("/admin/audit"), "{username} does not see administration");
        }
    }
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::test]
async fn the_sqlite_file_is_created_in_wal_mode_with_foreign_keys() {
    use sea_orm::{ConnectionTrait, Statement};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let db = autochannel::db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    assert!(path.exists(), "the file is created if missing");
    let pragma = |name: &str| {
        let db = db.clone();
        let sql = format!("PRAGMA {name}");
        async move {
            let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
}

#[test]
fn bad_configuration_stops_the_start_naming_the_setting() {
    let bin = env!("CARGO_BIN_EXE_autochannel");
    let output =
        Command::new(bin).args(["migrate", "status"]).env("DATABASE_URL", "mysql://root@localhost/x").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("DATABASE_URL"));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    for (name, value) in [
        ("AUTOCHANNEL_BIND", "not-an-address"),
        ("AUTOCHANNEL_SESSION_HOURS", "0"),
        ("AUTOCHANNEL_SECURE_COOKIES", "maybe"),
    ] {
        let output = Command::new(bin).arg("serve").env("DATABASE_URL", &url).env(name, value).output().unwrap();
        assert!(!output.status.success(), "{name}={value} is refused");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(name),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = Command::new(bin)
        .args(["migrate", "status"])
        .env("DATABASE_URL", &url)
        .env("AUTOCHANNEL_LOG", "[[[")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("AUTOCHANNEL_LOG"));
}

//! The audit trail: every write appends, the chain verifies, the database
//! refuses edits, and tampering by someone who bypasses that is found.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use autochannel::store::audit::{self, Verification};
use common::TestApp;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

on_both_databases!(
    writes_append_records_that_verify,
    the_database_refuses_to_change_or_delete_records,
    a_tampered_record_is_found,
    a_deleted_record_is_found,
    concurrent_writes_keep_one_unbroken_chain,
    administrators_browse_and_filter_the_trail,
    the_server_seals_recorded_changes_onto_the_chain_by_itself,
    a_large_inbox_is_sealed_whole_in_batches,
);

async fn the_server_seals_recorded_changes_onto_the_chain_by_itself(app: TestApp) {
    for name in ["s1", "s2", "s3"] {
        app.add_user(name, Role::Underwriter, &[]).await;
    }
    // Nobody asks for the trail: the running server's sealer moves the records onto the chain.
    let mut chained = 0;
    for _ in 0..50 {
        chained = entity::audit_log::Entity::find().count(&app.db).await.unwrap();
        if chained >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(chained, 5, "defaults, filed rates and three users, sealed within seconds");
    assert_eq!(entity::audit_inbox::Entity::find().count(&app.db).await.unwrap(), 0, "the inbox is empty again");
    let creates = chained_ids(&app, "user").await;
    assert_eq!(creates.len(), 3);
    assert!(matches!(verify(&app).await, Verification::Intact { records: 5 }));
    // Sealing again finds nothing to do and changes nothing.
    assert_eq!(audit::seal(&app.db).await.unwrap(), 0);
}

async fn a_large_inbox_is_sealed_whole_in_batches(app: TestApp) {
    audit::seal(&app.db).await.unwrap();
    let before = entity::audit_log::Entity::find().count(&app.db).await.unwrap();
    // 623 = a full batch of 500, then 123 in statements of 50, 50, 16, 4, 2 and 1; deletes of 100 ids, the last
    // one padded.
    let tx = autochannel::store::begin_write(&app.db).await.unwrap();
    let changes = (0..623).map(|i| audit::Change::new("test", "thing", i));
    audit::append_all(&tx, &audit::Actor::system("test"), changes).await.unwrap();
    tx.commit().await.unwrap();
    audit::seal(&app.db).await.unwrap();
    assert_eq!(entity::audit_inbox::Entity::find().count(&app.db).await.unwrap(), 0, "the inbox is empty");
    let after = entity::audit_log::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(after, before + 623, "every record sealed once");
    assert!(matches!(verify(&app).await, Verification::Intact { records } if records == after as i64));
    let things = chained_ids(&app, "thing").await;
    let expected: Vec<String> = (0..623).map(|i| i.to_string()).collect();
    assert_eq!(things, expected, "in the order recorded");
}

/// The entity ids of the chained records about entities of `kind`, in chain order.
async fn chained_ids(app: &TestApp, kind: &str) -> Vec<String> {
    entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Entity.eq(kind))
        .order_by_asc(entity::audit_log::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| r.entity_id)
        .collect()
}

async fn verify(app: &TestApp) -> Verification {
    audit::verify(&app.db).await.unwrap()
}

async fn writes_append_records_that_verify(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    let token = app.token("root").await;
    let body =
        json!({ "username": "zhou", "display_name": "周宁", "role": "underwriter", "password": "long-password-1" });
    let created: Value = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.client
        .patch(app.url(&format!("/api/v1/users/{}", created["id"])))
        .bearer_auth(&token)
        .json(&json!({ "version": 1, "display_name": "周宁宁" }))
        .send()
        .await
        .unwrap();
    let trail: Value = app.get_json(&format!("/api/v1/audit?entity=user&entity_id={}", created["id"]), &token).await;
    let items = trail["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "update");
    assert_eq!(items[0]["actor"], "root");
    assert_eq!(items[0]["before"]["display_name"], "周宁");
    assert_eq!(items[0]["after"]["display_name"], "周宁宁");
    assert_eq!(items[1]["action"], "create");
    assert!(items[1]["after"].get("password_hash").is_none(), "no secrets in the trail");
    let status: Value = app.get_json("/api/v1/audit/verify", &token).await;
    assert_eq!(status["intact"], true);
    assert_eq!(
        status["records"], 6,
        "default rating tables, default filed commission rates, create root, login, create zhou, update zhou"
    );
}

async fn the_database_refuses_to_change_or_delete_records(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    audit::seal(&app.db).await.unwrap();
    assert!(app.sql("UPDATE audit_log SET actor = 'someone-else' WHERE id = 1").await.is_err());
    assert!(app.sql("DELETE FROM audit_log WHERE id = 1").await.is_err());
    assert!(matches!(verify(&app).await, Verification::Intact { records: 3 }));
}

async fn drop_guards(app: &TestApp) {
    match app.backend {
        common::Backend::Sqlite => {
            app.sql("DROP TRIGGER audit_log_no_update").await.unwrap();
            app.sql("DROP TRIGGER audit_log_no_delete").await.unwrap();
        }
        common::Backend::Postgres => {
            app.sql("DROP TRIGGER audit_log_append_only ON audit_log").await.unwrap();
        }
    }
}

async fn a_tampered_record_is_found(app: TestApp) {
    for name in ["a1", "a2", "a3"] {
        app.add_user(name, Role::Underwriter, &[]).await;
    }
    audit::seal(&app.db).await.unwrap();
    drop_guards(&app).await;
    app.sql("UPDATE audit_log SET after_json = replace(after_json, 'underwriter', 'administrator') WHERE id = 3")
        .await
        .unwrap();
    match verify(&app).await {
        Verification::Broken { checked, first_break } => {
            assert_eq!(checked, 2);
            assert!(first_break.to_string().contains("record 3 was changed"), "{first_break}");
        }
        other => panic!("tampering went unnoticed: {other:?}"),
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_autochannel"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(!output.status.success(), "audit verify exits non-zero on a broken chain");
    assert!(String::from_utf8_lossy(&output.stdout).contains("record 3 was changed"));
}

async fn a_deleted_record_is_found(app: TestApp) {
    for name in ["a1", "a2", "a3"] {
        app.add_user(name, Role::Underwriter, &[]).await;
    }
    audit::seal(&app.db).await.unwrap();
    drop_guards(&app).await;
    app.sql("DELETE FROM audit_log WHERE id = 2").await.unwrap();
    match verify(&app).await {
        Verification::Broken { first_break, .. } => {
            assert!(first_break.to_string().contains("missing"), "{first_break}")
        }
        other => panic!("deletion went unnoticed: {other:?}"),
    }
    // Cutting records off the end leaves no gap, but the chain head still remembers the last one.
    app.sql("DELETE FROM audit_log WHERE id > 1").await.unwrap();
    match verify(&app).await {
        Verification::Broken { first_break, .. } => {
            assert!(first_break.to_string().contains("chain head"), "{first_break}")
        }
        other => panic!("cutting off the end went unnoticed: {other:?}"),
    }
}

async fn concurrent_writes_keep_one_unbroken_chain(app: TestApp) {
    for i in 0..8 {
        app.add_user(&format!("u{i}"), Role::Underwriter, &[]).await;
    }
    let logins = (0..8).map(|i| {
        let client = app.client.clone();
        let url = app.url("/api/v1/auth/login");
        async move {
            client
                .post(url)
                .json(&json!({ "username": format!("u{i}"), "password": common::PASSWORD }))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_join_all(logins).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(matches!(verify(&app).await, Verification::Intact { records: 18 }));
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    results
}

async fn administrators_browse_and_filter_the_trail(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    app.add_user("zhou", Role::Underwriter, &[]).await;
    let (browser, _) = app.browser_login("root").await;
    let page = browser.get(app.url("/admin/audit?action=create&verify=1")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("哈希链完整"));
    assert!(page.contains("zhou"));
    assert!(!page.contains("<td data-label=\"操作\">login</td>"), "the filter keeps only creations");
    let zhou = app.token("zhou").await;
    let refused = app.client.get(app.url("/api/v1/audit")).bearer_auth(&zhou).send().await.unwrap();
    assert_eq!(refused.status(), 403);
}

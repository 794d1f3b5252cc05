//! Dealer maintenance: forms and API for administrators and channel managers,
//! CSV import that takes all rows or none, and sales qualifications.

// A failed unwrap is a failed test: that is what tests are for.
#![allow(clippy::unwrap_used)]

mod common;

use autochannel::domain::auth::Role;
use common::TestApp;
use serde_json::{Value, json};

on_both_databases!(
    administrators_create_dealers_for_a_channel_manager,
    channel_managers_create_and_edit_only_their_own_dealers,
    a_stale_dealer_change_is_refused,
    a_csv_import_takes_every_row_or_none,
    the_import_page_lists_every_problem_by_line,
    qualifications_are_recorded_for_sales_assistants,
    the_dealer_form_creates_and_edits,
    channel_managers_record_their_assistants_certificates,
);

fn dealer(code: &str) -> Value {
    json!({ "code": code, "name": "深圳丰田南山4S店", "dealer_group": "广汇汽车", "region": "广东-深圳",
            "brands": ["丰田"], "has_repair_shop": true, "status": "active" })
}

const HEADER: &str = "code,name,dealer_group,region,brands,has_repair_shop,status,channel_manager\n";

async fn administrators_create_dealers_for_a_channel_manager(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    let manager = app.add_user("cm1", Role::ChannelManager, &[]).await;
    let token = app.token("root").await;
    let mut body = dealer("sz-001");
    body["channel_manager"] = json!("cm1");
    let response = app.client.post(app.url("/api/v1/dealers")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["code"], "SZ-001", "codes are stored in capitals");
    assert_eq!(created["channel_manager_id"], manager);
    body["channel_manager"] = json!("nobody");
    body["code"] = json!("SZ-002");
    let refused = app.client.post(app.url("/api/v1/dealers")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(refused.json::<Value>().await.unwrap()["errors"][0]["code"], "unknown_manager");
    let twice =
        app.client.post(app.url("/api/v1/dealers")).bearer_auth(&token).json(&dealer("SZ-001")).send().await.unwrap();
    assert_eq!(twice.json::<Value>().await.unwrap()["errors"][0]["code"], "taken");
    let cm = app.token("cm1").await;
    let listed: Value = app.get_json("/api/v1/dealers", &cm).await;
    assert_eq!(listed["total"], 1, "the new dealer is in its manager's scope at once");
}

async fn channel_managers_create_and_edit_only_their_own_dealers(app: TestApp) {
    let me = app.add_user("cm1", Role::ChannelManager, &[]).await;
    let other = app.add_user("cm2", Role::ChannelManager, &[]).await;
    let theirs = app.add_dealer("D-THEIRS", Some(other)).await;
    let token = app.token("cm1").await;
    let created: Value = app
        .client
        .post(app.url("/api/v1/dealers"))
        .bearer_auth(&token)
        .json(&dealer("D-MINE"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["channel_manager_id"], me, "a channel manager owns what they create");
    let mut for_other = dealer("D-GIFT");
    for_other["channel_manager"] = json!("cm2");
    let refused =
        app.client.post(app.url("/api/v1/dealers")).bearer_auth(&token).json(&for_other).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let change = json!({ "version": 1, "name": "改名4S店", "dealer_group": "永达汽车", "region": "广东-深圳", "brands": ["丰田", "雷克萨斯"],
        "has_repair_shop": false, "status": "remediation", "channel_manager": "cm2" });
    let mine = app
        .client
        .patch(app.url(&format!("/api/v1/dealers/{}", created["id"])))
        .bearer_auth(&token)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 200);
    let mine: Value = mine.json().await.unwrap();
    assert_eq!(mine["status"], "remediation");
    assert_eq!(mine["channel_manager_id"], me, "only administrators hand a dealer to another manager");
    let hidden = app
        .client
        .patch(app.url(&format!("/api/v1/dealers/{theirs}")))
        .bearer_auth(&token)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404);
    app.add_user("sa", Role::SalesAssistant, &["D-MINE"]).await;
    let sa = app.token("sa").await;
    let forbidden =
        app.client.post(app.url("/api/v1/dealers")).bearer_auth(&sa).json(&dealer("D-SA")).send().await.unwrap();
    assert_eq!(forbidden.status(), 403);
}

async fn a_stale_dealer_change_is_refused(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    let id = app.add_dealer("D001", None).await;
    let token = app.token("root").await;
    let change = |name: &str| json!({ "version": 1, "name": name, "dealer_group": "g", "region": "r", "brands": ["b"], "has_repair_shop": true, "status": "active" });
    let url = app.url(&format!("/api/v1/dealers/{id}"));
    let (a, b) = tokio::join!(
        app.client.patch(&url).bearer_auth(&token).json(&change("甲")).send(),
        app.client.patch(&url).bearer_auth(&token).json(&change("乙")).send()
    );
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
}

async fn import(app: &TestApp, token: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/dealers/import"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn dealer_count(app: &TestApp, token: &str) -> u64 {
    let page: Value = app.get_json("/api/v1/dealers", token).await;
    page["total"].as_u64().unwrap()
}

async fn a_csv_import_takes_every_row_or_none(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    app.add_user("cm001", Role::ChannelManager, &[]).await;
    app.add_dealer("D-OLD", None).await;
    let token = app.token("root").await;
    let bad = format!(
        "{HEADER}D-NEW1,新店一,集团,广东-深圳,丰田,是,正常,cm001\nD-OLD,老店,集团,广东-深圳,丰田,否,正常,\nD-NEW2,新店二,集团,广东-广州,本田,否,正常,nobody\n"
    );
    let refused = import(&app, &token, bad).await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["line 3: code", "line 4: channel_manager"]);
    assert_eq!(dealer_count(&app, &token).await, 1, "nothing was imported from a file with errors");
    let good = format!(
        "{HEADER}D-NEW1,新店一,集团,广东-深圳,丰田,是,正常,cm001\nD-NEW2,新店二,集团,广东-广州,本田|讴歌,否,整改中,\n"
    );
    let imported = import(&app, &token, good).await;
    assert_eq!(imported.status(), 200);
    assert_eq!(imported.json::<Value>().await.unwrap()["imported"], 2);
    assert_eq!(dealer_count(&app, &token).await, 3);
    let wrong_type =
        app.client.post(app.url("/api/v1/dealers/import")).bearer_auth(&token).json(&json!({})).send().await.unwrap();
    assert_eq!(wrong_type.status(), 415);
}

async fn the_import_page_lists_every_problem_by_line(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    let (browser, csrf) = app.browser_login("root").await;
    let upload = |csv: String, csrf: String| {
        let part =
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("dealers.csv").mime_str("text/csv").unwrap();
        browser
            .post(app.url(&format!("/dealers/import?csrf={csrf}")))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    let bad = format!("{HEADER}D-1,店,集团,广东,丰田,maybe,正常,\n");
    let page = upload(bad, csrf.clone()).await.unwrap();
    assert_eq!(page.status(), 422);
    let html = page.text().await.unwrap();
    assert!(html.contains("未导入任何车商") && html.contains("line 2: has_repair_shop"));
    let good = format!("{HEADER}D-1,店,集团,广东-深圳,丰田,是,正常,\n");
    let forged = upload(good.clone(), "forged".into()).await.unwrap();
    assert_eq!(forged.status(), 403, "an upload needs the session's CSRF token");
    let page = upload(good, csrf).await.unwrap().text().await.unwrap();
    assert!(page.contains("已导入车商: 1"));
}

async fn qualifications_are_recorded_for_sales_assistants(app: TestApp) {
    app.add_user("root", Role::Administrator, &[]).await;
    app.add_dealer("D001", None).await;
    let sa = app.add_user("sa", Role::SalesAssistant, &["D001"]).await;
    let uw = app.add_user("uw", Role::Underwriter, &[]).await;
    let token = app.token("root").await;
    let certificate = json!({ "certificate_no": "QC2026000001", "valid_from": "2026-01-01", "valid_to": "2028-12-31" });
    let add = |id: i64, body: Value| {
        app.client.post(app.url(&format!("/api/v1/users/{id}/qualifications"))).bearer_auth(&token).json(&body).send()
    };
    let created = add(sa, certificate.clone()).await.unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.json::<Value>().await.unwrap()["qualifications"][0]["valid_to"], "2028-12-31");
    assert_eq!(
        add(sa, certificate.clone()).await.unwrap().json::<Value>().await.unwrap()["errors"][0]["code"],
        "taken"
    );
    assert_eq!(
        add(uw, json!({ "certificate_no": "QC2", "valid_from": "2026-01-01", "valid_to": "2027-01-01" }))
            .await
            .unwrap()
            .status(),
        422
    );
    let backwards = add(sa, json!({ "certificate_no": "QC3", "valid_from": "2026-01-01", "valid_to": "2025-01-01" }))
        .await
        .unwrap();
    assert_eq!(backwards.json::<Value>().await.unwrap()["errors"][0]["field"], "valid_to");
    let bad_date = add(sa, json!({ "certificate_no": "QC4", "valid_from": "2026-02-30", "valid_to": "2027-01-01" }))
        .await
        .unwrap();
    assert_eq!(bad_date.json::<Value>().await.unwrap()["errors"][0]["field"], "valid_from");
}

async fn the_dealer_form_creates_and_edits(app: TestApp) {
    app.add_user("cm1", Role::ChannelManager, &[]).await;
    let (browser, csrf) = app.browser_login("cm1").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("code", "gz-9"),
        ("name", "广州本田4S店"),
        ("dealer_group", "独立经营"),
        ("region", "广东-广州"),
        ("brands", "本田、讴歌"),
        ("status", "active"),
        ("has_repair_shop", "on"),
    ];
    let created = browser.post(app.url("/dealers")).form(&form).send().await.unwrap();
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let page = browser.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("GZ-9") && page.contains("本田、讴歌"));
    let edit = browser.get(app.url(&format!("{location}/edit"))).send().await.unwrap().text().await.unwrap();
    let version = common::hidden_field(&edit, "version").unwrap();
    let change = [
        ("csrf", csrf.as_str()),
        ("version", &version),
        ("name", ""),
        ("dealer_group", "独立经营"),
        ("region", "广东-广州"),
        ("brands", "本田"),
        ("status", "suspended"),
    ];
    let refused = browser.post(app.url(&location)).form(&change).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("此项必填"));
    let mut change = change.to_vec();
    change[2] = ("name", "广州本田天河4S店");
    let saved = browser.post(app.url(&location)).form(&change).send().await.unwrap();
    assert_eq!(saved.status(), 303);
    let page = browser.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("广州本田天河4S店") && page.contains("暂停合作"));
}

async fn channel_managers_record_their_assistants_certificates(app: TestApp) {
    let cm = app.add_user("cm", Role::ChannelManager, &[]).await;
    let own = app.add_dealer("D001", Some(cm)).await;
    app.add_dealer("D002", None).await;
    let mine = app.add_user("sa1", Role::SalesAssistant, &["D001"]).await;
    let theirs = app.add_user("sa2", Role::SalesAssistant, &["D002"]).await;
    let token = app.token("cm").await;
    let body = json!({ "certificate_no": "QC2026000777", "valid_from": "2026-01-01", "valid_to": "2028-12-31" });
    let response = app
        .client
        .post(app.url(&format!("/api/v1/users/{mine}/qualifications")))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let other = json!({ "certificate_no": "QC2026000778", "valid_from": "2026-01-01", "valid_to": "2028-12-31" });
    let response = app
        .client
        .post(app.url(&format!("/api/v1/users/{theirs}/qualifications")))
        .bearer_auth(&token)
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "not an assistant of the manager's dealers");
    // On the dealer page: the assistant with the certificate, and a form for another.
    let (browser, csrf) = app.browser_login("cm").await;
    let html = browser.get(app.url(&format!("/dealers/{own}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("QC2026000777") && html.contains("资格有效"), "{html}");
    let form = [
        ("csrf", csrf.as_str()),
        ("certificate_no", "QC2026000777"),
        ("valid_from", "2026-01-01"),
        ("valid_to", "2027-01-01"),
    ];
    let taken = browser
        .post(app.url(&format!("/dealers/{own}/sellers/{mine}/qualifications")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), 422, "a certificate number is recorded once");
    let form = [
        ("csrf", csrf.as_str()),
        ("certificate_no", "QC2026000779"),
        ("valid_from", "2027-01-01"),
        ("valid_to", "2026-01-01"),
    ];
    let backwards = browser
        .post(app.url(&format!("/dealers/{own}/sellers/{mine}/qualifications")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(backwards.status(), 422);
    let form = [
        ("csrf", csrf.as_str()),
        ("certificate_no", "QC2026000779"),
        ("valid_from", "2029-01-01"),
        ("valid_to", "2031-12-31"),
    ];
    let added = browser
        .post(app.url(&format!("/dealers/{own}/sellers/{mine}/qualifications")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
}

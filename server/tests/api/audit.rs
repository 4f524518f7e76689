//! The audit log over HTTP: an entry for every action it lists, with actor, address and user
//! agent, never a secret; filters by kind and person; admins only.

use serde_json::Value;

use crate::{
    both_engines,
    helpers::{Engine, PASSWORD, error_json, slug_of, spawn_app, unique_email},
};

both_engines!(every_listed_action_is_recorded_and_filterable);

async fn every_listed_action_is_recorded_and_filterable(engine: Engine) {
    let app = spawn_app(engine).await;
    let owner = unique_email("owner");
    let slug = app.sign_up(&owner).await;
    let member = app.other_client();
    let member_email = unique_email("member");
    member.sign_up(&member_email).await;

    // Keys: created (with a user agent), edited, rolled, revoked.
    let created: Value = app
        .client
        .post(app.url("/api/keys/create"))
        .header("user-agent", "AuditTest/1.0")
        .form(&[
            ("slug", slug.as_str()),
            ("name", "Export"),
            ("environment", "live"),
            ("expiry", "30d"),
            ("scopes[]", "runs:read"),
        ])
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    let key_id = created["id"].as_str().expect("id").to_owned();
    let secret = created["secret"].as_str().expect("secret").to_owned();
    app.call(
        "/api/keys/update",
        &[("slug", &slug), ("key_id", &key_id), ("name", "Export v2"), ("scopes[]", "runs:read")],
    )
    .await;
    let rolled: Value = app
        .call("/api/keys/roll", &[("slug", &slug), ("key_id", &key_id), ("grace", "1h")])
        .await
        .json()
        .await
        .expect("json");
    let new_secret = rolled["secret"].as_str().expect("secret").to_owned();
    app.call("/api/keys/revoke", &[("slug", &slug), ("key_id", rolled["id"].as_str().expect("id"))]).await;

    // Members: added, re-roled, removed.
    let added: Value = app
        .call("/api/workspaces/members/add", &[("slug", &slug), ("email", &member_email), ("role", "member")])
        .await
        .json()
        .await
        .expect("json");
    let member_id = added["user_id"].as_str().expect("user_id").to_owned();
    // While a plain member, the log is not theirs to read.
    let res = member.call("/api/audit/list", &[("slug", &slug), ("kind", ""), ("actor", "")]).await;
    assert_eq!(res.status(), 403);
    app.call("/api/workspaces/members/role", &[("slug", &slug), ("user_id", &member_id), ("role", "admin")]).await;
    // Connectors: approved and removed.
    let (_, _tokens) = crate::oauth::connect(&app, &slug, "agents:read").await;
    let list: Value = app.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    let connector = list["connectors"][0]["id"].as_str().expect("id").to_owned();
    app.call("/api/connectors/remove", &[("slug", &slug), ("connector_id", &connector)]).await;
    app.call("/api/workspaces/members/remove", &[("slug", &slug), ("user_id", &member_id)]).await;
    // A failed sign-in to the owner's account.
    let stranger = app.other_client();
    let res = stranger.call("/api/auth/sign_in", &[("email", &owner), ("password", &format!("{PASSWORD}x"))]).await;
    assert_eq!(res.status(), 401);

    let res = app.call("/api/audit/list", &[("slug", &slug), ("kind", ""), ("actor", "")]).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    assert!(!text.contains(&secret) && !text.contains(&new_secret) && !text.contains("gat_"), "no secret in the log");
    let page: Value = serde_json::from_str(&text).expect("json");
    let events = page["events"].as_array().expect("events");
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap_or_default()).collect();
    for action in [
        "key.created",
        "key.edited",
        "key.rolled",
        "key.revoked",
        "member.added",
        "member.role_changed",
        "member.removed",
        "connector.approved",
        "connector.removed",
        "signin.failed",
    ] {
        assert!(actions.contains(&action), "{action} missing from {actions:?}");
    }
    let created_entry = events.iter().find(|e| e["action"] == "key.created").expect("key.created");
    assert_eq!(created_entry["actor"], owner.as_str());
    assert_eq!(created_entry["ip"], "127.0.0.1");
    assert_eq!(created_entry["user_agent"], "AuditTest/1.0");
    assert_eq!(created_entry["summary"], "Created API key \u{201c}Export\u{201d} (live)");
    let moved = events.iter().find(|e| e["action"] == "member.role_changed").expect("role change");
    assert_eq!(moved["summary"], format!("Made {member_email} admin").as_str());
    // Newest first.
    assert_eq!(actions[0], "signin.failed");

    // Filters: by kind, by person; an unknown kind is refused.
    let keys_only: Value = app
        .call("/api/audit/list", &[("slug", &slug), ("kind", "key"), ("actor", "")])
        .await
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = keys_only["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["key.revoked", "key.rolled", "key.edited", "key.created"]);
    let by_owner: Value = app
        .call("/api/audit/list", &[("slug", &slug), ("kind", "member"), ("actor", &owner)])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(by_owner["events"].as_array().expect("events").len(), 3);
    assert!(by_owner["actors"].as_array().expect("actors").iter().any(|a| a == owner.as_str()));
    let res = app.call("/api/audit/list", &[("slug", &slug), ("kind", "everything; DROP"), ("actor", "")]).await;
    assert_eq!(res.status(), 422);
    let _ = error_json(res).await;
    // Another workspace's log is not reachable.
    let other_slug =
        slug_of(&stranger.call("/api/auth/sign_up", &[("email", &unique_email("x")), ("password", PASSWORD)]).await);
    assert_eq!(app.call("/api/audit/list", &[("slug", &other_slug), ("kind", ""), ("actor", "")]).await.status(), 404);
}

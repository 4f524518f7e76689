//! The `gatehouse` binary's command line.

use std::process::Command;

fn gatehouse() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
}

#[test]
fn help_documents_every_subcommand_and_option() {
    let out = gatehouse().arg("--help").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for word in ["serve", "migrate", "--database-url", "DATABASE_URL"] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
    let out = gatehouse().args(["serve", "--help"]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["GATEHOUSE_ADDR", "GATEHOUSE_PUBLIC_URL", "127.0.0.1:3000"] {
        assert!(text.contains(word), "serve --help lacks {word}:\n{text}");
    }
}

#[test]
fn migrate_creates_and_migrates_an_sqlite_file() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/nested/g.db", dir.path().display());
    let out = gatehouse().arg("migrate").env("DATABASE_URL", &url).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("nested/g.db").exists());
    // Running it again is a no-op.
    let out = gatehouse().arg("migrate").env("DATABASE_URL", &url).output().expect("run");
    assert!(out.status.success());
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let out = gatehouse().args(["serve"]).env("GATEHOUSE_ADDR", "not-an-address").output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GATEHOUSE_ADDR"));
    let out = gatehouse().arg("migrate").env("DATABASE_URL", "mysql://x/y").output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite: or postgres://"));
}

mod admin {
    //! `gatehouse user|workspace|key …` against the same database a running server uses.
    use super::gatehouse;
    use crate::{
        both_engines,
        helpers::{Engine, PASSWORD, TestApp, spawn_app, unique_email},
    };

    both_engines!(scripts_create_users_workspaces_and_keys);

    fn run(app: &TestApp, args: &[&str]) -> (bool, String, String) {
        let out = gatehouse()
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env("GATEHOUSE_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn scripts_create_users_workspaces_and_keys(engine: Engine) {
        let app = spawn_app(engine).await;
        let email = unique_email("ops");
        let (ok, out, err) = run(&app, &["user", "create", "--email", &email]);
        assert!(ok, "{err}");
        assert!(out.contains(&email));
        let (ok, _, err) = run(&app, &["user", "create", "--email", &email]);
        assert!(!ok && err.contains("already exists"), "{err}");

        let (ok, out, err) = run(&app, &["workspace", "create", "--name", "Ops Team", "--owner", &email]);
        assert!(ok, "{err}");
        let slug = out.trim().to_owned();
        assert!(slug.starts_with("ops-team-"), "{slug}");
        let (ok, _, err) = run(&app, &["workspace", "create", "--name", "X", "--owner", "nobody@example.com"]);
        assert!(!ok && err.contains("no account uses"), "{err}");

        let (ok, out, err) = run(
            &app,
            &[
                "key",
                "create",
                "--workspace",
                &slug,
                "--name",
                "cron",
                "--scopes",
                "agents:read,runs:read",
                "--env",
                "test",
                "--expires-in",
                "90d",
            ],
        );
        assert!(ok, "{err}");
        let key = out.lines().last().expect("a line").to_owned();
        assert!(key.starts_with("pk_test_") && key.len() == 69, "{key}");
        assert_eq!(out.trim(), key, "the key, and only the key, on stdout");

        let res = app.client.get(app.url("/v1/whoami")).bearer_auth(&key).send().await.expect("GET");
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["workspace"]["slug"], slug.as_str());
        assert_eq!(body["scopes"], serde_json::json!(["agents:read", "runs:read"]));
        let key_id = body["key"]["id"].as_str().expect("id").to_owned();

        let (ok, out, _) = run(&app, &["key", "list", "--workspace", &slug]);
        assert!(ok && out.contains(&key_id) && out.contains("cron") && !out.contains(&key[8..40]), "{out}");

        for bad in [
            vec!["key", "create", "--workspace", &slug, "--name", "x", "--scopes", "runs:fly"],
            vec!["key", "create", "--workspace", &slug, "--name", "x", "--scopes", "runs:read", "--env", "prod"],
            vec!["key", "create", "--workspace", &slug, "--name", "x", "--scopes", "runs:read", "--expires-in", "0d"],
            vec!["key", "create", "--workspace", "no-such-ws", "--name", "x", "--scopes", "runs:read"],
            vec![
                "key",
                "create",
                "--workspace",
                &slug,
                "--name",
                "x",
                "--scopes",
                "runs:read",
                "--resources",
                "agt_nope,app_nope",
            ],
        ] {
            let (ok, out, err) = run(&app, &bad);
            assert!(!ok && out.is_empty() && err.contains("error:"), "{bad:?}: {err}");
        }

        // Used (so the server holds it verified), then revoked by the CLI, another process: the
        // server learns of it through the change feed.
        let res = app.client.get(app.url("/v1/whoami")).bearer_auth(&key).send().await.expect("GET");
        assert_eq!(res.status(), 200);
        let (ok, _, err) = run(&app, &["key", "revoke", "--workspace", &slug, &key_id]);
        assert!(ok, "{err}");
        let refused = crate::helpers::eventually(crate::helpers::FEED_BOUND, || async {
            let res = app.client.get(app.url("/v1/whoami")).bearer_auth(&key).send().await.expect("GET");
            res.status() == 410
        });
        assert!(refused.await.is_some(), "the key revoked by the CLI is refused");
        let (ok, _, err) = run(&app, &["key", "revoke", "--workspace", &slug, "nonexistent"]);
        assert!(!ok && err.contains("has no key"), "{err}");
    }
}

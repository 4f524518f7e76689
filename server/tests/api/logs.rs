//! Secrets never reach the log: a real `gatehouse serve` process at debug level, driven through
//! sign-up, key creation and use, and its whole output searched afterwards.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::helpers::{PASSWORD, call_with, new_client, unique_email};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_key_or_cookie_in_the_logs() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", format!("sqlite://{}/logs.db", dir.path().display()))
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let log = Arc::new(Mutex::new(String::new()));
    for stream in [
        child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child.stdout.take().map(|s| Box::new(s) as _),
    ]
    .into_iter()
    .flatten()
    {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                log.lock().expect("log").push_str(&(line + "\n"));
            }
        });
    }
    let mut base = None;
    for _ in 0..100 {
        if let Some(url) = log.lock().expect("log").split("url=").nth(1).and_then(|r| r.split_whitespace().next()) {
            base = Some(url.to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let base = base.expect("the server logs its url");

    let client = new_client();
    let res = call_with(
        &client,
        &format!("{base}/api/auth/sign_up"),
        &[("email", &unique_email("log")), ("password", PASSWORD)],
    )
    .await;
    let cookie = res.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    let slug = crate::helpers::slug_of(&res);
    let res = call_with(
        &client,
        &format!("{base}/api/keys/create"),
        &[("slug", &slug), ("name", "k"), ("environment", "live"), ("expiry", "30d"), ("scopes[]", "runs:read")],
    )
    .await;
    let key = res.json::<serde_json::Value>().await.expect("json")["secret"].as_str().expect("secret").to_owned();
    for auth in [format!("Bearer {key}"), format!("Bearer {key}x"), format!("Basic {key}")] {
        client.get(format!("{base}/v1/whoami")).header("authorization", auth).send().await.expect("GET");
    }
    client.get(format!("{base}/v1/whoami?token={key}")).send().await.expect("GET");
    call_with(
        &client,
        &format!("{base}/api/auth/sign_in"),
        &[("email", "x@example.com"), ("password", "a wrong password")],
    )
    .await;

    // Stop it cleanly, so everything it would log has been logged.
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = log.lock().expect("log").clone();
    assert!(log.contains("API key created"), "the log is being captured:\n{log}");
    assert!(!log.contains(&key[8..40]), "the key is in the log:\n{log}");
    assert!(!log.contains(PASSWORD) && !log.contains("a wrong password"), "a password is in the log");
    let session_id = cookie.split('=').nth(1).expect("value");
    assert!(!log.contains(session_id), "the session id is in the log");
}

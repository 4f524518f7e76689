//! The revocation delay of docs/benchmarks.md: how long after a revocation's answer another
//! `gatehouse` process refuses the key, and whether the process that revoked it refuses it on the
//! very next request. `scripts/bench.sh revocation` runs it against two processes on one
//! PostgreSQL database, both under load.
//!
//!   revocation_delay A_URL B_URL EMAIL PASSWORD SLUG [ROUNDS]
//!
//! Each round: a key is created through A and used through B until B has it verified (cached);
//! then it is revoked through A. The clock starts when A's answer to the revocation arrives. One
//! request to A must be refused (same process: the next request). Then B is asked again and
//! again, one request at a time, until it refuses: the delay is the time from A's answer to B's
//! refusal arriving, so it includes one request's round trip to B. Prints the figures as a
//! Markdown line.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::Client;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [a, b, email, password, slug, rest @ ..] = args.as_slice() else {
        bail!("usage: revocation_delay A_URL B_URL EMAIL PASSWORD SLUG [ROUNDS]");
    };
    let rounds: usize = rest.first().map(|r| r.parse()).transpose()?.unwrap_or(200);
    let dashboard = Client::builder().cookie_store(true).build()?;
    let callers = Client::builder().pool_max_idle_per_host(4).build()?;
    let signed_in = form(&dashboard, a, "/api/auth/sign_in", &[("email", email), ("password", password)]).await?;
    if !signed_in.status().is_success() && !signed_in.status().is_redirection() {
        bail!("cannot sign in at {a}: {}", signed_in.status());
    }
    let mut delays = Vec::with_capacity(rounds);
    let started = Instant::now();
    let mut late_in_same_process = 0;
    for round in 0..rounds {
        let created = form(
            &dashboard,
            a,
            "/api/keys/create",
            &[
                ("slug", slug),
                ("name", &format!("revocation {round}")),
                ("environment", "live"),
                ("expiry", "30d"),
                ("scopes[]", "agents:read"),
            ],
        )
        .await?;
        let created: Value = created.json().await.context("the created key")?;
        let (Some(id), Some(key)) = (created["id"].as_str(), created["secret"].as_str()) else {
            bail!("no key in {created}");
        };
        // Verified (and so cached) by both processes before it is revoked.
        for base in [b, a, b] {
            let status = call(&callers, base, key).await?;
            if status != 200 {
                bail!("a fresh key was refused ({status}) at {base}");
            }
        }
        let revoked = form(&dashboard, a, "/api/keys/revoke", &[("slug", slug), ("key_id", id)]).await?;
        if !revoked.status().is_success() {
            bail!("the revocation failed: {}", revoked.status());
        }
        let answered = Instant::now();
        if call(&callers, a, key).await? != 410 {
            late_in_same_process += 1;
        }
        loop {
            if call(&callers, b, key).await? == 410 {
                let delay = answered.elapsed();
                if delay > Duration::from_millis(100) {
                    eprintln!("round {round}: {delay:?} (at {:?} since the start)", started.elapsed());
                }
                delays.push(delay);
                break;
            }
            if answered.elapsed() > Duration::from_secs(30) {
                bail!("B still accepts a key revoked 30 seconds ago");
            }
        }
    }
    delays.sort();
    let at = |q: f64| delays[((delays.len() as f64 * q).ceil() as usize).clamp(1, delays.len()) - 1];
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    println!(
        "| {rounds} | {} | {} | {} | {late_in_same_process} |",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*delays.last().unwrap_or(&Duration::ZERO))
    );
    Ok(())
}

/// A dashboard server function, posted as the page's JavaScript does.
async fn form(client: &Client, base: &str, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<reqwest::Response> {
    Ok(client.post(format!("{base}{path}")).header("origin", base).form(fields).send().await?)
}

/// One MCP call with the key; its HTTP status.
async fn call(client: &Client, base: &str, key: &str) -> anyhow::Result<u16> {
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}});
    let res = client
        .post(format!("{base}/mcp"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .body(body.to_string())
        .send()
        .await?;
    Ok(res.status().as_u16())
}

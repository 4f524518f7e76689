//! The webhook worker: turns new events into deliveries, claims the due ones, and POSTs each
//! signed body to its endpoint — in its own tasks, with a 10-second timeout and no redirects, so a
//! slow or dead receiver holds up nothing but its own delivery. The client is the guarded one of
//! `gatehouse_core::net`: the endpoint's address is checked on every connection.

use std::time::Duration;

use gatehouse_core::{
    Db,
    clock::now_ms,
    net::{Outbound, OutboundError, OutboundOptions},
    webhooks::{self, Due, WebhookUrl, signing},
};

/// How often the worker looks for work.
const TICK: Duration = Duration::from_millis(500);
/// Ticks between checks for expiring keys and usage thresholds (a minute).
const NOTICES_EVERY: u64 = 120;
/// Deliveries sent at once.
const BATCH: i64 = 16;

pub async fn run(db: Db, allow_private: bool, roots: Option<std::sync::Arc<Vec<u8>>>) {
    let options =
        OutboundOptions::new(Duration::from_secs(10), concat!("Gatehouse-Webhooks/", env!("CARGO_PKG_VERSION")))
            .with_roots(roots);
    let client = match Outbound::new(webhooks::address_rules(allow_private), options) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are not delivered");
            return;
        }
    };
    let mut every = tokio::time::interval(TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    loop {
        every.tick().await;
        // Once a minute: keys about to expire, and daily usage thresholds reached.
        if ticks.is_multiple_of(NOTICES_EVERY) {
            let now = now_ms();
            if let Err(e) = webhooks::notify_expiring_keys(&db, now).await {
                tracing::warn!(error = %e, "could not check for expiring keys; will retry");
            }
            if let Err(e) = webhooks::notify_usage_thresholds(&db, now).await {
                tracing::warn!(error = %e, "could not check usage thresholds; will retry");
            }
        }
        ticks += 1;
        if let Err(e) = webhooks::fan_out(&db).await {
            tracing::warn!(error = %e, "could not turn events into webhook deliveries; will retry");
        }
        let due = match webhooks::claim_due(&db, now_ms(), BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "could not read due webhook deliveries; will retry");
                continue;
            }
        };
        for delivery in due {
            tokio::spawn(deliver(db.clone(), client.clone(), delivery));
        }
    }
}

async fn deliver(db: Db, client: Outbound, d: Due) {
    let result = send(&client, &d).await;
    if let Err(e) = &result {
        tracing::info!(delivery = %d.id, error = %e, "webhook delivery failed; it will be retried");
    }
    if let Err(e) = webhooks::record_attempt(&db, &d.id, result, now_ms()).await {
        tracing::warn!(error = %e, delivery = %d.id, "could not record a webhook attempt");
    }
}

async fn send(client: &Outbound, d: &Due) -> Result<u16, String> {
    let url = WebhookUrl::parse(&d.url).map_err(|e| e.to_string())?;
    let timestamp = now_ms() / 1000;
    let secrets: Vec<&str> = d.secrets.iter().map(String::as_str).collect();
    let signature = signing::header(&secrets, timestamp, d.payload.as_bytes());
    let request = client
        .client()
        .post(url.as_str())
        .header("content-type", "application/json")
        .header("gatehouse-signature", signature)
        .header("gatehouse-event", &d.event_type)
        .header("gatehouse-delivery", &d.id)
        .body(d.payload.clone());
    let response = client.send(request).await.map_err(|e| match e {
        OutboundError::Refused(why) => format!("not sent: {why}"),
        OutboundError::Timeout(_) => "the receiver did not answer within 10 seconds".to_owned(),
        _ => "the receiver could not be reached".to_owned(),
    })?;
    Ok(response.status().as_u16())
}

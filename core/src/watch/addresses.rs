//! The addresses each key and connector is used from. A call notes its address in memory (one
//! map update, no I/O); the usage recorder's flush writes them in one batch with the counts, and
//! hands the first uses from a new network to `alerts`.

use std::{collections::HashMap, net::IpAddr, sync::Mutex};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{
    Db,
    clock::Millis,
    error::CoreResult,
    net::{canonical, network_of},
};

/// At most this many addresses are kept per credential (the most recent); older ones are dropped.
pub const KEPT_PER_CREDENTIAL: i64 = 50;

/// One address a credential was used from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CredentialAddress {
    pub address: String,
    pub network: String,
    pub first_seen: Millis,
    pub last_seen: Millis,
    pub calls: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Seen {
    caller: String,
    address: String,
    workspace_id: String,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    first: Millis,
    last: Millis,
    calls: i64,
}

/// A first use of a credential from a network it had not used before (and it had been used before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNetwork {
    pub workspace_id: String,
    pub caller: String,
    pub address: String,
    pub network: String,
}

/// Addresses noted since the last flush.
#[derive(Debug, Default)]
pub struct AddressBook {
    pending: Mutex<HashMap<Seen, Span>>,
}

impl AddressBook {
    /// Notes one use. Never touches the database.
    pub fn note(&self, workspace_id: &str, caller: &str, address: IpAddr, at: Millis) {
        let seen = Seen {
            caller: caller.to_owned(),
            address: canonical(address).to_string(),
            workspace_id: workspace_id.to_owned(),
        };
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let span = pending.entry(seen).or_insert(Span { first: at, last: at, calls: 0 });
        span.first = span.first.min(at);
        span.last = span.last.max(at);
        span.calls += 1;
    }

    /// Writes what was noted; returns the first uses from new networks. On failure what was
    /// noted is kept for the next try.
    pub(crate) async fn flush(&self, db: &Db) -> CoreResult<Vec<NewNetwork>> {
        let mut batch: Vec<(Seen, Span)> = self.pending.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // One row order in every process (two processes writing the same rows in their own orders deadlock).
        batch.sort_by(|a, b| a.0.cmp(&b.0));
        match write(db, &batch).await {
            Ok(new) => Ok(new),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                for (seen, span) in batch {
                    let kept = pending.entry(seen).or_insert(Span { calls: 0, ..span });
                    kept.first = kept.first.min(span.first);
                    kept.last = kept.last.max(span.last);
                    kept.calls += span.calls;
                }
                Err(e)
            }
        }
    }
}

async fn write(db: &Db, batch: &[(Seen, Span)]) -> CoreResult<Vec<NewNetwork>> {
    let mut new = Vec::new();
    let mut tx = db.pool().begin().await?;
    for (seen, span) in batch {
        let network = address_network(&seen.address);
        let known = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN network = $2 THEN 1 ELSE 0 END), 0) AS here
             FROM credential_addresses WHERE caller_id = $1",
        )
        .bind(&seen.caller)
        .bind(&network)
        .fetch_one(&mut *tx)
        .await?;
        let (any, here): (i64, i64) = (known.try_get("n")?, known.try_get("here")?);
        if any > 0 && here == 0 {
            new.push(NewNetwork {
                workspace_id: seen.workspace_id.clone(),
                caller: seen.caller.clone(),
                address: seen.address.clone(),
                network: network.clone(),
            });
        }
        sqlx::query(
            "INSERT INTO credential_addresses (caller_id, address, workspace_id, network, first_seen, last_seen, calls)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (caller_id, address) DO UPDATE SET
               last_seen = CASE WHEN excluded.last_seen > credential_addresses.last_seen
                                THEN excluded.last_seen ELSE credential_addresses.last_seen END,
               calls = credential_addresses.calls + excluded.calls",
        )
        .bind(&seen.caller)
        .bind(&seen.address)
        .bind(&seen.workspace_id)
        .bind(&network)
        .bind(span.first)
        .bind(span.last)
        .bind(span.calls)
        .execute(&mut *tx)
        .await?;
        if any >= KEPT_PER_CREDENTIAL {
            sqlx::query(
                "DELETE FROM credential_addresses WHERE caller_id = $1 AND address IN (
                   SELECT address FROM credential_addresses WHERE caller_id = $1
                   ORDER BY last_seen DESC, address LIMIT 1000000 OFFSET $2)",
            )
            .bind(&seen.caller)
            .bind(KEPT_PER_CREDENTIAL)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(new)
}

fn address_network(address: &str) -> String {
    address.parse::<IpAddr>().map(network_of).unwrap_or_else(|_| address.to_owned())
}

/// The addresses a key or connector of the workspace was used from, most recent first.
pub async fn addresses_of(db: &Db, workspace_id: &str, caller_id: &str) -> CoreResult<Vec<CredentialAddress>> {
    let rows = sqlx::query(
        "SELECT address, network, first_seen, last_seen, calls FROM credential_addresses
         WHERE workspace_id = $1 AND caller_id = $2 ORDER BY last_seen DESC, address LIMIT $3",
    )
    .bind(workspace_id)
    .bind(caller_id)
    .bind(KEPT_PER_CREDENTIAL)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CredentialAddress {
                address: r.try_get("address")?,
                network: r.try_get("network")?,
                first_seen: r.try_get("first_seen")?,
                last_seen: r.try_get("last_seen")?,
                calls: r.try_get("calls")?,
            })
        })
        .collect()
}

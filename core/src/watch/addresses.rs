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

/// One credential's use from one address, as a row of the batch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    caller: String,
    address: IpAddr,
    workspace_id: String,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    first: Millis,
    last: Millis,
    calls: i64,
}

impl Span {
    fn add(&mut self, other: Span) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.calls += other.calls;
    }
}

/// A first use of a credential from a network it had not used before (and it had been used before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNetwork {
    pub workspace_id: String,
    pub caller: String,
    pub address: String,
    pub network: String,
}

/// One credential's uses since the last flush, by address.
#[derive(Debug)]
struct Uses {
    workspace_id: String,
    by_address: HashMap<IpAddr, Span>,
}

/// Addresses noted since the last flush, by credential: a call from a credential and address
/// already noted allocates nothing.
#[derive(Debug, Default)]
pub struct AddressBook {
    pending: Mutex<HashMap<String, Uses>>,
}

impl AddressBook {
    /// Notes one use. Never touches the database.
    pub fn note(&self, workspace_id: &str, caller: &str, address: IpAddr, at: Millis) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let span = Span { first: at, last: at, calls: 1 };
        Self::add(&mut pending, workspace_id, caller, canonical(address), span);
    }

    fn add(pending: &mut HashMap<String, Uses>, workspace_id: &str, caller: &str, address: IpAddr, span: Span) {
        let uses = match pending.get_mut(caller) {
            Some(uses) => uses,
            None => pending
                .entry(caller.to_owned())
                .or_insert_with(|| Uses { workspace_id: workspace_id.to_owned(), by_address: HashMap::new() }),
        };
        match uses.by_address.get_mut(&address) {
            Some(kept) => kept.add(span),
            None => {
                uses.by_address.insert(address, span);
            }
        }
    }

    /// Writes what was noted; returns the first uses from new networks. On failure what was
    /// noted is kept for the next try.
    pub(crate) async fn flush(&self, db: &Db) -> CoreResult<Vec<NewNetwork>> {
        let drained: Vec<(String, Uses)> = self.pending.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        let mut batch: Vec<(Seen, Span)> = drained
            .into_iter()
            .flat_map(|(caller, uses)| {
                uses.by_address.into_iter().map(move |(address, span)| {
                    (Seen { caller: caller.clone(), address, workspace_id: uses.workspace_id.clone() }, span)
                })
            })
            .collect();
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // One row order in every process (two processes writing the same rows in their own orders deadlock).
        batch.sort_by(|a, b| a.0.cmp(&b.0));
        let written = write(db, &batch).await;
        if written.is_err() {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (seen, span) in batch {
                Self::add(&mut pending, &seen.workspace_id, &seen.caller, seen.address, span);
            }
        }
        written
    }
}

async fn write(db: &Db, batch: &[(Seen, Span)]) -> CoreResult<Vec<NewNetwork>> {
    let mut new = Vec::new();
    let mut tx = db.pool().begin().await?;
    for (seen, span) in batch {
        let address = seen.address.to_string();
        let network = network_of(seen.address);
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
                address: address.clone(),
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
        .bind(&address)
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

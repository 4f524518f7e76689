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
    // The batch is sorted by credential: one run of rows per credential.
    for rows in batch.chunk_by(|a, b| a.0.caller == b.0.caller) {
        let caller = &rows[0].0.caller;
        // One row per address it has (at most KEPT_PER_CREDENTIAL).
        let mut known: Vec<String> = sqlx::query("SELECT network FROM credential_addresses WHERE caller_id = $1")
            .bind(caller)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("network"))
            .collect::<Result<_, _>>()?;
        let had = known.len();
        known.sort();
        known.dedup();
        new.extend(new_networks_in(known, rows));
        for (seen, span) in rows {
            sqlx::query(
                "INSERT INTO credential_addresses (caller_id, address, workspace_id, network, first_seen, last_seen, calls)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (caller_id, address) DO UPDATE SET
                   last_seen = CASE WHEN excluded.last_seen > credential_addresses.last_seen
                                    THEN excluded.last_seen ELSE credential_addresses.last_seen END,
                   calls = credential_addresses.calls + excluded.calls",
            )
            .bind(caller)
            .bind(seen.address.to_string())
            .bind(&seen.workspace_id)
            .bind(network_of(seen.address))
            .bind(span.first)
            .bind(span.last)
            .bind(span.calls)
            .execute(&mut *tx)
            .await?;
        }
        if i64::try_from(had + rows.len()).unwrap_or(i64::MAX) > KEPT_PER_CREDENTIAL {
            sqlx::query(
                "DELETE FROM credential_addresses WHERE caller_id = $1 AND address IN (
                   SELECT address FROM credential_addresses WHERE caller_id = $1
                   ORDER BY last_seen DESC, address LIMIT 1000000 OFFSET $2)",
            )
            .bind(caller)
            .bind(KEPT_PER_CREDENTIAL)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(new)
}

/// One credential's first uses from networks it had not used, in the order the calls came: the
/// very first network a credential is used from is not news (`known` empty), later ones are.
fn new_networks_in(mut known: Vec<String>, rows: &[(Seen, Span)]) -> Vec<NewNetwork> {
    let mut by_time: Vec<&(Seen, Span)> = rows.iter().collect();
    by_time.sort_by_key(|(seen, span)| (span.first, seen.address));
    let mut new = Vec::new();
    for (seen, _) in by_time {
        let network = network_of(seen.address);
        if known.contains(&network) {
            continue;
        }
        if !known.is_empty() {
            new.push(NewNetwork {
                workspace_id: seen.workspace_id.clone(),
                caller: seen.caller.clone(),
                address: seen.address.to_string(),
                network: network.clone(),
            });
        }
        known.push(network);
    }
    new
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

/// Where a credential was last used from, for a row of a list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AddressSummary {
    /// The most recent address.
    pub latest: String,
    /// How many distinct addresses are kept for it.
    pub count: i64,
}

/// The address summaries of some credentials of a workspace (one page of a list), by id; a
/// credential never used is missing.
pub async fn address_summaries(
    db: &Db,
    workspace_id: &str,
    caller_ids: &[&str],
) -> CoreResult<HashMap<String, AddressSummary>> {
    let mut out = HashMap::new();
    // In slices, so a long list stays within each engine's limit on bound values.
    for ids in caller_ids.chunks(500) {
        let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT caller_id, address FROM credential_addresses WHERE workspace_id = $1 AND caller_id IN ({})
             ORDER BY last_seen DESC, address",
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(workspace_id);
        for id in ids {
            query = query.bind(*id);
        }
        for row in query.fetch_all(db.pool()).await? {
            let caller: String = row.try_get("caller_id")?;
            let address: String = row.try_get("address")?;
            out.entry(caller).or_insert_with(|| AddressSummary { latest: address, count: 0 }).count += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(address: &str, first: Millis) -> (Seen, Span) {
        let seen = Seen { caller: "key".into(), address: address.parse().expect("address"), workspace_id: "ws".into() };
        (seen, Span { first, last: first, calls: 1 })
    }

    fn networks(found: Vec<NewNetwork>) -> Vec<(String, String)> {
        found.into_iter().map(|n| (n.network, n.address)).collect()
    }

    #[test]
    fn new_networks_follow_the_order_of_the_calls() {
        // Sorted by address, 198.51.100.9 comes first; by time, 203.0.113.7 was the first use.
        let batch = [row("198.51.100.9", 20), row("203.0.113.7", 10), row("203.0.113.8", 30)];
        assert_eq!(
            networks(new_networks_in(Vec::new(), &batch)),
            [("198.51.100.0/24".to_owned(), "198.51.100.9".to_owned())]
        );
        // Already used from 198.51.100.0/24: only 203.0.113.0/24 is new, once for two addresses.
        assert_eq!(
            networks(new_networks_in(vec!["198.51.100.0/24".into()], &batch)),
            [("203.0.113.0/24".to_owned(), "203.0.113.7".to_owned())]
        );
        // A first use alone is not news; IPv6 networks are /48s.
        assert!(new_networks_in(Vec::new(), &[row("2001:db8:1::1", 1)]).is_empty());
        let v6 = [row("2001:db8:1::1", 1), row("2001:db8:1:ffff::1", 2), row("2001:db8:2::1", 3)];
        assert_eq!(
            networks(new_networks_in(Vec::new(), &v6)),
            [("2001:db8:2::/48".to_owned(), "2001:db8:2::1".to_owned())]
        );
    }
}

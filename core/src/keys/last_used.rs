//! Last-used times of keys and connectors, kept in memory on the request path and written to the database in one
//! batch every few seconds (and at shutdown), so verifying a key never waits on a write.

use std::{collections::HashMap, sync::Mutex};

use crate::{Db, clock::Millis, error::CoreResult};

#[derive(Debug)]
pub struct LastUsed {
    /// `api_keys`, `oauth_grants` or `management_keys`: each has `id` and `last_used_at`.
    table: &'static str,
    pending: Mutex<HashMap<String, Millis>>,
}

impl Default for LastUsed {
    fn default() -> Self {
        LastUsed::for_keys()
    }
}

impl LastUsed {
    pub fn for_keys() -> Self {
        LastUsed { table: "api_keys", pending: Mutex::default() }
    }

    pub fn for_connectors() -> Self {
        LastUsed { table: "oauth_grants", pending: Mutex::default() }
    }

    pub fn for_management_keys() -> Self {
        LastUsed { table: "management_keys", pending: Mutex::default() }
    }

    /// Notes that a key was used now.
    pub fn touch(&self, key_id: &str, at: Millis) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match pending.get_mut(key_id) {
            Some(t) => *t = (*t).max(at),
            None => {
                pending.insert(key_id.to_owned(), at);
            }
        }
    }

    /// A use noted but not written yet.
    pub fn pending(&self, key_id: &str) -> Option<Millis> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).get(key_id).copied()
    }

    /// Writes the noted times; on failure they are kept for the next try.
    pub async fn flush(&self, db: &Db) -> CoreResult<usize> {
        let mut batch: Vec<(String, Millis)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().collect()
        };
        // Rows in one order in every process: two processes updating the same keys in their own
        // (hash) orders deadlock on PostgreSQL.
        batch.sort_unstable();
        if batch.is_empty() {
            return Ok(0);
        }
        let result = async {
            let mut tx = db.pool().begin().await?;
            for (id, at) in &batch {
                let sql = format!(
                    "UPDATE {} SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
                    self.table
                );
                sqlx::query(&sql).bind(*at).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = result {
            for (id, at) in batch {
                self.touch(&id, at);
            }
            return Err(e.into());
        }
        Ok(batch.len())
    }
}

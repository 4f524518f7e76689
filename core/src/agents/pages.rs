//! Pages of the agent list kept in memory, so `list_agents` (the catalog's most frequent read)
//! costs no database read when nothing changed: each page goes stale the moment an agent of its
//! workspace is created, changed or deleted (`crate::changes`, topic `agents`: at once in this
//! process, through the change feed in others), and is never older than a minute.

use std::{sync::Arc, time::Duration};

use super::{AgentPage, Tenant, list};
use crate::{
    Db,
    changes::{
        Topic,
        cache::{Cached, StampedCache},
    },
    error::CoreResult,
};

/// Pages kept at most (a page is at most 100 agents without their graphs).
const CAPACITY: usize = 2_000;

/// The longest a page answers without being read again.
const MAX_AGE: Duration = Duration::from_secs(60);

/// The agent list behind a cache; cheap to clone.
#[derive(Debug, Clone)]
pub struct AgentPages {
    db: Db,
    pages: Arc<StampedCache<String, AgentPage>>,
}

impl AgentPages {
    pub fn new(db: Db) -> Self {
        let pages = StampedCache::new(db.changes().clone(), Topic::Agents, CAPACITY, MAX_AGE);
        AgentPages { db, pages: Arc::new(pages) }
    }

    /// What [`list`] answers, from the cache when nothing changed since it was read.
    pub async fn list(&self, at: Tenant<'_>, cursor: Option<&str>, limit: i64) -> CoreResult<Arc<Cached<AgentPage>>> {
        let (offset, limit) = crate::paging::window(cursor, limit)?;
        let key = format!("{}\u{0}{}\u{0}{offset}\u{0}{limit}", at.workspace_id, at.environment.as_str());
        if let Some(hit) = self.pages.get(&key) {
            return Ok(hit);
        }
        let stamp = self.pages.stamp();
        let cursor = offset.to_string();
        let page = list(&self.db, at, Some(&cursor), limit).await?;
        Ok(self.pages.keep(key, &[at.workspace_id], stamp, page))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::Environment;

    /// A page answers from memory until an agent of its workspace is written, and every write is
    /// seen by the very next list.
    #[tokio::test]
    async fn pages_follow_every_write() {
        let (_dir, db) = crate::testing::sqlite_with_workspace().await;
        db.changes().feed_connected();
        let pages = AgentPages::new(db.clone());
        let at = Tenant { workspace_id: "ws_1", environment: Environment::Live };
        let graph = json!({"nodes": [{"id": "in", "type": "input"}], "edges": []});
        assert!(pages.list(at, None, 20).await.expect("list").value.agents.is_empty());
        let made = super::super::create(&db, at, "One", &graph).await.expect("create");
        assert_eq!(pages.list(at, None, 20).await.expect("list").value.agents.len(), 1, "a create is seen");
        let first = pages.list(at, None, 20).await.expect("list");
        let again = pages.list(at, None, 20).await.expect("list");
        assert!(Arc::ptr_eq(&first, &again), "the second read came from the cache");
        super::super::update(&db, at, &made.id, Some("Renamed"), &graph).await.expect("update");
        assert_eq!(pages.list(at, None, 20).await.expect("list").value.agents[0].name, "Renamed");
        super::super::delete(&db, at, &made.id).await.expect("delete");
        assert!(pages.list(at, None, 20).await.expect("list").value.agents.is_empty(), "a delete is seen");
        let test = Tenant { workspace_id: "ws_1", environment: Environment::Test };
        assert!(pages.list(test, None, 20).await.expect("list").value.agents.is_empty());
        assert!(pages.list(at, Some("x"), 20).await.is_err(), "a bad cursor is refused as before");
        db.close().await;
    }
}

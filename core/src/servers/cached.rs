//! The registry as the gateway reads it on every call: each workspace's servers kept in memory,
//! stale the moment a change of them is recorded (`crate::changes`, topic `servers`: a server
//! added, edited, switched off or removed, here or in another process), and never older than a
//! minute.

use std::{sync::Arc, time::Duration};

use super::{UpstreamServer, registry};
use crate::{
    Db,
    changes::{
        Topic,
        cache::{Cached, StampedCache},
    },
    error::{CoreError, CoreResult},
};

/// Workspaces whose server lists are kept at most.
const CAPACITY: usize = 10_000;

/// The longest a list answers without being read again.
const MAX_AGE: Duration = Duration::from_secs(60);

/// The registry behind a cache; cheap to clone.
#[derive(Debug, Clone)]
pub struct RegistryCache {
    db: Db,
    lists: Arc<StampedCache<String, Vec<UpstreamServer>>>,
}

impl RegistryCache {
    pub fn new(db: Db) -> Self {
        let lists = StampedCache::new(db.changes().clone(), Topic::Servers, CAPACITY, MAX_AGE);
        RegistryCache { db, lists: Arc::new(lists) }
    }

    /// A workspace's servers, by slug.
    pub async fn list(&self, workspace_id: &str) -> CoreResult<Arc<Cached<Vec<UpstreamServer>>>> {
        let key = workspace_id.to_owned();
        if let Some(hit) = self.lists.get(&key) {
            return Ok(hit);
        }
        let stamp = self.lists.stamp();
        let servers = registry::list_in(&self.db, workspace_id).await?;
        Ok(self.lists.keep(key, &[workspace_id], stamp, servers))
    }

    /// One server by its slug (or id), as [`registry::get_in`] finds it.
    pub async fn get(&self, workspace_id: &str, slug: &str) -> CoreResult<UpstreamServer> {
        let list = self.list(workspace_id).await?;
        list.value.iter().find(|s| s.slug == slug || s.id == slug).cloned().ok_or(CoreError::NotFound)
    }
}

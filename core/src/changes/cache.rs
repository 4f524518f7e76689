//! A bounded in-memory cache of values that depend on a workspace (and perhaps one credential of
//! it): each value is kept with the [`Stamp`] of the read that produced it and answers only while
//! [`Changes`] says nothing it depends on changed since in its topic, and while it is younger than
//! the cache's maximum age.

use std::{
    hash::Hash,
    sync::Arc,
    time::{Duration, Instant},
};

use super::{Changes, Stamp, Topic};

/// A cached value with what decides whether it is still fresh.
#[derive(Debug)]
pub struct Cached<V> {
    pub value: V,
    /// What it depends on: its workspace, and the credential's own id where there is one.
    ids: Vec<String>,
    stamp: Stamp,
    stored: Instant,
}

/// Values by key, at most `capacity` of them (the least recently useful are evicted first), none
/// older than `max_age`.
pub struct StampedCache<K, V> {
    entries: quick_cache::sync::Cache<K, Arc<Cached<V>>>,
    changes: Arc<Changes>,
    topic: Topic,
    max_age: Duration,
}

impl<K, V> std::fmt::Debug for StampedCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StampedCache").field("topic", &self.topic).field("max_age", &self.max_age).finish()
    }
}

impl<K: Eq + Hash + Clone, V> StampedCache<K, V> {
    pub fn new(changes: Arc<Changes>, topic: Topic, capacity: usize, max_age: Duration) -> Self {
        StampedCache { entries: quick_cache::sync::Cache::new(capacity.max(1)), changes, topic, max_age }
    }

    /// The stamp to take before reading what will be stored; `None` means: do not store it.
    pub fn stamp(&self) -> Option<Stamp> {
        self.changes.stamp()
    }

    /// The value for `key`, if one is cached and still fresh.
    pub fn get(&self, key: &K) -> Option<Arc<Cached<V>>> {
        let cached = self.entries.get(key)?;
        let ids: Vec<&str> = cached.ids.iter().map(String::as_str).collect();
        if cached.stored.elapsed() < self.max_age && self.changes.is_fresh(self.topic, &ids, cached.stamp) {
            Some(cached)
        } else {
            self.entries.remove(key);
            None
        }
    }

    /// Keeps `value`, read at `stamp` and depending on `ids` (its workspace, and the credential's
    /// own id where there is one), and hands it back. Without a stamp (the feed was down) or with
    /// one already stale (a change came while it was being read), the value is only handed back.
    pub fn keep(&self, key: K, ids: &[&str], stamp: Option<Stamp>, value: V) -> Arc<Cached<V>> {
        let fresh = stamp.filter(|stamp| self.changes.is_fresh(self.topic, ids, *stamp));
        let cached = Arc::new(Cached {
            value,
            ids: ids.iter().map(|id| (*id).to_owned()).collect(),
            stamp: fresh.unwrap_or(Stamp(0)),
            stored: Instant::now(),
        });
        if fresh.is_some() {
            self.entries.insert(key, cached.clone());
        }
        cached
    }

    /// How many values are held (fresh or not yet noticed stale).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(max_age: Duration) -> (Arc<Changes>, StampedCache<&'static str, u32>) {
        let changes = Arc::new(Changes::connected());
        (changes.clone(), StampedCache::new(changes, Topic::Access, 4, max_age))
    }

    #[test]
    fn a_value_answers_until_its_workspace_changes() {
        let (changes, cache) = cache(Duration::from_secs(60));
        let stamp = cache.stamp().expect("feed up");
        cache.keep("k", &["ws_a", "key_1"], Some(stamp), 7);
        assert_eq!(cache.get(&"k").map(|c| c.value), Some(7));
        changes.changed(Topic::Access, "ws_b");
        assert_eq!(cache.get(&"k").map(|c| c.value), Some(7), "another workspace's change");
        changes.changed(Topic::Access, "key_2");
        assert_eq!(cache.get(&"k").map(|c| c.value), Some(7), "another key's change");
        changes.changed(Topic::Access, "key_1");
        assert!(cache.get(&"k").is_none());
        assert!(cache.is_empty(), "a stale value is let go");
    }

    #[test]
    fn a_value_read_across_a_change_is_not_kept() {
        let (changes, cache) = cache(Duration::from_secs(60));
        let stamp = cache.stamp().expect("feed up");
        changes.changed(Topic::Access, "ws_a");
        let returned = cache.keep("k", &["ws_a"], Some(stamp), 1);
        assert_eq!(returned.value, 1, "the caller still gets what it read");
        assert!(cache.get(&"k").is_none());
    }

    #[test]
    fn nothing_is_kept_without_a_stamp() {
        let (_, cache) = cache(Duration::from_secs(60));
        assert_eq!(cache.keep("k", &["ws_a"], None, 3).value, 3);
        assert!(cache.get(&"k").is_none());
    }

    #[test]
    fn values_age_out_and_the_cache_stays_bounded() {
        let (_, cache) = cache(Duration::from_millis(30));
        let stamp = cache.stamp().expect("feed up");
        cache.keep("k", &["ws_a"], Some(stamp), 1);
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.get(&"k").is_none(), "older than the maximum age");
        for key in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            cache.keep(key, &["ws_a"], Some(stamp), 0);
        }
        assert!(cache.len() <= 4, "{}", cache.len());
    }
}

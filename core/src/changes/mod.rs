//! What changed since a cached value was read: the one record that every in-memory cache of
//! credentials and registry rows consults before it answers.
//!
//! A change that can end or narrow what a credential reaches is recorded here under what it
//! changed: one credential (a key revoked, rolled or edited; a connector removed or moved, its
//! grant or a token revoked) by that key's or grant's id, or a whole workspace (its key policy or
//! name, a member's role or removal) by the workspace's id; a workspace's servers and agents each
//! have a topic of their own. It is recorded by the process that made the change, at once and
//! before its answer is sent ([`Changes::changed`], called by the domain functions after they
//! commit), and by every other process through the database's change feed ([`feed`]: PostgreSQL
//! `LISTEN`/`NOTIFY`, or a change log polled on SQLite, both written by triggers in the change's
//! own transaction).
//!
//! Caches never delete on a change; they compare stamps. Before reading the database, a reader
//! takes a [`Stamp`] (the change counter at that moment); a cached value is fresh only while no
//! change of the ids it depends on (its workspace, and the credential itself) in its topic, and
//! no "drop everything", came after its stamp. So a read that raced a change (read old data,
//! stored it after the change was recorded) is stale on arrival, and the order of the two never
//! matters. Precise ids matter under load: revoking one key must not make every other key of its
//! workspace read the database again at once.
//!
//! While the feed from other processes is down (not yet connected, its connection lost, a gap in
//! the log), nothing is fresh and nothing new is stored: every request reads through the
//! database, as it would with no cache, so a missed message can never keep a revoked credential
//! alive. When the feed is back, everything read before is dropped.

pub mod cache;
pub mod feed;

use std::{
    collections::HashMap,
    sync::{
        RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

/// What a change is about; each cache listens to one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Who may call and what they reach: a key or a connector's grant (by its id), or a whole
    /// workspace's credentials (its key policy and name, its members).
    Access,
    /// A workspace's upstream servers (the gateway's registry).
    Servers,
    /// A workspace's agents (the pages `list_agents` answers).
    Agents,
}

const TOPICS: usize = 3;

impl Topic {
    fn index(self) -> usize {
        match self {
            Topic::Access => 0,
            Topic::Servers => 1,
            Topic::Agents => 2,
        }
    }

    /// Its name in the change feed (`access:<id>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Access => "access",
            Topic::Servers => "servers",
            Topic::Agents => "agents",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "access" => Some(Topic::Access),
            "servers" => Some(Topic::Servers),
            "agents" => Some(Topic::Agents),
            _ => None,
        }
    }
}

/// The change counter when a read began: what a cached value was read after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(u64);

/// Beyond this many ids with a recorded change, the record starts again from nothing (which drops
/// every cached value once): memory stays bounded whatever the number of workspaces and keys.
const MAX_IDS: usize = 10_000;

/// A process's record of changes. One per [`crate::Db`]; cheap to consult.
#[derive(Debug)]
pub struct Changes {
    /// Counts every change recorded; stamps are taken from it.
    counter: AtomicU64,
    /// Values read before this are stale, whatever their workspace ("drop everything").
    floor: AtomicU64,
    /// The counter at the last change of each id (a workspace, a key, a grant), per topic.
    ids: RwLock<HashMap<String, [u64; TOPICS]>>,
    /// Whether changes made by other processes reach this one now.
    feed_up: AtomicBool,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            counter: AtomicU64::new(1),
            floor: AtomicU64::new(0),
            ids: RwLock::default(),
            feed_up: AtomicBool::new(false),
        }
    }
}

impl Changes {
    /// The stamp for a read about to begin, or `None` while other processes' changes cannot
    /// reach this one (then what is read must not be kept).
    pub fn stamp(&self) -> Option<Stamp> {
        self.feed_up.load(Ordering::SeqCst).then(|| Stamp(self.counter.load(Ordering::SeqCst)))
    }

    /// Whether a value that depends on `ids` (its workspace, and the credential itself), read at
    /// `stamp`, is still what the database holds.
    pub fn is_fresh(&self, topic: Topic, ids: &[&str], stamp: Stamp) -> bool {
        if !self.feed_up.load(Ordering::SeqCst) || stamp.0 < self.floor.load(Ordering::SeqCst) {
            return false;
        }
        let changed = self.ids.read().unwrap_or_else(|p| p.into_inner());
        ids.iter().all(|id| changed.get(*id).is_none_or(|last| stamp.0 >= last[topic.index()]))
    }

    /// Records a change of `id` (a workspace, a key or a grant): every value of that topic that
    /// depends on it and was read before now is stale from here on.
    pub fn changed(&self, topic: Topic, id: &str) {
        let at = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        let mut changed = self.ids.write().unwrap_or_else(|p| p.into_inner());
        if changed.len() >= MAX_IDS && !changed.contains_key(id) {
            changed.clear();
            self.floor.store(at, Ordering::SeqCst);
            return;
        }
        changed.entry(id.to_owned()).or_insert([0; TOPICS])[topic.index()] = at;
    }

    /// Everything read before now is stale (a gap in the feed, or the feed coming back).
    pub fn drop_everything(&self) {
        let at = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        let mut changed = self.ids.write().unwrap_or_else(|p| p.into_inner());
        changed.clear();
        self.floor.store(at, Ordering::SeqCst);
    }

    /// The feed from other processes is connected: from now on values may be cached, and what
    /// was read before is dropped (changes may have been missed while it was down).
    pub(crate) fn feed_connected(&self) {
        self.drop_everything();
        self.feed_up.store(true, Ordering::SeqCst);
    }

    /// The feed is lost: nothing is fresh and nothing is kept until it is back.
    pub(crate) fn feed_lost(&self) {
        self.feed_up.store(false, Ordering::SeqCst);
        self.drop_everything();
    }

    /// Whether other processes' changes reach this one now (caches are in use).
    pub fn feed_is_up(&self) -> bool {
        self.feed_up.load(Ordering::SeqCst)
    }

    /// A record whose feed is up from the start: for tests of the caches alone.
    #[cfg(test)]
    pub(crate) fn connected() -> Self {
        let changes = Changes::default();
        changes.feed_connected();
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_makes_earlier_reads_that_depend_on_it_stale() {
        let changes = Changes::connected();
        let before = changes.stamp().expect("feed up");
        assert!(changes.is_fresh(Topic::Access, &["ws_a", "key_1"], before));
        changes.changed(Topic::Access, "ws_a");
        assert!(!changes.is_fresh(Topic::Access, &["ws_a", "key_1"], before), "its workspace changed");
        assert!(changes.is_fresh(Topic::Access, &["ws_b", "key_2"], before), "another workspace is untouched");
        let after = changes.stamp().expect("feed up");
        assert!(changes.is_fresh(Topic::Access, &["ws_a", "key_1"], after), "read after the change");
        changes.changed(Topic::Access, "key_1");
        assert!(!changes.is_fresh(Topic::Access, &["ws_a", "key_1"], after), "the key itself changed");
        assert!(changes.is_fresh(Topic::Access, &["ws_a", "key_3"], after), "another key of it is untouched");
    }

    /// A read that began before a change and is stored after it is stale on arrival.
    #[test]
    fn a_read_that_raced_a_change_is_stale() {
        let changes = Changes::connected();
        let stamp = changes.stamp().expect("feed up");
        changes.changed(Topic::Access, "ws_a");
        // ...the read, begun before, stores its (old) value now:
        assert!(!changes.is_fresh(Topic::Access, &["ws_a"], stamp));
    }

    #[test]
    fn nothing_is_fresh_or_kept_while_the_feed_is_down() {
        let changes = Changes::default();
        assert_eq!(changes.stamp(), None, "not connected yet");
        changes.feed_connected();
        let stamp = changes.stamp().expect("feed up");
        changes.feed_lost();
        assert_eq!(changes.stamp(), None);
        assert!(!changes.is_fresh(Topic::Access, &["ws_a"], stamp));
        changes.feed_connected();
        assert!(!changes.is_fresh(Topic::Access, &["ws_a"], stamp), "read before the loss stays stale");
        assert!(changes.is_fresh(Topic::Access, &["ws_a"], changes.stamp().expect("up")));
    }

    #[test]
    fn topics_go_stale_apart() {
        let changes = Changes::connected();
        let stamp = changes.stamp().expect("up");
        changes.changed(Topic::Agents, "ws_a");
        assert!(changes.is_fresh(Topic::Access, &["ws_a"], stamp), "an agent written leaves credentials alone");
        assert!(!changes.is_fresh(Topic::Agents, &["ws_a"], stamp));
        for topic in [Topic::Access, Topic::Servers, Topic::Agents] {
            assert_eq!(Topic::parse(topic.as_str()), Some(topic));
        }
    }

    #[test]
    fn the_record_stays_bounded() {
        let changes = Changes::connected();
        let early = changes.stamp().expect("up");
        for n in 0..MAX_IDS + 5 {
            changes.changed(Topic::Access, &format!("ws_{n}"));
        }
        assert!(changes.ids.read().expect("lock").len() <= MAX_IDS);
        assert!(!changes.is_fresh(Topic::Access, &["ws_untouched"], early), "starting over drops everything");
    }
}

//! What changed since a cached value was read: the one record that every in-memory cache of
//! credentials and registry rows consults before it answers.
//!
//! A change that can end or narrow what a credential reaches (a key revoked, rolled or edited, a
//! connector removed or moved, a member removed, a workspace's policy, a server switched off) is
//! recorded here for its workspace: by the process that made it, at once and before its answer
//! is sent ([`Changes::changed`], called by the domain functions after they commit), and by every
//! other process through the database's change feed ([`feed`]: PostgreSQL `LISTEN`/`NOTIFY`, or a
//! change log polled on SQLite, both written by triggers in the change's own transaction).
//!
//! Caches never delete on a change; they compare stamps. Before reading the database, a reader
//! takes a [`Stamp`] (the change counter at that moment); a cached value is fresh only while no
//! change of its workspace and topic, and no "drop everything", came after its stamp. So a read
//! that raced a change (read old data, stored it after the change was recorded) is stale on
//! arrival, and the order of the two never matters.
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
    /// Who may call and what they reach: keys, connectors and their tokens, members, a
    /// workspace's key policy, its upstream servers.
    Access,
}

const TOPICS: usize = 1;

impl Topic {
    fn index(self) -> usize {
        match self {
            Topic::Access => 0,
        }
    }

    /// Its name in the change feed (`access:<workspace id>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Access => "access",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "access" => Some(Topic::Access),
            _ => None,
        }
    }
}

/// The change counter when a read began: what a cached value was read after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(u64);

/// Beyond this many workspaces with a recorded change, the record starts again from nothing
/// (which drops every cached value once): memory stays bounded whatever the number of
/// workspaces.
const MAX_WORKSPACES: usize = 10_000;

/// A process's record of changes. One per [`crate::Db`]; cheap to consult.
#[derive(Debug)]
pub struct Changes {
    /// Counts every change recorded; stamps are taken from it.
    counter: AtomicU64,
    /// Values read before this are stale, whatever their workspace ("drop everything").
    floor: AtomicU64,
    /// The counter at each workspace's last change, per topic.
    workspaces: RwLock<HashMap<String, [u64; TOPICS]>>,
    /// Whether changes made by other processes reach this one now.
    feed_up: AtomicBool,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            counter: AtomicU64::new(1),
            floor: AtomicU64::new(0),
            workspaces: RwLock::default(),
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

    /// Whether a value of `workspace_id` read at `stamp` is still what the database holds.
    pub fn is_fresh(&self, topic: Topic, workspace_id: &str, stamp: Stamp) -> bool {
        if !self.feed_up.load(Ordering::SeqCst) || stamp.0 < self.floor.load(Ordering::SeqCst) {
            return false;
        }
        let workspaces = self.workspaces.read().unwrap_or_else(|p| p.into_inner());
        workspaces.get(workspace_id).is_none_or(|last| stamp.0 >= last[topic.index()])
    }

    /// Records a change of `workspace_id`: every value of that topic and workspace read before
    /// now is stale from here on.
    pub fn changed(&self, topic: Topic, workspace_id: &str) {
        let at = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        let mut workspaces = self.workspaces.write().unwrap_or_else(|p| p.into_inner());
        if workspaces.len() >= MAX_WORKSPACES && !workspaces.contains_key(workspace_id) {
            workspaces.clear();
            self.floor.store(at, Ordering::SeqCst);
            return;
        }
        workspaces.entry(workspace_id.to_owned()).or_insert([0; TOPICS])[topic.index()] = at;
    }

    /// Everything read before now is stale (a gap in the feed, or the feed coming back).
    pub fn drop_everything(&self) {
        let at = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        let mut workspaces = self.workspaces.write().unwrap_or_else(|p| p.into_inner());
        workspaces.clear();
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
    fn a_change_makes_earlier_reads_of_its_workspace_stale() {
        let changes = Changes::connected();
        let before = changes.stamp().expect("feed up");
        assert!(changes.is_fresh(Topic::Access, "ws_a", before));
        changes.changed(Topic::Access, "ws_a");
        assert!(!changes.is_fresh(Topic::Access, "ws_a", before), "read before the change");
        assert!(changes.is_fresh(Topic::Access, "ws_b", before), "another workspace is untouched");
        let after = changes.stamp().expect("feed up");
        assert!(changes.is_fresh(Topic::Access, "ws_a", after), "read after the change");
    }

    /// A read that began before a change and is stored after it is stale on arrival.
    #[test]
    fn a_read_that_raced_a_change_is_stale() {
        let changes = Changes::connected();
        let stamp = changes.stamp().expect("feed up");
        changes.changed(Topic::Access, "ws_a");
        // ...the read, begun before, stores its (old) value now:
        assert!(!changes.is_fresh(Topic::Access, "ws_a", stamp));
    }

    #[test]
    fn nothing_is_fresh_or_kept_while_the_feed_is_down() {
        let changes = Changes::default();
        assert_eq!(changes.stamp(), None, "not connected yet");
        changes.feed_connected();
        let stamp = changes.stamp().expect("feed up");
        changes.feed_lost();
        assert_eq!(changes.stamp(), None);
        assert!(!changes.is_fresh(Topic::Access, "ws_a", stamp));
        changes.feed_connected();
        assert!(!changes.is_fresh(Topic::Access, "ws_a", stamp), "read before the loss stays stale");
        assert!(changes.is_fresh(Topic::Access, "ws_a", changes.stamp().expect("up")));
    }

    #[test]
    fn the_record_stays_bounded() {
        let changes = Changes::connected();
        let early = changes.stamp().expect("up");
        for n in 0..MAX_WORKSPACES + 5 {
            changes.changed(Topic::Access, &format!("ws_{n}"));
        }
        assert!(changes.workspaces.read().expect("lock").len() <= MAX_WORKSPACES);
        assert!(!changes.is_fresh(Topic::Access, "ws_untouched", early), "starting over drops everything");
    }
}

//! Token leases: how a process spends a shared (Redis) token bucket without asking Redis on every
//! request.
//!
//! When a bucket's lease is empty, the process takes a batch of tokens from the shared bucket in
//! one atomic step (it gets fewer when fewer are left) and spends them here; a refusal Redis
//! gives (wait N ms) is kept here too, so a client hammering a limited key costs no round trips
//! until it may try again. A lease lives [`LEASE_LIFE`]; what it has not spent by then is dropped.
//!
//! The batch follows the process's own demand: twice what the last lease spent, at least one, and
//! at most [`max_batch`] — a tenth of a second of the limit's rate, so limits under 1,200 a minute
//! always take one token at a time and stay exact. The error this allows, per process: it may
//! admit up to `max_batch - 1` requests on tokens taken from the shared bucket up to
//! [`LEASE_LIFE`] earlier (late, never beyond what the bucket gave), and it drops at most one
//! batch of unspent tokens per lease (the other processes see the limit reached a little early).
//! Nothing is ever admitted that the shared bucket did not hand out.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long leased tokens (or a kept refusal) are used before the shared bucket is asked again.
pub const LEASE_LIFE: Duration = Duration::from_millis(250);

/// The largest batch taken at once: a tenth of a second of the limit's rate, between 1 and 100.
pub fn max_batch(per_minute: i64) -> i64 {
    (per_minute / 600).clamp(1, 100)
}

/// Above this many leases, expired ones are dropped before a new one is made.
const LEASES_BEFORE_PRUNING: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Lease {
    /// Tokens left to spend.
    left: i64,
    /// Tokens spent from it, which sizes the next batch.
    spent: i64,
    /// Until when it is used.
    until: Instant,
    /// The shared bucket said to wait until then.
    refused_until: Option<Instant>,
}

/// What a lease answers for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// A leased token was spent: admit.
    Spent,
    /// The shared bucket refused recently: refuse, wait this long.
    Refused(Duration),
    /// Ask the shared bucket for this many tokens.
    Take(i64),
}

/// The leases of one process, by bucket.
#[derive(Debug, Default)]
pub struct Leases {
    by_bucket: Mutex<HashMap<String, Lease>>,
}

impl Leases {
    /// Spends a leased token of `bucket`, or says what to do instead.
    pub fn spend(&self, bucket: &str, per_minute: i64, now: Instant) -> Spend {
        let mut leases = self.by_bucket.lock().unwrap_or_else(|p| p.into_inner());
        let Some(lease) = leases.get_mut(bucket) else { return Spend::Take(1) };
        if lease.until > now {
            if lease.left > 0 {
                lease.left -= 1;
                lease.spent += 1;
                return Spend::Spent;
            }
            if let Some(until) = lease.refused_until.filter(|until| *until > now) {
                return Spend::Refused(until - now);
            }
        }
        Spend::Take((lease.spent * 2).clamp(1, max_batch(per_minute)))
    }

    /// Records what the shared bucket gave for a request: `got` tokens (one of them spent on that
    /// request), or none and a wait.
    pub fn taken(&self, bucket: &str, got: i64, wait: Duration, now: Instant) {
        let mut leases = self.by_bucket.lock().unwrap_or_else(|p| p.into_inner());
        if leases.len() >= LEASES_BEFORE_PRUNING && !leases.contains_key(bucket) {
            leases.retain(|_, lease| lease.until > now);
        }
        let lease = if got >= 1 {
            // Another request of this process may have taken a batch meanwhile: both are spent.
            let kept = leases.get(bucket).filter(|l| l.until > now).map_or(0, |l| l.left);
            Lease { left: kept + got - 1, spent: 1, until: now + LEASE_LIFE, refused_until: None }
        } else {
            Lease { left: 0, spent: 0, until: now + LEASE_LIFE.min(wait), refused_until: Some(now + wait) }
        };
        leases.insert(bucket.to_owned(), lease);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_follow_demand_within_the_cap() {
        let leases = Leases::default();
        let t0 = Instant::now();
        assert_eq!(leases.spend("k", 60_000, t0), Spend::Take(1), "a new bucket takes one");
        leases.taken("k", 1, Duration::ZERO, t0);
        assert_eq!(leases.spend("k", 60_000, t0), Spend::Take(2), "spent one: take two");
        leases.taken("k", 2, Duration::ZERO, t0);
        assert_eq!(leases.spend("k", 60_000, t0), Spend::Spent);
        let mut batch = 4;
        for _ in 0..10 {
            let Spend::Take(n) = leases.spend("k", 60_000, t0) else { panic!("lease spent: ask again") };
            assert_eq!(n, batch);
            leases.taken("k", n, Duration::ZERO, t0);
            for _ in 1..n {
                assert_eq!(leases.spend("k", 60_000, t0), Spend::Spent);
            }
            batch = (batch * 2).min(max_batch(60_000));
        }
        assert_eq!(max_batch(60_000), 100);
        assert_eq!(max_batch(600), 1, "small limits stay exact");
    }

    #[test]
    fn refusals_are_kept_and_leases_expire() {
        let leases = Leases::default();
        let t0 = Instant::now();
        leases.taken("k", 0, Duration::from_millis(100), t0);
        assert_eq!(leases.spend("k", 6_000, t0), Spend::Refused(Duration::from_millis(100)));
        assert_eq!(leases.spend("k", 6_000, t0 + Duration::from_millis(150)), Spend::Take(1), "the wait is over");
        leases.taken("k", 10, Duration::ZERO, t0);
        assert_eq!(leases.spend("k", 6_000, t0 + LEASE_LIFE), Spend::Take(2), "an expired lease is not spent");
    }
}

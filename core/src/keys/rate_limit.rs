//! Rate limits: a token bucket per key, connector, address or OAuth client. A bucket may burst up
//! to its per-minute limit and refills continuously. Buckets live in this process's memory or, when
//! the operator sets `GATEHOUSE_REDIS_URL`, in Redis, so that every Gatehouse process sharing that
//! Redis shares the limits; a process takes tokens from a shared bucket in batches and spends them
//! itself (`super::leases`, where the batch size and the error it allows are set out), so a busy
//! key does not cost a round trip to Redis on every request. Should Redis stop answering, each
//! process falls back to its own buckets (and says so in its log) rather than refusing or waving
//! through every request; and for the next few seconds it does not ask Redis at all (a circuit
//! breaker), so that an outage costs one request a timeout, not every request.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use redis::{
    Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use super::leases::{Leases, Spend};
use crate::clock::now_ms;

/// The token bucket in Redis, atomic and timed by the Redis server's clock (processes' clocks may
/// differ). `KEYS[1]` the bucket, `ARGV[1]` its per-minute limit, `ARGV[2]` how many tokens the
/// process would like (a lease's batch); returns `{tokens given, milliseconds to wait}`: at least
/// one token and no wait, or none and the wait for one. An untouched bucket expires once it would
/// be full again, which is how a new one starts.
const TOKEN_BUCKET_LUA: &str = r"
local capacity = tonumber(ARGV[1])
local want = math.max(1, tonumber(ARGV[2]))
local per_ms = capacity / 60000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or capacity
local at = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
local got = math.min(want, math.floor(tokens))
local wait = 0
if got >= 1 then tokens = tokens - got else got = 0; wait = math.ceil((1 - tokens) / per_ms) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 61000)
return {got, wait}
";

/// How long a Redis answer may take before the process uses its own buckets for that request.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// After Redis failed to answer, requests use this process's buckets without asking Redis for this
/// long; then one request asks again, and its answer closes the breaker or opens it once more.
const BREAKER_OPEN: Duration = Duration::from_secs(5);

/// Redis could not be reached when the server started.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot reach Redis for shared rate limits ({0}); check GATEHOUSE_REDIS_URL and that Redis is running, or unset it to keep rate limits per process"
)]
pub struct SharedLimitsUnavailable(String);

#[derive(Debug, Default)]
pub struct RateLimiter {
    local: LocalBuckets,
    shared: Option<Shared>,
}

struct Shared {
    connection: ConnectionManager,
    script: Script,
    /// Prefix of every bucket's Redis key, so several deployments can share one Redis.
    namespace: String,
    /// When the last "Redis is not answering" warning was logged (ms), to log it once in a while.
    last_warning: AtomicI64,
    /// The circuit breaker: 0 while Redis answers; otherwise until when (ms) not to ask it.
    open_until: AtomicI64,
    /// How long the breaker stays open ([`BREAKER_OPEN`]; shorter in tests).
    open_for: Duration,
    /// Tokens taken from the shared buckets in batches, spent here.
    leases: Leases,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("namespace", &self.namespace).finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Buckets shared through Redis at `url` (`redis://host:port/db`), under `namespace`.
    pub async fn shared(url: &str, namespace: &str) -> Result<Self, SharedLimitsUnavailable> {
        let client = redis::Client::open(url).map_err(|e| SharedLimitsUnavailable(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(2);
        let mut connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| SharedLimitsUnavailable(e.to_string()))?;
        let _: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .map_err(|e| SharedLimitsUnavailable(e.to_string()))?;
        Ok(RateLimiter {
            local: LocalBuckets::default(),
            shared: Some(Shared {
                connection,
                script: Script::new(TOKEN_BUCKET_LUA),
                namespace: namespace.to_owned(),
                last_warning: AtomicI64::new(0),
                open_until: AtomicI64::new(0),
                open_for: BREAKER_OPEN,
                leases: Leases::default(),
            }),
        })
    }

    /// The same limiter with the breaker open for `open_for` after a failure, for tests.
    #[cfg(test)]
    fn with_breaker(mut self, open_for: Duration) -> Self {
        if let Some(shared) = &mut self.shared {
            shared.open_for = open_for;
        }
        self
    }

    /// Whether limits are shared with other processes.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Takes one request from the bucket, or says how long until one is available.
    pub async fn check(&self, bucket: &str, per_minute: i64) -> Result<(), Duration> {
        let per_minute = per_minute.max(1);
        if let Some(shared) = self.shared.as_ref().filter(|shared| shared.may_ask(now_ms())) {
            let now = Instant::now();
            let want = match shared.leases.spend(bucket, per_minute, now) {
                Spend::Spent => return Ok(()),
                Spend::Refused(wait) => return Err(wait),
                Spend::Take(want) => want,
            };
            match shared.take(bucket, per_minute, want).await {
                Ok((got, wait_ms)) => {
                    shared.answered();
                    let wait = Duration::from_millis(wait_ms);
                    shared.leases.taken(bucket, got, wait, now);
                    return if got >= 1 { Ok(()) } else { Err(wait) };
                }
                Err(e) => shared.failed(&e),
            }
        }
        self.local.check_at(bucket, per_minute, Instant::now())
    }
}

impl Shared {
    /// Up to `want` tokens from the shared bucket: how many it gave, and how long to wait if none.
    async fn take(&self, bucket: &str, per_minute: i64, want: i64) -> redis::RedisResult<(i64, u64)> {
        let mut connection = self.connection.clone();
        let key = format!("{}:rate:{bucket}", self.namespace);
        self.script.key(key).arg(per_minute).arg(want).invoke_async(&mut connection).await
    }

    /// Whether this request asks Redis: yes while the breaker is closed, no while it is open, and
    /// once it has been open long enough, yes for the one request that claims the next try.
    fn may_ask(&self, now: i64) -> bool {
        let until = self.open_until.load(Ordering::Relaxed);
        until == 0
            || (now >= until
                && self
                    .open_until
                    .compare_exchange(until, now + self.open_millis(), Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok())
    }

    fn open_millis(&self) -> i64 {
        i64::try_from(self.open_for.as_millis()).unwrap_or(i64::MAX / 2)
    }

    /// Redis answered: close the breaker if it was open (a load, not a write, on the usual path).
    fn answered(&self) {
        if self.open_until.load(Ordering::Relaxed) != 0 && self.open_until.swap(0, Ordering::Relaxed) != 0 {
            tracing::info!("Redis answers again; rate limits are shared again");
        }
    }

    /// Redis did not answer: open the breaker, and log it now and then.
    fn failed(&self, error: &redis::RedisError) {
        let now = now_ms();
        self.open_until.store(now + self.open_millis(), Ordering::Relaxed);
        let last = self.last_warning.load(Ordering::Relaxed);
        if now - last >= 10_000
            && self.last_warning.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            tracing::warn!(error = %error, "Redis did not answer; rate limits are per process until it does");
        }
    }
}

/// Above this many buckets, those idle for a minute are dropped before a new one is made: a bucket
/// idle that long is full again, exactly what a new one would be, so the limits do not change and
/// memory stays bounded whatever number of addresses or clients come by.
const LOCAL_BUCKETS_BEFORE_PRUNING: usize = 10_000;

#[derive(Debug, Default)]
struct LocalBuckets {
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl LocalBuckets {
    fn check_at(&self, key: &str, per_minute: i64, now: Instant) -> Result<(), Duration> {
        let capacity = per_minute.max(1) as f64;
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= LOCAL_BUCKETS_BEFORE_PRUNING && !buckets.contains_key(key) {
            buckets.retain(|_, b| now.saturating_duration_since(b.updated) < Duration::from_secs(60));
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: capacity, updated: now });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills() {
        let limiter = LocalBuckets::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("k", 3, t0).is_ok());
        }
        let wait = limiter.check_at("k", 3, t0).expect_err("limited");
        assert!(wait <= Duration::from_secs(20) && wait > Duration::from_secs(19));
        assert!(limiter.check_at("other", 3, t0).is_ok(), "keys have their own buckets");
        assert!(limiter.check_at("k", 3, t0 + Duration::from_secs(21)).is_ok());
    }

    #[test]
    fn idle_buckets_are_dropped_when_there_are_many() {
        let limiter = LocalBuckets::default();
        let t0 = Instant::now();
        for i in 0..LOCAL_BUCKETS_BEFORE_PRUNING {
            assert!(limiter.check_at(&format!("address {i}"), 1, t0).is_ok());
        }
        // A bucket still refilling is kept; the idle ones go when the next new one comes.
        let later = t0 + Duration::from_secs(61);
        assert!(limiter.check_at("busy", 1, later - Duration::from_secs(30)).is_ok());
        assert!(limiter.check_at("new", 1, later).is_ok());
        assert_eq!(limiter.buckets.lock().expect("lock").len(), 2);
        assert!(limiter.check_at("busy", 1, later).is_err(), "the busy bucket kept its state");
    }
}

/// Against the Redis on 127.0.0.1:6379 (`GATEHOUSE_TEST_REDIS_URL` to use another).
#[cfg(test)]
mod shared_tests {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize},
    };

    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::{TcpListener, TcpStream},
    };

    use super::*;

    #[tokio::test]
    async fn two_processes_share_one_bucket() {
        let url = redis_url();
        let namespace = format!("gatehouse-test-{}", crate::ids::random_base62(10));
        let a = RateLimiter::shared(&url, &namespace).await.expect("Redis is needed for this test");
        let b = RateLimiter::shared(&url, &namespace).await.expect("Redis");
        assert!(a.is_shared());
        assert!(a.check("key_1", 3).await.is_ok());
        assert!(b.check("key_1", 3).await.is_ok());
        assert!(a.check("key_1", 3).await.is_ok());
        let wait = b.check("key_1", 3).await.expect_err("the fourth request within the minute, in either process");
        assert!(wait > Duration::from_secs(15) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(b.check("key_2", 3).await.is_ok(), "buckets are per key");
        let other = RateLimiter::shared(&url, &format!("{namespace}-other")).await.expect("Redis");
        assert!(other.check("key_1", 3).await.is_ok(), "namespaces keep deployments apart");
    }

    /// The network between this process and Redis, for tests: it forwards every connection to
    /// Redis until it is cut; then Redis seems to hang (what is sent is swallowed, nothing comes
    /// back) until the link is restored, which closes the hung connections.
    struct Link {
        url: String,
        cut: Arc<AtomicBool>,
        /// Bucket requests that reached Redis, and those swallowed while the link was cut.
        passed: Arc<AtomicUsize>,
        stuck: Arc<AtomicUsize>,
    }

    impl Link {
        async fn to_redis(namespace: &str) -> Link {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
            let url = format!("redis://{}", listener.local_addr().expect("addr"));
            let link = Link { url, cut: Arc::default(), passed: Arc::default(), stuck: Arc::default() };
            let (cut, passed, stuck) = (link.cut.clone(), link.passed.clone(), link.stuck.clone());
            let marker = namespace.as_bytes().to_vec();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (cut, passed, stuck, marker) = (cut.clone(), passed.clone(), stuck.clone(), marker.clone());
                    tokio::spawn(async move {
                        let upstream = TcpStream::connect(redis_addr()).await.expect("Redis is needed for this test");
                        let (mut from_client, mut to_client) = client.into_split();
                        let (mut from_redis, mut to_redis) = upstream.into_split();
                        let answers =
                            tokio::spawn(async move { tokio::io::copy(&mut from_redis, &mut to_client).await });
                        let mut buf = vec![0_u8; 64 * 1024];
                        let mut hung = false;
                        loop {
                            tokio::select! {
                                read = from_client.read(&mut buf) => {
                                    let Ok(n @ 1..) = read else { break };
                                    let requests = buf[..n].windows(marker.len()).filter(|w| *w == marker.as_slice()).count();
                                    if cut.load(Ordering::SeqCst) {
                                        hung = true;
                                        stuck.fetch_add(requests, Ordering::SeqCst);
                                    } else {
                                        passed.fetch_add(requests, Ordering::SeqCst);
                                        if to_redis.write_all(&buf[..n]).await.is_err() { break; }
                                    }
                                }
                                () = tokio::time::sleep(Duration::from_millis(10)) => {
                                    if hung && !cut.load(Ordering::SeqCst) { break; }
                                }
                            }
                        }
                        answers.abort();
                    });
                }
            });
            link
        }

        fn set_cut(&self, cut: bool) {
            self.cut.store(cut, Ordering::SeqCst);
        }

        fn counts(&self) -> (usize, usize) {
            (self.passed.load(Ordering::SeqCst), self.stuck.load(Ordering::SeqCst))
        }
    }

    fn redis_url() -> String {
        std::env::var("GATEHOUSE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    /// `host:port` of that Redis, for the link to connect to.
    fn redis_addr() -> String {
        use redis::IntoConnectionInfo;
        redis_url().into_connection_info().expect("a Redis URL").addr().to_string()
    }

    /// Redis hangs: the first request waits for the timeout and falls back to this process's
    /// buckets, the next ones do not ask Redis at all while the breaker is open, and once Redis
    /// answers again a request asks it, and the ones after it go to Redis as before.
    #[tokio::test]
    async fn a_hanging_redis_costs_one_timeout_then_the_breaker_keeps_requests_off_it() {
        let namespace = format!("gatehouse-test-{}", crate::ids::random_base62(10));
        let link = Link::to_redis(&namespace).await;
        let limiter = RateLimiter::shared(&link.url, &namespace)
            .await
            .expect("Redis is needed for this test")
            .with_breaker(Duration::from_millis(300));
        assert!(limiter.check("key_1", 2).await.is_ok());
        assert!(link.counts().0 >= 1 && link.counts().1 == 0, "the link forwards to Redis");

        link.set_cut(true);
        assert!(limiter.check("key_1", 2).await.is_ok(), "answered from this process's bucket");
        let (passed, stuck) = link.counts();
        assert!(stuck >= 1, "the first request after the cut tried Redis");
        assert!(limiter.check("key_1", 2).await.is_ok());
        assert!(limiter.check("key_1", 2).await.is_err(), "the local bucket still limits");
        assert_eq!(link.counts(), (passed, stuck), "while the breaker is open, Redis is not asked");

        link.set_cut(false);
        let mut back = false;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let before = link.counts().0;
            let _ = limiter.check("key_2", 100).await;
            if link.counts().0 > before {
                back = true;
                break;
            }
        }
        assert!(back, "a request asked Redis again once the breaker had been open for its time");
        let before = link.counts().0;
        for _ in 0..3 {
            assert!(limiter.check("key_3", 100).await.is_ok());
        }
        assert_eq!(link.counts().0, before + 3, "the breaker is closed: every request asks Redis");
    }

    /// A busy key spends leased tokens: two processes sharing a bucket of 12,000 a minute ask
    /// Redis far less often than they admit requests, and together admit no more than the bucket
    /// handed out (its capacity and what it refilled meanwhile) plus one batch each.
    #[tokio::test]
    async fn leases_spare_round_trips_within_the_bound() {
        let namespace = format!("gatehouse-test-{}", crate::ids::random_base62(10));
        let link = Link::to_redis(&namespace).await;
        let a = RateLimiter::shared(&link.url, &namespace).await.expect("Redis is needed for this test");
        let b = RateLimiter::shared(&link.url, &namespace).await.expect("Redis");
        let limit = 12_000;
        let started = Instant::now();
        let mut admitted = 0_i64;
        for i in 0..20_000 {
            let limiter = if i % 2 == 0 { &a } else { &b };
            if limiter.check("busy", limit).await.is_ok() {
                admitted += 1;
            }
        }
        let refilled = started.elapsed().as_secs_f64() * limit as f64 / 60.0;
        let batch = super::super::leases::max_batch(limit);
        let most = (limit as f64 + refilled) as i64 + 2 * (batch - 1);
        assert!(admitted <= most, "admitted {admitted}, at most {most}");
        assert!(admitted >= limit - 2 * batch, "admitted {admitted}: leases lose at most a batch each");
        let (asked, _) = link.counts();
        assert!(asked * 5 < admitted as usize, "{asked} trips to Redis for {admitted} admitted requests");
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_reported_at_start() {
        let err = RateLimiter::shared("redis://127.0.0.1:1", "x").await.expect_err("nothing listens on port 1");
        assert!(err.to_string().starts_with("cannot reach Redis"), "{err}");
    }
}

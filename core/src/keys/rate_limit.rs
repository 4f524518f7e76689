//! Per-key rate limiting: a token bucket per key in this process's memory. A key may burst up to
//! its per-minute limit and refills continuously. (Shared limits across several processes come
//! with the multi-instance work.)

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// Takes one request from the key's bucket, or says how long until one is available.
    pub fn check(&self, key_id: &str, per_minute: i64) -> Result<(), Duration> {
        self.check_at(key_id, per_minute, Instant::now())
    }

    fn check_at(&self, key_id: &str, per_minute: i64, now: Instant) -> Result<(), Duration> {
        let capacity = per_minute.max(1) as f64;
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(key_id.to_owned()).or_insert(Bucket { tokens: capacity, updated: now });
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
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("k", 3, t0).is_ok());
        }
        let wait = limiter.check_at("k", 3, t0).expect_err("limited");
        assert!(wait <= Duration::from_secs(20) && wait > Duration::from_secs(19));
        assert!(limiter.check_at("other", 3, t0).is_ok(), "keys have their own buckets");
        assert!(limiter.check_at("k", 3, t0 + Duration::from_secs(21)).is_ok());
    }
}

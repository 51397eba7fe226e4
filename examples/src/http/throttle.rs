//! Throttling: a token bucket per client, and a cap on requests in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::auth::ClientId;

/// Clients tracked before full buckets are forgotten.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// Why a request was not let in, and when to retry.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The client spent its tokens.
    RateLimited {
        /// When the client's next token is due.
        retry_after: Duration,
    },
    /// The server has too many requests in flight.
    Busy,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Admission: per-client token buckets (`rate` per second, up to `burst`),
/// then a global cap on requests in flight.
pub struct Throttle {
    rate: Option<f64>,
    burst: f64,
    buckets: Mutex<HashMap<ClientId, Bucket>>,
    in_flight: Arc<Semaphore>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .finish()
    }
}

impl Throttle {
    /// `rate` requests per second per client (none: unlimited), bursts of up to
    /// `burst`, and at most `max_in_flight` requests at once.
    pub fn new(rate: Option<f64>, burst: f64, max_in_flight: usize) -> Self {
        Throttle {
            rate,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
        }
    }

    /// Lets a request of `client` in (the permit ends its time in flight), or says why not.
    pub fn admit(&self, client: &ClientId) -> Result<OwnedSemaphorePermit, Refusal> {
        if let Some(rate) = self.rate {
            self.take_token(client, rate, Instant::now())?;
        }
        Arc::clone(&self.in_flight)
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy)
    }

    fn take_token(&self, client: &ClientId, rate: f64, now: Instant) -> Result<(), Refusal> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED_CLIENTS && !buckets.contains_key(client) {
            // A bucket that has refilled is the same as no bucket: forget those,
            // so that many one-off clients cannot grow the map without bound.
            let burst = self.burst;
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(client.clone()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let refill = now.saturating_duration_since(bucket.last).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            Err(Refusal::RateLimited {
                retry_after: Duration::from_secs_f64(wait),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_rate_is_refused_and_others_are_not() {
        let t = Throttle::new(Some(10.0), 3.0, 100);
        let (a, b) = (ClientId("a".into()), ClientId("b".into()));
        let now = Instant::now();
        for _ in 0..3 {
            t.take_token(&a, 10.0, now).unwrap();
        }
        match t.take_token(&a, 10.0, now) {
            Err(Refusal::RateLimited { retry_after }) => assert!((retry_after.as_secs_f64() - 0.1).abs() < 1e-9),
            other => panic!("{other:?}"),
        }
        t.take_token(&b, 10.0, now).unwrap();
        // A tenth of a second later, one more token.
        t.take_token(&a, 10.0, now + Duration::from_millis(100)).unwrap();
    }

    #[test]
    fn the_in_flight_cap_holds_until_permits_return() {
        let t = Throttle::new(None, 1.0, 2);
        let c = ClientId("c".into());
        let p1 = t.admit(&c).unwrap();
        let _p2 = t.admit(&c).unwrap();
        assert_eq!(t.admit(&c).err(), Some(Refusal::Busy));
        drop(p1);
        assert!(t.admit(&c).is_ok());
    }
}

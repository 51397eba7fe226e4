//! A bounded, uniform sample of a stream (Vitter's Algorithm R).

use std::sync::{Mutex, PoisonError};

/// Keeps a uniform random sample of at most `capacity` values of everything
/// offered, in constant memory. Seeded, so a replayed stream keeps the same sample.
#[derive(Debug)]
pub(crate) struct Reservoir {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    seen: u64,
    values: Vec<f64>,
    rng: u64,
}

impl Reservoir {
    pub(crate) fn new(capacity: usize, seed: u64) -> Self {
        Reservoir {
            capacity,
            state: Mutex::new(State {
                seen: 0,
                values: Vec::with_capacity(capacity.min(1024)),
                rng: seed | 1,
            }),
        }
    }

    pub(crate) fn offer(&self, value: f64) {
        if self.capacity == 0 {
            return;
        }
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.seen += 1;
        if s.values.len() < self.capacity {
            s.values.push(value);
            return;
        }
        // xorshift64*: cheap, and good enough to pick a slot.
        s.rng ^= s.rng >> 12;
        s.rng ^= s.rng << 25;
        s.rng ^= s.rng >> 27;
        let r = s.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let slot = ((u128::from(r) * u128::from(s.seen)) >> 64) as usize;
        if slot < self.capacity {
            s.values[slot] = value;
        }
    }

    /// The sample so far, and how many values were offered.
    pub(crate) fn snapshot(&self) -> (Vec<f64>, u64) {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (s.values.clone(), s.seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_below_capacity_and_a_uniform_sample_above() {
        let r = Reservoir::new(1000, 7);
        for i in 0..500 {
            r.offer(f64::from(i));
        }
        assert_eq!(r.snapshot().0.len(), 500);
        let r = Reservoir::new(1000, 7);
        for i in 0..100_000 {
            r.offer(f64::from(i));
        }
        let (sample, seen) = r.snapshot();
        assert_eq!((sample.len(), seen), (1000, 100_000));
        // A uniform sample of 0..100,000 has mean 50,000 ± 2,887/√1000·3 (3σ ≈ 2,740).
        let mean = sample.iter().sum::<f64>() / 1000.0;
        assert!((mean - 50_000.0).abs() < 2_740.0, "mean {mean}");
    }
}

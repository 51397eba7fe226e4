//! Exact-as-possible statistics over the finite values a numeric fit collects.
//!
//! Every function takes a non-empty slice of finite values; results that
//! overflow `f64` come back non-finite and are refused by the callers.

use std::collections::HashMap;

/// Compensated (Neumaier) sum: exact to the last bit for all but adversarial inputs.
fn sum(values: &[f64]) -> f64 {
    let mut sum = 0.0f64;
    let mut carry = 0.0f64;
    for &x in values {
        let t = sum + x;
        if sum.abs() >= x.abs() {
            carry += (sum - t) + x;
        } else {
            carry += (x - t) + sum;
        }
        sum = t;
    }
    sum + carry
}

/// Arithmetic mean; the value itself when all values are equal.
pub(super) fn mean(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let (min, max) = min_max(values);
    if min == max {
        return min;
    }
    let m = sum(values) / n;
    if m.is_finite() {
        m
    } else {
        // The sum overflowed although the values did not: average the shares.
        values.iter().map(|&x| x / n).sum::<f64>()
    }
}

/// Sum of squared deviations from `mean` (two-pass, with the rounding
/// correction of Chan, Golub and LeVeque).
pub(super) fn sum_squared_deviations(values: &[f64], mean: f64) -> f64 {
    let mut squares = 0.0;
    let mut deviations = 0.0;
    for &x in values {
        let d = x - mean;
        squares += d * d;
        deviations += d;
    }
    (squares - deviations * deviations / values.len() as f64).max(0.0)
}

/// Smallest and largest value.
pub(super) fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    })
}

/// Exact median: the middle value, or the mean of the two middle values (as numpy).
pub(super) fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (lower_half, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        return upper;
    }
    let lower = lower_half.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let m = (lower + upper) / 2.0;
    if m.is_finite() { m } else { lower / 2.0 + upper / 2.0 }
}

/// The most frequent value; equal counts go to the smallest value (as scikit-learn).
/// `-0.0` and `0.0` count as one value, `0.0`.
pub(super) fn mode(values: &[f64]) -> f64 {
    let mut counts: HashMap<u64, u64> = HashMap::new();
    for &x in values {
        let x = if x == 0.0 { 0.0 } else { x };
        *counts.entry(x.to_bits()).or_insert(0) += 1;
    }
    let mut best: Option<(u64, f64)> = None;
    for (bits, count) in counts {
        let x = f64::from_bits(bits);
        best = match best {
            Some((c, v)) if c > count || (c == count && v <= x) => Some((c, v)),
            _ => Some((count, x)),
        };
    }
    best.map_or(f64::NAN, |(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_match_hand_computed_values() {
        assert_eq!(mean(&[0.1; 10]), 0.1);
        assert_eq!(mean(&[1.0, 2.0, 3.0, 4.0]), 2.5);
        assert_eq!(mean(&[f64::MAX, f64::MAX]), f64::MAX);
        assert_eq!(sum_squared_deviations(&[1.0, 2.0, 3.0, 4.0], 2.5), 5.0);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut [f64::MAX, f64::MAX]), f64::MAX);
        assert_eq!(mode(&[3.0, 1.0, 3.0, 1.0, 2.0]), 1.0);
        assert_eq!(mode(&[-0.0, 0.0, 5.0]), 0.0);
        assert_eq!(min_max(&[2.0, -1.0, 7.0]), (-1.0, 7.0));
    }
}

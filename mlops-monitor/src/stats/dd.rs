//! Double-double arithmetic (an unevaluated sum `hi + lo` of two `f64`s,
//! about 106 significant bits) and the binary-exponent helpers `frexp`/`ldexp`.
//!
//! Used by the one-sided Smirnov distribution, where powers such as
//! `(1 - x - v/n)^(n - v)` with `n` in the millions would lose ~`n` ulps of
//! accuracy in plain `f64` (SciPy's `cephes/kolmogorov.h` does the same).
//! The error-free transformations are the classical ones of Dekker (1971) and
//! Knuth (TAOCP vol. 2), as in the QD library of Hida, Li & Bailey.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// `x * 2^e`, exact unless the result over- or underflows.
pub(crate) fn ldexp(mut x: f64, mut e: i64) -> f64 {
    // 2^k built from its bit pattern, for -1022 <= k <= 1023.
    fn pow2(k: i64) -> f64 {
        // k + 1023 is in 1..=2046 here, so the cast cannot truncate.
        f64::from_bits(((k + 1023) as u64) << 52)
    }
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    while e > 1023 {
        x *= pow2(1023);
        e -= 1023;
        if x.is_infinite() {
            return x;
        }
    }
    while e < -1022 {
        // Step by 2^-1000 (not the full 2^-1022) so that the last step does the
        // only rounding into the subnormal range.
        x *= pow2(-1000);
        e += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * pow2(e)
}

/// Splits `x` into a mantissa in `[0.5, 1)` (with `x`'s sign) and an exponent,
/// `x = m * 2^e`, like C's `frexp`. Zero and non-finite values return `(x, 0)`.
pub(crate) fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let mut bits = x.to_bits();
    let mut adjust = 0;
    if (bits >> 52) & 0x7ff == 0 {
        // Subnormal: scale into the normal range first (2^54 is exact).
        bits = (x * f64::from_bits((1023 + 54) << 52)).to_bits();
        adjust = -54;
    }
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let mantissa = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (mantissa, biased - 1022 + adjust)
}

/// `a + b` and its exact rounding error.
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `a + b` and its error, assuming `|a| >= |b|`.
fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// Veltkamp split of `a` into two 26-bit halves.
fn split(a: f64) -> (f64, f64) {
    const SPLITTER: f64 = 134_217_729.0; // 2^27 + 1
    const THRESHOLD: f64 = 6.696_928_794_914_17e299; // 2^996
    if !(-THRESHOLD..=THRESHOLD).contains(&a) {
        let a = a * 3.725_290_298_461_914e-9; // 2^-28
        let t = SPLITTER * a;
        let hi = t - (t - a);
        let lo = a - hi;
        (hi * 268_435_456.0, lo * 268_435_456.0)
    } else {
        let t = SPLITTER * a;
        let hi = t - (t - a);
        (hi, a - hi)
    }
}

/// `a * b` and its exact rounding error (Dekker's product, no FMA needed).
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

/// A double-double number `hi + lo` with `|lo| <= ulp(hi) / 2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Dd {
    pub(crate) hi: f64,
    pub(crate) lo: f64,
}

impl Dd {
    pub(crate) const ONE: Dd = Dd { hi: 1.0, lo: 0.0 };

    pub(crate) const fn new(x: f64) -> Dd {
        Dd { hi: x, lo: 0.0 }
    }

    /// The exact product of two doubles.
    pub(crate) fn prod(a: f64, b: f64) -> Dd {
        let (hi, lo) = two_prod(a, b);
        Dd { hi, lo }
    }

    pub(crate) fn is_finite(self) -> bool {
        self.hi.is_finite() && self.lo.is_finite()
    }

    /// The largest integer not above `self`.
    pub(crate) fn floor(self) -> Dd {
        let hi = self.hi.floor();
        if hi == self.hi {
            let (hi, lo) = quick_two_sum(hi, self.lo.floor());
            Dd { hi, lo }
        } else {
            Dd { hi, lo: 0.0 }
        }
    }

    /// `self * 2^e`.
    pub(crate) fn ldexp(self, e: i64) -> Dd {
        Dd {
            hi: ldexp(self.hi, e),
            lo: ldexp(self.lo, e),
        }
    }

    /// Mantissa with `|hi|` in `[0.5, 1)` and the binary exponent.
    pub(crate) fn frexp(self) -> (Dd, i64) {
        let (hi, e) = frexp(self.hi);
        (
            Dd {
                hi,
                lo: ldexp(self.lo, -e),
            },
            e,
        )
    }
}

impl From<f64> for Dd {
    fn from(x: f64) -> Dd {
        Dd::new(x)
    }
}

impl Neg for Dd {
    type Output = Dd;
    fn neg(self) -> Dd {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

impl Add for Dd {
    type Output = Dd;
    fn add(self, b: Dd) -> Dd {
        let (s1, s2) = two_sum(self.hi, b.hi);
        let (t1, t2) = two_sum(self.lo, b.lo);
        let (s1, s2) = quick_two_sum(s1, s2 + t1);
        let (hi, lo) = quick_two_sum(s1, s2 + t2);
        Dd { hi, lo }
    }
}

impl Add<f64> for Dd {
    type Output = Dd;
    fn add(self, b: f64) -> Dd {
        let (s1, s2) = two_sum(self.hi, b);
        let (hi, lo) = quick_two_sum(s1, s2 + self.lo);
        Dd { hi, lo }
    }
}

impl Sub for Dd {
    type Output = Dd;
    fn sub(self, b: Dd) -> Dd {
        self + (-b)
    }
}

impl Sub<f64> for Dd {
    type Output = Dd;
    fn sub(self, b: f64) -> Dd {
        self + (-b)
    }
}

impl Mul for Dd {
    type Output = Dd;
    fn mul(self, b: Dd) -> Dd {
        let (p1, p2) = two_prod(self.hi, b.hi);
        let (hi, lo) = quick_two_sum(p1, p2 + (self.hi * b.lo + self.lo * b.hi));
        Dd { hi, lo }
    }
}

impl Mul<f64> for Dd {
    type Output = Dd;
    fn mul(self, b: f64) -> Dd {
        let (p1, p2) = two_prod(self.hi, b);
        let (hi, lo) = quick_two_sum(p1, p2 + self.lo * b);
        Dd { hi, lo }
    }
}

impl Div for Dd {
    type Output = Dd;
    fn div(self, b: Dd) -> Dd {
        // Long division with three partial quotients (QD's "accurate" division).
        let q1 = self.hi / b.hi;
        let r = self - b * q1;
        let q2 = r.hi / b.hi;
        let r = r - b * q2;
        let q3 = r.hi / b.hi;
        let (hi, lo) = quick_two_sum(q1, q2);
        Dd { hi, lo } + q3
    }
}

impl Div<f64> for Dd {
    type Output = Dd;
    fn div(self, b: f64) -> Dd {
        self / Dd::new(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_ldexp_round_trip() {
        for &x in &[1.0, -3.5, 1e-310, 5e-324, 1.7e308, 0.1, -0.75] {
            let (m, e) = frexp(x);
            assert!((0.5..1.0).contains(&m.abs()), "{x}: {m}");
            assert_eq!(ldexp(m, e), x);
        }
        assert_eq!(ldexp(1.0, -1074), 5e-324);
        assert_eq!(ldexp(1.0, -1080), 0.0);
        assert_eq!(ldexp(0.75, 1025), f64::INFINITY);
        assert_eq!(ldexp(ldexp(1.0, -1060), 1060), 1.0);
        assert_eq!(ldexp(ldexp(3.0, 1000), -1000), 3.0);
    }

    #[test]
    fn double_double_is_more_accurate_than_f64() {
        // 1/3 * 3 == 1 exactly in double-double, to ~1e-32.
        let third = Dd::ONE / 3.0;
        let one = third * 3.0 - 1.0;
        assert!(one.hi.abs() < 1e-31, "{one:?}");
        // (1 + 2^-60)^2 = 1 + 2^-59 + 2^-120: the 2^-59 survives.
        let x = Dd::ONE + ldexp(1.0, -60);
        let sq = x * x - 1.0;
        assert_eq!(sq.hi, ldexp(1.0, -59));
        assert_eq!(Dd::prod(3.0, 0.1).floor().hi, 0.0);
        assert_eq!(Dd::new(-2.5).floor().hi, -3.0);
    }
}

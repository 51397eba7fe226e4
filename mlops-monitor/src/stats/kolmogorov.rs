//! Exact finite-`n` Kolmogorov–Smirnov distributions, computed the way SciPy
//! computes them.
//!
//! * [`smirnov_sf`]: the one-sided statistic `D+_n`, `P(D+_n >= d)` —
//!   SciPy's `scipy.special.smirnov` (`special/cephes/kolmogorov.h`,
//!   `_smirnov`): the Birnbaum–Tingey / Smirnov sum evaluated in double-double
//!   arithmetic with scaled binomials and powers (van Mulbregt 2018).
//! * [`kstwo_sf`]: the two-sided statistic `D_n`, `P(D_n >= d)` — SciPy's
//!   `scipy.stats.kstwo.sf`, i.e. `scipy/stats/_ksstats.py::_kolmogn(n, d,
//!   cdf=False)`, which picks between the Ruben–Gambino closed forms, the
//!   Durbin matrix (Marsaglia–Tsang–Wang), the Pomeranz recursion,
//!   `2 * smirnov` and the Pelz–Good asymptotic series following Simard &
//!   L'Ecuyer (2011), with SciPy's exact cut-offs.

use super::dd::{Dd, ldexp};
use super::numeric::numpy_sum;
use std::f64::consts::{LN_2, PI};

/// `log(2^-1075)`: below this `exp` underflows to zero (`MINLOG` in SciPy's
/// `xsf/cephes/const.h`; classic cephes used `log(2^-1022)`).
const MINLOG: f64 = -7.451_332_191_019_412e2;
/// Above this `n`, `smirnov` uses the `exp(-(6nx+1)^2 / 18n)` approximation.
const SMIRNOV_MAX_COMPUTE_N: i64 = 1_000_000;
/// The upper (alternating) sum is used for at most this many terms...
const SM_UPPER_MAX_TERMS: i64 = 3;
/// ...and only when `n` is at least this.
const SM_UPPERSUM_MIN_N: i64 = 10;

fn clip01(p: f64) -> f64 {
    if p.is_nan() { p } else { p.clamp(0.0, 1.0) }
}

/// SciPy's DMTW and Pomeranz routines finish in NumPy `longdouble` (their
/// rescaling multiplies by a `longdouble` constant), including `sf = 1 - cdf`.
/// We carry those tails in double-double, which is at least as precise, and
/// round once at the end.
fn sf_from_extended_cdf(cdf: Dd) -> f64 {
    if cdf.hi.is_nan() {
        return f64::NAN;
    }
    let cdf = if cdf.hi < 0.0 {
        Dd::new(0.0)
    } else if cdf.hi > 1.0 || (cdf.hi == 1.0 && cdf.lo > 0.0) {
        Dd::ONE
    } else {
        cdf
    };
    clip01((Dd::ONE - cdf).hi)
}

/// `a^m` in double-double: `pow(a.hi, m)` corrected for `a.lo` to first order
/// (or via `expm1(m log1p(lo/hi))`), as SciPy's `pow_D`. May under/overflow.
fn pow_dd(a: Dd, m: i64) -> Dd {
    if m <= 0 {
        if m == 0 {
            return Dd::ONE;
        }
        return Dd::ONE / pow_dd(a, -m);
    }
    if a.hi == 0.0 {
        return Dd::new(0.0);
    }
    let mf = m as f64;
    let ans = a.hi.powf(mf);
    let r = a.lo / a.hi;
    let mut adj = mf * r;
    if adj.abs() > 1e-8 {
        if adj.abs() < 1e-4 {
            // First two terms of the Taylor series of (1 + r)^m.
            adj += (mf * r) * ((mf - 1.0) / 2.0 * r);
        } else {
            adj = (mf * r.ln_1p()).exp_m1();
        }
    }
    Dd::new(ans) + ans * adj
}

/// Smallest exponent scale SciPy keeps powers above (`2^-960`), so that both
/// halves of a double-double stay normal.
const SM_MAX_EXPONENT: i64 = 960;

/// SciPy's `nextPowerOf2` helper (despite its name, `x` nudged up by an ulp).
fn next_power_of_2(x: f64) -> f64 {
    let q = ldexp(x, 1 - 53);
    let l = (q + x).abs();
    if l == 0.0 {
        x.abs()
    } else {
        let truncated = l.trunc();
        if truncated == l { truncated } else { l }
    }
}

/// `a^m` as a mantissa (`|hi|` in `[0.5, 1)`) and a binary exponent, so that
/// powers far below the double range (`0.5^(10^6)`) keep full precision —
/// SciPy's `pow2Scaled_D`: one `pow` per block of at most `2^960` of range.
fn pow_scaled(a: Dd, m: i64) -> (Dd, i64) {
    if m <= 0 {
        if m == 0 {
            return (Dd::ONE, 0);
        }
        let (p, e1) = pow_scaled(a, -m);
        let (r, e2) = (Dd::ONE / p).frexp();
        return (r, e2 - e1);
    }
    let (y, y_exp) = a.frexp();
    if m == 1 {
        return (y, y_exp);
    }
    let mf = m as f64;
    let mut max_expt = SM_MAX_EXPONENT;
    if mf * (y.hi - 1.0) / y.hi < -(SM_MAX_EXPONENT as f64) * LN_2 {
        let lg2y = y.hi.ln() / LN_2;
        if mf * lg2y <= -(SM_MAX_EXPONENT as f64) {
            max_expt = (next_power_of_2(-(SM_MAX_EXPONENT as f64) / lg2y + 1.0) / 2.0) as i64;
        }
    }
    if max_expt < 1 || y.hi == 0.0 {
        // Not reachable for 0 < |a| (|y| >= 1/2 keeps max_expt >= 1); avoid dividing by 0.
        return (pow_dd(y, m), m * y_exp);
    }
    if m <= max_expt {
        let (ans, ans_exp) = pow_dd(y, m).frexp();
        return (ans, ans_exp + m * y_exp);
    }
    // y^m = (y^max_expt)^q * y^r
    let (q, r) = (m / max_expt, m % max_expt);
    let (y2r, y2r_exp) = pow_scaled(y, r);
    let (y2m, y2m_exp) = pow_scaled(y, max_expt);
    let (y2mq, y2mq_exp) = pow_scaled(y2m, q);
    let (ans, ans_exp) = (y2r * y2mq).frexp();
    (ans, ans_exp + y2mq_exp + y2m_exp * q + y2r_exp + m * y_exp)
}

/// Survival function of the one-sided Kolmogorov–Smirnov statistic,
/// `P(D+_n >= d)` for a sample of size `n` — SciPy's `scipy.special.smirnov(n, d)`.
///
/// Returns NaN when `n == 0` or `d` is outside `[0, 1]`.
///
/// ```
/// use mlops_monitor::stats::smirnov_sf;
/// // P(D+_1 >= d) = 1 - d
/// assert!((smirnov_sf(1, 0.25) - 0.75).abs() < 1e-15);
/// assert_eq!(smirnov_sf(10, 1.0), 0.0);
/// ```
pub fn smirnov_sf(n: u64, d: f64) -> f64 {
    let Ok(n) = i64::try_from(n) else {
        return f64::NAN;
    };
    // d >= 0 && d <= 1 is false for NaN as well.
    if n <= 0 || !(0.0..=1.0).contains(&d) {
        return f64::NAN;
    }
    let x = d;
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nf = n as f64;

    // floor(n x) and its fractional part, exactly (n*x is exact in double-double).
    let nx_dd = Dd::prod(nf, x);
    let nx_floor = nx_dd.floor();
    let mut alpha = (nx_dd - nx_floor).hi;
    let mut nxfl = nx_floor.hi as i64;
    if alpha == 1.0 {
        nxfl += 1;
        alpha = 0.0;
    }
    let mut n1mxfl = n - nxfl - if alpha == 0.0 { 0 } else { 1 };
    let mut n1mxceil = n - nxfl;
    if alpha == 0.0 {
        n1mxfl -= 1;
        n1mxceil += 1;
    }

    // x <= 1/n: closed form.
    if nxfl == 0 || (nxfl == 1 && alpha == 0.0) {
        let t = pow_dd(Dd::ONE + x, n - 1).hi;
        return 1.0 - x * t;
    }
    // The sf underflows.
    if (-2 * n) as f64 * x * x < MINLOG {
        return 0.0;
    }
    // x >= 1 - 1/n: closed form.
    if nxfl >= n - 1 {
        return pow_dd(Dd::ONE - x, n).hi;
    }
    if n > SMIRNOV_MAX_COMPUTE_N {
        let logp = -(6.0 * nf * x + 1.0).powf(2.0) / 18.0 / nf;
        return if logp < -LN_2 {
            logp.exp()
        } else {
            1.0 - (-logp.exp_m1())
        };
    }

    let n_upper_terms = n - n1mxceil + 1;
    let use_upper = (n_upper_terms <= 1 && x < 0.5)
        || (n >= SM_UPPERSUM_MIN_N && n_upper_terms <= SM_UPPER_MAX_TERMS && x <= 0.5 / nf.sqrt());

    let (start, step, n_terms) = if use_upper {
        (n, -1i64, n - n1mxceil + 1)
    } else {
        (0, 1i64, n1mxfl + 1)
    };
    let mut aj = if use_upper {
        pow_dd(Dd::ONE + x, n - 1)
    } else {
        pow_dd(Dd::ONE - x, n) / x
    };
    let mut aj_sum = aj;
    let vmid = n / 2;
    // Binomial(n, j) as a mantissa in [0.5, 1) and an exponent.
    let (mut c_man, mut c_exp) = (Dd::ONE, 0i64);
    let update_binomial = |c_man: &mut Dd, c_exp: &mut i64, j: i64| {
        let rat = Dd::new((n - j) as f64) / ((j + 1) as f64);
        let (m, e) = (*c_man * rat).frexp();
        *c_man = m;
        *c_exp += e;
    };
    update_binomial(&mut c_man, &mut c_exp, 0);
    for j in 1..n_terms {
        let v = start + j * step;
        // A_v = C(n, v) (1 - x - v/n)^(n - v) (x + v/n)^(v - 1)
        let t2x = Dd::new((n - v) as f64) / nf - x;
        let (t2, t2e) = pow_scaled(t2x, n - v);
        let t1x = Dd::new(v as f64) / nf + x;
        let (t1, t1e) = pow_scaled(t1x, v - 1);
        aj = (t1 * t2 * c_man).ldexp(c_exp + t1e + t2e);
        if aj.is_finite() && aj.hi != 0.0 {
            aj_sum = aj_sum + aj;
        }
        if aj.hi != 0.0 {
            if 4.0 * (n_terms - j) as f64 * aj.hi.abs() < f64::EPSILON * aj_sum.hi && j != n_terms - 1 {
                break;
            }
        } else if j > vmid {
            break;
        }
        update_binomial(&mut c_man, &mut c_exp, j);
    }
    let prob = (aj_sum * x).hi;
    let sf = if step < 0 { 1.0 - prob } else { prob };
    clip01(sf)
}

/// `log(n! / n^n)` by Stirling's series (SciPy's `_log_nfactorial_div_n_pow_n`).
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    // B_{2j} / (2j (2j - 1)) for j = 8, ..., 1 (SciPy's _STIRLING_COEFFS).
    const STIRLING: [f64; 8] = [
        -0.029550653594771242,
        0.00641025641025641,
        -0.0019175269175269176,
        0.0008417508417508417,
        -0.0005952380952380953,
        0.0007936507936507937,
        -0.002777777777777778,
        0.08333333333333333,
    ];
    let rn = 1.0 / n;
    let mut poly = 0.0;
    for c in STIRLING {
        poly = poly * (rn / n) + c;
    }
    n.ln() / 2.0 - n + (2.0 * PI).ln() / 2.0 + rn * poly
}

/// 2^128 and 2^-128, the rescaling factors of the DMTW and Pomeranz recursions.
const EP128: f64 = 3.402_823_669_209_385e38;
const EM128: f64 = 2.938_735_877_055_719e-39;

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                c[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    c
}

/// `P(D_n <= d)` by Durbin's matrix method as organised by Marsaglia, Tsang &
/// Wang (2003) — SciPy's `_kolmogn_DMTW`. Cost `O(k^3 log n)` with `k = ceil(n d)`.
fn kolmogn_dmtw_cdf(n: u64, d: f64) -> Dd {
    if d >= 1.0 {
        return Dd::ONE;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return Dd::new(0.0);
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;

    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powf(j as f64)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powf(m as f64) - 2.0 * h.powf(m as f64);
    v[m - 1] = (1.0 + tt) * fac;

    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }

    let mut hpwr = vec![0.0; m * m];
    for i in 0..m {
        hpwr[i * m + i] = 1.0;
    }
    let mut nn = n;
    let mut expnt: i64 = 0;
    let mut hexpnt: i64 = 0;
    while nn > 0 {
        if nn % 2 == 1 {
            hpwr = matmul(&hpwr, &hm, m);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm, m);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > EP128 {
            for x in hm.iter_mut() {
                *x /= EP128;
            }
            hexpnt += 128;
        }
        nn /= 2;
    }
    // Multiply by n!/n^n: f64 until the first rescale, extended precision
    // afterwards (where SciPy switches to longdouble).
    let mut p = hpwr[(k - 1) * m + (k - 1)];
    let mut p_ext: Option<Dd> = None;
    let nf = n as f64;
    for i in 1..=n {
        match p_ext.as_mut() {
            None => {
                p = i as f64 * p / nf;
                if p.abs() < EM128 {
                    p_ext = Some(Dd::new(p) * EP128);
                    expnt -= 128;
                }
            }
            Some(q) => {
                *q = *q * i as f64 / nf;
                if q.hi.abs() < EM128 {
                    *q = *q * EP128;
                    expnt -= 128;
                }
            }
        }
    }
    p_ext.unwrap_or(Dd::new(p)).ldexp(expnt)
}

/// Row interval of the Pomeranz recursion (SciPy's `_pomeranz_compute_j1j2`).
fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let ip1div2 = (i + 1) / 2;
        if (i + 1) % 2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// `P(D_n <= x)` by the Pomeranz (1974) recursion — SciPy's `_kolmogn_Pomeranz`.
/// Returns NaN if an index would leave its array (SciPy would raise there).
fn kolmogn_pomeranz_cdf(n: u64, x: f64) -> Dd {
    let nan = Dd::new(f64::NAN);
    let Ok(n) = i64::try_from(n) else {
        return nan;
    };
    let nf = n as f64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let Ok(npwrs) = usize::try_from(2 * (ll + 1)) else {
        return nan;
    };
    let mut gpower = vec![1.0; npwrs];
    let mut twogpower = vec![1.0; npwrs];
    let mut onem2gpower = vec![1.0; npwrs];
    let (g_n, two_g_n, one_m2g_n) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        let mf = m as f64;
        gpower[m] = gpower[m - 1] * g_n / mf;
        twogpower[m] = twogpower[m - 1] * two_g_n / mf;
        onem2gpower[m] = onem2gpower[m - 1] * one_m2g_n / mf;
    }

    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut expnt: i64 = 0;
    let (mut j1, _) = pomeranz_j1j2(0, n, ll, ceilf, roundf);
    for i in 1..(2 * n + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.fill(0.0);
        let (nj1, j2) = pomeranz_j1j2(i, n, ll, ceilf, roundf);
        j1 = nj1;
        let pwrs = if i == 1 || i == 2 * n + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = j2 - k1 + 1;
        if ln2 > 0 {
            let Ok(start) = usize::try_from(k1 - v0s) else {
                return nan;
            };
            let ln2 = ln2 as usize;
            // NumPy slices clip at the end of the array.
            let Some(src) = v0.get(start..(start + ln2).min(npwrs)) else {
                return nan;
            };
            let kernel = &pwrs[..ln2.min(npwrs)];
            if src.is_empty() || kernel.is_empty() {
                return nan;
            }
            // Full convolution, entries conv_start .. conv_start + conv_len.
            let conv_start = j1 - k1;
            let conv_len = j2 - j1 + 1;
            let (Ok(cs), Ok(cl)) = (usize::try_from(conv_start), usize::try_from(conv_len)) else {
                return nan;
            };
            if cl > npwrs {
                return nan;
            }
            let full_len = src.len() + kernel.len() - 1;
            if cs + cl > full_len {
                return nan;
            }
            for (out, idx) in v1[..cl].iter_mut().zip(cs..cs + cl) {
                // conv[idx] = sum_a src[a] * kernel[idx - a]
                let lo = idx.saturating_sub(kernel.len() - 1);
                let hi = idx.min(src.len() - 1);
                let mut s = 0.0;
                for a in lo..=hi {
                    s += src[a] * kernel[idx - a];
                }
                *out = s;
            }
            let vmax = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if 0.0 < vmax && vmax < EM128 {
                for v in v1.iter_mut() {
                    *v *= EP128;
                }
                expnt -= 128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let Some(&last) = usize::try_from(n - v1s).ok().and_then(|i| v1.get(i)) else {
        return nan;
    };
    // Multiply by n!: f64 until the first rescale, extended precision
    // afterwards (where SciPy switches to longdouble).
    let mut ans = last;
    let mut ans_ext: Option<Dd> = None;
    for m in 1..=n {
        match ans_ext.as_mut() {
            None => {
                if ans.abs() > EP128 {
                    ans_ext = Some(Dd::new(ans) * EM128 * m as f64);
                    expnt += 128;
                } else {
                    ans *= m as f64;
                }
            }
            Some(a) => {
                if a.hi.abs() > EP128 {
                    *a = *a * EM128;
                    expnt += 128;
                }
                *a = *a * m as f64;
            }
        }
    }
    ans_ext.unwrap_or(Dd::new(ans)).ldexp(expnt)
}

/// Pelz–Good (1976) approximation of `P(D_n <= x)` — SciPy's `_kolmogn_PelzGood`.
fn kolmogn_pelz_good_cdf(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let pi2 = PI.powf(2.0);
    let pi4 = PI.powf(4.0);
    let pi6 = PI.powf(6.0);
    let sqrt2pi = (2.0 * PI).sqrt();
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (zsq, z3, z4, z6) = (z.powf(2.0), z.powf(3.0), z.powf(4.0), z.powf(6.0));

    let qlog = -pi2 / 8.0 / zsq;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();

    let k1a = -zsq;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * zsq) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * zsq) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * zsq) / 64.0;
    let k3c = pi4 * (-60.0 * zsq + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powf(8.0);

    let mut kk = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for k in (1..=maxk).rev() {
        // Exact integer powers, as Python computes them.
        let m = 2 * k - 1;
        let (msq, m4, m6) = (m.pow(2) as f64, m.pow(4) as f64, m.pow(6) as f64);
        let qpower = q.powf((8 * k) as f64);
        let coeffs = [
            1.0,
            k1a + k1b * msq,
            k2a + k2b * msq + k2c * m4,
            k3a + k3b * msq + k3c * m4 + k3d * m6,
        ];
        for (acc, c) in kk.iter_mut().zip(coeffs) {
            *acc = *acc * qpower + c;
        }
    }
    let denoms = [z, 6.0 * z4, 72.0 * z.powf(7.0), 6480.0 * z.powf(10.0)];
    for (acc, d) in kk.iter_mut().zip(denoms) {
        *acc = *acc * q * sqrt2pi / d;
    }

    let q = (-pi2 / 2.0 / zsq).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let mut k2_terms = Vec::new();
    let mut k3_terms = Vec::new();
    for k in (1..=maxk).rev() {
        let ksq = (k * k) as f64;
        let qp = q.powf(ksq);
        let kspi = PI * k as f64;
        k2_terms.push(ksq * qp);
        k3_terms.push((sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp);
    }
    let k2extra = numpy_sum(&k2_terms) * (pi2 * sqrt2pi / (-36.0 * z3));
    kk[2] += k2extra;
    let k3extra = numpy_sum(&k3_terms) * (pi2 * sqrt2pi / (216.0 * z6));
    kk[3] += k3extra;
    let mut sum = 0.0;
    for (i, acc) in kk.iter().enumerate() {
        sum += acc / nf.powf(i as f64 / 2.0);
    }
    sum
}

/// Survival function of the two-sided one-sample Kolmogorov–Smirnov statistic,
/// `P(D_n >= d)` for a sample of size `n` — SciPy's `scipy.stats.kstwo.sf(d, n)`.
///
/// This is also the distribution SciPy's `ks_2samp` uses for its asymptotic
/// branch, with `n = round(n1 * n2 / (n1 + n2))`. Returns NaN for `n == 0` or NaN `d`.
///
/// ```
/// use mlops_monitor::stats::kstwo_sf;
/// assert_eq!(kstwo_sf(0.0, 10), 1.0);
/// assert_eq!(kstwo_sf(1.0, 10), 0.0);
/// // P(D_1 >= d) = 2 (1 - d) for d >= 1/2
/// assert!((kstwo_sf(0.75, 1) - 0.5).abs() < 1e-15);
/// ```
pub fn kstwo_sf(d: f64, n: u64) -> f64 {
    if n == 0 || d.is_nan() {
        return f64::NAN;
    }
    let nf = n as f64;
    // rv_continuous.sf: 1 at and below the support's lower end 0.5/n, 0 above 1.
    if d <= 0.5 / nf {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    kolmogn_sf(n, d)
}

/// SciPy's `_kolmogn(n, x, cdf=False)`.
fn kolmogn_sf(n: u64, x: f64) -> f64 {
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        // Ruben–Gambino: 1/(2n) <= x <= 1/n
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140 {
            let mut p = 1.0;
            for i in 1..=n {
                p *= i as f64 * (1.0 / nf) * (2.0 * t - 1.0);
            }
            p
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return clip01(1.0 - prob);
    }
    if t >= nf - 1.0 {
        return clip01(2.0 * (1.0 - x).powf(nf));
    }
    if x >= 0.5 {
        return clip01(2.0 * smirnov_sf(n, x));
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754_693 {
            return sf_from_extended_cdf(kolmogn_dmtw_cdf(n, x));
        }
        if nxsquared <= 4.0 {
            return sf_from_extended_cdf(kolmogn_pomeranz_cdf(n, x));
        }
        return clip01(2.0 * smirnov_sf(n, x));
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return clip01(2.0 * smirnov_sf(n, x));
    }
    let cdf = if nxsquared >= 18.0 {
        Dd::ONE
    } else if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        kolmogn_dmtw_cdf(n, x)
    } else {
        Dd::new(kolmogn_pelz_good_cdf(n, x))
    };
    sf_from_extended_cdf(cdf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_constants_are_exact_powers_of_two() {
        assert_eq!(EP128, ldexp(1.0, 128));
        assert_eq!(EM128, ldexp(1.0, -128));
    }

    #[test]
    fn closed_forms() {
        // P(D+_n >= d) = (1 - d)^n for d >= 1 - 1/n.
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(smirnov_sf(4, 0.8), 0.2f64.powi(4)) < 1e-14);
        // P(D_n >= d) = 2 (1 - d)^n for d >= 1 - 1/n (Ruben–Gambino).
        assert!(rel(kstwo_sf(0.9, 5), 2.0 * 0.1f64.powi(5)) < 1e-14);
        // Below the support: 1.
        assert_eq!(kstwo_sf(0.04, 10), 1.0);
        assert!(smirnov_sf(0, 0.5).is_nan() && kstwo_sf(f64::NAN, 3).is_nan());
    }
}

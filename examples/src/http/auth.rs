//! API keys: read from a file or the environment, kept only as SHA-256
//! digests, checked in constant time, never logged.

use std::path::Path;

use sha2::{Digest, Sha256};

/// The accepted keys (as digests).
#[derive(Clone)]
pub struct ApiKeys {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys, nor their digests.
        write!(f, "ApiKeys({} keys)", self.digests.len())
    }
}

/// Who a request came from, for throttling and logs: a short, stable id
/// derived from the key's digest (never the key).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientId(pub String);

impl ApiKeys {
    /// Keys from text: one per line; blank lines and `#` comments ignored.
    pub fn parse(text: &str) -> Result<ApiKeys, String> {
        let digests: Vec<[u8; 32]> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|key| Sha256::digest(key.as_bytes()).into())
            .collect();
        if digests.is_empty() {
            return Err("no API keys (one per line expected)".to_owned());
        }
        Ok(ApiKeys { digests })
    }

    /// Keys from a file (one per line).
    pub fn from_file(path: &Path) -> Result<ApiKeys, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read API keys from {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Keys from an environment variable (comma- or newline-separated), if set.
    pub fn from_env(variable: &str) -> Option<Result<ApiKeys, String>> {
        let value = std::env::var(variable).ok()?;
        Some(Self::parse(&value.replace(',', "\n")).map_err(|e| format!("${variable}: {e}")))
    }

    /// Checks an `Authorization` header value (`Bearer <key>`): the client's
    /// id when the key is one of ours. Every stored digest is compared, in
    /// constant time, whichever matches.
    pub fn check(&self, authorization: Option<&str>) -> Option<ClientId> {
        let key = authorization?.strip_prefix("Bearer ")?.trim();
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut found = false;
        for stored in &self.digests {
            found |= constant_time_eq(stored, &digest);
        }
        found.then(|| ClientId(format!("key-{}", hex(&digest[..4]))))
    }
}

/// Equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // `black_box` keeps the compiler from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_listed_keys_only_and_never_shows_them() {
        let keys = ApiKeys::parse("# team keys\nalpha-123\n\n beta-456 \n").unwrap();
        assert!(keys.check(Some("Bearer alpha-123")).is_some());
        assert!(keys.check(Some("Bearer beta-456")).is_some());
        assert!(keys.check(Some("Bearer gamma")).is_none());
        assert!(keys.check(Some("alpha-123")).is_none(), "the Bearer scheme is required");
        assert!(keys.check(None).is_none());
        assert_ne!(
            keys.check(Some("Bearer alpha-123")),
            keys.check(Some("Bearer beta-456"))
        );
        let shown = format!("{keys:?} {:?}", keys.check(Some("Bearer alpha-123")));
        assert!(!shown.contains("alpha") && !shown.contains("123"), "{shown}");
        assert!(ApiKeys::parse("\n# none\n").is_err());
    }
}

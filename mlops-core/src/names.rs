//! Names that become storage keys: model names, aliases, tag keys.

use crate::error::{Error, Result};

/// Longest accepted name.
pub const MAX_NAME_LEN: usize = 128;

/// Checks a model name, alias or tag key: 1–128 characters of `A–Z a–z 0–9 . _ -`,
/// starting with a letter or digit. This keeps every name a single, safe path
/// segment on every object store (no `/`, no `..`, no control characters).
pub fn validate_name(kind: &str, name: &str) -> Result<()> {
    let problem = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_NAME_LEN {
        Some("it is longer than 128 characters")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        Some("it contains a character outside A-Z a-z 0-9 . _ -")
    } else if !name.as_bytes()[0].is_ascii_alphanumeric() {
        Some("it does not start with a letter or digit")
    } else {
        None
    };
    match problem {
        Some(message) => Err(Error::invalid_input(
            kind,
            format!("`{}`", name.escape_debug()),
            message,
            "1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_traversal_and_odd_names() {
        for bad in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "-x",
            "a b",
            "naïve",
            "x\0",
            &"a".repeat(129),
            "..",
        ] {
            assert!(validate_name("model name", bad).is_err(), "{bad:?}");
        }
        for good in ["fraud", "fraud-detector_v2.1", "A", &"a".repeat(128)] {
            assert!(validate_name("model name", good).is_ok(), "{good:?}");
        }
    }
}

//! Ed25519 signatures over a package digest, verified against trusted keys
//! (the primitive of OpenSSF model signing: sign the digest of a manifest
//! that itself pins every file's digest).

use std::collections::BTreeMap;

use ed25519_dalek::{Signature as EdSignature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};

/// The signature file's name inside a package.
pub const SIGNATURE_FILE: &str = "signature.json";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str, what: &str) -> Result<[u8; N]> {
    let bad = || Error::corrupt(SIGNATURE_FILE, format!("{what} is not {N} bytes of lowercase hex"));
    if text.len() != 2 * N {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// A signing key (keep it secret); built from 32 secret bytes.
#[derive(Clone)]
pub struct PackageSigner(SigningKey);

impl std::fmt::Debug for PackageSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackageSigner(key_id {})", self.key_id())
    }
}

impl PackageSigner {
    /// A signer from a 32-byte secret seed.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        PackageSigner(SigningKey::from_bytes(&secret))
    }

    /// The public key, hex encoded: what verifiers put in their trusted set.
    pub fn key_id(&self) -> String {
        hex(self.0.verifying_key().as_bytes())
    }

    /// Signs a package digest.
    pub fn sign(&self, digest: &Digest) -> PackageSignature {
        PackageSignature {
            key_id: self.key_id(),
            signature: hex(&self.0.sign(digest.as_bytes()).to_bytes()),
        }
    }
}

/// A detached signature of a package digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSignature {
    /// Hex public key of the signer.
    pub key_id: String,
    /// Hex Ed25519 signature of the 32 digest bytes.
    pub signature: String,
}

impl PackageSignature {
    /// JSON bytes of the signature file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| Error::serialization(SIGNATURE_FILE, e))
    }

    /// Parses the signature file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::serialization(SIGNATURE_FILE, e))
    }
}

/// The public keys whose signatures a loader accepts.
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys {
    keys: BTreeMap<String, VerifyingKey>,
}

impl TrustedKeys {
    /// No trusted key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts a hex-encoded public key (a signer's [`PackageSigner::key_id`]).
    pub fn with_key(mut self, key_id: &str) -> Result<Self> {
        let bytes: [u8; 32] = unhex(key_id, "public key").map_err(|_| {
            Error::invalid_input("public key", "TrustedKeys::with_key", key_id, "64 lowercase hex digits")
        })?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|e| {
            Error::invalid_input(
                "public key",
                "TrustedKeys::with_key",
                e.to_string(),
                "a valid Ed25519 point",
            )
        })?;
        self.keys.insert(key_id.to_owned(), key);
        Ok(self)
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks that `signature` is a valid signature of `digest` by a trusted key.
    pub fn verify(&self, digest: &Digest, signature: &PackageSignature) -> Result<()> {
        let key = self
            .keys
            .get(&signature.key_id)
            .ok_or_else(|| Error::SignatureRejected {
                reason: format!("key {} is not trusted", signature.key_id),
            })?;
        let sig = EdSignature::from_bytes(&unhex::<64>(&signature.signature, "signature")?);
        key.verify(digest.as_bytes(), &sig)
            .map_err(|_| Error::SignatureRejected {
                reason: format!(
                    "the signature by {} does not match the package digest",
                    signature.key_id
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let signer = PackageSigner::from_secret([7; 32]);
        let digest = Digest::of(b"manifest");
        let sig = signer.sign(&digest);
        let trusted = TrustedKeys::new().with_key(&signer.key_id()).unwrap();
        trusted.verify(&digest, &sig).unwrap();
        assert!(trusted.verify(&Digest::of(b"other"), &sig).is_err());
        let stranger = PackageSigner::from_secret([8; 32]).sign(&digest);
        assert!(matches!(
            trusted.verify(&digest, &stranger),
            Err(Error::SignatureRejected { .. })
        ));
        let mut forged = sig.clone();
        forged.signature = "00".repeat(64);
        assert!(trusted.verify(&digest, &forged).is_err());
        assert!(TrustedKeys::new().with_key("zz").is_err());
        assert_eq!(PackageSignature::from_bytes(&sig.to_bytes().unwrap()).unwrap(), sig);
    }
}

//! Signed checkpoints of the access log's head: sequence number, head hash and time,
//! signed by the platform's checkpoint signer (a key whose certificate the Ed25519 root
//! issues, extended key usage timeStamping). Someone with database access can delete the
//! newest entries or rewrite the whole chain with recomputed hashes; neither can make the
//! chain agree with a checkpoint signed before. No I/O.

use data_encoding::BASE64;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::pki::{self, ChainError};
use crate::signing::{SealSigner, SealVerifier};

/// The `format` of a checkpoint, also the domain separator of what is signed.
pub const CHECKPOINT_FORMAT: &str = "zhengzhao-audit-checkpoint-v1";

/// A signed checkpoint, as published (`GET /api/v1/audit/checkpoint`, `DATA/audit/`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Always `zhengzhao-audit-checkpoint-v1`.
    #[schema(example = "zhengzhao-audit-checkpoint-v1")]
    pub format: String,
    /// The sequence number of the newest entry (0: empty log).
    #[schema(example = 1234)]
    pub seq: u64,
    /// That entry's hash, lowercase hex (64 zeros for an empty log).
    pub head: String,
    /// When it was signed, RFC 3339 UTC, whole seconds.
    #[schema(example = "2026-11-26T03:00:00Z")]
    pub at: String,
    /// The signer's certificate, DER, base64 (issued by the platform's Ed25519 root).
    pub cert: String,
    /// The signature over [`Checkpoint::signed_bytes`], base64 (Ed25519, 64 bytes).
    pub signature: String,
}

/// What a checkpoint states, once its signature and signer are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The newest entry's sequence number.
    pub seq: u64,
    /// Its hash.
    pub head: [u8; 32],
    /// When it was signed.
    pub at: OffsetDateTime,
}

/// Why a checkpoint is not to be believed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A field cannot be read.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// Its certificate is not a checkpoint signer of the platform's root.
    #[error("the checkpoint's signer is not the platform's checkpoint signer: {0}")]
    Signer(ChainError),
    /// The signature does not hold: the checkpoint was altered or forged.
    #[error("the checkpoint's signature does not verify: it was altered or forged")]
    BadSignature,
}

/// How the stored log disagrees with a valid checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointMismatch {
    /// The log ends before the checkpoint's head: its newest entries were deleted.
    #[error(
        "access log entries {from}–{to} are missing: the checkpoint signed at {at} has entry {to} as the head, the log ends at entry {}", .from - 1
    )]
    TailMissing {
        /// The first missing sequence number.
        from: u64,
        /// The checkpoint's head sequence number.
        to: u64,
        /// When the checkpoint was signed.
        at: String,
    },
    /// The entry at the checkpoint's head has another hash: the chain was rewritten.
    #[error(
        "access log entry {seq} does not match the checkpoint signed at {at} (head hash {expected}, stored {found}): the chain was rewritten"
    )]
    HeadMismatch {
        /// The checkpoint's head sequence number.
        seq: u64,
        /// The signed hash, hex.
        expected: String,
        /// The stored hash, hex.
        found: String,
        /// When the checkpoint was signed.
        at: String,
    },
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

impl Checkpoint {
    /// The bytes a checkpoint's signature covers: the format, a zero byte, the sequence
    /// number (8 bytes, big-endian), the head hash (32 bytes) and the time (Unix seconds,
    /// 8 bytes, big-endian).
    pub fn signed_bytes(seq: u64, head: &[u8; 32], at: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(CHECKPOINT_FORMAT.len() + 49);
        out.extend_from_slice(CHECKPOINT_FORMAT.as_bytes());
        out.push(0);
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(head);
        out.extend_from_slice(&at.to_be_bytes());
        out
    }

    /// Signs the head `(seq, head)` at `at` (whole seconds) with the signer's key and
    /// certificate.
    pub fn sign(seq: u64, head: [u8; 32], at: OffsetDateTime, cert_der: &[u8], signer: &SealSigner) -> Self {
        let at = at.replace_nanosecond(0).unwrap_or(at);
        let signature = signer.sign_raw(&Self::signed_bytes(seq, &head, at.unix_timestamp()));
        Self {
            format: CHECKPOINT_FORMAT.to_owned(),
            seq,
            head: hex::encode(head),
            at: rfc3339(at),
            cert: BASE64.encode(cert_der),
            signature: BASE64.encode(&signature),
        }
    }

    /// Checks the checkpoint: its fields, its signer's certificate up to one of
    /// `trusted_roots` at the signing time, and its signature.
    pub fn verify(&self, trusted_roots: &[Vec<u8>]) -> Result<VerifiedCheckpoint, CheckpointError> {
        let malformed = |what: &str| CheckpointError::Malformed(what.to_owned());
        if self.format != CHECKPOINT_FORMAT {
            return Err(malformed("unknown format"));
        }
        let head: [u8; 32] = hex::decode(&self.head)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| malformed("head is not 64 hex digits"))?;
        let at = OffsetDateTime::parse(&self.at, &Rfc3339).map_err(|_| malformed("at is not RFC 3339"))?;
        let cert = BASE64.decode(self.cert.as_bytes()).map_err(|_| malformed("cert is not base64"))?;
        let signature =
            BASE64.decode(self.signature.as_bytes()).map_err(|_| malformed("signature is not base64"))?;
        pki::validate_audit_signer(&cert, trusted_roots, at).map_err(CheckpointError::Signer)?;
        let spki = spki_of(&cert)?;
        let verifier = SealVerifier::from_spki_der(&spki).map_err(|_| CheckpointError::BadSignature)?;
        verifier
            .verify_raw(&Self::signed_bytes(self.seq, &head, at.unix_timestamp()), &signature)
            .map_err(|_| CheckpointError::BadSignature)?;
        Ok(VerifiedCheckpoint { seq: self.seq, head, at })
    }
}

/// The SubjectPublicKeyInfo DER of a certificate.
fn spki_of(cert_der: &[u8]) -> Result<Vec<u8>, CheckpointError> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der)
        .map_err(|e| CheckpointError::Malformed(format!("cert: {e}")))?;
    Ok(cert.public_key().raw.to_vec())
}

impl VerifiedCheckpoint {
    /// Compares the stored log with the checkpoint: `verified` entries passed the chain
    /// check, and `hash_at_seq` is the stored hash of entry `self.seq` (if the log reaches
    /// it). A log that grew after the checkpoint agrees as long as the checkpoint's head is
    /// in it unchanged.
    pub fn compare(&self, verified: u64, hash_at_seq: Option<&[u8]>) -> Result<(), CheckpointMismatch> {
        if self.seq == 0 {
            return Ok(());
        }
        if verified < self.seq {
            return Err(CheckpointMismatch::TailMissing {
                from: verified + 1,
                to: self.seq,
                at: rfc3339(self.at),
            });
        }
        match hash_at_seq {
            Some(h) if h == self.head.as_slice() => Ok(()),
            found => Err(CheckpointMismatch::HeadMismatch {
                seq: self.seq,
                expected: hex::encode(self.head),
                found: found.map(hex::encode).unwrap_or_default(),
                at: rfc3339(self.at),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use ring::rand::SystemRandom;
    use time::Duration;

    use super::*;
    use crate::pki::{Algorithm, PrivateKey, make_root};

    struct Keys {
        root: Vec<u8>,
        root_key: PrivateKey,
        cert: Vec<u8>,
        signer: SealSigner,
    }

    fn keys(now: OffsetDateTime) -> Keys {
        let rng = SystemRandom::new();
        let root_key = PrivateKey::generate(Algorithm::Ed25519, &rng).unwrap();
        let root = make_root(
            Algorithm::Ed25519,
            "测试平台",
            &root_key,
            now - Duration::days(1),
            now + Duration::days(3650),
            [1; 16],
        )
        .unwrap();
        let key = PrivateKey::generate(Algorithm::Ed25519, &rng).unwrap();
        let cert = pki::issue_audit_cert(
            "测试平台",
            &key.public_key_spki_der(),
            &root,
            &root_key,
            now - Duration::days(1),
            now + Duration::days(365),
            [2; 16],
        )
        .unwrap();
        Keys { root, root_key, cert, signer: SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap() }
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let k = keys(now);
        let roots = vec![k.root.clone()];
        let cp = Checkpoint::sign(7, [9; 32], now, &k.cert, &k.signer);
        let v = cp.verify(&roots).unwrap();
        assert_eq!((v.seq, v.head, v.at), (7, [9; 32], now));
        let json = serde_json::to_string(&cp).unwrap();
        assert_eq!(serde_json::from_str::<Checkpoint>(&json).unwrap(), cp);

        let mut c = cp.clone();
        c.seq = 6;
        assert_eq!(c.verify(&roots), Err(CheckpointError::BadSignature));
        let mut c = cp.clone();
        c.head = hex::encode([8; 32]);
        assert_eq!(c.verify(&roots), Err(CheckpointError::BadSignature));
        let mut c = cp.clone();
        c.at = "2026-01-01T00:00:00Z".into();
        assert!(c.verify(&roots).is_err());
        let mut c = cp.clone();
        c.head = "zz".into();
        assert!(matches!(c.verify(&roots), Err(CheckpointError::Malformed(_))));
    }

    #[test]
    fn only_the_roots_checkpoint_signer_may_sign() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let k = keys(now);
        let roots = vec![k.root.clone()];
        // The root key itself, presenting the root certificate.
        let root_signer = SealSigner::from_pkcs8_der(k.root_key.pkcs8_der()).unwrap();
        let cp = Checkpoint::sign(7, [9; 32], now, &k.root, &root_signer);
        assert_eq!(cp.verify(&roots), Err(CheckpointError::Signer(ChainError::WrongKeyUsage)));
        // Another key presenting the signer's certificate.
        let other = keys(now);
        let cp = Checkpoint::sign(7, [9; 32], now, &k.cert, &other.signer);
        assert_eq!(cp.verify(&roots), Err(CheckpointError::BadSignature));
        // A signer of another root.
        let cp = Checkpoint::sign(7, [9; 32], now, &other.cert, &other.signer);
        assert!(matches!(cp.verify(&roots), Err(CheckpointError::Signer(_))));
    }

    #[test]
    fn a_deleted_tail_and_a_rewritten_head_are_told_apart() {
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let v = VerifiedCheckpoint { seq: 7, head: [9; 32], at: now };
        assert_eq!(v.compare(7, Some(&[9; 32])), Ok(()));
        assert_eq!(v.compare(12, Some(&[9; 32])), Ok(()));
        let e = v.compare(4, None).unwrap_err();
        assert!(matches!(e, CheckpointMismatch::TailMissing { from: 5, to: 7, .. }), "{e}");
        assert!(e.to_string().contains("5–7"), "{e}");
        let e = v.compare(7, Some(&[1; 32])).unwrap_err();
        assert!(matches!(e, CheckpointMismatch::HeadMismatch { seq: 7, .. }), "{e}");
        let empty = VerifiedCheckpoint { seq: 0, head: [0; 32], at: now };
        assert_eq!(empty.compare(0, None), Ok(()));
    }
}

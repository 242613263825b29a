//! The seal algorithms and every identifier that names them: the one [`Algorithm`] enum
//! of the platform and the one place for each algorithm's OIDs, COSE and JOSE names.
//!
//! Adding an algorithm means a variant here, its rows in the tables below,
//! and a file next to this one that signs and verifies with it.

use std::fmt;
use std::str::FromStr;

use der::asn1::ObjectIdentifier;

/// Object identifiers of keys and signatures (RFC 8410, RFC 5480, RFC 5758).
pub mod oid {
    use der::asn1::ObjectIdentifier;

    /// id-Ed25519: the key and the signature algorithm (RFC 8410).
    pub const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
    /// id-ecPublicKey: an elliptic-curve key, its curve in the parameters (RFC 5480).
    pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    /// secp256r1 / prime256v1, the named curve of P-256 keys (RFC 5480).
    pub const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    /// ecdsa-with-SHA256 (RFC 5758).
    pub const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
    /// The SM2 curve (GB/T 33560, GM/T 0006), the named curve of SM2 keys.
    pub const SM2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
    /// SM2-with-SM3 (GM/T 0006): the signature algorithm, without parameters.
    pub const SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
    /// SM3 (GB/T 32905), the hash.
    pub const SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.401");
}

/// The COSE `alg` of SM2-with-SM3 tokens. COSE has no registered SM2 algorithm, so this is
/// a value of the private-use range (integers below -65536 in the IANA "COSE Algorithms" registry).
/// A token carries it in its protected header; the signature is SM2 over
/// `SM3(Z ‖ Sig_structure)` with the default ID `1234567812345678`, as `r‖s` (64 bytes).
pub const COSE_SM2_SM3: i64 = -65_600;

/// A signature algorithm of the platform's keys, certificates, tokens and PDF signatures.
///
/// Chains are homogeneous: an Ed25519 seal is issued by the Ed25519 root, a P-256 seal by
/// the P-256 root, an SM2 seal by the SM2 root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Ed25519 (RFC 8032, RFC 8410): the default.
    #[default]
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256: for validators without Ed25519 (NSS, Adobe).
    P256,
    /// SM2 with SM3 (GB/T 32918, GB/T 32905): the national commercial cryptography that
    /// government systems in China must use. Not for PAdES (no PDF validator accepts it).
    Sm2,
}

impl Algorithm {
    /// Every algorithm the platform makes roots, seals and CRLs with, default first.
    pub const ALL: [Algorithm; 3] = [Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2];

    /// The short machine name: `"ed25519"`, `"p256"` or `"sm2"` (as in `Display`, `FromStr`,
    /// serde).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::P256 => "p256",
            Algorithm::Sm2 => "sm2",
        }
    }

    /// The human name used in certificate names: `"Ed25519"`, `"P-256"` or `"SM2"`.
    pub fn label(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "Ed25519",
            Algorithm::P256 => "P-256",
            Algorithm::Sm2 => "SM2",
        }
    }

    /// The OID of the signature algorithm in X.509 and CMS `AlgorithmIdentifier`s.
    pub fn signature_oid(self) -> ObjectIdentifier {
        match self {
            Algorithm::Ed25519 => oid::ED25519,
            Algorithm::P256 => oid::ECDSA_WITH_SHA256,
            Algorithm::Sm2 => oid::SM2_WITH_SM3,
        }
    }

    /// The COSE algorithm of tokens signed with this key type (EdDSA −8, ES256 −7, SM2
    /// [`COSE_SM2_SM3`]).
    pub fn cose(self) -> coset::Algorithm {
        use coset::iana::Algorithm as Iana;
        match self {
            Algorithm::Ed25519 => coset::Algorithm::Assigned(Iana::EdDSA),
            Algorithm::P256 => coset::Algorithm::Assigned(Iana::ES256),
            Algorithm::Sm2 => coset::Algorithm::PrivateUse(COSE_SM2_SM3),
        }
    }

    /// The algorithm of a COSE `alg` header, if it is one of ours.
    pub fn from_cose(alg: &coset::Algorithm) -> Option<Self> {
        [Self::Ed25519, Self::P256, Self::Sm2].into_iter().find(|a| a.cose() == *alg)
    }

    /// The algorithm of a COSE `alg` integer (EdDSA −8, ES256 −7, [`COSE_SM2_SM3`]), if it
    /// is one of ours: what the token reader meets in a protected header.
    pub fn from_cose_int(alg: i64) -> Option<Self> {
        use coset::iana::EnumI64 as _;
        [Self::Ed25519, Self::P256, Self::Sm2].into_iter().find(|a| match a.cose() {
            coset::Algorithm::Assigned(assigned) => assigned.to_i64() == alg,
            coset::Algorithm::PrivateUse(private) => private == alg,
            coset::Algorithm::Text(_) => false,
        })
    }

    /// The JWS `alg` (RFC 8037 `EdDSA`, RFC 7518 `ES256`), if JOSE has one (SM2 has none:
    /// the trust list and other JWS stay Ed25519 or P-256).
    pub fn jose(self) -> Option<&'static str> {
        match self {
            Algorithm::Ed25519 => Some("EdDSA"),
            Algorithm::P256 => Some("ES256"),
            Algorithm::Sm2 => None,
        }
    }

    /// Whether PDF signatures (PAdES) may use this algorithm: no PAdES validator accepts SM2.
    pub fn signs_pdf(self) -> bool {
        !matches!(self, Algorithm::Sm2)
    }

    /// Whether seals of this algorithm sign OFD documents: GB/T 38540 seal signatures are
    /// SM2 with SM3, so only SM2 seals do.
    pub fn signs_ofd(self) -> bool {
        matches!(self, Algorithm::Sm2)
    }

    /// Detects the algorithm of a key from its `AlgorithmIdentifier`: the key OID and, for
    /// EC keys, the named curve in the parameters. The error names what is unsupported.
    pub fn from_key_oids(key: &ObjectIdentifier, curve: Option<&ObjectIdentifier>) -> Result<Self, String> {
        if *key == oid::ED25519 {
            return Ok(Algorithm::Ed25519);
        }
        if *key != oid::EC_PUBLIC_KEY {
            return Err(format!("key OID {key}"));
        }
        match curve {
            Some(c) if *c == oid::P256 => Ok(Algorithm::P256),
            Some(c) if *c == oid::SM2 => Ok(Algorithm::Sm2),
            Some(c) => Err(format!("EC curve {c}")),
            None => Err("EC key without a named curve".to_owned()),
        }
    }

    /// [`Algorithm::from_key_oids`] for OIDs given as their DER content octets (as
    /// `x509-parser` holds them).
    pub fn from_key_oid_bytes(key: &[u8], curve: Option<&[u8]>) -> Result<Self, String> {
        let parse = |b: &[u8]| {
            ObjectIdentifier::from_bytes(b).map_err(|e| format!("unreadable key algorithm OID: {e}"))
        };
        let curve = curve.map(parse).transpose()?;
        Self::from_key_oids(&parse(key)?, curve.as_ref())
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = ParseEnumError;

    /// Parses `"ed25519"`, `"p256"` or `"sm2"` (case-insensitive; `"p-256"` is also accepted).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" => Ok(Algorithm::Ed25519),
            "p256" | "p-256" => Ok(Algorithm::P256),
            "sm2" => Ok(Algorithm::Sm2),
            _ => {
                Err(ParseEnumError { what: "algorithm", value: s.to_owned(), allowed: "ed25519, p256, sm2" })
            }
        }
    }
}

/// Error of the `FromStr` implementations of [`Algorithm`] and
/// [`crate::pki::RevocationReason`]: names the value given and the values allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}; allowed values: {allowed}")]
pub struct ParseEnumError {
    /// What was being parsed ("algorithm", "revocation reason").
    pub what: &'static str,
    /// The text given.
    pub value: String,
    /// The allowed values, comma separated.
    pub allowed: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip() {
        for alg in [Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2] {
            assert_eq!(alg.to_string().parse::<Algorithm>().unwrap(), alg);
            assert_eq!(serde_name_parses(alg.as_str()), alg);
        }
        assert_eq!("P-256".parse::<Algorithm>().unwrap(), Algorithm::P256);
        assert_eq!(Algorithm::default(), Algorithm::Ed25519);
        let err = "rsa".parse::<Algorithm>().unwrap_err();
        assert!(err.to_string().contains("ed25519, p256, sm2"), "{err}");
        assert!(err.to_string().contains("\"rsa\""), "{err}");
    }

    /// serde's derived names, read back through serde's own string deserializer.
    fn serde_name_parses(name: &str) -> Algorithm {
        use serde::Deserialize as _;
        use serde::de::value::{Error, StrDeserializer};
        Algorithm::deserialize(StrDeserializer::<Error>::new(name)).unwrap()
    }

    #[test]
    fn identifiers_round_trip() {
        for alg in [Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2] {
            assert_eq!(Algorithm::from_cose(&alg.cose()), Some(alg));
            let int = match alg {
                Algorithm::Ed25519 => -8,
                Algorithm::P256 => -7,
                Algorithm::Sm2 => COSE_SM2_SM3,
            };
            assert_eq!(Algorithm::from_cose_int(int), Some(alg));
            let (key, curve) = match alg {
                Algorithm::Ed25519 => (oid::ED25519, None),
                Algorithm::P256 => (oid::EC_PUBLIC_KEY, Some(oid::P256)),
                Algorithm::Sm2 => (oid::EC_PUBLIC_KEY, Some(oid::SM2)),
            };
            assert_eq!(Algorithm::from_key_oids(&key, curve.as_ref()), Ok(alg));
        }
        assert_eq!(Algorithm::from_cose(&coset::Algorithm::Assigned(coset::iana::Algorithm::ES384)), None);
        for foreign in [-35, -36, 0, 1, -65_601, i64::MIN] {
            assert_eq!(Algorithm::from_cose_int(foreign), None, "{foreign}");
        }
        let p384 = ObjectIdentifier::new_unwrap("1.3.132.0.34");
        assert_eq!(
            Algorithm::from_key_oids(&oid::EC_PUBLIC_KEY, Some(&p384)),
            Err("EC curve 1.3.132.0.34".into())
        );
    }
}

//! Seal and root private keys: generation, PKCS#8 (plain or encrypted PEM), signing.

use std::fmt;

use pkcs8::der::pem::LineEnding;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::PkiError;
use crate::signing::{Algorithm, SealSigner, SigningError};

/// DER prefix of an Ed25519 PKCS#8 v1 private key (RFC 8410 §7); the 32-byte seed follows.
const ED25519_PKCS8_V1_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// PEM label of a plain PKCS#8 key.
const PEM_PRIVATE_KEY: &str = "PRIVATE KEY";
/// PEM label of a PKCS#8 key encrypted with PBES2.
const PEM_ENCRYPTED_PRIVATE_KEY: &str = "ENCRYPTED PRIVATE KEY";

/// scrypt cost for keys at rest: log2(N) = 14, r = 8, p = 1 (16 MiB; what OpenSSL 3 reads).
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// A private key (Ed25519, P-256 or SM2) held as PKCS#8 DER that is wiped from memory on drop.
///
/// `Debug` shows the algorithm only, never key bytes.
#[derive(Clone)]
pub struct PrivateKey {
    alg: Algorithm,
    pkcs8: Zeroizing<Vec<u8>>,
    spki: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey").field("algorithm", &self.alg).field("key", &"<redacted>").finish()
    }
}

impl PrivateKey {
    /// Generates a new key of the given algorithm from `rng`.
    pub fn generate(alg: Algorithm, rng: &dyn SecureRandom) -> Result<Self, PkiError> {
        let doc = match alg {
            Algorithm::Ed25519 => Ed25519KeyPair::generate_pkcs8(rng).map(|d| d.as_ref().to_vec()),
            Algorithm::P256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, rng)
                .map(|d| d.as_ref().to_vec()),
            Algorithm::Sm2 => {
                return Self::from_pkcs8_der(
                    &crate::signing::sm2::generate_pkcs8(rng).map_err(|_| PkiError::Rng)?,
                );
            }
        }
        .map_err(|_| PkiError::Rng)?;
        Self::from_pkcs8_der(&Zeroizing::new(doc))
    }

    /// Reads a plain PKCS#8 DER key, detecting its algorithm; any algorithm other than
    /// Ed25519, P-256 or SM2 is refused ([`PkiError::UnsupportedAlgorithm`]).
    ///
    /// Accepts PKCS#8 v1 (as OpenSSL writes Ed25519 keys) and v2 (as `ring` writes them).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, PkiError> {
        let info = pkcs8::PrivateKeyInfoRef::try_from(der)
            .map_err(|e| PkiError::MalformedKey(format!("not an unencrypted PKCS#8 private key: {e}")))?;
        let signer = SealSigner::from_pkcs8_der(der).map_err(|e| match e {
            SigningError::UnsupportedKey(what) => PkiError::UnsupportedAlgorithm(what),
            other => PkiError::MalformedKey(other.to_string()),
        })?;
        let alg = signer.algorithm();
        let pkcs8 = match alg {
            // ring writes Ed25519 keys as PKCS#8 v2 (with the public key), which OpenSSL 3.0
            // cannot read; keep the RFC 8410 v1 form that every tool reads.
            Algorithm::Ed25519 => {
                let seed = match info.private_key.as_bytes() {
                    [0x04, 0x20, seed @ ..] if seed.len() == 32 => seed,
                    _ => {
                        return Err(PkiError::MalformedKey(
                            "Ed25519 private key is not a 32-byte CurvePrivateKey".to_owned(),
                        ));
                    }
                };
                let mut v1 = Zeroizing::new(Vec::with_capacity(48));
                v1.extend_from_slice(&ED25519_PKCS8_V1_PREFIX);
                v1.extend_from_slice(seed);
                v1
            }
            Algorithm::P256 | Algorithm::Sm2 => Zeroizing::new(der.to_vec()),
        };
        Ok(PrivateKey { alg, pkcs8, spki: signer.public_key_spki_der() })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        self.spki.clone()
    }

    /// The key id: hex SHA-256 of the public key's SubjectPublicKeyInfo DER (see [`key_id`]).
    pub fn key_id(&self) -> String {
        key_id(&self.spki)
    }

    /// The PKCS#8 DER of the key, for signing code (COSE, CMS). Do not log it.
    ///
    /// Ed25519 keys are always given in the PKCS#8 v1 form of RFC 8410 (no public key), which
    /// OpenSSL, ring and ed25519-dalek all read; P-256 keys as SEC1-in-PKCS#8 with the public key.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// PEM-encodes the key: `PRIVATE KEY` without a passphrase, `ENCRYPTED PRIVATE KEY`
    /// (PBES2, scrypt log2(N)=14 r=8 p=1, AES-256-CBC) with one.
    ///
    /// Salt and IV come from the operating system's RNG; use
    /// [`PrivateKey::to_encrypted_pem_with_rng`] to supply them.
    pub fn to_pem(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>, PkiError> {
        match passphrase {
            None => Ok(Zeroizing::new(super::pem::pem_encode(PEM_PRIVATE_KEY, &self.pkcs8))),
            Some(pass) => self.to_encrypted_pem_with_rng(pass, &SystemRandom::new()),
        }
    }

    /// PEM-encodes the key encrypted under `passphrase` (`ENCRYPTED PRIVATE KEY`), with the
    /// scrypt salt and AES IV drawn from `rng`.
    pub fn to_encrypted_pem_with_rng(
        &self,
        passphrase: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Zeroizing<String>, PkiError> {
        if passphrase.is_empty() {
            return Err(PkiError::EmptyPassphrase);
        }
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        rng.fill(&mut salt).map_err(|_| PkiError::Rng)?;
        rng.fill(&mut iv).map_err(|_| PkiError::Rng)?;
        let scrypt = pkcs8::pkcs5::scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
            .map_err(|e| PkiError::Encryption(e.to_string()))?;
        let params = pkcs8::pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(scrypt, &salt, iv)
            .map_err(|e| PkiError::Encryption(e.to_string()))?;
        let info = pkcs8::PrivateKeyInfoRef::try_from(self.pkcs8.as_slice())
            .map_err(|e| PkiError::MalformedKey(e.to_string()))?;
        let doc =
            info.encrypt_with_params(params, passphrase).map_err(|e| PkiError::Encryption(e.to_string()))?;
        doc.to_pem(PEM_ENCRYPTED_PRIVATE_KEY, LineEnding::LF).map_err(|e| PkiError::Encryption(e.to_string()))
    }

    /// Reads a PEM key written by [`PrivateKey::to_pem`] or by OpenSSL (`openssl genpkey`,
    /// `openssl pkcs8 -topk8`).
    ///
    /// Errors: [`PkiError::PassphraseRequired`] for an encrypted key without a passphrase,
    /// [`PkiError::WrongPassphrase`] when the passphrase does not decrypt it,
    /// [`PkiError::MalformedKey`] for anything that is not a PKCS#8 key. A passphrase given
    /// for an unencrypted key is ignored.
    pub fn from_pem(pem: &str, passphrase: Option<&[u8]>) -> Result<Self, PkiError> {
        let (label, doc) = pkcs8::SecretDocument::from_pem(pem.trim())
            .map_err(|e| PkiError::MalformedKey(format!("not a PEM private key: {e}")))?;
        match label {
            PEM_PRIVATE_KEY => Self::from_pkcs8_der(doc.as_bytes()),
            PEM_ENCRYPTED_PRIVATE_KEY => {
                let Some(pass) = passphrase else {
                    return Err(PkiError::PassphraseRequired);
                };
                let enc = pkcs8::EncryptedPrivateKeyInfoRef::try_from(doc.as_bytes())
                    .map_err(|e| PkiError::MalformedKey(format!("bad encrypted PKCS#8 structure: {e}")))?;
                // AES-CBC with a wrong key fails on padding, or, rarely, yields bytes that
                // are not DER: both mean the passphrase is wrong.
                let plain = enc.decrypt(pass).map_err(|_| PkiError::WrongPassphrase)?;
                match Self::from_pkcs8_der(plain.as_bytes()) {
                    Err(PkiError::MalformedKey(_)) => Err(PkiError::WrongPassphrase),
                    other => other,
                }
            }
            "EC PRIVATE KEY" | "RSA PRIVATE KEY" | "OPENSSH PRIVATE KEY" => Err(PkiError::MalformedKey(
                format!("{label} is not PKCS#8; convert it with `openssl pkcs8 -topk8`"),
            )),
            other => Err(PkiError::MalformedKey(format!(
                "unexpected PEM label {other:?}, expected {PEM_PRIVATE_KEY:?} or {PEM_ENCRYPTED_PRIVATE_KEY:?}"
            ))),
        }
    }
}

/// The key id of a public key: lowercase hex SHA-256 of its SubjectPublicKeyInfo DER.
pub fn key_id(spki_der: &[u8]) -> String {
    hex::encode(Sha256::digest(spki_der))
}

/// A random certificate serial number: 16 bytes, positive (top bit clear) and with a
/// non-zero leading byte, so that it always encodes as exactly 16 DER octets.
pub fn random_serial(rng: &dyn SecureRandom) -> Result<[u8; 16], PkiError> {
    let mut serial = [0u8; 16];
    rng.fill(&mut serial).map_err(|_| PkiError::Rng)?;
    serial[0] &= 0x7f;
    if serial[0] == 0 {
        serial[0] = 0x01;
    }
    Ok(serial)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::test_support::rng;

    #[test]
    fn pem_round_trip_plain_and_encrypted() {
        for alg in [Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2] {
            let key = PrivateKey::generate(alg, &rng()).unwrap();

            let plain = key.to_pem(None).unwrap();
            assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{}", &*plain);
            let back = PrivateKey::from_pem(&plain, None).unwrap();
            assert_eq!(back.pkcs8_der(), key.pkcs8_der());

            let enc = key.to_pem(Some(b"correct horse")).unwrap();
            assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
            let back = PrivateKey::from_pem(&enc, Some(b"correct horse")).unwrap();
            assert_eq!(back.pkcs8_der(), key.pkcs8_der());
            assert_eq!(back.algorithm(), alg);

            assert_eq!(
                PrivateKey::from_pem(&enc, Some(b"battery staple")).unwrap_err(),
                PkiError::WrongPassphrase
            );
            assert_eq!(PrivateKey::from_pem(&enc, None).unwrap_err(), PkiError::PassphraseRequired);
        }
    }

    #[test]
    fn bad_key_input_is_malformed() {
        let garbage = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
        assert!(matches!(PrivateKey::from_pem(garbage, None), Err(PkiError::MalformedKey(_))));
        assert!(matches!(PrivateKey::from_pem("hello", None), Err(PkiError::MalformedKey(_))));
        assert!(matches!(
            PrivateKey::from_pkcs8_der(b"\x30\x03\x02\x01\x00"),
            Err(PkiError::MalformedKey(_))
        ));
        let key = PrivateKey::generate(Algorithm::Ed25519, &rng()).unwrap();
        assert_eq!(key.to_pem(Some(b"")).unwrap_err(), PkiError::EmptyPassphrase);
    }

    #[test]
    fn openssl_sm2_key_is_read() {
        // `openssl genpkey -algorithm SM2` (OpenSSL 3.0): id-ecPublicKey with the SM2 curve.
        let pem = "-----BEGIN PRIVATE KEY-----\n\
                   MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgGiAR2U7i1VtzItPF\n\
                   KYH5PoVdXNS2f3eCSqzR9VdyAcahRANCAAQvZTfkH7CQTDs7u7FtdJFBwpUUEY+9\n\
                   qS0oVtshgtIVU9y2s4NTV8nRggLkp4jewkPtRcjUqMTxH4z8wG0/7GRs\n\
                   -----END PRIVATE KEY-----\n";
        let key = PrivateKey::from_pem(pem, None).unwrap();
        assert_eq!(key.algorithm(), Algorithm::Sm2);
        // `openssl pkey -pubout` gives this point.
        assert!(hex::encode(key.public_key_spki_der()).ends_with(
            "042f6537e41fb0904c3b3bbbb16d749141c29514118fbda92d2856db2182d21553dc\
             b6b3835357c9d18202e4a788dec243ed45c8d4a8c4f11f8cfcc06d3fec646c"
        ));
    }

    #[test]
    fn openssl_style_ed25519_v1_key_is_read() {
        // `openssl genpkey -algorithm ed25519` output (PKCS#8 v1, no public key; RFC 8410 §10.3).
        let pem = "-----BEGIN PRIVATE KEY-----\n\
                   MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
                   -----END PRIVATE KEY-----\n";
        let key = PrivateKey::from_pem(pem, None).unwrap();
        assert_eq!(key.algorithm(), Algorithm::Ed25519);
        // RFC 8410 §10.3 gives the matching public key 19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1.
        assert!(
            hex::encode(key.public_key_spki_der())
                .ends_with("19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1")
        );
    }

    #[test]
    fn openssl_encrypted_keys_are_read() {
        // `openssl genpkey -algorithm ed25519 | openssl pkcs8 -topk8 -scrypt -passout pass:test`
        let ed = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGTME8GCSqGSIb3DQEFDTBCMCEGCSsGAQQB2kcECzAUBAiuXxzFhvF82wICQAAC
AQgCAQEwHQYJYIZIAWUDBAEqBBBaS61zRRB8J1uRYQ+ogjrEBEAqwNH9a7blnJY0
/0ITP+/GpsqfhF2r1ViZfC0ciiRUdoSqloPWEk3QpGojSAhiIHF0Hp1cVKn0noYJ
cr5+X1+J
-----END ENCRYPTED PRIVATE KEY-----
";
        // `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 |
        //  openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:test` (PBKDF2-HMAC-SHA256)
        let p256 = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAh+AK2irEgETQICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEITnbo1EN/gDaZZfOzYDEyAEgZAt
xGDssif0qG7KhGKVK4aD6Fg8VucJOsVC/833UsUGFSb0UZSqhOJtLs4FXyT99Jkn
Cc1+qKTFKWgVC0Vs3h1kliA7N5s+PJeQrf8jsXG3voNx4mS5XOcv/K0lAFffn7Vv
KZTYXYTrCqql6/i1KctTsU3cwPLEP0VvFODuFsfZ5q+Aq60o/OFlVH9iHQFBoFw=
-----END ENCRYPTED PRIVATE KEY-----
";
        // SHA-256 of the public keys as `openssl pkey -pubout -outform DER | sha256sum` gives.
        for (pem, alg, kid) in [
            (ed, Algorithm::Ed25519, "ea9ac975b8b2663cc6585f06dc89eee64159deebd3563a09c3db894b1f957442"),
            (p256, Algorithm::P256, "8df942804e2c43e316bf9be6f51c3f52e2df1d9752dc24b536deb90e62e5bfee"),
        ] {
            let key = PrivateKey::from_pem(pem, Some(b"test")).unwrap();
            assert_eq!(key.algorithm(), alg);
            assert_eq!(key.key_id(), kid);
            assert_eq!(PrivateKey::from_pem(pem, Some(b"tset")).unwrap_err(), PkiError::WrongPassphrase);
        }
    }

    #[test]
    fn ed25519_keys_are_kept_as_pkcs8_v1() {
        let key = PrivateKey::generate(Algorithm::Ed25519, &rng()).unwrap();
        assert_eq!(key.pkcs8_der().len(), 48);
        assert_eq!(&key.pkcs8_der()[..16], &ED25519_PKCS8_V1_PREFIX);
    }

    #[test]
    fn unsupported_algorithm_is_refused() {
        // An X25519 PKCS#8 key (OID 1.3.101.110) is not a signing key we support.
        let x25519 = "-----BEGIN PRIVATE KEY-----\n\
                      MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
                      -----END PRIVATE KEY-----\n";
        assert!(matches!(PrivateKey::from_pem(x25519, None), Err(PkiError::UnsupportedAlgorithm(_))));
        // `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 | openssl pkcs8 -topk8 -nocrypt`
        let p384 = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDD5blOQ3GIaFnaM6yhF
qZrosJvSPnbZpmXDrEP27nC8qrbIychLaaAY6ckCCHvHfA6hZANiAASgj22lfD3N
V3nJJrcuGMyzetHpbsW1Y2n2w338COALoyN6XFa4oCLIjyguPGo+Z6blAzlFIL+P
ZrmtieSXpQ+wEn8tUaM5Mb2/de7+q4NDeaome1dRvWDcCHVBfCjOISY=
-----END PRIVATE KEY-----
";
        let err = PrivateKey::from_pem(p384, None).unwrap_err();
        assert!(matches!(err, PkiError::UnsupportedAlgorithm(ref m) if m.contains("1.3.132.0.34")), "{err}");
    }

    #[test]
    fn random_serials_are_positive_and_full_length() {
        for _ in 0..64 {
            let s = random_serial(&rng()).unwrap();
            assert!(s[0] != 0 && s[0] < 0x80);
        }
    }
}

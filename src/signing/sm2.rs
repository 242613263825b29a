//! SM2 seals (GB/T 32918.2, SM2 digital signatures with SM3) with the RustCrypto `sm2`
//! crate.
//!
//! Every signature is over `SM3(Z ‖ M)`, where `Z` binds the signer's public key and its
//! distinguishing identifier ([`DIST_ID`], the GB/T 35276 default that OpenSSL needs as
//! `distid:1234567812345678`). Signatures come in two forms: fixed `r‖s`, 64 bytes (COSE
//! tokens, as for ES256), and DER `SEQUENCE { r INTEGER, s INTEGER }` (X.509, CRLs, CMS and
//! GB/T 38540 structures).
//!
//! Keys are PKCS#8 with `id-ecPublicKey` and the SM2 named curve 1.2.156.10197.1.301 (as
//! OpenSSL and GmSSL write them); public keys are SubjectPublicKeyInfo of the same.

use pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, EncodePublicKey as _};
use ring::rand::{SecureRandom, SystemRandom};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::sec1::ToSec1Point as _;
use sm2::pkcs8::DecodePublicKey as _;
use zeroize::Zeroizing;

use super::error::SigningError;

/// The signer's distinguishing identifier in `Z`: the default user ID of GB/T 35276
/// (ASCII `1234567812345678`), which every Chinese CA and e-seal system uses.
pub const DIST_ID: &str = "1234567812345678";

/// A fresh SM2 private key as PKCS#8 DER, its scalar drawn from `rng` (rejection-sampled
/// into `[1, n-2]`, the range in which `1 + d` is invertible).
pub(crate) fn generate_pkcs8(rng: &dyn SecureRandom) -> Result<Zeroizing<Vec<u8>>, SigningError> {
    // A uniform 256-bit string falls outside [1, n-2] with probability about 2^-32.
    for _ in 0..64 {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill(bytes.as_mut()).map_err(|_| SigningError::Rng)?;
        let Ok(secret) = sm2::SecretKey::from_slice(bytes.as_ref()) else { continue };
        if SigningKey::new(DIST_ID, &secret).is_err() {
            continue;
        }
        let doc = secret
            .to_pkcs8_der()
            .map_err(|e| SigningError::MalformedKey(format!("SM2 key not encodable as PKCS#8: {e}")))?;
        return Ok(Zeroizing::new(doc.as_bytes().to_vec()));
    }
    Err(SigningError::Rng)
}

/// An SM2 private key, able to sign.
pub struct Sm2Signer {
    key: SigningKey,
}

impl std::fmt::Debug for Sm2Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm2Signer(<redacted>)")
    }
}

impl Sm2Signer {
    /// Reads a PKCS#8 SM2 key (`id-ecPublicKey` with the SM2 curve, SEC1 inside).
    pub(super) fn from_pkcs8_der(der: &[u8]) -> Result<Self, SigningError> {
        let secret = sm2::SecretKey::from_pkcs8_der(der)
            .map_err(|e| SigningError::MalformedKey(format!("SM2 key rejected: {e}")))?;
        let key = SigningKey::new(DIST_ID, &secret)
            .map_err(|_| SigningError::MalformedKey("SM2 private scalar out of range".to_owned()))?;
        Ok(Self { key })
    }

    /// Signs `msg`: the `Signature` over `SM3(Z ‖ msg)`.
    ///
    /// The nonce is RFC 6979's HMAC-SM3 generator mixed with 32 bytes from the operating
    /// system's RNG; the rare nonce the `sm2` crate rejects (about 2^-32) is drawn again.
    fn sign(&self, msg: &[u8]) -> Signature {
        use signature::RandomizedSigner as _;
        let system = SystemRandom::new();
        for _ in 0..64 {
            let mut extra = [0u8; 32];
            // Invariant: as for P-256, a failing OS RNG leaves the platform nothing to
            // sign with.
            system.fill(&mut extra).expect("the operating system's RNG failed");
            if let Ok(sig) = self.key.try_sign_with_rng(&mut Entropy(extra), msg) {
                return sig;
            }
        }
        // Invariant: 64 rejected nonces in a row have probability about 2^-2048.
        unreachable!("the SM2 nonce generator rejected 64 nonces in a row")
    }

    /// `r‖s`, 64 bytes (the COSE form).
    pub(super) fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        self.sign(msg).to_bytes().to_vec()
    }

    /// DER `SEQUENCE { r, s }` (the X.509, CMS and GB/T 38540 form).
    pub(super) fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        self.sign(msg).to_der().to_vec()
    }

    /// The matching public key.
    pub(super) fn verifier(&self) -> Sm2Verifier {
        Sm2Verifier::from_key(self.key.verifying_key().clone())
    }
}

/// 32 bytes of the operating system's RNG, handed to the `sm2` crate's randomized signer
/// (which mixes them into its RFC 6979 nonce); asking for more is an error.
struct Entropy([u8; 32]);

/// [`Entropy`] was asked for more bytes than it holds.
#[derive(Debug)]
struct EntropySpent;

impl std::fmt::Display for EntropySpent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the signing entropy was spent")
    }
}

impl std::error::Error for EntropySpent {}

impl rand_core::TryRng for Entropy {
    type Error = EntropySpent;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        if dst.len() > self.0.len() {
            return Err(EntropySpent);
        }
        dst.copy_from_slice(&self.0[..dst.len()]);
        self.0 = [0; 32];
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Entropy {}

/// An SM2 public key, able to verify.
#[derive(Debug, Clone)]
pub struct Sm2Verifier {
    /// The uncompressed point, for equality and SPKI.
    point: [u8; 65],
    key: VerifyingKey,
}

impl PartialEq for Sm2Verifier {
    fn eq(&self, other: &Self) -> bool {
        self.point == other.point
    }
}

impl Eq for Sm2Verifier {}

impl Sm2Verifier {
    fn from_key(key: VerifyingKey) -> Self {
        let mut point = [0u8; 65];
        point.copy_from_slice(key.to_sec1_point(false).as_bytes());
        Self { point, key }
    }

    /// Reads an SM2 SubjectPublicKeyInfo, refusing points that are not on the curve.
    pub(super) fn from_spki_der(der: &[u8]) -> Result<Self, SigningError> {
        let public = sm2::PublicKey::from_public_key_der(der)
            .map_err(|e| SigningError::MalformedKey(format!("SM2 public key rejected: {e}")))?;
        let key = VerifyingKey::new(DIST_ID, public)
            .map_err(|_| SigningError::MalformedKey("SM2 public key unusable".to_owned()))?;
        Ok(Self::from_key(key))
    }

    /// Reads an uncompressed SEC1 point (`04 ‖ x ‖ y`, 65 bytes), as GB/T 38540 and
    /// GM/T 0009 carry SM2 public keys.
    pub fn from_sec1_bytes(point: &[u8]) -> Result<Self, SigningError> {
        let key = VerifyingKey::from_sec1_bytes(DIST_ID, point)
            .map_err(|_| SigningError::MalformedKey("not an SM2 public point".to_owned()))?;
        Ok(Self::from_key(key))
    }

    fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), SigningError> {
        use signature::Verifier as _;
        self.key.verify(msg, sig).map_err(|_| SigningError::BadSignature)
    }

    /// Verifies a 64-byte `r‖s` signature.
    pub(super) fn verify_raw(&self, msg: &[u8], sig: &[u8]) -> Result<(), SigningError> {
        let sig = Signature::from_slice(sig).map_err(|_| SigningError::BadSignature)?;
        self.verify(msg, &sig)
    }

    /// Verifies a DER `SEQUENCE { r, s }` signature (strict DER: no trailing bytes).
    pub(super) fn verify_der(&self, msg: &[u8], sig: &[u8]) -> Result<(), SigningError> {
        let sig = Signature::from_der(sig).map_err(|_| SigningError::BadSignature)?;
        self.verify(msg, &sig)
    }

    /// The public key as DER SubjectPublicKeyInfo (uncompressed point).
    pub(super) fn spki(&self) -> Vec<u8> {
        // Invariant: encoding a valid public key into a growable buffer cannot fail.
        self.key.to_public_key_der().expect("encoding a valid SM2 public key as SPKI cannot fail").into_vec()
    }

    /// The uncompressed SEC1 point, 65 bytes.
    pub fn point(&self) -> &[u8; 65] {
        &self.point
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Sm2Signer {
        Sm2Signer::from_pkcs8_der(&generate_pkcs8(&SystemRandom::new()).unwrap()).unwrap()
    }

    #[test]
    fn signs_and_verifies_both_forms() {
        let signer = key();
        let verifier = Sm2Verifier::from_spki_der(&signer.verifier().spki()).unwrap();
        assert_eq!(verifier, signer.verifier());
        let raw = signer.sign_raw(b"msg");
        assert_eq!(raw.len(), 64);
        verifier.verify_raw(b"msg", &raw).unwrap();
        assert!(verifier.verify_raw(b"msh", &raw).is_err());
        let der = signer.sign_der(b"msg");
        assert!((70..=72).contains(&der.len()) && der[0] == 0x30, "{der:02x?}");
        verifier.verify_der(b"msg", &der).unwrap();
        assert!(verifier.verify_der(b"msg", &raw).is_err());
        assert!(verifier.verify_raw(b"msg", &der).is_err());
        // Randomized nonces: two signatures of one message differ.
        assert_ne!(signer.sign_raw(b"msg"), raw);
    }

    #[test]
    fn spki_names_the_sm2_curve() {
        let spki = key().verifier().spki();
        // id-ecPublicKey, then the SM2 curve 1.2.156.10197.1.301.
        let curve = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
        assert!(spki.windows(curve.len()).any(|w| w == curve), "{spki:02x?}");
        assert_eq!(spki.len(), 91);
    }
}

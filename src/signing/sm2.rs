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

    // Known answers. Every value below was checked on 2026-11 against two implementations
    // that are not this crate: OpenSSL 3.0.19 (`openssl dgst -sm3`; `openssl pkey -text`
    // for the public key of the private key; `openssl pkeyutl -verify -rawin -digest sm3
    // -pkeyopt distid:1234567812345678` on the DER of (r, s)) and Python's `hashlib.new("sm3")`
    // for Z and e from the formula of GB/T 32918.2 §5.5.

    /// SM3 of the two examples of GB/T 32905-2016 Appendix A, through the `sm3` crate as
    /// `pdf::cms` and the `sm2` crate use it.
    #[test]
    fn sm3_known_answers_of_gbt_32905() {
        use sm3::Digest as _;
        let cases: [(&[u8], &str); 2] = [
            // A.1: "abc".
            (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
            // A.2: "abcd" repeated 16 times (512 bits).
            (&b"abcd".repeat(16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
        ];
        for (msg, expected) in cases {
            assert_eq!(hex::encode(sm3::Sm3::digest(msg)), expected, "{}", String::from_utf8_lossy(msg));
        }
    }

    /// The signature example on the recommended curve of GB/T 32918.5-2017 Appendix A
    /// (= GM/T 0003.5-2012 A.2): private key d, message "message digest", ID
    /// 1234567812345678.
    mod gbt_32918_example {
        /// d_A of the example.
        pub const D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
        /// x_A ‖ y_A of the example (OpenSSL derives the same point from D).
        pub const X: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
        pub const Y: &str = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
        /// The message M.
        pub const M: &[u8] = b"message digest";
        /// Z_A of the example.
        pub const Z: &str = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3";
        /// e = SM3(Z_A ‖ M) of the example.
        pub const E: &str = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640";
        /// (r, s) of the example (made with the example's k; OpenSSL verifies it).
        pub const R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
        pub const S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
        /// The recommended curve of GB/T 32918.5 (a, b, x_G, y_G), as Z hashes them.
        pub const CURVE: [&str; 4] = [
            "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
            "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
            "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
            "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
        ];
    }

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn the_standards_key_gives_the_standards_public_key() {
        use gbt_32918_example as ex;
        let secret = sm2::SecretKey::from_slice(&unhex(ex::D)).unwrap();
        let der = secret.to_pkcs8_der().unwrap();
        let signer = Sm2Signer::from_pkcs8_der(der.as_bytes()).unwrap();
        let expected = [vec![0x04], unhex(ex::X), unhex(ex::Y)].concat();
        assert_eq!(signer.verifier().point().as_slice(), expected);
        // A signature the project makes with that key verifies under the standard's point.
        let from_point = Sm2Verifier::from_sec1_bytes(&expected).unwrap();
        from_point.verify_raw(ex::M, &signer.sign_raw(ex::M)).unwrap();
    }

    #[test]
    fn the_project_verifies_the_standards_signature_and_not_a_flipped_bit() {
        use gbt_32918_example as ex;
        let verifier =
            Sm2Verifier::from_sec1_bytes(&[vec![0x04], unhex(ex::X), unhex(ex::Y)].concat()).unwrap();
        let raw = [unhex(ex::R), unhex(ex::S)].concat();
        verifier.verify_raw(ex::M, &raw).unwrap();
        let der = Signature::from_slice(&raw).unwrap().to_der().to_vec();
        verifier.verify_der(ex::M, &der).unwrap();
        // Every single bit of r‖s flipped fails, and so does another message.
        for bit in 0..raw.len() * 8 {
            let mut bad = raw.clone();
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            assert!(verifier.verify_raw(ex::M, &bad).is_err(), "bit {bit} flipped verifies");
        }
        assert!(verifier.verify_raw(b"message digesT", &raw).is_err());
        // The ID is part of Z: the same signature under another ID fails.
        let point = [vec![0x04], unhex(ex::X), unhex(ex::Y)].concat();
        let other_id = VerifyingKey::from_sec1_bytes("1234567812345679", &point).unwrap();
        use signature::Verifier as _;
        assert!(other_id.verify(ex::M, &Signature::from_slice(&raw).unwrap()).is_err());
    }

    /// Z_A from the formula (ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A, as the README states
    /// it) is the standard's Z, and SM3(Z ‖ M) its e. The `sm2` crate keeps its Z private;
    /// that it computes the same one shows through the signature: r = (e + x_1) mod n binds
    /// the signature to e, and the standard's (r, s) verifies both over the prehash e and
    /// over M through the project's verifier (which hashes Z ‖ M itself).
    #[test]
    fn z_and_e_are_the_standards() {
        use gbt_32918_example as ex;
        use signature::hazmat::PrehashVerifier as _;
        use sm3::Digest as _;
        let mut z = sm3::Sm3::new();
        z.update(((DIST_ID.len() * 8) as u16).to_be_bytes());
        z.update(DIST_ID.as_bytes());
        ex::CURVE.iter().chain([ex::X, ex::Y].iter()).for_each(|h| z.update(unhex(h)));
        let z = z.finalize();
        assert_eq!(hex::encode_upper(z), ex::Z);
        let e = sm3::Sm3::new().chain_update(z).chain_update(ex::M).finalize();
        assert_eq!(hex::encode_upper(e), ex::E);
        let point = [vec![0x04], unhex(ex::X), unhex(ex::Y)].concat();
        let key = VerifyingKey::from_sec1_bytes(DIST_ID, &point).unwrap();
        let sig = Signature::from_slice(&[unhex(ex::R), unhex(ex::S)].concat()).unwrap();
        key.verify_prehash(&e, &sig).unwrap();
        let mut other = e;
        other[31] ^= 1;
        assert!(key.verify_prehash(&other, &sig).is_err());
        Sm2Verifier::from_sec1_bytes(&point).unwrap().verify_raw(ex::M, &sig.to_bytes()).unwrap();
    }
}

//! The time-stamping authority in process: its key, certificate chain, policy and accuracy
//! ([`Authority`]), and the one interface through which the signers ask for a time-stamp
//! ([`Stamper`]) — the PAdES signature time-stamp, the document time-stamp and the OFD
//! seal signature's `timeStamp` all take a `&dyn Stamper`, so that they are written and
//! tested without the platform's database, which keeps the serial numbers.

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;

use super::respond::{self, Response, Stamp};
use super::{Accuracy, ImprintAlg, TsaError};
use crate::signing::{Algorithm, SealSigner};

/// A time-stamping authority: key, certificate (issued by one of the platform's roots
/// with [`super::issue_tsa_cert`]), the root, policy and accuracy.
#[derive(Debug)]
pub struct Authority {
    signer: SealSigner,
    /// DER of the TSA certificate.
    pub cert_der: Vec<u8>,
    /// DER of the root that issued it.
    pub root_der: Vec<u8>,
    /// The TSA policy written into every token.
    pub policy: ObjectIdentifier,
    /// The accuracy stated in every token.
    pub accuracy: Option<Accuracy>,
}

impl Authority {
    /// An authority whose key is `signer`; fails if the key does not match `cert_der`.
    pub fn new(
        signer: SealSigner,
        cert_der: Vec<u8>,
        root_der: Vec<u8>,
        policy: ObjectIdentifier,
        accuracy: Option<Accuracy>,
    ) -> Result<Self, TsaError> {
        use der::{Decode as _, Encode as _};
        let cert =
            x509_cert::Certificate::from_der(&cert_der).map_err(|e| TsaError::BadTsaKey(e.to_string()))?;
        let spki = cert.tbs_certificate().subject_public_key_info().to_der().map_err(super::enc)?;
        if spki != signer.public_key_spki_der() {
            return Err(TsaError::BadTsaKey("the key does not match the certificate".to_owned()));
        }
        Ok(Self { signer, cert_der, root_der, policy, accuracy })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.signer.algorithm()
    }

    /// The certificates a validator needs besides the trust anchor: the TSA's, then the root.
    pub fn chain(&self) -> Vec<Vec<u8>> {
        vec![self.cert_der.clone(), self.root_der.clone()]
    }

    fn stamp(&self, serial: u64, gen_time: OffsetDateTime) -> Stamp {
        Stamp { policy: self.policy, serial, gen_time, accuracy: self.accuracy, name_tsa: true }
    }

    /// Answers the DER `TimeStampReq` `request_der` (see [`super::respond`]) with token
    /// serial number `serial` at `gen_time`.
    pub fn reply(
        &self,
        request_der: &[u8],
        serial: u64,
        gen_time: OffsetDateTime,
    ) -> Result<Response, TsaError> {
        respond::respond(request_der, &self.signer, &self.cert_der, &self.stamp(serial, gen_time))
    }

    /// A `TimeStampToken` (DER `ContentInfo`, the TSA certificate included) over `digest`,
    /// a digest made with `alg`, with serial number `serial` at `gen_time`: what the
    /// in-process signers embed.
    pub fn token(
        &self,
        alg: ImprintAlg,
        digest: &[u8],
        serial: u64,
        gen_time: OffsetDateTime,
    ) -> Result<Vec<u8>, TsaError> {
        respond::token_for_digest(alg, digest, &self.signer, &self.cert_der, &self.stamp(serial, gen_time))
    }
}

/// Something that time-stamps a digest: returns a DER `TimeStampToken` whose message
/// imprint is `digest` made with `alg`, and whose TSA certificate is inside the token.
///
/// The platform's stamper draws serial numbers from the database and reads the clock;
/// [`FixedStamper`] is for tests and benchmarks.
pub trait Stamper: Send + Sync + std::fmt::Debug {
    /// A token over `digest`.
    fn stamp(&self, alg: ImprintAlg, digest: &[u8]) -> Result<Vec<u8>, TsaError>;
    /// The TSA certificate chain (TSA certificate first, then its root), for the DSS.
    fn chain(&self) -> Vec<Vec<u8>>;
}

/// A stamper at a fixed time, with serial numbers counted up from a start in memory: for
/// tests, benchmarks and tools that have no database. Not for the platform: serial numbers
/// must be unique across processes.
#[derive(Debug)]
pub struct FixedStamper {
    /// The authority.
    pub authority: Authority,
    /// The time of every stamp.
    pub time: OffsetDateTime,
    next: std::sync::atomic::AtomicU64,
}

impl FixedStamper {
    /// Stamps at `time` with serial numbers `first`, `first + 1`, ….
    pub fn new(authority: Authority, time: OffsetDateTime, first: u64) -> Self {
        Self { authority, time, next: std::sync::atomic::AtomicU64::new(first) }
    }
}

impl Stamper for FixedStamper {
    fn stamp(&self, alg: ImprintAlg, digest: &[u8]) -> Result<Vec<u8>, TsaError> {
        let serial = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.authority.token(alg, digest, serial, self.time)
    }

    fn chain(&self) -> Vec<Vec<u8>> {
        self.authority.chain()
    }
}

//! Fixtures shared by the PKI unit tests: fixed dates, serials and a small test PKI.

use ring::rand::SystemRandom;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::{Algorithm, PrivateKey, SealSubject, issue_seal_cert, make_root};

pub(crate) const ROOT_SERIAL: [u8; 16] = [0x11; 16];
pub(crate) const SEAL_SERIAL: [u8; 16] =
    [0x4a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f];
pub(crate) const CRL_URL: &str = "http://127.0.0.1:8080/pki/root-ed25519.crl";
pub(crate) const PLATFORM: &str = "证照测试平台";

pub(crate) fn rng() -> SystemRandom {
    SystemRandom::new()
}

/// Midnight UTC on the given day.
pub(crate) fn date(year: i32, month: u8, day: u8) -> OffsetDateTime {
    let month = Month::try_from(month).unwrap();
    PrimitiveDateTime::new(Date::from_calendar_date(year, month, day).unwrap(), Time::MIDNIGHT).assume_utc()
}

pub(crate) fn subject() -> SealSubject<'static> {
    SealSubject {
        seal_id: "SEAL-0001",
        seal_name: "某某市市场监督管理局行政审批专用章",
        department_name: "某某市市场监督管理局",
        department_code: "11100000000013338W",
    }
}

/// A key with its certificate.
pub(crate) struct Issued {
    pub key: PrivateKey,
    pub der: Vec<u8>,
}

/// A root valid 2025-01-01 .. 2045-01-01.
pub(crate) struct TestRoot {
    pub key: PrivateKey,
    pub der: Vec<u8>,
}

impl TestRoot {
    pub(crate) fn new(alg: Algorithm) -> Self {
        Self::named(alg, PLATFORM)
    }

    pub(crate) fn named(alg: Algorithm, platform: &str) -> Self {
        let key = PrivateKey::generate(alg, &rng()).unwrap();
        let der = make_root(alg, platform, &key, date(2025, 1, 1), date(2045, 1, 1), ROOT_SERIAL).unwrap();
        TestRoot { key, der }
    }

    /// A seal certificate of the root's algorithm.
    pub(crate) fn seal(
        &self,
        serial: [u8; 16],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Issued {
        let key = PrivateKey::generate(self.key.algorithm(), &rng()).unwrap();
        let der = issue_seal_cert(
            &subject(),
            &key.public_key_spki_der(),
            &self.der,
            &self.key,
            CRL_URL,
            not_before,
            not_after,
            serial,
        )
        .unwrap();
        Issued { key, der }
    }
}

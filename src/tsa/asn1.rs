//! The RFC 3161 structures, with `der` derives (the `x509-tsp` crate, 0.1.0, is built on
//! `der` 0.7 and `cms` 0.2, not the `der` 0.8 / `cms` 0.3 the platform uses).

use der::asn1::{BitString, GeneralizedTime, Int, ObjectIdentifier, OctetString, Utf8StringRef};
use der::{Any, Sequence};
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;

/// `MessageImprint` (RFC 3161 §2.4.1).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct MessageImprint {
    pub(crate) hash_algorithm: AlgorithmIdentifierOwned,
    pub(crate) hashed_message: OctetString,
}

/// `TimeStampReq` (RFC 3161 §2.4.1).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct TimeStampReq {
    pub(crate) version: u8,
    pub(crate) message_imprint: MessageImprint,
    pub(crate) req_policy: Option<ObjectIdentifier>,
    pub(crate) nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    pub(crate) cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) extensions: Option<Extensions>,
}

/// `PKIStatusInfo` (RFC 3161 §2.4.2), the free text as one UTF8String.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct PkiStatusInfo<'a> {
    pub(crate) status: u8,
    pub(crate) status_string: Option<Vec<Utf8StringRef<'a>>>,
    pub(crate) fail_info: Option<BitString>,
}

/// `TimeStampResp` (RFC 3161 §2.4.2); the token is a CMS `ContentInfo`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct TimeStampResp<'a> {
    pub(crate) status: PkiStatusInfo<'a>,
    pub(crate) time_stamp_token: Option<Any>,
}

/// `Accuracy` (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct AccuracyAsn1 {
    pub(crate) seconds: Option<u32>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) micros: Option<u16>,
}

/// `TSTInfo` (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct TstInfo {
    pub(crate) version: u8,
    pub(crate) policy: ObjectIdentifier,
    pub(crate) message_imprint: MessageImprint,
    pub(crate) serial_number: Int,
    pub(crate) gen_time: GeneralizedTime,
    pub(crate) accuracy: Option<AccuracyAsn1>,
    #[asn1(default = "Default::default")]
    pub(crate) ordering: bool,
    pub(crate) nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) extensions: Option<Extensions>,
}

//! Holder assertions: the short-lived statement, signed by a holder portal, that a holder
//! authenticated at that portal and asks for this call (`X-Holder-Assertion`). A compact
//! JWS (RFC 7515) with `alg` `EdDSA` or `ES256` and `typ` [`ASSERTION_TYP`] over the JSON
//! [`HolderClaims`]. This module parses and checks one against a portal's key and the
//! time it is given; the replay rule (each `jti` once) needs the database and lives in the
//! platform. No I/O.

use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};

use crate::signing::{SealSigner, SealVerifier};

/// The request header that carries the assertion.
pub const ASSERTION_HEADER: &str = "x-holder-assertion";
/// The JWS `typ` an assertion must carry (RFC 8725 §3.11: no other JWT of the portal's
/// can pass for one).
pub const ASSERTION_TYP: &str = "holder-assertion+jwt";
/// Longest assertion accepted, in bytes.
pub const MAX_ASSERTION_BYTES: usize = 4096;
/// Longest lifetime (`exp` − `iat`), in seconds.
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Clock difference tolerated between portal and platform, in seconds.
pub const MAX_SKEW_SECS: i64 = 30;
/// Length bounds of `jti`.
pub const JTI_LEN: std::ops::RangeInclusive<usize> = 16..=128;
/// Longest `acr`, in characters.
pub const MAX_ACR_CHARS: usize = 64;

/// The claims of a holder assertion. Unknown claims are refused, so that a misspelt one
/// is an error rather than silently absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolderClaims {
    /// The portal's id (`pt_…`) as the platform gave it.
    pub iss: String,
    /// The holder's code type: `111` 公民身份号码 or `001` 统一社会信用代码.
    pub holder_code_type: String,
    /// The holder's code.
    pub holder_code: String,
    /// How the portal authenticated the holder (its level name, e.g. `L2`, `face+sms`).
    pub acr: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds; at most [`MAX_LIFETIME_SECS`] after `iat`.
    pub exp: i64,
    /// Not before, Unix seconds (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// A unique id: [`JTI_LEN`] characters of `A–Z a–z 0–9 - _`; each is accepted once.
    pub jti: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
}

/// An assertion that verified: signed by the portal, in its time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderAssertion {
    /// Its claims.
    pub claims: HolderClaims,
}

impl HolderAssertion {
    /// Until when its `jti` must be remembered (Unix seconds): past this it is refused as
    /// expired anyway.
    pub fn remember_until(&self) -> i64 {
        self.claims.exp.saturating_add(MAX_SKEW_SECS)
    }
}

/// Why an assertion is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// Not a compact JWS of a holder assertion (size, parts, base64url, JSON, claim values).
    #[error("malformed holder assertion: {0}")]
    Malformed(String),
    /// `alg` is `none`, not one of `EdDSA`/`ES256`, or not the algorithm of the portal's key.
    #[error("holder assertion algorithm refused: {0}")]
    Algorithm(String),
    /// The signature does not verify with the calling portal's key.
    #[error("the holder assertion's signature does not verify with this portal's key")]
    BadSignature,
    /// `iss` is not the calling portal.
    #[error("the holder assertion was issued by {0:?}, not by the calling portal")]
    WrongIssuer(String),
    /// `iat` or `nbf` lies in the future (beyond the tolerated skew).
    #[error("the holder assertion is not valid yet (iat/nbf in the future)")]
    NotYetValid,
    /// `exp` − `iat` is not within 1 s ..= [`MAX_LIFETIME_SECS`].
    #[error("the holder assertion's lifetime exp − iat must be 1–{MAX_LIFETIME_SECS} s, it is {0} s")]
    Lifetime(i64),
    /// `exp` has passed (beyond the tolerated skew).
    #[error("the holder assertion expired at {0} (Unix seconds)")]
    Expired(i64),
}

impl AssertionError {
    /// The API error code: `holder_assertion_expired` or `holder_assertion_invalid`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Expired(_) => "holder_assertion_expired",
            _ => "holder_assertion_invalid",
        }
    }
}

fn malformed(m: impl Into<String>) -> AssertionError {
    AssertionError::Malformed(m.into())
}

fn check_claims(c: &HolderClaims) -> Result<(), AssertionError> {
    if c.holder_code.trim() != c.holder_code {
        return Err(malformed("holder_code has surrounding spaces"));
    }
    match c.holder_code_type.as_str() {
        "111" => {
            crate::codes::CitizenId::parse(&c.holder_code)
                .map_err(|e| malformed(format!("holder_code: {e}")))?;
        }
        "001" => {
            crate::codes::Uscc::parse(&c.holder_code).map_err(|e| malformed(format!("holder_code: {e}")))?;
        }
        other => return Err(malformed(format!("holder_code_type {other:?} is not 111 or 001"))),
    }
    let acr = c.acr.chars().count();
    if acr == 0 || acr > MAX_ACR_CHARS || c.acr.chars().any(char::is_control) {
        return Err(malformed(format!(
            "acr must be 1–{MAX_ACR_CHARS} characters without control characters"
        )));
    }
    if !JTI_LEN.contains(&c.jti.len())
        || !c.jti.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(malformed(format!(
            "jti must be {}–{} characters of A–Z a–z 0–9 - _",
            JTI_LEN.start(),
            JTI_LEN.end()
        )));
    }
    Ok(())
}

/// Parses and checks an assertion presented by portal `portal_id`, whose public key is
/// `key`, at `now` (Unix seconds): size, form, `typ`, `alg` (the key's algorithm; never
/// `none`), signature, `iss`, claim values and times. Does not check replay.
pub fn verify(
    text: &str,
    portal_id: &str,
    key: &SealVerifier,
    now: i64,
) -> Result<HolderAssertion, AssertionError> {
    if text.len() > MAX_ASSERTION_BYTES {
        return Err(malformed(format!("longer than {MAX_ASSERTION_BYTES} bytes")));
    }
    let text = text.trim();
    let mut parts = text.split('.');
    let (Some(protected), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("a compact JWS has three parts separated by '.'"));
    };
    let header = crate::jws::decode_part(protected, "header").map_err(|e| malformed(e.to_string()))?;
    let header: Header =
        serde_json::from_slice(&header).map_err(|e| malformed(format!("protected header: {e}")))?;
    let expected = key.algorithm().jose().unwrap_or("EdDSA");
    match header.alg.as_str() {
        a if a.eq_ignore_ascii_case("none") => return Err(AssertionError::Algorithm("alg none".into())),
        a if a == expected => {}
        "EdDSA" | "ES256" => {
            return Err(AssertionError::Algorithm(format!(
                "{}: this portal's key signs with {expected}",
                header.alg
            )));
        }
        other => {
            return Err(AssertionError::Algorithm(format!("{other:?}: only EdDSA and ES256 are accepted")));
        }
    }
    if header.typ.as_deref() != Some(ASSERTION_TYP) {
        return Err(malformed(format!("typ must be {ASSERTION_TYP:?}")));
    }
    crate::jws::verify(key, protected, payload, signature).map_err(|e| match e {
        crate::jws::JwsError::Base64(what) => malformed(format!("{what} is not unpadded base64url")),
        crate::jws::JwsError::BadSignature => AssertionError::BadSignature,
    })?;
    let payload = crate::jws::decode_part(payload, "payload").map_err(|e| malformed(e.to_string()))?;
    let claims: HolderClaims =
        serde_json::from_slice(&payload).map_err(|e| malformed(format!("claims: {e}")))?;
    if claims.iss != portal_id {
        return Err(AssertionError::WrongIssuer(claims.iss.chars().take(64).collect()));
    }
    check_claims(&claims)?;
    let lifetime = claims.exp.saturating_sub(claims.iat);
    if !(1..=MAX_LIFETIME_SECS).contains(&lifetime) {
        return Err(AssertionError::Lifetime(lifetime));
    }
    let latest_start = now.saturating_add(MAX_SKEW_SECS);
    if claims.iat > latest_start || claims.nbf.is_some_and(|nbf| nbf > latest_start) {
        return Err(AssertionError::NotYetValid);
    }
    if now > claims.exp.saturating_add(MAX_SKEW_SECS) {
        return Err(AssertionError::Expired(claims.exp));
    }
    Ok(HolderAssertion { claims })
}

/// Signs `claims` as a portal would (for portals written in Rust, tests and examples).
pub fn sign(claims: &HolderClaims, key: &SealSigner) -> String {
    let header = Header {
        alg: key.algorithm().jose().unwrap_or("EdDSA").to_owned(),
        typ: Some(ASSERTION_TYP.to_owned()),
        kid: None,
    };
    // Both structs hold only strings and integers, which always serialise.
    let b64 = |v: Vec<u8>| BASE64URL_NOPAD.encode(&v);
    let protected = b64(serde_json::to_vec(&header).unwrap_or_default());
    let payload = b64(serde_json::to_vec(claims).unwrap_or_default());
    let signature = crate::jws::sign(key, &protected, &payload);
    format!("{protected}.{payload}.{signature}")
}

#[cfg(test)]
mod tests;

//! The licence claims a QR token carries, and their CWT (RFC 8392) encoding.
//!
//! Layout of the CWT claims map (the COSE_Sign1 payload):
//!
//! | key | claim | CBOR type |
//! |---|---|---|
//! | 1 (`iss`) | [`LicenceClaims::issuer`], left out when it is the identifier's issuer code | text |
//! | 4 (`exp`) | [`LicenceClaims::expires_at`], optional | int (seconds) |
//! | 6 (`iat`) | [`LicenceClaims::issued_at`] | int (seconds) |
//! | [`CLAIM_LICENCE`] (−65537) | the licence map below | map |
//!
//! The licence map: [`LICENCE_ID`] (1) the identifier WITHOUT its fixed GB/T 36904 root
//! [`LICENCE_ID_ROOT`], text; [`HOLDER_NAME`] (2) text; [`HOLDER_CODE_MASKED`] (3) text;
//! [`VALID_FROM`] (4) and, for licences that end, [`VALID_UNTIL`] (5) as RFC 8943 day
//! counts (days since 1970-01-01, int, with tag 100 elided: the key says what it is);
//! [`RECORD_HASH`] (6) bytes.
//!
//! Size matters (every byte is 1.6 characters of QR code): dropping the constant root saves
//! 15 bytes, day counts 8 bytes each against `YYYY-MM-DD` text, a 16-byte record
//! hash 16 bytes, and leaving out `iss` when it equals the issuer code that the identifier
//! already carries (`<type>.<issuer>.<serial>.<version>.<check>`, as the platform signs)
//! 20 bytes. A parsed token without `iss` has [`LicenceClaims::issuer`] = that issuer code.
//!
//! The licence fields travel together in ONE private claim whose value is a map with small
//! keys ([`LICENCE_ID`] … [`RECORD_HASH`]). Why not one private claim per field: IANA
//! reserves CWT claim keys from −65536 up for registration, and COSE/CWT libraries
//! (coset among them) reject unregistered keys in that range, so private keys must be
//! below −65536 and cost 5 bytes each. Six of them would add 24 bytes (≈ 38 QR
//! characters) over one claim with a nested map.

use ciborium::Value;
use coset::cwt::{ClaimName, ClaimsSet, Timestamp};
use minicbor::Decoder;

/// CWT claim key (IANA private-use range) of the licence map.
pub const CLAIM_LICENCE: i64 = -65537;
/// Key in the licence map: licence identifier (GB/T 36904) without [`LICENCE_ID_ROOT`], text.
pub const LICENCE_ID: i64 = 1;
/// The fixed root every GB/T 36904 licence identifier starts with; the token leaves it out.
pub const LICENCE_ID_ROOT: &str = "1.2.156.3005.2.";
/// Key in the licence map: holder name, text.
pub const HOLDER_NAME: i64 = 2;
/// Key in the licence map: masked holder code (e.g. `110***********002X`), text.
pub const HOLDER_CODE_MASKED: i64 = 3;
/// Key in the licence map: first day of validity, days since 1970-01-01 (RFC 8943, untagged), int.
pub const VALID_FROM: i64 = 4;
/// Key in the licence map: last day of validity, as [`VALID_FROM`]; absent for open-ended licences.
pub const VALID_UNTIL: i64 = 5;
/// Key in the licence map: record hash, bytes ([`RECORD_HASH_BYTES`] long).
pub const RECORD_HASH: i64 = 6;

/// Bytes of the record hash the token carries: the first 16 bytes of the 32-byte SHA-256
/// record hash. 128 bits keep second preimages out of reach, the whole token is signed
/// anyway, and the 16 bytes saved (≈ 26 QR characters) keep a token with a 32-byte hash
/// from spilling into a bigger QR version. Compare with [`LicenceClaims::record_hash_matches`].
pub const RECORD_HASH_BYTES: usize = 16;

/// What a licence's QR token states, as an offline verifier shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceClaims {
    /// `iss`: the issuer code (implied by the identifier, and then not encoded) or another
    /// issuer name such as the platform's public URL.
    pub issuer: String,
    /// `iat`: seconds since the Unix epoch.
    pub issued_at: i64,
    /// `exp`: seconds since the Unix epoch (end of the licence's validity), if any.
    pub expires_at: Option<i64>,
    /// Licence identifier (GB/T 36904), e.g. `1.2.156.3005.2.….001.F`.
    pub licence_id: String,
    /// Holder name.
    pub holder_name: String,
    /// Holder code, masked (e.g. `110***********002X`).
    pub holder_code_masked: String,
    /// First day of validity, `YYYY-MM-DD`.
    pub valid_from: String,
    /// Last day of validity, `YYYY-MM-DD`, if the licence is not open-ended.
    pub valid_until: Option<String>,
    /// Record hash. When signing: the full hash (at least [`RECORD_HASH_BYTES`] bytes), of
    /// which the token keeps the first [`RECORD_HASH_BYTES`]. When parsed: those bytes.
    pub record_hash: Vec<u8>,
}

impl LicenceClaims {
    /// Whether the (possibly truncated) record hash in these claims is a prefix of
    /// `full_hash` and at least [`RECORD_HASH_BYTES`] long.
    pub fn record_hash_matches(&self, full_hash: &[u8]) -> bool {
        self.record_hash.len() >= RECORD_HASH_BYTES && full_hash.starts_with(&self.record_hash)
    }

    /// The claims as a CWT claims set; checks the fields as [`Self::from_claims_set`] will.
    pub(crate) fn to_claims_set(&self) -> Result<ClaimsSet, String> {
        let short_id = self
            .licence_id
            .strip_prefix(LICENCE_ID_ROOT)
            .ok_or_else(|| format!("licence identifier does not start with {LICENCE_ID_ROOT}"))?;
        check_text("licence identifier", short_id)?;
        check_text("holder name", &self.holder_name)?;
        check_text("masked holder code", &self.holder_code_masked)?;
        check_text("issuer", &self.issuer)?;
        let valid_from = date_to_cbor("valid-from date", &self.valid_from)?;
        let valid_until =
            self.valid_until.as_deref().map(|d| date_to_cbor("valid-until date", d)).transpose()?;
        let hash = self.record_hash.get(..RECORD_HASH_BYTES).ok_or_else(|| {
            format!("record hash has {} bytes, needs at least {RECORD_HASH_BYTES}", self.record_hash.len())
        })?;
        let mut licence = vec![
            (Value::from(LICENCE_ID), Value::Text(short_id.to_owned())),
            (Value::from(HOLDER_NAME), Value::Text(self.holder_name.clone())),
            (Value::from(HOLDER_CODE_MASKED), Value::Text(self.holder_code_masked.clone())),
            (Value::from(VALID_FROM), valid_from),
        ];
        if let Some(until) = valid_until {
            licence.push((Value::from(VALID_UNTIL), until));
        }
        licence.push((Value::from(RECORD_HASH), Value::Bytes(hash.to_vec())));
        let issuer = (implied_issuer(short_id) != Some(self.issuer.as_str())).then(|| self.issuer.clone());
        Ok(ClaimsSet {
            issuer,
            expiration_time: self.expires_at.map(Timestamp::WholeSeconds),
            issued_at: Some(Timestamp::WholeSeconds(self.issued_at)),
            rest: vec![(ClaimName::PrivateUse(CLAIM_LICENCE), Value::Map(licence))],
            ..ClaimsSet::default()
        })
    }

    /// Reads the CWT claims map of a token payload strictly: every required claim present
    /// with its type, no unknown claim (a token's meaning is exactly what this version
    /// understands), no duplicate, definite lengths, nothing after the map. Values are
    /// read in place from the bytes (minicbor's pull decoder): no CBOR value tree.
    pub(crate) fn from_cwt(payload: &[u8]) -> Result<Self, String> {
        let mut d = Decoder::new(payload);
        let entries = d.map().map_err(cbor("CWT claims"))?.ok_or("CWT claims: indefinite-length map")?;
        let (mut issuer, mut issued_at, mut expires_at, mut licence) = (None, None, None, None);
        for _ in 0..entries {
            match d.i64().map_err(|_| "a CWT claim key is not an integer")? {
                CLAIM_ISS => once(&mut issuer, d.str().map_err(cbor("claim iss"))?, "iss")?,
                CLAIM_EXP => once(&mut expires_at, whole_seconds("exp", &mut d)?, "exp")?,
                CLAIM_IAT => once(&mut issued_at, whole_seconds("iat", &mut d)?, "iat")?,
                CLAIM_LICENCE => once(&mut licence, LicenceFields::read(&mut d)?, "licence")?,
                CLAIM_SUB | CLAIM_AUD | CLAIM_NBF | CLAIM_CTI => {
                    return Err("unexpected standard claim (sub, aud, nbf or cti)".into());
                }
                other => return Err(format!("unexpected claim {other}")),
            }
        }
        if d.position() != payload.len() {
            return Err("bytes after the CWT claims".into());
        }
        let issued_at = issued_at.ok_or("missing claim iat")?;
        let fields = licence.ok_or("missing licence claim")?;
        let short_id = text("licence identifier", fields.licence_id)?;
        let issuer = match issuer {
            Some(issuer) => {
                check_text("issuer", issuer)?;
                issuer
            }
            None => implied_issuer(short_id).ok_or("missing claim iss and no issuer in the identifier")?,
        };
        let record_hash = match fields.record_hash {
            Some(b) if b.len() == RECORD_HASH_BYTES => b.to_vec(),
            Some(_) => return Err(format!("record hash is not {RECORD_HASH_BYTES} bytes")),
            None => return Err("missing record hash".into()),
        };
        Ok(Self {
            issuer: issuer.to_owned(),
            issued_at,
            expires_at,
            licence_id: format!("{LICENCE_ID_ROOT}{short_id}"),
            holder_name: text("holder name", fields.holder_name)?.to_owned(),
            holder_code_masked: text("masked holder code", fields.holder_code_masked)?.to_owned(),
            valid_from: date_from_days(
                "valid-from date",
                fields.valid_from.ok_or("missing valid-from date")?,
            )?,
            valid_until: fields.valid_until.map(|v| date_from_days("valid-until date", v)).transpose()?,
            record_hash,
        })
    }

    /// [`Self::from_cwt`] of a coset claims set: tests edit claims as coset sets and read
    /// them back through the token's own reader.
    #[cfg(test)]
    pub(crate) fn from_claims_set(set: ClaimsSet) -> Result<Self, String> {
        use coset::CborSerializable as _;
        Self::from_cwt(&set.to_vec().map_err(|e| format!("encoding the claims: {e}"))?)
    }
}

/// CWT claim keys (RFC 8392, section 4): `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `cti`.
const CLAIM_ISS: i64 = 1;
const CLAIM_SUB: i64 = 2;
const CLAIM_AUD: i64 = 3;
const CLAIM_EXP: i64 = 4;
const CLAIM_NBF: i64 = 5;
pub(super) const CLAIM_IAT: i64 = 6;
const CLAIM_CTI: i64 = 7;

/// The licence claim's fields as the token states them, borrowed from its bytes; each
/// is checked for its type here and for its content in [`LicenceClaims::from_cwt`].
#[derive(Default)]
struct LicenceFields<'a> {
    licence_id: Option<&'a str>,
    holder_name: Option<&'a str>,
    holder_code_masked: Option<&'a str>,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    record_hash: Option<&'a [u8]>,
}

impl<'a> LicenceFields<'a> {
    /// The licence map: keys [`LICENCE_ID`] to [`RECORD_HASH`], each at most once.
    fn read(d: &mut Decoder<'a>) -> Result<Self, String> {
        let entries =
            d.map().map_err(|_| "the licence claim is not a map")?.ok_or("indefinite licence map")?;
        let mut f = Self::default();
        for _ in 0..entries {
            let key = d.i64().map_err(|_| "a key in the licence claim is not an integer")?;
            let day =
                |d: &mut Decoder<'a>, name: &str| d.i64().map_err(|_| format!("{name} is not a day count"));
            match key {
                LICENCE_ID => once(&mut f.licence_id, text_item(d, "licence identifier")?, "licence id")?,
                HOLDER_NAME => once(&mut f.holder_name, text_item(d, "holder name")?, "holder name")?,
                HOLDER_CODE_MASKED => {
                    once(&mut f.holder_code_masked, text_item(d, "masked holder code")?, "holder code")?
                }
                VALID_FROM => once(&mut f.valid_from, day(d, "valid-from date")?, "valid-from date")?,
                VALID_UNTIL => once(&mut f.valid_until, day(d, "valid-until date")?, "valid-until date")?,
                RECORD_HASH => once(
                    &mut f.record_hash,
                    d.bytes().map_err(|_| "record hash is not bytes")?,
                    "record hash",
                )?,
                other => return Err(format!("unexpected key {other} in the licence claim")),
            }
        }
        Ok(f)
    }
}

/// Puts `value` in `slot`, unless the token already gave it (a duplicate key).
pub(super) fn once<T>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), String> {
    match slot.replace(value) {
        Some(_) => Err(format!("duplicate {name}")),
        None => Ok(()),
    }
}

/// A decode error as a message naming what was being read.
pub(super) fn cbor(what: &'static str) -> impl Fn(minicbor::decode::Error) -> String {
    move |e| format!("{what}: {e}")
}

/// A text item (definite length, UTF-8).
pub(super) fn text_item<'a>(d: &mut Decoder<'a>, name: &str) -> Result<&'a str, String> {
    d.str().map_err(|_| format!("{name} is not text"))
}

/// A time claim: an integer number of seconds (CWT allows a float, which no token has).
pub(super) fn whole_seconds(name: &str, d: &mut Decoder<'_>) -> Result<i64, String> {
    d.i64().map_err(|_| format!("claim {name} is not a whole number of seconds"))
}

/// The issuer code inside an identifier without its root: the second dot-separated part.
fn implied_issuer(short_id: &str) -> Option<&str> {
    short_id.split('.').nth(1).filter(|s| !s.is_empty())
}

/// A required text field, checked.
pub(super) fn text<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, String> {
    let t = value.ok_or_else(|| format!("missing {name}"))?;
    check_text(name, t)?;
    Ok(t)
}

/// Non-empty and free of control characters (the verification page shows these strings).
pub(super) fn check_text(name: &str, t: &str) -> Result<(), String> {
    if t.is_empty() || t.chars().any(char::is_control) {
        Err(format!("{name} is empty or has control characters"))
    } else {
        Ok(())
    }
}

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// `YYYY-MM-DD` (a real calendar day, years 1000–9999) → RFC 8943 day count.
fn date_to_cbor(name: &str, d: &str) -> Result<Value, String> {
    let err = || format!("{name} is not a YYYY-MM-DD date");
    let b = d.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !shape {
        return Err(err());
    }
    let number = |r: std::ops::Range<usize>| d.get(r).and_then(|t| t.parse::<u16>().ok()).ok_or_else(err);
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let month = u8::try_from(month).ok().and_then(|m| time::Month::try_from(m).ok()).ok_or_else(err)?;
    let day = u8::try_from(day).map_err(|_| err())?;
    let date = time::Date::from_calendar_date(i32::from(year), month, day).map_err(|_| err())?;
    if date.year() < 1000 {
        return Err(err());
    }
    let days = i64::from(date.to_julian_day()) - i64::from(UNIX_EPOCH_JULIAN_DAY);
    Ok(Value::from(days))
}

/// RFC 8943 day count (years 1000–9999) → `YYYY-MM-DD`.
fn date_from_days(name: &str, days: i64) -> Result<String, String> {
    let err = || format!("{name} is not a day count for a date from 1000 to 9999");
    let julian =
        i32::try_from(days).ok().and_then(|d| d.checked_add(UNIX_EPOCH_JULIAN_DAY)).ok_or_else(err)?;
    let date = time::Date::from_julian_day(julian).map_err(|_| err())?;
    if !(1000..=9999).contains(&date.year()) {
        return Err(err());
    }
    Ok(format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day()))
}

/// [`date_from_days`] of a CBOR value (the tests' form): an integer, nothing else.
#[cfg(test)]
fn date_from_cbor(name: &str, v: Value) -> Result<String, String> {
    let days = v.as_integer().and_then(|i| i64::try_from(i).ok());
    date_from_days(name, days.ok_or_else(|| format!("{name} is not a day count"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> LicenceClaims {
        LicenceClaims {
            issuer: "https://licence.example.gov.cn".into(),
            issued_at: 1_717_200_000,
            expires_at: Some(1_874_966_399),
            licence_id: "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
            holder_name: "上海某某餐饮管理有限公司".into(),
            holder_code_masked: "110***********002X".into(),
            valid_from: "2024-06-01".into(),
            valid_until: Some("2029-05-31".into()),
            record_hash: (0u8..32).collect(),
        }
    }

    #[test]
    fn claims_round_trip_truncates_the_hash() {
        let c = sample();
        let back = LicenceClaims::from_claims_set(c.to_claims_set().unwrap()).unwrap();
        assert_eq!(back.record_hash, c.record_hash[..RECORD_HASH_BYTES]);
        assert!(back.record_hash_matches(&c.record_hash));
        assert!(!back.record_hash_matches(&[0u8; 32]));
        assert_eq!(LicenceClaims { record_hash: c.record_hash.clone(), ..back }, c);
        let open = LicenceClaims { expires_at: None, valid_until: None, ..sample() };
        let back = LicenceClaims::from_claims_set(open.to_claims_set().unwrap()).unwrap();
        assert_eq!((back.expires_at, back.valid_until), (None, None));
    }

    #[test]
    fn iss_is_left_out_when_the_identifier_names_the_issuer() {
        use coset::CborSerializable;
        let c = LicenceClaims { issuer: "11220000013544541J".into(), ..sample() };
        let set = c.to_claims_set().unwrap();
        assert_eq!(set.issuer, None);
        let with_iss = sample().to_claims_set().unwrap();
        assert!(with_iss.clone().to_vec().unwrap().len() >= set.clone().to_vec().unwrap().len() + 20);
        assert_eq!(
            LicenceClaims::from_claims_set(set).unwrap(),
            LicenceClaims { record_hash: c.record_hash[..RECORD_HASH_BYTES].to_vec(), ..c }
        );
        assert_eq!(with_iss.issuer.as_deref(), Some("https://licence.example.gov.cn"));
        assert_eq!(
            LicenceClaims::from_claims_set(with_iss).unwrap().issuer,
            "https://licence.example.gov.cn"
        );
    }

    #[test]
    fn dates_are_rfc_8943_day_counts() {
        for (text, days) in
            [("1970-01-01", 0), ("2024-06-01", 19_875), ("2024-02-29", 19_782), ("1000-01-01", -354_285)]
        {
            let v = date_to_cbor("d", text).unwrap();
            assert_eq!(v, Value::from(days), "{text}");
            assert_eq!(date_from_cbor("d", v).unwrap(), text);
        }
        assert!(date_to_cbor("d", "2024-06-1x").is_err());
        assert!(date_to_cbor("d", "2024-00-10").is_err());
        assert!(date_from_cbor("d", Value::from(3_000_000)).is_err());
        assert!(date_from_cbor("d", Value::Tag(100, Box::new(Value::from(0)))).is_err());
    }

    #[test]
    fn bad_claims_are_refused() {
        assert!(LicenceClaims { record_hash: vec![1; 15], ..sample() }.to_claims_set().is_err());
        assert!(LicenceClaims { valid_from: "2024-6-1".into(), ..sample() }.to_claims_set().is_err());
        assert!(
            LicenceClaims { valid_until: Some("2024-13-01".into()), ..sample() }.to_claims_set().is_err()
        );
        assert!(LicenceClaims { valid_from: "2023-02-29".into(), ..sample() }.to_claims_set().is_err());
        assert!(LicenceClaims { valid_from: "0999-12-31".into(), ..sample() }.to_claims_set().is_err());
        assert!(LicenceClaims { licence_id: "1.2.156.3005.3.X".into(), ..sample() }.to_claims_set().is_err());
        assert!(LicenceClaims { licence_id: LICENCE_ID_ROOT.into(), ..sample() }.to_claims_set().is_err());
        assert!(LicenceClaims { holder_name: String::new(), ..sample() }.to_claims_set().is_err());
        assert!(LicenceClaims { licence_id: "a\nb".into(), ..sample() }.to_claims_set().is_err());

        let good = sample().to_claims_set().unwrap();
        let mut set = good.clone();
        set.issued_at = Some(Timestamp::FractionalSeconds(1.5));
        assert!(LicenceClaims::from_claims_set(set).is_err());
        let mut set = good.clone();
        set.issuer = Some(String::new());
        assert!(LicenceClaims::from_claims_set(set).is_err());
        let mut set = good.clone();
        set.subject = Some("x".into());
        assert!(LicenceClaims::from_claims_set(set).is_err());
        let mut set = good.clone();
        set.rest.push((ClaimName::PrivateUse(-70000), Value::Null));
        assert!(LicenceClaims::from_claims_set(set).is_err());
        let mut set = good.clone();
        set.rest.push(set.rest[0].clone());
        assert!(LicenceClaims::from_claims_set(set).is_err());
        let mut set = good.clone();
        set.rest[0].1 = Value::Array(vec![]);
        assert!(LicenceClaims::from_claims_set(set).is_err());
        for mutate in [
            |m: &mut Vec<(Value, Value)>| m.retain(|(k, _)| *k != Value::from(LICENCE_ID)),
            |m: &mut Vec<(Value, Value)>| m.push((Value::from(7), Value::Null)),
            |m: &mut Vec<(Value, Value)>| m.push((Value::from(1), Value::Text("again".into()))),
            |m: &mut Vec<(Value, Value)>| m[0].1 = Value::Bytes(vec![1]),
            |m: &mut Vec<(Value, Value)>| m.push((Value::Text("x".into()), Value::Null)),
            |m: &mut Vec<(Value, Value)>| m.retain(|(k, _)| *k != Value::from(RECORD_HASH)),
            |m: &mut Vec<(Value, Value)>| m[3].1 = Value::Text("2024-06-01".into()),
            |m: &mut Vec<(Value, Value)>| m[3].1 = Value::from(i64::MAX),
            |m: &mut Vec<(Value, Value)>| m[3].1 = Value::from(-400_000),
            |m: &mut Vec<(Value, Value)>| {
                m[3].1 = Value::Tag(1004, Box::new(Value::Text("2024-06-01".into())))
            },
        ] {
            let mut set = good.clone();
            let Value::Map(m) = &mut set.rest[0].1 else { unreachable!() };
            mutate(m);
            assert!(LicenceClaims::from_claims_set(set).is_err());
        }
    }
}

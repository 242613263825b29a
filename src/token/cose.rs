//! Reading a token's COSE_Sign1 (RFC 9052) strictly, in one pass over its bytes, and the
//! `Sig_structure` its signature covers.
//!
//! Why not coset here (it still writes tokens, in [`super::sign`]): coset reads through a
//! full ciborium `Value` tree, parses the protected header from a second tree, and
//! `tbs_data` clones and re-encodes the parts; for a 250-byte token that was about a
//! sixth of an Ed25519 verification. minicbor's pull decoder reads each item in place
//! (byte and text strings are borrowed from the token), so the structure below is checked
//! item by item against the one shape a token may have, and the `Sig_structure` is built
//! from the protected header's bytes as they were signed (RFC 9052, section 4.4), which
//! is also what coset did: it keeps a parsed header's original bytes for the signature.
//!
//! Stricter than coset on one point: every array, map and string must have a definite
//! length (as every COSE encoder writes tokens; coset accepted indefinite ones).

use minicbor::Decoder;
use minicbor::data::Type;

use super::{MAX_KID_BYTES, TokenError};
use crate::signing::Algorithm;

/// The CBOR tag of a COSE_Sign1 (RFC 9052, section 2).
const TAG_COSE_SIGN1: u64 = 18;

/// Header label of `alg` (RFC 9052, section 3.1).
const LABEL_ALG: i64 = 1;

/// Header label of `kid`.
const LABEL_KID: i64 = 4;

/// A token's COSE_Sign1, checked item by item and borrowed from the token bytes: a known
/// algorithm, a `kid` of 1 to [`MAX_KID_BYTES`], no other header parameter, an empty
/// unprotected header, an embedded payload.
#[derive(Debug)]
pub(super) struct Sign1<'a> {
    /// The seal algorithm the protected `alg` names.
    pub algorithm: Algorithm,
    /// The protected `kid`.
    pub kid: &'a [u8],
    /// The protected header as it was signed (the serialized map inside the bstr).
    pub protected: &'a [u8],
    /// The payload (the CWT claims map, not yet read).
    pub payload: &'a [u8],
    /// The signature.
    pub signature: &'a [u8],
}

/// The four items of the COSE_Sign1 array, before their meaning is checked.
struct Items<'a> {
    protected: &'a [u8],
    unprotected: &'a [u8],
    /// `None`: a detached payload (CBOR `nil`).
    payload: Option<&'a [u8]>,
    signature: &'a [u8],
}

/// The protected header's parameters: the ones a token has, and whether there are others.
#[derive(Default)]
struct Protected<'a> {
    alg: Option<Alg<'a>>,
    kid: Option<&'a [u8]>,
    others: bool,
}

/// A COSE `alg` value: an integer, or text (valid COSE, never one of ours).
enum Alg<'a> {
    Int(i64),
    Text(&'a str),
}

/// Reads `token` as a tagged COSE_Sign1. Checks in the order a reader of the structure
/// meets the problems: the CBOR structure first, then the algorithm (the one
/// [`TokenError::UnsupportedAlgorithm`] case), then `kid`, other parameters, the
/// unprotected header and the payload ([`TokenError::Malformed`]).
pub(super) fn read(token: &[u8]) -> Result<Sign1<'_>, TokenError> {
    let items = read_items(token).map_err(|e| TokenError::Malformed(format!("COSE_Sign1: {e}")))?;
    let header = read_protected(items.protected)
        .map_err(|e| TokenError::Malformed(format!("COSE_Sign1 protected header: {e}")))?;
    let algorithm = match header.alg {
        Some(Alg::Int(alg)) => Algorithm::from_cose_int(alg)
            .ok_or_else(|| TokenError::UnsupportedAlgorithm(format!("COSE alg {alg}")))?,
        Some(Alg::Text(alg)) => return Err(TokenError::UnsupportedAlgorithm(format!("COSE alg {alg:?}"))),
        None => return Err(TokenError::Malformed("no alg in the protected header".into())),
    };
    let kid = header
        .kid
        .filter(|kid| !kid.is_empty() && kid.len() <= MAX_KID_BYTES)
        .ok_or_else(|| TokenError::Malformed(format!("kid missing or longer than {MAX_KID_BYTES} bytes")))?;
    if header.others {
        return Err(TokenError::Malformed("protected header has parameters besides alg and kid".into()));
    }
    if items.unprotected != [0xa0] {
        return Err(TokenError::Malformed("unprotected header is not empty".into()));
    }
    let payload = items.payload.ok_or_else(|| TokenError::Malformed("detached payload".into()))?;
    Ok(Sign1 { algorithm, kid, protected: items.protected, payload, signature: items.signature })
}

/// Tag 18, an array of exactly four items (protected bstr, unprotected map, payload bstr
/// or nil, signature bstr), and nothing after it.
fn read_items(token: &[u8]) -> Result<Items<'_>, String> {
    let mut d = Decoder::new(token);
    let tag = d.tag().map_err(|e| format!("not tag {TAG_COSE_SIGN1}: {e}"))?;
    if tag.as_u64() != TAG_COSE_SIGN1 {
        return Err(format!("tag {} instead of {TAG_COSE_SIGN1}", tag.as_u64()));
    }
    if d.array().map_err(|e| e.to_string())? != Some(4) {
        return Err("not an array of four items".into());
    }
    let protected = d.bytes().map_err(|e| format!("protected header: {e}"))?;
    let start = d.position();
    if d.datatype().map_err(|e| e.to_string())? != Type::Map {
        return Err("unprotected header is not a map".into());
    }
    d.skip().map_err(|e| format!("unprotected header: {e}"))?;
    let unprotected = &token[start..d.position()];
    let payload = if d.datatype().map_err(|e| e.to_string())? == Type::Null {
        d.null().map_err(|e| e.to_string())?;
        None
    } else {
        Some(d.bytes().map_err(|e| format!("payload: {e}"))?)
    };
    let signature = d.bytes().map_err(|e| format!("signature: {e}"))?;
    if d.position() != token.len() {
        return Err(format!("{} bytes after the COSE_Sign1", token.len() - d.position()));
    }
    Ok(Items { protected, unprotected, payload, signature })
}

/// The protected header map (an empty bstr is an empty map, RFC 9052, section 3): integer
/// or text labels, each at most once, `alg` an integer or text, `kid` a non-empty bstr.
fn read_protected(bytes: &[u8]) -> Result<Protected<'_>, String> {
    let mut header = Protected::default();
    if bytes.is_empty() {
        return Ok(header);
    }
    let cbor = |e: minicbor::decode::Error| e.to_string();
    let mut d = Decoder::new(bytes);
    let entries = d.map().map_err(cbor)?.ok_or("indefinite-length map")?;
    let mut seen = Vec::new();
    for _ in 0..entries {
        let label = match d.datatype().map_err(cbor)? {
            Type::String => {
                let text = d.str().map_err(cbor)?;
                header.others = true;
                Err(text)
            }
            _ => Ok(d.i64().map_err(|e| format!("label: {e}"))?),
        };
        if seen.contains(&label) {
            return Err("duplicate label".into());
        }
        match label {
            Ok(LABEL_ALG) => {
                header.alg = Some(match d.datatype().map_err(cbor)? {
                    Type::String => Alg::Text(d.str().map_err(cbor)?),
                    _ => Alg::Int(d.i64().map_err(|e| format!("alg: {e}"))?),
                })
            }
            Ok(LABEL_KID) => header.kid = Some(d.bytes().map_err(|e| format!("kid: {e}"))?),
            _ => {
                header.others = true;
                d.skip().map_err(cbor)?;
            }
        }
        seen.push(label);
    }
    if d.position() != bytes.len() {
        return Err("bytes after the map".into());
    }
    Ok(header)
}

/// The `Sig_structure` of a COSE_Sign1 (RFC 9052, section 4.4) with empty external AAD:
/// `["Signature1", protected, h'', payload]`, the protected header as the bytes it was
/// read from or written as.
pub(super) fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected.len() + payload.len() + 24);
    minicbor::Encoder::new(&mut out)
        .array(4)
        .and_then(|e| e.str("Signature1"))
        .and_then(|e| e.bytes(protected))
        .and_then(|e| e.bytes(&[]))
        .and_then(|e| e.bytes(payload))
        // Invariant: writing to a Vec cannot fail (its write error type is Infallible).
        .expect("encoding into a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable as _};

    /// The Sig_structure built here is the one coset signs (and signed, before this file,
    /// verified), byte for byte.
    #[test]
    fn sig_structure_is_cosets() {
        let mut protected = HeaderBuilder::new().key_id(vec![7; 8]).build();
        protected.alg = Some(Algorithm::Sm2.cose());
        let payload = vec![0xa1, 0x06, 0x1a, 0x66, 0x5a, 0x6b, 0x80];
        let sign1 = CoseSign1Builder::new().protected(protected).payload(payload.clone()).build();
        let token = sign1.clone().to_tagged_vec().unwrap();
        let read = read(&token).unwrap();
        assert_eq!((read.algorithm, read.kid, read.payload), (Algorithm::Sm2, &[7u8; 8][..], &payload[..]));
        assert_eq!(sig_structure(read.protected, read.payload), sign1.tbs_data(&[]));
    }

    /// Shapes coset would read but a token never has: indefinite lengths, an unprotected
    /// header written as an indefinite empty map, a duplicate or non-integer label, a
    /// protected header with bytes after its map.
    #[test]
    fn indefinite_lengths_and_odd_labels_are_malformed() {
        let kid = [0x44, 0x01, 0x02, 0x03, 0x04];
        let header = |map: &[u8]| [&[0x40 + map.len() as u8][..], map].concat();
        let token = |protected: &[u8], unprotected: &[u8]| {
            [&[0xd2, 0x84][..], protected, unprotected, &[0x41, 0xa0, 0x40]].concat()
        };
        let good_map = [&[0xa2, 0x01, 0x27, 0x04][..], &kid].concat();
        assert!(read(&token(&header(&good_map), &[0xa0])).is_ok());
        let cases: [(&str, Vec<u8>); 6] = [
            ("indefinite unprotected", token(&header(&good_map), &[0xbf, 0xff])),
            (
                "indefinite array",
                [&[0xd2, 0x9f][..], &header(&good_map), &[0xa0, 0x41, 0xa0, 0x40, 0xff]].concat(),
            ),
            (
                "indefinite protected map",
                token(&header(&[&[0xbf, 0x01, 0x27, 0x04][..], &kid, &[0xff]].concat()), &[0xa0]),
            ),
            (
                "duplicate alg",
                token(&header(&[&[0xa3, 0x01, 0x27, 0x01, 0x27, 0x04][..], &kid].concat()), &[0xa0]),
            ),
            ("bytes after the protected map", token(&header(&[&good_map[..], &[0x00]].concat()), &[0xa0])),
            (
                "byte-string label",
                token(&header(&[&[0xa3, 0x41, 0x00, 0x00, 0x01, 0x27, 0x04][..], &kid].concat()), &[0xa0]),
            ),
        ];
        for (name, bytes) in cases {
            assert!(matches!(read(&bytes), Err(TokenError::Malformed(_))), "{name}");
        }
        let text_alg =
            token(&header(&[&[0xa2, 0x01, 0x63, b'E', b'S', b'1', 0x04][..], &kid].concat()), &[0xa0]);
        assert!(matches!(read(&text_alg), Err(TokenError::UnsupportedAlgorithm(_))));
    }
}

//! Putting a token into the QR code's URL and getting it back out.
//!
//! The URL is `PUBLIC_URL/v/<token>`, the verification page's address as operators and
//! scripts know it. The token travels as RFC 4648 base32 (uppercase, no padding), so the
//! encoder's optimal segmentation codes the token in QR alphanumeric mode at 5.5 bits a
//! character; only the short lowercase prefix goes in byte mode (about 9 bytes more than an
//! all-uppercase URL; measured: the realistic licence needs version 14 with the lowercase
//! prefix, 13 with an all-uppercase one).
//! base64url needs byte mode at 8 bits a character: 6 bits of token per 8 bits of QR, against
//! 5 per 5.5 for base32, so base32 carries about 21 % more token per QR module.
//! Measured with the `qrcode` 0.14 crate at ECC level M, public URL of 30 characters,
//! the realistic licence of the `qr_versions` test (279-byte token with `iss` = the public
//! URL, 266 bytes with `iss` = the 18-character issuer code, 246 bytes with `iss` left out as
//! the platform signs it), same for Ed25519 and P-256 (64-byte signatures both): base32 URL
//! 480 / 459 / 427 characters → version 14 / 14 / 13; base64url URL 405 / 388 / 361
//! characters → version 15. Version 12-M holds at most 241 token bytes in base32
//! (190 in base64url) behind that prefix: 25 bytes short of this licence even with the
//! savings of [`super::claims`] (the 64-byte signature and COSE framing take 85 bytes).

use std::sync::LazyLock;

use data_encoding::{BASE32_NOPAD, Encoding};

use super::{MAX_TOKEN_BYTES, TokenError};

/// Path segment between the public URL and the token (the verification page's route).
pub const URL_PATH: &str = "/v/";

/// Path segment of a bundle receipt's verification page.
pub const BUNDLE_URL_PATH: &str = "/b/";

/// Longest encoded token [`decode_from_url`] looks at: base32 of [`MAX_TOKEN_BYTES`].
pub const MAX_ENCODED_CHARS: usize = MAX_TOKEN_BYTES.div_ceil(5) * 8;

/// Longest text [`decode_from_url`] reads at all (a whole QR URL: the public URL, the
/// path and [`MAX_ENCODED_CHARS`]); longer input is refused before it is scanned.
pub const MAX_URL_BYTES: usize = MAX_ENCODED_CHARS + 4096;

/// Encodes token bytes for the URL: base32, uppercase, no padding.
pub fn encode_for_url(token: &[u8]) -> String {
    BASE32_NOPAD.encode(token)
}

/// Decodes what [`encode_for_url`] made, in any letter case. Also takes a whole QR URL
/// (whatever follows the last `/`, without any `?query` or `#fragment`) and ignores
/// surrounding whitespace.
pub fn decode_from_url(text: &str) -> Result<Vec<u8>, TokenError> {
    if text.len() > MAX_URL_BYTES {
        return Err(TokenError::TooLarge { size: text.len(), max: MAX_URL_BYTES });
    }
    // Byte searches (memchr) rather than char patterns: a QR URL is 400-odd characters,
    // and this runs on every scan.
    let text = text.trim().as_bytes();
    let text = memchr::memchr2(b'?', b'#', text).map_or(text, |end| &text[..end]);
    let text = memchr::memrchr(b'/', text).map_or(text, |slash| &text[slash + 1..]);
    if text.len() > MAX_ENCODED_CHARS {
        return Err(TokenError::TooLarge { size: text.len(), max: MAX_ENCODED_CHARS });
    }
    if text.is_empty() {
        return Err(TokenError::Encoding("empty token".into()));
    }
    BASE32_ANY_CASE.decode(text).map_err(|e| TokenError::Encoding(format!("not base32: {e}")))
}

/// [`BASE32_NOPAD`] that also reads lowercase letters (translated while decoding, so
/// the text is not copied to uppercase first).
static BASE32_ANY_CASE: LazyLock<Encoding> = LazyLock::new(|| {
    let mut spec = BASE32_NOPAD.specification();
    spec.translate.from.push_str("abcdefghijklmnopqrstuvwxyz");
    spec.translate.to.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    // Invariant: the RFC 4648 alphabet with its lowercase letters mapped onto it is a
    // valid specification (tested by `round_trip_in_any_case_and_from_a_url`).
    spec.encoding().expect("base32 with a lowercase translation is a valid encoding")
});

/// The QR text of a bundle receipt: `PUBLIC_URL/b/<base32 token>`.
pub fn bundle_url(public_url: &str, token: &[u8]) -> String {
    format!("{}{BUNDLE_URL_PATH}{}", public_url.trim_end_matches('/'), encode_for_url(token))
}

/// The QR text: `PUBLIC_URL/v/<base32 token>`.
pub fn qr_url(public_url: &str, token: &[u8]) -> String {
    format!("{}{URL_PATH}{}", public_url.trim_end_matches('/'), encode_for_url(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_any_case_and_from_a_url() {
        let bytes: Vec<u8> = (0..=255).collect();
        let enc = encode_for_url(&bytes);
        assert!(enc.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(decode_from_url(&enc).unwrap(), bytes);
        assert_eq!(decode_from_url(&enc.to_ascii_lowercase()).unwrap(), bytes);
        let url = qr_url("https://licence.example.gov.cn/", &bytes);
        assert!(url.starts_with("https://licence.example.gov.cn/v/"));
        assert_eq!(decode_from_url(&url).unwrap(), bytes);
        assert_eq!(decode_from_url(&format!(" {}?x=1#f \n", url.to_lowercase())).unwrap(), bytes);
    }

    #[test]
    fn public_url_keeps_its_form() {
        assert_eq!(qr_url("https://Gov.cn:8443/zz/Licences/", &[0]), "https://Gov.cn:8443/zz/Licences/v/AA");
    }

    #[test]
    fn bad_text_is_an_error() {
        for bad in ["", "/", "ABC1", "A", "AAAAAAAAA", "ÄÄÄ", "AA==", "A A"] {
            assert!(matches!(decode_from_url(bad), Err(TokenError::Encoding(_))), "{bad:?}");
        }
        let long = "A".repeat(MAX_ENCODED_CHARS + 8);
        assert!(matches!(decode_from_url(&long), Err(TokenError::TooLarge { .. })));
        let url = format!("https://licence.example.gov.cn/{}/v/AA", "x".repeat(MAX_URL_BYTES));
        assert!(matches!(decode_from_url(&url), Err(TokenError::TooLarge { max: MAX_URL_BYTES, .. })));
    }
}

//! PEM (RFC 7468) encoding and decoding of certificates and CRLs.

use super::error::PkiError;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// PEM-encodes `der` under `label` (`"CERTIFICATE"`, `"X509 CRL"`, …): 64-column base64,
/// LF line endings, a final newline.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64_encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.extend(line.iter().map(|&b| char::from(b)));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Decodes every PEM block labelled `label` in `text`, in order; blocks with other labels
/// and text between blocks are skipped.
///
/// Errors: a block that is not closed, whose END label differs from its BEGIN label, that
/// carries RFC 1421 headers, or whose base64 is bad; and no block with `label` at all.
pub fn pem_decode_all(text: &str, label: &str) -> Result<Vec<Vec<u8>>, PkiError> {
    let mut found = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(block_label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) else {
            continue;
        };
        let end = format!("-----END {block_label}-----");
        let mut body = String::new();
        let mut closed = false;
        for inner in lines.by_ref() {
            if inner == end {
                closed = true;
                break;
            }
            if inner.starts_with("-----") {
                return Err(PkiError::Pem(format!(
                    "block {block_label:?} ends with {inner:?}, expected {end:?}"
                )));
            }
            if inner.contains(':') {
                return Err(PkiError::Pem(format!(
                    "block {block_label:?} has RFC 1421 headers (legacy encryption is not supported)"
                )));
            }
            body.push_str(inner);
        }
        if !closed {
            return Err(PkiError::Pem(format!("block {block_label:?} is not closed")));
        }
        if block_label == label {
            let der = base64_decode(&body)
                .ok_or_else(|| PkiError::Pem(format!("bad base64 in block {label:?}")))?;
            found.push(der);
        }
    }
    if found.is_empty() {
        return Err(PkiError::Pem(format!("no {label:?} block found")));
    }
    Ok(found)
}

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [n >> 18, n >> 12, n >> 6, n];
        for (i, s) in sextets.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(s & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Strict standard base64 with padding; `None` on any bad character or length.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let last = bytes.len() / 4 - 1;
    for (i, quad) in bytes.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i != last) {
            return None;
        }
        let mut n: u32 = 0;
        for &c in &quad[..4 - pad] {
            let v = ALPHABET.iter().position(|&a| a == c)?;
            // position() < 64 always fits in u32.
            n = (n << 6) | v as u32;
        }
        n <<= 6 * pad as u32;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, enc) in [
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            assert_eq!(base64_decode(enc).unwrap(), plain.as_bytes());
        }
        assert!(base64_decode("Zm9v!").is_none());
        assert!(base64_decode("Zg==Zm9v").is_none());
        assert!(base64_decode("Z===").is_none());
    }

    #[test]
    fn round_trip_several_blocks() {
        let a: Vec<u8> = (0..=255).collect();
        let b = vec![1u8, 2, 3];
        let text = format!(
            "junk before\n{}{}{}",
            pem_encode("CERTIFICATE", &a),
            pem_encode("X509 CRL", &b),
            pem_encode("CERTIFICATE", &b).replace('\n', "\r\n"),
        );
        assert!(text.contains("-----BEGIN X509 CRL-----\nAQID\n-----END X509 CRL-----\n"));
        assert_eq!(pem_decode_all(&text, "CERTIFICATE").unwrap(), vec![a, b.clone()]);
        assert_eq!(pem_decode_all(&text, "X509 CRL").unwrap(), vec![b]);
        assert!(matches!(pem_decode_all(&text, "PRIVATE KEY"), Err(PkiError::Pem(_))));
    }

    #[test]
    fn broken_blocks_are_errors() {
        let open = "-----BEGIN CERTIFICATE-----\nAQID\n";
        assert!(pem_decode_all(open, "CERTIFICATE").is_err());
        let mismatched = "-----BEGIN CERTIFICATE-----\nAQID\n-----END X509 CRL-----\n";
        assert!(pem_decode_all(mismatched, "CERTIFICATE").is_err());
        let bad = "-----BEGIN CERTIFICATE-----\nA!ID\n-----END CERTIFICATE-----\n";
        assert!(pem_decode_all(bad, "CERTIFICATE").is_err());
    }
}

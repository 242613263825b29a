//! `ofd.token`: the QR token an OFD carries in its metadata (`DocInfo/CustomDatas`, key
//! `Token`, as the PDF's document information) is authentic — signed by the OFD's own
//! signer, or, for a licence issued as PDF + OFD, by the PDF's seal of the same
//! department — and agrees with the metadata (identifier, record hash), which the custom
//! tag files must not contradict.

use crate::ofd::OfdInspection;
use crate::token::{self, LicenceClaims};
use crate::verify::report::Check;
use crate::verify::trust::{TrustSet, TrustedSeal, verifier_of_cert};

/// The metadata keys the token is checked against, also in the custom tags.
const KEYS: [&str; 3] = ["Identifier", "RecordHash", "Token"];

/// The value of `key` in the OFD's `CustomDatas`.
pub(super) fn metadata(inspection: &OfdInspection, key: &str) -> Option<String> {
    inspection.doc_info.custom_datas.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// Appends `ofd.token`; the token's claims when it holds.
pub(super) fn check(
    trust: &TrustSet,
    inspection: &OfdInspection,
    signer_cert: &[u8],
    signer_seal: Option<&TrustedSeal>,
    checks: &mut Vec<Check>,
) -> Option<LicenceClaims> {
    match claims(trust, inspection, signer_cert, signer_seal) {
        Ok(claims) => {
            checks.push(Check::pass(
                "ofd.token",
                "OFD 内嵌的二维码令牌与签章人、文档元数据一致",
                "the embedded QR token agrees with the signer and the document metadata",
            ));
            Some(claims)
        }
        Err((zh, en)) => {
            checks.push(Check::fail("ofd.token", zh, en));
            None
        }
    }
}

type Why = (String, String);

fn why(zh: &str, en: &str) -> Why {
    (zh.to_owned(), en.to_owned())
}

fn claims(
    trust: &TrustSet,
    inspection: &OfdInspection,
    signer_cert: &[u8],
    signer_seal: Option<&TrustedSeal>,
) -> Result<LicenceClaims, Why> {
    let text = metadata(inspection, "Token").ok_or_else(|| {
        why(
            "OFD 中没有二维码令牌：不是本平台签发的电子证照",
            "the OFD carries no QR token: not a licence of this platform",
        )
    })?;
    let bytes = token::decode_from_url(&text)
        .map_err(|e| (format!("二维码令牌无法读取：{e}"), format!("unreadable token: {e}")))?;
    let parsed = token::parse(&bytes)
        .map_err(|e| (format!("二维码令牌无法读取：{e}"), format!("unreadable token: {e}")))?;
    let verifier = if parsed.kid == token::kid_of(signer_cert) {
        verifier_of_cert(signer_cert)
            .ok_or_else(|| why("签章人证书的公钥无法读取", "the signer certificate's key cannot be read"))?
    } else {
        // A PDF + OFD licence: the token is the PDF seal's, which must be a seal of the
        // department whose SM2 seal signed the OFD.
        let token_seal = trust.seal_by_kid(&parsed.kid).ok_or_else(|| {
            why("二维码令牌由未知印章签名", "the token is signed by a seal that is not trusted")
        })?;
        let same = signer_seal.is_some_and(|s| s.department_code == token_seal.department_code);
        if !same {
            return Err(why(
                "二维码令牌与 OFD 签章不属于同一发证机关",
                "the token and the OFD were signed by seals of different departments",
            ));
        }
        token_seal
            .verifier
            .clone()
            .ok_or_else(|| why("印章公钥无法读取", "the token seal's key cannot be read"))?
    };
    token::verify(&parsed, &verifier)
        .map_err(|_| why("二维码令牌签名无效", "the token signature does not hold"))?;
    let claims = parsed.claims;
    if metadata(inspection, "Identifier").as_deref() != Some(claims.licence_id.as_str()) {
        return Err(why("二维码令牌属于另一份证照", "the token belongs to another licence than the OFD"));
    }
    let hash_ok = metadata(inspection, "RecordHash")
        .and_then(|h| hex::decode(h).ok())
        .is_some_and(|h| claims.record_hash_matches(&h));
    if !hash_ok {
        return Err(why(
            "OFD 的记录摘要与二维码令牌不一致",
            "the OFD's record hash and the token's disagree",
        ));
    }
    tags_agree(inspection)?;
    Ok(claims)
}

/// The custom tag files state the same identifier, record hash and token as `CustomDatas`
/// wherever they state them.
fn tags_agree(inspection: &OfdInspection) -> Result<(), Why> {
    for tag in &inspection.custom_tags {
        for (key, value) in &tag.values {
            if KEYS.contains(&key.as_str()) && metadata(inspection, key).as_deref() != Some(value.as_str()) {
                return Err((
                    format!("OFD 自定义标签中的 {key} 与文档元数据不一致"),
                    format!("the custom tags' {key} differs from the document metadata"),
                ));
            }
        }
    }
    Ok(())
}

//! What of a holder code may be shown in public (verification page, QR token, register views).

use super::citizen::mask;

/// The holder code as public surfaces show it. A 统一社会信用代码 (`001`) identifies a
/// legal entity and is public by law (GB 32100-2015): shown in full. A 公民身份号码 (`111`),
/// and any code of a type this platform does not know, is personal data: masked to its first
/// 3 and last 4 characters (`310***********1239`).
pub fn public_holder_code(code: &str, code_type: &str) -> String {
    if code_type == "001" { code.to_owned() } else { mask(code, 3, 4) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_in_full_citizen_id_masked() {
        assert_eq!(public_holder_code("91310115MA1H7ABC2D", "001"), "91310115MA1H7ABC2D");
        assert_eq!(public_holder_code("310115199003071239", "111"), "310***********1239");
        assert_eq!(public_holder_code("310115199003071239", "999"), "310***********1239");
        assert_eq!(public_holder_code("11010519491231002X", "111"), "110***********002X");
    }
}

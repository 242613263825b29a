//! ISO/IEC 7064 MOD 37,36 (hybrid system, alphabet `0-9A-Z`), the check character of
//! GB/T 36904 licence identifiers.

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn value(ch: char) -> Option<u32> {
    ch.to_digit(36).filter(|_| ch.is_ascii_digit() || ch.is_ascii_uppercase())
}

/// The check character for `data` (digits and capital letters), or `None` when `data`
/// holds any other character.
pub fn mod37_36_check(data: &str) -> Option<char> {
    const M: u32 = 36;
    let mut p = M;
    for ch in data.chars() {
        let s = (p + value(ch)?) % M;
        let s = if s == 0 { M } else { s };
        p = (s * 2) % (M + 1);
    }
    let check = (M + 1 - p) % M;
    Some(char::from(ALPHABET[check as usize]))
}

/// Whether `data_with_check` ends in the right check character.
pub fn mod37_36_valid(data_with_check: &str) -> bool {
    let Some((last_index, last)) = data_with_check.char_indices().last() else {
        return false;
    };
    mod37_36_check(&data_with_check[..last_index]) == Some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_licence_identifiers() {
        // Type code + issuer code + serial + version of real identifiers whose check
        // character is known good.
        for (data, check) in [
            ("11100000000013338W03211220000013544541J2430599001", 'F'),
            ("11100000000013338W01111430000006122244L20230000403001", 'U'),
            ("11100000000013338W00911330105002500287C2025052201002", '0'),
        ] {
            assert_eq!(mod37_36_check(data), Some(check), "{data}");
            assert!(mod37_36_valid(&format!("{data}{check}")));
        }
    }

    #[test]
    fn detects_single_substitutions_and_bad_characters() {
        let good = "11100000000013338W03211220000013544541J2430599001F";
        assert!(mod37_36_valid(good));
        for i in 0..good.len() - 1 {
            let mut changed: Vec<u8> = good.bytes().collect();
            changed[i] = if changed[i] == b'7' { b'8' } else { b'7' };
            let changed = String::from_utf8(changed).unwrap();
            assert!(!mod37_36_valid(&changed), "{changed}");
        }
        assert_eq!(mod37_36_check("abc"), None);
        assert!(!mod37_36_valid(""));
    }
}

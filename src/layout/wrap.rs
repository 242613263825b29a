//! Line breaking for mixed Chinese and Latin text: break between ideographs, at spaces between
//! Latin words, never before closing or after opening punctuation.

use super::LayoutError;
use super::text::width_pt;

/// Punctuation that must not start a line.
const NO_LINE_START: &str = "，。、；：！？）》」』】〕”’%,.;:!?)]}·…";

/// Punctuation that must not end a line.
const NO_LINE_END: &str = "（《「『【〔“‘([{";

/// Whether a line may break between two ideographs around `c` (CJK text breaks anywhere).
fn is_cjk(c: char) -> bool {
    matches!(u32::from(c), 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Splits `text` into unbreakable pieces: an ideograph, a Latin word, or a run of spaces,
/// with punctuation glued to its neighbour.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut glue_next = false;
    for c in text.chars() {
        let c = if c == '\t' { ' ' } else { c };
        let glue_prev = NO_LINE_START.contains(c);
        let continues_word = !is_cjk(c)
            && c != ' '
            && out.last().is_some_and(|t| t.chars().last().is_some_and(|p| !is_cjk(p) && p != ' '));
        let continues_space = c == ' ' && out.last().is_some_and(|t| t.ends_with(' '));
        match out.last_mut() {
            Some(last) if glue_next || glue_prev || continues_word || continues_space => last.push(c),
            _ => out.push(c.to_string()),
        }
        glue_next = NO_LINE_END.contains(c);
    }
    out
}

/// Breaks `text` into lines at most `max_width` points wide at `size`; `\n` forces a break.
///
/// A piece wider than a whole line (a long URL) is broken between characters.
pub(crate) fn wrap(text: &str, size: f32, max_width: f32) -> Result<Vec<String>, LayoutError> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut width = 0.0;
        for token in tokens(paragraph) {
            let w = width_pt(&token, size)?;
            if width + w <= max_width || line.is_empty() && token.trim().is_empty() {
                line.push_str(&token);
                width += w;
                continue;
            }
            if token.trim().is_empty() {
                // A space at the break disappears.
                lines.push(std::mem::take(&mut line));
                width = 0.0;
                continue;
            }
            if !line.trim().is_empty() {
                lines.push(std::mem::take(&mut line).trim_end().to_string());
            }
            line.clear();
            width = 0.0;
            if w <= max_width {
                line.push_str(&token);
                width = w;
            } else {
                for c in token.chars() {
                    let cw = width_pt(c.encode_utf8(&mut [0; 4]), size)?;
                    if width + cw > max_width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        width = 0.0;
                    }
                    line.push(c);
                    width += cw;
                }
            }
        }
        lines.push(line.trim().to_string());
    }
    Ok(lines.into_iter().map(|l| l.trim().to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_glue_punctuation_and_words() {
        assert_eq!(
            tokens("预包装食品（含冷藏）销售，"),
            ["预", "包", "装", "食", "品", "（含", "冷", "藏）", "销", "售，"]
        );
        assert_eq!(tokens("ab cd"), ["ab", " ", "cd"]);
    }

    #[test]
    fn wraps_within_width_and_keeps_all_text() {
        let text = "预包装食品（含冷藏冷冻食品）销售，散装食品（含冷藏冷冻食品）销售，热食类食品制售，冷食类食品制售，自制饮品制售";
        let lines = wrap(text, 12.0, 200.0).unwrap();
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(width_pt(l, 12.0).unwrap() <= 200.0 + 0.01, "{l}");
            assert!(!l.starts_with('，') && !l.starts_with('）'), "{l}");
        }
        assert_eq!(lines.concat(), text);
        let url = "https://verify.example.gov.cn/v/".to_string() + &"A".repeat(80);
        let lines = wrap(&url, 10.0, 150.0).unwrap();
        assert_eq!(lines.concat(), url);
        assert_eq!(wrap("甲\n乙", 10.0, 100.0).unwrap(), ["甲", "乙"]);
        let w = width_pt("Hello world", 12.0).unwrap() + 1.0;
        assert_eq!(wrap("Hello world again", 12.0, w).unwrap(), ["Hello world", "again"]);
    }
}

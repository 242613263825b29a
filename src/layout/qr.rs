//! The QR symbol of the verification URL: which modules are dark.
//!
//! The symbol is built with the `qrcode` crate's parts (data bits, error correction,
//! canvas, masks); only the choice of mask is done here. The crate scores the eight masks
//! through a boxed closure per module and pattern position, which took a third of the
//! time of rendering a licence; [`penalty`] computes the same scores, rule for rule, on a
//! plain array, so the chosen mask — and so the symbol — is the one the crate would choose.

use std::sync::OnceLock;

use qrcode::canvas::{Canvas, MaskPattern, Module};
use qrcode::{Color, EcLevel, Version};

use super::{LayoutError, QrSymbol, RectMm, Rgb};

/// Quiet zone around the symbol, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_MODULES: usize = 4;

/// Most bytes of QR text accepted (a version-25-ish symbol at ECC M; more would not scan at print size).
pub const MAX_QR_BYTES: usize = 1200;

/// The QR symbol of `text` (ECC M) filling `area` (quiet zone included) in `colour`.
pub(crate) fn symbol(text: &str, area: RectMm, colour: Rgb) -> Result<QrSymbol, LayoutError> {
    if text.is_empty() {
        return Err(LayoutError::EmptyText("QR text"));
    }
    if text.len() > MAX_QR_BYTES {
        return Err(LayoutError::TooLong { what: "QR text (bytes)", max: MAX_QR_BYTES, got: text.len() });
    }
    let (modules, dark) = encode(text)?;
    Ok(QrSymbol { colour, area, modules, dark })
}

/// The symbol's width in modules (quiet zone excluded) for `text` at ECC M.
pub(crate) fn width(text: &str) -> Result<usize, LayoutError> {
    let bits = qrcode::bits::encode_auto(text.as_bytes(), EcLevel::M)
        .map_err(|e| LayoutError::QrEncode(e.to_string()))?;
    usize::try_from(bits.version().width()).map_err(|e| LayoutError::QrEncode(e.to_string()))
}

/// The masks in the order the `qrcode` crate tries them (the first of equal scores wins).
const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The QR symbol of `text` at ECC M: its width in modules and whether each module is dark,
/// row by row from the top.
fn encode(text: &str) -> Result<(usize, Vec<bool>), LayoutError> {
    let qr_err = |e: qrcode::types::QrError| LayoutError::QrEncode(e.to_string());
    let bits = qrcode::bits::encode_auto(text.as_bytes(), EcLevel::M).map_err(qr_err)?;
    let version = bits.version();
    let data = bits.into_bytes();
    let (codewords, ec) = qrcode::ec::construct_codewords(&data, version, EcLevel::M).map_err(qr_err)?;
    let tables = VersionTables::of(version)?;
    let mut canvas = tables.functional.clone();
    canvas.draw_data(&codewords, &ec);
    let w = tables.width;
    // The data modules' colours before masking, by row and by column.
    let (mut rows, mut cols) = (vec![[0u64; WORDS]; w], vec![[0u64; WORDS]; w]);
    for (y, row) in rows.iter_mut().enumerate() {
        for (x, col) in cols.iter_mut().enumerate() {
            // Widths are at most 177, so the casts are exact.
            if let Module::Unmasked(Color::Dark) = canvas.get(x as i16, y as i16) {
                set(row, x);
                set(col, y);
            }
        }
    }
    let mut best: Option<(u16, Vec<Line>)> = None;
    let (mut masked_rows, mut masked_cols) = (rows.clone(), cols.clone());
    for (fixed_rows, fixed_cols) in tables.masked_rows.iter().zip(&tables.masked_cols) {
        // A data module is its colour flipped where the mask says so; a functional one
        // (format information included) is as the table has it.
        for (out, (f, d)) in masked_rows.iter_mut().zip(fixed_rows.iter().zip(&rows)) {
            *out = xor(f, d);
        }
        for (out, (f, d)) in masked_cols.iter_mut().zip(fixed_cols.iter().zip(&cols)) {
            *out = xor(f, d);
        }
        let score = penalty(&masked_rows, &masked_cols, w);
        if best.as_ref().is_none_or(|(b, _)| score < *b) {
            best = Some((score, masked_rows.clone()));
        }
    }
    let (_, best) = best.ok_or_else(|| LayoutError::QrEncode("no mask".into()))?;
    Ok((w, best.iter().flat_map(|row| (0..w).map(move |x| get(row, x))).collect()))
}

/// Words of a [`Line`]: the widest symbol (version 40) is 177 modules.
const WORDS: usize = 3;

/// One row or column of a symbol: bit `k` (word `k / 64`, bit `k % 64`) is module `k`, 1 dark.
type Line = [u64; WORDS];

fn set(line: &mut Line, k: usize) {
    line[k / 64] |= 1 << (k % 64);
}

fn get(line: &Line, k: usize) -> bool {
    line[k / 64] >> (k % 64) & 1 == 1
}

fn xor(a: &Line, b: &Line) -> Line {
    [a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2]]
}

fn and(a: &Line, b: &Line) -> Line {
    [a[0] & b[0], a[1] & b[1], a[2] & b[2]]
}

fn or(a: &Line, b: &Line) -> Line {
    [a[0] | b[0], a[1] | b[1], a[2] | b[2]]
}

/// Bits `0..n` set.
fn first(n: usize) -> Line {
    let mut l = [0u64; WORDS];
    for (i, word) in l.iter_mut().enumerate() {
        let lo = i * 64;
        *word = match n.saturating_sub(lo) {
            0 => 0,
            k if k >= 64 => u64::MAX,
            k => (1u64 << k) - 1,
        };
    }
    l
}

/// `!a` within `mask`.
fn not_in(a: &Line, mask: &Line) -> Line {
    [!a[0] & mask[0], !a[1] & mask[1], !a[2] & mask[2]]
}

/// Module `k + s` at bit `k` (zeros shifted in at the end); `0 < s < 64`.
fn down(a: &Line, s: u32) -> Line {
    [a[0] >> s | a[1] << (64 - s), a[1] >> s | a[2] << (64 - s), a[2] >> s]
}

/// Module `k - s` at bit `k` (zeros at the start; bits past the width stay for the caller
/// to mask); `0 < s < 64`.
fn up(a: &Line, s: u32) -> Line {
    [a[0] << s, a[1] << s | a[0] >> (64 - s), a[2] << s | a[1] >> (64 - s)]
}

fn ones(a: &Line) -> u16 {
    // At most 192.
    (a[0].count_ones() + a[1].count_ones() + a[2].count_ones()) as u16
}

/// What does not depend on the text, per QR version, made once: the canvas with the
/// functional patterns drawn, and for each mask (in [`MASKS`] order) the lines the crate's
/// `apply_mask` leaves on it, by row and by column — the final colour of functional and
/// format-information modules, the mask's bit at data modules. Masking a symbol is then an
/// exclusive or of lines instead of a canvas copy and a function call per module.
struct VersionTables {
    width: usize,
    functional: Canvas,
    masked_rows: Vec<Vec<Line>>,
    masked_cols: Vec<Vec<Line>>,
}

impl std::fmt::Debug for VersionTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionTables").field("width", &self.width).finish_non_exhaustive()
    }
}

impl VersionTables {
    /// The tables of `version` (a normal QR version; `encode_auto` makes no others).
    fn of(version: Version) -> Result<&'static Self, LayoutError> {
        static TABLES: [OnceLock<VersionTables>; 40] = [const { OnceLock::new() }; 40];
        let Version::Normal(n @ 1..=40) = version else {
            return Err(LayoutError::QrEncode(format!("unexpected QR version {version:?}")));
        };
        // 1..=40, so the index is in range.
        let slot = &TABLES[usize::from(n.unsigned_abs()) - 1];
        Ok(slot.get_or_init(|| Self::new(version)))
    }

    fn new(version: Version) -> Self {
        let mut functional = Canvas::new(version, EcLevel::M);
        functional.draw_all_functional_patterns();
        let width = usize::try_from(version.width()).unwrap_or(0);
        let (mut masked_rows, mut masked_cols) = (Vec::new(), Vec::new());
        for pattern in MASKS {
            let mut canvas = functional.clone();
            // An empty module of the functional canvas holds data; the crate's mask turns
            // it into the mask's bit.
            canvas.apply_mask(pattern);
            let (mut rows, mut cols) = (vec![[0u64; WORDS]; width], vec![[0u64; WORDS]; width]);
            for (y, row) in rows.iter_mut().enumerate() {
                for (x, col) in cols.iter_mut().enumerate() {
                    // Widths are at most 177, so the casts are exact.
                    if Color::from(canvas.get(x as i16, y as i16)) == Color::Dark {
                        set(row, x);
                        set(col, y);
                    }
                }
            }
            masked_rows.push(rows);
            masked_cols.push(cols);
        }
        Self { width, functional, masked_rows, masked_cols }
    }
}

/// The `qrcode` crate's total penalty of a masked normal QR symbol (its
/// `compute_total_penalty_scores`), with its `u16` arithmetic (wrapping, as in release
/// builds), from the symbol's `rows` and `cols` of width `w`.
///
/// Same rules as the crate, computed on bit lines: this runs eight times per licence,
/// once per mask.
fn penalty(rows: &[Line], cols: &[Line], w: usize) -> u16 {
    let mut score = 0u16;
    for lines in [rows, cols] {
        for line in lines {
            score = score.wrapping_add(line_runs(line, w)).wrapping_add(line_finders(line, w));
        }
        // The crate subtracts 360 once per direction (the three finder patterns).
        score = score.wrapping_sub(360);
    }
    // 2×2 blocks of equal modules: 3 each.
    let pairs = first(w.saturating_sub(1));
    for (upper, lower) in rows.iter().zip(rows.iter().skip(1)) {
        let same_right = not_in(&xor(upper, &down(upper, 1)), &pairs);
        let same_below = not_in(&xor(upper, lower), &pairs);
        let same_below_right = not_in(&xor(upper, &down(lower, 1)), &pairs);
        score = score.wrapping_add(3 * ones(&and(&and(&same_right, &same_below), &same_below_right)));
    }
    let dark: usize = rows.iter().map(|r| usize::from(ones(r))).sum();
    let ratio = dark * 200 / (w * w).max(1);
    // At most 100.
    let balance = ratio.abs_diff(100) as u16;
    score.wrapping_add(balance)
}

/// Runs of five or more equal modules in one line: length − 2 each. With `five` the
/// starts of five equal modules, a run of length L ≥ 5 has L − 4 of them, the first of
/// which has none just before it: the score is their count plus two per first.
fn line_runs(line: &Line, w: usize) -> u16 {
    let same_next = not_in(&xor(line, &down(line, 1)), &first(w.saturating_sub(1)));
    let five = and(&and(&same_next, &down(&same_next, 1)), &and(&down(&same_next, 2), &down(&same_next, 3)));
    let firsts = and(&five, &not_in(&up(&five, 1), &first(w)));
    ones(&five).wrapping_add(2 * ones(&firsts))
}

/// Finder-like 1:1:3:1:1 patterns in one line without four light modules on one side:
/// 40 each.
fn line_finders(line: &Line, w: usize) -> u16 {
    let all = first(w);
    let light = not_in(line, &all);
    // Modules j..j+7 are dark, light, dark, dark, dark, light, dark.
    let mut pattern = *line;
    for (s, want) in [(1, &light), (2, line), (3, line), (4, line), (5, &light), (6, line)] {
        pattern = and(&pattern, &down(want, s));
    }
    pattern = and(&pattern, &first(w.saturating_sub(6)));
    let after = or(&or(&down(line, 7), &down(line, 8)), &or(&down(line, 9), &down(line, 10)));
    let before = or(&or(&up(line, 1), &up(line, 2)), &or(&up(line, 3), &up(line, 4)));
    40 * ones(&and(&pattern, &not_in(&and(&after, &before), &all)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit of a module code: dark.
    const DARK: u8 = 1;

    /// A module as a small code: [`DARK`], plus 2 if masked, 4 if unmasked; 0 for empty.
    /// The crate's run and block rules compare whole modules, so masked and unmasked
    /// modules of one colour differ there.
    fn module_code(m: Module) -> u8 {
        match m {
            Module::Empty => 0,
            Module::Masked(c) => 2 | u8::from(c == Color::Dark),
            Module::Unmasked(c) => 4 | u8::from(c == Color::Dark),
        }
    }

    /// Module codes as bit lines, by row and by column.
    fn lines(m: &[u8], w: usize) -> (Vec<Line>, Vec<Line>) {
        let (mut rows, mut cols) = (vec![[0u64; WORDS]; w], vec![[0u64; WORDS]; w]);
        for (i, c) in m.iter().enumerate() {
            if c & DARK != 0 {
                set(&mut rows[i / w], i % w);
                set(&mut cols[i % w], i / w);
            }
        }
        (rows, cols)
    }

    /// The rules as first written, line for line after the crate, as the reference the
    /// faster [`penalty`] must match exactly.
    fn reference_penalty(m: &[u8], w: usize) -> u16 {
        let at = |x: usize, y: usize| m[y * w + x];
        // Runs of five or more equal modules: length − 2 each.
        let runs = |horizontal: bool| -> u16 {
            let mut score = 0u16;
            for i in 0..w {
                let mut last = u8::MAX;
                let mut len = 1u16;
                for j in 0..=w {
                    let c = if j == w {
                        u8::MAX - 1
                    } else if horizontal {
                        at(j, i)
                    } else {
                        at(i, j)
                    };
                    if c == last {
                        len += 1;
                    } else {
                        last = c;
                        if len >= 5 {
                            score = score.wrapping_add(len - 2);
                        }
                        len = 1;
                    }
                }
            }
            score
        };
        // 2×2 blocks of equal modules: 3 each.
        let mut blocks = 0u16;
        for y in 0..w - 1 {
            for x in 0..w - 1 {
                let c = at(x, y);
                if c == at(x + 1, y) && c == at(x, y + 1) && c == at(x + 1, y + 1) {
                    blocks = blocks.wrapping_add(3);
                }
            }
        }
        // Finder-like 1:1:3:1:1 patterns without four light modules on one side: 40 each.
        const PATTERN: [bool; 7] = [true, false, true, true, true, false, true];
        let finders = |horizontal: bool| -> u16 {
            let mut score = 0u16;
            let mut line = vec![false; w];
            for i in 0..w {
                for (k, d) in line.iter_mut().enumerate() {
                    *d = (if horizontal { at(k, i) } else { at(i, k) }) & DARK != 0;
                }
                for j in 0..w.saturating_sub(6) {
                    if line[j..j + 7] != PATTERN {
                        continue;
                    }
                    let dark_before = line[j.saturating_sub(4)..j].iter().any(|d| *d);
                    let dark_after = line[(j + 7).min(w)..(j + 11).min(w)].iter().any(|d| *d);
                    if !dark_before || !dark_after {
                        score = score.wrapping_add(40);
                    }
                }
            }
            score.wrapping_sub(360)
        };
        let dark = m.iter().filter(|c| *c & DARK != 0).count();
        let ratio = dark * 200 / m.len();
        // At most 100.
        let balance = ratio.abs_diff(100) as u16;
        runs(true)
            .wrapping_add(runs(false))
            .wrapping_add(blocks)
            .wrapping_add(finders(true))
            .wrapping_add(finders(false))
            .wrapping_add(balance)
    }

    #[test]
    fn penalty_matches_the_reference_for_every_mask() {
        let token = "https://zz.example.gov.cn/v/".to_owned()
            + &"NBSWY3DPEB3W64TMMQQGC3DMEAYTEMZUGU3DOOBZGAFA".repeat(9);
        for text in ["1", "https://zz.example/v/abc", token.as_str(), &"A".repeat(1500)] {
            let bits = qrcode::bits::encode_auto(text.as_bytes(), EcLevel::M).unwrap();
            let version = bits.version();
            let data = bits.into_bytes();
            let (codewords, ec) = qrcode::ec::construct_codewords(&data, version, EcLevel::M).unwrap();
            let mut canvas = Canvas::new(version, EcLevel::M);
            canvas.draw_all_functional_patterns();
            canvas.draw_data(&codewords, &ec);
            let w = version.width();
            let width = usize::try_from(w).unwrap();
            for pattern in MASKS {
                let mut masked = canvas.clone();
                masked.apply_mask(pattern);
                let modules: Vec<u8> = (0..w)
                    .flat_map(|y| (0..w).map(move |x| (x, y)))
                    .map(|(x, y)| module_code(masked.get(x, y)))
                    .collect();
                // Masked, every module is `Module::Masked`: the codes differ by colour only.
                assert!(modules.iter().all(|c| c & !DARK == 2));
                let (rows, cols) = lines(&modules, width);
                assert_eq!(penalty(&rows, &cols, width), reference_penalty(&modules, width), "{pattern:?}");
            }
        }
    }

    #[test]
    fn rejects_empty_and_oversized_text() {
        let area = RectMm { x: 0.0, y: 0.0, width: 30.0, height: 30.0 };
        let q = symbol("https://zz.example/v/abc", area, (0, 0, 0)).unwrap();
        assert_eq!(q.dark.len(), q.modules * q.modules);
        assert!(matches!(symbol("", area, (0, 0, 0)), Err(LayoutError::EmptyText(_))));
        let long = "a".repeat(MAX_QR_BYTES + 1);
        assert!(matches!(symbol(&long, area, (0, 0, 0)), Err(LayoutError::TooLong { .. })));
    }

    #[test]
    fn chooses_the_mask_the_qrcode_crate_chooses() {
        let token = "https://zz.example.gov.cn/v/".to_owned()
            + &"NBSWY3DPEB3W64TMMQQGC3DMEAYTEMZUGU3DOOBZGAFA".repeat(6);
        for text in ["https://zz.example/v/abc", "1", token.as_str(), &"A".repeat(900)] {
            let reference = qrcode::QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
            let (width, dark) = encode(text).unwrap();
            assert_eq!(width, reference.width());
            let expected: Vec<bool> = reference.to_colors().iter().map(|c| *c == Color::Dark).collect();
            assert!(dark == expected, "symbol of {} bytes differs", text.len());
        }
    }
}

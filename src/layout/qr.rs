//! The QR symbol of the verification URL: which modules are dark.
//!
//! The symbol is built with the `qrcode` crate's parts (data bits, error correction,
//! canvas, masks); only the choice of mask is done here. The crate scores the eight masks
//! through a boxed closure per module and pattern position, which took a third of the
//! time of rendering a licence; [`penalty`] computes the same scores, rule for rule, on a
//! plain array, so the chosen mask — and so the symbol — is the one the crate would choose.

use qrcode::canvas::{Canvas, MaskPattern, Module};
use qrcode::{Color, EcLevel};

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
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&codewords, &ec);
    let w = version.width();
    let width = usize::try_from(w).map_err(|e| LayoutError::QrEncode(e.to_string()))?;
    let mut best: Option<(u16, Vec<u8>)> = None;
    let mut modules = Vec::with_capacity(width * width);
    for pattern in MASKS {
        let mut masked = canvas.clone();
        masked.apply_mask(pattern);
        modules.clear();
        for y in 0..w {
            modules.extend((0..w).map(|x| module_code(masked.get(x, y))));
        }
        let score = penalty(&modules, width);
        if best.as_ref().is_none_or(|(b, _)| score < *b) {
            best = Some((score, std::mem::take(&mut modules)));
        }
    }
    let (_, modules) = best.ok_or_else(|| LayoutError::QrEncode("no mask".into()))?;
    Ok((width, modules.iter().map(|m| m & DARK != 0).collect()))
}

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

/// The `qrcode` crate's total penalty of a masked normal QR symbol (its
/// `compute_total_penalty_scores`), with its `u16` arithmetic (wrapping, as in release
/// builds). `m` holds [`module_code`]s row by row.
///
/// Same rules as the crate, computed line by line over contiguous memory (columns from a
/// transposed copy), finder patterns with a sliding 7-module window and prefix counts of
/// dark modules: this runs eight times per licence, once per mask.
fn penalty(m: &[u8], w: usize) -> u16 {
    let mut transposed = vec![0u8; m.len()];
    for (y, row) in m.chunks_exact(w).enumerate() {
        for (x, c) in row.iter().enumerate() {
            transposed[x * w + y] = *c;
        }
    }
    let mut score = 0u16;
    let mut dark_before = vec![0u16; w + 1];
    for lines in [m, transposed.as_slice()] {
        for line in lines.chunks_exact(w) {
            score = score.wrapping_add(line_runs(line)).wrapping_add(line_finders(line, &mut dark_before));
        }
        // The crate subtracts 360 once per direction (the three finder patterns).
        score = score.wrapping_sub(360);
    }
    // 2×2 blocks of equal modules: 3 each.
    for (upper, lower) in m.chunks_exact(w).zip(m.chunks_exact(w).skip(1)) {
        for (u, l) in upper.windows(2).zip(lower.windows(2)) {
            if u[0] == u[1] && u[0] == l[0] && u[0] == l[1] {
                score = score.wrapping_add(3);
            }
        }
    }
    let dark = m.iter().filter(|c| *c & DARK != 0).count();
    let ratio = dark * 200 / m.len();
    // At most 100.
    let balance = ratio.abs_diff(100) as u16;
    score.wrapping_add(balance)
}

/// Runs of five or more equal modules in one line: length − 2 each.
fn line_runs(line: &[u8]) -> u16 {
    let mut score = 0u16;
    let mut last = u8::MAX;
    let mut len = 1u16;
    for &c in line.iter().chain(std::iter::once(&(u8::MAX - 1))) {
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
    score
}

/// Finder-like 1:1:3:1:1 patterns in one line without four light modules on one side:
/// 40 each. `dark_before` is scratch space of `line.len() + 1`.
fn line_finders(line: &[u8], dark_before: &mut [u16]) -> u16 {
    // dark_before[k]: dark modules among line[..k].
    let w = line.len();
    for (k, c) in line.iter().enumerate() {
        dark_before[k + 1] = dark_before[k] + u16::from(c & DARK);
    }
    let any_dark = |from: usize, to: usize| dark_before[to] > dark_before[from];
    const PATTERN: u8 = 0b101_1101;
    let mut score = 0u16;
    let mut window = 0u8;
    for (k, c) in line.iter().enumerate() {
        window = ((window << 1) | (c & DARK)) & 0x7f;
        if k >= 6 && window == PATTERN {
            let j = k - 6;
            let before = any_dark(j.saturating_sub(4), j);
            let after = any_dark((j + 7).min(w), (j + 11).min(w));
            if !before || !after {
                score = score.wrapping_add(40);
            }
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

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
                assert_eq!(penalty(&modules, width), reference_penalty(&modules, width), "{pattern:?}");
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

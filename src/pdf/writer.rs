//! Small helpers to write PDF content streams and PDF strings.

use lopdf::{Object, StringFormat};

use crate::seal::{FillRule, SEAL_RED, SealDrawing, Seg};

/// A content stream being written: operators as text, numbers in points.
#[derive(Debug, Default)]
pub(crate) struct Content {
    buf: String,
    /// Decimal digits written for numbers.
    decimals: u8,
}

impl Content {
    /// An empty content stream.
    pub(crate) fn new() -> Self {
        Self { buf: String::with_capacity(8192), decimals: 3 }
    }

    /// An empty content stream that writes numbers with `decimals` digits (at most 3).
    pub(crate) fn with_decimals(decimals: u8) -> Self {
        Self { buf: String::with_capacity(8192), decimals: decimals.min(3) }
    }

    /// Appends numbers separated by spaces, then the operator and a newline.
    pub(crate) fn op(&mut self, nums: &[f32], operator: &str) -> &mut Self {
        for n in nums {
            push_num_with(&mut self.buf, *n, self.decimals);
            self.buf.push(' ');
        }
        self.buf.push_str(operator);
        self.buf.push('\n');
        self
    }

    /// Appends raw operator text (must end with a newline).
    pub(crate) fn raw(&mut self, text: &str) -> &mut Self {
        self.buf.push_str(text);
        self
    }

    /// Sets the fill colour from 8-bit RGB.
    pub(crate) fn fill_rgb(&mut self, (r, g, b): (u8, u8, u8)) -> &mut Self {
        self.op(&[f32::from(r) / 255.0, f32::from(g) / 255.0, f32::from(b) / 255.0], "rg")
    }

    /// Sets the stroke colour from 8-bit RGB.
    pub(crate) fn stroke_rgb(&mut self, (r, g, b): (u8, u8, u8)) -> &mut Self {
        self.op(&[f32::from(r) / 255.0, f32::from(g) / 255.0, f32::from(b) / 255.0], "RG")
    }

    /// Shows 2-byte glyph codes with font `/F1` at `size` from `(x, y)` (points).
    ///
    /// `spacing` is extra character spacing in points (`Tc`); `bold` strokes the outlines too.
    pub(crate) fn text(&mut self, x: f32, y: f32, size: f32, spacing: f32, bold: bool, codes: &[u8]) {
        self.buf.push_str("BT\n/F1 ");
        push_num(&mut self.buf, size);
        self.buf.push_str(" Tf\n");
        // Text state outlives BT/ET, so every run sets spacing and rendering mode itself.
        self.op(&[spacing], "Tc");
        if bold {
            self.op(&[size * crate::layout::BOLD_STROKE_EM], "w");
            self.buf.push_str("2 Tr\n");
        } else {
            self.buf.push_str("0 Tr\n");
        }
        self.op(&[x, y], "Td");
        self.buf.push('<');
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for b in codes {
            self.buf.push(char::from(HEX[usize::from(b >> 4)]));
            self.buf.push(char::from(HEX[usize::from(b & 15)]));
        }
        self.buf.push_str("> Tj\nET\n");
    }

    /// Paints a seal: its paths filled in seal red, scaled so that its diameter spans `size`
    /// points and centred on `(cx, cy)`.
    pub(crate) fn seal(&mut self, seal: &SealDrawing, cx: f32, cy: f32, size: f32) {
        let k = if seal.diameter_mm > 0.0 { size / seal.diameter_mm } else { 1.0 };
        let decimals = std::mem::replace(&mut self.decimals, 3);
        self.raw("q\n").op(&[k, 0.0, 0.0, k, cx, cy], "cm").fill_rgb(SEAL_RED);
        self.decimals = decimals;
        for path in &seal.paths {
            let (mut cur, mut start) = ((0.0f32, 0.0f32), (0.0f32, 0.0f32));
            for seg in &path.segs {
                match *seg {
                    Seg::MoveTo(x, y) => {
                        self.op(&[x, y], "m");
                        cur = (x, y);
                        start = cur;
                    }
                    Seg::LineTo(x, y) => {
                        self.op(&[x, y], "l");
                        cur = (x, y);
                    }
                    Seg::QuadTo(qx, qy, x, y) => {
                        // Degree elevation: a quadratic is the cubic with controls 2/3 of the
                        // way from each end point to the quadratic control point.
                        let c1 = (cur.0 + 2.0 / 3.0 * (qx - cur.0), cur.1 + 2.0 / 3.0 * (qy - cur.1));
                        let c2 = (x + 2.0 / 3.0 * (qx - x), y + 2.0 / 3.0 * (qy - y));
                        self.op(&[c1.0, c1.1, c2.0, c2.1, x, y], "c");
                        cur = (x, y);
                    }
                    Seg::CubicTo(x1, y1, x2, y2, x, y) => {
                        self.op(&[x1, y1, x2, y2, x, y], "c");
                        cur = (x, y);
                    }
                    Seg::Close => {
                        self.raw("h\n");
                        cur = start;
                    }
                }
            }
            self.raw(match path.fill_rule {
                FillRule::NonZero => "f\n",
                FillRule::EvenOdd => "f*\n",
            });
        }
        self.raw("Q\n");
    }

    /// The stream bytes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf.into_bytes()
    }
}

/// Writes `n` with at most three decimals and no trailing zeros (PDF has no exponent form).
pub(crate) fn push_num(buf: &mut String, n: f32) {
    push_num_with(buf, n, 3);
}

/// Writes `n` with at most `decimals` (≤ 3) decimals and no trailing zeros.
fn push_num_with(buf: &mut String, n: f32, decimals: u8) {
    let n = if n.is_finite() { n } else { 0.0 };
    let unit = [1.0, 10.0, 100.0, 1000.0][usize::from(decimals.min(3))];
    let scaled = (f64::from(n) * unit).round() * (1000.0 / unit);
    if scaled == 0.0 {
        buf.push('0');
        return;
    }
    if scaled < 0.0 {
        buf.push('-');
    }
    // |n| stays far below 2^53 / 1000 for page coordinates, so the cast is exact.
    let a = scaled.abs() as u64;
    let (int, frac) = (a / 1000, a % 1000);
    push_u64(buf, int);
    if frac != 0 {
        // Content streams hold thousands of numbers: digits by hand, no formatting machinery.
        let digits = [frac / 100, frac / 10 % 10, frac % 10];
        let used = digits.iter().rposition(|d| *d != 0).map_or(0, |i| i + 1);
        buf.push('.');
        for d in &digits[..used] {
            // A decimal digit.
            buf.push(char::from(b'0' + *d as u8));
        }
    }
}

/// Writes `n` in decimal.
fn push_u64(buf: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // A decimal digit.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in &digits[at..] {
        buf.push(char::from(*d));
    }
}

/// A PDF text string: PDFDocEncoding-safe ASCII as is, anything else UTF-16BE with a BOM.
pub(crate) fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in s.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// Decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or byte-per-char).
pub(crate) fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_exact() {
        let mut s = String::new();
        for n in [0.0, 1.0, -2.5, 0.1234, 595.2756, -0.0004, f32::NAN] {
            push_num(&mut s, n);
            s.push(' ');
        }
        assert_eq!(s, "0 1 -2.5 0.123 595.276 0 0 ");
        let mut s = String::new();
        for n in [10.0, 100.05, -1234.5, 0.01, 18_446.0] {
            push_num(&mut s, n);
            s.push(' ');
        }
        assert_eq!(s, "10 100.05 -1234.5 0.01 18446 ");
    }

    #[test]
    fn text_strings_round_trip() {
        for s in ["Zhengzhao", "食品经营许可证", "a(b)\\c"] {
            let Object::String(bytes, _) = text_string(s) else { panic!() };
            assert_eq!(decode_text_string(&bytes), s);
        }
    }
}

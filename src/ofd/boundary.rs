//! A rectangle in OFD page space (`ST_Box`): millimetres, origin at the top-left corner of
//! the page, y growing downwards.

use std::fmt;

/// `x y width height` in millimetres, origin top-left, y down (GB/T 33190 `ST_Box`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Boundary {
    /// Left edge, from the page's left edge.
    pub x: f64,
    /// Top edge, from the page's top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl Boundary {
    /// Reads `"x y w h"` (whitespace or commas between numbers); `None` unless four finite
    /// numbers with a positive width and height.
    pub fn parse(s: &str) -> Option<Self> {
        let mut nums = s.split([' ', ',', '\t', '\n', '\r']).filter(|t| !t.is_empty());
        let mut next = || nums.next()?.parse::<f64>().ok().filter(|v| v.is_finite());
        let b = Self { x: next()?, y: next()?, width: next()?, height: next()? };
        (next().is_none() && b.is_valid()).then_some(b)
    }

    /// Four finite numbers, width and height positive.
    pub fn is_valid(&self) -> bool {
        [self.x, self.y, self.width, self.height].iter().all(|v| v.is_finite())
            && self.width > 0.0
            && self.height > 0.0
    }
}

/// Writes `x y w h` with at most three decimals and no trailing zeros (`90 8 30.5 20`).
impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [self.x, self.y, self.width, self.height].map(mm);
        write!(f, "{}", parts.join(" "))
    }
}

fn mm(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_boxes() {
        let b = Boundary { x: 90.0, y: 8.25, width: 30.0, height: 20.0004 };
        assert_eq!(b.to_string(), "90 8.25 30 20");
        assert_eq!(Boundary::parse("90.00 8.00 30.00 20.00").unwrap().to_string(), "90 8 30 20");
        assert_eq!(Boundary::parse("1,2,3,4").unwrap().height, 4.0);
        for bad in ["", "1 2 3", "1 2 3 4 5", "1 2 0 4", "1 2 NaN 4", "1 2 inf 4", "a b c d"] {
            assert_eq!(Boundary::parse(bad), None, "{bad:?}");
        }
        assert_eq!(mm(-0.0001), "0");
    }
}

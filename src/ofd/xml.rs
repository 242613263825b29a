//! Writing the OFD's XML by hand: the writer emits a fixed set of elements, so a string
//! builder with escaping is all it takes (and is fast); numbers in mm with at most three
//! decimals.

/// The OFD namespace (GB/T 33190-2016), bound to the `ofd:` prefix.
pub(crate) const OFD_NS: &str = "http://www.ofdspec.org/2016";

/// The XML declaration every part starts with.
pub(crate) const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// An XML document being written.
#[derive(Debug)]
pub(crate) struct Xml {
    buf: String,
}

impl Xml {
    /// A document with the XML declaration and room for `capacity` bytes.
    pub(crate) fn new(capacity: usize) -> Self {
        let mut buf = String::with_capacity(capacity);
        buf.push_str(DECL);
        Self { buf }
    }

    /// Appends markup as is.
    pub(crate) fn raw(&mut self, s: &str) -> &mut Self {
        self.buf.push_str(s);
        self
    }

    /// Appends character data or an attribute value, escaped.
    pub(crate) fn text(&mut self, s: &str) -> &mut Self {
        escape_into(&mut self.buf, s);
        self
    }

    /// Appends a number (at most three decimals, no trailing zeros).
    pub(crate) fn num(&mut self, n: f32) -> &mut Self {
        crate::pdf::push_num(&mut self.buf, n);
        self
    }

    /// Appends numbers separated by spaces.
    pub(crate) fn nums(&mut self, ns: &[f32]) -> &mut Self {
        for (i, n) in ns.iter().enumerate() {
            if i > 0 {
                self.buf.push(' ');
            }
            crate::pdf::push_num(&mut self.buf, *n);
        }
        self
    }

    /// Appends an unsigned integer.
    pub(crate) fn int(&mut self, n: u32) -> &mut Self {
        use std::fmt::Write as _;
        let _ = write!(self.buf, "{n}");
        self
    }

    /// `<ofd:NAME>text</ofd:NAME>`, the text escaped.
    pub(crate) fn element(&mut self, name: &str, text: &str) -> &mut Self {
        self.raw("<ofd:").raw(name).raw(">").text(text).raw("</ofd:").raw(name).raw(">")
    }

    /// The document's bytes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf.into_bytes()
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'`, and writes characters XML 1.0 cannot carry (most
/// control characters) as U+FFFD.
fn escape_into(buf: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => buf.push_str("&amp;"),
            '<' => buf.push_str("&lt;"),
            '>' => buf.push_str("&gt;"),
            '"' => buf.push_str("&quot;"),
            '\'' => buf.push_str("&apos;"),
            '\t' | '\n' | '\r' => buf.push(c),
            c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => buf.push('\u{FFFD}'),
            c => buf.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        let mut x = Xml::new(64);
        x.element("Title", "a<b>&\"c'\u{1}").raw(" ").nums(&[1.0, 0.1234, -2.5]).raw(" ").int(7);
        let s = String::from_utf8(x.into_bytes()).unwrap();
        assert_eq!(
            s,
            format!("{DECL}<ofd:Title>a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}</ofd:Title> 1 0.123 -2.5 7")
        );
    }
}

//! XML for OFD: a bounded reader over `roxmltree`, and two small escaping writers — one
//! element at a time ([`XmlWriter`]) and a text builder for the page writer ([`Xml`]), which
//! emits a fixed set of elements with many numbers in mm (at most three decimals).
//!
//! Reading refuses any DOCTYPE or entity declaration (nothing is ever resolved, so neither
//! entity expansion nor external entities can happen), bounds size, node count and element
//! depth, and matches OFD elements by local name in the OFD namespace
//! (`http://www.ofdspec.org/2016`) or in no namespace (files in the wild that forgot it).

use roxmltree::{Document, Node, ParsingOptions};

use super::{OfdError, ReadLimits};

/// The OFD namespace (GB/T 33190), bound to the prefix `ofd:` in what we write.
pub const OFD_NS: &str = "http://www.ofdspec.org/2016";

/// Parses one XML file of the package under `limits` (`path` names it in errors).
pub(crate) fn parse<'a>(path: &str, bytes: &'a [u8], limits: &ReadLimits) -> Result<Document<'a>, OfdError> {
    let unreadable = |reason: String| OfdError::XmlUnreadable { path: path.to_owned(), reason };
    if bytes.len() > limits.max_xml_bytes {
        return Err(OfdError::XmlTooLarge { path: path.to_owned(), max: limits.max_xml_bytes });
    }
    if memchr::memmem::find(bytes, b"<!DOCTYPE").is_some()
        || memchr::memmem::find(bytes, b"<!ENTITY").is_some()
    {
        return Err(OfdError::XmlDoctype { path: path.to_owned() });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| unreadable(format!("not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options =
        ParsingOptions { allow_dtd: false, nodes_limit: limits.max_xml_nodes, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => {
            OfdError::XmlTooManyNodes { path: path.to_owned(), max: limits.max_xml_nodes }
        }
        roxmltree::Error::DtdDetected | roxmltree::Error::EntityReferenceLoop(_) => {
            OfdError::XmlDoctype { path: path.to_owned() }
        }
        other => unreadable(other.to_string()),
    })?;
    // Depth of each node by its id (document order puts a parent before its children).
    let mut depths: Vec<usize> = Vec::new();
    for node in doc.descendants() {
        let parent = node.parent().and_then(|p| depths.get(p.id().get_usize()).copied());
        let depth = parent.map_or(0, |d| d + usize::from(node.is_element()));
        if depth > limits.max_xml_depth {
            return Err(OfdError::XmlTooDeep { path: path.to_owned(), max: limits.max_xml_depth });
        }
        let id = node.id().get_usize();
        if depths.len() <= id {
            depths.resize(id + 1, 0);
        }
        depths[id] = depth;
    }
    Ok(doc)
}

/// The root element, which must be the OFD element `local`.
pub(crate) fn root<'a, 'i>(doc: &'a Document<'i>, path: &str, local: &str) -> Result<Node<'a, 'i>, OfdError> {
    let root = doc.root_element();
    if is_ofd(root, local) {
        Ok(root)
    } else {
        let reason = format!("root element is {:?}, not ofd:{local}", root.tag_name().name());
        Err(OfdError::XmlUnreadable { path: path.to_owned(), reason })
    }
}

/// Whether `node` is the OFD element `local`.
pub(crate) fn is_ofd(node: Node<'_, '_>, local: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == local
        && matches!(node.tag_name().namespace(), None | Some(OFD_NS))
}

/// The child OFD elements named `local`.
pub(crate) fn children<'a, 'i>(
    node: Node<'a, 'i>,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| is_ofd(*c, local))
}

/// The first child OFD element named `local`.
pub(crate) fn child<'a, 'i>(node: Node<'a, 'i>, local: &'a str) -> Option<Node<'a, 'i>> {
    children(node, local).next()
}

/// The text of an element (all its descendant text), trimmed.
pub(crate) fn text(node: Node<'_, '_>) -> String {
    let mut out = String::new();
    for d in node.descendants().filter(Node::is_text) {
        out.push_str(d.text().unwrap_or_default());
    }
    out.trim().to_owned()
}

/// The trimmed text of the first child OFD element named `local`.
pub(crate) fn child_text(node: Node<'_, '_>, local: &str) -> Option<String> {
    children(node, local).next().map(text)
}

/// An attribute's value (attributes are unprefixed in OFD), trimmed.
pub(crate) fn attr(node: Node<'_, '_>, name: &str) -> Option<String> {
    node.attribute(name).map(|v| v.trim().to_owned())
}

/// A minimal XML writer: declaration, elements, attributes and text, escaped. Characters
/// XML 1.0 does not allow (C0 controls other than tab, newline and carriage return,
/// U+FFFE, U+FFFF) are written as U+FFFD; callers that must not change a value check it
/// with [`is_xml_text`] first.
#[derive(Debug)]
pub(crate) struct XmlWriter {
    out: String,
}

impl XmlWriter {
    /// A document starting with `<?xml version="1.0" encoding="UTF-8"?>`.
    pub(crate) fn new() -> Self {
        Self { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") }
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_into(&mut self.out, v);
            self.out.push('"');
        }
    }

    /// `<name attrs…>`.
    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push('>');
    }

    /// `<name attrs…/>`.
    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.out.push_str("/>");
    }

    /// `</name>`.
    pub(crate) fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name attrs…>text</name>`.
    pub(crate) fn element(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(name, attrs);
        escape_into(&mut self.out, text);
        self.close(name);
    }

    /// The document's bytes.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.out.into_bytes()
    }
}

/// The XML declaration every part starts with.
pub(crate) const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// An XML document being written as text (the page writer: many numbers, few elements).
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

/// Whether every character of `s` may appear in XML 1.0 text.
pub(crate) fn is_xml_text(s: &str) -> bool {
    !s.chars().any(|c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{fffe}' || c == '\u{ffff}')
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", u32::from(c))),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ReadLimits {
        ReadLimits::default()
    }

    #[test]
    fn writes_escaped_xml_that_reads_back() {
        let mut w = XmlWriter::new();
        w.open("ofd:A", &[("xmlns:ofd", OFD_NS), ("N", "a\"b<&'\n")]);
        w.element("ofd:B", &[], "x < y & z\u{1}");
        w.close("ofd:A");
        let bytes = w.finish();
        let doc = parse("t.xml", &bytes, &limits()).unwrap();
        let a = root(&doc, "t.xml", "A").unwrap();
        assert_eq!(a.attribute("N"), Some("a\"b<&'\n"));
        assert_eq!(child_text(a, "B").as_deref(), Some("x < y & z\u{fffd}"));
        assert!(is_xml_text("证照 ok\t") && !is_xml_text("a\u{1}") && !is_xml_text("\u{ffff}"));
    }

    #[test]
    fn refuses_doctype_depth_and_node_count() {
        let xxe = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        assert_eq!(parse("x", xxe, &limits()).unwrap_err().code(), "ofd_xml_doctype");
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert_eq!(parse("x", deep.as_bytes(), &limits()).unwrap_err().code(), "ofd_xml_too_deep");
        let wide = format!("<a>{}</a>", "<b/>".repeat(300));
        let few = ReadLimits { max_xml_nodes: 100, ..limits() };
        let err = parse("x", wide.as_bytes(), &few).unwrap_err();
        assert_eq!(err.code(), "ofd_xml_too_many_nodes");
        assert_eq!(parse("x", b"<a>", &limits()).unwrap_err().code(), "ofd_xml_unreadable");
        assert_eq!(parse("x", b"\xff<a/>", &limits()).unwrap_err().code(), "ofd_xml_unreadable");
    }

    #[test]
    fn matches_ofd_or_no_namespace_only() {
        let doc = roxmltree::Document::parse(
            r#"<r xmlns:o="http://www.ofdspec.org/2016" xmlns:x="urn:x"><o:A/><A/><x:A/></r>"#,
        )
        .unwrap();
        assert_eq!(children(doc.root_element(), "A").count(), 2);
    }

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

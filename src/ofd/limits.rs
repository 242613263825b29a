//! The limits an uploaded OFD is read under: every size, count and depth is bounded before
//! or while it is read, never trusted from a header.

/// Bounds for reading an OFD from outside ([`super::Package::from_zip`], [`super::inspect`]).
///
/// | limit | default | refused with |
/// |---|---|---|
/// | `max_input_bytes` | 32 MiB | `ofd_input_too_large` |
/// | `max_entries` | 1,000 (directory entries count) | `ofd_too_many_entries` |
/// | `max_entry_bytes` | 16 MiB inflated, per entry | `ofd_entry_too_large` |
/// | `max_total_bytes` | 64 MiB inflated, all entries | `ofd_total_too_large` |
/// | `max_ratio` | 100 (inflated ÷ compressed, once an entry passes 1 MiB) | `ofd_compression_ratio` |
/// | `max_xml_bytes` | 4 MiB per XML file parsed | `ofd_xml_too_large` |
/// | `max_xml_depth` | 64 nested elements | `ofd_xml_too_deep` |
/// | `max_xml_nodes` | 200,000 nodes per XML file | `ofd_xml_too_many_nodes` |
/// | `max_signatures` | 16 signatures in `Signatures.xml` (the rest unread) | finding `ofd_too_many_signatures` |
///
/// Sizes are counted while inflating (the zip headers' sizes are not trusted). A licence
/// OFD is a few dozen files and well under 1 MiB; the defaults leave room for foreign
/// documents with pictures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest accepted zip, in bytes.
    pub max_input_bytes: usize,
    /// Most zip entries (files and directories).
    pub max_entries: usize,
    /// Largest inflated entry, in bytes.
    pub max_entry_bytes: u64,
    /// Largest inflated total, in bytes.
    pub max_total_bytes: u64,
    /// Highest inflated-to-compressed ratio of an entry once it has inflated past
    /// [`RATIO_FLOOR`] bytes (small entries of repetitive XML compress well and are harmless).
    pub max_ratio: u64,
    /// Largest XML file that is parsed, in bytes.
    pub max_xml_bytes: usize,
    /// Deepest element nesting in an XML file.
    pub max_xml_depth: usize,
    /// Most nodes (elements, attributes' text, text, comments) in one XML file.
    pub max_xml_nodes: u32,
    /// Most signatures read from `Signatures.xml`.
    pub max_signatures: usize,
}

/// Entries that inflate to at most this many bytes are not checked for their ratio.
pub const RATIO_FLOOR: u64 = 1 << 20;

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_input_bytes: 32 << 20,
            max_entries: 1_000,
            max_entry_bytes: 16 << 20,
            max_total_bytes: 64 << 20,
            max_ratio: 100,
            max_xml_bytes: 4 << 20,
            max_xml_depth: 64,
            max_xml_nodes: 200_000,
            max_signatures: 16,
        }
    }
}

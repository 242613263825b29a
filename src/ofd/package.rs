//! The files of an OFD package, in the order they are written to the zip.

use super::OfdError;

/// An OFD package in memory: `(path, bytes)` in zip order, paths relative to the package
/// root (`OFD.xml`, `Doc_0/Document.xml`, …), each at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    files: Vec<(String, Vec<u8>)>,
}

impl Package {
    /// An empty package.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a file; refuses a path that is not plain or is already present.
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) -> Result<(), OfdError> {
        let path = path.into();
        if !is_plain_path(&path) || self.get(&path).is_some() {
            return Err(OfdError::BadPath(path));
        }
        self.files.push((path, bytes));
        Ok(())
    }

    /// Replaces the bytes of a file that is present, keeping its place; `false` if absent.
    pub fn replace(&mut self, path: &str, bytes: Vec<u8>) -> bool {
        match self.files.iter_mut().find(|(p, _)| p == path) {
            Some((_, b)) => {
                *b = bytes;
                true
            }
            None => false,
        }
    }

    /// The bytes of `path` (without a leading `/`), if present.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.iter().find(|(p, _)| p == path).map(|(_, b)| b.as_slice())
    }

    /// Every file in zip order.
    pub fn files(&self) -> impl ExactSizeIterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there is no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// A relative path of non-empty segments without `.`/`..`, backslashes or control characters.
pub(crate) fn is_plain_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 512
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_refuses_bad_or_repeated_paths() {
        let mut p = Package::new();
        p.insert("OFD.xml", b"a".to_vec()).unwrap();
        p.insert("Doc_0/Document.xml", b"b".to_vec()).unwrap();
        assert_eq!(p.files().map(|(n, _)| n).collect::<Vec<_>>(), ["OFD.xml", "Doc_0/Document.xml"]);
        for bad in ["", "/OFD.xml", "a/../b", "a//b", "a\\b", "./a", "a\n", "OFD.xml"] {
            assert!(matches!(p.insert(bad, vec![]), Err(OfdError::BadPath(_))), "{bad:?}");
        }
        assert!(p.replace("OFD.xml", b"c".to_vec()));
        assert!(!p.replace("nope", vec![]));
        assert_eq!((p.get("OFD.xml"), p.len()), (Some(&b"c"[..]), 2));
    }
}

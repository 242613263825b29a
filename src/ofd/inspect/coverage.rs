//! Reference digests (SM3, each file hashed once) and coverage: which package files and
//! pages a signature's references leave out (the rule is in [`super`]'s documentation).

use std::collections::{HashMap, HashSet};

use data_encoding::BASE64;
use sm3::{Digest, Sm3};

use super::{DigestOutcome, DocumentInfo, Finding, ReferenceCheck, SignatureInspection};
use crate::ofd::Package;
use crate::ofd::path::locate;

/// SM3 of package files, computed once per file however many references name it.
pub(super) struct Digests<'p> {
    package: &'p Package,
    cache: HashMap<String, [u8; 32]>,
}

impl<'p> Digests<'p> {
    pub(super) fn new(package: &'p Package) -> Self {
        Self { package, cache: HashMap::new() }
    }

    fn get(&mut self, path: &str) -> Option<[u8; 32]> {
        if let Some(d) = self.cache.get(path) {
            return Some(*d);
        }
        let digest: [u8; 32] = Sm3::digest(self.package.get(path)?).into();
        self.cache.insert(path.to_owned(), digest);
        Some(digest)
    }
}

/// Compares one `Reference` (its `FileRef` resolved from `dir`, the signature's directory)
/// when the check method is SM3 (`supported`).
pub(super) fn check_reference(
    package: &Package,
    dir: &str,
    file_ref: String,
    check_value: &str,
    supported: bool,
    digests: &mut Digests<'_>,
) -> (ReferenceCheck, Option<Finding>) {
    let path = locate(package, dir, &file_ref);
    let (outcome, finding) = match &path {
        None => (DigestOutcome::BadPath, Some(Finding::ReferenceBadPath { file_ref: file_ref.clone() })),
        Some(p) if package.get(p).is_none() => {
            (DigestOutcome::MissingFile, Some(Finding::ReferenceMissingFile { path: p.clone() }))
        }
        Some(_) if !supported => (DigestOutcome::NotChecked, None),
        Some(p) => compare(p, &file_ref, check_value, digests),
    };
    let check_value = check_value.to_owned();
    (ReferenceCheck { file_ref, path, check_value, outcome }, finding)
}

fn compare(
    path: &str,
    file_ref: &str,
    check_value: &str,
    digests: &mut Digests<'_>,
) -> (DigestOutcome, Option<Finding>) {
    let compact: String = check_value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let expected = BASE64.decode(compact.as_bytes()).ok().filter(|d| d.len() == 32);
    let Some(expected) = expected else {
        let finding = Finding::ReferenceBadCheckValue { file_ref: file_ref.to_owned() };
        return (DigestOutcome::BadCheckValue, Some(finding));
    };
    match digests.get(path) {
        Some(actual) if actual[..] == expected[..] => (DigestOutcome::Match, None),
        _ => (DigestOutcome::Mismatch, Some(Finding::ReferenceMismatch { path: path.to_owned() })),
    }
}

/// Adds `FileNotCovered` and `PageNotCovered` findings to each readable signature.
pub(super) fn check_coverage(
    package: &Package,
    list_path: &str,
    document: &DocumentInfo,
    signatures: &mut [SignatureInspection],
) {
    let mut own: HashSet<String> =
        signatures.iter().flat_map(|s| [s.path.clone(), s.signed_value_path.clone()]).flatten().collect();
    own.insert(list_path.to_owned());
    for i in 0..signatures.len() {
        let unreadable = signatures[i].findings.iter().any(|f| {
            matches!(f, Finding::SignatureXmlMissing { .. } | Finding::SignatureXmlUnreadable { .. })
        });
        if unreadable {
            continue;
        }
        let later_seals: HashSet<&str> =
            signatures[i + 1..].iter().filter_map(|s| s.seal_path.as_deref()).collect();
        let sig = &signatures[i];
        let covered: HashSet<&str> = sig.references.iter().filter_map(|r| r.path.as_deref()).collect();
        let mut found: Vec<Finding> = package
            .files()
            .map(|(p, _)| p)
            .filter(|p| !covered.contains(p) && !own.contains(*p) && !later_seals.contains(p))
            .map(|p| Finding::FileNotCovered { path: p.to_owned() })
            .collect();
        for page in &document.pages {
            let present = page.path.as_deref().filter(|p| package.get(p).is_some());
            if let Some(p) = present.filter(|p| !covered.contains(p)) {
                found.push(Finding::PageNotCovered { id: page.id.clone(), path: p.to_owned() });
            }
        }
        signatures[i].findings.extend(found);
    }
}

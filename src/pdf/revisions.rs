//! What an uploaded PDF holds besides its page: its signature fields (the seal's signature
//! and any document time-stamps), the `/DSS`, and what the revisions after the signature
//! changed — where validation data and document time-stamps are the only changes a signed
//! licence may receive.

use std::collections::{BTreeSet, HashMap};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::LaterRevisions;
use super::writer::decode_text_string;

/// Most form fields looked at, and how deep field trees may nest.
const MAX_FIELDS: usize = 1000;
const MAX_FIELD_DEPTH: usize = 8;

/// Most objects followed when collecting what the `/DSS` references.
const MAX_DSS_OBJECTS: usize = 10_000;

/// Most bytes the `/DSS` certificates and CRLs may decode to, together.
const MAX_DSS_BYTES: usize = 8 * 1024 * 1024;

/// Most bytes one `/DSS` item may decode to.
const MAX_DSS_ITEM: usize = 4 * 1024 * 1024;

/// A signature field with a value.
#[derive(Debug, Clone)]
pub(crate) struct SigField {
    /// The field's object (the merged field and widget), if it is an indirect object.
    pub(crate) id: Option<ObjectId>,
    /// `/T`.
    pub(crate) name: Option<String>,
    /// The field dictionary (`/Rect`, `/AP`, …).
    pub(crate) field: Dictionary,
    /// The value's object id, if indirect.
    pub(crate) value_id: Option<ObjectId>,
    /// The value: a `/Sig` or `/DocTimeStamp` dictionary.
    pub(crate) value: Dictionary,
}

impl SigField {
    /// Whether the value says it is a document time-stamp (`/Type /DocTimeStamp` or
    /// `/SubFilter /ETSI.RFC3161`).
    pub(crate) fn is_doc_timestamp(&self) -> bool {
        let name = |key: &[u8]| self.value.get(key).and_then(Object::as_name).ok();
        name(b"Type") == Some(b"DocTimeStamp") || name(b"SubFilter") == Some(b"ETSI.RFC3161")
    }

    /// Whether the widget shows nothing: a zero-area `/Rect` and no appearance. Only such
    /// widgets may be added after the signature.
    fn is_invisible(&self) -> bool {
        let rect: Vec<f32> = self
            .field
            .get(b"Rect")
            .and_then(Object::as_array)
            .map(|a| a.iter().filter_map(|o| o.as_float().ok()).collect())
            .unwrap_or_default();
        let zero_area = matches!(rect[..], [x0, y0, x1, y1] if (x1 - x0) * (y1 - y0) == 0.0);
        zero_area && !self.field.has(b"AP")
    }
}

/// Follows a reference (one level; lopdf resolves chains itself, bounded).
pub(crate) fn deref<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    doc.dereference(o).ok().map(|(_, o)| o)
}

/// Every signature field with a value, in the AcroForm's order (bounded).
pub(crate) fn signature_fields(doc: &Document) -> Vec<SigField> {
    let form = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|o| deref(doc, o))
        .and_then(|o| o.as_dict().ok());
    let fields =
        form.and_then(|f| f.get(b"Fields").ok()).and_then(|o| deref(doc, o)).and_then(|o| o.as_array().ok());
    let mut stack: Vec<(&Object, usize)> =
        fields.map(|f| f.iter().rev().map(|o| (o, 0)).collect()).unwrap_or_default();
    let (mut seen, mut out) = (0, Vec::new());
    while let Some((field, depth)) = stack.pop() {
        seen += 1;
        if seen > MAX_FIELDS {
            break;
        }
        let Some(dict) = deref(doc, field).and_then(|o| o.as_dict().ok()) else { continue };
        let is_sig = dict.get(b"FT").and_then(Object::as_name).is_ok_and(|n| n == b"Sig");
        if is_sig
            && let Ok(v) = dict.get(b"V")
            && let Some(value) = deref(doc, v).and_then(|o| o.as_dict().ok())
        {
            out.push(SigField {
                id: field.as_reference().ok(),
                name: match dict.get(b"T") {
                    Ok(Object::String(bytes, _)) => Some(decode_text_string(bytes)),
                    _ => None,
                },
                field: dict.clone(),
                value_id: v.as_reference().ok(),
                value: value.clone(),
            });
        }
        if depth < MAX_FIELD_DEPTH
            && let Some(kids) =
                dict.get(b"Kids").ok().and_then(|o| deref(doc, o)).and_then(|o| o.as_array().ok())
        {
            stack.extend(kids.iter().rev().map(|k| (k, depth + 1)));
        }
    }
    out
}

/// Compares the signed revision with the whole file. `stamps` are the document
/// time-stamp fields appended after the signature: their invisible widgets, their values,
/// and their references in `/Fields` and `/Annots` are allowed, as is a `/DSS`.
pub(crate) fn later_revisions(signed: &Document, full: &Document, stamps: &[&SigField]) -> LaterRevisions {
    let catalog_id = full.trailer.get(b"Root").and_then(Object::as_reference).ok();
    let dss_refs = dss_reachable(full);
    let widgets: BTreeSet<ObjectId> =
        stamps.iter().filter(|f| f.is_invisible()).filter_map(|f| f.id).collect();
    let values: BTreeSet<ObjectId> = stamps.iter().filter_map(|f| f.value_id).collect();
    let mut changes = Vec::new();
    for (id, obj) in &full.objects {
        if is_xref_stream(obj) {
            continue;
        }
        match signed.objects.get(id) {
            Some(old) if old == obj => {}
            Some(old) if same_but_allowed(old, obj, Some(*id) == catalog_id, &widgets) => {}
            Some(_) => changes.push(format!("object {} {} changed", id.0, id.1)),
            None if dss_refs.contains(id) || widgets.contains(id) || values.contains(id) => {}
            None => changes.push(format!("object {} {} added", id.0, id.1)),
        }
    }
    match (changes.is_empty(), dss_refs.is_empty(), widgets.is_empty()) {
        (false, _, _) => LaterRevisions::Other(changes),
        (true, true, true) => LaterRevisions::Other(vec!["revision without changes".into()]),
        (true, _, true) => LaterRevisions::DssOnly,
        (true, _, false) => LaterRevisions::Archival { doc_timestamps: widgets.len() },
    }
}

fn is_xref_stream(obj: &Object) -> bool {
    obj.as_stream().is_ok_and(|s| s.dict.get(b"Type").and_then(Object::as_name).is_ok_and(|n| n == b"XRef"))
}

/// Whether `new` is `old` with only allowed additions: references to `widgets` appended
/// to arrays (`/Fields`, `/Annots`), and for the catalog a `/DSS` (and `/Extensions`).
fn same_but_allowed(old: &Object, new: &Object, is_catalog: bool, widgets: &BTreeSet<ObjectId>) -> bool {
    let strip = |o: &Object| -> Object {
        let mut o = without_refs(o, widgets, 0);
        if is_catalog && let Object::Dictionary(d) = &mut o {
            d.remove(b"DSS");
            d.remove(b"Extensions");
        }
        o
    };
    strip(old) == strip(new)
}

/// `o` with every reference to `widgets` removed from arrays, nested up to a few levels
/// (the catalog's direct `/AcroForm` holds `/Fields`).
fn without_refs(o: &Object, widgets: &BTreeSet<ObjectId>, depth: usize) -> Object {
    if depth > 3 {
        return o.clone();
    }
    match o {
        Object::Array(items) => Object::Array(
            items
                .iter()
                .filter(|i| !matches!(i, Object::Reference(id) if widgets.contains(id)))
                .map(|i| without_refs(i, widgets, depth + 1))
                .collect(),
        ),
        Object::Dictionary(d) => {
            let map: HashMap<Vec<u8>, Object> =
                d.iter().map(|(k, v)| (k.clone(), without_refs(v, widgets, depth + 1))).collect();
            let mut out = Dictionary::new();
            let mut keys: Vec<_> = map.into_iter().collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, v) in keys {
                out.set(k, v);
            }
            Object::Dictionary(out)
        }
        other => other.clone(),
    }
}

/// The ids of the `/DSS` dictionary and every object it references, transitively (bounded).
fn dss_reachable(doc: &Document) -> BTreeSet<ObjectId> {
    let mut out = BTreeSet::new();
    let Some(root) = doc.catalog().ok().and_then(|c| c.get(b"DSS").ok()) else { return out };
    let mut stack = vec![root.clone()];
    while let Some(o) = stack.pop() {
        if out.len() > MAX_DSS_OBJECTS {
            break;
        }
        match o {
            Object::Reference(id) => {
                if out.insert(id)
                    && let Ok(target) = doc.get_object(id)
                {
                    stack.push(target.clone());
                }
            }
            Object::Array(items) => stack.extend(items),
            Object::Dictionary(d) => stack.extend(d.iter().map(|(_, v)| v.clone())),
            Object::Stream(s) => stack.extend(s.dict.iter().map(|(_, v)| v.clone())),
            _ => {}
        }
    }
    out
}

/// The certificates and CRLs the `/DSS` holds (streams that cannot be decoded are skipped).
pub(crate) fn dss_contents(doc: &Document) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let Some(dss) = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"DSS").ok())
        .and_then(|o| deref(doc, o))
        .and_then(|o| o.as_dict().ok())
    else {
        return (Vec::new(), Vec::new());
    };
    // Decoded bytes left for both lists: many streams each under the per-stream limit
    // would otherwise add up without bound.
    let mut left = MAX_DSS_BYTES;
    let mut list = |key: &[u8]| -> Vec<Vec<u8>> {
        let items = dss.get(key).ok().and_then(|o| deref(doc, o)).and_then(|o| o.as_array().ok());
        let mut out = Vec::new();
        for item in items.into_iter().flatten().take(MAX_DSS_OBJECTS) {
            let Some(stream) = deref(doc, item).and_then(|o| o.as_stream().ok()) else { continue };
            let Ok(bytes) = stream.decompressed_content_with_limit(left.min(MAX_DSS_ITEM)) else {
                continue;
            };
            left -= bytes.len();
            out.push(bytes);
        }
        out
    };
    let certs = list(b"Certs");
    (certs, list(b"CRLs"))
}

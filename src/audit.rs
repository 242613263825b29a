//! The access log's hash chain: every entry's hash covers the previous entry's hash and
//! all of its own fields, so an edited, inserted or deleted row breaks the chain from
//! that entry on. No I/O.

use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// One access log entry: who did what to which licence, why, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// Unix seconds.
    pub at: i64,
    /// The API client, or `None` for the operator.
    pub client_id: Option<String>,
    /// The client's department.
    pub department_code: Option<String>,
    /// `read`, `list`, `check`, `pdf`, `authorise`, `status`, …
    pub action: String,
    /// The stated purpose (`X-Purpose`).
    pub purpose: Option<String>,
    /// The legal basis: `holder-authorisation`, `duty:<matter code>`, `issuer`, …
    pub basis: Option<String>,
    /// The licence concerned.
    pub licence_id: Option<String>,
    /// The holder concerned.
    pub holder_code_type: Option<String>,
    /// The holder concerned.
    pub holder_code: Option<String>,
    /// `ok`, or the refusal's code.
    pub result: String,
    /// The holder assertion (`jti`) a holder portal presented for this call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assertion_id: Option<String>,
    /// The holder's authentication level (`acr`) stated in that assertion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_level: Option<String>,
}

fn put(h: &mut Sha256, field: Option<&str>) {
    match field {
        Some(s) => {
            h.update((s.len() as u32).to_be_bytes());
            h.update(s.as_bytes());
        }
        None => h.update(u32::MAX.to_be_bytes()),
    }
}

/// The hash of `entry` chained to `prev`.
pub fn entry_hash(prev: &[u8], entry: &AccessEntry) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"zhengzhao-access-log-v1");
    h.update(prev);
    h.update(entry.seq.to_be_bytes());
    h.update(entry.at.to_be_bytes());
    put(&mut h, entry.client_id.as_deref());
    put(&mut h, entry.department_code.as_deref());
    put(&mut h, Some(&entry.action));
    put(&mut h, entry.purpose.as_deref());
    put(&mut h, entry.basis.as_deref());
    put(&mut h, entry.licence_id.as_deref());
    put(&mut h, entry.holder_code_type.as_deref());
    put(&mut h, entry.holder_code.as_deref());
    put(&mut h, Some(&entry.result));
    // Entries without a holder assertion hash as before the assertion fields existed, so
    // chains written earlier still verify.
    if entry.assertion_id.is_some() || entry.auth_level.is_some() {
        h.update(b"holder-assertion");
        put(&mut h, entry.assertion_id.as_deref());
        put(&mut h, entry.auth_level.as_deref());
    }
    h.finalize().into()
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry's stored hash is not the hash of its content and predecessor.
    #[error("access log entry {seq} was changed: its hash does not match its content")]
    Altered {
        /// The first bad entry.
        seq: u64,
    },
    /// An entry does not point at its predecessor's hash (one was removed or inserted).
    #[error("access log entry {seq} does not follow entry {}: entries were removed or inserted", .seq - 1)]
    Unlinked {
        /// The first bad entry.
        seq: u64,
    },
    /// A sequence number is missing.
    #[error("access log entry {expected} is missing")]
    Missing {
        /// The missing sequence number.
        expected: u64,
    },
}

/// Checks a log entry by entry, in sequence order from 1, so that a log of any length
/// can be streamed through it page by page.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev: Vec<u8>,
    next: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { prev: GENESIS.to_vec(), next: 1 }
    }
}

impl ChainVerifier {
    /// Checks the next stored entry with its stored previous and own hashes.
    pub fn push(&mut self, entry: &AccessEntry, prev_hash: &[u8], hash: &[u8]) -> Result<(), ChainBreak> {
        if entry.seq != self.next {
            return Err(ChainBreak::Missing { expected: self.next });
        }
        if prev_hash != self.prev.as_slice() {
            return Err(ChainBreak::Unlinked { seq: entry.seq });
        }
        if entry_hash(prev_hash, entry) != hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        self.prev = hash.to_vec();
        self.next += 1;
        Ok(())
    }

    /// Continues a chain known good up to entry `seq` with hash `hash` (e.g. a signed
    /// checkpoint's head): the next entry must be `seq + 1` and point at `hash`.
    pub fn resume(seq: u64, hash: &[u8]) -> Self {
        Self { prev: hash.to_vec(), next: seq + 1 }
    }

    /// The hash of the last entry that passed (the genesis hash before any).
    pub fn head(&self) -> &[u8] {
        &self.prev
    }

    /// How many entries passed.
    pub fn verified(&self) -> u64 {
        self.next - 1
    }
}

/// Checks stored entries (in sequence order, from 1) with their stored previous and own
/// hashes; answers how many there are, or the first break.
pub fn verify<'a>(
    rows: impl IntoIterator<Item = (&'a AccessEntry, &'a [u8], &'a [u8])>,
) -> Result<u64, ChainBreak> {
    let mut verifier = ChainVerifier::default();
    for (entry, prev_hash, hash) in rows {
        verifier.push(entry, prev_hash, hash)?;
    }
    Ok(verifier.verified())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> AccessEntry {
        AccessEntry {
            seq,
            at: 1_790_000_000 + seq as i64,
            client_id: Some("cl_a".into()),
            department_code: Some("11310115MB2C90510L".into()),
            action: "read".into(),
            purpose: Some("核验经营资格".into()),
            basis: Some("duty:310115-SCJG-017".into()),
            licence_id: Some("1.2.156.3005.2.x".into()),
            holder_code_type: Some("001".into()),
            holder_code: Some("91310115MA1H7ABC2D".into()),
            result: "ok".into(),
            assertion_id: None,
            auth_level: None,
        }
    }

    fn chain(n: u64) -> Vec<(AccessEntry, Vec<u8>, Vec<u8>)> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|seq| {
                let e = entry(seq);
                let h = entry_hash(&prev, &e).to_vec();
                let row = (e, prev.clone(), h.clone());
                prev = h;
                row
            })
            .collect()
    }

    fn check(rows: &[(AccessEntry, Vec<u8>, Vec<u8>)]) -> Result<u64, ChainBreak> {
        verify(rows.iter().map(|(e, p, h)| (e, p.as_slice(), h.as_slice())))
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(check(&chain(5)), Ok(5));
        assert_eq!(check(&[]), Ok(0));
    }

    #[test]
    fn names_the_first_broken_entry() {
        let mut rows = chain(5);
        rows[2].0.purpose = Some("别的用途".into());
        assert_eq!(check(&rows), Err(ChainBreak::Altered { seq: 3 }));
        let mut rows = chain(5);
        rows.remove(1);
        assert_eq!(check(&rows), Err(ChainBreak::Missing { expected: 2 }));
        let mut rows = chain(5);
        rows[3].1 = vec![1; 32];
        assert_eq!(check(&rows), Err(ChainBreak::Unlinked { seq: 4 }));
        // Recomputing one entry's hash after editing it breaks the next link.
        let mut rows = chain(5);
        rows[1].0.result = "changed".into();
        rows[1].2 = entry_hash(&rows[1].1, &rows[1].0).to_vec();
        assert_eq!(check(&rows), Err(ChainBreak::Unlinked { seq: 3 }));
        // A field moved between neighbours changes the hash (length-prefixed encoding).
        let mut a = entry(1);
        a.purpose = Some("ab".into());
        a.basis = Some("c".into());
        let mut b = entry(1);
        b.purpose = Some("a".into());
        b.basis = Some("bc".into());
        assert_ne!(entry_hash(&GENESIS, &a), entry_hash(&GENESIS, &b));
    }

    #[test]
    fn the_holder_assertion_fields_are_covered_and_old_entries_keep_their_hash() {
        // The hash of an entry without assertion fields, as the chain computed it before
        // they existed (a stored chain must still verify); recomputed independently in
        // Python from the v1 encoding.
        assert_eq!(
            hex::encode(entry_hash(&GENESIS, &entry(1))),
            "4fed0f143a1e71413e07f4c6482d5b317c2aa4db190b535c3d5cc28c2f234dd2"
        );
        let mut a = entry(1);
        a.assertion_id = Some("0123456789abcdef".into());
        a.auth_level = Some("L2".into());
        let hash = entry_hash(&GENESIS, &a);
        assert_ne!(hash, entry_hash(&GENESIS, &entry(1)));
        let mut b = a.clone();
        b.auth_level = Some("L3".into());
        assert_ne!(hash, entry_hash(&GENESIS, &b));
        let mut c = a.clone();
        c.assertion_id = Some("0123456789abcdeF".into());
        assert_ne!(hash, entry_hash(&GENESIS, &c));
    }
}

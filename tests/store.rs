//! One store test suite, run on SQLite and on PostgreSQL: both backends must behave
//! the same, including atomicity and conflicts.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use zhengzhao::audit::AccessEntry;
use zhengzhao::codes::{AreaCode, Uscc};
use zhengzhao::licence::{Document, DocumentKind, LicenceStatus};
use zhengzhao::pki::{Algorithm, RevocationReason};
use zhengzhao::store::prelude::*;
use zhengzhao::store::{
    AuthorisationRecord, BatchOutcome, CrlRecord, Department, ImportOrigin, ImportedLicence, LicenceEvent,
    LicenceFilter, MAX_TSA_SERIAL_BLOCK, NewLicence, PlatformRecord, RootRecord, SealMakerRecord, SealRecord,
    SealStatus, SerialReservation, StoreError, TsaUnitRecord,
};

fn t(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000 + secs).unwrap()
}

fn crl(algorithm: Algorithm, number: u64) -> CrlRecord {
    CrlRecord {
        algorithm,
        number,
        this_update: t(number as i64),
        next_update: t(number as i64) + Duration::days(7),
        der: vec![0x30, number as u8],
    }
}

fn department(code: &str) -> Department {
    Department {
        code: Uscc::parse(code).unwrap(),
        name: "上海市浦东新区市场监督管理局".into(),
        area: AreaCode::parse("310115").unwrap(),
        type_codes: vec!["*".into()],
        created_at: t(0),
    }
}

fn seal(id: &str, code: &str, algorithm: Algorithm, serial: &str) -> SealRecord {
    SealRecord {
        id: id.into(),
        department_code: Uscc::parse(code).unwrap(),
        name: "行政审批专用章".into(),
        algorithm,
        cert_der: vec![0x30, 0x82, 1, 2],
        serial_hex: serial.into(),
        key_name: format!("seal-{id}"),
        status: SealStatus::Active,
        created_at: t(5),
        revocation: None,
    }
}

const DEPT: &str = "11310115MB2C90510L";
const OTHER: &str = "91370406L24894136J";

async fn with_roots(store: &dyn Store) {
    for alg in Algorithm::ALL {
        let root = RootRecord {
            algorithm: alg,
            cert_der: vec![1, 2, 3],
            key_name: format!("root-{alg}"),
            created_at: t(0),
        };
        store.insert_root(&root, &crl(alg, 1)).await.unwrap();
    }
}

async fn platform_and_roots(store: Arc<dyn Store>) {
    assert_eq!(store.platform().await.unwrap(), None);
    let p = PlatformRecord { name: "证照平台".into(), created_at: t(0) };
    store.insert_platform(&p).await.unwrap();
    assert_eq!(store.platform().await.unwrap(), Some(p.clone()));
    assert!(matches!(store.insert_platform(&p).await, Err(StoreError::Conflict(_))));

    with_roots(&*store).await;
    let roots = store.roots().await.unwrap();
    assert_eq!(
        roots.iter().map(|r| r.algorithm).collect::<Vec<_>>(),
        vec![Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2]
    );
    let again =
        RootRecord { algorithm: Algorithm::P256, cert_der: vec![9], key_name: "x".into(), created_at: t(1) };
    assert!(matches!(
        store.insert_root(&again, &crl(Algorithm::P256, 2)).await,
        Err(StoreError::Conflict(_))
    ));
    // The failed root insert left no CRL behind.
    assert_eq!(store.latest_crl(Algorithm::P256).await.unwrap().unwrap().number, 1);
    assert_eq!(store.roots().await.unwrap()[1].cert_der, vec![1, 2, 3]);
}

async fn crl_numbers_only_increase(store: Arc<dyn Store>) {
    with_roots(&*store).await;
    store.insert_crl(&crl(Algorithm::Ed25519, 2)).await.unwrap();
    store.insert_crl(&crl(Algorithm::Ed25519, 5)).await.unwrap();
    for stale in [1, 2, 4, 5] {
        let err = store.insert_crl(&crl(Algorithm::Ed25519, stale)).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{stale}: {err}");
    }
    assert_eq!(store.latest_crl(Algorithm::Ed25519).await.unwrap(), Some(crl(Algorithm::Ed25519, 5)));
    assert_eq!(store.latest_crl(Algorithm::P256).await.unwrap().unwrap().number, 1);
}

async fn departments(store: Arc<dyn Store>) {
    let d = department(DEPT);
    store.insert_department(&d).await.unwrap();
    store.insert_department(&department(OTHER)).await.unwrap();
    assert!(matches!(store.insert_department(&d).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.department(&d.code).await.unwrap(), Some(d.clone()));
    let listed = store.departments().await.unwrap();
    assert_eq!(listed.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(), vec![DEPT, OTHER]);
    assert_eq!(store.department(&Uscc::parse("11100000000013338W").unwrap()).await.unwrap(), None);
}

async fn counters_are_unique_under_concurrency(store: Arc<dyn Store>) {
    let mut tasks = vec![];
    for _ in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.next_counter("seal:310115").await.unwrap() }));
    }
    let mut got = vec![];
    for task in tasks {
        got.push(task.await.unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, (1..=40).collect::<Vec<u64>>());
    assert_eq!(store.next_counter("seal:110000").await.unwrap(), 1);
}

async fn seals_and_atomic_revocation(store: Arc<dyn Store>) {
    with_roots(&*store).await;
    store.insert_department(&department(DEPT)).await.unwrap();
    store.insert_department(&department(OTHER)).await.unwrap();
    let a = seal("31011500000001", DEPT, Algorithm::Ed25519, "0a01");
    let b = seal("31011500000002", DEPT, Algorithm::P256, "0a02");
    let c = seal("37040600000001", OTHER, Algorithm::Ed25519, "0a03");
    for s in [&a, &b, &c] {
        store.insert_seal(s).await.unwrap();
    }
    assert!(matches!(store.insert_seal(&a).await, Err(StoreError::Conflict(_))));
    let same_serial = seal("31011500000009", DEPT, Algorithm::Ed25519, "0a01");
    assert!(matches!(store.insert_seal(&same_serial).await, Err(StoreError::Conflict(_))));
    let orphan = seal("11000000000001", "11100000000013338W", Algorithm::Ed25519, "0b01");
    assert!(matches!(store.insert_seal(&orphan).await, Err(StoreError::Conflict(_))));

    assert_eq!(store.seal(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.seals(Some(&a.department_code)).await.unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(store.seals(None).await.unwrap().len(), 3);

    // A revocation whose CRL cannot be recorded (stale number) changes nothing.
    let err =
        store.revoke_seal(&a.id, t(10), RevocationReason::KeyCompromise, &crl(Algorithm::Ed25519, 1)).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    assert_eq!(store.seal(&a.id).await.unwrap().unwrap().status, SealStatus::Active);
    assert!(store.revoked_seals(Algorithm::Ed25519).await.unwrap().is_empty());

    store
        .revoke_seal(&a.id, t(10), RevocationReason::KeyCompromise, &crl(Algorithm::Ed25519, 2))
        .await
        .unwrap();
    let revoked = store.seal(&a.id).await.unwrap().unwrap();
    assert_eq!(revoked.status, SealStatus::Revoked);
    assert_eq!(revoked.revocation, Some((t(10), RevocationReason::KeyCompromise)));
    assert_eq!(store.latest_crl(Algorithm::Ed25519).await.unwrap().unwrap().number, 2);
    assert_eq!(store.revoked_seals(Algorithm::Ed25519).await.unwrap(), vec![revoked]);
    assert!(store.revoked_seals(Algorithm::P256).await.unwrap().is_empty());

    let twice =
        store.revoke_seal(&a.id, t(11), RevocationReason::Superseded, &crl(Algorithm::Ed25519, 3)).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    assert_eq!(store.latest_crl(Algorithm::Ed25519).await.unwrap().unwrap().number, 2);
    let unknown =
        store.revoke_seal("nope", t(11), RevocationReason::Superseded, &crl(Algorithm::Ed25519, 3)).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
}

fn new_licence(n: u64, holder: &str) -> NewLicence {
    NewLicence {
        id: format!("1.2.156.3005.2.11100000000013338W002.{DEPT}.2026{n:07}.001.X"),
        type_code: "11100000000013338W002".into(),
        issuer_code: DEPT.into(),
        serial: format!("2026{n:07}"),
        version: 1,
        holder_code: holder.into(),
        holder_code_type: "001".into(),
        holder_name: "某公司".into(),
        seal_id: "31011500000001".into(),
        issued_at: t(100),
        valid_from: "2026-11-22".into(),
        valid_until: Some("2031-11-21".into()),
        record_cbor: vec![0xa0],
        record_hash: vec![7; 32],
        token: vec![1, 2, 3],
        document: Document::Pdf(b"%PDF-1.7".to_vec()),
        ofd_seal_id: None,
        replaces: None,
        client_id: None,
    }
}

/// An API client `id` of the department (idempotency keys name one).
async fn with_client(store: &dyn Store, id: &str) {
    let client = zhengzhao::store::ClientRecord {
        id: id.into(),
        department_code: DEPT.into(),
        name: "审批系统".into(),
        scopes: vec!["issue".into()],
        type_codes: vec![],
        key_hash: hex::encode(id.as_bytes()).repeat(64).chars().take(64).collect(),
        created_at: t(0),
        revoked_at: None,
    };
    store.insert_client(&client).await.unwrap();
}

/// A store with roots, the department and its Ed25519 seal `31011500000001`.
async fn with_seal(store: &dyn Store) {
    with_roots(store).await;
    store.insert_department(&department(DEPT)).await.unwrap();
    store.insert_seal(&seal("31011500000001", DEPT, Algorithm::Ed25519, "0a01")).await.unwrap();
}

/// One serial of `counter`, reserved as a block of one.
async fn reserve_one(store: &dyn Store, counter: &str, now: OffsetDateTime) -> SerialReservation {
    let mut block = store.reserve_serials(counter, 1, now).await.unwrap();
    assert_eq!(block.len(), 1);
    block.remove(0)
}

/// Gives `r` back alone.
async fn release_one(store: &dyn Store, r: &SerialReservation) {
    store.release_serials(std::slice::from_ref(r)).await.unwrap();
}

/// A store with roots, a department, a seal and `n` licences (holders alternate).
async fn with_licences(store: &dyn Store, n: u64) -> Vec<String> {
    with_seal(store).await;
    let mut ids = vec![];
    for _ in 0..n {
        let r = reserve_one(store, "licence:test", t(1_800_000_000)).await;
        let k = r.value;
        let licence = new_licence(k, if k.is_multiple_of(2) { OTHER } else { DEPT });
        let outcome = store.store_licence(Some(&r), None, licence).await.unwrap();
        ids.push(outcome.row().licence.id.clone());
    }
    ids
}

async fn status_changes_are_atomic_and_recorded(store: Arc<dyn Store>) {
    let ids = with_licences(&*store, 1).await;
    let id = &ids[0];
    let event = |from, to| LicenceEvent {
        seq: 0,
        at: t(200),
        kind: "status".into(),
        from_status: Some(from),
        to_status: to,
        reason: "检查发现问题".into(),
        actor: "cl_x".into(),
    };
    store
        .change_status(id, LicenceStatus::Valid, &event(LicenceStatus::Valid, LicenceStatus::Suspended))
        .await
        .unwrap();
    // A change from a status the licence no longer has is refused and records nothing.
    let stale = store
        .change_status(id, LicenceStatus::Valid, &event(LicenceStatus::Valid, LicenceStatus::Revoked))
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let row = store.licence(id).await.unwrap().unwrap();
    assert_eq!(row.status, LicenceStatus::Suspended);
    let events = store.licence_events(id).await.unwrap();
    assert_eq!(
        events.iter().map(|e| (e.seq, e.kind.as_str())).collect::<Vec<_>>(),
        vec![(1, "issued"), (2, "status")]
    );
    assert_eq!(events[1].from_status, Some(LicenceStatus::Valid));
    assert_eq!(events[1].reason, "检查发现问题");
}

async fn listing_filters_and_pages(store: Arc<dyn Store>) {
    let ids = with_licences(&*store, 7).await;
    let mut filter = LicenceFilter {
        holder_code: Some(DEPT.into()),
        holder_code_type: Some("001".into()),
        limit: 2,
        ..Default::default()
    };
    let mut seen = vec![];
    loop {
        let page = store.licences(&filter).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        filter.after = Some(page.last().unwrap().licence.id.clone());
        seen.extend(page.into_iter().map(|r| r.licence.id));
    }
    let expected: Vec<String> =
        ids.iter().enumerate().filter(|(i, _)| i % 2 == 0).map(|(_, id)| id.clone()).collect();
    assert_eq!(seen, expected);
    let f = LicenceFilter { status: Some(LicenceStatus::Revoked), limit: 10, ..Default::default() };
    assert!(store.licences(&f).await.unwrap().is_empty());
    let f =
        LicenceFilter { type_code: Some("11100000000013338W002".into()), limit: 100, ..Default::default() };
    assert_eq!(store.licences(&f).await.unwrap().len(), 7);
}

fn access(i: u64) -> AccessEntry {
    AccessEntry {
        seq: 0,
        at: 1_790_000_000 + i as i64,
        client_id: Some(format!("cl_{i}")),
        department_code: Some(DEPT.into()),
        action: "read".into(),
        purpose: Some("办理食品经营许可变更".into()),
        basis: Some("duty:310115-SCJG-017".into()),
        licence_id: Some("1.2.156.3005.2.x".into()),
        holder_code_type: Some("001".into()),
        holder_code: Some(if i.is_multiple_of(2) { DEPT } else { OTHER }.into()),
        result: "ok".into(),
        // Every third entry as a holder portal's call: the assertion fields must round-trip
        // (the chain check below recomputes each hash from the stored row).
        assertion_id: i.is_multiple_of(3).then(|| format!("jti-{i:016}")),
        auth_level: i.is_multiple_of(3).then(|| "L2".to_owned()),
    }
}

async fn access_log_chains_under_concurrency(store: Arc<dyn Store>) {
    let mut tasks = vec![];
    for i in 0..30 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.append_access(access(i)).await.unwrap() }));
    }
    let mut seqs = vec![];
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=30).collect::<Vec<u64>>());
    let rows = store.access_log(0, 1000).await.unwrap();
    let checked =
        zhengzhao::audit::verify(rows.iter().map(|r| (&r.entry, r.prev_hash.as_slice(), r.hash.as_slice())));
    assert_eq!(checked, Ok(30));
    assert_eq!(rows.iter().filter(|r| r.entry.auth_level.as_deref() == Some("L2")).count(), 10);
    assert!(rows.iter().all(|r| r.entry.assertion_id.is_some() == r.entry.auth_level.is_some()));
    assert_eq!(store.access_log(25, 1000).await.unwrap().len(), 5);
    let mine = store.holder_access_log("001", DEPT, 0, 100).await.unwrap();
    assert_eq!(mine.len(), 15);
    assert!(mine.iter().all(|r| r.entry.holder_code.as_deref() == Some(DEPT)));
}

async fn authorisations_count_uses(store: Arc<dyn Store>) {
    let a = AuthorisationRecord {
        code_hash: "ab".repeat(32),
        holder_code_type: "001".into(),
        holder_code: DEPT.into(),
        licence_ids: vec!["x".into(), "y".into()],
        relying_department: Some(OTHER.into()),
        created_by: "cl_portal".into(),
        created_at: t(0),
        expires_at: t(600),
        uses_left: 2,
        revoked_at: None,
    };
    store.insert_authorisation(&a).await.unwrap();
    assert_eq!(store.authorisation(&a.code_hash).await.unwrap(), Some(a.clone()));
    store.use_authorisation(&a.code_hash, t(10)).await.unwrap();
    store.use_authorisation(&a.code_hash, t(11)).await.unwrap();
    assert!(matches!(store.use_authorisation(&a.code_hash, t(12)).await, Err(StoreError::Conflict(_))));
    let b = AuthorisationRecord { code_hash: "cd".repeat(32), uses_left: 5, ..a.clone() };
    store.insert_authorisation(&b).await.unwrap();
    assert!(
        matches!(store.use_authorisation(&b.code_hash, t(600)).await, Err(StoreError::Conflict(_))),
        "expired"
    );
    store.revoke_authorisation(&b.code_hash, t(1)).await.unwrap();
    assert!(
        matches!(store.use_authorisation(&b.code_hash, t(2)).await, Err(StoreError::Conflict(_))),
        "revoked"
    );
    assert!(matches!(store.revoke_authorisation(&b.code_hash, t(3)).await, Err(StoreError::NotFound(_))));
}

async fn serials_are_reserved_given_back_and_reused(store: Arc<dyn Store>) {
    with_seal(&*store).await;
    let now = t(100);
    // Concurrent reservations never share a serial.
    let mut tasks = vec![];
    for _ in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { reserve_one(&*store, "licence:r", now).await }));
    }
    let mut held = vec![];
    for task in tasks {
        held.push(task.await.unwrap());
    }
    held.sort_by_key(|r| r.value);
    assert_eq!(held.iter().map(|r| r.value).collect::<Vec<_>>(), (1..=12).collect::<Vec<u64>>());

    // Stored ones are used; given-back ones are handed out again, lowest first, before
    // the counter moves on.
    for r in &held[..10] {
        if r.value != 4 && r.value != 7 {
            let outcome = store.store_licence(Some(r), None, new_licence(r.value, DEPT)).await.unwrap();
            assert!(matches!(outcome, zhengzhao::store::IssueOutcome::Issued(_)));
        }
    }
    release_one(&*store, &held[6]).await;
    release_one(&*store, &held[3]).await;
    // Releasing twice, or with another holder's name, changes nothing.
    release_one(&*store, &held[3]).await;
    let again = reserve_one(&*store, "licence:r", now).await;
    assert_eq!(again.value, 4);
    let mut stolen = held[3].clone();
    stolen.holder = "someone else".into();
    release_one(&*store, &stolen).await;
    assert_eq!(reserve_one(&*store, "licence:r", now).await.value, 7);
    assert_eq!(reserve_one(&*store, "licence:r", now).await.value, 13);
    // A stale reservation (lapsed and handed out again) cannot be stored.
    assert!(matches!(
        store.store_licence(Some(&held[3]), None, new_licence(4, DEPT)).await,
        Err(StoreError::Conflict(_))
    ));
    store.store_licence(Some(&again), None, new_licence(4, DEPT)).await.unwrap();

    // A reservation whose holder died lapses after the lease and is handed out again.
    let later = now + zhengzhao::store::SERIAL_LEASE + Duration::seconds(1);
    let lapsed = reserve_one(&*store, "licence:r", later).await;
    assert_eq!(lapsed.value, 7, "serial 7 was reserved again but never stored");
    assert_eq!(reserve_one(&*store, "licence:r", later).await.value, 11);
    store.store_licence(Some(&lapsed), None, new_licence(7, DEPT)).await.unwrap();

    // The serial of a licence that failed to build is given back and taken by the next one
    // (the issuing service releases it; there is no second issuing path in the store).
    let failed = reserve_one(&*store, "licence:f", now).await;
    release_one(&*store, &failed).await;
    let next = reserve_one(&*store, "licence:f", now).await;
    let first = store.store_licence(Some(&next), None, new_licence(100 + next.value, OTHER)).await;
    assert_eq!(first.unwrap().row().licence.serial, format!("2026{:07}", 101));
}

async fn licences_keep_their_document(store: Arc<dyn Store>) {
    let ids = with_licences(&*store, 1).await;
    let r = reserve_one(&*store, "licence:test", t(1_800_000_000)).await;
    let data_only = NewLicence { document: Document::None, ..new_licence(r.value, DEPT) };
    let claim = zhengzhao::store::IdempotencyClaim {
        client_id: "cl_a".into(),
        key: "order-1".into(),
        request_hash: vec![1; 32],
    };
    // The idempotency key names a client; the store keeps the client's row.
    with_client(&*store, "cl_a").await;
    let stored = store.store_licence(Some(&r), Some(&claim), data_only.clone()).await.unwrap();
    assert_eq!(stored.row().licence, data_only);
    let pdf = store.licence(&ids[0]).await.unwrap().unwrap().licence.document;
    assert_eq!(pdf, Document::Pdf(b"%PDF-1.7".to_vec()));
    assert_eq!(store.licence(&data_only.id).await.unwrap().unwrap().licence.document, Document::None);
    let listed = store.licences(&LicenceFilter { limit: 10, ..Default::default() }).await.unwrap();
    let kinds: Vec<_> = listed.iter().map(|r| (r.licence.id.as_str(), r.licence.document.kind())).collect();
    assert_eq!(kinds, [(ids[0].as_str(), DocumentKind::Pdf), (data_only.id.as_str(), DocumentKind::None)]);
    let replayed = store.replay_issue(&claim).await.unwrap().unwrap();
    assert_eq!(replayed.licence.document, Document::None);

    // An OFD alone (signed by the licence's SM2 seal) and PDF + OFD (the OFD by a second
    // seal) keep their files and the OFD's seal (migration 0010).
    store.insert_seal(&seal("31011500000009", DEPT, Algorithm::Sm2, "0a09")).await.unwrap();
    let ofd = b"PK\x03\x04ofd".to_vec();
    let r = reserve_one(&*store, "licence:test", t(1_800_000_000)).await;
    let ofd_only = NewLicence {
        seal_id: "31011500000009".into(),
        document: Document::Ofd(ofd.clone()),
        ofd_seal_id: Some("31011500000009".into()),
        ..new_licence(r.value, DEPT)
    };
    assert_eq!(store.store_licence(Some(&r), None, ofd_only.clone()).await.unwrap().row().licence, ofd_only);
    let r = reserve_one(&*store, "licence:test", t(1_800_000_000)).await;
    let both = NewLicence {
        document: Document::Both { pdf: b"%PDF-1.7".to_vec(), ofd: ofd.clone() },
        ofd_seal_id: Some("31011500000009".into()),
        ..new_licence(r.value, DEPT)
    };
    store.store_licence(Some(&r), None, both.clone()).await.unwrap();
    for expected in [&ofd_only, &both] {
        assert_eq!(&store.licence(&expected.id).await.unwrap().unwrap().licence, expected);
    }
    let listed = store.licences(&LicenceFilter { limit: 10, ..Default::default() }).await.unwrap();
    let kinds: Vec<_> = listed.iter().map(|r| r.licence.document.kind()).collect();
    assert_eq!(kinds, [DocumentKind::Pdf, DocumentKind::None, DocumentKind::Ofd, DocumentKind::Both]);
}

/// Archive renewal (migration 0012): due licences page by identifier; a renewal replaces
/// the PDF only if nobody renewed it meanwhile; data-only licences are never due.
async fn archive_renewal_is_paged_and_compare_and_swap(store: Arc<dyn Store>) {
    let ids = with_licences(&*store, 3).await;
    let r = reserve_one(&*store, "licence:test", t(1_800_000_000)).await;
    store
        .store_licence(Some(&r), None, NewLicence { document: Document::None, ..new_licence(r.value, DEPT) })
        .await
        .unwrap();
    let horizon = t(10_000);
    let due = store.archive_due(horizon, "", 2).await.unwrap();
    assert_eq!(due.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), [ids[0].as_str(), ids[1].as_str()]);
    assert!(due.iter().all(|d| d.archive_until.is_none()));
    let rest = store.archive_due(horizon, &due[1].id, 10).await.unwrap();
    assert_eq!(rest.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), [ids[2].as_str()]);

    // Renewing the first: its PDF and horizon change together.
    let (pdf, until) = store.archived_pdf(&ids[0]).await.unwrap().unwrap();
    assert_eq!((pdf.as_slice(), until), (&b"%PDF-1.7"[..], None));
    let renewed = b"%PDF-1.7 renewed".to_vec();
    assert!(store.keep_archive(&ids[0], None, Some(&renewed), t(50_000)).await.unwrap());
    assert_eq!(store.archived_pdf(&ids[0]).await.unwrap().unwrap(), (renewed.clone(), Some(t(50_000))));
    assert_eq!(
        store.licence(&ids[0]).await.unwrap().unwrap().licence.document,
        Document::Pdf(renewed.clone())
    );
    // A second renewer that read the old version loses, and changes nothing.
    assert!(!store.keep_archive(&ids[0], None, Some(b"%PDF-1.7 other"), t(60_000)).await.unwrap());
    assert_eq!(store.archived_pdf(&ids[0]).await.unwrap().unwrap().0, renewed);
    // Recording a horizon without a new file (already renewed far enough).
    assert!(store.keep_archive(&ids[1], None, None, t(90_000)).await.unwrap());
    let due = store.archive_due(horizon, "", 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), [ids[2].as_str()]);
    // A later horizon makes them due again, with the version to compare.
    let later = store.archive_due(t(70_000), "", 10).await.unwrap();
    assert_eq!(later[0], zhengzhao::store::ArchiveDue { id: ids[0].clone(), archive_until: Some(t(50_000)) });
    assert!(store.archived_pdf("no-such-licence").await.unwrap().is_none());
}

/// The seal maker is one row; a seal's SES_Seal is kept once (the first stored stands).
async fn seal_maker_and_ses_seals(store: Arc<dyn Store>) {
    with_roots(&*store).await;
    assert_eq!(store.seal_maker().await.unwrap(), None);
    let maker =
        SealMakerRecord { cert_der: vec![0x30, 1, 2], key_name: "seal-maker-sm2".into(), created_at: t(5) };
    store.insert_seal_maker(&maker).await.unwrap();
    assert_eq!(store.seal_maker().await.unwrap(), Some(maker.clone()));
    let again = SealMakerRecord { cert_der: vec![9], ..maker.clone() };
    assert!(matches!(store.insert_seal_maker(&again).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.seal_maker().await.unwrap(), Some(maker));

    store.insert_department(&department(DEPT)).await.unwrap();
    let s = seal("31011500000001", DEPT, Algorithm::Sm2, "0a01");
    store.insert_seal(&s).await.unwrap();
    assert_eq!(store.ses_seal(&s.id).await.unwrap(), None);
    let first = vec![0x30, 0x03, 1, 2, 3];
    assert_eq!(store.keep_ses_seal(&s.id, &first).await.unwrap(), first);
    assert_eq!(store.keep_ses_seal(&s.id, &[0x30, 0]).await.unwrap(), first);
    assert_eq!(store.ses_seal(&s.id).await.unwrap(), Some(first));
    // The seal record itself is unchanged.
    assert_eq!(store.seal(&s.id).await.unwrap(), Some(s));
    assert!(matches!(store.ses_seal("nope").await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.keep_ses_seal("nope", &[1]).await, Err(StoreError::NotFound(_))));
}

/// The time-stamping units (several per algorithm, oldest first; an id or key name taken
/// is a conflict) and the token serial numbers: blocks reserved at once by many tasks are
/// disjoint, cover the counter without gaps, and each starts above every block reserved
/// before it (migration 0011).
async fn tsa_units_and_serials(store: Arc<dyn Store>) {
    assert!(store.tsa_units(None).await.unwrap().is_empty());
    let unit = |id: &str, alg: Algorithm, at: i64| TsaUnitRecord {
        id: id.into(),
        algorithm: alg,
        cert_der: vec![0x30, at as u8],
        key_name: format!("tsa-{id}-0a0b0c0d"),
        created_at: t(at),
    };
    let units = [
        unit("p256-1", Algorithm::P256, 1),
        unit("sm2-1", Algorithm::Sm2, 2),
        unit("p256-2", Algorithm::P256, 3),
    ];
    for u in &units {
        store.insert_tsa_unit(u).await.unwrap();
    }
    assert_eq!(store.tsa_units(None).await.unwrap(), units.to_vec());
    let p256 = store.tsa_units(Some(Algorithm::P256)).await.unwrap();
    assert_eq!(p256, vec![units[0].clone(), units[2].clone()]);
    assert!(store.tsa_units(Some(Algorithm::Ed25519)).await.unwrap().is_empty());
    // Another node's unit 2: refused, the first one stands.
    let again =
        TsaUnitRecord { key_name: "tsa-p256-2-ffffffff".into(), ..unit("p256-2", Algorithm::P256, 4) };
    assert!(matches!(store.insert_tsa_unit(&again).await, Err(StoreError::Conflict(_))));
    let same_key = TsaUnitRecord { id: "p256-3".into(), ..units[2].clone() };
    assert!(matches!(store.insert_tsa_unit(&same_key).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.tsa_units(None).await.unwrap().len(), 3);

    assert_eq!(store.reserve_tsa_serials(1).await.unwrap(), 1..=1);
    assert_eq!(store.reserve_tsa_serials(5).await.unwrap(), 2..=6);
    for bad in [0, MAX_TSA_SERIAL_BLOCK + 1] {
        assert!(store.reserve_tsa_serials(bad).await.is_err(), "{bad}");
    }
    let mut tasks = vec![];
    for i in 0..24u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.reserve_tsa_serials(1 + i % 3).await.unwrap() }));
    }
    let mut blocks = vec![];
    for task in tasks {
        blocks.push(task.await.unwrap());
    }
    let mut all: Vec<u64> = blocks.iter().flat_map(|b| b.clone()).collect();
    all.sort_unstable();
    assert_eq!(all, (7..=6 + 24 * 2).collect::<Vec<u64>>());
    let next = store.reserve_tsa_serials(2).await.unwrap();
    assert_eq!(next, 55..=56);
}

/// How many licences the register holds (up to 1,000).
async fn licence_count(store: &dyn Store) -> usize {
    store.licences(&LicenceFilter { limit: 1000, ..LicenceFilter::default() }).await.unwrap().len()
}

/// `n` licences of an import from one block of serials, source ids `S0`…
async fn import_items(store: &dyn Store, n: u64, now: OffsetDateTime) -> Vec<ImportedLicence> {
    let block = store.reserve_serials("licence:import", n, now).await.unwrap();
    block
        .into_iter()
        .enumerate()
        .map(|(i, reservation)| ImportedLicence {
            licence: new_licence(1000 + reservation.value, DEPT),
            reservation,
            source_id: format!("S{i}"),
            line_no: i as u64 + 1,
        })
        .collect()
}

/// An import batch is stored whole, several rows a statement, or not at all: a lapsed
/// reservation anywhere refuses all of it; a source id twice in the batch is stored once.
async fn import_batches_are_all_or_nothing(store: Arc<dyn Store>) {
    with_seal(&*store).await;
    let now = t(100);
    let origin = ImportOrigin { source: "legacy".into(), input: "legacy.jsonl".into() };
    // More than one statement's worth of licences.
    let mut items = import_items(&*store, 70, now).await;
    items[50].source_id = "S7".into();

    // One stale reservation (another holder's) refuses the batch: nothing is stored.
    let mut stale = items.clone();
    stale[66].reservation.holder = "someone else".into();
    assert!(matches!(store.store_import_batch(&origin, &stale, now).await, Err(StoreError::Conflict(_))));
    assert!(store.imported("legacy", &["S0".into(), "S69".into()]).await.unwrap().is_empty());
    assert_eq!(licence_count(&*store).await, 0);

    let outcomes = store.store_import_batch(&origin, &items, now).await.unwrap();
    assert_eq!(outcomes.len(), 70);
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            BatchOutcome::Present(prior) => {
                assert_eq!(i, 50);
                assert_eq!((prior.line_no, prior.licence_id.as_str()), (8, items[7].licence.id.as_str()));
            }
            BatchOutcome::Issued => assert_ne!(i, 50),
        }
    }
    assert_eq!(licence_count(&*store).await, 69);
    for item in [&items[0], &items[33], &items[69]] {
        let events = store.licence_events(&item.licence.id).await.unwrap();
        assert_eq!((events.len(), events[0].seq, events[0].kind.as_str()), (1, 1, "issued"));
    }
    let ids: Vec<String> = (0..70).map(|i| format!("S{i}")).collect();
    assert_eq!(store.imported("legacy", &ids).await.unwrap().len(), 69);
    // The duplicate's serial was given back: it is the next one handed out.
    let next = reserve_one(&*store, "licence:import", now).await;
    assert_eq!(next.value, items[50].reservation.value);

    // Stored again, every one is present; nothing more is stored.
    let again = store.store_import_batch(&origin, &items, now).await.unwrap();
    assert!(again.iter().all(|o| matches!(o, BatchOutcome::Present(_))));
    assert_eq!(licence_count(&*store).await, 69);
}

/// Licences stored at the same moment are stored together, a few statements for all; one
/// that cannot be stored (its reservation lapsed, its key taken by another of the batch)
/// fails alone and the others are stored.
async fn licences_stored_together_fail_alone(store: Arc<dyn Store>) {
    with_seal(&*store).await;
    let now = t(100);
    let mut reservations = vec![];
    for _ in 0..5 {
        reservations.push(reserve_one(&*store, "licence:together", now).await);
    }
    reservations[1].holder = "someone else".into();
    with_client(&*store, "cl_t").await;
    let claim = |key: &str| zhengzhao::store::IdempotencyClaim {
        client_id: "cl_t".into(),
        key: key.into(),
        request_hash: vec![1; 32],
    };
    let claims = [claim("a"), claim("b"), claim("c"), claim("d"), claim("d")];
    // Queued before the store's writer runs (one thread): one batch.
    let tasks: Vec<_> = reservations
        .iter()
        .zip(claims)
        .map(|(r, claim)| {
            let (store, r) = (store.clone(), r.clone());
            tokio::spawn(async move {
                store.store_licence(Some(&r), Some(&claim), new_licence(r.value, DEPT)).await
            })
        })
        .collect();
    let mut outcomes = vec![];
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    assert!(matches!(outcomes[1], Err(StoreError::Conflict(_))), "{:?}", outcomes[1]);
    for i in [0, 2, 3] {
        assert!(
            matches!(outcomes[i], Ok(zhengzhao::store::IssueOutcome::Issued(_))),
            "{i}: {:?}",
            outcomes[i]
        );
    }
    // The second request with key d gets the first one's licence back.
    let Ok(zhengzhao::store::IssueOutcome::Replayed(row)) = &outcomes[4] else { panic!("{:?}", outcomes[4]) };
    assert_eq!(row.licence.serial, format!("2026{:07}", reservations[3].value));
    assert_eq!(licence_count(&*store).await, 3);
    for r in [&reservations[0], &reservations[2], &reservations[3]] {
        let id = format!("1.2.156.3005.2.11100000000013338W002.{DEPT}.2026{:07}.001.X", r.value);
        assert_eq!(store.licence_events(&id).await.unwrap().len(), 1);
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$name(std::sync::Arc::new(super::common::sqlite_store(dir.path()).await)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some((store, schema)) = super::common::postgres_store().await else { return };
                    assert_eq!(zhengzhao::store::Store::backend(&store), zhengzhao::store::Backend::Postgres);
                    super::$name(std::sync::Arc::new(store)).await;
                    super::common::drop_schema(&schema).await;
                }
            )*
        }
    };
}

on_both_backends!(
    archive_renewal_is_paged_and_compare_and_swap,
    platform_and_roots,
    crl_numbers_only_increase,
    departments,
    counters_are_unique_under_concurrency,
    seals_and_atomic_revocation,
    status_changes_are_atomic_and_recorded,
    listing_filters_and_pages,
    access_log_chains_under_concurrency,
    authorisations_count_uses,
    serials_are_reserved_given_back_and_reused,
    licences_keep_their_document,
    seal_maker_and_ses_seals,
    tsa_units_and_serials,
    import_batches_are_all_or_nothing,
    licences_stored_together_fail_alone,
);

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path()).await;
    assert_eq!(store.backend(), zhengzhao::store::Backend::Sqlite);
    store.ping().await.unwrap();
    // The -wal file exists once a WAL-mode database has been written.
    store.next_counter("x").await.unwrap();
    assert!(dir.path().join("test.db-wal").exists());
}

#[tokio::test]
async fn refuses_unknown_database_urls() {
    let err = zhengzhao::store::SqlStore::connect("mysql://u:pw@h/db").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("unsupported database URL") && !text.contains("pw"), "{text}");
}

/// PostgreSQL answers "which of these 256 source ids were imported before?" with index
/// probes for the ids: with the key ordered (source, source_id), one source per import and
/// no statistics, its planner used the key for `source` alone and filtered every record of
/// the source for each chunk, and a million-licence import fell under 300 licences/s
/// (migration 0018). With the old key this test fails.
#[tokio::test]
async fn postgres_looks_up_imported_source_ids_by_the_key() {
    use sqlx::{Connection as _, Row as _};
    let Some((url, schema)) = common::postgres_schema_url().await else { return };
    zhengzhao::store::SqlStore::connect(&url).await.unwrap(); // migrates the schema
    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    // 200,000 records of one source (below some 100,000 a sequential scan is the cheaper
    // plan, and is chosen); their licences do not matter here (the foreign key is not
    // checked for this session's rows).
    sqlx::query("SET session_replication_role = replica").execute(&mut db).await.unwrap();
    sqlx::query(
        "INSERT INTO import_records (source, source_id, licence_id, input, line_no, imported_at) \
         SELECT 'registry', 'REC-' || g, 'L-' || g, 'in.jsonl', g, 0 FROM generate_series(1, 200000) g",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let sql = format!("EXPLAIN (FORMAT JSON) {}", zhengzhao::store::imported_query(256));
    let mut explain = sqlx::query(sqlx::AssertSqlSafe(sql)).bind("registry");
    for i in 0..256 {
        explain = explain.bind(format!("REC-{}", 1 + i * 97));
    }
    let plan: serde_json::Value = explain.fetch_one(&mut db).await.unwrap().get(0);
    let text = plan.to_string();
    // The ids are an index condition, never a filter over the rows the source matches.
    assert!(text.contains("\"Index Cond\"") && text.contains("source_id = ANY"), "{plan:#}");
    assert!(!text.contains("\"Filter\""), "{plan:#}");
    db.close().await.unwrap();
    common::drop_schema(&schema).await;
}

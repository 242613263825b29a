//! Seal-chain validation per algorithm (`pki::validate_seal_chain`): a seal certificate
//! under its root with the root's CRL, as online verification checks it for every token
//! and PDF, beside the raw signature verification of the same algorithm as the reference.
//! A chain check verifies two signatures (the seal certificate's and the CRL's) and
//! checks the root's own signature once more, so about three raw verifications plus
//! parsing is the floor.
//!
//! `cargo bench --bench chain`

use std::hint::black_box;

use criterion::Criterion;
use ring::rand::SystemRandom;
use time::{Duration, OffsetDateTime};
use zhengzhao::pki::{
    Algorithm, PrivateKey, SealSubject, issue_seal_cert, make_crl, make_root, random_serial,
};
use zhengzhao::signing::SealSigner;

/// A root, a seal certificate under it and the root's (empty) CRL.
struct Chain {
    root: Vec<u8>,
    seal: Vec<u8>,
    crl: Vec<u8>,
}

fn chain(alg: Algorithm, now: OffsetDateTime) -> Chain {
    let rng = SystemRandom::new();
    let root_key = PrivateKey::generate(alg, &rng).expect("root key");
    let serial = random_serial(&rng).expect("serial");
    let root = make_root(
        alg,
        "证照基准平台",
        &root_key,
        now - Duration::days(1),
        now + Duration::days(3650),
        serial,
    )
    .expect("root");
    let seal_key = PrivateKey::generate(alg, &rng).expect("seal key");
    let subject = SealSubject {
        seal_id: "31011500000001",
        seal_name: "行政审批专用章",
        department_name: "演示市市场监督管理局",
        department_code: "11310115MB2C90510L",
    };
    let seal = issue_seal_cert(
        &subject,
        &seal_key.public_key_spki_der(),
        &root,
        &root_key,
        "http://127.0.0.1:8080/pki/crl.crl",
        now - Duration::hours(1),
        now + Duration::days(365),
        random_serial(&rng).expect("serial"),
    )
    .expect("seal certificate");
    let crl =
        make_crl(&root, &root_key, 1, now - Duration::minutes(5), now + Duration::days(1), &[]).expect("crl");
    Chain { root, seal, crl }
}

fn benches(c: &mut Criterion) {
    let now = OffsetDateTime::now_utc();
    let mut group = c.benchmark_group("chain");
    for alg in Algorithm::ALL {
        let key = PrivateKey::generate(alg, &SystemRandom::new()).expect("key");
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).expect("signer");
        let message = [0x5a_u8; 300];
        let signature = signer.sign_der(&message);
        let verifier = signer.verifier();
        group.bench_function(format!("raw_{alg}_verify"), |b| {
            b.iter(|| verifier.verify_der(black_box(&message), black_box(&signature)).expect("verifies"))
        });
        let ch = chain(alg, now);
        let (roots, crls) = (vec![ch.root.clone()], vec![ch.crl.clone()]);
        group.bench_function(format!("validate_{alg}"), |b| {
            b.iter(|| {
                zhengzhao::pki::validate_seal_chain(black_box(&ch.seal), &[], &roots, &crls, now)
                    .expect("a valid chain")
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}

//! Issue acceptance by independent checkers (not our code): pyHanko, poppler (`pdfsig`,
//! `pdftotext`, `pdffonts`, `pdftoppm`), NSS, OpenSSL, qpdf, zbar and pycose run over
//! licences issued by the platform, of every shipped type with an Ed25519 and a P-256 seal.
//!
//! The platform is served on a loopback port so that the CRL distribution point named in
//! the seal certificates answers (pyHanko hard-fails without revocation information).
//! Tools come from `tests/run-all.sh`: Debian packages on `PATH`, pyHanko and pycose in a
//! venv named by `ZHENGZHAO_TEST_PYHANKO` and `ZHENGZHAO_TEST_PYTHON`. A missing tool fails
//! the test when `CI` is set and skips it loudly otherwise (`tests/common/tools.rs`).
// Test scenarios here read top to bottom as one story each; the 80-line bar is for src/.
#![allow(clippy::too_many_lines)]
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use common::tools::{env_tool, path_tool, require, run, text};

use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::Catalogue;
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};

// --- the issued licences ------------------------------------------------------------------

/// One issued licence and what the checkers need to know about it.
struct Licence {
    algorithm: Algorithm,
    type_code: String,
    title: String,
    holder_name: String,
    /// The seal certificate, DER.
    seal_cert_der: Vec<u8>,
    /// The PDF, written into the fixture's directory.
    pdf_path: PathBuf,
    issued: IssuedLicence,
}

impl Licence {
    fn label(&self) -> String {
        format!("{} licence {} ({})", self.algorithm.as_str(), self.issued.identifier, self.type_code)
    }
}

/// A demo platform served on a loopback port, and every shipped type issued with each
/// demo seal. Made once per test binary ([`fixture`]): the checkers only read it.
struct Fixture {
    dir: PathBuf,
    licences: Vec<Licence>,
}

/// The shared fixture. The platform runs on a thread of its own with its own runtime, so
/// the server (the CRL distribution points pyHanko fetches) outlives every test's runtime.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let served = Fixture::serve_and_issue(tx).await;
                served.await.unwrap();
            });
        });
        rx.recv().expect("the fixture thread issues the licences")
    })
}

impl Fixture {
    /// Serves a fresh demo platform, issues the licences, sends the fixture on `tx` and
    /// returns the server's task.
    async fn serve_and_issue(tx: std::sync::mpsc::Sender<Fixture>) -> tokio::task::JoinHandle<()> {
        // One folder, emptied at the start of each run (a static is never dropped).
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("external-checks");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let layer = Layer { public_url: Some(format!("http://127.0.0.1:{port}")), ..Layer::default() };
        let config = Config::from_layer(dir.join("data"), layer).unwrap();
        let platform = Arc::new(Platform::create(config, None).await.unwrap());
        let now = OffsetDateTime::now_utc();
        platform.ensure_demo(now).await.unwrap();
        let served = platform.clone();
        let server = tokio::spawn(async move {
            zhengzhao::server::run(served, listener, std::future::pending()).await.unwrap();
        });

        for alg in Algorithm::ALL {
            let pem = platform.pki.roots_pem(Some(alg)).await.unwrap();
            std::fs::write(dir.join(format!("root-{}.pem", alg.as_str())), pem).unwrap();
        }
        let seals = platform.pki.seals(None).await.unwrap();
        let catalogue = Catalogue::shipped().unwrap();
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/examples");
        let mut licences = Vec::new();
        // Licences with a PDF: SM2 seals sign none (`Algorithm::signs_pdf`), so SM2 stays out
        // of the PDF and pycose fixtures; its certificates and CRLs are checked by OpenSSL in
        // tests/openssl_sm2.rs.
        for alg in Algorithm::ALL.into_iter().filter(|a| a.signs_pdf()) {
            let seal = seals.iter().find(|s| s.algorithm == alg).expect("a demo seal per algorithm");
            for t in catalogue.iter() {
                let example = std::fs::read_to_string(examples.join(&t.example)).unwrap();
                let input: zhengzhao::licence::LicenceInput = serde_json::from_str(&example).unwrap();
                let holder_name = input.holder.name.clone();
                let request = IssueRequest {
                    seal_id: seal.id.clone(),
                    ofd_seal_id: None,
                    type_code: t.code.to_string(),
                    input,
                    document: zhengzhao::licence::DocumentKind::Pdf,
                    client: None,
                    idempotency_key: None,
                    renews: None,
                };
                let issued = platform.issuing.issue(request, now).await.unwrap();
                let pdf_path = dir.join(format!("licence-{}-{}.pdf", licences.len(), alg.as_str()));
                std::fs::write(&pdf_path, issued.pdf().unwrap()).unwrap();
                licences.push(Licence {
                    algorithm: alg,
                    type_code: t.code.to_string(),
                    title: t.name.clone(),
                    holder_name,
                    seal_cert_der: seal.cert_der.clone(),
                    pdf_path,
                    issued,
                });
            }
        }
        assert_eq!(licences.len(), 2 * catalogue.iter().count(), "Ed25519 and P-256 licences");
        assert!(catalogue.iter().count() >= 3, "the shipped catalogue has its three types");
        tx.send(Self { dir, licences }).unwrap();
        server
    }

    fn root_pem(&self, alg: Algorithm) -> PathBuf {
        self.dir.join(format!("root-{}.pem", alg.as_str()))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// A copy of `pdf` with one byte flipped inside the data of a stream in the middle of the
/// first signed byte range: the file still parses, only the digest no longer matches.
fn tamper_inside_signed_range(pdf: &[u8]) -> Vec<u8> {
    let [a, b, _, _] = zhengzhao::pdf::inspect(pdf).unwrap().byte_range;
    let range = a..a + b;
    let find = |from: usize, what: &[u8]| {
        pdf[from..range.end].windows(what.len()).position(|w| w == what).map(|i| from + i)
    };
    let mut from = a + b / 2;
    let data = loop {
        let at = find(from, b"stream").expect("a stream after the middle of the first byte range");
        from = at + b"stream".len();
        if pdf[..at].ends_with(b"end") {
            continue; // `endstream`
        }
        break from + if pdf[from] == b'\r' { 2 } else { 1 };
    };
    let end = find(data, b"endstream").expect("the stream ends inside the first byte range");
    assert!(end > data + 4, "a stream with some data");
    let at = data + (end - data) / 2;
    assert!(range.contains(&at) && at > 1024, "the flipped byte is signed and not in the header");
    let mut bad = pdf.to_vec();
    bad[at] ^= 0x01;
    bad
}

// --- 1. pyHanko -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyhanko_validates_every_licence_and_rejects_a_tampered_one() {
    let Some([pyhanko]) = require("pyHanko checks", [env_tool("ZHENGZHAO_TEST_PYHANKO")]) else {
        return;
    };
    let fx = fixture();
    for l in &fx.licences {
        let root = fx.root_pem(l.algorithm);
        let summary = run(
            &pyhanko,
            [
                OsStr::new("sign"),
                OsStr::new("validate"),
                OsStr::new("--trust"),
                root.as_os_str(),
                OsStr::new("--trust-replace"),
                l.pdf_path.as_os_str(),
            ],
        )
        .await;
        let s = text(&summary);
        assert!(summary.status.success(), "pyHanko rejects the {}:\n{s}", l.label());
        assert!(s.contains(":INTACT:TRUSTED"), "pyHanko: {} not INTACT:TRUSTED:\n{s}", l.label());
        assert!(!s.contains("ILLEGAL_MODIFICATIONS"), "pyHanko: {} illegally modified:\n{s}", l.label());

        let pretty = run(
            &pyhanko,
            [
                OsStr::new("sign"),
                OsStr::new("validate"),
                OsStr::new("--pretty-print"),
                OsStr::new("--trust"),
                root.as_os_str(),
                OsStr::new("--trust-replace"),
                l.pdf_path.as_os_str(),
            ],
        )
        .await;
        let p = text(&pretty);
        assert!(pretty.status.success(), "pyHanko --pretty-print rejects the {}:\n{p}", l.label());
        for want in [
            "The signer's certificate is trusted.",
            "The signature is cryptographically sound.",
            "The signature is judged VALID.",
        ] {
            assert!(p.contains(want), "pyHanko on the {}: no {want:?}:\n{p}", l.label());
        }
        // The DSS added after signing is the only later revision: signature maintenance.
        assert!(
            p.contains("All modifications relate to signature maintenance, and they appear to be compatible")
                || p.contains("The signature covers the entire file."),
            "pyHanko on the {}: modifications other than signature maintenance:\n{p}",
            l.label()
        );
        assert!(!p.contains("illegitimate") && !p.contains("incompatible"), "{}:\n{p}", l.label());
    }

    // The algorithms of the fixture's PDFs (SM2 signs none).
    for alg in Algorithm::ALL.into_iter().filter(|a| a.signs_pdf()) {
        let l = fx.licences.iter().find(|l| l.algorithm == alg).unwrap();
        let bad = tamper_inside_signed_range(l.issued.pdf().unwrap());
        let inspected = zhengzhao::pdf::inspect(&bad);
        assert!(inspected.is_err(), "inspect accepts the tampered {}", l.label());
        let bad_path = fx.path(&format!("tampered-{}.pdf", alg.as_str()));
        std::fs::write(&bad_path, &bad).unwrap();
        let root = fx.root_pem(alg);
        let summary = run(
            &pyhanko,
            [
                OsStr::new("sign"),
                OsStr::new("validate"),
                OsStr::new("--trust"),
                root.as_os_str(),
                OsStr::new("--trust-replace"),
                bad_path.as_os_str(),
            ],
        )
        .await;
        let s = text(&summary);
        assert!(!summary.status.success(), "pyHanko accepts the tampered {}:\n{s}", l.label());
        assert!(s.contains(":INVALID") && !s.contains(":INTACT"), "tampered {}:\n{s}", l.label());
        let pretty = run(
            &pyhanko,
            [
                OsStr::new("sign"),
                OsStr::new("validate"),
                OsStr::new("--pretty-print"),
                OsStr::new("--trust"),
                root.as_os_str(),
                OsStr::new("--trust-replace"),
                bad_path.as_os_str(),
            ],
        )
        .await;
        let p = text(&pretty);
        assert!(!pretty.status.success(), "pyHanko --pretty-print accepts the tampered {}:\n{p}", l.label());
        assert!(
            p.contains("The signature is cryptographically unsound.") && p.contains("judged INVALID"),
            "tampered {}:\n{p}",
            l.label()
        );
        eprintln!("tampered {}: inspect -> {}", l.label(), inspected.err().unwrap());
    }
}

// --- 2. NSS (pdfsig) and OpenSSL, P-256 only -------------------------------------------------

/// The CMS from `/Contents` (cut to its DER length) and the bytes `/ByteRange` covers.
fn cms_and_signed_bytes(pdf: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let [a, b, c, d] = zhengzhao::pdf::inspect(pdf).unwrap().byte_range;
    assert_eq!((pdf[a + b], pdf[c - 1]), (b'<', b'>'), "/Contents is a hex string between the ranges");
    let der = hex::decode(&pdf[a + b + 1..c - 1]).unwrap();
    assert_eq!(der[0], 0x30, "the CMS is a DER SEQUENCE");
    let len = if der[1] & 0x80 == 0 {
        usize::from(der[1]) + 2
    } else {
        let n = usize::from(der[1] & 0x7f);
        der[2..2 + n].iter().fold(0usize, |acc, &x| acc << 8 | usize::from(x)) + 2 + n
    };
    assert!(der[len..].iter().all(|&x| x == 0), "only zero padding after the CMS");
    let mut signed = pdf[a..a + b].to_vec();
    signed.extend_from_slice(&pdf[c..c + d]);
    (der[..len].to_vec(), signed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdfsig_and_openssl_verify_p256_licences() {
    let Some([pdfsig, certutil, openssl]) =
        require("pdfsig/OpenSSL checks", [path_tool("pdfsig"), path_tool("certutil"), path_tool("openssl")])
    else {
        return;
    };
    let fx = fixture();
    let root = fx.root_pem(Algorithm::P256);
    let nss = fx.path("nss");
    std::fs::create_dir(&nss).unwrap();
    let nss_db = format!("sql:{}", nss.display());
    let out = run(&certutil, ["-N", "-d", &nss_db, "--empty-password"]).await;
    assert!(out.status.success(), "certutil -N: {}", text(&out));
    let out = run(
        &certutil,
        [
            OsStr::new("-A"),
            OsStr::new("-d"),
            OsStr::new(&nss_db),
            OsStr::new("-n"),
            OsStr::new("root"),
            OsStr::new("-t"),
            OsStr::new("CT,C,C"),
            OsStr::new("-i"),
            root.as_os_str(),
        ],
    )
    .await;
    assert!(out.status.success(), "certutil -A: {}", text(&out));

    let mut checked = 0;
    for l in fx.licences.iter().filter(|l| l.algorithm == Algorithm::P256) {
        let out = run(&pdfsig, [OsStr::new("-nssdir"), OsStr::new(&nss_db), l.pdf_path.as_os_str()]).await;
        let s = text(&out);
        assert!(out.status.success(), "pdfsig on the {}:\n{s}", l.label());
        assert!(s.contains("Signature is Valid"), "pdfsig: {} signature not valid:\n{s}", l.label());
        assert!(
            s.contains("Certificate is Trusted"),
            "pdfsig: NSS does not trust the seal certificate of the {} (emailProtection EKU?):\n{s}",
            l.label()
        );

        let (cms, signed) = cms_and_signed_bytes(l.issued.pdf().unwrap());
        let sig = fx.path(&format!("sig-{checked}.der"));
        let content = fx.path(&format!("signed-{checked}.bin"));
        std::fs::write(&sig, cms).unwrap();
        std::fs::write(&content, signed).unwrap();
        let out = run(
            &openssl,
            [
                OsStr::new("cms"),
                OsStr::new("-verify"),
                OsStr::new("-inform"),
                OsStr::new("DER"),
                OsStr::new("-in"),
                sig.as_os_str(),
                OsStr::new("-content"),
                content.as_os_str(),
                OsStr::new("-binary"),
                OsStr::new("-CAfile"),
                root.as_os_str(),
                OsStr::new("-purpose"),
                OsStr::new("any"),
                OsStr::new("-out"),
                OsStr::new("/dev/null"),
            ],
        )
        .await;
        let s = text(&out);
        assert!(out.status.success(), "openssl cms -verify on the {}:\n{s}", l.label());
        assert!(s.contains("Verification successful"), "openssl cms on the {}:\n{s}", l.label());
        checked += 1;
    }
    let shipped = Catalogue::shipped().unwrap().iter().count();
    assert_eq!(checked, shipped, "every shipped type with the P-256 seal");
}

// --- 3. structure, text and fonts ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qpdf_pdftotext_and_pdffonts_accept_every_licence() {
    let Some([qpdf, pdftotext, pdffonts]) = require(
        "qpdf/pdftotext/pdffonts checks",
        [path_tool("qpdf"), path_tool("pdftotext"), path_tool("pdffonts")],
    ) else {
        return;
    };
    let fx = fixture();
    for l in &fx.licences {
        let out = run(&qpdf, [OsStr::new("--check"), l.pdf_path.as_os_str()]).await;
        let s = text(&out);
        assert!(out.status.success(), "qpdf --check on the {}:\n{s}", l.label());
        assert!(s.contains("No syntax or stream encoding errors"), "qpdf on the {}:\n{s}", l.label());

        let out = run(&pdftotext, [l.pdf_path.as_os_str(), OsStr::new("-")]).await;
        assert!(out.status.success(), "pdftotext on the {}: {}", l.label(), text(&out));
        let page = String::from_utf8(out.stdout).unwrap();
        for want in [&l.title, &l.holder_name, &l.issued.identifier] {
            assert!(page.contains(want.as_str()), "pdftotext of the {} lacks {want:?}:\n{page}", l.label());
        }
        // The title is the type's name exactly (not 教师资格证书 for 教师资格证), and the
        // issuer name has its 发证机关 caption.
        let title: String =
            page.lines().find(|line| !line.trim().is_empty()).unwrap_or("").split_whitespace().collect();
        assert_eq!(&title, &l.title, "the title of the {}:\n{page}", l.label());
        assert!(
            page.contains("发证机关"),
            "pdftotext of the {} lacks the 发证机关 caption:\n{page}",
            l.label()
        );

        let out = run(&pdffonts, [l.pdf_path.as_os_str()]).await;
        let s = text(&out);
        assert!(out.status.success(), "pdffonts on the {}:\n{s}", l.label());
        let listing = String::from_utf8_lossy(&out.stdout);
        // name type… encoding emb sub uni object-number generation
        let fonts: Vec<Vec<&str>> =
            listing.lines().skip(2).map(|line| line.split_whitespace().collect()).collect();
        assert!(!fonts.is_empty(), "pdffonts lists no font in the {}:\n{s}", l.label());
        for f in &fonts {
            let n = f.len();
            assert!(n >= 7, "unexpected pdffonts line {f:?}");
            let (name, emb, sub) = (f[0], f[n - 5], f[n - 4]);
            assert_eq!(emb, "yes", "font {name} of the {} is not embedded:\n{s}", l.label());
            assert_eq!(sub, "yes", "font {name} of the {} is not a subset:\n{s}", l.label());
            let tag = name.split_once('+').map(|(tag, _)| tag);
            assert!(
                tag.is_some_and(|t| t.len() == 6 && t.bytes().all(|c| c.is_ascii_uppercase())),
                "font {name} of the {} has no subset tag:\n{s}",
                l.label()
            );
        }
    }
}

// --- 4. the QR code, read from a 100-dpi render (a photo of a licence on a wall) ------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_code_reads_back_as_the_licence_url() {
    let Some([pdftoppm, zbarimg]) = require("QR checks", [path_tool("pdftoppm"), path_tool("zbarimg")])
    else {
        return;
    };
    let fx = fixture();
    for (i, l) in fx.licences.iter().enumerate() {
        assert_eq!(
            zhengzhao::token::decode_from_url(&l.issued.url).unwrap(),
            l.issued.token,
            "the URL of the {} carries its token",
            l.label()
        );
        let module = zhengzhao::pdf::qr_module_mm(&l.issued.url).unwrap();
        assert!(module >= 0.5, "the QR of the {} has {module} mm modules", l.label());
        let prefix = fx.path(&format!("page-{i}"));
        let out = run(
            &pdftoppm,
            [
                OsStr::new("-r"),
                OsStr::new("100"),
                OsStr::new("-png"),
                l.pdf_path.as_os_str(),
                prefix.as_os_str(),
            ],
        )
        .await;
        assert!(out.status.success(), "pdftoppm on the {}: {}", l.label(), text(&out));
        let png = fx.path(&format!("page-{i}-1.png"));
        assert!(png.is_file(), "pdftoppm wrote no {}", png.display());
        let out =
            run(&zbarimg, [OsStr::new("--raw"), OsStr::new("--nodbus"), OsStr::new("-q"), png.as_os_str()])
                .await;
        let s = text(&out);
        assert!(out.status.success(), "zbarimg finds no code in the {}:\n{s}", l.label());
        let read = String::from_utf8(out.stdout).unwrap();
        assert_eq!(read.trim_end_matches('\n'), l.issued.url, "zbarimg on the {}:\n{s}", l.label());
    }
}

// --- 5. the token with pycose ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pycose_verifies_every_token_and_rejects_a_flipped_one() {
    let Some([python]) = require("pycose checks", [env_tool("ZHENGZHAO_TEST_PYTHON")]) else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pycose_verify.py");
    let fx = fixture();
    for (i, l) in fx.licences.iter().enumerate() {
        let (_, cert) = x509_parser::parse_x509_certificate(&l.seal_cert_der).unwrap();
        let key = fx.path(&format!("seal-{i}.spki.der"));
        std::fs::write(&key, cert.public_key().raw).unwrap();
        let token = fx.path(&format!("token-{i}.cose"));
        std::fs::write(&token, &l.issued.token).unwrap();
        let out = run(&python, [script.as_os_str(), token.as_os_str(), key.as_os_str()]).await;
        let s = text(&out);
        assert!(out.status.success(), "pycose rejects the token of the {}:\n{s}", l.label());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["signature"], "good", "{s}");
        let want_alg = match l.algorithm {
            Algorithm::Ed25519 => "EDDSA",
            Algorithm::P256 => "ES256",
            Algorithm::Sm2 => panic!("pycose has no SM2: SM2 tokens are checked with OpenSSL and gmssl"),
        };
        assert_eq!(report["alg"], want_alg, "{s}");
        assert_eq!(
            report["claims"]["licence"]["licence_id"],
            l.issued.identifier,
            "the token's claims name the {}:\n{s}",
            l.label()
        );
        assert!(s.contains(&l.issued.identifier), "{s}");

        // One byte flipped, in the signature (the last byte) and in the middle.
        for at in [l.issued.token.len() - 1, l.issued.token.len() / 2] {
            let mut bad = l.issued.token.clone();
            bad[at] ^= 0x01;
            let bad_path = fx.path(&format!("token-{i}-bad-{at}.cose"));
            std::fs::write(&bad_path, &bad).unwrap();
            let out = run(&python, [script.as_os_str(), bad_path.as_os_str(), key.as_os_str()]).await;
            assert_eq!(
                out.status.code(),
                Some(1),
                "pycose accepts the token of the {} with byte {at} flipped:\n{}",
                l.label(),
                text(&out)
            );
        }
    }
}

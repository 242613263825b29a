//! The OFD package layer (`zhengzhao::ofd`) against real files and tampering: the interop
//! OFDs of `tests/data/ofd/` (ofdrw and a commercial e-seal system, see its NOTICE.md)
//! inspect intact, a package we sign inspects intact, and each tamper case shows up with
//! its finding code. The `SES_Signature` is not judged here (a dummy stands in); hostile
//! zips and XML are in `tests/ofd_hostile.rs`.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::path::Path;

use sm3::{Digest, Sm3};
use time::macros::datetime;
use zhengzhao::ofd::{self, Boundary, DigestOutcome, OfdError, OfdInspection, Package, ReadLimits, SignSpec};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ofd").join(name)).unwrap()
}

fn inspect(bytes: &[u8]) -> OfdInspection {
    ofd::inspect(bytes, &ReadLimits::default()).unwrap()
}

/// Every finding code of the package and its signatures, sorted.
fn codes(i: &OfdInspection) -> Vec<&'static str> {
    let mut all: Vec<_> = i.findings.iter().map(|f| f.code()).collect();
    all.extend(i.signatures.iter().flat_map(|s| s.findings.iter().map(|f| f.code())));
    all.sort_unstable();
    all
}

const OFD_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.2" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>6c1f0a0e8c2b4c5f9a1d2e3f4a5b6c7d</ofd:DocID><ofd:Title>营业执照</ofd:Title><ofd:Author>市场监督管理局</ofd:Author><ofd:CreationDate>2026-12-06</ofd:CreationDate><ofd:CustomDatas><ofd:CustomData Name="licence_id">1.2.156.3005.2.X</ofd:CustomData><ofd:CustomData Name="holder">张三 &amp; 李四</ofd:CustomData></ofd:CustomDatas></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot><ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody></ofd:OFD>"#;

fn document_xml(extra_page: bool) -> String {
    let extra = if extra_page { r#"<ofd:Page ID="9" BaseLoc="Pages/Page_1/Content.xml"/>"# } else { "" };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData><ofd:MaxUnitID>8</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>{extra}</ofd:Pages><ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags></ofd:Document>"#
    )
}

const CONTENT_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="2"><ofd:TextObject ID="3" Boundary="20 20 100 10" Font="4" Size="5"><ofd:TextCode X="0" Y="5">营业执照</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>"#;

/// A small unsigned licence package, as the page writer would hand it to `sign`.
fn licence() -> Package {
    let mut p = Package::new();
    p.insert("OFD.xml", OFD_XML.as_bytes().to_vec()).unwrap();
    p.insert("Doc_0/Document.xml", document_xml(false).into_bytes()).unwrap();
    p.insert(
        "Doc_0/PublicRes.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="http://www.ofdspec.org/2016" BaseLoc="Res"/>"#.to_vec(),
    )
    .unwrap();
    p.insert("Doc_0/Pages/Page_0/Content.xml", CONTENT_XML.as_bytes().to_vec()).unwrap();
    p.insert(
        "Doc_0/Tags/CustomTags.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><ofd:CustomTags xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CustomTag TypeID="licence" NameSpace="urn:zhengzhao:licence"><ofd:FileLoc>Tag_Licence.xml</ofd:FileLoc></ofd:CustomTag></ofd:CustomTags>"#.to_vec(),
    )
    .unwrap();
    p.insert(
        "Doc_0/Tags/Tag_Licence.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><zz:Licence xmlns:zz=\"urn:zhengzhao:licence\"><zz:licence_id>1.2.156.3005.2.X</zz:licence_id><zz:holder>张三</zz:holder></zz:Licence>".as_bytes().to_vec(),
    )
    .unwrap();
    p
}

fn spec() -> SignSpec {
    SignSpec {
        provider_name: "zhengzhao".into(),
        provider_version: "0.1.0".into(),
        provider_company: "Zhengzhao & Co".into(),
        signature_date_time: datetime!(2026-12-06 10:30:05 +08:00),
        page_id: 1,
        stamp_boundary: Boundary { x: 130.0, y: 230.5, width: 42.0, height: 42.0 },
        stamp_annot_id: 7,
    }
}

const DUMMY_SES: &[u8] = b"dummy SES_Signature: this layer does not judge it";

/// The licence signed, as zip bytes, and the Signature.xml bytes the callback was given.
fn signed_zip() -> (Vec<u8>, Vec<u8>) {
    let mut p = licence();
    let mut seen = Vec::new();
    ofd::sign(&mut p, &spec(), |s| {
        assert_eq!(s.property_info, "/Doc_0/Signs/Sign_0/Signature.xml");
        seen = s.xml.to_vec();
        Ok::<_, std::convert::Infallible>(DUMMY_SES.to_vec())
    })
    .unwrap();
    (p.to_zip().unwrap(), seen)
}

/// Rebuilds `zip` with `f` applied to its package (paths in order, bytes editable).
fn tamper(zip: &[u8], f: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    let p = Package::from_zip(zip, &ReadLimits::default()).unwrap();
    let mut files: Vec<(String, Vec<u8>)> = p.files().map(|(n, b)| (n.to_owned(), b.to_vec())).collect();
    f(&mut files);
    let mut out = Package::new();
    for (n, b) in files {
        out.insert(n, b).unwrap();
    }
    out.to_zip().unwrap()
}

fn edit(files: &mut [(String, Vec<u8>)], path: &str, f: impl FnOnce(String) -> String) {
    let entry = files.iter_mut().find(|(n, _)| n == path).unwrap();
    entry.1 = f(String::from_utf8(entry.1.clone()).unwrap()).into_bytes();
}

#[test]
fn interop_signed_files_inspect_with_every_digest_ok_and_nothing_uncovered() {
    for (name, references, check_method) in
        [("ofdrw-SESV4SignDoc.ofd", 5, "SM3"), ("vendor-v4signed.ofd", 13, "1.2.156.10197.1.401")]
    {
        let bytes = data(name);
        let i = inspect(&bytes);
        assert_eq!(codes(&i), Vec::<&str>::new(), "{name}");
        assert_eq!(i.signatures.len(), 1, "{name}");
        let s = &i.signatures[0];
        assert_eq!(s.references.len(), references, "{name}");
        assert!(s.references.iter().all(|r| r.outcome == DigestOutcome::Match), "{name}");
        assert_eq!(s.check_method.as_deref(), Some(check_method));
        assert_eq!(s.signature_method.as_deref(), Some(ofd::SM2_SM3_OID));
        assert_eq!(s.path.as_deref(), Some(ofd::SIGNATURE_PATH));
        assert!(s.signature_time.is_some(), "{name}");
        assert_eq!(s.stamp_annots.len(), 1);
        assert_eq!(s.stamp_annots[0].page_ref.as_deref(), Some("1"));
        // The SES_Signature binds the exposed bytes: its dataHash is SM3 of Signature.xml as
        // stored and its propertyInfo the absolute path.
        let xml = s.signature_xml.as_deref().unwrap();
        let sv = s.signed_value.as_deref().unwrap();
        assert!(sv.windows(32).any(|w| w == Sm3::digest(xml).as_slice()), "{name}");
        assert!(sv.windows(33).any(|w| w == b"/Doc_0/Signs/Sign_0/Signature.xml"), "{name}");
        assert_eq!(i.document.pages.len(), 1);
    }
    let vendor = inspect(&data("vendor-v4signed.ofd"));
    let datas = &vendor.doc_info.custom_datas;
    assert!(datas.contains(&("发票号码".to_owned(), "99999951".to_owned())), "{datas:?}");
    assert_eq!(vendor.signatures[0].provider.as_ref().unwrap().name, "gomain_eseal");
    let b = vendor.signatures[0].stamp_annots[0].boundary.unwrap();
    assert_eq!((b.x, b.y, b.width, b.height), (90.0, 8.0, 30.0, 20.0));
    let ofdrw = inspect(&data("ofdrw-SESV4SignDoc.ofd"));
    assert_eq!(ofdrw.signatures[0].seal_path.as_deref(), Some("Doc_0/Signs/Sign_0/Seal.esl"));
    assert_eq!(ofdrw.document.max_unit_id, Some(4));
}

#[test]
fn helloworld_inspects_as_unsigned() {
    let i = inspect(&data("ofdrw-helloworld.ofd"));
    assert!(!i.is_signed() && i.signatures_path.is_none() && i.findings.is_empty());
    assert_eq!(i.doc_info.doc_id.as_deref(), Some("07723bc91fdf4078a17588d63c419bea"));
    assert_eq!(i.doc_info.creator.as_deref(), Some("OFD R&W"));
    assert_eq!(i.doc_root, "Doc_0/Document.xml");
    let page = &i.document.pages[0];
    assert_eq!((page.id.as_str(), page.path.as_deref()), ("1", Some("Doc_0/Pages/Page_0/Content.xml")));
    // The helper refuses to sign it: its OFD.xml does not name the signature list.
    let mut p = i.package.clone();
    let err = ofd::sign(&mut p, &spec(), |_| Ok::<_, String>(vec![])).unwrap_err();
    assert_eq!(err.code(), "ofd_not_signable");
    assert_eq!(p, i.package);
}

#[test]
fn sign_then_inspect_round_trips() {
    let (zip, seen) = signed_zip();
    assert_eq!(zip, signed_zip().0, "signing and zipping are deterministic");
    let i = inspect(&zip);
    assert_eq!(codes(&i), Vec::<&str>::new());
    let s = &i.signatures[0];
    assert_eq!((s.id.as_str(), s.kind.as_deref()), ("1", Some("Seal")));
    assert_eq!(s.signature_xml.as_deref(), Some(seen.as_slice()));
    assert_eq!(s.signed_value.as_deref(), Some(DUMMY_SES));
    // Every file present when signing is referenced, in package order, absolute paths.
    let refs: Vec<_> = s.references.iter().map(|r| r.file_ref.as_str()).collect();
    let before: Vec<_> = licence().files().map(|(p, _)| format!("/{p}")).collect();
    assert_eq!(refs, before);
    assert!(s.references.iter().all(|r| r.outcome == DigestOutcome::Match));
    // 10:30:05 at +08:00 is written 02:30:05 UTC.
    assert_eq!(s.signature_date_time.as_deref(), Some("20261206023005"));
    let annot = &s.stamp_annots[0];
    assert_eq!((annot.id.as_deref(), annot.page_ref.as_deref()), (Some("7"), Some("1")));
    assert_eq!(annot.boundary, Some(spec().stamp_boundary));
    let provider = s.provider.as_ref().unwrap();
    assert_eq!(provider.company.as_deref(), Some("Zhengzhao & Co"));
    assert!(
        String::from_utf8(seen).unwrap().contains(r#"<ofd:References CheckMethod="1.2.156.10197.1.401">"#)
    );
    // Metadata and custom tags read back.
    assert_eq!(i.doc_info.title.as_deref(), Some("营业执照"));
    assert!(i.doc_info.custom_datas.contains(&("holder".into(), "张三 & 李四".into())));
    assert_eq!(i.document.max_unit_id, Some(8));
    let tag = &i.custom_tags[0];
    assert_eq!(tag.name_space.as_deref(), Some("urn:zhengzhao:licence"));
    assert_eq!(
        tag.values,
        [("licence_id".into(), "1.2.156.3005.2.X".into()), ("holder".into(), "张三".into())]
    );
    let list = String::from_utf8(i.package.get(ofd::SIGNATURES_PATH).unwrap().to_vec()).unwrap();
    assert!(list.contains(r#"<ofd:MaxSignId>1</ofd:MaxSignId><ofd:Signature ID="1" Type="Seal" BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/>"#));
}

#[test]
fn sign_refuses_what_it_cannot_sign_and_leaves_the_package_unchanged() {
    let mut signed = licence();
    ofd::sign(&mut signed, &spec(), |_| Ok::<_, String>(vec![1])).unwrap();
    let before = signed.clone();
    let err = ofd::sign(&mut signed, &spec(), |_| Ok::<_, String>(vec![1])).unwrap_err();
    assert_eq!((err.code(), &signed), ("ofd_not_signable", &before));
    let mut p = licence();
    let cases: [(SignSpec, &str); 4] = [
        (SignSpec { page_id: 2, ..spec() }, "ofd_not_signable"),
        (
            SignSpec { stamp_boundary: Boundary { width: f64::NAN, ..spec().stamp_boundary }, ..spec() },
            "ofd_bad_sign_spec",
        ),
        (SignSpec { provider_name: "a\u{1}".into(), ..spec() }, "ofd_bad_sign_spec"),
        (SignSpec { provider_name: " ".into(), ..spec() }, "ofd_bad_sign_spec"),
    ];
    for (s, code) in cases {
        assert_eq!(ofd::sign(&mut p, &s, |_| Ok::<_, String>(vec![])).unwrap_err().code(), code);
    }
    let err = ofd::sign(&mut p, &spec(), |_| Err("the seal key is offline")).unwrap_err();
    assert!(matches!(&err, OfdError::SignedValue(e) if e.to_string() == "the seal key is offline"));
    assert_eq!(p, licence());
}

#[test]
fn one_byte_in_a_page_content_is_a_reference_mismatch() {
    let (zip, _) = signed_zip();
    let page = "Doc_0/Pages/Page_0/Content.xml";
    let bad = tamper(&zip, |f| edit(f, page, |s| s.replace("营业执照", "营业执昭")));
    let i = inspect(&bad);
    assert_eq!(codes(&i), ["ofd_reference_mismatch"]);
    let r = i.signatures[0].references.iter().find(|r| r.path.as_deref() == Some(page)).unwrap();
    assert_eq!(r.outcome, DigestOutcome::Mismatch);
    // The same on the commercial vendor's file.
    let vendor = tamper(&data("vendor-v4signed.ofd"), |f| {
        let e = f.iter_mut().find(|(n, _)| n == page).unwrap();
        e.1[100] ^= 1;
    });
    assert_eq!(codes(&inspect(&vendor)), ["ofd_reference_mismatch"]);
}

#[test]
fn a_page_added_to_the_package_and_document_is_caught() {
    let (zip, _) = signed_zip();
    let bad = tamper(&zip, |f| {
        edit(f, "Doc_0/Document.xml", |_| document_xml(true));
        f.push(("Doc_0/Pages/Page_1/Content.xml".into(), CONTENT_XML.as_bytes().to_vec()));
    });
    let i = inspect(&bad);
    assert_eq!(codes(&i), ["ofd_file_not_covered", "ofd_page_not_covered", "ofd_reference_mismatch"]);
    assert_eq!(i.document.pages.len(), 2);
    // The page added to Document.xml alone: a missing page and the changed document.
    let only_listed = tamper(&zip, |f| edit(f, "Doc_0/Document.xml", |_| document_xml(true)));
    assert_eq!(codes(&inspect(&only_listed)), ["ofd_page_missing", "ofd_reference_mismatch"]);
}

#[test]
fn a_file_no_reference_covers_is_reported() {
    let (zip, _) = signed_zip();
    let bad = tamper(&zip, |f| f.push(("Doc_0/Res/extra.png".into(), b"\x89PNG".to_vec())));
    let i = inspect(&bad);
    assert_eq!(codes(&i), ["ofd_file_not_covered"]);
    assert_eq!(
        i.signatures[0].findings[0].to_string(),
        "Doc_0/Res/extra.png is not covered by the signature"
    );
    // A file put into the signature folder is not excused either.
    let bad = tamper(&zip, |f| f.push(("Doc_0/Signs/Sign_0/Seal.esl".into(), b"x".to_vec())));
    assert_eq!(codes(&inspect(&bad)), ["ofd_file_not_covered"]);
}

#[test]
fn a_removed_reference_leaves_its_file_uncovered_and_changes_the_signed_bytes() {
    let (zip, original) = signed_zip();
    let bad = tamper(&zip, |f| {
        edit(f, ofd::SIGNATURE_PATH, |s| {
            let start = s.find(r#"<ofd:Reference FileRef="/Doc_0/Pages/Page_0/Content.xml">"#).unwrap();
            let end = start + s[start..].find("</ofd:Reference>").unwrap() + "</ofd:Reference>".len();
            format!("{}{}", &s[..start], &s[end..])
        })
    });
    let i = inspect(&bad);
    assert_eq!(codes(&i), ["ofd_file_not_covered", "ofd_page_not_covered"]);
    assert_ne!(i.signatures[0].signature_xml.as_deref(), Some(original.as_slice()));
}

#[test]
fn an_edited_signature_time_keeps_the_digests_but_not_the_signed_bytes() {
    let (zip, original) = signed_zip();
    let bad =
        tamper(&zip, |f| edit(f, ofd::SIGNATURE_PATH, |s| s.replace("20261206023005", "20261205023005")));
    let i = inspect(&bad);
    // Nothing at this layer: every reference still holds …
    assert_eq!(codes(&i), Vec::<&str>::new());
    let s = &i.signatures[0];
    assert_eq!(s.signature_date_time.as_deref(), Some("20261205023005"));
    // … but the exposed Signature.xml differs from what was signed, so SM3 of it no longer
    // equals TBS_Sign.dataHash (the check the SES layer makes).
    let exposed = s.signature_xml.as_deref().unwrap();
    assert_ne!(exposed, original.as_slice());
    assert_ne!(Sm3::digest(exposed), Sm3::digest(&original));
}

#[test]
fn a_second_signature_may_add_its_own_files() {
    // A later signature adds its Signature.xml, SignedValue.dat and seal file and rewrites
    // Signatures.xml; the first signature does not report them, the second covers the rest.
    let (zip, _) = signed_zip();
    let p = Package::from_zip(&zip, &ReadLimits::default()).unwrap();
    let mut refs = String::new();
    for (path, bytes) in p.files().filter(|(n, _)| *n != ofd::SIGNATURES_PATH) {
        let v = data_encoding::BASE64.encode(&Sm3::digest(bytes));
        refs.push_str(&format!(
            r#"<ofd:Reference FileRef="/{path}"><ofd:CheckValue>{v}</ofd:CheckValue></ofd:Reference>"#
        ));
    }
    let second = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><ofd:Signature xmlns:ofd="http://www.ofdspec.org/2016"><ofd:SignedInfo><ofd:Provider ProviderName="x"/><ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod><ofd:SignatureDateTime>20261207000000</ofd:SignatureDateTime><ofd:References CheckMethod="SM3">{refs}<ofd:Reference FileRef="/Doc_0/Signs/Sign_1/Seal.esl"><ofd:CheckValue>{}</ofd:CheckValue></ofd:Reference></ofd:References><ofd:StampAnnot ID="9" PageRef="1" Boundary="1 1 10 10"/><ofd:Seal><ofd:BaseLoc>Seal.esl</ofd:BaseLoc></ofd:Seal></ofd:SignedInfo><ofd:SignedValue>SignedValue.dat</ofd:SignedValue></ofd:Signature>"#,
        data_encoding::BASE64.encode(&Sm3::digest(b"seal"))
    );
    let two = tamper(&zip, |f| {
        edit(f, ofd::SIGNATURES_PATH, |s| {
            s.replace("<ofd:MaxSignId>1", "<ofd:MaxSignId>2").replace(
                "</ofd:Signatures>",
                r#"<ofd:Signature ID="2" Type="Seal" BaseLoc="Sign_1/Signature.xml"/></ofd:Signatures>"#,
            )
        });
        f.push(("Doc_0/Signs/Sign_1/Seal.esl".into(), b"seal".to_vec()));
        f.push(("Doc_0/Signs/Sign_1/Signature.xml".into(), second.into_bytes()));
        f.push(("Doc_0/Signs/Sign_1/SignedValue.dat".into(), b"ses".to_vec()));
    });
    let i = inspect(&two);
    assert_eq!(i.signatures.len(), 2);
    assert_eq!(codes(&i), Vec::<&str>::new());
    assert_eq!(i.signatures[1].signed_value.as_deref(), Some(&b"ses"[..]));
}

#[tokio::test]
async fn openssl_recomputes_every_reference_digest_we_write() {
    let test = "openssl dgst -sm3 over the signed OFD's files";
    let Some([openssl]) = common::tools::require(test, [common::tools::path_tool("openssl")]) else {
        return;
    };
    let (zip, _) = signed_zip();
    let i = inspect(&zip);
    let dir = tempfile::tempdir().unwrap();
    for r in &i.signatures[0].references {
        let path = r.path.as_deref().unwrap();
        let file = dir.path().join(path.replace('/', "_"));
        std::fs::write(&file, i.package.get(path).unwrap()).unwrap();
        let out = common::tools::run(&openssl, ["dgst", "-sm3", "-binary", file.to_str().unwrap()]).await;
        assert!(out.status.success(), "{}", common::tools::text(&out));
        assert_eq!(data_encoding::BASE64.encode(&out.stdout), r.check_value, "{path}");
    }
}

#[tokio::test]
async fn python_zipfile_reads_our_zip_in_order_with_fixed_times_and_the_signed_value_stored() {
    let test = "Python's zipfile on the signed OFD";
    let Some([python]) = common::tools::require(test, [common::tools::path_tool("python3")]) else {
        return;
    };
    let (zip, _) = signed_zip();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("licence.ofd");
    std::fs::write(&file, &zip).unwrap();
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nfor i in z.infolist():\n    assert i.date_time == (1980, 1, 1, 0, 0, 0), i\n    want = zipfile.ZIP_STORED if i.filename.endswith('.dat') else zipfile.ZIP_DEFLATED\n    assert i.compress_type == want, i\n    print(i.filename)\n";
    let out = common::tools::run(&python, ["-c", script, file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", common::tools::text(&out));
    let names: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    let ours: Vec<String> = inspect(&zip).package.files().map(|(n, _)| n.to_owned()).collect();
    assert_eq!(names, ours);
}

#[test]
fn reference_problems_each_have_their_code() {
    let (zip, _) = signed_zip();
    let sig = ofd::SIGNATURE_PATH;
    let md5 = tamper(&zip, |f| edit(f, sig, |s| s.replace(ofd::SM3_OID, "MD5")));
    let i = inspect(&md5);
    assert_eq!(codes(&i), ["ofd_check_method_unsupported"]);
    assert!(i.signatures[0].references.iter().all(|r| r.outcome == DigestOutcome::NotChecked));
    // "SM3" (as ofdrw writes it) is checked like the OID.
    let sm3 = tamper(&zip, |f| edit(f, sig, |s| s.replace(ofd::SM3_OID, "SM3")));
    assert_eq!(codes(&inspect(&sm3)), Vec::<&str>::new());
    let gone = tamper(&zip, |f| f.retain(|(n, _)| n != "Doc_0/PublicRes.xml"));
    assert_eq!(codes(&inspect(&gone)), ["ofd_reference_missing_file"]);
    let bad_value =
        tamper(&zip, |f| edit(f, sig, |s| s.replacen("<ofd:CheckValue>", "<ofd:CheckValue>!", 1)));
    assert_eq!(codes(&inspect(&bad_value)), ["ofd_reference_bad_check_value"]);
    let bad_path = tamper(&zip, |f| {
        edit(f, sig, |s| s.replace(r#"FileRef="/Doc_0/PublicRes.xml""#, r#"FileRef="/../PublicRes.xml""#))
    });
    assert_eq!(codes(&inspect(&bad_path)), ["ofd_file_not_covered", "ofd_reference_bad_path"]);
    let no_annot_page = tamper(&zip, |f| edit(f, sig, |s| s.replace(r#"PageRef="1""#, r#"PageRef="5""#)));
    assert_eq!(codes(&inspect(&no_annot_page)), ["ofd_stamp_annot_invalid"]);
    let no_value = tamper(&zip, |f| f.retain(|(n, _)| n != ofd::SIGNED_VALUE_PATH));
    assert_eq!(codes(&inspect(&no_value)), ["ofd_signed_value_missing"]);
}

//! The licence OFD read by independent OFD readers (not our code): the `ofd-core` crate
//! checks the package's structure and renders page 1 with the embedded font subset, `zbar`
//! decodes the QR from that render, and `ofdkit` (PyPI) extracts the Chinese text and the
//! document information.
//!
//! Tools come from `tests/run-all.sh` (zbar-tools on `PATH`, ofdkit in the venv named by
//! `ZHENGZHAO_TEST_PYTHON`); a missing one fails the test under `CI` and skips it loudly
//! otherwise (`tests/common/tools.rs`). The render is saved as
//! `target/tmp/ofd_readers/licence.png` for a person to look at.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::io::Cursor;
use std::path::PathBuf;

use common::tools::{env_tool, path_tool, require, run, text};
use zhengzhao::ofd::{self, OfdOptions, Package};
use zhengzhao::pdf::{DocInfo, LicencePage};

/// Licence identifier of the sample licence (GB/T 36904 form).
const LICENCE_ID: &str = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";

/// The 食品经营许可证 page the PDF tests render, with a QR token URL.
fn page() -> LicencePage {
    LicencePage {
        title: "食品经营许可证".into(),
        subtitle: Some("Food Business License".into()),
        holder_lines: vec!["持证主体：上海浦江美食餐饮管理有限公司".into()],
        fields: vec![
            ("经营者名称".into(), "上海浦江美食餐饮管理有限公司".into()),
            ("统一社会信用代码".into(), "91310115MA1H7ABC2X".into()),
            ("法定代表人".into(), "张伟".into()),
            ("住所".into(), "上海市浦东新区张江路123号1幢2层201室".into()),
            ("主体业态".into(), "餐饮服务经营者（中型餐馆）".into()),
            (
                "经营项目".into(),
                "预包装食品（含冷藏冷冻食品）销售，散装食品（含冷藏冷冻食品）销售，热食类食品制售，\
                 冷食类食品制售，糕点类食品（含裱花蛋糕）制售，自制饮品制售（不含自酿酒）"
                    .into(),
            ),
            ("许可证编号".into(), "JY23101150012345".into()),
            ("有效期至".into(), "2031年11月21日".into()),
        ],
        issuer: "上海市浦东新区市场监督管理局".into(),
        issue_date: "2026年11月22日".into(),
        identifier: LICENCE_ID.into(),
        identifier_caption: "电子证照标识".into(),
        qr_text: format!("https://zhengzhao.example.gov.cn/v/{LICENCE_ID}#t=AbC-123_xyz"),
        info: DocInfo {
            title: "食品经营许可证 JY23101150012345".into(),
            subject: "食品经营许可证".into(),
            author: "上海市浦东新区市场监督管理局".into(),
            keywords: Some("食品经营许可证, 电子证照".into()),
            creation_date: Some(time::macros::datetime!(2026-11-22 10:30:00 +08:00)),
            custom: vec![
                ("LicenceIdentifier".into(), LICENCE_ID.into()),
                ("HolderName".into(), "上海浦江美食餐饮管理有限公司".into()),
                ("Token".into(), "eyJhbGciOiJFZERTQSJ9.e30.c2ln".into()),
            ],
        },
    }
}

/// The package as a zip (the platform's own writer: deflated, in the package's order).
fn zip(p: &Package) -> Vec<u8> {
    p.to_zip().unwrap()
}

/// A fresh folder under `target/tmp/ofd_readers/`.
fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ofd_readers");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The unsigned licence OFD written to `dir/NAME.ofd` (one name per test: they run at once).
fn write_licence(dir: &std::path::Path, name: &str) -> (PathBuf, Vec<u8>) {
    let rendered = ofd::render(&page(), &OfdOptions::default()).unwrap();
    let bytes = zip(&rendered.package);
    let path = dir.join(format!("{name}.ofd"));
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

/// Whether the pixel at `(x, y)` mm on a page rendered at `dpi` is close to `rgb`.
fn pixel_near(img: &tiny_skia::Pixmap, dpi: f64, (x, y): (f64, f64), rgb: [u8; 3]) -> bool {
    let px = |mm: f64| (mm / 25.4 * dpi).round() as u32;
    let p = img.pixel(px(x), px(y)).unwrap();
    [p.red(), p.green(), p.blue()].iter().zip(rgb).all(|(a, b)| a.abs_diff(b) < 40)
}

#[tokio::test]
async fn ofd_core_finds_it_conformant_renders_it_and_zbar_reads_the_qr() {
    let dir = out_dir();
    let (_, bytes) = write_licence(&dir, "licence");
    let mut reader =
        ofd_core::OfdReader::new(ofd_core::OfdPackage::new(Cursor::new(bytes)).unwrap()).unwrap();
    let report = ofd_core::check_reader(&mut reader);
    assert!(report.conforms() && report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.signatures.is_empty());

    let bodies = reader.ofd().doc_bodies.clone();
    let doc = reader.load_document(&bodies[0]).unwrap();
    assert_eq!(doc.pages().len(), 1);
    let dpi = 150.0;
    let options = ofd_core::RenderOptions::with_dpi(dpi);
    let png_bytes =
        reader.render_page_to_bytes(&doc, 0, &options, ofd_core::render::ImageFormat::Png).unwrap();
    let png = dir.join("licence.png");
    std::fs::write(&png, &png_bytes).unwrap();
    let img = tiny_skia::Pixmap::decode_png(&png_bytes).unwrap();
    assert_eq!((img.width(), img.height()), (1240, 1754));
    // The outer frame (1.8 pt gold at 10 mm from the edge), the QR's top-left finder
    // pattern (dark) and its quiet zone (white), paper between frame and text.
    assert!(pixel_near(&img, dpi, (105.0, 10.0), [168, 124, 48]), "no gold frame");
    let qr_module = 50.0 / 45.0;
    assert!(pixel_near(&img, dpi, (25.0 + 4.5 * qr_module, 297.0 - 83.0 + 4.5 * qr_module), [0, 0, 0]));
    assert!(pixel_near(&img, dpi, (25.0 + 1.0, 297.0 - 83.0 + 1.0), [255, 255, 255]));
    // Text was drawn from the embedded font: the title's band has ink, the margin none.
    let inked = |y0: f64, y1: f64| {
        let px = |mm: f64| (mm / 25.4 * dpi).round() as u32;
        (px(40.0)..px(170.0))
            .flat_map(|x| (px(y0)..px(y1)).map(move |y| (x, y)))
            .any(|(x, y)| img.pixel(x, y).unwrap().red() < 100)
    };
    assert!(inked(38.0, 48.0), "no title drawn");
    assert!(!inked(13.0, 16.0), "ink in the top margin");

    let Some([zbar]) = require("zbarimg on the OFD render", [path_tool("zbarimg")]) else { return };
    let out =
        run(&zbar, ["--raw", "--nodbus", "-q"].iter().map(std::ffi::OsStr::new).chain([png.as_os_str()]))
            .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), page().qr_text);
}

/// Reads the OFD with ofdkit and prints the text and document information as JSON.
const OFDKIT: &str = r#"
import json, sys, ofdkit
with ofdkit.open(sys.argv[1]) as d:
    print(json.dumps({"pages": len(d.pages), "text": d.text(), "info": d.info.to_dict(),
                      "warnings": list(d.warnings)}, ensure_ascii=False))
"#;

#[tokio::test]
async fn ofdkit_extracts_the_chinese_text_and_the_metadata() {
    let Some([python]) = require("ofdkit", [env_tool("ZHENGZHAO_TEST_PYTHON")]) else { return };
    let dir = out_dir();
    let (path, _) = write_licence(&dir, "ofdkit");
    let out =
        run(&python, [std::ffi::OsStr::new("-c"), std::ffi::OsStr::new(OFDKIT), path.as_os_str()]).await;
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pages"], 1);
    assert_eq!(v["warnings"], serde_json::json!([]));
    let got = v["text"].as_str().unwrap().to_owned();
    let p = page();
    let mut wanted = vec![p.title.clone(), "持证主体：上海浦江美食餐饮管理有限公司".into(), p.issuer.clone()];
    wanted.push(p.issue_date.clone());
    wanted.push(format!("电子证照标识：{LICENCE_ID}"));
    wanted.push("扫码核验".into());
    for (label, value) in &p.fields {
        wanted.push(format!("{label}："));
        if value.chars().count() < 20 {
            wanted.push(value.clone());
        }
    }
    for w in &wanted {
        assert!(got.contains(w.as_str()), "{w:?} not in the extracted text:\n{got}");
    }
    let info = &v["info"];
    assert_eq!(info["title"], p.info.title.as_str());
    assert_eq!(info["author"], p.info.author.as_str());
    assert_eq!(info["subject"], p.info.subject.as_str());
    assert_eq!(info["creation_date"], "2026-11-22");
    assert_eq!(info["creator"], "Zhengzhao");
    assert_eq!(info["keywords"], serde_json::json!(["食品经营许可证", "电子证照"]));
    let doc_id = info["doc_id"].as_str().unwrap();
    assert!(doc_id.len() == 32 && doc_id.bytes().all(|b| b.is_ascii_hexdigit()), "{doc_id}");
    let custom: serde_json::Map<String, serde_json::Value> =
        p.info.custom.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))).collect();
    assert_eq!(info["custom_data"], serde_json::Value::Object(custom));
}

/// Dark pixels (luma below half) of a PNG, row by row, and its width.
fn ink(png: &[u8]) -> (u32, Vec<bool>) {
    let img = tiny_skia::Pixmap::decode_png(png).unwrap();
    let dark = img
        .pixels()
        .iter()
        .map(|p| u32::from(p.red()) * 3 + u32::from(p.green()) * 6 + u32::from(p.blue()) < 128 * 10)
        .collect();
    (img.width(), dark)
}

#[tokio::test]
async fn the_pdf_and_the_ofd_show_the_same_page() {
    let Some([pdftoppm]) = require("pdftoppm beside the OFD render", [path_tool("pdftoppm")]) else { return };
    let dir = out_dir();
    let dpi = 100.0;
    let pdf = zhengzhao::pdf::render(&page()).unwrap().pdf;
    std::fs::write(dir.join("same.pdf"), &pdf).unwrap();
    let args = ["-r", "100", "-png", "-singlefile"].map(std::ffi::OsString::from);
    let paths = [dir.join("same.pdf"), dir.join("same-pdf")].map(std::ffi::OsString::from);
    let out = run(&pdftoppm, args.iter().chain(&paths)).await;
    assert!(out.status.success(), "{}", text(&out));
    let (pdf_w, pdf_ink) = ink(&std::fs::read(dir.join("same-pdf.png")).unwrap());

    let (_, bytes) = write_licence(&dir, "same");
    let mut reader =
        ofd_core::OfdReader::new(ofd_core::OfdPackage::new(Cursor::new(bytes)).unwrap()).unwrap();
    let doc = reader.load_document(&reader.ofd().doc_bodies[0].clone()).unwrap();
    let options = ofd_core::RenderOptions::with_dpi(dpi);
    let png = reader.render_page_to_bytes(&doc, 0, &options, ofd_core::render::ImageFormat::Png).unwrap();
    std::fs::write(dir.join("same-ofd.png"), &png).unwrap();
    let (ofd_w, ofd_ink) = ink(&png);

    // Rounding of the page size to pixels may differ by one; compare the common area. The
    // two rasterisers anti-alias edges differently, so a dark pixel of one render counts as
    // matched when the other has one within a pixel; a line or glyph misplaced by two pixels
    // (0.5 mm) leaves some 15 % unmatched.
    let h = (pdf_ink.len() as u32 / pdf_w).min(ofd_ink.len() as u32 / ofd_w);
    let w = pdf_w.min(ofd_w);
    let unmatched = |(a, aw): (&[bool], u32), (b, bw): (&[bool], u32)| {
        let dark = |v: &[bool], vw: u32, x: u32, y: u32| v[(y * vw + x) as usize];
        let (mut total, mut lone) = (0u32, 0u32);
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                if dark(a, aw, x, y) {
                    total += 1;
                    let near = (y - 1..=y + 1).any(|ny| (x - 1..=x + 1).any(|nx| dark(b, bw, nx, ny)));
                    lone += u32::from(!near);
                }
            }
        }
        (lone, total)
    };
    for (what, (lone, total)) in [
        ("PDF", unmatched((&pdf_ink, pdf_w), (&ofd_ink, ofd_w))),
        ("OFD", unmatched((&ofd_ink, ofd_w), (&pdf_ink, pdf_w))),
    ] {
        assert!(total > w * h / 50, "almost nothing drawn in the {what}: {total} dark pixels");
        assert!(lone * 50 < total, "{lone} of {total} dark pixels of the {what} render have no counterpart");
    }
}

/// The package with a stand-in seal signature: `Signatures.xml` and a `Signature.xml` whose
/// SM3 references cover every file, with the `StampAnnot` where [`ofd::RenderedOfd`] says
/// the seal goes. The signed value is a placeholder (the SES signature is not this test's
/// subject): ofd-core checks the references, not the SM2 signature.
fn dummy_signed() -> (Package, ofd::RenderedOfd) {
    use sm3::Digest as _;
    let rendered = ofd::render(&page(), &OfdOptions { signed: true, ..OfdOptions::default() }).unwrap();
    let mut p = rendered.package.clone();
    let b = rendered.seal_boundary;
    let mut sig = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ofd:Signature xmlns:ofd=\"http://www.ofdspec.org/2016\">\
         <ofd:SignedInfo><ofd:Provider ProviderName=\"test\"/>\
         <ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>\
         <ofd:SignatureDateTime>20261122103000</ofd:SignatureDateTime>\
         <ofd:References CheckMethod=\"1.2.156.10197.1.401\">",
    );
    for (name, bytes) in p.files() {
        let digest = data_encoding::BASE64.encode(&sm3::Sm3::digest(bytes));
        sig += &format!(
            "<ofd:Reference FileRef=\"/{name}\"><ofd:CheckValue>{digest}</ofd:CheckValue></ofd:Reference>"
        );
    }
    sig += &format!(
        "</ofd:References><ofd:StampAnnot ID=\"1\" PageRef=\"{}\" Boundary=\"{} {} {} {}\"/></ofd:SignedInfo>\
         <ofd:SignedValue>/Doc_0/Signs/Sign_0/SignedValue.dat</ofd:SignedValue></ofd:Signature>",
        rendered.page_id, b.x, b.y, b.width, b.height
    );
    p.insert(
        ofd::SIGNATURES_PATH,
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ofd:Signatures xmlns:ofd=\"http://www.ofdspec.org/2016\">\
          <ofd:MaxSignId>1</ofd:MaxSignId><ofd:Signature ID=\"1\" Type=\"Seal\" BaseLoc=\"Sign_0/Signature.xml\"/>\
          </ofd:Signatures>"
            .to_vec(),
    )
    .unwrap();
    p.insert("Doc_0/Signs/Sign_0/Signature.xml", sig.into_bytes()).unwrap();
    p.insert("Doc_0/Signs/Sign_0/SignedValue.dat", vec![0x30, 0x00]).unwrap();
    (p, rendered)
}

#[test]
fn ofd_core_checks_every_reference_of_a_signed_package() {
    let (p, rendered) = dummy_signed();
    let mut reader =
        ofd_core::OfdReader::new(ofd_core::OfdPackage::new(Cursor::new(zip(&p))).unwrap()).unwrap();
    let report = ofd_core::check_reader(&mut reader);
    assert!(report.conforms(), "{:?}", report.problems);
    assert_eq!(report.signatures.len(), 1);
    let s = &report.signatures[0];
    assert_eq!(s.verdict(), ofd_core::SigVerdict::Valid, "{s:?}");
    assert_eq!(s.references.len(), rendered.package.len());
    assert!(s.references.iter().all(|r| r.status == ofd_core::RefStatus::Ok));

    // One byte of the page changed: the reader names the file.
    let mut tampered = p.clone();
    let mut content = tampered.get(&rendered.page_path).unwrap().to_vec();
    let at = content.windows(4).position(|w| w == b"2026").unwrap();
    content[at + 3] = b'7';
    assert!(tampered.replace(&rendered.page_path, content));
    let mut reader =
        ofd_core::OfdReader::new(ofd_core::OfdPackage::new(Cursor::new(zip(&tampered))).unwrap()).unwrap();
    let report = ofd_core::check_reader(&mut reader);
    assert!(!report.conforms());
    let failed: Vec<String> = report.signatures[0].failures().map(|r| r.file_ref.clone()).collect();
    assert_eq!(failed, [format!("/{}", rendered.page_path)]);
}

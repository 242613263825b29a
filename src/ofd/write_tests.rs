//! Tests of the OFD writer on the sample page the PDF tests render.

use super::*;
use crate::layout::{Item, page_sample as sample};

fn text(p: &Package, path: &str) -> String {
    String::from_utf8(p.get(path).unwrap_or_else(|| panic!("{path} missing")).to_vec()).unwrap()
}

/// The values of attribute `name` in `xml`, in order.
fn attrs<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let key = format!(" {name}=\"");
    xml.match_indices(&key)
        .map(|(i, _)| {
            let rest = &xml[i + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[test]
fn writes_the_package_in_a_fixed_order_with_the_metadata() {
    let out = render(&sample(), &OfdOptions::default()).unwrap();
    let names: Vec<&str> = out.package.files().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "OFD.xml",
            "Doc_0/Document.xml",
            "Doc_0/PublicRes.xml",
            "Doc_0/Res/WenQuanYiMicroHei.ttf",
            "Doc_0/Pages/Page_0/Content.xml",
            "Doc_0/Tags/CustomTags.xml",
            "Doc_0/Tags/Licence.xml",
        ]
    );
    let ofd = text(&out.package, "OFD.xml");
    let id = ofd.split("<ofd:DocID>").nth(1).unwrap().split('<').next().unwrap();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    for want in [
        "<ofd:Title>食品经营许可证 JY23101150012345</ofd:Title>",
        "<ofd:Author>上海市浦东新区市场监督管理局</ofd:Author>",
        "<ofd:CreationDate>2026-11-22</ofd:CreationDate>",
        "<ofd:Creator>Zhengzhao</ofd:Creator>",
        "<ofd:CustomData Name=\"LicenceIdentifier\">1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F</ofd:CustomData>",
        "<ofd:CustomData Name=\"HolderName\">上海浦江美食餐饮管理有限公司</ofd:CustomData>",
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>",
    ] {
        assert!(ofd.contains(want), "{want} not in {ofd}");
    }
    assert!(!ofd.contains("Signatures"));
    let tags = text(&out.package, "Doc_0/Tags/CustomTags.xml");
    assert!(
        tags.contains("NameSpace=\"urn:zhengzhao:licence:1\"") && tags.contains("<ofd:FileLoc>Licence.xml<")
    );
    let tag_file = text(&out.package, "Doc_0/Tags/Licence.xml");
    assert!(
        tag_file.contains("<lic:Meta Name=\"HolderName\">上海浦江美食餐饮管理有限公司</lic:Meta>"),
        "{tag_file}"
    );
    // Deterministic.
    assert_eq!(render(&sample(), &OfdOptions::default()).unwrap(), out);
}

#[test]
fn the_signed_option_points_to_the_signatures_and_the_namespace_is_configurable() {
    let opts = OfdOptions { signed: true, tag_namespace: "urn:example:licence:2".into() };
    let out = render(&sample(), &opts).unwrap();
    assert!(
        text(&out.package, "OFD.xml")
            .contains("<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody>")
    );
    assert!(text(&out.package, "Doc_0/Tags/Licence.xml").contains("xmlns:lic=\"urn:example:licence:2\""));
    for bad in ["", "licence", "urn:a b", "1x:y", "urn:", &format!("urn:{}", "a".repeat(300))] {
        let opts = OfdOptions { signed: false, tag_namespace: bad.into() };
        assert!(matches!(render(&sample(), &opts), Err(OfdError::BadOption(_))), "{bad:?}");
    }
}

#[test]
fn one_id_space_and_the_seal_boundary_in_ofd_coordinates() {
    let out = render(&sample(), &OfdOptions::default()).unwrap();
    assert_eq!((out.page_id, out.page_path.as_str()), (1, "Doc_0/Pages/Page_0/Content.xml"));
    assert_eq!(out.seal_boundary, BoxMm { x: 127.0, y: 214.0, width: 42.0, height: 42.0 });
    let content = text(&out.package, &out.page_path);
    let res = text(&out.package, "Doc_0/PublicRes.xml");
    let mut ids: Vec<u32> =
        attrs(&content, "ID").iter().chain(&attrs(&res, "ID")).map(|i| i.parse().unwrap()).collect();
    ids.push(out.page_id);
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "an ID is used twice");
    assert_eq!(ids, (1..=out.max_unit_id).collect::<Vec<_>>());
    let doc = text(&out.package, "Doc_0/Document.xml");
    assert!(doc.contains(&format!("<ofd:MaxUnitID>{}</ofd:MaxUnitID>", out.max_unit_id)));
    assert!(doc.contains("<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>"));
    assert!(doc.contains("<ofd:Page ID=\"1\" BaseLoc=\"Pages/Page_0/Content.xml\"/>"));
    // Every font reference names the font, every DrawParam reference a DrawParam.
    assert!(attrs(&content, "Font").iter().all(|f| *f == "2"));
    for dp in attrs(&content, "DrawParam") {
        assert!(res.contains(&format!("<ofd:DrawParam ID=\"{dp}\"")), "{dp}");
    }
}

#[test]
fn every_text_run_is_placed_with_the_font_advances_the_pdf_uses() {
    let page = sample();
    let layout = crate::layout::lay_out(&page).unwrap();
    let out = render(&page, &OfdOptions::default()).unwrap();
    let content = text(&out.package, &out.page_path);
    let runs: Vec<_> =
        layout.items.iter().filter_map(|i| if let Item::Text(t) = i { Some(t) } else { None }).collect();
    let objects: Vec<&str> = content
        .split("<ofd:TextObject ")
        .skip(1)
        .map(|o| o.split("</ofd:TextObject>").next().unwrap())
        .collect();
    assert_eq!(objects.len(), runs.len());
    let font = out.package.get("Doc_0/Res/WenQuanYiMicroHei.ttf").unwrap();
    let sub = ttf_parser::Face::parse(font, 0).unwrap();
    let upem = f32::from(sub.units_per_em());
    for (obj, run) in objects.iter().zip(&runs) {
        let code = obj
            .split("<ofd:TextCode ")
            .nth(1)
            .unwrap()
            .split_once('>')
            .unwrap()
            .1
            .split("</ofd:TextCode>")
            .next()
            .unwrap();
        assert_eq!(code.replace("&amp;", "&"), run.text);
        // The pen starts at the run's x and baseline, flipped to y down.
        let b: Vec<f32> = attrs(obj, "Boundary")[0].split(' ').map(|v| v.parse().unwrap()).collect();
        let x: f32 = attrs(obj, "X")[0].parse().unwrap();
        let y: f32 = attrs(obj, "Y")[0].parse().unwrap();
        assert!(
            (b[0] + x - run.x).abs() < 0.002 && (b[1] + y - (297.0 - run.baseline)).abs() < 0.002,
            "{obj}"
        );
        assert_eq!(attrs(obj, "Size")[0].parse::<f32>().unwrap(), (run.size * 1000.0).round() / 1000.0);
        let deltas: Vec<f32> = attrs(obj, "DeltaX")
            .first()
            .map_or(vec![], |d| d.split(' ').map(|v| v.parse().unwrap()).collect());
        assert_eq!(deltas.len(), run.text.chars().count() - 1);
        for (c, d) in run.text.chars().zip(&deltas) {
            // Through the subset's own cmap and advances, as a reader maps it.
            let g = sub.glyph_index(c).unwrap_or_else(|| panic!("{c:?} not in the subset cmap"));
            let adv = f32::from(sub.glyph_hor_advance(g).unwrap()) / upem * run.size + run.spacing;
            assert!((adv - d).abs() < 0.0006, "{c:?}: {adv} vs {d}");
        }
        assert_eq!(obj.contains("Stroke=\"true\""), run.bold);
    }
}

#[test]
fn layout_errors_keep_their_codes() {
    let mut p = sample();
    p.fields[0].1 = "甲\u{E000}".into();
    let e = render(&p, &OfdOptions::default()).unwrap_err();
    assert_eq!(e.code(), "missing_glyph");
    let mut p = sample();
    p.title = " ".into();
    assert!(matches!(
        render(&p, &OfdOptions::default()),
        Err(OfdError::Layout(crate::layout::LayoutError::EmptyText("title")))
    ));
}

#[test]
fn every_path_lies_inside_its_boundary_on_the_page() {
    let out = render(&sample(), &OfdOptions::default()).unwrap();
    let content = text(&out.package, &out.page_path);
    let paths: Vec<&str> = content.split("<ofd:PathObject ").skip(1).collect();
    // Two frames, the corner squares, two rules under the title, the QR, the footer rule.
    assert_eq!(paths.len(), 7);
    for obj in paths {
        let b: Vec<f32> = attrs(obj, "Boundary")[0].split(' ').map(|v| v.parse().unwrap()).collect();
        assert!(b[0] >= 0.0 && b[1] >= 0.0 && b[0] + b[2] <= 210.0 && b[1] + b[3] <= 297.0, "{b:?}");
        let data = obj.split("<ofd:AbbreviatedData>").nth(1).unwrap().split('<').next().unwrap();
        let nums: Vec<f32> = data.split(' ').filter_map(|t| t.parse().ok()).collect();
        assert!(nums.len() >= 4 && nums.len().is_multiple_of(2), "{data}");
        for p in nums.chunks(2) {
            assert!(
                p[0] >= 0.0 && p[0] <= b[2] + 0.001 && p[1] >= 0.0 && p[1] <= b[3] + 0.001,
                "{p:?} outside {b:?}"
            );
        }
    }
}

//! Tests of the page layout, and the sample page other tests render.

use super::*;
use crate::layout::Item;

/// A realistic food business licence page.
pub(crate) fn sample() -> LicencePage {
    LicencePage {
        title: "食品经营许可证".into(),
        subtitle: Some("Food Business License".into()),
        holder_lines: vec![],
        fields: vec![
            ("经营者名称".into(), "上海浦江美食餐饮管理有限公司".into()),
            ("统一社会信用代码".into(), "91310115MA1H7ABC2X".into()),
            ("法定代表人".into(), "张伟".into()),
            ("住所".into(), "上海市浦东新区张江路123号1幢2层201室".into()),
            ("经营场所".into(), "上海市浦东新区张江路123号1幢2层201室".into()),
            ("主体业态".into(), "餐饮服务经营者（中型餐馆）".into()),
            (
                "经营项目".into(),
                "预包装食品（含冷藏冷冻食品）销售，散装食品（含冷藏冷冻食品）销售，热食类食品制售，冷食类食品制售，生食类食品制售，糕点类食品（含裱花蛋糕）制售，自制饮品制售（不含自酿酒）".into(),
            ),
            ("许可证编号".into(), "JY23101150012345".into()),
            ("有效期至".into(), "2031年11月21日".into()),
            ("日常监督管理机构".into(), "上海市浦东新区市场监督管理局张江市场监督管理所".into()),
            ("投诉举报电话".into(), "12315".into()),
        ],
        issuer: "上海市浦东新区市场监督管理局".into(),
        issue_date: "2026年11月22日".into(),
        identifier: "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
        identifier_caption: "电子证照标识".into(),
        qr_text: "https://zhengzhao.example.gov.cn/v/1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
        info: DocInfo {
            title: "食品经营许可证 JY23101150012345".into(),
            subject: "食品经营许可证".into(),
            author: "上海市浦东新区市场监督管理局".into(),
            keywords: None,
            creation_date: Some(time::macros::datetime!(2026-11-22 10:30:00 +08:00)),
            custom: vec![
                ("LicenceIdentifier".into(), "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into()),
                ("HolderName".into(), "上海浦江美食餐饮管理有限公司".into()),
            ],
        },
    }
}

#[test]
fn lays_out_the_sample_with_the_seal_rect_and_every_text() {
    let l = lay_out(&sample()).unwrap();
    assert_eq!(l.seal, RectMm { x: 127.0, y: 41.0, width: 42.0, height: 42.0 });
    assert_eq!((l.width, l.height), (210.0, 297.0));
    let texts: Vec<&str> = l
        .items
        .iter()
        .filter_map(|i| if let Item::Text(t) = i { Some(t.text.as_str()) } else { None })
        .collect();
    for want in [
        "食品经营许可证",
        "Food Business License",
        "经营者名称：",
        "12315",
        "扫码核验",
        "发证机关：",
        "2026年11月22日",
    ] {
        assert!(texts.contains(&want), "{want} missing from {texts:?}");
    }
    assert_eq!(l.items.iter().filter(|i| matches!(i, Item::Qr(_))).count(), 1);
    for item in &l.items {
        if let Item::Text(t) = item {
            let w: f32 = t.advances().unwrap().iter().sum::<f32>() - t.spacing;
            assert!(t.x >= 10.0 && t.x + w <= 200.0, "{:?} runs from {} to {}", t.text, t.x, t.x + w);
        }
    }
}

#[test]
fn rejects_bad_pages() {
    let mut p = sample();
    p.title = " ".into();
    assert_eq!(lay_out(&p), Err(LayoutError::EmptyText("title")));
    let mut p = sample();
    p.fields[0].1 = "甲\u{E000}".into();
    assert_eq!(lay_out(&p), Err(LayoutError::MissingGlyph('\u{E000}')));
    let mut p = sample();
    p.info.custom.push(("Title".into(), "x".into()));
    assert!(matches!(lay_out(&p), Err(LayoutError::BadMetadataKey(_))));
    let mut p = sample();
    p.fields = (0..40).map(|i| (format!("项目{i}"), "很长的内容".repeat(20))).collect();
    assert_eq!(lay_out(&p), Err(LayoutError::PageOverflow));
    let mut p = sample();
    p.qr_text = String::new();
    assert_eq!(lay_out(&p), Err(LayoutError::EmptyText("QR text")));
}

#[test]
fn the_longest_department_name_stays_inside_the_margin_at_the_date_size() {
    let longest = "演".repeat(crate::seal::MAX_DEPARTMENT_CHARS);
    for name in [longest.as_str(), "演示市市场监督管理局", "上海市浦东新区市场监督管理局张江市场监督管理所"]
    {
        let ((caption_end, caption_y), lines) = issuer_lines(name).unwrap();
        assert_eq!(lines.iter().map(|(_, l)| l.as_str()).collect::<String>(), name);
        for (y, line) in &lines {
            let w = width_pt(line, ISSUER_PT).unwrap() / PT_PER_MM;
            assert!(ISSUER_CX + w / 2.0 <= RIGHT + 0.01, "{line:?} ends at {}", ISSUER_CX + w / 2.0);
            assert!(*y > SEAL_CY - 5.5 && *y + 5.0 < BODY_FLOOR, "{line:?} at {y}");
        }
        let caption_start = caption_end - width_pt(CAPTION, CAPTION_PT).unwrap() / PT_PER_MM;
        assert!(caption_start > QR_BOX.0 + QR_BOX.2 + 2.0, "caption from {caption_start} overlaps the QR");
        assert!(caption_y + 4.0 < BODY_FLOOR);
    }
    assert_eq!(issuer_lines(&longest).unwrap().1.len(), 3);
    let mut p = sample();
    p.issuer = longest;
    lay_out(&p).unwrap();
}

#[test]
fn qr_modules_are_at_least_half_a_millimetre() {
    // The longest shipped URL today needs version 13; allow for a version-14 one.
    let url = format!("https://zz.example.gov.cn/v/{}", "A".repeat(480));
    let m = qr_module_mm(&url).unwrap();
    assert!(m >= 0.5, "{m} mm per module");
}

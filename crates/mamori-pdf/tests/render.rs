//! Renders whole documents and reads the PDFs back with lopdf: page count, text extraction
//! through the ToUnicode CMaps, embedded subset font, and inputs that must not break anything.

use mamori_pdf::{render, Block, Document, FONT_LICENSE};

const PHRASE: &str = "個人データの漏えい等が発生し";

fn long_paragraph() -> String {
    "当社が運営する会員向けウェブサイトのサーバに対し、第三者による不正アクセスが行われ、\
     個人データの漏えい等が発生し、又は発生したおそれがある事態が生じた。"
        .repeat(5)
}

fn three_page_document() -> Document {
    let mut blocks = vec![
        Block::Heading("1. 概要".into()),
        Block::Paragraph(long_paragraph()),
        Block::Fields(vec![
            ("報告者の名称".into(), "株式会社サンプル商事".into()),
            (
                "原因".into(),
                "電子商取引用ソフトウェアに既知の脆弱性が存在し、修正プログラムの適用が遅れていたことから、第三者が当該脆弱性を悪用した。"
                    .repeat(3),
            ),
        ]),
        Block::List(vec![
            "氏名、生年月日、性別".into(),
            "住所、電話番号、メールアドレス".into(),
            "購入履歴（商品名、購入日、金額）".into(),
        ]),
    ];
    for i in 2..=6 {
        blocks.push(Block::Heading(format!("{i}. 項目")));
        blocks.push(Block::Paragraph(long_paragraph()));
    }
    Document {
        title: "個人データの漏えい等の事態に関する報告書".into(),
        subtitle: Some("個人情報保護委員会 御中".into()),
        meta: vec![("提出日".into(), "2026年11月24日".into())],
        blocks,
        footer: Some("【訓練】".into()),
        watermark: Some("訓練".into()),
    }
}

fn load(bytes: &[u8]) -> lopdf::Document {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    lopdf::Document::load_mem(bytes).expect("lopdf parses the output")
}

/// All text of all pages, with whitespace removed (extraction inserts line breaks).
fn text_of(pdf: &lopdf::Document) -> String {
    let pages: Vec<u32> = pdf.get_pages().keys().copied().collect();
    pdf.extract_text(&pages)
        .expect("extract text")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[test]
fn three_pages_of_japanese_are_searchable() {
    let bytes = render(&three_page_document()).unwrap();
    let pdf = load(&bytes);
    assert_eq!(pdf.get_pages().len(), 3);
    let text = text_of(&pdf);
    assert!(text.contains(PHRASE), "extracted: {text}");
    assert!(text.contains("個人データの漏えい等の事態に関する報告書"));
    assert!(text.contains("提出日：2026年11月24日"));
    assert!(text.contains("購入履歴（商品名、購入日、金額）"));
    assert!(text.contains("【訓練】"));
    for n in 1..=3 {
        assert!(
            text.contains(&format!("{n}/3")),
            "page number {n}/3 in {text}"
        );
    }
    // The watermark is drawn as outlines: it does not pollute copied text.
    assert!(!text.contains("訓練訓練"));
}

#[test]
fn font_is_embedded_as_a_small_subset() {
    let bytes = render(&three_page_document()).unwrap();
    assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
    let pdf = load(&bytes);
    let mut cid_fonts = 0;
    let mut with_to_unicode = 0;
    for object in pdf.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        if dict.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"Type0") {
            cid_fonts += 1;
            let base = dict.get(b"BaseFont").unwrap().as_name().unwrap();
            // A subset tag: six capitals and a plus sign.
            assert_eq!(
                base.get(6),
                Some(&b'+'),
                "{}",
                String::from_utf8_lossy(base)
            );
            assert!(base.ends_with(b"IPAexGothic"));
            if dict.has(b"ToUnicode") {
                with_to_unicode += 1;
            }
        }
        if let Ok(descriptor) = object.as_dict() {
            if descriptor.has(b"FontFile2") {
                let stream = pdf
                    .get_object(
                        descriptor
                            .get(b"FontFile2")
                            .unwrap()
                            .as_reference()
                            .unwrap(),
                    )
                    .unwrap()
                    .as_stream()
                    .unwrap();
                assert!(stream.content.len() < 150_000, "{}", stream.content.len());
            }
        }
    }
    assert!(cid_fonts >= 1);
    assert_eq!(cid_fonts, with_to_unicode);
}

#[test]
fn rendering_is_deterministic() {
    let doc = three_page_document();
    assert_eq!(render(&doc).unwrap(), render(&doc).unwrap());
}

#[test]
fn empty_document_is_one_page() {
    let bytes = render(&Document::default()).unwrap();
    let pdf = load(&bytes);
    assert_eq!(pdf.get_pages().len(), 1);
    assert!(text_of(&pdf).contains("1/1"));
}

#[test]
fn very_long_unbroken_latin_string() {
    let long = "A".repeat(20_000);
    let doc = Document {
        title: long.clone(),
        meta: vec![(long.clone(), long.clone())],
        blocks: vec![
            Block::Paragraph(long.clone()),
            Block::Fields(vec![(long.clone(), long.clone())]),
            Block::List(vec![long.clone()]),
            Block::Heading(long.clone()),
        ],
        footer: Some(long.clone()),
        watermark: Some(long.clone()),
        ..Document::default()
    };
    let bytes = render(&doc).unwrap();
    let pdf = load(&bytes);
    assert!(pdf.get_pages().len() > 10);
}

#[test]
fn control_and_missing_characters_do_not_break_rendering() {
    let nasty = "制御\u{0}\u{1}\u{7}\u{1B}[31m文字\t\u{7F}\u{9F}|未収録\u{10FFFD}\u{E000}🦀|\
                 \u{FEFF}\u{200B}\u{200D}\u{202E}|結合\u{3099}\u{301}|異体字葛\u{E0100}|\r\n\u{2028}\u{85}";
    let doc = Document {
        title: nasty.into(),
        subtitle: Some(nasty.into()),
        meta: vec![(nasty.into(), nasty.into())],
        blocks: vec![
            Block::Heading(nasty.into()),
            Block::Paragraph(nasty.into()),
            Block::Fields(vec![
                (nasty.into(), nasty.into()),
                (String::new(), String::new()),
            ]),
            Block::List(vec![nasty.into(), String::new()]),
            Block::Spacer(f32::INFINITY),
            Block::Spacer(f32::NAN),
            Block::Heading(String::new()),
            Block::Paragraph(String::new()),
        ],
        footer: Some(nasty.into()),
        watermark: Some("\u{0}\n".into()),
    };
    let bytes = render(&doc).unwrap();
    let pdf = load(&bytes);
    let text = text_of(&pdf);
    assert!(text.contains("制御"), "{text}");
    assert!(text.contains("未収録"), "{text}");
}

#[test]
fn font_license_is_available() {
    assert!(FONT_LICENSE.contains("IPA Font License Agreement v1.0"));
}

#[test]
fn renders_from_several_threads() {
    let doc = three_page_document();
    let expected = render(&doc).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(|| render(&doc).unwrap())).collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), expected);
        }
    });
}

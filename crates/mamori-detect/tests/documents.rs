//! Documents a file share holds (issue 16): PDF text layers with Japanese CID fonts, office
//! documents with their slides, notes, headers and footers, legacy Word, mailboxes, Outlook
//! messages, and OCR of images and scanned pages.
//!
//! Files under tests/data were made by LibreOffice 7.4 from `memo.fodt` and `slides.fodp`
//! (`soffice --headless --convert-to docx|doc:"MS Word 97"|odt|pdf|pptx|odp`, with
//! fonts-ipaexfont installed; `memo-encrypted.pdf` with the PDF export's `EncryptFile` and an
//! open password). The OCR tests need `tesseract` with its Japanese model and poppler's
//! `pdftoppm` (Debian: tesseract-ocr tesseract-ocr-jpn poppler-utils).

use mamori_detect::{pdf, FileReport, Finding, KindSet, Place, Scanner, Status};
use mamori_pdf::{Block, Document};
use std::io::Write;
use std::path::PathBuf;

fn scan(name: &str, data: &[u8]) -> (Vec<Finding>, Vec<FileReport>) {
    let scanner = Scanner::new(KindSet::all());
    let mut found = Vec::new();
    let reports = scanner.scan_bytes(name, data, &mut |f| found.push(f.clone()));
    (found, reports)
}

type Row<'a> = (Option<Place>, u64, u64, &'a str, &'a str);

fn rows(found: &[Finding]) -> Vec<Row<'_>> {
    found
        .iter()
        .map(|f| (f.place, f.line, f.column, f.kind.as_str(), f.value.as_str()))
        .collect()
}

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn report_pdf() -> Vec<u8> {
    mamori_pdf::render(&Document {
        title: "面談記録".into(),
        blocks: vec![
            Block::Paragraph("相談者の氏名：山本浩二".into()),
            Block::Fields(vec![
                ("電話番号".into(), "090-1234-5678".into()),
                ("メール".into(), "koji.yamamoto@example.co.jp".into()),
            ]),
            Block::PageBreak,
            Block::Paragraph("生年月日：1979年4月12日".into()),
            Block::Paragraph("住所 〒150-0001 東京都渋谷区神宮前1-2-3".into()),
        ],
        ..Document::default()
    })
    .expect("mamori-pdf renders")
}

#[test]
fn pdf_with_cid_fonts_reads_japanese_with_page_numbers() {
    let bytes = report_pdf();
    let (pages, warnings) = pdf::read(&bytes, pdf::PdfLimits::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(pages.len(), 2);
    let page1 = pages[0].lines.join("\n");
    assert!(page1.contains("面談記録"), "{page1}");
    assert!(page1.contains("相談者の氏名：山本浩二"), "{page1}");
    let (found, reports) = scan("report.pdf", &bytes);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].status, Status::Scanned);
    assert_eq!(reports[0].format, "pdf");
    let got: Vec<(Option<Place>, &str, &str)> = found
        .iter()
        .map(|f| (f.place, f.kind.as_str(), f.value.as_str()))
        .collect();
    for want in [
        (Some(Place::Page(1)), "person_name", "山本浩二"),
        (Some(Place::Page(1)), "phone", "090-1234-5678"),
        (Some(Place::Page(1)), "email", "koji.yamamoto@example.co.jp"),
        (Some(Place::Page(2)), "birth_date", "1979年4月12日"),
        (Some(Place::Page(2)), "postal_code", "〒150-0001"),
    ] {
        assert!(got.contains(&want), "{want:?} in {got:?}");
    }
    // The line is the line on its page.
    let phone = found.iter().find(|f| f.value == "090-1234-5678").unwrap();
    assert!(pages[0].lines[phone.line as usize - 1].contains("090-1234-5678"));
}

#[test]
fn pdf_from_libreoffice_with_simple_and_cid_fonts() {
    let (found, reports) = scan("memo.pdf", &data("memo.pdf"));
    assert_eq!(reports[0].status, Status::Scanned, "{reports:?}");
    let p = Some(Place::Page(1));
    assert_eq!(
        rows(&found),
        vec![
            (p, 1, 5, "person_name", "山田太郎"),
            (p, 4, 4, "person_name", "佐藤花子"),
            (p, 5, 5, "phone", "090-1111-2222"),
            (p, 6, 5, "email", "hanako.sato@example.jp"),
            (p, 7, 6, "birth_date", "1985年3月5日"),
            (p, 9, 5, "phone", "03-1234-5678"),
        ]
    );
}

#[test]
fn encrypted_and_broken_pdfs_are_reported_not_read() {
    let (found, reports) = scan("secret.pdf", &data("memo-encrypted.pdf"));
    assert!(found.is_empty());
    assert_eq!(
        reports[0].status,
        Status::Skipped("not read: encrypted".to_owned())
    );
    let (_, reports) = scan("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog");
    assert!(
        matches!(&reports[0].status, Status::Failed(m) if m.starts_with("not a readable PDF")),
        "{reports:?}"
    );
    // A truncated real PDF: no panic, a status.
    let bytes = report_pdf();
    let (_, reports) = scan("cut.pdf", &bytes[..bytes.len() / 2]);
    assert_eq!(reports.len(), 1);
}

#[test]
fn docx_body_headers_and_footers_with_paragraph_numbers() {
    let (found, reports) = scan("memo.docx", &data("memo.docx"));
    assert_eq!(
        reports.len(),
        1,
        "one file, not one per member: {reports:?}"
    );
    assert_eq!(reports[0].status, Status::Scanned);
    assert_eq!(
        rows(&found),
        vec![
            (None, 3, 4, "person_name", "佐藤花子"),
            (None, 4, 4, "phone", "090-1111-2222"),
            (None, 5, 5, "email", "hanako.sato@example.jp"),
            (None, 7, 1, "birth_date", "1985年3月5日"),
            (Some(Place::Header(1)), 1, 5, "person_name", "山田太郎"),
            (Some(Place::Footer(1)), 1, 5, "phone", "03-1234-5678"),
        ]
    );
}

#[test]
fn odt_and_legacy_doc_read_like_docx() {
    let (found, reports) = scan("memo.odt", &data("memo.odt"));
    assert_eq!(reports.len(), 1, "{reports:?}");
    let odt = rows(&found);
    assert!(
        odt.contains(&(Some(Place::Header(1)), 1, 5, "person_name", "山田太郎")),
        "{odt:?}"
    );
    assert!(
        odt.contains(&(None, 3, 4, "person_name", "佐藤花子")),
        "{odt:?}"
    );
    assert!(
        odt.contains(&(None, 7, 1, "birth_date", "1985年3月5日")),
        "{odt:?}"
    );
    // .doc: no longer "not a readable spreadsheet"; the same places as the docx (the header
    // story divided by the PlcfHdd).
    let (found, reports) = scan("memo.doc", &data("memo.doc"));
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].format, "doc");
    assert_eq!(reports[0].status, Status::Scanned, "{reports:?}");
    let doc = rows(&found);
    let (docx, _) = scan("memo.docx", &data("memo.docx"));
    assert_eq!(doc, rows(&docx));
    // Found by name without a .doc extension too (the compound file is looked into).
    let (found, reports) = scan("memo", &data("memo.doc"));
    assert_eq!(reports[0].format, "doc");
    assert_eq!(found.len(), doc.len());
    // A damaged one is an error naming the problem.
    let mut cut = data("memo.doc");
    cut.truncate(3000);
    let (_, reports) = scan("cut.doc", &cut);
    assert!(
        matches!(reports[0].status, Status::Failed(_)),
        "{reports:?}"
    );
}

#[test]
fn pptx_and_odp_slides_and_notes() {
    for name in ["slides.pptx", "slides.odp"] {
        let (found, reports) = scan(name, &data(name));
        assert_eq!(reports.len(), 1, "{name}: one file: {reports:?}");
        assert_eq!(reports[0].status, Status::Scanned);
        assert_eq!(
            rows(&found),
            vec![
                (
                    Some(Place::Slide(2)),
                    3,
                    5,
                    "email",
                    "suzuki.ichiro@example.co.jp"
                ),
                (Some(Place::Notes(2)), 2, 4, "phone", "080-3333-4444"),
            ],
            "{name}"
        );
    }
    // A pptx inside a zip is still one file, named as a member.
    let zipped =
        mamori_detect::testdata::zip(&[("deck/slides.pptx".to_owned(), data("slides.pptx"))]);
    let (found, reports) = scan("share.zip", &zipped);
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[1].path, "share.zip!deck/slides.pptx");
    assert_eq!(found.len(), 2);
}

fn mbox() -> Vec<u8> {
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("氏名,電話\r\n鈴木一郎,03-5555-6666\r\n");
    let mut csv = String::new();
    {
        // base64 of the CSV, by hand: the test must not share the code under test.
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for chunk in sjis.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for k in 0..4 {
                if k <= chunk.len() {
                    csv.push(T[(n >> (18 - 6 * k) & 63) as usize] as char);
                } else {
                    csv.push('=');
                }
            }
        }
    }
    format!(
        "From sender@example.jp Mon Nov  2 10:00:00 2026\n\
         From: Taro <taro@example.co.jp>\n\
         Subject: hello\n\
         \n\
         first body line\n\
         >From the office: call 090-1111-2222\n\
         \n\
         From sender@example.jp Tue Nov  3 10:00:00 2026\n\
         From: support@example.jp\n\
         Subject: list\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"b\"\n\
         \n\
         --b\n\
         Content-Type: text/plain; charset=UTF-8\n\
         \n\
         担当：佐藤花子\n\
         --b\n\
         Content-Type: text/csv; charset=Shift_JIS; name=\"list.csv\"\n\
         Content-Disposition: attachment; filename=\"list.csv\"\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {csv}\n\
         --b--\n"
    )
    .into_bytes()
}

#[test]
fn mbox_messages_with_mailbox_lines_and_attachments() {
    let (found, reports) = scan("archive.mbox", &mbox());
    let paths: Vec<&str> = reports.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["archive.mbox!message 2!list.csv", "archive.mbox"]
    );
    assert!(
        reports.iter().all(|r| r.status == Status::Scanned),
        "{reports:?}"
    );
    let own: Vec<Row<'_>> = found
        .iter()
        .filter(|f| f.path == "archive.mbox")
        .map(|f| (f.place, f.line, f.column, f.kind.as_str(), f.value.as_str()))
        .collect();
    let m1 = Some(Place::Message(1));
    let m2 = Some(Place::Message(2));
    for want in [
        // Columns are those of the header as rendered ("From: Taro <taro@…>").
        (m1, 2, 13, "email", "taro@example.co.jp"),
        // ">From " is unquoted.
        (m1, 6, 23, "phone", "090-1111-2222"),
        (m2, 9, 9, "email", "support@example.jp"),
        (m2, 17, 4, "person_name", "佐藤花子"),
    ] {
        assert!(own.contains(&want), "{want:?} in {own:?}");
    }
    let att: Vec<(u64, &str)> = found
        .iter()
        .filter(|f| f.path.ends_with("list.csv"))
        .map(|f| (f.line, f.value.as_str()))
        .collect();
    assert_eq!(att, vec![(2, "鈴木一郎"), (2, "03-5555-6666")]);
    // Not an mbox: a clear failure, not findings from half a file.
    let (_, reports) = scan("notes.mbox", b"just some text\nFrom here on\n");
    assert!(
        matches!(&reports[0].status, Status::Failed(m) if m.contains("not an mbox")),
        "{reports:?}"
    );
}

/// An Outlook message written as MS-OXMSG lays it out: property streams named by tag and type,
/// a recipient storage and an attachment storage, in an OLE compound file made by `cfb`.
fn outlook_msg() -> Vec<u8> {
    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }
    let mut cf = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    let put = |cf: &mut cfb::CompoundFile<_>, path: &str, data: &[u8]| {
        cf.create_stream(path).unwrap().write_all(data).unwrap();
    };
    put(&mut cf, "/__properties_version1.0", &[0u8; 32]);
    put(
        &mut cf,
        "/__substg1.0_0037001F",
        &utf16("面談の件（山口様）"),
    );
    put(&mut cf, "/__substg1.0_0C1A001F", &utf16("山口 恵子"));
    put(
        &mut cf,
        "/__substg1.0_0C1F001F",
        &utf16("keiko.yamaguchi@example.jp"),
    );
    put(
        &mut cf,
        "/__substg1.0_1000001F",
        &utf16("お世話になります。\r\n連絡先：090-2222-3333\r\n"),
    );
    cf.create_storage("/__recip_version1.0_#00000000").unwrap();
    put(
        &mut cf,
        "/__recip_version1.0_#00000000/__properties_version1.0",
        &[0u8; 8],
    );
    put(
        &mut cf,
        "/__recip_version1.0_#00000000/__substg1.0_3001001F",
        &utf16("高橋 健"),
    );
    put(
        &mut cf,
        "/__recip_version1.0_#00000000/__substg1.0_39FE001F",
        &utf16("ken.takahashi@example.co.jp"),
    );
    cf.create_storage("/__attach_version1.0_#00000000").unwrap();
    put(
        &mut cf,
        "/__attach_version1.0_#00000000/__properties_version1.0",
        &[0u8; 8],
    );
    put(
        &mut cf,
        "/__attach_version1.0_#00000000/__substg1.0_3707001F",
        &utf16("名簿.csv"),
    );
    put(
        &mut cf,
        "/__attach_version1.0_#00000000/__substg1.0_37010102",
        "氏名,電話\n中村優子,045-111-2222\n".as_bytes(),
    );
    // A forwarded mail attached as a message.
    let fwd = "/__attach_version1.0_#00000001";
    cf.create_storage(fwd).unwrap();
    put(
        &mut cf,
        &format!("{fwd}/__properties_version1.0"),
        &[0u8; 8],
    );
    put(
        &mut cf,
        &format!("{fwd}/__substg1.0_3707001F"),
        &utf16("転送.msg"),
    );
    let inner = format!("{fwd}/__substg1.0_3701000D");
    cf.create_storage(&inner).unwrap();
    put(
        &mut cf,
        &format!("{inner}/__properties_version1.0"),
        &[0u8; 24],
    );
    put(
        &mut cf,
        &format!("{inner}/__substg1.0_0037001F"),
        &utf16("Fw: 申込"),
    );
    put(
        &mut cf,
        &format!("{inner}/__substg1.0_1000001F"),
        &utf16("電話 03-9999-8888"),
    );
    cf.flush().unwrap();
    cf.into_inner().into_inner()
}

#[test]
fn outlook_msg_subject_body_recipients_and_attachments() {
    let bytes = outlook_msg();
    let (found, reports) = scan("inquiry.msg", &bytes);
    let paths: Vec<(&str, &str)> = reports
        .iter()
        .map(|r| (r.path.as_str(), r.format))
        .collect();
    assert_eq!(
        paths,
        vec![("inquiry.msg", "msg"), ("inquiry.msg!名簿.csv", "csv")]
    );
    let got: Vec<(&str, u64, &str, &str)> = found
        .iter()
        .map(|f| (f.path.as_str(), f.line, f.kind.as_str(), f.value.as_str()))
        .collect();
    for want in [
        ("inquiry.msg", 2, "person_name", "山口 恵子"),
        ("inquiry.msg", 3, "email", "keiko.yamaguchi@example.jp"),
        ("inquiry.msg", 4, "email", "ken.takahashi@example.co.jp"),
        ("inquiry.msg", 6, "phone", "090-2222-3333"),
        // The attached message's text follows the message's own.
        ("inquiry.msg", 9, "phone", "03-9999-8888"),
        ("inquiry.msg!名簿.csv", 2, "person_name", "中村優子"),
        ("inquiry.msg!名簿.csv", 2, "phone", "045-111-2222"),
    ] {
        assert!(got.contains(&want), "{want:?} in {got:?}");
    }
    // Disguised (no extension): the compound file says what it is.
    let (_, reports) = scan("attachment.bin", &bytes);
    assert_eq!(reports[0].format, "msg");
    // Not an Outlook message.
    let (_, reports) = scan("x.msg", b"plain text, not OLE");
    assert!(
        matches!(reports[0].status, Status::Failed(_)),
        "{reports:?}"
    );
}

/// Runs a command, panicking with a message that says what to install when it is missing.
fn tool(cmd: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = std::process::Command::new(cmd)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{cmd}: {e} (install tesseract-ocr tesseract-ocr-jpn poppler-utils)")
        });
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let w = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    w.join().unwrap().unwrap();
    assert!(out.status.success(), "{cmd} failed");
    out.stdout
}

fn fax_pdf() -> Vec<u8> {
    mamori_pdf::render(&Document {
        title: "申込書".into(),
        blocks: vec![Block::Fields(vec![
            ("電話番号".into(), "090-1234-5678".into()),
            ("メール".into(), "hanako@example.jp".into()),
        ])],
        ..Document::default()
    })
    .unwrap()
}

/// A PDF whose only page is a scanned image (a JPEG, as a scanner writes it): no text layer.
fn image_only_pdf(jpeg: &[u8]) -> Vec<u8> {
    use lopdf::{dictionary, Object, Stream};
    // Width and height from the JPEG's SOF0 marker.
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0] || w == [0xFF, 0xC2])
        .expect("a JPEG frame header");
    let h = i64::from(u16::from_be_bytes([jpeg[sof + 5], jpeg[sof + 6]]));
    let w = i64::from(u16::from_be_bytes([jpeg[sof + 7], jpeg[sof + 8]]));
    let components = jpeg[sof + 9];
    let mut doc = lopdf::Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => w, "Height" => h,
            "ColorSpace" => if components == 1 { "DeviceGray" } else { "DeviceRGB" },
            "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        jpeg.to_vec(),
    );
    let image_id = doc.add_object(image);
    let content = b"q 595 0 0 842 0 0 cm /Im1 Do Q".to_vec();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn images_and_scanned_pages_are_read_by_ocr() {
    let pdf = fax_pdf();
    let png = tool("pdftoppm", &["-r", "200", "-png", "-"], &pdf);
    let (found, reports) = scan("fax.png", &png);
    assert_eq!(reports[0].status, Status::Scanned, "{reports:?}");
    assert_eq!(reports[0].encoding, Some("OCR"));
    let got: Vec<(&str, &str)> = found
        .iter()
        .map(|f| (f.kind.as_str(), f.value.as_str()))
        .collect();
    assert!(got.contains(&("phone", "090-1234-5678")), "{got:?}");
    assert!(got.contains(&("email", "hanako@example.jp")), "{got:?}");

    let jpeg = tool("pdftoppm", &["-r", "200", "-jpeg", "-gray", "-"], &pdf);
    let scanned = image_only_pdf(&jpeg);
    let (pages, _) = pdf::read(&scanned, pdf::PdfLimits::default()).unwrap();
    assert!(pages[0].is_image_only());
    let (found, reports) = scan("scanned.pdf", &scanned);
    assert_eq!(reports[0].status, Status::Scanned, "{reports:?}");
    assert!(
        reports[0].warnings.iter().any(|w| w.contains("OCR")),
        "{:?}",
        reports[0].warnings
    );
    let phone = found.iter().find(|f| f.value == "090-1234-5678");
    assert_eq!(
        phone.map(|f| f.place),
        Some(Some(Place::Page(1))),
        "{found:?}"
    );
}

#[test]
fn without_ocr_images_are_reported_not_read_never_clean() {
    // The OCR is pointed at a binary that does not exist, in a child process of the scanner's
    // own front end (the variable is read there, not set in this process).
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-ocr");
    std::fs::create_dir_all(&dir).unwrap();
    // A minimal valid PNG header is enough: the file is never decoded without OCR.
    std::fs::write(
        dir.join("fax.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\0\0\0\0",
    )
    .unwrap();
    std::fs::write(dir.join("scan.pdf"), image_only_pdf(&tiny_jpeg())).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mamori-detect-scan"))
        .env("MAMORI_TESSERACT", "/nonexistent/tesseract")
        .args(["--summary", "--threads", "1"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "no findings");
    let err = String::from_utf8_lossy(&out.stderr);
    for f in ["fax.png", "scan.pdf"] {
        assert!(
            err.lines().any(|l| l.starts_with("skipped:")
                && l.contains(f)
                && l.ends_with("not read: image only (OCR not installed)")),
            "{f}: {err}"
        );
    }
    assert!(err.contains("0 files scanned, 2 skipped"), "{err}");
}

/// The smallest baseline JPEG header lopdf needs (SOF0 with a size); never decoded here.
fn tiny_jpeg() -> Vec<u8> {
    vec![
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x10, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00,
        0xFF, 0xD9,
    ]
}

#[test]
fn jsonl_and_json_carry_the_slide_page_or_message() {
    use mamori_detect::runner::{self, OutputFormat, RunOptions};
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("places");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("slides.pptx"), data("slides.pptx")).unwrap();
    std::fs::write(dir.join("report.pdf"), report_pdf()).unwrap();
    // No extension, a "From " line first: a mailbox (Thunderbird's "Inbox").
    std::fs::write(dir.join("Inbox"), mbox()).unwrap();
    let mut opts = RunOptions {
        paths: vec![dir.clone()],
        format: OutputFormat::Jsonl,
        kinds: KindSet::all(),
        reveal: false,
        threads: 1,
        include: Vec::new(),
        exclude: Vec::new(),
        progress: false,
        summary: false,
        limits: mamori_detect::Limits::default(),
        prose: true,
    };
    let mut out = Vec::new();
    runner::run(&opts, &mut out, &mut Vec::new()).unwrap();
    let text = String::from_utf8(out).unwrap();
    let line_of = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {text}"))
            .to_owned()
    };
    let slide = line_of("\"slide\":");
    assert!(
        slide.contains(",\"line\":3,\"column\":5,\"slide\":2,\"kind\":\"email\""),
        "{slide}"
    );
    assert!(line_of("\"notes\":2").contains("\"kind\":\"phone\""));
    assert!(line_of("report.pdf").contains("\"page\":"));
    assert!(line_of("\"message\":2").contains("Inbox"));
    // Plain files carry none of the keys.
    assert!(!line_of("list.csv").contains("\"message\""));
    opts.format = OutputFormat::Json;
    let mut out = Vec::new();
    runner::run(&opts, &mut out, &mut Vec::new()).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .any(|f| f["slide"] == 2 && f["kind"] == "email" && f["line"] == 3));
    assert!(findings.iter().any(|f| f["notes"] == 2));
    assert!(findings.iter().all(|f| f.get("sheet").is_none()));
}

#[test]
fn encrypted_office_documents_are_reported_not_read() {
    // A password-protected docx/pptx is an OLE file with an EncryptedPackage stream.
    let mut cf = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    cf.create_stream("/EncryptionInfo")
        .unwrap()
        .write_all(&[4, 0, 4, 0])
        .unwrap();
    cf.create_stream("/EncryptedPackage")
        .unwrap()
        .write_all(&[0u8; 64])
        .unwrap();
    cf.flush().unwrap();
    let bytes = cf.into_inner().into_inner();
    for name in ["locked.docx", "locked.pptx", "locked.xlsx"] {
        let (found, reports) = scan(name, &bytes);
        assert!(found.is_empty());
        assert_eq!(
            reports[0].status,
            Status::Skipped("not read: encrypted".to_owned()),
            "{name}"
        );
    }
    // A pptx that is not a zip at all, and one whose package lacks the presentation.
    let (_, reports) = scan("x.pptx", b"PK\x03\x04 broken");
    assert!(
        matches!(&reports[0].status, Status::Failed(m) if m.contains("pptx")),
        "{reports:?}"
    );
    let empty = mamori_detect::testdata::zip(&[("a.txt".to_owned(), b"hello".to_vec())]);
    let (_, reports) = scan("x.pptx", &empty);
    assert!(
        matches!(&reports[0].status, Status::Failed(m) if m.contains("presentation.xml")),
        "{reports:?}"
    );
}

#[test]
fn office_packages_that_expand_too_far_are_not_read() {
    // A slide that decompresses past the member limit: not read, with the reason, no panic.
    let mut big = String::from("<p:sld><a:p><a:t>");
    big.push_str(&"あ".repeat(400_000));
    big.push_str("</a:t></a:p></p:sld>");
    let deck = mamori_detect::testdata::zip(&[
        (
            "ppt/presentation.xml".to_owned(),
            b"<p:presentation/>".to_vec(),
        ),
        ("ppt/slides/slide1.xml".to_owned(), big.into_bytes()),
    ]);
    let mut scanner = Scanner::new(KindSet::all());
    scanner.limits.max_in_memory = 1 << 20;
    let mut found = Vec::new();
    let reports = scanner.scan_bytes("big.pptx", &deck, &mut |f| found.push(f.clone()));
    assert!(
        matches!(&reports[0].status, Status::Skipped(m) if m.contains("larger than 1 MiB")),
        "{reports:?}"
    );
}

#[test]
fn damaged_documents_never_panic() {
    // Cut and flipped copies of every document: each gets a report, whatever the damage.
    let mut files: Vec<(&str, Vec<u8>)> = [
        "memo.pdf",
        "memo.doc",
        "memo.docx",
        "memo.odt",
        "slides.pptx",
        "slides.odp",
    ]
    .iter()
    .map(|n| (*n, data(n)))
    .collect();
    files.push(("report.pdf", report_pdf()));
    files.push(("inquiry.msg", outlook_msg()));
    files.push(("archive.mbox", mbox()));
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let scanner = Scanner::new(KindSet::all());
    for (name, bytes) in &files {
        for round in 0..24 {
            let mut b = bytes.clone();
            if round % 2 == 0 {
                b.truncate((next() % b.len() as u64) as usize);
            } else {
                for _ in 0..=(next() % 8) {
                    let at = (next() % b.len() as u64) as usize;
                    b[at] ^= (next() % 255 + 1) as u8;
                }
            }
            let reports = scanner.scan_bytes(name, &b, &mut |_| {});
            assert!(!reports.is_empty(), "{name} round {round}");
        }
    }
}

#[test]
fn ocr_can_be_turned_off_and_then_images_are_not_read() {
    let mut scanner = Scanner::new(KindSet::all());
    scanner.limits.ocr = false;
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    for (name, bytes) in [
        ("scan.pdf", image_only_pdf(&tiny_jpeg())),
        ("fax.gif", gif.to_vec()),
        ("fax", gif.to_vec()),
    ] {
        let reports = scanner.scan_bytes(name, &bytes, &mut |_| {});
        assert_eq!(
            reports[0].status,
            Status::Skipped("not read: image only (OCR off)".to_owned()),
            "{name}"
        );
    }
    // A PDF with text is read as before.
    let mut found = 0;
    scanner.scan_bytes("report.pdf", &report_pdf(), &mut |_| found += 1);
    assert!(found >= 5);
}

/// A page whose text is in a form XObject that also shows itself, and a chain of forms each
/// showing the next one 1,000 times (10^15 operators if followed naively).
fn forms_pdf() -> Vec<u8> {
    use lopdf::{dictionary, Object, Stream};
    let mut doc = lopdf::Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let mut next: Option<lopdf::ObjectId> = None;
    for _ in 0..5 {
        let content = match next {
            Some(_) => "/N Do ".repeat(1000).into_bytes(),
            None => b"0 0 m".to_vec(),
        };
        let mut dict = dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 10.into(), 10.into()] };
        if let Some(n) = next {
            dict.set(
                "Resources",
                dictionary! { "XObject" => dictionary! { "N" => n } },
            );
        }
        next = Some(doc.add_object(Stream::new(dict, content)));
    }
    let text_form = doc.new_object_id();
    let form = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => dictionary! {
                "Font" => dictionary! { "F1" => font },
                "XObject" => dictionary! { "Self" => text_form, "Chain" => next.unwrap() },
            },
        },
        b"BT /F1 12 Tf 72 700 Td (Tel 090-1234-5678) Tj ET /Self Do /Chain Do".to_vec(),
    );
    doc.objects.insert(text_form, Object::Stream(form));
    let content_id = doc.add_object(Stream::new(dictionary! {}, b"/X1 Do".to_vec()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "X1" => text_form } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn pdf_forms_are_read_once_and_bounded() {
    let limits = pdf::PdfLimits {
        max_ops: 200_000,
        ..pdf::PdfLimits::default()
    };
    let started = std::time::Instant::now();
    let (pages, warnings) = pdf::read(&forms_pdf(), limits).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(pages[0].lines, vec!["Tel 090-1234-5678".to_owned()]);
    assert_eq!(
        warnings,
        vec!["page 1: more than 200000 content operators; the rest of the page is not read"]
    );
}

/// The documents fuzz target's corpus (and the test documents it starts from) through what the
/// target runs, so the seeds and any regression inputs stay covered without cargo-fuzz.
#[test]
fn documents_fuzz_corpus_replay() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut scanner = Scanner::new(KindSet::all());
    scanner.limits.max_expanded = 8 << 20;
    scanner.limits.max_in_memory = 4 << 20;
    scanner.limits.ocr = false;
    let mut files = 0;
    for dir in ["fuzz/corpus/documents", "tests/data"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            for name in [
                "f.pdf", "f.pptx", "f.docx", "f.odt", "f.doc", "f.msg", "f.mbox",
            ] {
                scanner.scan_bytes(name, &data, &mut |f| {
                    assert!(!f.value.is_empty() && f.line >= 1 && f.column >= 1);
                });
            }
            files += 1;
        }
    }
    assert!(files >= 10, "{files}");
}

#[test]
fn documents_without_a_known_name_inside_archives_are_recognised() {
    let zipped = mamori_detect::testdata::zip(&[
        ("scans/0001".to_owned(), report_pdf()),
        ("mail/0002".to_owned(), outlook_msg()),
    ]);
    let (found, reports) = scan("share.zip", &zipped);
    let formats: Vec<(&str, &str)> = reports
        .iter()
        .map(|r| (r.path.as_str(), r.format))
        .collect();
    assert!(
        formats.contains(&("share.zip!scans/0001", "pdf")),
        "{formats:?}"
    );
    assert!(
        formats.contains(&("share.zip!mail/0002", "msg")),
        "{formats:?}"
    );
    assert!(found
        .iter()
        .any(|f| f.path == "share.zip!scans/0001" && f.value == "山本浩二"));
    assert!(found
        .iter()
        .any(|f| f.path == "share.zip!mail/0002!名簿.csv"));
}

/// One page showing `content` with Helvetica (WinAnsi) as /F1.
fn one_page_pdf(content: &[u8]) -> Vec<u8> {
    use lopdf::{dictionary, Object, Stream};
    let mut doc = lopdf::Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn pdf_actual_text_replaces_the_glyphs_and_lines_follow_the_baseline() {
    // "山田" as /ActualText over two glyphs that say something else; a second line below; two
    // runs on one baseline with a gap between them; a move left on the same baseline.
    let content = b"BT /F1 12 Tf 72 700 Td /Span <</ActualText <FEFF5C717530>>> BDC (xx) Tj EMC \
        (\\(Tel\\)) Tj 0 -20 Td (090-1234-) Tj 0 -20 Td [(a) -100 (b) -600 (c)] Tj 200 0 Td (right) Tj \
        -150 0 Td (left) Tj ET";
    let (pages, warnings) = pdf::read(&one_page_pdf(content), pdf::PdfLimits::default()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        pages[0].lines,
        vec!["山田(Tel)", "090-1234-", "ab c right left"]
    );
}

#[test]
fn pdf_vertical_writing_reads_columns_as_lines() {
    use lopdf::{dictionary, Object, Stream};
    // A CID font with Identity-V: 山 田 太 郎 down one column, 090… down the next, to its left.
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
1 begincodespacerange <0000> <FFFF> endcodespacerange
4 beginbfchar <0001> <5C71> <0002> <7530> <0003> <592A> <0004> <90CE> endbfchar
1 beginbfrange <0010> <0019> <0030> endbfrange
1 beginbfchar <001A> <002D> endbfchar
endcmap end end";
    let mut doc = lopdf::Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, cmap.to_vec()));
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "IPAexMincho", "Encoding" => "Identity-V",
        "ToUnicode" => to_unicode,
    });
    let mut content =
        b"BT /F1 12 Tf 1 0 0 1 500 800 Tm <0001> Tj 0 -12 Td <0002> Tj 0 -12 Td <00030004> Tj"
            .to_vec();
    // The next column, 20 pt to the left: "090-1234-5678" as one string.
    content.extend_from_slice(
        b" 1 0 0 1 480 800 Tm <001000190010001A0011001200130014001A0015001600170018> Tj ET",
    );
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    let (pages, _) = pdf::read(&bytes, pdf::PdfLimits::default()).unwrap();
    assert_eq!(pages[0].lines, vec!["山田太郎", "090-1234-5678"]);
}

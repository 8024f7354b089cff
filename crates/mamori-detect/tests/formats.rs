//! Formats, limits and the runner, end to end through the public API.

use mamori_detect::runner::{self, OutputFormat, RunError, RunOptions};
use mamori_detect::sheets::{self, SheetError, SheetLimits, TooLarge};
use mamori_detect::testdata::{ods, xls_numbers, xls_records, xlsx, xlsx_cells, xlsx_sheet, zip};
use mamori_detect::{FileReport, Finding, KindSet, Limits, Scanner, Status};

fn scan_with(scanner: &Scanner, name: &str, data: &[u8]) -> (Vec<Finding>, Vec<FileReport>) {
    let mut found = Vec::new();
    let reports = scanner.scan_bytes(name, data, &mut |f| found.push(f.clone()));
    (found, reports)
}

fn scan(name: &str, data: &[u8]) -> (Vec<Finding>, Vec<FileReport>) {
    scan_with(&Scanner::new(KindSet::all()), name, data)
}

fn kinds(found: &[Finding]) -> Vec<(u64, &str, &str)> {
    found
        .iter()
        .map(|f| (f.line, f.kind.as_str(), f.value.as_str()))
        .collect()
}

#[test]
fn docx_paragraphs_become_lines() {
    let doc = r#"<?xml version="1.0"?><w:document xmlns:w="x"><w:body><w:p><w:r><w:t>報告書</w:t></w:r></w:p><w:p><w:r><w:t>担当：</w:t></w:r><w:r><w:t>山田</w:t></w:r><w:r><w:t>太郎</w:t></w:r></w:p><w:p><w:r><w:t>電話 090-1234-5678</w:t></w:r></w:p></w:body></w:document>"#;
    let data = zip(&[("word/document.xml".to_owned(), doc.as_bytes().to_vec())]);
    let (found, reports) = scan("report.docx", &data);
    assert_eq!(reports[0].status, Status::Scanned, "{reports:?}");
    assert_eq!(
        kinds(&found),
        vec![
            (2, "person_name", "山田太郎"),
            (3, "phone", "090-1234-5678")
        ]
    );
}

#[test]
fn xlsx_rows_with_sheet_and_header_columns() {
    let rows = vec![
        vec!["氏名".to_owned(), "電話".to_owned()],
        vec!["佐藤 花子".to_owned(), "03-1234-5678".to_owned()],
        vec!["John Smith".to_owned(), "09012345678".to_owned()],
    ];
    let (found, _) = scan("list.xlsx", &xlsx(&rows));
    let got: Vec<(u64, u64, Option<&str>, &str)> = found
        .iter()
        .map(|f| (f.line, f.column, f.sheet.as_deref(), f.kind.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, 1, Some("会員"), "person_name"),
            (2, 2, Some("会員"), "phone"),
            (3, 1, Some("会員"), "person_name"),
            (3, 2, Some("会員"), "phone")
        ]
    );
}

#[test]
fn eml_headers_bodies_and_attachments() {
    let (body, _, _) =
        encoding_rs::ISO_2022_JP.encode("お世話になります。\r\n電話番号：03-1111-2222\r\n");
    let mut mail = Vec::new();
    mail.extend_from_slice(b"From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@example.co.jp>\r\nTo: support@example.jp\r\nSubject: test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
    mail.extend_from_slice(&body);
    mail.extend_from_slice(b"\r\n--b\r\nContent-Type: text/csv; name=\"list.csv\"\r\nContent-Disposition: attachment; filename=\"list.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    // "氏名,メール\n鈴木一郎,ichiro@example.jp\n"
    mail.extend_from_slice(
        b"5rCP5ZCNLOODoeODvOODqwrpiLTmnKjkuIDpg44saWNoaXJvQGV4YW1wbGUuanAK\r\n--b--\r\n",
    );
    let (found, reports) = scan("mail.eml", &mail);
    let got = kinds(&found);
    assert!(got.contains(&(1, "person_name", "山田 太郎")), "{got:?}");
    assert!(got.contains(&(1, "email", "taro@example.co.jp")), "{got:?}");
    assert!(got.contains(&(2, "email", "support@example.jp")), "{got:?}");
    assert!(
        found.iter().any(|f| f.kind.as_str() == "phone"
            && f.value == "03-1111-2222"
            && f.encoding == "ISO-2022-JP"),
        "{got:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.path == "mail.eml!list.csv" && f.kind.as_str() == "email"),
        "{got:?}"
    );
    assert!(
        reports.iter().all(|r| r.status == Status::Scanned),
        "{reports:?}"
    );
}

#[test]
fn html_and_json_documents() {
    let html = "<html><body>\n<table><tr><td>氏名</td><td>山田太郎様</td></tr>\n<tr><td>TEL</td><td>03-1234-5678</td></tr></table>\n<script>var x='090-0000-0000';</script></body></html>\n";
    let (found, _) = scan("page.html", html.as_bytes());
    assert_eq!(
        kinds(&found),
        vec![(2, "person_name", "山田太郎"), (3, "phone", "03-1234-5678")]
    );
    let json = "{\n  \"customer\": {\n    \"name\": \"\\u5c71\\u7530\\u592a\\u90ce\",\n    \"email\": \"taro@example.jp\"\n  }\n}\n";
    let (found, _) = scan("export.json", json.as_bytes());
    assert_eq!(
        kinds(&found),
        vec![
            (3, "person_name", "山田太郎"),
            (4, "email", "taro@example.jp")
        ]
    );
}

#[test]
fn zip_bombs_and_deep_nesting_are_bounded() {
    let mut scanner = Scanner::new(KindSet::all());
    scanner.limits = Limits {
        max_expanded: 4 << 20,
        ..Limits::default()
    };
    // 32 MiB of zeros-like text compresses to a few KiB.
    let bomb = zip(&[
        ("huge.txt".to_owned(), vec![b'a'; 32 << 20]),
        ("after.txt".to_owned(), b"090-1234-5678\n".to_vec()),
    ]);
    assert!(bomb.len() < 1 << 20);
    let (_, reports) = scan_with(&scanner, "bomb.zip", &bomb);
    let text = format!("{reports:?}");
    assert!(text.contains("limit"), "{text}");
    // Nested five deep: the inner levels past the depth limit are skipped with a message.
    let mut data = zip(&[("x.txt".to_owned(), b"090-1234-5678\n".to_vec())]);
    for i in 0..5 {
        data = zip(&[(format!("level{i}.zip"), data)]);
    }
    let (found, reports) = scan("deep.zip", &data);
    assert!(found.is_empty());
    assert!(
        reports
            .iter()
            .any(|r| matches!(&r.status, Status::Skipped(m) if m.contains("deeper"))),
        "{reports:?}"
    );
    let shallow = zip(&[(
        "a.zip".to_owned(),
        zip(&[("x.txt".to_owned(), b"090-1234-5678\n".to_vec())]),
    )]);
    let (found, _) = scan("ok.zip", &shallow);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "ok.zip!a.zip!x.txt");
}

#[test]
fn malformed_files_give_a_message_and_the_scan_goes_on() {
    let good = zip(&[("x.csv".to_owned(), b"tel\n090-1234-5678\n".to_vec())]);
    let (_, r) = scan("cut.zip", &good[..good.len() / 2]);
    assert!(
        matches!(&r[0].status, Status::Failed(m) if m.contains("zip")),
        "{r:?}"
    );
    let (_, r) = scan("broken.xlsx", &good);
    assert!(
        matches!(&r[0].status, Status::Failed(m) if m.contains("spreadsheet")),
        "{r:?}"
    );
    let mut bad_utf8 = "氏名：山田太郎\n".repeat(50).into_bytes();
    bad_utf8.extend_from_slice(b"\xFF\xFE broken \xC3\n090-1234-5678\n");
    // A "CSV" with no line break is refused past the record limit, not read into memory.
    let mut scanner = Scanner::new(KindSet::all());
    scanner.limits.max_record = 1 << 20;
    let one_line = "090-1234-5678,".repeat(200_000);
    let (_, r) = scan_with(&scanner, "one-line.csv", one_line.as_bytes());
    assert!(
        matches!(&r[0].status, Status::Failed(m) if m.contains("line break")),
        "{r:?}"
    );
    let (found, r) = scan("claims-utf8.txt", &bad_utf8);
    assert_eq!(r[0].encoding, Some("UTF-8"));
    assert!(r[0].warnings.iter().any(|w| w.contains("UTF-8")), "{r:?}");
    assert!(found.iter().any(|f| f.kind.as_str() == "phone"));
}

fn opts(paths: Vec<std::path::PathBuf>, format: OutputFormat) -> RunOptions {
    RunOptions {
        paths,
        format,
        kinds: KindSet::all(),
        reveal: false,
        threads: 2,
        include: Vec::new(),
        exclude: Vec::new(),
        progress: false,
        summary: false,
        limits: Limits::default(),
        prose: true,
    }
}

#[test]
fn runner_formats_globs_and_errors() {
    let dir = std::env::temp_dir().join(format!("mamori-detect-runner-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("skip")).unwrap();
    std::fs::write(dir.join("a.csv"), "氏名,電話\n山田 太郎,090-1234-5678\n").unwrap();
    std::fs::write(dir.join("b.txt"), "mail: hanako@example.jp\n").unwrap();
    std::fs::write(dir.join("skip/c.txt"), "tel 03-1234-5678\n").unwrap();
    std::fs::write(dir.join("d.png"), b"\x89PNG\r\n\x1a\n\0\0").unwrap();

    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut o = opts(vec![dir.clone()], OutputFormat::Json);
    o.exclude = vec!["skip".to_owned()];
    let summary = runner::run(&o, &mut out, &mut err).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON document");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 3, "{doc}");
    assert_eq!(doc["summary"]["files_skipped"], 1);
    assert_eq!(summary.count(|r| r.status == Status::Scanned), 2);

    let mut out = Vec::new();
    let mut o = opts(vec![dir.clone()], OutputFormat::Jsonl);
    o.include = vec!["*.csv".to_owned()];
    runner::run(&o, &mut out, &mut err).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // The contract's key order.
    let first = text.lines().next().unwrap();
    let pos: Vec<usize> = [
        "\"path\"",
        "\"line\"",
        "\"column\"",
        "\"kind\"",
        "\"masked\"",
        "\"encoding\"",
    ]
    .iter()
    .map(|k| first.find(k).unwrap())
    .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{first}");
    assert!(lines[0]["path"].as_str().unwrap().ends_with("a.csv"));

    let mut out = Vec::new();
    let mut o = opts(vec![dir.join("b.txt")], OutputFormat::Csv);
    o.reveal = true;
    runner::run(&o, &mut out, &mut err).unwrap();
    let csv = String::from_utf8(out).unwrap();
    assert!(
        csv.starts_with("path,line,column,sheet,kind,masked,encoding,value\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains(",email,h*****@example.jp,UTF-8,hanako@example.jp"),
        "{csv}"
    );

    let mut out = Vec::new();
    runner::run(
        &opts(vec![dir.clone()], OutputFormat::Table),
        &mut out,
        &mut err,
    )
    .unwrap();
    let table = String::from_utf8(out).unwrap();
    assert!(
        table.contains("skipped:") && table.contains("TOTAL"),
        "{table}"
    );

    // A missing path is not read and said so; the run still runs (exit 0), see tests/share.rs.
    let missing = runner::run(
        &opts(vec![dir.join("nope")], OutputFormat::Jsonl),
        &mut Vec::new(),
        &mut err,
    )
    .unwrap();
    assert!(
        matches!(&missing.files[0].status, Status::Failed(m) if m.starts_with("not read: ")),
        "{:?}",
        missing.files
    );
    let mut o = opts(vec![dir.clone()], OutputFormat::Jsonl);
    o.include = vec!["[".to_owned()];
    assert!(matches!(
        runner::run(&o, &mut Vec::new(), &mut err),
        Err(RunError::BadArgs(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rows of a workbook as `read_sheets` gives them, or why it refused.
fn sheet_rows(
    data: &[u8],
    limits: &SheetLimits,
) -> Result<Vec<(String, Vec<sheets::Row>)>, SheetError> {
    let mut out = Vec::new();
    sheets::read_sheets(data, limits, |name, rows| out.push((name.to_owned(), rows)))?;
    Ok(out)
}

#[test]
fn a_cell_at_xfd1048576_streams_instead_of_allocating_the_rectangle() {
    // Issue 12, item 8: 1.5 KB that made calamine ask for 17 billion cells (549 GB) and abort.
    let bomb = xlsx_cells(&[("A1", "電話"), ("XFD1048576", "090-1234-5678")]);
    assert!(bomb.len() < 2048, "{}", bomb.len());
    let started = std::time::Instant::now();
    let (found, reports) = scan("bomb.xlsx", &bomb);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(reports[0].status, Status::Scanned, "{reports:?}");
    let got: Vec<(u64, u64, &str)> = found
        .iter()
        .map(|f| (f.line, f.column, f.kind.as_str()))
        .collect();
    assert_eq!(got, vec![(1_048_576, 16_384, "phone")]);
}

#[test]
fn a_sheet_over_the_cell_limit_is_skipped_with_the_reason() {
    // 400 rows with a value in A and in XFD: a few KB of XML, but rows filled out from column A
    // would be 6.5 million cells.
    let mut cells = Vec::new();
    let refs: Vec<(String, String)> = (1..=400)
        .flat_map(|r| {
            [
                (format!("A{r}"), "x".to_owned()),
                (format!("XFD{r}"), "y".to_owned()),
            ]
        })
        .collect();
    for (r, v) in &refs {
        cells.push((r.as_str(), v.as_str()));
    }
    let wide = xlsx_cells(&cells);
    assert!(wide.len() < 64 << 10, "{}", wide.len());
    let (found, reports) = scan("wide.xlsx", &wide);
    assert!(found.is_empty());
    assert!(
        matches!(&reports[0].status, Status::Skipped(m) if m.contains("5,000,000 cells") && m.contains("会員")),
        "{reports:?}"
    );
    // Cells with a value count too, with a limit made small.
    let mut scanner = Scanner::new(KindSet::all());
    scanner.limits.sheets.max_cells = 10;
    let many: Vec<Vec<String>> = (0..11).map(|i| vec![format!("v{i}")]).collect();
    let (_, reports) = scan_with(&scanner, "many.xlsx", &xlsx(&many));
    assert!(
        matches!(&reports[0].status, Status::Skipped(m) if m.contains("more than 10 cells")),
        "{reports:?}"
    );
    // The expanded size of a part is read from the zip directory before anything is parsed.
    scanner.limits.sheets = SheetLimits {
        max_part: 1000,
        ..SheetLimits::default()
    };
    let long: Vec<Vec<String>> = (0..50).map(|i| vec![format!("value number {i}")]).collect();
    let (_, reports) = scan_with(&scanner, "long.xlsx", &xlsx(&long));
    assert!(
        matches!(&reports[0].status, Status::Skipped(m) if m.contains("xl/worksheets/sheet1.xml expands to")),
        "{reports:?}"
    );
    scanner.limits.sheets = SheetLimits {
        max_workbook: 3000,
        ..SheetLimits::default()
    };
    let (_, reports) = scan_with(&scanner, "long.xlsx", &xlsx(&long));
    assert!(
        matches!(&reports[0].status, Status::Skipped(m) if m.contains("the workbook expands to")),
        "{reports:?}"
    );
}

#[test]
fn a_sparse_but_legal_xlsx_still_scans() {
    let sparse = xlsx_cells(&[
        ("A1", "氏名"),
        ("C1", "電話"),
        ("A5000", "佐藤 花子"),
        ("C5000", "03-1234-5678"),
        ("Z70000", "hanako@example.jp"),
    ]);
    let (found, reports) = scan("sparse.xlsx", &sparse);
    assert_eq!(reports[0].status, Status::Scanned, "{reports:?}");
    let got: Vec<(u64, u64, &str)> = found
        .iter()
        .map(|f| (f.line, f.column, f.kind.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (5000, 1, "person_name"),
            (5000, 3, "phone"),
            (70_000, 26, "email")
        ]
    );
    let rows = sheet_rows(&sparse, &SheetLimits::default()).unwrap();
    assert_eq!(rows[0].0, "会員");
    assert_eq!(
        rows[0].1[0],
        (1, vec!["氏名".into(), String::new(), "電話".into()])
    );
}

#[test]
fn ods_repeats_are_counted_before_calamine_expands_them() {
    // One row of 16,384 cells repeated 6,000 times: 98 million cells (5.5 GB with calamine's
    // formula range) from a few hundred bytes.
    let bomb = ods(
        r#"<table:table-row table:number-rows-repeated="6000"><table:table-cell office:value-type="string" table:number-columns-repeated="16384"><text:p>x</text:p></table:table-cell></table:table-row>"#,
    );
    assert!(bomb.len() < 4096);
    let (found, reports) = scan("bomb.ods", &bomb);
    assert!(found.is_empty());
    assert!(
        matches!(&reports[0].status, Status::Skipped(m) if m.contains("cells")),
        "{reports:?}"
    );
    // As LibreOffice writes a sheet: the data, then the rest of the sheet as repeated empty
    // rows and cells, which calamine drops.
    let legal = ods(concat!(
        r#"<table:table-row><table:table-cell office:value-type="string"><text:p>氏名</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>電話</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16382"/></table:table-row>"#,
        r#"<table:table-row><table:table-cell office:value-type="string"><text:p>佐藤 花子</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>03-1234-5678</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16382"/></table:table-row>"#,
        r#"<table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#,
    ));
    let (found, reports) = scan("legal.ods", &legal);
    assert_eq!(reports[0].status, Status::Scanned, "{reports:?}");
    let got: Vec<(u64, u64, &str)> = found
        .iter()
        .map(|f| (f.line, f.column, f.kind.as_str()))
        .collect();
    assert_eq!(got, vec![(2, 1, "person_name"), (2, 2, "phone")]);
}

#[test]
fn xls_dimensions_are_measured_before_calamine_builds_the_sheet() {
    // Two NUMBER records at A1 and at row 65536, column 65536: calamine fills in 4.3 billion
    // cells (137 GB).
    let bomb = xls_numbers(&[(0, 0, 1.0), (65_535, 65_535, 2.0)]);
    match sheet_rows(&bomb, &SheetLimits::default()) {
        Err(SheetError::TooLarge(TooLarge::Cells { .. })) => {}
        other => panic!("{other:?}"),
    }
    let (_, reports) = scan("bomb.xls", &bomb);
    assert!(
        matches!(&reports[0].status, Status::Skipped(m) if m.contains("cells")),
        "{reports:?}"
    );
    // A DIMENSIONS record whose last row comes before its first: calamine reserves
    // (end - start + 1) cells in u32 arithmetic, which wraps round to four billion rows.
    let mut dims = Vec::new();
    for v in [5u32, 2] {
        dims.extend_from_slice(&v.to_le_bytes());
    }
    dims.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
    match sheet_rows(&xls_records(&[(0x0200, dims)]), &SheetLimits::default()) {
        Err(SheetError::TooLarge(TooLarge::Cells { .. })) => {}
        other => panic!("{other:?}"),
    }
    // Found by fuzzing: a file cut inside a FAT sector made calamine's compound-file reader
    // panic; it is now refused as damaged before calamine sees it.
    let cut = include_bytes!("../fuzz/corpus/archive/regress-xls-cut-fat-sector.xls");
    match sheet_rows(cut, &SheetLimits::default()) {
        Err(SheetError::Unreadable(m)) => assert!(m.contains("damaged"), "{m}"),
        other => panic!("{other:?}"),
    }
    let small = xls_numbers(&[(0, 0, 1.0), (9, 3, 42.0)]);
    let rows = sheet_rows(&small, &SheetLimits::default()).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1.len(), 2);
    assert_eq!(
        rows[0].1[1],
        (
            10,
            vec![String::new(), String::new(), String::new(), "42".into()]
        )
    );
}

#[test]
fn a_workbook_bomb_among_other_files_leaves_their_findings() {
    let dir = std::env::temp_dir().join(format!("mamori-detect-bombs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bomb.xlsx"),
        xlsx_cells(&[("A1", "x"), ("XFD1048576", "y")]),
    )
    .unwrap();
    let refs: Vec<(String, &str)> = (1..=400)
        .flat_map(|r| [(format!("A{r}"), "x"), (format!("XFD{r}"), "y")])
        .collect();
    let cells: Vec<(&str, &str)> = refs.iter().map(|(r, v)| (r.as_str(), *v)).collect();
    std::fs::write(dir.join("wide.xlsx"), xlsx_cells(&cells)).unwrap();
    std::fs::write(dir.join("a.csv"), "氏名,電話\n山田 太郎,090-1234-5678\n").unwrap();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let summary = runner::run(
        &opts(vec![dir.clone()], OutputFormat::Jsonl),
        &mut out,
        &mut err,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("a.csv"), "{text}");
    assert_eq!(summary.count(|r| matches!(r.status, Status::Skipped(_))), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scanner_csv_output_guards_formula_cells() {
    let dir = std::env::temp_dir().join(format!("mamori-detect-csvout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A sheet named like a formula: its name is a cell of every finding in it.
    let book = xlsx_sheet("=1+2", &[("A1", "電話"), ("A2", "090-1234-5678")]);
    std::fs::write(dir.join("book.xlsx"), book).unwrap();
    let mut out = Vec::new();
    runner::run(
        &opts(vec![dir.join("book.xlsx")], OutputFormat::Csv),
        &mut out,
        &mut Vec::new(),
    )
    .unwrap();
    let csv = String::from_utf8(out).unwrap();
    assert!(csv.ends_with("\r\n"), "{csv:?}");
    assert!(csv.contains(",2,1,'=1+2,phone,"), "{csv}");
    let mut rdr = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let rec = rdr.records().next().unwrap().unwrap();
    assert_eq!(mamori_detect::csv_out::from_excel_cell(&rec[3]), "=1+2");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every file of the fuzz corpora through what its fuzz target runs, so that the seeds (the
/// spreadsheet bombs among them) stay covered where cargo-fuzz is not installed.
#[test]
fn fuzz_corpora_replay() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut archive = Scanner::new(KindSet::all());
    archive.limits.max_expanded = 8 << 20;
    archive.limits.max_in_memory = 4 << 20;
    archive.limits.sheets.max_cells = 200_000;
    archive.limits.sheets.max_part = 16 << 20;
    archive.limits.sheets.max_workbook = 32 << 20;
    let plain = Scanner::new(KindSet::all());
    let targets: [(&str, &Scanner, &[&str]); 3] = [
        ("archive", &archive, &["f.zip", "f.docx", "f.xlsx"]),
        ("decode", &plain, &["f.txt", "f.html", "f.jsonl", "f.eml"]),
        ("tabular", &plain, &["f.csv", "f.tsv"]),
    ];
    let mut files = 0;
    for (target, scanner, names) in targets {
        for entry in std::fs::read_dir(root.join(target)).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            let _ = mamori_detect::decode::sniff(&data, true);
            for name in names {
                scanner.scan_bytes(name, &data, &mut |f| {
                    assert!(!f.value.is_empty() && f.line >= 1 && f.column >= 1);
                });
            }
            files += 1;
        }
    }
    assert!(files >= 15, "{files}");
}

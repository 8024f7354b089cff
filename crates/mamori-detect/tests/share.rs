//! What a real file share holds (issue 16, part 3): unreadable folders, password-protected and
//! Windows-made zips, mail attachments without a charset, My Numbers stored as numbers, Excel's
//! 「Unicode テキスト」, symbolic links and files whose lines mix UTF-8 and CP932. Each test builds
//! the real file (or folder) and scans it through the public API or the scan binary.

use mamori_detect::runner::{self, OutputFormat, RunOptions};
use mamori_detect::testdata::zip;
use mamori_detect::validate::my_number_valid;
use mamori_detect::{FileReport, Finding, KindSet, Limits, Scanner, Status};
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn scan(name: &str, data: &[u8]) -> (Vec<Finding>, Vec<FileReport>) {
    let mut found = Vec::new();
    let reports =
        Scanner::new(KindSet::all()).scan_bytes(name, data, &mut |f| found.push(f.clone()));
    (found, reports)
}

/// (path, line, column, kind, value, encoding) of each finding.
fn rows(found: &[Finding]) -> Vec<(String, u64, u64, &'static str, String, &'static str)> {
    found
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                f.line,
                f.column,
                f.kind.as_str(),
                f.value.clone(),
                f.encoding,
            )
        })
        .collect()
}

fn has(found: &[Finding], kind: &str, value: &str) -> bool {
    found
        .iter()
        .any(|f| f.kind.as_str() == kind && f.value == value)
}

fn opts(paths: Vec<PathBuf>, format: OutputFormat) -> RunOptions {
    RunOptions {
        paths,
        format,
        kinds: KindSet::all(),
        reveal: true,
        threads: 2,
        include: Vec::new(),
        exclude: Vec::new(),
        progress: false,
        summary: false,
        limits: Limits::default(),
        prose: true,
    }
}

/// Runs the scan as JSON and returns (document, standard error).
fn run_json(paths: Vec<PathBuf>) -> (serde_json::Value, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    runner::run(&opts(paths, OutputFormat::Json), &mut out, &mut err).expect("the run ran");
    (
        serde_json::from_slice(&out).expect("a JSON document"),
        String::from_utf8(err).unwrap(),
    )
}

fn file_entry<'d>(doc: &'d serde_json::Value, path: &Path) -> &'d serde_json::Value {
    let p = path.display().to_string();
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == p.as_str())
        .unwrap_or_else(|| panic!("{p} not in {doc}"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mamori-share-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A valid My Number beginning with 0 (the spreadsheet drops that zero).
fn my_number_with_leading_zero(middle: &str) -> String {
    assert_eq!(middle.len(), 10);
    (0..10)
        .map(|c| format!("0{middle}{c}"))
        .find(|n| my_number_valid(n.as_bytes()))
        .unwrap()
}

// 1. A folder that cannot be opened is reported, with why, and the run goes on.
#[test]
fn an_unreadable_folder_is_reported_with_why() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("locked");
    std::fs::write(dir.join("ok.txt"), "メール hanako@example.jp\n").unwrap();
    let locked = dir.join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("inside.txt"), "tel 03-1234-5678\n").unwrap();
    let locked_file = dir.join("locked.csv");
    std::fs::write(&locked_file, "氏名,電話\n山田 太郎,090-1234-5678\n").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&locked_file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let root_reads_anyway = std::fs::read_dir(&locked).is_ok();
    // Named directly, alone: not "0 scanned, 0 skipped, 0 failed".
    let (alone, alone_err) = run_json(vec![locked.clone()]);

    let missing = dir.join("no-such-folder");
    let (doc, err) = run_json(vec![dir.clone(), missing.clone()]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&locked_file, std::fs::Permissions::from_mode(0o644)).unwrap();

    // The missing path named on the command line: reported, and the rest still scanned.
    let m = file_entry(&doc, &missing);
    assert_eq!(m["status"], "failed", "{m}");
    assert!(
        m["message"].as_str().unwrap().starts_with("not read: ")
            && m["message"].as_str().unwrap().contains("No such file"),
        "{m}"
    );
    assert!(
        err.contains(&format!("warning: {}: not read: ", missing.display())),
        "{err}"
    );
    assert_eq!(file_entry(&doc, &dir.join("ok.txt"))["status"], "scanned");
    assert!(
        doc["summary"]["files_not_read"].as_u64().unwrap() >= 1,
        "{doc}"
    );

    if root_reads_anyway {
        // As root a chmod 000 folder is still readable: nothing to report there.
        println!("running as root: chmod 000 does not stop reading; the locked-folder assertions are skipped");
        assert_eq!(alone["summary"]["files_scanned"], 1, "{alone}");
    } else {
        let l = file_entry(&doc, &locked);
        assert_eq!(l["status"], "failed", "{l}");
        assert!(
            l["message"]
                .as_str()
                .unwrap()
                .starts_with("not read: cannot open folder: "),
            "{l}"
        );
        assert!(
            err.contains(&format!(
                "warning: {}: not read: cannot open folder",
                locked.display()
            )),
            "{err}"
        );
        let f = file_entry(&doc, &locked_file);
        assert_eq!(f["status"], "failed", "{f}");
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .starts_with("not read: cannot open: "),
            "{f}"
        );
        let l = file_entry(&alone, &locked);
        assert!(
            l["message"]
                .as_str()
                .unwrap()
                .starts_with("not read: cannot open folder: "),
            "{l}"
        );
        assert_eq!(alone["summary"]["files_failed"], 1, "{alone}");
        assert!(
            alone_err.contains("not read: cannot open folder"),
            "{alone_err}"
        );
        // The table names it too.
        let mut out = Vec::new();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        std::fs::set_permissions(&locked_file, std::fs::Permissions::from_mode(0o000)).unwrap();
        runner::run(
            &opts(vec![dir.clone()], OutputFormat::Table),
            &mut out,
            &mut Vec::new(),
        )
        .unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&locked_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let table = String::from_utf8(out).unwrap();
        assert!(table.contains("not read: cannot open folder"), "{table}");
        assert!(table.contains("(2 not read)"), "{table}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// 2. Password-protected members are not read, and say so by name.
#[test]
fn password_protected_zip_members_are_reported_not_read() {
    use zip::unstable::write::FileOptionsExt;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let plain = zip::write::SimpleFileOptions::default();
    let locked = zip::write::SimpleFileOptions::default()
        .with_deprecated_encryption(b"himitsu")
        .unwrap();
    w.start_file("会員名簿.csv", locked).unwrap();
    w.write_all("氏名,電話\n山田 太郎,090-1234-5678\n".as_bytes())
        .unwrap();
    w.start_file("readme.txt", plain).unwrap();
    w.write_all(b"contact: info@example.jp\n").unwrap();
    w.start_file("給与/明細.csv", locked).unwrap();
    w.write_all("氏名,口座\n佐藤 花子,普通 1234567\n".as_bytes())
        .unwrap();
    let data = w.finish().unwrap().into_inner();

    let (found, reports) = scan("share.zip", &data);
    assert_eq!(
        rows(&found)
            .iter()
            .map(|r| (r.0.as_str(), r.3, r.4.as_str()))
            .collect::<Vec<_>>(),
        vec![("share.zip!readme.txt", "email", "info@example.jp")]
    );
    let not_read: Vec<(&str, &Status)> = reports
        .iter()
        .filter(|r| runner::is_not_read(r))
        .map(|r| (r.path.as_str(), &r.status))
        .collect();
    let why = Status::Skipped("not read: encrypted (password-protected)".to_owned());
    assert_eq!(
        not_read,
        vec![
            ("share.zip!会員名簿.csv", &why),
            ("share.zip!給与/明細.csv", &why)
        ]
    );
    assert!(
        reports[0]
            .warnings
            .iter()
            .any(|w| w == "2 encrypted (password-protected) members not read"),
        "{reports:?}"
    );
    // No "entry N" error in place of the names.
    assert!(
        reports
            .iter()
            .all(|r| r.warnings.iter().all(|w| !w.starts_with("entry "))),
        "{reports:?}"
    );
}

// 3. A Shift_JIS text/csv attachment (and body) without charset= is sniffed, not lost.
#[test]
fn mail_parts_without_charset_are_sniffed_like_files() {
    let csv = "氏名,電話,メール\r\n橋本 文子,03-5555-1234,fhashimoto@example.jp\r\n";
    let (sjis_csv, _, _) = encoding_rs::SHIFT_JIS.encode(csv);
    let b64 = base64_encode(&sjis_csv);
    let (sjis_body, _, _) = encoding_rs::SHIFT_JIS
        .encode("お世話になっております。\r\n氏名：高橋 一郎\r\n電話番号：090-8765-4321\r\n");
    let mut mail = Vec::new();
    mail.extend_from_slice(b"From: a@example.jp\r\nTo: b@example.jp\r\nSubject: list\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    mail.extend_from_slice(&sjis_body);
    mail.extend_from_slice(b"\r\n--XX\r\nContent-Type: text/csv; name=\"meibo.csv\"\r\nContent-Disposition: attachment; filename=\"meibo.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    mail.extend_from_slice(b64.as_bytes());
    mail.extend_from_slice(b"\r\n--XX--\r\n");

    let (found, reports) = scan("mail.eml", &mail);
    let att: Vec<_> = found
        .iter()
        .filter(|f| f.path == "mail.eml!meibo.csv")
        .map(|f| (f.line, f.column, f.kind.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        att,
        vec![
            (2, 1, "person_name", "橋本 文子"),
            (2, 2, "phone", "03-5555-1234"),
            (2, 3, "email", "fhashimoto@example.jp")
        ]
    );
    let att_report = reports
        .iter()
        .find(|r| r.path == "mail.eml!meibo.csv")
        .unwrap();
    assert_eq!(att_report.encoding, Some("Shift_JIS"));
    assert!(has(&found, "phone", "090-8765-4321"), "{:?}", rows(&found));
    assert!(
        has(&found, "person_name", "高橋 一郎"),
        "{:?}",
        rows(&found)
    );
    let body = found
        .iter()
        .find(|f| f.path == "mail.eml" && f.kind.as_str() == "phone")
        .unwrap();
    assert_eq!(body.encoding, "Shift_JIS");
    assert!(
        found
            .iter()
            .all(|f| !f.value.contains('\u{FFFD}') && !f.value.contains('\u{0082}')),
        "{:?}",
        rows(&found)
    );
}

fn base64_encode(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for (i, c) in b.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            s.push_str("\r\n");
        }
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                s.push(char::from(T[(n >> (18 - 6 * k)) as usize & 63]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// An xlsx whose first row is text and whose other cells are numbers (`<v>`), as Excel stores
/// a column of digits typed without a leading apostrophe.
fn xlsx_with_numbers(header: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">"#,
    );
    for (j, h) in header.iter().enumerate() {
        let col = char::from(b'A' + j as u8);
        let _ = write!(
            sheet,
            r#"<c r="{col}1" t="inlineStr"><is><t>{h}</t></is></c>"#
        );
    }
    sheet.push_str("</row>");
    for (i, row) in rows.iter().enumerate() {
        let r = i + 2;
        let _ = write!(sheet, r#"<row r="{r}">"#);
        for (j, v) in row.iter().enumerate() {
            let col = char::from(b'A' + j as u8);
            if v.bytes().all(|b| b.is_ascii_digit()) {
                let _ = write!(sheet, r#"<c r="{col}{r}"><v>{v}</v></c>"#);
            } else {
                let _ = write!(
                    sheet,
                    r#"<c r="{col}{r}" t="inlineStr"><is><t>{v}</t></is></c>"#
                );
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    mamori_detect::testdata::xlsx_package("台帳", &sheet)
}

// 4. My Numbers stored as numbers lost their leading zero.
#[test]
fn my_numbers_stored_as_numbers_get_their_zero_back() {
    let a = my_number_with_leading_zero("1234567890");
    let b = my_number_with_leading_zero("9876543210");
    let c = my_number_with_leading_zero("0246813579"); // begins with 00: ten digits are left
    let full = "123456789018"; // valid, twelve digits, no zero lost
    assert!(my_number_valid(full.as_bytes()));
    // The same eleven digits with a wrong check digit: not a My Number.
    let bad = {
        let last = a.as_bytes()[11] - b'0';
        format!("{}{}", &a[1..11], (last + 1) % 10)
    };
    let data = xlsx_with_numbers(
        &["社員番号", "マイナンバー", "管理番号"],
        &[
            vec!["1001", &a[1..], &b[1..]],
            vec!["1002", full, "12345678901"],
            vec!["1003", &bad, &a[1..]],
            vec!["1004", &b[1..], "1"],
            vec!["1005", &c[2..], &c[2..]],
            vec!["1006", "123456789", "0"],
        ],
    );
    let (found, reports) = scan("staff.xlsx", &data);
    assert_eq!(reports[0].status, Status::Scanned, "{reports:?}");
    let got: Vec<(u64, u64, &str, &str)> = found
        .iter()
        .map(|f| (f.line, f.column, f.kind.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, 2, "my_number", a.as_str()),
            (3, 2, "my_number", full),
            (5, 2, "my_number", b.as_str()),
            (6, 2, "my_number", c.as_str()),
        ]
    );
    assert!(c.starts_with("00"));
    // The same in a CSV exported from such a sheet.
    let csv = format!("氏名,個人番号\n山田 太郎,{}\n", &a[1..]);
    let (found, _) = scan("export.csv", csv.as_bytes());
    assert!(has(&found, "my_number", &a), "{:?}", rows(&found));
}

// 5. Excel's 「Unicode テキスト」: UTF-16LE, tab-separated, named .txt.
#[test]
fn utf16_tab_separated_txt_is_scanned_as_a_table() {
    let a = my_number_with_leading_zero("5555566666");
    let text = format!(
        "氏名\t郵便番号\t生年月日\tマイナンバー\r\n山田 太郎\t160-0023\t1985/03/05\t{a}\r\n佐藤 花子\t530-0001\t1990/12/24\t{}\r\n",
        &a[1..]
    );
    let mut data = vec![0xFF, 0xFE];
    data.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let (found, reports) = scan("Unicode テキスト.txt", &data);
    assert_eq!(reports[0].format, "tsv", "{reports:?}");
    assert_eq!(reports[0].encoding, Some("UTF-16LE"));
    let got: Vec<(u64, u64, &str, &str)> = found
        .iter()
        .map(|f| (f.line, f.column, f.kind.as_str(), f.value.as_str()))
        .collect();
    for want in [
        (2, 1, "person_name", "山田 太郎"),
        (2, 2, "postal_code", "160-0023"),
        (2, 3, "birth_date", "1985/03/05"),
        (2, 4, "my_number", a.as_str()),
        (3, 2, "postal_code", "530-0001"),
        (3, 3, "birth_date", "1990/12/24"),
        (3, 4, "my_number", a.as_str()),
    ] {
        assert!(got.contains(&want), "{want:?} missing from {got:?}");
    }
    // A CSV named .log is a table too; prose named .txt stays prose.
    let (_, r) = scan(
        "export.log",
        "id,name,tel\n1,a,03-1111-2222\n2,b,03-3333-4444\n3,c,03-5555-6666\n".as_bytes(),
    );
    assert_eq!(r[0].format, "csv");
    let (_, r) = scan(
        "memo.txt",
        "本日、山田様よりお電話がありました。\n折り返し、03-1234-5678 へ連絡します。\n".as_bytes(),
    );
    assert_eq!(r[0].format, "text");
    // A ".csv" that is really tab-separated is read with tabs.
    let (found, r) = scan(
        "export.csv",
        "氏名\t電話\n山田 太郎\t03-1234-5678\n佐藤 花子\t090-1111-2222\n".as_bytes(),
    );
    assert_eq!(r[0].format, "tsv");
    assert!(found
        .iter()
        .any(|f| f.column == 2 && f.value == "03-1234-5678"));
}

/// A zip whose one member is named in CP932 without the UTF-8 flag, as Windows' Explorer
/// writes it: written under an ASCII name of the same length, whose bytes are then replaced.
fn zip_with_cp932_name(name: &str, data: &[u8]) -> Vec<u8> {
    let (cp932, _, _) = encoding_rs::SHIFT_JIS.encode(name);
    let placeholder = "X".repeat(cp932.len());
    let mut bytes = zip(&[(placeholder.clone(), data.to_vec())]);
    let mut replaced = 0;
    let mut i = 0;
    while let Some(at) = bytes[i..]
        .windows(placeholder.len())
        .position(|w| w == placeholder.as_bytes())
    {
        let at = i + at;
        bytes[at..at + cp932.len()].copy_from_slice(&cp932);
        replaced += 1;
        i = at + cp932.len();
    }
    assert_eq!(replaced, 2, "local header and central directory");
    // Bit 11 (names in UTF-8) is off in the central directory entry.
    let cd = bytes
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("central directory");
    let flags = u16::from_le_bytes([bytes[cd + 8], bytes[cd + 9]]);
    assert_eq!(flags & 0x0800, 0);
    bytes
}

// 6. Japanese member names from Windows zips.
#[test]
fn cp932_member_names_are_decoded() {
    let data = zip_with_cp932_name(
        "顧客名簿_2024年度.csv",
        "氏名,電話\n山田 太郎,090-1234-5678\n".as_bytes(),
    );
    let (found, reports) = scan("from-windows.zip", &data);
    assert!(
        reports
            .iter()
            .any(|r| r.path == "from-windows.zip!顧客名簿_2024年度.csv"),
        "{reports:?}"
    );
    assert!(
        found
            .iter()
            .all(|f| f.path == "from-windows.zip!顧客名簿_2024年度.csv"),
        "{:?}",
        rows(&found)
    );
    assert!(has(&found, "phone", "090-1234-5678"));
}

// 7. Symbolic links: followed once; dangling and looping links and missing paths reported.
#[test]
fn symbolic_links_are_followed_once_and_broken_ones_reported() {
    use std::os::unix::fs::symlink;
    let base = temp_dir("links");
    let dir = base.join("share");
    let elsewhere = base.join("elsewhere");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(dir.join("a.txt"), "mail: one@example.jp\n").unwrap();
    std::fs::write(elsewhere.join("b.txt"), "mail: two@example.jp\n").unwrap();
    symlink(&elsewhere, dir.join("linked-folder")).unwrap(); // followed
    symlink(dir.join("a.txt"), dir.join("sub/a-again.txt")).unwrap(); // same file: once
    symlink(&dir, dir.join("sub/loop")).unwrap(); // back up: a loop
    symlink(dir.join("gone.txt"), dir.join("dangling.txt")).unwrap();
    symlink("self-loop", dir.join("self-loop")).unwrap(); // ELOOP when followed

    let missing = base.join("not-there");
    let (doc, err) = run_json(vec![dir.clone(), missing.clone()]);
    // Files are scanned in parallel: findings come in any order.
    let mut emails: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["value"].as_str().unwrap()))
        .collect();
    emails.sort_unstable();
    let a = dir.join("a.txt").display().to_string();
    let b = dir.join("linked-folder/b.txt").display().to_string();
    assert_eq!(
        emails,
        vec![
            (a.as_str(), "one@example.jp"),
            (b.as_str(), "two@example.jp")
        ]
    );
    let status = |p: &Path| {
        let f = file_entry(&doc, p);
        (
            f["status"].as_str().unwrap().to_owned(),
            f["message"].as_str().unwrap_or("").to_owned(),
        )
    };
    let (s, m) = status(&dir.join("dangling.txt"));
    assert_eq!(s, "failed");
    assert!(
        m.starts_with("not read: symbolic link that cannot be followed"),
        "{m}"
    );
    let (s, m) = status(&dir.join("self-loop"));
    assert_eq!(s, "failed");
    assert!(
        m.starts_with("not read: symbolic link that cannot be followed"),
        "{m}"
    );
    let (s, m) = status(&dir.join("sub/loop"));
    assert_eq!(s, "skipped");
    assert_eq!(
        m,
        format!(
            "not read: symbolic link loop (leads back to {})",
            dir.display()
        )
    );
    let (s, m) = status(&dir.join("sub/a-again.txt"));
    assert_eq!(s, "skipped");
    assert!(m.contains(&a), "{m}");
    let (s, m) = status(&missing);
    assert_eq!(s, "failed");
    assert!(m.starts_with("not read: "), "{m}");
    for p in ["dangling.txt", "self-loop", "sub/loop", "sub/a-again.txt"] {
        assert!(
            err.contains(&format!("warning: {}: not read: ", dir.join(p).display())),
            "{p}: {err}"
        );
    }

    // The scan command: exit 0 (it ran), the warnings on standard error, findings on stdout.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mamori-detect-scan"))
        .arg(&dir)
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not read: symbolic link loop"), "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    // A bad argument is still exit 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mamori-detect-scan"))
        .args(["--kinds", "no_such_kind"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mamori-detect-scan"))
        .arg("--no-such-option")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let _ = std::fs::remove_dir_all(&base);
}

// 9. Lines in UTF-8 and lines in CP932 in one file: each decoded as what it is.
#[test]
fn a_file_mixing_utf8_and_cp932_lines_is_decoded_per_line() {
    let utf8_lines = [
        "2024-04-01 受付 担当 fhashimoto@example.jp 電話 03-1111-2222\n",
        "2024-04-03 受付 担当 tkobayashi@example.jp 電話 03-5555-6666\n",
    ];
    let cp932_lines = [
        "2024-04-02 返信 ｶﾅ付き yyamada@example.co.jp 携帯 090-3333-4444\n",
        "2024-04-04 返信 予定 hsato@example.ne.jp 携帯 080-7777-8888\n",
    ];
    for sjis_first in [false, true] {
        let mut data = Vec::new();
        for i in 0..2 {
            let u = utf8_lines[i].as_bytes().to_vec();
            let (s, _, _) = encoding_rs::SHIFT_JIS.encode(cp932_lines[i]);
            if sjis_first {
                data.extend_from_slice(&s);
                data.extend_from_slice(&u);
            } else {
                data.extend_from_slice(&u);
                data.extend_from_slice(&s);
            }
        }
        let (found, reports) = scan("mixed.log", &data);
        assert_eq!(reports[0].encoding, Some("UTF-8+Shift_JIS"), "{reports:?}");
        let emails: Vec<(&str, &str)> = found
            .iter()
            .filter(|f| f.kind.as_str() == "email")
            .map(|f| (f.value.as_str(), f.encoding))
            .collect();
        let mut want = vec![
            ("fhashimoto@example.jp", "UTF-8"),
            ("yyamada@example.co.jp", "Shift_JIS"),
            ("tkobayashi@example.jp", "UTF-8"),
            ("hsato@example.ne.jp", "Shift_JIS"),
        ];
        if sjis_first {
            want = vec![want[1], want[0], want[3], want[2]];
        }
        assert_eq!(emails, want, "CP932 first: {sjis_first}");
        for phone in [
            "03-1111-2222",
            "090-3333-4444",
            "03-5555-6666",
            "080-7777-8888",
        ] {
            assert!(has(&found, "phone", phone), "{phone}: {:?}", rows(&found));
        }
        assert!(found.iter().all(|f| !f.value.contains('\u{FFFD}')));
    }
    // A CSV whose rows were appended by programs that disagree: each field comes out whole.
    let mut csv = "氏名,メール\n橋本 文子,fhashimoto@example.jp\n"
        .as_bytes()
        .to_vec();
    let (s, _, _) = encoding_rs::SHIFT_JIS.encode("山田 太郎,tyamada@example.jp\n");
    csv.extend_from_slice(&s);
    let (found, _) = scan("appended.csv", &csv);
    let got: Vec<(u64, u64, &str, &str)> = found
        .iter()
        .map(|f| (f.line, f.column, f.kind.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, 1, "person_name", "橋本 文子"),
            (2, 2, "email", "fhashimoto@example.jp"),
            (3, 1, "person_name", "山田 太郎"),
            (3, 2, "email", "tyamada@example.jp"),
        ]
    );
    // A UTF-8 file with one damaged byte stays UTF-8 with a replacement character.
    let mut damaged = "山田太郎の電話番号は090-1234-5678です。\n"
        .repeat(20)
        .into_bytes();
    damaged[3] = 0xFF;
    let (found, reports) = scan("damaged.txt", &damaged);
    assert_eq!(reports[0].encoding, Some("UTF-8"));
    assert_eq!(
        found.iter().filter(|f| f.kind.as_str() == "phone").count(),
        20
    );
    assert!(found.iter().all(|f| f.encoding == "UTF-8"));
}

//! The printing company's address list: CP932 bytes as Excel writes them, every character that
//! cannot go in named with a substitute, substitutes applied only where the caller chooses.

use mamori_detect::print_list::{
    apply_substitutes, print_list, problems, substitute, Charset, Column, PrintRow, ProblemKind,
};

fn row(reference: &str, name: &str, address1: &str) -> PrintRow {
    PrintRow {
        reference: reference.into(),
        postal_code: "100-0001".into(),
        address1: address1.into(),
        address2: "サンプルマンション101号室".into(),
        name: name.into(),
    }
}

fn decode(bytes: &[u8]) -> String {
    // No BOM: decoding with BOM sniffing must give the same text as without.
    let (with_sniff, enc, bad) = encoding_rs::SHIFT_JIS.decode(bytes);
    assert!(!bad);
    assert_eq!(enc, encoding_rs::SHIFT_JIS);
    let (plain, bad) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    assert!(!bad);
    assert_eq!(with_sniff, plain);
    plain.into_owned()
}

#[test]
fn a_clean_list_is_cp932_with_crlf_no_bom_and_a_header() {
    let rows = vec![
        row("N-000001", "山田 太郎", "東京都千代田区千代田1-1"),
        row("N-000002", "髙橋 ①子", "大阪府大阪市北区梅田1-2-3"),
    ];
    let bytes = print_list(&rows, Charset::Cp932).unwrap();
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
    // 髙 and ① are written as Windows CP932 writes them (IBM extension FB FC, NEC row 13 87 40).
    assert!(bytes.windows(2).any(|w| w == [0xFB, 0xFC]), "髙");
    assert!(bytes.windows(2).any(|w| w == [0x87, 0x40]), "①");
    let text = decode(&bytes);
    assert_eq!(
        text,
        "お問い合わせ番号,郵便番号,住所1,住所2,氏名\r\n\
         N-000001,100-0001,東京都千代田区千代田1-1,サンプルマンション101号室,山田 太郎\r\n\
         N-000002,100-0001,大阪府大阪市北区梅田1-2-3,サンプルマンション101号室,髙橋 ①子\r\n"
    );
    assert_eq!(text.matches("\r\n").count(), 3);
    assert_eq!(text.matches('\n').count(), 3);
}

#[test]
fn formula_cells_are_guarded_and_quotes_escaped() {
    let rows = vec![
        row("=HYPERLINK(\"http://x\")", "@SUM(A1)", "+81 東京都"),
        row("N-3", "－1", "東京都港区1,2"),
    ];
    let text = decode(&print_list(&rows, Charset::Cp932).unwrap());
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[1],
        "\"'=HYPERLINK(\"\"http://x\"\")\",100-0001,'+81 東京都,サンプルマンション101号室,'@SUM(A1)"
    );
    assert_eq!(
        lines[2],
        "N-3,100-0001,\"東京都港区1,2\",サンプルマンション101号室,'－1"
    );
}

#[test]
fn characters_cp932_cannot_hold_are_named_with_substitutes() {
    let rows = vec![
        row("N-1", "山田 太郎", "東京都"),
        row("N-2", "𠮷田 〜子", "横浜市−1"),
        row("N-3", "佐藤😀", "住所\n二行目"),
    ];
    let err = print_list(&rows, Charset::Cp932).unwrap_err();
    let got: Vec<(usize, Column, char, ProblemKind, Option<&str>)> = err
        .iter()
        .map(|p| (p.row, p.column, p.ch, p.kind, p.suggestion.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                2,
                Column::Address1,
                '−',
                ProblemKind::ChangedByCp932,
                Some("－")
            ),
            (2, Column::Name, '𠮷', ProblemKind::NotInCp932, Some("吉")),
            (2, Column::Name, '〜', ProblemKind::NotInCp932, Some("～")),
            (3, Column::Address1, '\n', ProblemKind::Control, Some(" ")),
            (3, Column::Name, '😀', ProblemKind::NotInCp932, None),
        ]
    );
    let yoshi = &err[1];
    assert_eq!(yoshi.code_point(), "U+20BB7");
    assert_eq!(
        yoshi.ja(),
        "2行目「氏名」の「𠮷」（U+20BB7）はShift_JIS（CP932）で表せません。置き換え候補：「吉」"
    );
    assert!(yoshi
        .en()
        .starts_with("Row 2, name: '𠮷' (U+20BB7) cannot be written"));
    assert!(yoshi.to_string().contains(" / Row 2"));
    assert!(err[4].en().contains("No substitute"));
    assert!(err[3].ja().contains("U+000A"));

    // Apply only what a person accepted: everything but the control character.
    let chosen: Vec<_> = err
        .iter()
        .filter(|p| p.kind != ProblemKind::Control)
        .cloned()
        .collect();
    let fixed = apply_substitutes(&rows, &chosen);
    assert_eq!(fixed[1].name, "吉田 ～子");
    assert_eq!(fixed[1].address1, "横浜市－1");
    assert_eq!(fixed[2].address1, "住所\n二行目");
    assert_eq!(fixed[0], rows[0]);
    let left = problems(&fixed, Charset::Cp932);
    assert_eq!(left.len(), 2, "{left:?}");
    // Row 3's emoji has no substitute: fixed by hand, then the list goes out.
    let mut by_hand = apply_substitutes(&fixed, &left);
    by_hand[2].name = "佐藤".into();
    let text = decode(&print_list(&by_hand, Charset::Cp932).unwrap());
    assert!(
        text.contains("吉田 ～子") && text.contains("住所 二行目"),
        "{text}"
    );
}

#[test]
fn jis_x_0208_only_names_the_nec_and_ibm_extensions() {
    let rows = vec![row("N-1", "髙橋 﨑子 德永 濵田 ①", "㈱サンプル 纊")];
    assert!(print_list(&rows, Charset::Cp932).is_ok());
    let err = print_list(&rows, Charset::Jis0208).unwrap_err();
    let got: Vec<(char, Option<&str>)> = err
        .iter()
        .map(|p| (p.ch, p.suggestion.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ('㈱', Some("(株)")),
            ('纊', None),
            ('髙', Some("高")),
            ('﨑', Some("崎")),
            ('德', Some("徳")),
            ('濵', Some("濱")),
            ('①', Some("1")),
        ]
    );
    assert!(err.iter().all(|p| p.kind == ProblemKind::OutsideJis0208));
    assert!(err[2].ja().contains("JIS第1・第2水準"));
    let fixed = apply_substitutes(&rows, &err);
    assert_eq!(fixed[0].name, "高橋 崎子 徳永 濱田 1");
    assert_eq!(fixed[0].address1, "(株)サンプル 纊");
    assert_eq!(problems(&fixed, Charset::Jis0208).len(), 1);
}

#[test]
fn substitutes_are_themselves_writable() {
    for c in [
        '髙', '﨑', '𠮷', '德', '濵', '①', '⑳', 'Ⅳ', 'ⅸ', '㈱', '〜', '−', '¥', '‾', '—', '№',
        '㍻', '㋿',
    ] {
        let sub = substitute(c).unwrap_or_else(|| panic!("{c}"));
        let r = vec![row("N", &sub, "x")];
        assert!(print_list(&r, Charset::Jis0208).is_ok(), "{c} → {sub}");
    }
    assert_eq!(substitute('⑳').as_deref(), Some("20"));
    assert_eq!(substitute('Ⅳ').as_deref(), Some("IV"));
    assert_eq!(substitute('ⅸ').as_deref(), Some("ix"));
    assert_eq!(substitute('山'), None);
}

#[test]
fn yen_and_overline_change_meaning_and_private_use_is_refused() {
    let rows = vec![row("N-1", "¥‾\u{E000}", "x")];
    let err = print_list(&rows, Charset::Cp932).unwrap_err();
    let kinds: Vec<_> = err.iter().map(|p| (p.ch, p.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ('¥', ProblemKind::ChangedByCp932),
            ('‾', ProblemKind::ChangedByCp932),
            ('\u{E000}', ProblemKind::NotInCp932),
        ]
    );
    // An empty list is just the header.
    let empty = print_list(&[], Charset::Cp932).unwrap();
    assert_eq!(
        decode(&empty),
        "お問い合わせ番号,郵便番号,住所1,住所2,氏名\r\n"
    );
}

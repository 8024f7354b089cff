use super::grant::{access, GrantError};
use super::normalize::{self, IndexClass};
use super::schema::{check_value, classify_password, parse_date, PasswordForm};
use super::*;
use chrono::{NaiveDate, TimeZone, Utc};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn shop_schema() -> Schema {
    Schema::parse(
        "name:name, kana:kana_name, email:email, phone:phone, mobile:phone, zip:postal_code, \
         address:address, birth:birth_date, shipped:date, token:payment_token",
    )
    .unwrap()
}

#[test]
fn schema_parses_and_refuses_what_it_cannot_hold() {
    let s = shop_schema();
    assert_eq!(s.fields.len(), 10);
    assert_eq!(s.fields[3].kind, FieldKind::Phone);
    assert_eq!(Schema::parse(&s.to_text()).unwrap(), s);
    assert!(matches!(Schema::parse(""), Err(SchemaError::Empty)));
    assert!(matches!(
        Schema::parse("a:name, a:email"),
        Err(SchemaError::Duplicate(_))
    ));
    assert!(matches!(
        Schema::parse("Name:name"),
        Err(SchemaError::BadName(_))
    ));
    assert!(matches!(
        Schema::parse("x:ssn"),
        Err(SchemaError::UnknownKind(k)) if k == "ssn"
    ));
    assert!(matches!(
        Schema::parse("email"),
        Err(SchemaError::Syntax(_))
    ));
    let items: Vec<&str> = s.items().iter().map(|i| i.code()).collect();
    assert_eq!(
        items,
        [
            "name",
            "kana_name",
            "address",
            "postal_code",
            "phone",
            "email",
            "birth_date"
        ]
    );
}

#[test]
fn dates_as_people_write_them() {
    for (text, want) in [
        ("1985-01-02", d(1985, 1, 2)),
        ("1985/1/2", d(1985, 1, 2)),
        ("１９８５年１月２日", d(1985, 1, 2)),
        ("19850102", d(1985, 1, 2)),
        ("昭和60年1月2日", d(1985, 1, 2)),
        ("S60.1.2", d(1985, 1, 2)),
        ("平成元年1月8日", d(1989, 1, 8)),
        ("昭和64年1月7日", d(1989, 1, 7)),
        ("令和6年4月1日", d(2024, 4, 1)),
        ("R6-4-1", d(2024, 4, 1)),
    ] {
        assert_eq!(parse_date(text), Some(want), "{text}");
    }
    for bad in [
        "昭和64年1月8日", // 昭和 ended on 1989-01-07
        "平成32年1月1日", // 平成 ended on 2019-04-30
        "2024-02-30",
        "85-1-2",
        "1985-01-02T00:00",
        "明日",
        "",
    ] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
}

#[test]
fn values_are_checked_and_stored_in_one_form() {
    let today = d(2026, 11, 24);
    let ok = |k, v: &str| check_value(k, v, today).unwrap().unwrap();
    assert_eq!(ok(FieldKind::BirthDate, "昭和60年1月2日"), "1985-01-02");
    assert_eq!(ok(FieldKind::PostalCode, "〒１００－０００１"), "100-0001");
    assert_eq!(ok(FieldKind::Email, " taro@example.jp "), "taro@example.jp");
    assert_eq!(ok(FieldKind::Phone, "090-1234-5678"), "090-1234-5678");
    assert_eq!(check_value(FieldKind::Name, "  ", today), Ok(None));
    let e = |k, v: &str| check_value(k, v, today).unwrap_err();
    assert_eq!(e(FieldKind::Email, "taro.example.jp"), ValueError::Email);
    assert_eq!(e(FieldKind::Phone, "12345"), ValueError::Phone);
    assert_eq!(
        e(FieldKind::PostalCode, "100-00011"),
        ValueError::PostalCode
    );
    assert_eq!(
        e(FieldKind::BirthDate, "2030-01-01"),
        ValueError::BirthDateRange
    );
    assert_eq!(e(FieldKind::BirthDate, "いつか"), ValueError::Date);
    assert_eq!(
        e(FieldKind::Name, &"あ".repeat(101)),
        ValueError::TooLong(100)
    );
    assert_eq!(e(FieldKind::Name, "山田\u{7}太郎"), ValueError::Control);
    // The error never repeats the value.
    assert!(!e(FieldKind::Email, "secret-value")
        .to_string()
        .contains("secret-value"));
}

#[test]
fn passwords_are_classified() {
    assert_eq!(
        classify_password("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
        PasswordForm::Argon2id
    );
    for h in [
        "5f4dcc3b5aa765d61d8327deb882cf99",
        "$2b$12$KIXQJQ1r4a9Qm5bqz5k3hOZ1J9YqF0Z9Q5Q5Q5Q5Q5Q5Q5Q5Q5Q5Q",
        "$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA",
    ] {
        assert_eq!(classify_password(h), PasswordForm::OtherHash, "{h}");
    }
    assert_eq!(classify_password("hunter2-さくら"), PasswordForm::Plain);
}

#[test]
fn normal_forms_find_the_same_person() {
    assert_eq!(normalize::email(" Taro@Example.JP "), "taro@example.jp");
    assert_eq!(
        normalize::email("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ"),
        "taro@example.jp"
    );
    for p in [
        "090-1234-5678",
        "09012345678",
        "+81 90-1234-5678",
        "+81-090-1234-5678",
        "８１９０１２３４５６７８",
        "(03) 1234-5678",
    ] {
        let n = normalize::phone(p).unwrap();
        assert!(n == "09012345678" || n == "0312345678", "{p} → {n}");
    }
    assert_eq!(
        normalize::phone("+81 90 1234 5678").as_deref(),
        Some("09012345678")
    );
    assert_eq!(normalize::phone("1234"), None);
    assert_eq!(
        normalize::name("ヤマダ　タロウ"),
        normalize::name("やまだたろう")
    );
    assert_eq!(normalize::name("ﾔﾏﾀﾞ ﾀﾛｳ"), "やまだたろう");
    assert_eq!(normalize::name("山田 太郎"), "山田太郎");
    assert_eq!(normalize::name("Taro YAMADA"), "taroyamada");
}

#[test]
fn index_terms_of_a_record() {
    let s = shop_schema();
    let mut v: Vec<Option<String>> = vec![None; s.fields.len()];
    v[0] = Some("山田 太郎".into());
    v[1] = Some("ヤマダ タロウ".into());
    v[2] = Some("Taro@Example.jp".into());
    v[3] = Some("03-1234-5678".into());
    v[4] = Some("090-1234-5678".into());
    v[7] = Some("1985-01-02".into());
    let t = normalize::terms(&s, &v);
    let has = |c: IndexClass, x: &str| t.iter().any(|(k, y)| *k == c && y == x);
    assert!(has(IndexClass::Email, "taro@example.jp"));
    assert!(has(IndexClass::Phone, "0312345678"));
    assert!(has(IndexClass::Phone, "09012345678"));
    assert!(has(IndexClass::Name, "山田太郎"));
    assert!(has(IndexClass::Name, "やまだたろう"));
    assert!(has(IndexClass::NameBirth, "山田太郎\u{1f}1985-01-02"));
    assert_eq!(t.len(), 7);
    assert_eq!(
        normalize::query_term(IndexClass::NameBirth, "山田　太郎", Some("昭和60年1月2日")),
        Some("山田太郎\u{1f}1985-01-02".into())
    );
    assert_eq!(normalize::query_term(IndexClass::Phone, "12", None), None);
}

#[test]
fn masks_show_enough_to_tell_people_apart() {
    assert_eq!(mask::value(FieldKind::Name, "山田 太郎"), "山田 ＊＊");
    assert_eq!(mask::value(FieldKind::Name, "山田太郎"), "山田＊＊");
    assert_eq!(mask::value(FieldKind::Name, "林翼"), "林＊");
    assert_eq!(
        mask::value(FieldKind::Phone, "090-1234-5678"),
        "090-****-5678"
    );
    assert_eq!(mask::value(FieldKind::Phone, "0312345678"), "031***5678");
    assert_eq!(
        mask::value(FieldKind::Email, "taro@example.jp"),
        "t***@example.jp"
    );
    assert_eq!(
        mask::value(FieldKind::Address, "東京都千代田区千代田1-1"),
        "東京都千代田区＊＊＊＊＊＊"
    );
    assert_eq!(mask::value(FieldKind::PostalCode, "100-0001"), "100-****");
    assert_eq!(
        mask::value(FieldKind::BirthDate, "1985-01-02"),
        "****-**-**"
    );
    assert_eq!(mask::value(FieldKind::Date, "2026-11-01"), "2026-11-01");
    assert_eq!(mask::value(FieldKind::Phone, SCRUBBED), SCRUBBED);
}

#[test]
fn grants_are_bounded_and_expire_by_themselves() {
    let s = shop_schema();
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap();
    let req = GrantRequest {
        fields: vec!["name".into(), "phone".into()],
        purpose: "お問い合わせ対応".into(),
        hours: 24,
        may_export: false,
    };
    let until = req.check(&s, 24, now).unwrap();
    assert_eq!(until, now + chrono::Duration::hours(24));
    assert_eq!(
        GrantRequest {
            hours: 25,
            ..req.clone()
        }
        .check(&s, 24, now),
        Err(GrantError::Hours(24))
    );
    assert_eq!(
        GrantRequest {
            hours: 0,
            ..req.clone()
        }
        .check(&s, 24, now),
        Err(GrantError::Hours(24))
    );
    assert_eq!(
        GrantRequest {
            purpose: " ".into(),
            ..req.clone()
        }
        .check(&s, 24, now),
        Err(GrantError::Purpose)
    );
    assert_eq!(
        GrantRequest {
            fields: vec!["card".into()],
            ..req.clone()
        }
        .check(&s, 24, now),
        Err(GrantError::UnknownField("card".into()))
    );
    let g = Grant {
        id: 7,
        dataset_id: 1,
        grantee_id: 5,
        fields: req.fields.clone(),
        purpose: req.purpose.clone(),
        may_export: false,
        issued_by: 2,
        issued_at: now,
        expires_at: until,
        revoked_at: None,
    };
    let a = access(false, std::slice::from_ref(&g), now).unwrap();
    assert!(a.may_reveal("phone") && !a.may_reveal("email") && !a.may_export());
    assert_eq!(a.basis(), "grant:7");
    // One microsecond before the end it works; at the end it does not.
    assert!(access(
        false,
        std::slice::from_ref(&g),
        until - chrono::Duration::microseconds(1)
    )
    .is_some());
    assert!(access(false, std::slice::from_ref(&g), until).is_none());
    let revoked = Grant {
        revoked_at: Some(now),
        ..g.clone()
    };
    assert!(access(false, &[revoked], now).is_none());
    assert_eq!(access(true, &[], now), Some(Access::Custody));
}

#[test]
fn retention_rules_are_checked_against_the_schema() {
    let s = shop_schema();
    let rule = RetentionRule {
        base_field: "shipped".into(),
        after_days: 30,
        action: RetentionAction::Scrub {
            fields: vec!["name".into(), "address".into(), "phone".into()],
        },
    };
    rule.check(&s).unwrap();
    assert_eq!(rule.cutoff(d(2026, 11, 24)), d(2026, 10, 25));
    assert!(rule.describe_ja().contains("30日後"));
    let json = serde_json::to_string(&rule).unwrap();
    assert_eq!(serde_json::from_str::<RetentionRule>(&json).unwrap(), rule);
    let bad_base = RetentionRule {
        base_field: "birth".into(),
        ..rule.clone()
    };
    assert!(bad_base.check(&s).is_err());
    let scrub_base = RetentionRule {
        action: RetentionAction::Scrub {
            fields: vec!["shipped".into()],
        },
        ..rule.clone()
    };
    assert!(scrub_base.check(&s).is_err());
    let zero = RetentionRule {
        after_days: 0,
        ..rule
    };
    assert!(zero.check(&s).is_err());
}

#[test]
fn a_lookup_class_needs_every_field_its_index_is_made_from() {
    let s = shop_schema();
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap();
    let grant = |fields: &[&str]| {
        Access::Grant(Grant {
            id: 1,
            dataset_id: 1,
            grantee_id: 5,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            purpose: "p".into(),
            may_export: false,
            issued_by: 2,
            issued_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: None,
        })
    };
    assert_eq!(
        normalize::index_sources(&s, IndexClass::Phone),
        vec!["phone", "mobile"]
    );
    assert_eq!(
        normalize::index_sources(&s, IndexClass::NameBirth),
        vec!["name", "kana", "birth"]
    );
    // The review's case: a grant for the postal code alone may not search by anything.
    let zip = grant(&["zip"]);
    for class in IndexClass::ALL {
        assert!(!zip.may_lookup(&s, class), "{class:?}");
    }
    // Both phone fields are needed for a phone search (a hit may come from either).
    assert!(!grant(&["phone"]).may_lookup(&s, IndexClass::Phone));
    assert!(grant(&["phone", "mobile"]).may_lookup(&s, IndexClass::Phone));
    assert!(grant(&["email"]).may_lookup(&s, IndexClass::Email));
    assert!(!grant(&["email"]).may_lookup(&s, IndexClass::Name));
    assert!(grant(&["name", "kana"]).may_lookup(&s, IndexClass::Name));
    assert!(!grant(&["name", "kana"]).may_lookup(&s, IndexClass::NameBirth));
    assert!(grant(&["name", "kana", "birth"]).may_lookup(&s, IndexClass::NameBirth));
    for class in IndexClass::ALL {
        assert!(Access::Custody.may_lookup(&s, class));
    }
}

#[test]
fn fields_keep_their_ids_as_a_schema_grows() {
    let s = Schema::parse("name:name, email:email").unwrap();
    assert_eq!(s.ids(), vec![1, 2]);
    // Stored before ids existed: the id is the position.
    let legacy: Schema = serde_json::from_str(
        r#"{"fields":[{"name":"name","kind":"name"},{"name":"email","kind":"email"}]}"#,
    )
    .unwrap();
    assert_eq!(legacy, s);
    let grown = Schema::parse("name:name, email:email, zip:postal_code")
        .unwrap()
        .evolve(&legacy, true)
        .unwrap();
    assert_eq!(grown.ids(), vec![1, 2, 3]);
    let back: Schema = serde_json::from_str(&serde_json::to_string(&grown).unwrap()).unwrap();
    assert_eq!(back, grown);
    // With records: nothing removed, re-kinded or moved.
    let refused = |text: &str| Schema::parse(text).unwrap().evolve(&grown, true);
    assert_eq!(
        refused("name:name, email:email"),
        Err(SchemaError::Removed("zip".into()))
    );
    assert_eq!(
        refused("name:name, email:phone, zip:postal_code"),
        Err(SchemaError::KindChanged("email".into()))
    );
    assert_eq!(
        refused("email:email, name:name, zip:postal_code"),
        Err(SchemaError::Reordered("name".into()))
    );
    // Without records anything goes, and a field that comes back gets a new id.
    let smaller = Schema::parse("name:name")
        .unwrap()
        .evolve(&grown, false)
        .unwrap();
    assert_eq!(smaller.ids(), vec![1]);
    let again = Schema::parse("name:name, zip:phone")
        .unwrap()
        .evolve(&grown, false)
        .unwrap();
    assert_eq!(again.ids(), vec![1, 4], "a re-kinded field is a new field");
    // Two fields with one id are refused when read.
    assert!(serde_json::from_str::<Schema>(
        r#"{"fields":[{"name":"a","kind":"name","id":1},{"name":"b","kind":"email","id":1}]}"#
    )
    .is_err());
}

/// Issue 13, item 8: the schema editor shows kinds in words, and reads back what it shows.
#[test]
fn a_schema_reads_back_in_either_language_and_shows_its_fields_labels() {
    use crate::lang::Lang;
    let schema =
        Schema::parse("name:name, kana:kana_name, zip:postal_code, ship_name:name").unwrap();
    for lang in [Lang::Ja, Lang::En] {
        let again = Schema::parse(&schema.to_text_in(lang)).unwrap();
        assert_eq!(again.to_text(), schema.to_text(), "{lang:?}");
    }
    assert_eq!(
        schema.field_labels(Lang::Ja),
        "氏名（name）、氏名（カナ）、郵便番号、氏名（ship_name）"
    );
    assert_eq!(
        schema.field_labels(Lang::En),
        "Name (name), Name (kana), Postal code, Name (ship_name)"
    );
    assert_eq!(
        Schema::parse("zip：郵便番号").unwrap().to_text(),
        "zip:postal_code"
    );
    let rule = RetentionRule {
        base_field: "zip".into(),
        after_days: 30,
        action: RetentionAction::Delete,
    };
    assert_eq!(
        rule.describe(Some(&schema), Lang::En),
        "30 days after Postal code, delete the record"
    );
}

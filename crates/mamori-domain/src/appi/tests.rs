//! One test per rule of appi.md and per row of its §10 worked examples, driven through the §9
//! JSON contract so the tests read like the inputs tools send.

use serde_json::{json, Value};

use super::*;

/// An ordinary leak of contact data of ten people, known on 2026-04-07; each test overrides
/// what it is about.
fn base() -> Value {
    json!({
        "knew_at": "2026-04-07",
        "event": "leak",
        "items": ["name", "email"],
        "persons": 10,
        "contact_info_available": true
    })
}

fn assess_with(overrides: &Value) -> Assessment {
    let mut input = base();
    if let (Some(map), Some(extra)) = (input.as_object_mut(), overrides.as_object()) {
        map.extend(extra.clone());
    }
    assess_json(&input.to_string()).unwrap_or_else(|e| panic!("{input}: {e}"))
}

use crate::lang::Words;

fn has_reason(a: &Assessment, needle: &str) -> bool {
    a.reasons.iter().any(|r| r.ja().contains(needle))
}

#[track_caller]
fn assert_reason(a: &Assessment, needle: &str) {
    assert!(
        has_reason(a, needle),
        "no reason containing {needle:?} in {:#?}",
        a.reasons
    );
}

#[track_caller]
fn assert_not_reportable(a: &Assessment) {
    assert!(!a.reportable, "{a:#?}");
    assert!(a.categories.is_empty());
    assert_eq!((a.preliminary_report_due, a.final_report_due), (None, None));
    assert!(!a.notify_individuals);
    assert_eq!(a.notice_method, None);
}

/// A due date as the assessment holds it.
fn date(s: &str) -> Option<chrono::NaiveDate> {
    s.parse().ok()
}

use Category::{Financial, Malicious, Over1000, Sensitive};

// ---- §10 worked examples, one test per row -------------------------------------------------

#[test]
fn ex01_card_numbers_alone_are_financial() {
    let a = assess_with(&json!({"items": ["credit_card_number"], "persons": 300}));
    assert!(a.reportable);
    assert_eq!(a.categories, [Financial]);
    assert_reason(&a, "施行規則7条2号: クレジットカード番号");
}

#[test]
fn ex02_last_four_and_expiry_mis_sent_to_200_is_not_reportable() {
    let a = assess_with(&json!({
        "items": ["name", "credit_card_last4", "credit_card_expiry"], "persons": 200
    }));
    assert_not_reportable(&a);
    assert_reason(&a, "下4桁・有効期限のみ");
}

#[test]
fn ex03_unauthorised_access_is_malicious_with_60_days() {
    let a = assess_with(&json!({"malicious": true, "items": ["name", "address", "email"]}));
    assert_eq!(a.categories, [Malicious]);
    // Day 60 from 2026-04-07 is Friday 2026-06-05.
    assert_eq!(a.final_report_due, date("2026-06-05"));
    assert_reason(&a, "確報は60日以内");
}

#[test]
fn ex04_misconfiguration_exposing_1001_persons_is_over_1000() {
    let a = assess_with(&json!({
        "items": ["name", "address", "phone", "email"], "persons": 1001
    }));
    assert_eq!(a.categories, [Over1000]);
    assert_reason(&a, "施行規則7条4号: 本人の数 1,001人（千人を超える）");
    assert_eq!(a.final_report_due, date("2026-05-07"));
}

#[test]
fn ex05_exactly_1000_persons_is_not_enough() {
    let a = assess_with(&json!({
        "items": ["name", "address", "phone", "email"], "persons": 1000
    }));
    assert_not_reportable(&a);
    assert_reason(&a, "千人以下");
}

#[test]
fn ex06_unknown_count_uses_the_maximum_possible() {
    // The count is unknown but at most 1,200: the input carries the maximum (appi.md §2).
    let a = assess_with(&json!({"items": ["name", "email"], "persons": 1200}));
    assert_eq!(a.categories, [Over1000]);
}

#[test]
fn ex07_mis_sent_mail_deleted_unread_is_not_a_leak() {
    let a = assess_with(&json!({
        "recovered_before_viewed": true, "items": ["name", "medical_history"], "persons": 1
    }));
    assert_not_reportable(&a);
    assert_reason(&a, "漏えいに当たらない");
}

#[test]
fn ex08_stolen_laptop_with_high_grade_encryption_is_not_reportable() {
    let a = assess_with(&json!({
        "malicious": true, "high_grade_encryption": true,
        "items": ["name", "address", "credit_card_number"], "persons": 5000
    }));
    assert_not_reportable(&a);
    assert_reason(&a, "高度な暗号化");
}

#[test]
fn ex09_ransomware_without_backup_is_malicious_damage() {
    let a = assess_with(&json!({"event": "damage", "malicious": true}));
    assert!(a.reportable);
    assert_eq!(a.categories, [Malicious]);
    assert_reason(&a, "毀損が発生");
}

#[test]
fn ex10_reissuing_the_cards_does_not_remove_the_duty() {
    // Judged at the time of knowing: nothing in the input can express "reissued", and the same
    // card leak stays reportable.
    let a = assess_with(&json!({"items": ["credit_card_number", "credit_card_expiry"]}));
    assert!(a.reportable);
    assert_eq!(a.categories, [Financial]);
}

#[test]
fn ex11_web_skimming_is_malicious_only() {
    let a = assess_with(&json!({
        "malicious": true, "being_acquired": true,
        "items": ["name", "credit_card_number", "credit_card_security_code", "medical_history"],
        "persons": 5000
    }));
    assert_eq!(a.categories, [Malicious]);
    assert_reason(&a, "取得しようとしている個人情報は3号");
}

#[test]
fn ex12_contractor_that_told_the_entruster_next_day_is_exempt() {
    let contractor = assess_with(&json!({
        "role": "contractor", "notified_entruster_at": "2026-04-08",
        "items": ["credit_card_number"]
    }));
    assert_not_reportable(&contractor);
    assert!(!contractor.must_notify_entruster);
    assert_reason(&contractor, "委託先は報告・本人通知を免除");

    // The entruster's clock runs from the contractor's notice.
    let entruster = assess_with(&json!({"knew_at": "2026-04-08", "items": ["credit_card_number"]}));
    assert!(entruster.reportable);
    assert_eq!(entruster.categories, [Financial]);
    assert_eq!(entruster.preliminary_report_due, date("2026-04-12"));
}

#[test]
fn ex13_no_contact_details_means_alternative_measures() {
    let a = assess_with(&json!({"items": ["medical_history"], "contact_info_available": false}));
    assert!(a.notify_individuals);
    assert_eq!(a.notice_method, Some(NoticeMethod::Alternative));
    assert_reason(&a, "代替措置");
}

#[test]
fn ex14_day_30_on_keiro_no_hi_moves_to_the_next_day() {
    let a = assess_with(&json!({"knew_at": "2025-08-17", "items": ["credit_card_number"]}));
    assert_eq!(a.final_report_due, date("2025-09-16"));
    assert_reason(&a, "敬老の日");
}

#[test]
fn ex15_day_60_in_the_year_end_closure_moves_to_january_5() {
    let a = assess_with(&json!({"knew_at": "2025-11-05", "malicious": true}));
    assert_eq!(a.final_report_due, date("2026-01-05"));
    assert_reason(&a, "年末年始");
}

// ---- §1 Is it a breach at all? --------------------------------------------------------------

#[test]
fn r1_intentional_provision_is_not_a_leak() {
    let a = assess_with(&json!({"intentional_provision": true, "items": ["credit_card_number"]}));
    assert_not_reportable(&a);
    assert_reason(&a, "第三者提供");
}

#[test]
fn r1_loss_is_not_a_loss_when_the_data_is_held_elsewhere() {
    let lost = json!({"event": "loss", "items": ["health_check_result"]});
    let a = assess_with(&lost);
    assert_eq!(a.categories, [Sensitive]);
    assert_reason(&a, "滅失が発生");
    let mut copy = lost;
    copy["same_data_held_elsewhere"] = json!(true);
    assert_not_reportable(&assess_with(&copy));
}

#[test]
fn r1_damage_is_not_damage_when_a_usable_copy_exists() {
    let a = assess_with(&json!({
        "event": "damage", "malicious": true, "same_data_held_elsewhere": true
    }));
    assert_not_reportable(&a);
    assert_reason(&a, "バックアップ");
}

#[test]
fn r1_suspected_counts_like_the_real_thing() {
    let real = assess_with(&json!({"items": ["credit_card_number"]}));
    let suspected = assess_with(&json!({"items": ["credit_card_number"], "suspected": true}));
    assert_eq!(real.categories, suspected.categories);
    assert_eq!(real.final_report_due, suspected.final_report_due);
    assert_reason(&suspected, "おそれも発生したものと同様");
}

// ---- §2 Reportable situations and exclusions ------------------------------------------------

#[test]
fn r2_every_sensitive_item_alone_is_enough_for_one_person() {
    for item in Item::ALL.iter().filter(|i| i.is_sensitive()) {
        let a = assess_with(&json!({"items": [item.code()], "persons": 1}));
        assert_eq!(a.categories, [Sensitive], "{item}");
        assert_reason(
            &a,
            &format!("施行規則7条1号: 要配慮個人情報（{}）", item.label_ja()),
        );
    }
}

#[test]
fn r2_purchase_history_and_family_are_not_sensitive() {
    let a = assess_with(&json!({"items": ["purchase_history", "family_structure", "gender"]}));
    assert_not_reportable(&a);
}

#[test]
fn r2_financial_credentials() {
    for item in ["payment_service_credentials", "online_banking_credentials"] {
        assert_eq!(
            assess_with(&json!({"items": [item]})).categories,
            [Financial],
            "{item}"
        );
    }
    for items in [
        json!(["login_id"]),
        json!(["bank_account"]),
        json!(["address", "phone", "email", "sns_account"]),
    ] {
        assert_not_reportable(&assess_with(&json!({"items": items})));
    }
    // A login ID with its password is financial only for a payment service: say how to enter it.
    let a = assess_with(&json!({"items": ["login_id", "password"]}));
    assert_not_reportable(&a);
    assert_reason(&a, "payment_service_credentials");
}

#[test]
fn r2_an_insider_counts_as_malicious() {
    let a = assess_with(&json!({"malicious": true, "persons": 1, "items": ["employee_id"]}));
    assert_eq!(a.categories, [Malicious]);
}

#[test]
fn r2_1001_is_reportable_1000_is_not() {
    assert_eq!(
        assess_with(&json!({"persons": 1001})).categories,
        [Over1000]
    );
    assert_not_reportable(&assess_with(&json!({"persons": 1000})));
    assert_not_reportable(&assess_with(&json!({"persons": 999})));
}

#[test]
fn r2_all_categories_in_the_rules_order() {
    let a = assess_with(&json!({
        "malicious": true, "persons": 2000,
        "items": ["credit_card_number", "medical_history", "name"]
    }));
    assert_eq!(a.categories, [Sensitive, Financial, Malicious, Over1000]);
    assert_eq!(
        a.final_report_due,
        date("2026-06-05"),
        "60 days with malicious among others"
    );
}

#[test]
fn r2_being_acquired_without_malice_is_not_reportable() {
    let a = assess_with(&json!({
        "being_acquired": true, "items": ["credit_card_number"], "persons": 5000
    }));
    assert_not_reportable(&a);
}

#[test]
fn r2_pseudonymised_information_is_excluded() {
    let a = assess_with(&json!({
        "pseudonymized": true, "malicious": true, "items": ["medical_history"], "persons": 5000
    }));
    assert_not_reportable(&a);
    assert_reason(&a, "法41条9項");
}

#[test]
fn r2_no_persons_no_situation() {
    assert_not_reportable(&assess_with(&json!({"persons": 0, "malicious": true})));
}

#[test]
fn r2_voluntary_report_is_mentioned_when_not_required() {
    let a = assess_with(&json!({}));
    assert_not_reportable(&a);
    assert_reason(&a, "任意の報告は可能");
}

// ---- §3 Deadlines -----------------------------------------------------------------------------

#[test]
fn r3_example_saturday_moves_to_monday() {
    let a = assess_with(&json!({"knew_at": "2025-05-02", "items": ["credit_card_number"]}));
    assert_eq!(a.final_report_due, date("2025-06-02"));
    assert_reason(&a, "30日目 2025-05-31（土曜日）");
}

#[test]
fn r3_example_year_end_closure_moves_to_january() {
    let a = assess_with(&json!({"knew_at": "2025-12-01", "items": ["credit_card_number"]}));
    assert_eq!(a.final_report_due, date("2026-01-05"));
}

#[test]
fn r3_preliminary_is_day_five_and_is_not_moved() {
    let a = assess_with(&json!({"items": ["credit_card_number"]}));
    assert_eq!(
        a.preliminary_report_due,
        date("2026-04-11"),
        "a Saturday, unmoved"
    );
    assert_reason(&a, "3日目 2026-04-09 を目安、5日目 2026-04-11 を期限");
}

#[test]
fn r3_final_report_due_on_a_citizens_holiday() {
    // Day 30 is 2026-09-22 (国民の休日), then 9/23 秋分の日: due Thursday 9/24.
    let a = assess_with(&json!({"knew_at": "2026-08-24", "items": ["credit_card_number"]}));
    assert_eq!(a.final_report_due, date("2026-09-24"));
    assert_reason(&a, "国民の休日");
}

#[test]
fn r3_final_report_due_on_a_substitute_holiday() {
    // Day 30 is 2026-05-06, the 振替休日 for 憲法記念日 on a Sunday.
    let a = assess_with(&json!({"knew_at": "2026-04-07", "items": ["credit_card_number"]}));
    assert_eq!(a.final_report_due, date("2026-05-07"));
    assert_reason(&a, "振替休日");
    // And in 2025, for みどりの日 on a Sunday.
    let a = assess_with(&json!({"knew_at": "2025-04-07", "items": ["credit_card_number"]}));
    assert_eq!(a.final_report_due, date("2025-05-07"));
}

#[test]
fn r3_final_report_due_in_the_year_end_closure() {
    let a = assess_with(&json!({"knew_at": "2026-12-01", "items": ["credit_card_number"]}));
    assert_eq!(a.final_report_due, date("2027-01-04"));
}

#[test]
fn r3_utc_knowing_time_already_next_day_in_japan() {
    let utc = assess_with(&json!({
        "knew_at": "2026-04-06T20:00:00Z", "items": ["credit_card_number"]
    }));
    let jst = assess_with(&json!({"knew_at": "2026-04-07", "items": ["credit_card_number"]}));
    assert_eq!(utc.preliminary_report_due, date("2026-04-11"));
    assert_eq!(utc.final_report_due, jst.final_report_due);
    assert_reason(&utc, "日本時間で 2026-04-07");
    // 14:59 UTC is still the same day in Japan.
    let same_day = assess_with(&json!({
        "knew_at": "2026-04-06T14:59:00Z", "items": ["credit_card_number"]
    }));
    assert_eq!(same_day.preliminary_report_due, date("2026-04-10"));
}

#[test]
fn r3_a_deadline_beyond_the_calendar_is_an_error_naming_knew_at() {
    let input = json!({
        "knew_at": "2027-12-20", "event": "leak", "items": ["credit_card_number"], "persons": 1
    });
    let e = assess_json(&input.to_string()).expect_err("2028 is not covered");
    assert_eq!(e.field_name(), Some("knew_at"));
    assert!(
        e.message().contains("outside the government calendar"),
        "{e}"
    );
}

// ---- §5 Notice ------------------------------------------------------------------------------

#[test]
fn r5_direct_notice_when_reachable() {
    let a = assess_with(&json!({"items": ["credit_card_number"]}));
    assert!(a.notify_individuals);
    assert_eq!(a.notice_method, Some(NoticeMethod::Direct));
    assert_reason(&a, "施行規則10条");
}

#[test]
fn r5_absent_contact_info_counts_as_false_and_says_so() {
    let input = json!({
        "knew_at": "2026-04-07", "event": "leak", "items": ["credit_card_number"], "persons": 1
    });
    let a = assess_json(&input.to_string()).unwrap();
    assert_eq!(a.notice_method, Some(NoticeMethod::Alternative));
    assert_reason(&a, "contact_info_available の指定がない");
}

#[test]
fn r5_no_notice_when_nothing_is_reportable() {
    let a = assess_with(&json!({"contact_info_available": false}));
    assert_eq!((a.notify_individuals, a.notice_method), (false, None));
}

// ---- §6 Contractors -------------------------------------------------------------------------

#[test]
fn r6_contractor_that_has_not_told_the_entruster_must_do_so() {
    let a = assess_with(&json!({"role": "contractor", "items": ["credit_card_number"]}));
    assert!(a.reportable, "not exempt until it has told the entruster");
    assert!(a.must_notify_entruster);
    assert_reason(&a, "5日目 2026-04-11 までに");
}

#[test]
fn r6_contractor_telling_the_entruster_late_is_not_exempt() {
    let a = assess_with(&json!({
        "role": "contractor", "notified_entruster_at": "2026-04-12T09:00:00+09:00",
        "items": ["credit_card_number"]
    }));
    assert!(a.reportable);
    assert!(!a.must_notify_entruster);
    assert_reason(&a, "6日目");
}

#[test]
fn r6_contractor_on_day_five_is_still_prompt() {
    let a = assess_with(&json!({
        "role": "contractor", "notified_entruster_at": "2026-04-11", "items": ["credit_card_number"]
    }));
    assert_not_reportable(&a);
}

#[test]
fn r6_no_entruster_duty_when_nothing_is_reportable() {
    let a = assess_with(&json!({"role": "contractor"}));
    assert!(!a.must_notify_entruster);
}

#[test]
fn r6_controller_never_notifies_an_entruster() {
    let a = assess_with(&json!({"items": ["credit_card_number"]}));
    assert!(!a.must_notify_entruster);
}

// ---- §7 My Number Act -----------------------------------------------------------------------

#[test]
fn r7_null_without_a_my_number_item() {
    assert_eq!(assess_with(&json!({"persons": 5000})).my_number_act, None);
}

#[test]
fn r7_more_than_100_persons() {
    let a = assess_with(&json!({"items": ["name", "my_number"], "persons": 101}));
    // Not the APPI (101 persons and no category), but the My Number Act.
    assert!(!a.reportable && a.categories.is_empty() && a.final_report_due.is_none());
    assert_eq!(
        a.my_number_act,
        Some(MyNumberAct {
            reportable: true,
            final_report_due: date("2026-05-07")
        })
    );
    assert!(
        a.notify_individuals,
        "the My Number Act requires notice too"
    );
    assert_eq!(a.notice_method, Some(NoticeMethod::Direct));
    assert_reason(&a, "100人を超える");

    let a = assess_with(&json!({"items": ["name", "my_number"], "persons": 100}));
    assert_eq!(
        a.my_number_act,
        Some(MyNumberAct {
            reportable: false,
            final_report_due: None
        })
    );
    assert!(!a.notify_individuals);
    assert_reason(&a, "報告に努める");
}

#[test]
fn r7_wrongful_purpose_gives_60_days() {
    let a = assess_with(&json!({"items": ["my_number"], "persons": 3, "malicious": true}));
    assert_eq!(a.categories, [Malicious]);
    assert_eq!(
        a.my_number_act,
        Some(MyNumberAct {
            reportable: true,
            final_report_due: date("2026-06-05")
        })
    );
}

#[test]
fn r7_no_being_acquired_extension() {
    let a = assess_with(&json!({
        "items": ["my_number"], "persons": 500, "malicious": true, "being_acquired": true
    }));
    assert_eq!(
        a.categories,
        [Malicious],
        "the APPI counts data being acquired"
    );
    assert_eq!(
        a.my_number_act,
        Some(MyNumberAct {
            reportable: false,
            final_report_due: None
        })
    );
}

#[test]
fn r7_high_grade_encryption_excludes_both_regimes() {
    let a = assess_with(&json!({
        "items": ["my_number"], "persons": 500, "high_grade_encryption": true
    }));
    assert_not_reportable(&a);
    assert_eq!(
        a.my_number_act,
        Some(MyNumberAct {
            reportable: false,
            final_report_due: None
        })
    );
}

#[test]
fn r7_contractor_exemption_applies_to_my_number_too() {
    let a = assess_with(&json!({
        "items": ["my_number"], "persons": 500,
        "role": "contractor", "notified_entruster_at": "2026-04-07T18:00:00+09:00"
    }));
    assert_eq!(
        a.my_number_act,
        Some(MyNumberAct {
            reportable: false,
            final_report_due: None
        })
    );
    assert!(!a.notify_individuals);
    let a = assess_with(&json!({"items": ["my_number"], "persons": 500, "role": "contractor"}));
    assert!(
        a.must_notify_entruster,
        "a My Number situation alone obliges the contractor"
    );
}

// ---- §9 The contract --------------------------------------------------------------------------

#[test]
fn contract_example_input() {
    let input = r#"{
      "knew_at": "2026-04-07T10:00:00+09:00", "event": "leak", "suspected": false,
      "recovered_before_viewed": false, "same_data_held_elsewhere": false,
      "intentional_provision": false, "pseudonymized": false, "high_grade_encryption": false,
      "malicious": false, "being_acquired": false,
      "items": ["name", "address", "credit_card_number"], "persons": 1200,
      "role": "controller", "notified_entruster_at": null, "contact_info_available": true
    }"#;
    let a = assess_json(input).unwrap();
    // The fields come out in the contract's order.
    let text = serde_json::to_string(&a).unwrap();
    let order = [
        "reportable",
        "categories",
        "preliminary_report_due",
        "final_report_due",
        "notify_individuals",
        "notice_method",
        "must_notify_entruster",
        "my_number_act",
        "reasons",
    ];
    let positions: Vec<_> = order
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} missing"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json.as_object().unwrap().len(), order.len());
    assert_eq!(json["categories"], json!(["financial", "over_1000"]));
    assert_eq!(json["preliminary_report_due"], "2026-04-11");
    assert_eq!(json["final_report_due"], "2026-05-07");
    assert_eq!(json["notice_method"], "direct");
    assert_eq!(json["my_number_act"], Value::Null);
}

#[test]
fn every_reason_cites_a_rule_or_the_input() {
    let a = assess_with(&json!({
        "malicious": true, "persons": 2000, "role": "contractor",
        "items": ["credit_card_number", "medical_history", "my_number"]
    }));
    for reason in &a.reasons {
        let cites = ["法", "規則", "通則編", "contact_info_available"]
            .iter()
            .any(|c| reason.ja().contains(c));
        assert!(cites, "{reason}");
    }
}

#[test]
fn facts_built_in_code_give_the_same_answer() {
    let facts = Facts::new(
        KnownAt::parse("2026-04-07").unwrap(),
        Event::Leak,
        &[Item::CreditCardNumber],
        1,
    );
    let a = assess(&facts).unwrap();
    assert_eq!(
        a,
        assess_with(&json!({"items": ["credit_card_number"], "persons": 1}))
    );
}

// ---- Bad input never panics ------------------------------------------------------------------

#[test]
fn odd_values_in_any_field_are_errors_or_answers_never_panics() {
    let fields = [
        "knew_at",
        "event",
        "suspected",
        "malicious",
        "being_acquired",
        "items",
        "persons",
        "role",
        "notified_entruster_at",
        "contact_info_available",
    ];
    let values = [
        json!(null),
        json!(-1),
        json!(0),
        json!(1.0e308),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(""),
        json!("9999-12-31"),
        json!("0000-01-01"),
        json!("+262142-12-31"),
        json!("2026-04-07T10:00:00+23:59"),
        json!("2027-12-31T23:59:59-12:00"),
        json!([]),
        json!(["my_number", "my_number"]),
        json!({}),
        json!(true),
    ];
    for field in fields {
        for value in &values {
            let mut input = base();
            input["role"] = json!("contractor");
            input[field] = value.clone();
            // Either an answer or an error naming a field; reaching here without a panic is the
            // point, and an error must say something.
            if let Err(e) = assess_json(&input.to_string()) {
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

/// Every reason has English words without a Japanese character, and Japanese words.
#[test]
fn every_reason_has_english_words() {
    for facts in [
        json!({"malicious": true, "persons": 2000, "role": "contractor",
               "items": ["credit_card_number", "medical_history", "my_number"]}),
        json!({"persons": 950, "items": ["credit_card_last4", "login_id", "password"]}),
        json!({"persons": 50, "items": ["my_number"], "contact_info_available": null}),
        json!({"being_acquired": true, "malicious": true, "items": ["my_number"]}),
        json!({"pseudonymized": true}),
        json!({"high_grade_encryption": true}),
        json!({"persons": 0}),
        json!({"event": "loss", "same_data_held_elsewhere": true}),
        json!({"knew_at": "2025-04-30T20:00:00Z", "persons": 1001}),
    ] {
        let a = assess_with(&facts);
        for r in &a.reasons {
            let en = r.en();
            assert!(!en.is_empty() && !r.ja().is_empty());
            assert!(
                !en.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c)
                    || ('\u{ff00}'..='\u{ffef}').contains(&c)),
                "{en}"
            );
        }
    }
}

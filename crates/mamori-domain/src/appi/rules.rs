//! The decision itself: appi.md §1 (breach or not), §2 (reportable situations and exclusions),
//! §5 (notice), §6 (contractors) and §7 (My Number Act), with the deadlines of §3.
//!
//! Each step appends one Japanese line to the reasons, citing its rule, so a person can check the
//! decision line by line. The functions here are pure: the facts go in, the assessment comes out.

use chrono::NaiveDate;

use super::assessment::{Assessment, Category, MyNumberAct, NoticeMethod};
use super::deadline;
use super::facts::{Event, Facts, KnownAt, Role};
use super::item::Item;
use crate::calendar::CalendarError;

/// More than this many persons is reportable under the APPI (施行規則7条4号: 千人を超える).
pub const APPI_PERSONS_THRESHOLD: u64 = 1_000;
/// More than this many persons is reportable under the My Number Act.
pub const MY_NUMBER_PERSONS_THRESHOLD: u64 = 100;

/// Assesses one incident. The only error is a deadline outside the government calendar's years.
pub fn assess(facts: &Facts) -> Result<Assessment, CalendarError> {
    let mut reasons = Vec::new();
    let knew_on = facts.knew_at.jst_date();
    reasons.push(knowing_reason(facts.knew_at, knew_on));

    let breach = is_breach(facts, &mut reasons);
    let excluded = breach && is_excluded(facts, &mut reasons);
    let held = breach && !excluded && persons_affected(facts, &mut reasons);

    // §2: the APPI's reportable situation.
    let categories = if held {
        categories(facts, &mut reasons)
    } else {
        Vec::new()
    };
    if held && categories.is_empty() {
        reasons.push(
            "施行規則7条: 報告対象事態のいずれにも当たらないため報告義務なし（任意の報告は可能）"
                .to_owned(),
        );
    }
    let appi_situation = !categories.is_empty();

    // §7: the My Number Act, a separate regime on the same facts.
    let my_number_situation = if facts.items.contains(&Item::MyNumber) {
        Some(held && my_number_situation(facts, &mut reasons))
    } else {
        None
    };

    // §6: a contractor that told its entruster promptly is exempt from report and notice.
    let situation = appi_situation || my_number_situation == Some(true);
    let contractor = contractor_duty(facts, knew_on, situation, &mut reasons)?;
    let appi_reportable = appi_situation && !contractor.exempt;
    let my_number_reportable = my_number_situation.map(|s| s && !contractor.exempt);

    // §3: deadlines, only when a report is required.
    let (preliminary_report_due, final_report_due) = if appi_reportable {
        let preliminary = deadline::preliminary_report(knew_on)?;
        reasons.push(format!(
            "施行規則8条1項: 速報は速やかに（3日目 {} を目安、5日目 {} を期限とする）",
            preliminary.warning, preliminary.due
        ));
        let malicious = categories.contains(&Category::Malicious);
        let final_report = deadline::final_report(knew_on, malicious)?;
        reasons.push(format!(
            "施行規則8条2項: 確報は{}日以内{}: {}",
            final_report.days,
            if malicious {
                "（不正の目的によるおそれ）"
            } else {
                ""
            },
            final_report.describe_ja()
        ));
        (Some(preliminary.due), Some(final_report.due))
    } else {
        (None, None)
    };

    let my_number_act = match my_number_reportable {
        None => None,
        Some(false) => Some(MyNumberAct {
            reportable: false,
            final_report_due: None,
        }),
        Some(true) => {
            let final_report = deadline::final_report(knew_on, facts.malicious)?;
            reasons.push(format!(
                "番号法29条の4・特定個人情報漏えい等報告規則: 確報は{}日以内: {}",
                final_report.days,
                final_report.describe_ja()
            ));
            Some(MyNumberAct {
                reportable: true,
                final_report_due: Some(final_report.due),
            })
        }
    };

    // §5: notice to the persons, whenever either regime requires a report.
    let notify_individuals = appi_reportable || my_number_reportable == Some(true);
    let notice_method = notify_individuals.then(|| notice_method(facts, &mut reasons));
    if notify_individuals && my_number_reportable == Some(true) {
        reasons.push("特定個人情報漏えい等報告規則5条: 本人への通知（番号法）".to_owned());
    }

    Ok(Assessment {
        reportable: appi_reportable,
        categories: if appi_reportable {
            categories
        } else {
            Vec::new()
        },
        preliminary_report_due,
        final_report_due,
        notify_individuals,
        notice_method,
        must_notify_entruster: contractor.must_notify_entruster,
        my_number_act,
        reasons,
    })
}

fn knowing_reason(knew_at: KnownAt, knew_on: NaiveDate) -> String {
    match knew_at {
        KnownAt::Time(time) if time.offset().local_minus_utc() != 9 * 3600 => format!(
            "通則編3-5-3-3: 知った時点 {time} は日本時間で {knew_on}。この日を1日目として数える",
            time = time.to_rfc3339()
        ),
        _ => format!("通則編3-5-3-3: 知った日 {knew_on}（日本時間）を1日目として数える"),
    }
}

/// §1: whether a leak, loss or damage (or a suspected one) happened at all.
fn is_breach(facts: &Facts, reasons: &mut Vec<String>) -> bool {
    let not_a = |why: &str| format!("法26条1項: {}に当たらない（{why}）", facts.event.label_ja());
    let exclusion = match facts.event {
        Event::Leak if facts.intentional_provision => {
            Some(not_a("意図的な提供は第三者提供の問題であり漏えいではない"))
        }
        Event::Leak if facts.recovered_before_viewed => Some(not_a(
            "第三者に閲覧される前にすべて回収された（閲覧されていないことが確認できる）",
        )),
        Event::Loss if facts.same_data_held_elsewhere => {
            Some(not_a("同じデータが他に保管されている"))
        }
        Event::Damage if facts.same_data_held_elsewhere => {
            Some(not_a("利用可能な複製（バックアップ等）がある"))
        }
        _ => None,
    };
    if let Some(reason) = exclusion {
        reasons.push(reason);
        return false;
    }
    reasons.push(if facts.suspected {
        format!(
            "法26条1項: {}のおそれ（おそれも発生したものと同様に扱う）",
            facts.event.label_ja()
        )
    } else {
        format!("法26条1項: {}が発生", facts.event.label_ja())
    });
    true
}

/// §2 exclusions that apply whatever the category.
fn is_excluded(facts: &Facts, reasons: &mut Vec<String>) -> bool {
    if facts.pseudonymized {
        reasons.push(
            "法41条9項: 仮名加工情報には漏えい等報告（法26条）が適用されないため報告対象外"
                .to_owned(),
        );
        return true;
    }
    if facts.high_grade_encryption {
        reasons.push(
            "施行規則7条1号かっこ書: 高度な暗号化その他の保護措置が講じられているため報告対象外\
             （任意の報告は可能）"
                .to_owned(),
        );
        return true;
    }
    false
}

fn persons_affected(facts: &Facts, reasons: &mut Vec<String>) -> bool {
    if facts.persons == 0 {
        reasons.push("施行規則7条: 本人の数が0人のため報告対象事態に当たらない".to_owned());
        return false;
    }
    true
}

/// §2: the APPI categories that hold, in the rule's order.
fn categories(facts: &Facts, reasons: &mut Vec<String>) -> Vec<Category> {
    let mut categories = Vec::new();
    if facts.being_acquired {
        reasons.push(
            "施行規則7条3号かっこ書: 取得しようとしている個人情報は3号（不正の目的）に限り対象\
             （1号・2号・4号は取り扱っている個人データのみ）"
                .to_owned(),
        );
    } else {
        let sensitive = labels(facts, Item::is_sensitive);
        if !sensitive.is_empty() {
            categories.push(Category::Sensitive);
            reasons.push(format!("施行規則7条1号: 要配慮個人情報（{sensitive}）"));
        }
        let financial = labels(facts, Item::is_financial);
        if financial.is_empty() {
            financial_near_misses(facts, reasons);
        } else {
            categories.push(Category::Financial);
            reasons.push(format!(
                "施行規則7条2号: {financial}（不正利用により財産的被害が生じるおそれ）"
            ));
        }
    }
    if facts.malicious {
        categories.push(Category::Malicious);
        reasons.push(
            "施行規則7条3号: 不正の目的をもって行われたおそれがある漏えい等（外部からの攻撃、\
             盗難、内部不正。委託先・クラウドへの攻撃を含む）"
                .to_owned(),
        );
    }
    if !facts.being_acquired {
        if facts.persons > APPI_PERSONS_THRESHOLD {
            categories.push(Category::Over1000);
            reasons.push(format!(
                "施行規則7条4号: 本人の数 {}人（千人を超える）",
                thousands(facts.persons)
            ));
        } else if facts.persons + 100 > APPI_PERSONS_THRESHOLD {
            // Close to the line: say so, because a growing count becomes reportable at 1,001.
            reasons.push(format!(
                "施行規則7条4号に当たらない: 本人の数 {}人（千人以下。千人を超えた時点で報告対象）",
                thousands(facts.persons)
            ));
        }
    }
    categories
}

/// Items that look financial but are not by themselves; said so, so nobody wonders.
fn financial_near_misses(facts: &Facts, reasons: &mut Vec<String>) {
    let has = |item| facts.items.contains(&item);
    if has(Item::CreditCardLast4) || has(Item::CreditCardExpiry) {
        reasons.push(
            "施行規則7条2号に当たらない: カード番号の下4桁・有効期限のみでは財産的被害のおそれはない"
                .to_owned(),
        );
    }
    if has(Item::LoginId) && has(Item::Password) {
        reasons.push(
            "施行規則7条2号の確認: ログインIDとパスワードの組が決済・送金機能のあるサービスのもの\
             なら2号に当たる（その場合は payment_service_credentials として入力）"
                .to_owned(),
        );
    }
}

/// §7: whether the My Number Act's reportable situation holds.
fn my_number_situation(facts: &Facts, reasons: &mut Vec<String>) -> bool {
    if facts.being_acquired {
        reasons.push(
            "番号法: 取得しようとしている特定個人情報は報告対象外（取得中の拡張は番号法にはない）"
                .to_owned(),
        );
        return false;
    }
    let mut reportable = false;
    if facts.malicious {
        reportable = true;
        reasons.push(
            "番号法29条の4・特定個人情報漏えい等報告規則2条: 不正の目的をもって行われたおそれ"
                .to_owned(),
        );
    }
    if facts.persons > MY_NUMBER_PERSONS_THRESHOLD {
        reportable = true;
        reasons.push(format!(
            "番号法29条の4・特定個人情報漏えい等報告規則2条: 本人の数 {}人（100人を超える）",
            thousands(facts.persons)
        ));
    }
    if !reportable {
        reasons.push(format!(
            "番号法: 本人の数 {}人（100人以下）で不正目的のおそれもないため報告義務なし。\
             公的機関等の番号利用事務のシステムからの漏えい、不特定多数に閲覧されたおそれがあれば\
             報告対象（入力にない事情のため判定していない）。報告義務がなくても報告に努める",
            thousands(facts.persons)
        ));
    }
    reportable
}

struct ContractorDuty {
    exempt: bool,
    must_notify_entruster: bool,
}

/// §6: a contractor's exemption and its duty to tell the entruster.
fn contractor_duty(
    facts: &Facts,
    knew_on: NaiveDate,
    situation: bool,
    reasons: &mut Vec<String>,
) -> Result<ContractorDuty, CalendarError> {
    let mut duty = ContractorDuty {
        exempt: false,
        must_notify_entruster: false,
    };
    if facts.role != Role::Contractor || !situation {
        return Ok(duty);
    }
    let prompt_until = deadline::day(knew_on, deadline::PRELIMINARY_DUE_DAY)?;
    match facts.notified_entruster_at {
        None => {
            duty.must_notify_entruster = true;
            reasons.push(format!(
                "法26条1項ただし書・施行規則9条: 委託先は委託元へ速やかに（5日目 {prompt_until} まで\
                 に）通知すれば報告・本人通知を免除される。委託元への通知が必要"
            ));
        }
        Some(at) => {
            let notified_on = at.jst_date();
            let day = (notified_on - knew_on).num_days() + 1;
            if notified_on <= prompt_until {
                duty.exempt = true;
                reasons.push(format!(
                    "法26条1項ただし書・施行規則9条: 委託元へ {notified_on}（{day}日目）に速やかに\
                     通知済みのため委託先は報告・本人通知を免除。委託元が報告・通知する"
                ));
            } else {
                reasons.push(format!(
                    "法26条1項ただし書・施行規則9条: 委託元への通知が {notified_on}（{day}日目）で\
                     速やかとはいえないため、委託先の報告・本人通知は免除されない"
                ));
            }
        }
    }
    Ok(duty)
}

/// §5: directly when the persons can be reached, otherwise by alternative measures.
fn notice_method(facts: &Facts, reasons: &mut Vec<String>) -> NoticeMethod {
    if facts.contact_info_available == Some(true) {
        reasons.push(
            "施行規則10条: 本人へ直接通知する（書面・電子メール等。状況に応じ速やかに）".to_owned(),
        );
        return NoticeMethod::Direct;
    }
    if facts.contact_info_available.is_none() {
        reasons.push(
            "contact_info_available の指定がないため false（連絡先なし）として扱った".to_owned(),
        );
    }
    reasons.push(
        "法26条2項ただし書: 本人への通知が困難（連絡先がない）ため代替措置（事案の公表、\
         または本人が問い合わせできる窓口の公表）"
            .to_owned(),
    );
    NoticeMethod::Alternative
}

/// The Japanese labels of the matching items, joined with 、.
fn labels(facts: &Facts, pred: fn(Item) -> bool) -> String {
    facts
        .items
        .iter()
        .copied()
        .filter(|&i| pred(i))
        .map(Item::label_ja)
        .collect::<Vec<_>>()
        .join("、")
}

/// 1001 → "1,001".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|group| std::str::from_utf8(group).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separator() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), s);
        }
    }
}

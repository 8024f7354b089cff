//! The decision itself: appi.md §1 (breach or not), §2 (reportable situations and exclusions),
//! §5 (notice), §6 (contractors) and §7 (My Number Act), with the deadlines of §3.
//!
//! Each step appends one reason (a value whose Japanese words are the contract's line) to the reasons, citing its rule, so a person can check the
//! decision line by line. The functions here are pure: the facts go in, the assessment comes out.

use chrono::NaiveDate;

use super::assessment::{Assessment, Category, MyNumberAct, NoticeMethod};
use super::deadline;
use super::facts::{Event, Facts, KnownAt, Role};
use super::item::Item;
use super::reason::{NotBreach, Reason};
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
        reasons.push(Reason::NoCategory);
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
        reasons.push(Reason::Preliminary {
            warning: preliminary.warning,
            due: preliminary.due,
        });
        let malicious = categories.contains(&Category::Malicious);
        let final_report = deadline::final_report(knew_on, malicious)?;
        reasons.push(Reason::Final {
            deadline: final_report,
            malicious,
        });
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
            reasons.push(Reason::MyNumberFinal(final_report));
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
        reasons.push(Reason::MyNumberNotice);
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

fn knowing_reason(knew_at: KnownAt, knew_on: NaiveDate) -> Reason {
    match knew_at {
        KnownAt::Time(time) if time.offset().local_minus_utc() != 9 * 3600 => Reason::Knowing {
            time: Some(time.to_rfc3339()),
            knew_on,
        },
        _ => Reason::Knowing {
            time: None,
            knew_on,
        },
    }
}

/// §1: whether a leak, loss or damage (or a suspected one) happened at all.
fn is_breach(facts: &Facts, reasons: &mut Vec<Reason>) -> bool {
    let why = match facts.event {
        Event::Leak if facts.intentional_provision => Some(NotBreach::IntentionalProvision),
        Event::Leak if facts.recovered_before_viewed => Some(NotBreach::RecoveredBeforeViewed),
        Event::Loss if facts.same_data_held_elsewhere => Some(NotBreach::HeldElsewhere),
        Event::Damage if facts.same_data_held_elsewhere => Some(NotBreach::BackupExists),
        _ => None,
    };
    if let Some(why) = why {
        reasons.push(Reason::NotABreach {
            event: facts.event,
            why,
        });
        return false;
    }
    reasons.push(Reason::Breach {
        event: facts.event,
        suspected: facts.suspected,
    });
    true
}

/// §2 exclusions that apply whatever the category.
fn is_excluded(facts: &Facts, reasons: &mut Vec<Reason>) -> bool {
    if facts.pseudonymized {
        reasons.push(Reason::Pseudonymized);
        return true;
    }
    if facts.high_grade_encryption {
        reasons.push(Reason::HighGradeEncryption);
        return true;
    }
    false
}

fn persons_affected(facts: &Facts, reasons: &mut Vec<Reason>) -> bool {
    if facts.persons == 0 {
        reasons.push(Reason::NoPersons);
        return false;
    }
    true
}

/// §2: the APPI categories that hold, in the rule's order.
fn categories(facts: &Facts, reasons: &mut Vec<Reason>) -> Vec<Category> {
    let mut categories = Vec::new();
    if facts.being_acquired {
        reasons.push(Reason::BeingAcquired);
    } else {
        let sensitive = matching(facts, Item::is_sensitive);
        if !sensitive.is_empty() {
            categories.push(Category::Sensitive);
            reasons.push(Reason::Sensitive(sensitive));
        }
        let financial = matching(facts, Item::is_financial);
        if financial.is_empty() {
            financial_near_misses(facts, reasons);
        } else {
            categories.push(Category::Financial);
            reasons.push(Reason::Financial(financial));
        }
    }
    if facts.malicious {
        categories.push(Category::Malicious);
        reasons.push(Reason::Malicious);
    }
    if !facts.being_acquired {
        if facts.persons > APPI_PERSONS_THRESHOLD {
            categories.push(Category::Over1000);
            reasons.push(Reason::Over1000(facts.persons));
        } else if facts.persons + 100 > APPI_PERSONS_THRESHOLD {
            // Close to the line: say so, because a growing count becomes reportable at 1,001.
            reasons.push(Reason::Near1000(facts.persons));
        }
    }
    categories
}

/// Items that look financial but are not by themselves; said so, so nobody wonders.
fn financial_near_misses(facts: &Facts, reasons: &mut Vec<Reason>) {
    let has = |item| facts.items.contains(&item);
    if has(Item::CreditCardLast4) || has(Item::CreditCardExpiry) {
        reasons.push(Reason::CardPartsOnly);
    }
    if has(Item::LoginId) && has(Item::Password) {
        reasons.push(Reason::LoginAndPassword);
    }
}

/// §7: whether the My Number Act's reportable situation holds.
fn my_number_situation(facts: &Facts, reasons: &mut Vec<Reason>) -> bool {
    if facts.being_acquired {
        reasons.push(Reason::MyNumberBeingAcquired);
        return false;
    }
    let mut reportable = false;
    if facts.malicious {
        reportable = true;
        reasons.push(Reason::MyNumberMalicious);
    }
    if facts.persons > MY_NUMBER_PERSONS_THRESHOLD {
        reportable = true;
        reasons.push(Reason::MyNumberOver100(facts.persons));
    }
    if !reportable {
        reasons.push(Reason::MyNumberNotReportable(facts.persons));
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
    reasons: &mut Vec<Reason>,
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
            reasons.push(Reason::EntrusterToNotify { prompt_until });
        }
        Some(at) => {
            let on = at.jst_date();
            let day = (on - knew_on).num_days() + 1;
            if on <= prompt_until {
                duty.exempt = true;
                reasons.push(Reason::EntrusterToldPromptly { on, day });
            } else {
                reasons.push(Reason::EntrusterToldLate { on, day });
            }
        }
    }
    Ok(duty)
}

/// §5: directly when the persons can be reached, otherwise by alternative measures.
fn notice_method(facts: &Facts, reasons: &mut Vec<Reason>) -> NoticeMethod {
    if facts.contact_info_available == Some(true) {
        reasons.push(Reason::NoticeDirect);
        return NoticeMethod::Direct;
    }
    if facts.contact_info_available.is_none() {
        reasons.push(Reason::ContactInfoMissing);
    }
    reasons.push(Reason::NoticeAlternative);
    NoticeMethod::Alternative
}

/// The matching items, in their order.
fn matching(facts: &Facts, pred: fn(Item) -> bool) -> Vec<Item> {
    facts.items.iter().copied().filter(|&i| pred(i)).collect()
}

#[cfg(test)]
mod tests {
    use crate::appi::reason::thousands;

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

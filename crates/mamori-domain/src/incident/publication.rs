//! The publication decision (公表判断) on the five viewpoints of seed 001 8-⑥: who manages the
//! data (管理主体), the form of the leak (漏えい形態), its content (漏えい内容), its volume
//! (漏えい情報量) and the size of the damage (被害の大きさ).
//!
//! mamori recommends; an executive decides and gives the reason. The recommendation is an
//! interpretation written down here so that it can be argued with: publication is mandatory
//! only as the alternative measure when the persons cannot be told directly (施行規則10条 ただし書),
//! and otherwise "usually desirable" (appi.md §5).

use serde::{Deserialize, Serialize};

use crate::appi::NoticeMethod;

macro_rules! coded {
    ($name:ident { $($v:ident = $code:literal, $ja:literal, $en:literal;)* }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v,)* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            pub fn code(self) -> &'static str { match self { $($name::$v => $code,)* } }
            pub fn label_ja(self) -> &'static str { match self { $($name::$v => $ja,)* } }
            pub fn label_en(self) -> &'static str { match self { $($name::$v => $en,)* } }
            pub fn parse(s: &str) -> Option<Self> { Self::ALL.iter().copied().find(|x| x.code() == s) }
        }
    };
}

coded!(Manager {
    Own = "own", "自社が管理", "Managed by the company";
    Contractor = "contractor", "委託先が管理（自社が委託元）", "Managed by a contractor";
    Entruster = "entruster", "委託元のデータ（自社が委託先）", "Data of an entruster (we are the contractor)";
});

coded!(LeakForm {
    ExternalAttack = "external_attack", "外部からの攻撃（不正アクセス等）", "External attack";
    Insider = "insider", "内部者による持ち出し", "Taken by an insider";
    TheftLoss = "theft_loss", "盗難・紛失", "Theft or loss";
    MisSending = "mis_sending", "誤送付・誤送信", "Mis-sent";
    Exposure = "exposure", "設定不備による公開", "Exposed by misconfiguration";
    Other = "other", "その他", "Other";
});

coded!(Content {
    Sensitive = "sensitive", "要配慮個人情報を含む", "Includes sensitive data";
    Financial = "financial", "クレジットカード・口座等の財産的被害のおそれ", "Financial data";
    Contact = "contact", "氏名・連絡先等", "Names and contact data";
    Other = "other", "その他", "Other";
});

coded!(Damage {
    None = "none", "被害なし", "No damage";
    Possible = "possible", "二次被害のおそれあり", "Secondary damage possible";
    Occurred = "occurred", "二次被害が発生", "Secondary damage occurred";
});

coded!(Recommendation {
    Publish = "publish", "公表する", "Publish";
    Consider = "consider", "公表を検討する", "Consider publishing";
    NotNeeded = "not_needed", "公表は不要", "No publication needed";
});

coded!(Decision {
    Publish = "publish", "公表する", "Publish";
    NotPublish = "not_publish", "公表しない", "Do not publish";
});

/// The five viewpoints as recorded by the privacy office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewpoints {
    pub manager: Manager,
    pub form: LeakForm,
    pub content: Content,
    /// 漏えい情報量: persons affected.
    pub volume: u64,
    pub damage: Damage,
}

/// Why the five viewpoints lead to a recommendation, as a value with words in both languages.
/// The Japanese words are what is stored with a publication record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubReason {
    AlternativeNotice,
    DamageOccurred,
    DamagePossible,
    SeriousLeak { form: LeakForm, content: Content },
    ContentOnly { content: Content },
    ManyPersons { volume: u64 },
    SomePersons { volume: u64 },
    Entruster,
    NothingToPublish,
}

impl crate::lang::Words for PubReason {
    fn ja(&self) -> String {
        let n = |v: &u64| super::facts::group_digits(*v);
        match self {
            PubReason::AlternativeNotice => {
                "本人への直接の通知が困難なため、代替措置として公表が必要です（施行規則10条ただし書）".into()
            }
            PubReason::DamageOccurred => {
                "二次被害が発生しており、被害拡大の防止のため公表が必要です（被害の大きさ）".into()
            }
            PubReason::DamagePossible => {
                "二次被害のおそれがあり、注意喚起のための公表を検討します（被害の大きさ）".into()
            }
            PubReason::SeriousLeak { form, content } => format!(
                "{}により{}が漏えいしました（漏えい形態・漏えい内容）",
                form.label_ja(),
                content.label_ja()
            ),
            PubReason::ContentOnly { content } => format!("漏えい内容: {}", content.label_ja()),
            PubReason::ManyPersons { volume } => format!(
                "{}人分と多数で、個別の説明では足りません（漏えい情報量）",
                n(volume)
            ),
            PubReason::SomePersons { volume } => format!("{}人分（漏えい情報量）", n(volume)),
            PubReason::Entruster => {
                "委託元のデータのため、公表の有無と時期は委託元と調整します（委託元より先に公表しない）（管理主体）".into()
            }
            PubReason::NothingToPublish => {
                "5つの視点のいずれにも公表を要する事情はありません。本人への個別対応で足ります".into()
            }
        }
    }

    fn en(&self) -> String {
        let n = |v: &u64| super::facts::group_digits(*v);
        match self {
            PubReason::AlternativeNotice => "The persons cannot be notified directly, so publication is needed as the alternative measure (Enforcement Rules Art. 10, proviso)".into(),
            PubReason::DamageOccurred => "Secondary damage has occurred; publication is needed to stop it spreading (size of the damage)".into(),
            PubReason::DamagePossible => "Secondary damage may occur; consider publishing a warning (size of the damage)".into(),
            PubReason::SeriousLeak { form, content } => format!(
                "{}: {} (form and content of the leak)",
                form.label_en(),
                content.label_en()
            ),
            PubReason::ContentOnly { content } => format!("Content of the leak: {}", content.label_en()),
            PubReason::ManyPersons { volume } => format!(
                "{} persons — too many to explain to each one (volume)",
                n(volume)
            ),
            PubReason::SomePersons { volume } => format!("{} persons (volume)", n(volume)),
            PubReason::Entruster => "The data belongs to the entruster: whether and when to publish is agreed with the entruster (never before them) (who manages the data)".into(),
            PubReason::NothingToPublish => "None of the five viewpoints calls for publication; dealing with each person is enough".into(),
        }
    }
}

/// The recommendation on the five viewpoints and the notice method, with its reasons in
/// Japanese (the words stored with a publication record).
pub fn recommend(v: &Viewpoints, notice: Option<NoticeMethod>) -> (Recommendation, Vec<String>) {
    use crate::lang::Words;
    let (level, reasons) = recommend_why(v, notice);
    (level, reasons.iter().map(Words::ja).collect())
}

/// The reasons stored with a publication record, in `lang`: worked out again from its
/// viewpoints and, when that gives exactly the stored Japanese, in the reader's words; a record
/// whose stored reasons are not what this release would say is shown as stored.
pub fn reasons_in(v: &Viewpoints, stored: &[String], lang: crate::lang::Lang) -> Vec<String> {
    use crate::lang::Words;
    for notice in [None, Some(NoticeMethod::Alternative)] {
        let (_, why) = recommend_why(v, notice);
        if why.len() == stored.len() && why.iter().zip(stored).all(|(w, s)| w.ja() == *s) {
            return why.iter().map(|w| w.say(lang)).collect();
        }
    }
    stored.to_vec()
}

/// [`recommend`] with the reasons as values.
pub fn recommend_why(
    v: &Viewpoints,
    notice: Option<NoticeMethod>,
) -> (Recommendation, Vec<PubReason>) {
    let mut reasons = Vec::new();
    let mut level = Recommendation::NotNeeded;
    let mut raise = |to: Recommendation, why: PubReason, reasons: &mut Vec<PubReason>| {
        reasons.push(why);
        level = match (level, to) {
            (Recommendation::Publish, _) | (_, Recommendation::Publish) => Recommendation::Publish,
            (Recommendation::Consider, _) | (_, Recommendation::Consider) => {
                Recommendation::Consider
            }
            _ => Recommendation::NotNeeded,
        };
    };
    if notice == Some(NoticeMethod::Alternative) {
        raise(
            Recommendation::Publish,
            PubReason::AlternativeNotice,
            &mut reasons,
        );
    }
    match v.damage {
        Damage::Occurred => raise(
            Recommendation::Publish,
            PubReason::DamageOccurred,
            &mut reasons,
        ),
        Damage::Possible => raise(
            Recommendation::Consider,
            PubReason::DamagePossible,
            &mut reasons,
        ),
        Damage::None => {}
    }
    if matches!(
        v.form,
        LeakForm::ExternalAttack | LeakForm::Insider | LeakForm::Exposure
    ) && matches!(v.content, Content::Sensitive | Content::Financial)
    {
        raise(
            Recommendation::Publish,
            PubReason::SeriousLeak {
                form: v.form,
                content: v.content,
            },
            &mut reasons,
        );
    } else if matches!(v.content, Content::Sensitive | Content::Financial) {
        raise(
            Recommendation::Consider,
            PubReason::ContentOnly { content: v.content },
            &mut reasons,
        );
    }
    if v.volume > 1000 {
        raise(
            Recommendation::Publish,
            PubReason::ManyPersons { volume: v.volume },
            &mut reasons,
        );
    } else if v.volume > 100 {
        raise(
            Recommendation::Consider,
            PubReason::SomePersons { volume: v.volume },
            &mut reasons,
        );
    }
    if v.manager == Manager::Entruster {
        reasons.push(PubReason::Entruster);
    }
    if level == Recommendation::NotNeeded {
        reasons.push(PubReason::NothingToPublish);
    }
    (level, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(form: LeakForm, content: Content, volume: u64, damage: Damage) -> Viewpoints {
        Viewpoints {
            manager: Manager::Own,
            form,
            content,
            volume,
            damage,
        }
    }

    #[test]
    fn stored_reasons_are_shown_in_the_readers_words() {
        use crate::lang::Lang;
        let mut attack = v(
            LeakForm::ExternalAttack,
            Content::Financial,
            1500,
            Damage::Possible,
        );
        attack.manager = Manager::Entruster;
        for notice in [None, Some(NoticeMethod::Alternative)] {
            let (_, stored) = recommend(&attack, notice);
            assert_eq!(reasons_in(&attack, &stored, Lang::Ja), stored);
            let en = reasons_in(&attack, &stored, Lang::En);
            assert_eq!(en.len(), stored.len());
            for line in &en {
                assert!(
                    !line.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)
                        || ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{line}"
                );
            }
            assert!(en.iter().any(|l| l.contains("1,500 persons")), "{en:?}");
        }
        // Words this release would not say (an older wording) are shown as stored.
        let old = vec!["旧い文言".to_owned()];
        assert_eq!(reasons_in(&attack, &old, Lang::En), old);
        // Every reason has English words.
        let all = v(LeakForm::MisSending, Content::Contact, 1, Damage::None);
        let (_, why) = recommend_why(&all, None);
        assert_eq!(why, vec![PubReason::NothingToPublish]);
    }

    #[test]
    fn recommendations() {
        let small = v(LeakForm::MisSending, Content::Contact, 1, Damage::None);
        assert_eq!(
            recommend(&small, Some(NoticeMethod::Direct)).0,
            Recommendation::NotNeeded
        );
        let attack = v(
            LeakForm::ExternalAttack,
            Content::Financial,
            50,
            Damage::None,
        );
        assert_eq!(
            recommend(&attack, Some(NoticeMethod::Direct)).0,
            Recommendation::Publish
        );
        let many = v(LeakForm::MisSending, Content::Contact, 1001, Damage::None);
        assert_eq!(recommend(&many, None).0, Recommendation::Publish);
        let exactly = v(LeakForm::MisSending, Content::Contact, 1000, Damage::None);
        assert_eq!(recommend(&exactly, None).0, Recommendation::Consider);
        let possible = v(LeakForm::TheftLoss, Content::Contact, 10, Damage::Possible);
        assert_eq!(recommend(&possible, None).0, Recommendation::Consider);
        let occurred = v(LeakForm::TheftLoss, Content::Contact, 10, Damage::Occurred);
        assert_eq!(recommend(&occurred, None).0, Recommendation::Publish);
        // No contact details: publication is the alternative measure.
        let (r, reasons) = recommend(&small, Some(NoticeMethod::Alternative));
        assert_eq!(r, Recommendation::Publish);
        assert!(reasons[0].contains("代替措置"));
    }

    #[test]
    fn entrusted_data_is_coordinated_with_the_entruster() {
        let mut x = v(
            LeakForm::ExternalAttack,
            Content::Financial,
            5000,
            Damage::None,
        );
        x.manager = Manager::Entruster;
        let (r, reasons) = recommend(&x, None);
        assert_eq!(r, Recommendation::Publish);
        assert!(reasons.iter().any(|l| l.contains("委託元と調整")));
    }

    #[test]
    fn codes_round_trip() {
        for m in Manager::ALL {
            assert_eq!(Manager::parse(m.code()), Some(*m));
        }
        for f in LeakForm::ALL {
            assert_eq!(LeakForm::parse(f.code()), Some(*f));
        }
        assert_eq!(Damage::parse("x"), None);
    }
}

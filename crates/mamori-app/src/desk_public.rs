//! The public side of an incident (issue 15): the page behind the published notice's link
//! with the approved FAQ and the contact point, the inquiry form, the survey and the
//! "am I affected?" check; and the operator's search for the caller among the vault's persons
//! and the incident's affected persons.
//!
//! The page is built from a per-process cache refreshed every few seconds and at once when
//! this process approves or retires an entry, so a page in the news costs no query. The check
//! answers on screen with the same words for every address and does its work in a job that
//! mails the address either way, so neither the page nor its timing tells anything.

use crate::desk::{jst_day, PersonLink};
use crate::{App, AppError, Ctx, Problems};
use mamori_domain::appi::Item;
use mamori_domain::audit::Outcome;
use mamori_domain::lang::Lang;
use mamori_domain::notice::LetterParts;
use mamori_domain::role::Permission;
use mamori_domain::vault::normalize::{self, IndexClass};
use mamori_store::desk::{FaqVersionRow, NewInquiry};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The job kind that answers "am I affected?" checks.
pub const AFFECTED_JOB: &str = "desk.affected";
const SEAL_SURVEY: &str = "desk:survey";
const SEAL_CHECK: &str = "desk:affected-check";
pub(crate) const SEAL_RAW: &str = "desk:quarantine";
/// How long a built public page is served from memory.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// Checks per address and hour, and public submissions per incident and minute before the
/// form asks for more (the web layer adds per-network limits and proof-of-work).
pub const CHECKS_PER_ADDRESS_HOUR: i64 = 3;

/// Everything the public page of an incident shows; no personal data.
#[derive(Debug, Clone)]
pub struct PublicPage {
    pub incident_id: i64,
    pub company_id: i64,
    pub company_name: String,
    pub slug: String,
    pub ja: LetterParts,
    pub en: Option<LetterParts>,
    pub contact_ja: String,
    pub contact_en: Option<String>,
    pub faq: Vec<FaqVersionRow>,
    pub published_at: i64,
}

/// The built public pages of this process.
#[derive(Default)]
pub struct PublicCache {
    pages: Mutex<HashMap<String, (Instant, Arc<PublicPage>)>>,
}

impl std::fmt::Debug for PublicCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicCache")
    }
}

impl PublicCache {
    fn get(&self, slug: &str) -> Option<Arc<PublicPage>> {
        let pages = self.pages.lock().ok()?;
        pages
            .get(slug)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, p)| p.clone())
    }

    fn put(&self, page: Arc<PublicPage>) {
        if let Ok(mut pages) = self.pages.lock() {
            if pages.len() > 1000 {
                pages.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            }
            pages.insert(page.slug.clone(), (Instant::now(), page));
        }
    }

    /// Forgets the pages of an incident (its FAQ or notice changed).
    pub fn invalidate(&self, incident_id: i64) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.retain(|_, (_, p)| p.incident_id != incident_id);
        }
    }
}

/// What a member of the public sends through the form.
#[derive(Debug, Clone, Default)]
pub struct PublicInquiry {
    pub name: String,
    pub contact: String,
    pub question: String,
}

/// A person the operator's search found.
#[derive(Debug, Clone)]
pub struct PersonMatch {
    pub link: PersonLink,
    /// Masked values, e.g. `山田 *** / y***@example.jp`.
    pub label: String,
    /// The items that leaked for this person, when they are affected by the incident.
    pub affected_items: Option<Vec<Item>>,
}

fn slug_ok(slug: &str) -> bool {
    slug.len() == 26
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A plausible e-mail address (one `@`, a dot in the domain, no spaces), at most 254 bytes.
pub fn plausible_email(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl App {
    /// Registers the desk's job handlers (called from [`App::job_handlers`]).
    pub fn desk_handlers(h: &mut HashMap<String, crate::worker::JobHandler>) {
        h.insert(
            AFFECTED_JOB.into(),
            Arc::new(|app: App, _payload: String| {
                Box::pin(async move {
                    app.answer_affected_checks()
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            }),
        );
    }

    /// The public page of a slug, or NotFound (never saying whether a slug ever existed).
    pub async fn public_page(&self, slug: &str) -> Result<Arc<PublicPage>, AppError> {
        if !slug_ok(slug) {
            return Err(AppError::NotFound);
        }
        if let Some(p) = self.public_cache.get(slug) {
            return Ok(p);
        }
        let c = match self.store.campaign_by_slug(slug).await {
            Ok(c) => c,
            Err(mamori_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let notice = self.campaign_notice(&c).await?;
        let shown = self.public_notice(slug).await?;
        let incident = self.store.get_incident(c.incident_id).await?;
        let company = self.store.get_company(incident.company_id).await?;
        let page = Arc::new(PublicPage {
            incident_id: incident.id,
            company_id: incident.company_id,
            company_name: company.name,
            slug: slug.to_owned(),
            ja: shown.ja,
            en: shown.en,
            contact_ja: notice.ja.contact.clone(),
            contact_en: notice.en.as_ref().map(|e| e.contact.clone()),
            faq: self.store.published_faq(incident.id).await?,
            published_at: shown.published_at,
        });
        self.public_cache.put(page.clone());
        Ok(page)
    }

    /// An inquiry from the public form: stored sealed, for the desk to answer.
    pub async fn public_inquiry(
        &self,
        ctx: &Ctx,
        slug: &str,
        input: &PublicInquiry,
    ) -> Result<i64, AppError> {
        let page = self.public_page(slug).await?;
        let mut p = Problems::new();
        let clean = |p: &mut Problems, field: &'static str, v: &str, max: usize| -> String {
            let t: String = v
                .trim()
                .replace("\r\n", "\n")
                .chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .collect();
            if t.chars().count() > max {
                p.push(crate::Problem::new(
                    Some(field),
                    format!("{max}文字以内で入力してください"),
                    format!("at most {max} characters, please"),
                ));
            }
            t
        };
        let name = clean(&mut p, "name", &input.name, mamori_domain::desk::MAX_SHORT);
        let contact = clean(
            &mut p,
            "contact",
            &input.contact,
            mamori_domain::desk::MAX_SHORT,
        );
        let question = clean(&mut p, "question", &input.question, 2_000);
        if question.is_empty() {
            p.push(crate::Problem::new(
                Some("question"),
                "お問い合わせの内容を入力してください",
                "please enter your question",
            ));
        }
        if contact.is_empty() {
            p.push(crate::Problem::new(
                Some("contact"),
                "回答のご連絡先（メールアドレスまたは電話番号）を入力してください",
                "please enter an e-mail address or telephone number for our answer",
            ));
        }
        p.done()?;
        let now = self.clock.now_micros();
        let caller = crate::desk::Caller { name, contact };
        let id = self
            .store
            .insert_inquiry(&NewInquiry {
                company_id: page.company_id,
                incident_id: page.incident_id,
                channel: "web".into(),
                caller_type: "customer".into(),
                category: "other".into(),
                status: "open".into(),
                source: "public".into(),
                caller_sealed: Some(
                    self.keys.seal(
                        serde_json::to_string(&caller)
                            .unwrap_or_default()
                            .as_bytes(),
                        "desk:caller",
                    ),
                ),
                question_sealed: self.keys.seal(question.as_bytes(), "desk:question"),
                operator: "Webフォーム".into(),
                created_at: now,
                day: jst_day(now),
                ..NewInquiry::default()
            })
            .await?;
        self.audit_in(
            ctx,
            Some(page.company_id),
            "public.inquiry",
            &format!("inquiry:{id}"),
            Outcome::Success,
            json!({"incident": page.incident_id}),
        )
        .await?;
        Ok(id)
    }

    /// A survey answer: a score from 1 to 5, whether the notice was understood, a comment.
    pub async fn public_survey(
        &self,
        ctx: &Ctx,
        slug: &str,
        score: &str,
        understood: &str,
        comment: &str,
    ) -> Result<(), AppError> {
        let page = self.public_page(slug).await?;
        let mut p = Problems::new();
        let score: Option<i64> = score.trim().parse().ok().filter(|s| (1..=5).contains(s));
        if score.is_none() {
            p.push(crate::Problem::new(
                Some("score"),
                "満足度を1〜5から選んでください",
                "choose a score from 1 to 5",
            ));
        }
        let understood = match understood.trim() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        };
        let comment: String = comment
            .trim()
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect();
        if comment.chars().count() > 2_000 {
            p.push(crate::Problem::new(
                Some("comment"),
                "ご意見は2000文字以内でお願いします",
                "at most 2,000 characters, please",
            ));
        }
        p.done()?;
        let now = self.clock.now_micros();
        let sealed = (!comment.is_empty()).then(|| self.keys.seal(comment.as_bytes(), SEAL_SURVEY));
        let id = self
            .store
            .add_survey(
                page.incident_id,
                score.unwrap_or(3),
                understood,
                sealed.as_deref(),
                now,
                &jst_day(now),
            )
            .await?;
        self.audit_in(
            ctx,
            Some(page.company_id),
            "public.survey",
            &format!("survey:{id}"),
            Outcome::Success,
            json!({"incident": page.incident_id}),
        )
        .await?;
        Ok(())
    }

    /// "Am I affected?": queues a mail to the address with the answer. The caller sees the same
    /// words whatever the address; a malformed address is the only refusal on screen (it
    /// says nothing about the incident), and an address asked about too often is limited.
    pub async fn public_affected_check(
        &self,
        ctx: &Ctx,
        slug: &str,
        email: &str,
        lang: Lang,
    ) -> Result<(), AppError> {
        let page = self.public_page(slug).await?;
        let email = email.trim();
        if !plausible_email(email) {
            return Err(AppError::invalid(
                "email",
                "メールアドレスの形式が正しくありません（例: name@example.jp）",
                "the e-mail address is not valid (e.g. name@example.jp)",
            ));
        }
        let now = self.clock.now_micros();
        let hour = 3_600_000_000i64;
        let start = now - now.rem_euclid(hour);
        let addr_key = format!(
            "public.check:{}",
            self.keyed_hash("public.check", &email.to_lowercase())
        );
        let incident_key = format!("public.check.incident:{}", page.incident_id);
        let [per_address, _] = self
            .store
            .count_rate(&[(addr_key.as_str(), start), (incident_key.as_str(), start)])
            .await?;
        if per_address > CHECKS_PER_ADDRESS_HOUR {
            self.audit_in(
                ctx,
                Some(page.company_id),
                "public.affected_check",
                &format!("incident:{}", page.incident_id),
                Outcome::Denied,
                json!({"reason": "address_limit"}),
            )
            .await?;
            return Err(AppError::Throttled((start + hour - now) / 1_000_000 + 1));
        }
        let sealed = self.keys.seal(email.as_bytes(), SEAL_CHECK);
        let id = self
            .store
            .add_affected_check(page.incident_id, &sealed, lang.code(), now)
            .await?;
        self.store
            .enqueue_job(AFFECTED_JOB, &id.to_string(), now, now)
            .await?;
        self.audit_in(
            ctx,
            Some(page.company_id),
            "public.affected_check",
            &format!("incident:{}", page.incident_id),
            Outcome::Success,
            json!({"check": id}),
        )
        .await?;
        Ok(())
    }

    /// A keyed hash (HMAC-SHA256 under the server secret) of a value, hex, for counters that
    /// must not hold the value.
    pub(crate) fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        let sealed = self.keys.mac(purpose.as_bytes(), value.as_bytes());
        hex::encode(&sealed[..16])
    }

    /// The items that leaked for the person with this e-mail address or phone number in an
    /// incident, with the affected person's id; `None` when the value matches nobody.
    pub(crate) async fn affected_by_contact(
        &self,
        incident_id: i64,
        class: IndexClass,
        value: &str,
    ) -> Result<Vec<(i64, Option<i64>, Vec<Item>)>, AppError> {
        // The blind-index keys must be open.
        self.vault_state()?;
        let Some(term) = normalize::query_term(class, value, None) else {
            return Ok(Vec::new());
        };
        let incident = self.store.get_incident(incident_id).await?;
        let datasets = self.company_index_keys(incident.company_id).await?;
        let wanted: Vec<(i64, i64)> = datasets
            .iter()
            .map(|(ds, k)| (k.digest(class, &term), *ds))
            .collect();
        let digests: Vec<i64> = wanted.iter().map(|(d, _)| *d).collect();
        let mut keys = Vec::new();
        if !digests.is_empty() {
            for (digest, record, ds) in self.store.impact_lookup(&digests).await? {
                if wanted.contains(&(digest, ds)) {
                    keys.push(format!("r:{record}"));
                }
            }
        }
        let tag = if class == IndexClass::Email { "e" } else { "p" };
        let digest = self.dedupe_keys(incident_id)?.digest(class, &term);
        keys.push(format!("u:{tag}:{digest:016x}"));
        // An unmatched person keyed by another of their contact values (a row with an e-mail
        // address and a phone number is keyed by the address).
        for k in self.store.impact_keys_by_term(incident_id, digest).await? {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        Ok(self
            .store
            .impact_persons_by_keys(incident_id, &keys)
            .await?
            .into_iter()
            .map(|(id, key, items)| {
                let record = key.strip_prefix("r:").and_then(|r| r.parse().ok());
                let mut its: Vec<Item> = items
                    .split(',')
                    .filter_map(|c| c.trim().parse::<Item>().ok())
                    .collect();
                its.sort();
                its.dedup();
                (id, record, its)
            })
            .collect())
    }

    /// Answers the pending "am I affected?" checks by mail (the job `desk.affected`).
    pub async fn answer_affected_checks(&self) -> Result<u64, AppError> {
        let now = self.clock.now_micros();
        let Some(mailer) = &self.mailer else {
            return Err(AppError::Internal(
                "SMTP is not configured ([smtp] in mamori.toml)".into(),
            ));
        };
        let mut sent = 0;
        for c in self
            .store
            .claim_affected_checks(now, now + 120_000_000, 50)
            .await?
        {
            let address = self
                .keys
                .unseal(&c.address_sealed, SEAL_CHECK)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| AppError::Internal(format!("check {}: {e}", c.id)))?;
            let found = self
                .affected_by_contact(c.incident_id, IndexClass::Email, &address)
                .await?;
            let mut items: Vec<Item> = found.into_iter().flat_map(|(_, _, i)| i).collect();
            items.sort();
            items.dedup();
            let incident = self.store.get_incident(c.incident_id).await?;
            let company = self.store.get_company(incident.company_id).await?;
            let slug = self
                .store
                .desk_incidents(incident.company_id)
                .await?
                .into_iter()
                .find(|i| i.id == incident.id)
                .and_then(|i| i.public_slug);
            let lang = if c.lang == "en" { Lang::En } else { Lang::Ja };
            let (subject, text) = affected_mail(
                lang,
                &company.name,
                &incident.title,
                &items,
                slug.map(|s| {
                    format!(
                        "{}/notice/{s}",
                        self.settings.public_url.trim_end_matches('/')
                    )
                }),
            );
            match mailer
                .send(&mamori_mail::Mail {
                    to: vec![address],
                    subject,
                    text,
                    reply_to: None,
                    headers: vec![("X-Mamori-Kind".into(), "desk.affected".into())],
                })
                .await
            {
                Ok(_) => {
                    self.store
                        .finish_affected_check(c.id, self.clock.now_micros())
                        .await?;
                    sent += 1;
                    self.audit_in(
                        &Ctx::local(),
                        Some(incident.company_id),
                        "public.affected_check.mail",
                        &format!("incident:{}", incident.id),
                        Outcome::Success,
                        json!({"check": c.id}),
                    )
                    .await?;
                }
                Err(e) => {
                    self.store
                        .fail_affected_check(
                            c.id,
                            &e.to_string().chars().take(200).collect::<String>(),
                        )
                        .await?;
                    return Err(AppError::Internal(format!("check {}: {e}", c.id)));
                }
            }
        }
        Ok(sent)
    }

    /// The operator's search for a caller by e-mail address or telephone number: vault records
    /// in the datasets the operator may look up (masked, through the vault's own lookup, rate
    /// limits and audit), and the incident's affected persons.
    pub async fn desk_find_person(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        query: &str,
    ) -> Result<Vec<PersonMatch>, AppError> {
        if !ctx.allows(Permission::HandleInquiries) {
            return Err(AppError::Denied);
        }
        let company = ctx.company_scope().ok_or(AppError::Denied)?;
        if !self
            .store
            .desk_incidents(company)
            .await?
            .iter()
            .any(|i| i.id == incident_id)
        {
            return Err(AppError::NotFound);
        }
        let q = query.trim();
        let (class, by) = if q.contains('@') {
            (
                IndexClass::Email,
                crate::vault::LookupBy::Email(q.to_owned()),
            )
        } else {
            (
                IndexClass::Phone,
                crate::vault::LookupBy::Phone(q.to_owned()),
            )
        };
        if normalize::query_term(class, q, None).is_none() {
            return Err(AppError::invalid(
                "find",
                "メールアドレス（@を含む形）か電話番号（10〜11桁）を入力してください",
                "enter an e-mail address (with @) or a telephone number (10–11 digits)",
            ));
        }
        let affected = self.affected_by_contact(incident_id, class, q).await?;
        let mut out: Vec<PersonMatch> = Vec::new();
        for d in self.store.list_datasets(company).await? {
            if d.vault_schema.is_none() {
                continue;
            }
            match self.vault_lookup(ctx, d.id, &by).await {
                Ok((_, records)) => {
                    for r in records {
                        let label = r
                            .fields
                            .iter()
                            .filter(|f| !f.shown.is_empty())
                            .take(3)
                            .map(|f| f.shown.clone())
                            .collect::<Vec<_>>()
                            .join(" / ");
                        let items = affected
                            .iter()
                            .find(|(_, rec, _)| *rec == Some(r.id))
                            .map(|(_, _, i)| i.clone());
                        out.push(PersonMatch {
                            link: PersonLink::Record(r.id),
                            label: format!("{}: {label}", d.name),
                            affected_items: items,
                        });
                    }
                }
                Err(AppError::Denied | AppError::NotFound | AppError::Invalid(_)) => {}
                Err(e) => return Err(e),
            }
        }
        for (id, record, items) in &affected {
            if record.is_some_and(|r| out.iter().any(|m| m.link == PersonLink::Record(r))) {
                continue;
            }
            out.push(PersonMatch {
                link: PersonLink::Affected(*id),
                label: format!("対象者 #{id}"),
                affected_items: Some(items.clone()),
            });
        }
        self.audit(
            ctx,
            "desk.find_person",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"by": if class == IndexClass::Email {"email"} else {"phone"},
                   "found": out.iter().map(|m| m.link.code()).collect::<Vec<_>>()}),
        )
        .await?;
        Ok(out)
    }
}

/// The mail that answers an "am I affected?" check: the items when the address is among the
/// affected persons, otherwise that no record was found (other contact data may still be).
pub fn affected_mail(
    lang: Lang,
    company: &str,
    title: &str,
    items: &[Item],
    page: Option<String>,
) -> (String, String) {
    let link = page.unwrap_or_default();
    match lang {
        Lang::Ja => {
            let subject = format!("【{company}】お問い合わせ（対象かどうかの確認）へのご回答");
            let body = if items.is_empty() {
                format!(
                    "{company}です。「{title}」について、このメールアドレスで対象かどうかの確認をお受けしました。\n\n\
                     確認の結果、このメールアドレスは、今回漏えいのおそれがある情報の中に見つかりませんでした。\n\
                     ただし、別のメールアドレスや電話番号、住所でご登録いただいている場合は、対象となることがあります。\n\
                     ご不明な点は、お問い合わせ窓口までご連絡ください。\n\n{link}\n\n\
                     このメールにお心当たりがない場合は、破棄してください。\n"
                )
            } else {
                let names: Vec<&str> = items.iter().map(|i| i.label_ja()).collect();
                format!(
                    "{company}です。「{title}」について、このメールアドレスで対象かどうかの確認をお受けしました。\n\n\
                     確認の結果、このメールアドレスのお客様の情報は、今回漏えいのおそれがある情報に含まれていました。\n\
                     ご迷惑とご心配をおかけし、深くお詫び申し上げます。\n\n\
                     対象となった情報: {}\n\n\
                     お客様にとっていただきたい対応と、お問い合わせ窓口は、次のページに掲載しています。\n{link}\n\n\
                     このメールにお心当たりがない場合は、破棄してください。\n",
                    names.join("、")
                )
            };
            (subject, body)
        }
        Lang::En => {
            let subject = format!("[{company}] Your question: are you affected?");
            let body = if items.is_empty() {
                format!(
                    "This is {company}. We received a request to check this e-mail address about \"{title}\".\n\n\
                     This address was not found among the information that may have leaked. If you registered with \
                     another address, telephone number or postal address, you may still be affected; please contact our desk.\n\n{link}\n\n\
                     If you did not make this request, please ignore this mail.\n"
                )
            } else {
                let names: Vec<&str> = items.iter().map(|i| i.label_en()).collect();
                format!(
                    "This is {company}. We received a request to check this e-mail address about \"{title}\".\n\n\
                     Information of the customer with this address is among the information that may have leaked. \
                     We sincerely apologise.\n\nInformation concerned: {}\n\n\
                     What you can do, and how to reach our desk:\n{link}\n\n\
                     If you did not make this request, please ignore this mail.\n",
                    names.join(", ")
                )
            };
            (subject, body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_addresses() {
        for ok in ["a@example.jp", "taro.yamada+x@mail.example.co.jp"] {
            assert!(plausible_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@example.jp",
            "a@.jp",
            "a@example.",
            "a b@example.jp",
            "a@b@example.jp",
            "a@exa\nmple.jp",
        ] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
        assert!(!plausible_email(&format!("{}@example.jp", "a".repeat(260))));
    }

    #[test]
    fn the_two_mails_differ_only_in_substance() {
        let (s1, yes) = affected_mail(
            Lang::Ja,
            "株式会社サンプル",
            "誤送信",
            &[Item::Name, Item::Email],
            Some("https://x/notice/a".into()),
        );
        let (s2, no) = affected_mail(
            Lang::Ja,
            "株式会社サンプル",
            "誤送信",
            &[],
            Some("https://x/notice/a".into()),
        );
        assert_eq!(s1, s2, "the subject says nothing");
        assert!(yes.contains("含まれていました") && yes.contains("氏名"));
        assert!(no.contains("見つかりませんでした") && !no.contains("氏名"));
        let (_, en) = affected_mail(Lang::En, "Sample", "t", &[Item::Email], None);
        assert!(en.contains("may have leaked"));
    }
}

//! Alerts at any hour: mail to the call tree with an acknowledgement link, escalation to the
//! next level when nobody acknowledges in time, signed webhooks, and the reminder agent.
//!
//! Delivery is durable: every mail is a row in `mail_outbox` and a `mail.send` job in the same
//! transaction, so a crash or a restart resumes it. Right after an alert is raised the job is
//! claimed and run at once (the fast path, for the seconds that matter); if SMTP fails it stays
//! in the queue and the worker retries it with exponential backoff, saying so on the incident's
//! timeline each time, until it is delivered or has failed `mail_max_attempts` times — then it is
//! shown as undeliverable, never silently dropped.

use std::collections::HashMap;
use std::sync::Arc;

use mamori_domain::incident::line::{Delivery, Line, Recipient};
use mamori_domain::incident::obligation::{due_reminders, reminders};
use mamori_domain::incident::{jst_date, ObligationKind};
use mamori_domain::role::Role;
use mamori_mail::{Mail, MailError};
use mamori_store::incidents::{Incident, NewEntry};
use mamori_store::users::User;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::worker::JobHandler;
use crate::{App, AppError, Ctx};
use mamori_domain::audit::Outcome;

const SEAL_MAIL: &str = "mail_outbox";

#[derive(Debug, Serialize, Deserialize)]
struct EscalatePayload {
    incident: i64,
    level: i64,
    #[serde(default)]
    round: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct WebhookPayload {
    webhook: i64,
    incident: i64,
    level: i64,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `yamada@example.co.jp` → `y***@example.co.jp`: enough to tell recipients apart on the
/// timeline without spelling out addresses.
pub fn mask_address(addr: &str) -> String {
    match addr.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Who a delivery line on the timeline is about. Two people can share a mask
/// (`tanaka@…` and `takahashi@…` are both `t***@…`), which read as one mail sent twice; the
/// call-tree member's display name — already shown on the alert line and across the app — tells
/// them apart without spelling out the address. A recipient who is not a user gets the
/// outbox's mail number instead, which reveals nothing about the address.
pub fn recipient_label(addr: &str, name: Option<&str>, mail_id: i64) -> String {
    let masked = mask_address(addr);
    match name {
        Some(n) if !n.trim().is_empty() => format!("{n}（{masked}）"),
        _ => format!("{masked}（メール#{mail_id}）"),
    }
}

fn drill_mark(i: &Incident) -> &'static str {
    if i.drill {
        "【訓練】"
    } else {
        ""
    }
}

impl App {
    /// The job handlers of the incident capability, for the worker.
    pub fn job_handlers() -> HashMap<String, JobHandler> {
        let mut h: HashMap<String, JobHandler> = HashMap::new();
        h.insert(
            "mail.send".into(),
            Arc::new(|app: App, payload: String| {
                Box::pin(async move {
                    let id: i64 = payload
                        .parse()
                        .map_err(|_| format!("bad payload {payload}"))?;
                    app.deliver_mail(id).await
                })
            }),
        );
        h.insert(
            "alert.escalate".into(),
            Arc::new(|app: App, payload: String| {
                Box::pin(async move { app.escalate(&payload).await.map_err(|e| e.to_string()) })
            }),
        );
        h.insert(
            "webhook.send".into(),
            Arc::new(|app: App, payload: String| {
                Box::pin(async move { app.deliver_webhook(&payload).await })
            }),
        );
        h.insert(
            crate::audit::CHECKPOINT_SEND_JOB.into(),
            Arc::new(|app: App, payload: String| {
                Box::pin(async move { app.send_checkpoint(&payload).await })
            }),
        );
        h.insert(
            crate::evidence::SCAN_JOB.into(),
            Arc::new(|app: App, payload: String| {
                Box::pin(async move {
                    let id: i64 = payload
                        .parse()
                        .map_err(|_| format!("bad payload {payload}"))?;
                    app.scan_evidence(id).await
                })
            }),
        );
        h.insert(
            "vault.reseal".into(),
            Arc::new(|app: App, _payload: String| {
                Box::pin(async move {
                    app.reseal_records(2000)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            }),
        );
        h.insert(
            "vault.reindex".into(),
            Arc::new(|app: App, _payload: String| {
                Box::pin(async move {
                    app.reindex_records(2000)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            }),
        );
        h.insert(
            "vault.rewrap".into(),
            Arc::new(|app: App, _payload: String| {
                Box::pin(async move {
                    app.rewrap_keys(5000, None)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            }),
        );
        App::campaign_handlers(&mut h);
        App::desk_handlers(&mut h);
        h
    }

    /// Alerts the first level of the call tree and the webhooks for a newly filed incident.
    pub async fn raise_alerts(&self, incident_id: i64) -> Result<(), AppError> {
        let incident = self.store.get_incident(incident_id).await?;
        let sent = self.alert_level(&incident, 1, 0).await?;
        let now = self.clock.now_micros();
        for w in self.store.webhooks(incident.company_id, true).await? {
            let payload = serde_json::to_string(&WebhookPayload {
                webhook: w.id,
                incident: incident.id,
                level: 1,
            })
            .map_err(|e| AppError::Internal(e.to_string()))?;
            let job = self
                .store
                .enqueue_job("webhook.send", &payload, now, now)
                .await?;
            self.spawn_job(job, "webhook.send", payload);
        }
        if sent == 0 {
            tracing::warn!(incident = incident_id, "no one to alert");
        }
        Ok(())
    }

    /// The people alerted at `level`: the configured call tree, or — when the company configured
    /// none — the privacy office and the CISO at level 1.
    async fn recipients(&self, company_id: i64, level: i64) -> Result<(Vec<User>, bool), AppError> {
        let tree = self.store.call_tree(company_id).await?;
        let users = self.store.list_users(Some(company_id)).await?;
        if tree.is_empty() {
            if level != 1 {
                return Ok((Vec::new(), true));
            }
            let fallback = users
                .into_iter()
                .filter(|u| {
                    !u.disabled
                        && (u.roles.contains(Role::PrivacyOffice) || u.roles.contains(Role::Ciso))
                })
                .collect();
            return Ok((fallback, true));
        }
        let ids: Vec<i64> = tree
            .iter()
            .filter(|e| e.level == level)
            .map(|e| e.user_id)
            .collect();
        Ok((
            users
                .into_iter()
                .filter(|u| !u.disabled && ids.contains(&u.id))
                .collect(),
            false,
        ))
    }

    /// Sends the alert of `level` to its people, schedules the escalation, and starts delivery
    /// at once. Returns how many people were alerted.
    async fn alert_level(
        &self,
        incident: &Incident,
        level: i64,
        round: i64,
    ) -> Result<usize, AppError> {
        let repeat = round > 0;
        let now = self.clock.now_micros();
        let (people, fallback) = self.recipients(incident.company_id, level).await?;
        if people.is_empty() {
            return Ok(0);
        }
        let department = self
            .store
            .get_department(incident.department_id)
            .await
            .map_or_else(|_| "-".into(), |d| d.name);
        let base = self.settings.public_url.trim_end_matches('/');
        // Read once: the mail text and the escalation job use the same delay.
        let after = self.escalate_after(incident.company_id).await;
        let mut jobs = Vec::new();
        let mut names = Vec::new();
        for u in &people {
            let mut raw = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut raw);
            let token = hex::encode(raw);
            self.store
                .create_alert(incident.id, level, u.id, &token_hash(&token), now)
                .await?;
            let escalated = if level > 1 || repeat {
                "【エスカレーション】"
            } else {
                ""
            };
            let subject = format!(
                "{}{escalated}【個人情報事故 第一報】{} {}",
                drill_mark(incident),
                incident.ref_no,
                incident.title
            );
            let body = format!(
                "{name} 様\n\n{drill}個人情報の事故について第一報がありました。内容を確認し、下の「確認しました」のリンクから受領を知らせてください。\n\
                 {escalation}\n\
                 件名: {title}\n\
                 番号: {ref_no}\n\
                 部署: {department}\n\
                 報告日時: {filed}\n\
                 \n\
                 ■ 受領の確認（このリンクを開き「確認しました」を押してください）\n{base}/ack/{token}\n\
                 \n\
                 ■ 事故の詳細（ログインが必要です）\n{base}/incidents/{id}\n\
                 \n\
                 誰も確認しない場合、{minutes}分ごとに次の連絡先へエスカレーションされます。\n\
                 \n\
                 -- \nmamori 個人情報保護・事故対応システム\n\
                 English: a personal-data incident was reported. Open the first link and press the button to acknowledge.\n",
                name = u.display_name,
                drill = if incident.drill { "【訓練】これは訓練です。\n" } else { "" },
                escalation = if escalated.is_empty() {
                    String::new()
                } else {
                    "前の連絡先が時間内に確認しなかったため、あなたにエスカレーションされました。\n".to_owned()
                },
                title = incident.title,
                ref_no = incident.ref_no,
                filed = mamori_domain::incident::facts::format_jst(incident.created_at),
                id = incident.id,
                minutes = after / 60,
            );
            let sealed = self.keys.seal(body.as_bytes(), SEAL_MAIL);
            let (mail, job) = self
                .store
                .enqueue_mail(Some(incident.id), "alert", &u.email, &subject, &sealed, now)
                .await?;
            jobs.push((job, mail));
            names.push(u.display_name.clone());
        }
        self.store
            .append_timeline(
                incident.id,
                now,
                &[NewEntry::line(
                    "mamori",
                    "alert",
                    &Line::Alert {
                        repeat,
                        level,
                        fallback,
                        names,
                    },
                )],
            )
            .await?;
        let payload = serde_json::to_string(&EscalatePayload {
            incident: incident.id,
            level,
            round,
        })
        .map_err(|e| AppError::Internal(e.to_string()))?;
        self.store
            .enqueue_job("alert.escalate", &payload, now + after * 1_000_000, now)
            .await?;
        for (job, mail) in jobs {
            self.spawn_job(job, "mail.send", mail.to_string());
        }
        Ok(people.len())
    }

    pub(crate) async fn escalate_after(&self, company_id: i64) -> i64 {
        self.store
            .escalate_after_secs(company_id)
            .await
            .ok()
            .flatten()
            .unwrap_or(self.settings.escalate_after_secs)
            .max(60)
    }

    /// Runs a just-queued job at once in the background (the fast path); the worker picks it up
    /// if this fails or the process stops.
    fn spawn_job(&self, job_id: i64, kind: &'static str, payload: String) {
        let app = self.clone();
        tokio::spawn(async move {
            let now = app.clock.now_micros();
            match app
                .store
                .claim_job_by_id(job_id, "fast-path", now, now + 300_000_000)
                .await
            {
                Ok(true) => {
                    let handlers = App::job_handlers();
                    let result = match handlers.get(kind) {
                        Some(h) => h(app.clone(), payload).await,
                        None => Err(format!("no handler for {kind}")),
                    };
                    let attempts = app.store.job_attempts(job_id).await.unwrap_or(1);
                    if let Err(e) = app.finish_job(job_id, kind, attempts, result).await {
                        tracing::warn!(job = job_id, error = %e, "cannot record job result");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(job = job_id, error = %e, "fast path claim failed"),
            }
        });
    }

    /// Delivers one mail of the outbox; an error means "retry later".
    pub async fn deliver_mail(&self, id: i64) -> Result<(), String> {
        let m = self
            .store
            .get_outbox_mail(id)
            .await
            .map_err(|e| e.to_string())?;
        if m.status == "sent" || m.status == "failed" {
            return Ok(());
        }
        let body = self
            .keys
            .unseal(&m.body, SEAL_MAIL)
            .map_err(|e| format!("mail {id}: {e}"))?;
        let text = String::from_utf8_lossy(&body).into_owned();
        let result = match &self.mailer {
            Some(mailer) => {
                mailer
                    .send(&Mail {
                        to: vec![m.to_addr.clone()],
                        subject: m.subject.clone(),
                        text,
                        reply_to: None,
                        headers: vec![("X-Mamori-Kind".into(), m.kind.clone())],
                    })
                    .await
            }
            None => Err(MailError::Config(
                "SMTP is not configured ([smtp] in mamori.toml)".into(),
            )),
        };
        let now = self.clock.now_micros();
        let name = self.recipient_name(m.incident_id, &m.to_addr).await;
        let to = Recipient {
            name: name.filter(|n| !n.trim().is_empty()),
            masked: mask_address(&m.to_addr),
            mail_id: m.id,
        };
        let attempt = m.attempts + 1;
        let (status, outcome, retry) = match &result {
            Ok(_) => ("sent", Delivery::Sent, false),
            Err(e) if e.is_transient() || matches!(e, MailError::Config(_)) => {
                if attempt >= self.settings.mail_max_attempts {
                    ("failed", Delivery::GaveUp, false)
                } else {
                    ("retrying", Delivery::Retrying, true)
                }
            }
            Err(_) => ("failed", Delivery::Permanent, false),
        };
        let line = Line::MailDelivery {
            outcome,
            to,
            attempt,
            error: result.as_ref().err().map(ToString::to_string),
        };
        self.store
            .mark_mail(
                id,
                status,
                result.as_ref().err().map(ToString::to_string).as_deref(),
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
        if let Some(incident) = m.incident_id {
            let kind = if status == "sent" {
                "delivery"
            } else {
                "delivery_failed"
            };
            self.store
                .append_timeline(incident, now, &[NewEntry::line("mamori", kind, &line)])
                .await
                .map_err(|e| e.to_string())?;
        }
        if retry {
            Err(result.err().map(|e| e.to_string()).unwrap_or_default())
        } else {
            Ok(())
        }
    }

    /// The display name of the user of the incident's company with this address, if any.
    async fn recipient_name(&self, incident: Option<i64>, addr: &str) -> Option<String> {
        let company = self.store.get_incident(incident?).await.ok()?.company_id;
        self.store
            .list_users(Some(company))
            .await
            .ok()?
            .into_iter()
            .find(|u| u.email.eq_ignore_ascii_case(addr))
            .map(|u| u.display_name)
    }

    /// The escalation job: if nobody acknowledged, alert the next level (and at the top of the
    /// tree, everybody on it again, a few times).
    async fn escalate(&self, payload: &str) -> Result<(), AppError> {
        let p: EscalatePayload = serde_json::from_str(payload)
            .map_err(|e| AppError::Internal(format!("escalate payload: {e}")))?;
        let incident = self.store.get_incident(p.incident).await?;
        let now = self.clock.now_micros();
        if incident.acknowledged_at.is_some() || incident.status != "open" {
            self.store
                .append_timeline(
                    incident.id,
                    now,
                    &[NewEntry::line(
                        "mamori",
                        "escalation",
                        &Line::EscalationNotNeeded {
                            next_level: p.level + 1,
                            by: incident.acknowledged_by.clone(),
                        },
                    )],
                )
                .await?;
            return Ok(());
        }
        let minutes = self.escalate_after(incident.company_id).await / 60;
        self.store
            .append_timeline(
                incident.id,
                now,
                &[NewEntry::line(
                    "mamori",
                    "escalation",
                    &Line::Escalating {
                        level: p.level,
                        minutes,
                    },
                )],
            )
            .await?;
        let sent = self.alert_level(&incident, p.level + 1, 0).await?;
        if sent == 0 {
            if p.round >= 5 {
                self.store
                    .append_timeline(
                        incident.id,
                        now,
                        &[NewEntry::line(
                            "mamori",
                            "escalation",
                            &Line::EscalationUnanswered,
                        )],
                    )
                    .await?;
                return Ok(());
            }
            // The top of the tree: the same people again, and keep watching.
            self.alert_level(&incident, p.level, p.round + 1).await?;
        }
        Ok(())
    }

    /// Acknowledges an alert from the link in its mail. Returns the incident id and whether it
    /// had already been acknowledged by somebody.
    pub async fn acknowledge_by_token(
        &self,
        ctx: &Ctx,
        token: &str,
    ) -> Result<(i64, bool), AppError> {
        let alert = self
            .store
            .alert_by_token(&token_hash(token.trim()))
            .await?
            .ok_or(AppError::NotFound)?;
        let user = self.store.get_user(alert.user_id).await?;
        let now = self.clock.now_micros();
        self.store.mark_alert_acknowledged(alert.id, now).await?;
        let first = self
            .store
            .acknowledge_incident(
                alert.incident_id,
                &user.display_name,
                &NewEntry::line(
                    &format!("{}（{}）", user.display_name, user.login),
                    "ack",
                    &Line::AckByMail {
                        name: user.display_name.clone(),
                        level: alert.level,
                    },
                ),
                now,
            )
            .await?;
        self.audit(
            ctx,
            "incident.ack",
            &format!("incident:{}", alert.incident_id),
            Outcome::Success,
            json!({"alert": alert.id, "user": alert.user_id, "first": first}),
        )
        .await?;
        Ok((alert.incident_id, !first))
    }

    /// Acknowledges from the incident page (privacy office, CISO, executives).
    pub async fn acknowledge(&self, ctx: &Ctx, id: i64) -> Result<(), AppError> {
        let (_, why) = self.incident_for(ctx, id).await?;
        if why != mamori_domain::incident::visibility::Why::CompanyWide {
            return Err(AppError::Denied);
        }
        let actor = crate::incident::actor_label(ctx);
        let name = ctx
            .user_ref()
            .map_or_else(|| ctx.actor_name(), |u| u.display_name.clone());
        self.store
            .acknowledge_incident(
                id,
                &name,
                &NewEntry::line(&actor, "ack", &Line::AckOnScreen { name: name.clone() }),
                self.clock.now_micros(),
            )
            .await?;
        self.audit(
            ctx,
            "incident.ack",
            &format!("incident:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    async fn deliver_webhook(&self, payload: &str) -> Result<(), String> {
        let p: WebhookPayload = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        let w = self
            .store
            .get_webhook(p.webhook)
            .await
            .map_err(|e| e.to_string())?;
        let incident = self
            .store
            .get_incident(p.incident)
            .await
            .map_err(|e| e.to_string())?;
        let secret = self
            .keys
            .unseal(&w.secret, &format!("webhook:{}", w.company_id))
            .map_err(|e| e.to_string())?;
        let base = self.settings.public_url.trim_end_matches('/');
        let body = json!({
            "type": "incident.alert",
            "ref": incident.ref_no,
            "title": format!("{}{}", drill_mark(&incident), incident.title),
            "drill": incident.drill,
            "level": p.level,
            "url": format!("{base}/incidents/{}", incident.id),
            "text": format!("{}【個人情報事故 第一報】{} {} {base}/incidents/{}", drill_mark(&incident), incident.ref_no, incident.title, incident.id),
        })
        .to_string();
        let host = reqwest_host(&w.url);
        let now = self.clock.now_micros();
        // The target is checked again at each delivery (DNS may have changed, or the operator's
        // allow-list): a refused target is not contacted at all, so no answer of an internal
        // service can reach the timeline.
        let target = match mamori_mail::webhook::check_target(&w.url, &self.webhook_policy()).await
        {
            Ok(t) => t,
            Err(e) => {
                let unresolved =
                    matches!(e, mamori_mail::webhook::TargetError::Unresolvable { .. });
                let line = Line::WebhookRefused {
                    host: host.clone(),
                    unresolved,
                    why_ja: e.ja(),
                    why_en: e.en(),
                };
                self.store
                    .append_timeline(
                        incident.id,
                        now,
                        &[NewEntry::line("mamori", "delivery_failed", &line)],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                return if unresolved { Err(e.en()) } else { Ok(()) };
            }
        };
        let result = mamori_mail::webhook::post_to(
            &target,
            &secret,
            body.as_bytes(),
            now.div_euclid(1_000_000),
        )
        .await;
        let retry = result.as_ref().is_err_and(MailError::is_transient);
        let line = Line::WebhookDelivery {
            host: host.clone(),
            status: result.as_ref().ok().copied(),
            retry,
            error: result.as_ref().err().map(ToString::to_string),
        };
        let kind = if result.is_ok() {
            "delivery"
        } else {
            "delivery_failed"
        };
        self.store
            .append_timeline(incident.id, now, &[NewEntry::line("mamori", kind, &line)])
            .await
            .map_err(|e| e.to_string())?;
        if retry {
            Err(result.err().map(|e| e.to_string()).unwrap_or_default())
        } else {
            Ok(())
        }
    }

    /// The reminder agent (periodic): legal deadlines to the privacy office, tasks to their
    /// owners, and a daily list of everything overdue to the privacy office.
    pub async fn send_reminders(&self) -> Result<usize, AppError> {
        let now = self.clock.now_micros();
        let today = jst_date(now);
        let horizon = today
            .checked_add_days(chrono::Days::new(7))
            .unwrap_or(today);
        let mut sent = 0;
        let mut overdue_by_company: HashMap<i64, Vec<String>> = HashMap::new();
        for o in self
            .store
            .open_obligations_until(None, &horizon.to_string())
            .await?
        {
            let Some(kind) = ObligationKind::parse(&o.kind) else {
                continue;
            };
            let due = o.due_on.as_deref().and_then(|d| d.parse().ok());
            let warn = o.warn_on.as_deref().and_then(|d| d.parse().ok());
            let all = reminders(kind, due, warn);
            let subject_key = format!("obligation:{}", o.id);
            let done = self.store.reminders_sent(&subject_key).await?;
            let (latest, pending) = due_reminders(&all, today, &done);
            let incident = self.store.get_incident(o.incident_id).await?;
            if due.is_some_and(|d| d < today) {
                overdue_by_company
                    .entry(incident.company_id)
                    .or_default()
                    .push(format!(
                        "{}{} {}: {}（期限 {}）",
                        drill_mark(&incident),
                        incident.ref_no,
                        incident.title,
                        kind.label_ja(),
                        o.due_on.as_deref().unwrap_or("-")
                    ));
            }
            let Some(latest) = latest else { continue };
            let mut mine = false;
            for r in &pending {
                let fresh = self.store.mark_reminder(&subject_key, r.key, now).await?;
                mine |= fresh && r.key == latest.key;
            }
            if !mine {
                continue;
            }
            let to = self.privacy_office(incident.company_id).await?;
            let text = format!(
                "{}{} {}\n{}\n\n{}/incidents/{}\n",
                drill_mark(&incident),
                incident.ref_no,
                incident.title,
                latest.text_ja,
                self.settings.public_url.trim_end_matches('/'),
                incident.id
            );
            let subject = format!(
                "{}【期限のお知らせ】{} {}",
                drill_mark(&incident),
                incident.ref_no,
                latest.text_ja
            );
            for u in &to {
                let sealed = self.keys.seal(text.as_bytes(), SEAL_MAIL);
                let (mail, job) = self
                    .store
                    .enqueue_mail(
                        Some(incident.id),
                        "reminder",
                        &u.email,
                        &subject,
                        &sealed,
                        now,
                    )
                    .await?;
                self.spawn_job(job, "mail.send", mail.to_string());
            }
            self.store
                .append_timeline(
                    incident.id,
                    now,
                    &[match due {
                        Some(due) => NewEntry::line(
                            "mamori",
                            "reminder",
                            &Line::ObligationReminder {
                                kind,
                                key: latest.key.to_owned(),
                                due,
                            },
                        ),
                        None => NewEntry::new(
                            "mamori",
                            "reminder",
                            format!("リマインダー: {}", latest.text_ja),
                        ),
                    }],
                )
                .await?;
            sent += 1;
        }
        let tomorrow = today.succ_opt().unwrap_or(today);
        for t in self
            .store
            .open_tasks_until(None, &tomorrow.to_string())
            .await?
        {
            let Some(due) = t
                .due_on
                .as_deref()
                .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
            else {
                continue;
            };
            let incident = self.store.get_incident(t.incident_id).await?;
            let key = if due < today {
                "overdue"
            } else if due == tomorrow {
                "before1"
            } else {
                continue;
            };
            if due < today {
                overdue_by_company
                    .entry(incident.company_id)
                    .or_default()
                    .push(format!(
                        "{}{} タスク「{}」（期限 {due}）",
                        drill_mark(&incident),
                        incident.ref_no,
                        t.title
                    ));
            }
            if !self
                .store
                .mark_reminder(&format!("task:{}", t.id), key, now)
                .await?
            {
                continue;
            }
            let Some(owner) = t.owner_id else { continue };
            let Ok(u) = self.store.get_user(owner).await else {
                continue;
            };
            let line = if key == "overdue" {
                format!("タスク「{}」の期限 {due} を過ぎています", t.title)
            } else {
                format!("タスク「{}」の期限は明日 {due} です", t.title)
            };
            let text = format!(
                "{} 様\n\n{}{} {}\n{line}\n\n{}/incidents/{}\n",
                u.display_name,
                drill_mark(&incident),
                incident.ref_no,
                incident.title,
                self.settings.public_url.trim_end_matches('/'),
                incident.id
            );
            let sealed = self.keys.seal(text.as_bytes(), SEAL_MAIL);
            let (mail, job) = self
                .store
                .enqueue_mail(
                    Some(incident.id),
                    "reminder",
                    &u.email,
                    &format!("{}【タスク】{line}", drill_mark(&incident)),
                    &sealed,
                    now,
                )
                .await?;
            self.spawn_job(job, "mail.send", mail.to_string());
            self.store
                .append_timeline(
                    incident.id,
                    now,
                    &[NewEntry::line(
                        "mamori",
                        "reminder",
                        &Line::TaskReminder {
                            owner: u.display_name.clone(),
                            title: t.title.clone(),
                            template: t.template.clone(),
                            due,
                            overdue: key == "overdue",
                        },
                    )],
                )
                .await?;
            sent += 1;
        }
        for (company, lines) in overdue_by_company {
            if !self
                .store
                .mark_reminder(&format!("digest:{company}"), &today.to_string(), now)
                .await?
            {
                continue;
            }
            let text = format!(
                "期限を過ぎている項目（{today}）\n\n{}\n\n{}/\n",
                lines.join("\n"),
                self.settings.public_url.trim_end_matches('/')
            );
            for u in self.privacy_office(company).await? {
                let sealed = self.keys.seal(text.as_bytes(), SEAL_MAIL);
                let (mail, job) = self
                    .store
                    .enqueue_mail(
                        None,
                        "digest",
                        &u.email,
                        &format!("【期限切れ一覧】{}件（{today}）", lines.len()),
                        &sealed,
                        now,
                    )
                    .await?;
                self.spawn_job(job, "mail.send", mail.to_string());
            }
            sent += 1;
        }
        Ok(sent)
    }

    /// Queues a mail that belongs to no incident (ledger reminders, vault notices) and sends it
    /// at once when it can; the worker retries it like any other.
    pub(crate) async fn queue_plain_mail(
        &self,
        _company_id: i64,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), AppError> {
        let sealed = self.keys.seal(body.as_bytes(), SEAL_MAIL);
        let (mail, job) = self
            .store
            .enqueue_mail(
                None,
                "reminder",
                to,
                subject,
                &sealed,
                self.clock.now_micros(),
            )
            .await?;
        self.spawn_job(job, "mail.send", mail.to_string());
        Ok(())
    }

    async fn privacy_office(&self, company_id: i64) -> Result<Vec<User>, AppError> {
        Ok(self
            .store
            .list_users(Some(company_id))
            .await?
            .into_iter()
            .filter(|u| !u.disabled && u.roles.contains(Role::PrivacyOffice))
            .collect())
    }
}

fn reqwest_host(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("?")
        .to_owned()
}

impl App {
    /// The targets webhooks may reach: public addresses, and the hosts the operator allowed.
    fn webhook_policy(&self) -> mamori_mail::webhook::TargetPolicy {
        mamori_mail::webhook::TargetPolicy::allowing(&self.settings.webhook_allow_hosts)
    }
}

/// The alert configuration of a company, for its page.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub escalate_after_minutes: i64,
    /// (level, user ids)
    pub tree: Vec<mamori_store::alerts::CallTreeEntry>,
    pub webhooks: Vec<mamori_store::alerts::Webhook>,
    /// Users of the company: id, name, roles.
    pub people: Vec<User>,
}

impl App {
    fn alert_admin(ctx: &Ctx) -> Result<i64, AppError> {
        if !ctx.allows(mamori_domain::role::Permission::ConfigureAlerts) {
            return Err(AppError::Denied);
        }
        ctx.company_scope().ok_or(AppError::Denied)
    }

    pub async fn alert_settings(&self, ctx: &Ctx) -> Result<AlertSettings, AppError> {
        let company = Self::alert_admin(ctx)?;
        Ok(AlertSettings {
            escalate_after_minutes: self.escalate_after(company).await / 60,
            tree: self.store.call_tree(company).await?,
            webhooks: self.store.webhooks(company, false).await?,
            people: self
                .store
                .list_users(Some(company))
                .await?
                .into_iter()
                .filter(|u| !u.disabled)
                .collect(),
        })
    }

    /// Replaces the call tree: `levels[i]` are the users of level `i + 1`.
    pub async fn set_call_tree(
        &self,
        ctx: &Ctx,
        levels: &[Vec<i64>],
        escalate_after_minutes: i64,
    ) -> Result<(), AppError> {
        let company = Self::alert_admin(ctx)?;
        // Every problem of the form is named at once.
        let mut ps = crate::Problems::new();
        if !(1..=1440).contains(&escalate_after_minutes) {
            ps.push(crate::Problem::new(
                Some("escalate_after_minutes"),
                "エスカレーションまでの時間は1〜1440分で指定してください",
                "escalate_after_minutes must be between 1 and 1440",
            ));
        }
        let people = self.store.list_users(Some(company)).await?;
        let mut entries = Vec::new();
        'levels: for (i, ids) in levels.iter().enumerate() {
            for id in ids {
                if !people.iter().any(|u| u.id == *id && !u.disabled) {
                    ps.push(crate::Problem::new(
                        Some("user_id"),
                        "連絡網に指定した利用者が見つかりません",
                        "user_id: no such user in the company",
                    ));
                    break 'levels;
                }
                entries.push(mamori_store::alerts::CallTreeEntry {
                    level: i as i64 + 1,
                    user_id: *id,
                });
            }
        }
        if !entries.iter().any(|e| e.level == 1) {
            ps.push(crate::Problem::new(
                Some("level1"),
                "レベル1（最初に連絡する人）を1人以上指定してください",
                "level 1 needs at least one person",
            ));
        }
        ps.done()?;
        self.store
            .set_call_tree(company, &entries, escalate_after_minutes * 60)
            .await?;
        self.audit(
            ctx,
            "alerts.call_tree",
            &format!("company:{company}"),
            Outcome::Success,
            json!({"entries": entries.len(), "minutes": escalate_after_minutes}),
        )
        .await?;
        Ok(())
    }

    /// Adds a webhook; returns its new secret, shown once.
    pub async fn add_webhook(&self, ctx: &Ctx, url: &str) -> Result<String, AppError> {
        let company = Self::alert_admin(ctx)?;
        let url = url.trim();
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 2000
            && !url.chars().any(char::is_whitespace);
        if !ok {
            return Err(AppError::invalid(
                "url",
                "Webhook の URL は https:// で始まる形式で入力してください",
                "url must be an http(s) URL",
            ));
        }
        // A webhook must not become a way to reach the inside of the network (cloud metadata,
        // admin consoles on loopback): the host is resolved and checked now, and again before
        // each delivery.
        if let Err(e) = mamori_mail::webhook::check_target(url, &self.webhook_policy()).await {
            self.audit(
                ctx,
                "alerts.webhook.add",
                "webhooks",
                Outcome::Failure,
                json!({"reason": "target_refused"}),
            )
            .await?;
            return Err(AppError::invalid("url", e.ja(), e.en()));
        }
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let secret = hex::encode(raw);
        let sealed = self
            .keys
            .seal(secret.as_bytes(), &format!("webhook:{company}"));
        let id = self
            .store
            .add_webhook(company, url, &sealed, self.clock.now_micros())
            .await?;
        self.audit(
            ctx,
            "alerts.webhook.add",
            &format!("webhook:{id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(secret)
    }

    pub async fn set_webhook_active(
        &self,
        ctx: &Ctx,
        id: i64,
        active: bool,
    ) -> Result<(), AppError> {
        let company = Self::alert_admin(ctx)?;
        let w = self.store.get_webhook(id).await?;
        if w.company_id != company {
            return Err(AppError::NotFound);
        }
        self.store.set_webhook_active(id, active).await?;
        self.audit(
            ctx,
            "alerts.webhook.active",
            &format!("webhook:{id}"),
            Outcome::Success,
            json!({"active": active}),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_sharing_a_mask_stay_apart() {
        let a = recipient_label("tanaka@example.co.jp", Some("田中 美咲"), 1);
        let b = recipient_label("takahashi@example.co.jp", Some("高橋 健"), 2);
        assert_eq!(a, "田中 美咲（t***@example.co.jp）");
        assert_ne!(a, b);
        // Not a user: the mail's number, never more of the address.
        let c = recipient_label("tsuchiya@example.co.jp", None, 7);
        assert_eq!(c, "t***@example.co.jp（メール#7）");
        assert!(!c.contains("tsuchiya"));
    }
}

//! Self-check of one's own PC (seed 002): scan keys, and the signed report of `mamori scan
//! --report` imported as a scan of the person's device.
//!
//! A person is issued a scan key here: an Ed25519 key pair whose secret half is given to them
//! once, as a file, and whose public half stays in the database. `mamori scan --report FILE
//! --report-key KEYFILE` signs the report with it; the import verifies the signature with the
//! stored public key, so a report edited after the scan (or signed with a revoked or another
//! person's key) is refused and the refusal recorded. A report carries kinds and counts per
//! file, never a value.

use crate::discovery::DiscoveryScope;
use crate::{App, AppError, Ctx};
use ed25519_dalek::{SigningKey, VerifyingKey};
use mamori_domain::audit::Outcome;
use mamori_domain::discovery::{self as d, Counts};
use mamori_domain::discovery_report::{self as report, ReportError, ReportStatus, ScanKeyFile};
use mamori_domain::role::Permission;
use mamori_store::discovery::{FileResult, NewLocation, ReportScan, ScanKeyRow};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Scan keys a person may hold at once (revoked ones not counted).
const MAX_KEYS: usize = 10;

/// What an import gave.
#[derive(Debug, Clone)]
pub struct ImportedReport {
    pub scan_id: i64,
    pub location_id: i64,
    pub host: String,
    pub files: usize,
    pub with_data: usize,
}

/// A newly issued key: shown (downloaded) once.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub key_id: String,
    /// The key file's text (contains the secret).
    pub file: String,
}

fn report_problem(e: &ReportError) -> AppError {
    AppError::invalid("file", e.ja(), e.en())
}

impl App {
    /// The caller's scan keys, newest first.
    pub async fn my_scan_keys(&self, ctx: &Ctx) -> Result<Vec<ScanKeyRow>, AppError> {
        let scope = self.discovery_scope(ctx).await?;
        Ok(self.store.scan_keys_of(scope.user_id).await?)
    }

    /// Issues a scan key to the caller. The secret is in the returned file only.
    pub async fn issue_scan_key(&self, ctx: &Ctx, label: &str) -> Result<IssuedKey, AppError> {
        let scope = self.discovery_scope(ctx).await?;
        let label = label.trim();
        if label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "label",
                "名前は100文字以内で入力してください",
                "the name must be at most 100 characters",
            ));
        }
        let live = self
            .store
            .scan_keys_of(scope.user_id)
            .await?
            .iter()
            .filter(|k| k.revoked_at.is_none())
            .count();
        if live >= MAX_KEYS {
            return Err(AppError::invalid(
                "label",
                format!("有効なキーは{MAX_KEYS}個までです。使わないキーを無効にしてください"),
                format!(
                    "at most {MAX_KEYS} keys may be valid at once; revoke one you no longer use"
                ),
            ));
        }
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let key_id = report::key_id_of(&signing.verifying_key());
        let now = self.clock.now_micros();
        self.store
            .insert_scan_key(&ScanKeyRow {
                key_id: key_id.clone(),
                company_id: scope.company_id,
                user_id: scope.user_id,
                public_key: hex::encode(signing.verifying_key().to_bytes()),
                label: label.to_owned(),
                created_at: now,
                revoked_at: None,
                revoked_by: None,
            })
            .await?;
        self.audit(
            ctx,
            "discovery.key.issue",
            &format!("scan-key:{key_id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(IssuedKey {
            file: ScanKeyFile::render(&key_id, &signing, &ctx.actor_name()),
            key_id,
        })
    }

    /// Revokes one of the caller's keys (the privacy office may revoke any of the company's).
    pub async fn revoke_scan_key(&self, ctx: &Ctx, key_id: &str) -> Result<(), AppError> {
        let scope = self.discovery_scope(ctx).await?;
        let target = format!("scan-key:{}", key_id.chars().take(32).collect::<String>());
        let key = self.store.scan_key(key_id).await?;
        let mine = key.as_ref().is_some_and(|k| {
            k.company_id == scope.company_id
                && (k.user_id == scope.user_id || ctx.allows(Permission::ManageDiscovery))
        });
        if !mine {
            self.audit(
                ctx,
                "discovery.key.revoke",
                &target,
                Outcome::Denied,
                json!({}),
            )
            .await?;
            return Err(AppError::NotFound);
        }
        let now = self.clock.now_micros();
        self.store
            .revoke_scan_key(key_id, &ctx.actor_name(), now)
            .await?;
        self.audit(
            ctx,
            "discovery.key.revoke",
            &target,
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    /// Imports a signed report: verified with the stored key of its signer, who must be the
    /// caller (or, for the privacy office, a person of the same company). The report becomes
    /// a finished scan of the signer's device, compared with the previous report of that host.
    pub async fn import_scan_report(
        &self,
        ctx: &Ctx,
        bytes: &[u8],
    ) -> Result<ImportedReport, AppError> {
        let scope = self.discovery_scope(ctx).await?;
        match self.import_checked(ctx, &scope, bytes).await {
            Ok(r) => Ok(r),
            Err((reason, e)) => {
                self.audit(
                    ctx,
                    "discovery.report.import",
                    "discovery",
                    Outcome::Denied,
                    json!({"reason": reason}),
                )
                .await?;
                Err(e)
            }
        }
    }

    async fn import_checked(
        &self,
        ctx: &Ctx,
        scope: &DiscoveryScope,
        bytes: &[u8],
    ) -> Result<ImportedReport, (&'static str, AppError)> {
        let internal = |e: AppError| ("internal", e);
        let key_id = report::key_id(bytes).map_err(|e| ("not_a_report", report_problem(&e)))?;
        let key = self
            .store
            .scan_key(&key_id)
            .await
            .map_err(|e| internal(e.into()))?;
        let Some(key) = key.filter(|k| k.company_id == scope.company_id) else {
            return Err((
                "unknown_key",
                AppError::invalid(
                    "file",
                    "このレポートは mamori が発行していないキーで署名されています",
                    "this report is signed with a key mamori did not issue",
                ),
            ));
        };
        if key.user_id != scope.user_id && !ctx.allows(Permission::ManageDiscovery) {
            return Err((
                "other_person",
                AppError::invalid(
                    "file",
                    "このレポートはほかの人のキーで署名されています。本人が取り込んでください",
                    "this report is signed with another person's key; its owner must import it",
                ),
            ));
        }
        if key.revoked_at.is_some() {
            return Err((
                "revoked_key",
                AppError::invalid(
                    "file",
                    "このレポートは無効にされたキーで署名されています",
                    "this report is signed with a revoked key",
                ),
            ));
        }
        let public = hex::decode(&key.public_key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .ok_or_else(|| internal(AppError::Internal("stored scan key unreadable".into())))?;
        let (header, files) = report::verify(bytes, &public).map_err(|e| {
            (
                match e {
                    ReportError::Edited => "edited",
                    _ => "malformed",
                },
                report_problem(&e),
            )
        })?;
        let sha = hex::encode(Sha256::digest(bytes));
        let owner = self
            .store
            .get_user(key.user_id)
            .await
            .map_err(|e| internal(e.into()))?;
        let now = self.clock.now_micros();
        let host: String = header.host.chars().take(200).collect();
        let existing = self
            .store
            .device_location(scope.company_id, owner.id, &host)
            .await
            .map_err(|e| internal(e.into()))?;
        let location = if let Some(l) = existing {
            l
        } else {
            // The name is unique in the company: a folder may already carry it.
            let mut id = None;
            for n in 1..=20 {
                let name = if n == 1 {
                    format!("{host} ({})", owner.login)
                } else {
                    format!("{host} ({}) {n}", owner.login)
                };
                match self
                    .store
                    .insert_location(&NewLocation {
                        company_id: scope.company_id,
                        department_id: owner.department_id,
                        kind: "device".into(),
                        name,
                        path: host.clone(),
                        owner_user_id: Some(owner.id),
                        interval_hours: 0,
                        next_scan_at: None,
                        created_at: now,
                        created_by: ctx.actor_name(),
                    })
                    .await
                {
                    Ok(new) => {
                        id = Some(new);
                        break;
                    }
                    Err(mamori_store::StoreError::Conflict(_)) => {}
                    Err(e) => return Err(internal(e.into())),
                }
            }
            let id = id.ok_or_else(|| {
                internal(AppError::Internal("no free name for the device".into()))
            })?;
            self.store
                .location(id)
                .await
                .map_err(|e| internal(e.into()))?
        };
        // An older report of the same PC after a newer one would turn the clock back.
        let last = self
            .store
            .scans(location.id, 20)
            .await
            .map_err(|e| internal(e.into()))?
            .into_iter()
            .filter(|sc| sc.status == "done")
            .find_map(|sc| sc.report_scanned_at);
        let when = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
        if let (Some(prev), Some(this)) =
            (last.as_deref().and_then(when), when(&header.finished_at))
        {
            if this < prev {
                return Err((
                    "older",
                    AppError::invalid(
                        "file",
                        "このPCについては、これより新しいレポートがすでに取り込まれています",
                        "a newer report of this PC was imported already",
                    ),
                ));
            }
        }
        let scan_id = match self
            .store
            .begin_report_scan(&ReportScan {
                location_id: location.id,
                company_id: scope.company_id,
                requested_by: ctx.actor_name(),
                now,
                sha256: sha,
                key_id: key.key_id.clone(),
                scanned_at: header.finished_at.clone(),
                files_total: i64::try_from(header.files_scanned).unwrap_or(i64::MAX),
            })
            .await
        {
            Ok(id) => id,
            Err(mamori_store::StoreError::Conflict(_)) => {
                return Err((
                    "duplicate",
                    AppError::invalid(
                        "file",
                        "このレポートはすでに取り込まれています",
                        "this report was imported already",
                    ),
                ))
            }
            Err(e) => return Err(internal(e.into())),
        };
        let filled: Result<usize, (&'static str, AppError)> = async {
            let seen: HashMap<String, (i64, Counts)> = self
                .store
                .seen_files(location.id)
                .await
                .map_err(|e| internal(e.into()))?
                .into_iter()
                .map(|f| (f.path, (f.id, d::counts_from_json(&f.counts))))
                .collect();
            let mut results = Vec::with_capacity(files.len());
            let mut with_data = 0;
            for f in &files {
                let counts: Counts = f
                    .counts
                    .iter()
                    .filter(|(k, n)| **n > 0 && d::KINDS.contains(&k.as_str()))
                    .map(|(k, n)| (k.clone(), *n))
                    .collect();
                if !counts.is_empty() {
                    with_data += 1;
                }
                let change = d::change_of(seen.get(&f.path).map(|(_, c)| c), &counts);
                results.push(FileResult {
                    location_id: location.id,
                    company_id: scope.company_id,
                    path: f.path.clone(),
                    size: i64::try_from(f.bytes).unwrap_or(i64::MAX),
                    mtime: 0,
                    sha256: String::new(),
                    scanner: header.scanner.clone(),
                    format: f.format.clone(),
                    status: match f.status {
                        ReportStatus::Scanned => "scanned",
                        ReportStatus::Skipped => "skipped",
                        ReportStatus::Failed => "failed",
                    }
                    .into(),
                    reason: f.reason.clone(),
                    counts: d::counts_to_json(&counts),
                    change: change.code().into(),
                    // A report carries no values, not even masked ones.
                    samples_sealed: None,
                    scan_id,
                });
            }
            for chunk in results.chunks(500) {
                self.store
                    .save_files(chunk)
                    .await
                    .map_err(|e| internal(e.into()))?;
            }
            let reported: std::collections::HashSet<&str> =
                files.iter().map(|f| f.path.as_str()).collect();
            // Only what this report looked at can have gone: a report of D:\仕事 says nothing of
            // the files an earlier report found in C:\Users\yamada.
            let roots: Vec<String> = header
                .roots
                .iter()
                .map(|r| r.trim_end_matches(['/', '\\']).to_owned())
                .collect();
            let under_roots = |p: &str| {
                roots.iter().any(|r| {
                    p == r
                        || r.is_empty()
                        || (p.starts_with(r.as_str()) && p[r.len()..].starts_with(['/', '\\']))
                })
            };
            let removed: Vec<i64> = seen
                .iter()
                .filter(|(p, _)| !reported.contains(p.as_str()) && under_roots(p))
                .map(|(_, (id, _))| *id)
                .collect();
            self.store
                .mark_removed(&removed, scan_id)
                .await
                .map_err(|e| internal(e.into()))?;
            let not_read = files
                .iter()
                .filter(|f| f.status != ReportStatus::Scanned)
                .count();
            let progress = mamori_store::discovery::ScanProgress {
                files_seen: i64::try_from(header.files_scanned).unwrap_or(i64::MAX),
                files_read: i64::try_from(header.files_scanned).unwrap_or(i64::MAX),
                files_not_read: i64::try_from(not_read).unwrap_or(0),
                files_removed: i64::try_from(removed.len()).unwrap_or(0),
                files_total: Some(i64::try_from(header.files_scanned).unwrap_or(i64::MAX)),
                ..Default::default()
            };
            self.store
                .report_scan_done(scan_id, &progress, now)
                .await
                .map_err(|e| internal(e.into()))?;
            Ok(with_data)
        }
        .await;
        let with_data = match filled {
            Ok(n) => n,
            Err(e) => {
                // Half an import is no import: the scan failed, and the report may come again.
                let _ = self.store.fail_report_scan(scan_id, now).await;
                return Err(e);
            }
        };
        self.audit(
            ctx,
            "discovery.report.import",
            &format!("discovery-location:{}", location.id),
            Outcome::Success,
            json!({"scan": scan_id, "key": key.key_id, "files": files.len(), "with_data": with_data}),
        )
        .await
        .map_err(internal)?;
        Ok(ImportedReport {
            scan_id,
            location_id: location.id,
            host,
            files: files.len(),
            with_data,
        })
    }
}

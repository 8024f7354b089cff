//! Use cases of the vault: opening the keys at start, access through custody or a grant,
//! lookup, reveal and export (each in the audit log with the grant it used), grants, erasure,
//! retention, key rotation and the background re-wrap. The cryptography is in `vault_keys`,
//! the import in `vault_import`, the rules in `mamori_domain::vault`.

use crate::vault_keys::{
    self, index_check, open_record, unwrap_dek, wrap_dek, Dek, IndexKeys, KeyProvider, Opened,
    VaultKeyError,
};
use crate::{App, AppError, Ctx, Principal};
use chrono::{TimeZone, Utc};
use mamori_domain::audit::Outcome;
use mamori_domain::incident::jst_date;
use mamori_domain::role::{Permission, Role};
use mamori_domain::vault::grant::{self as grant_rules, Access, Grant, GrantRequest};
use mamori_domain::vault::normalize::{self, IndexClass};
use mamori_domain::vault::{
    mask, FieldKind, RetentionAction, RetentionRule, Schema, SchemaError, SCRUBBED,
};
use mamori_store::ledger::DatasetRow;
use mamori_store::vault::{GrantRow, RecordRow, RetentionRun};
use secrecy::{ExposeSecret, SecretBox};
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// The vault's keys once opened and checked against the database.
pub struct VaultState {
    pub provider: Arc<dyn KeyProvider>,
    current: AtomicU32,
    index_root: SecretBox<[u8; 32]>,
}

impl VaultState {
    pub fn current(&self) -> u32 {
        self.current.load(Ordering::SeqCst)
    }
    pub fn index_keys(&self, dataset_id: i64) -> IndexKeys {
        IndexKeys::derive(self.index_root.expose_secret(), dataset_id)
    }
}

/// The slot in `App` that holds the opened vault.
pub type VaultSlot = Arc<OnceLock<VaultState>>;

/// Why the vault could not be opened: mamori refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum VaultOpenError {
    #[error("the vault master key version {version} does not match the database: {source_name} holds a different key than the one the data was encrypted with. Restore the right key (never generate a new one over it); mamori will not start with a wrong key")]
    Mismatch { version: i64, source_name: String },
    #[error("the vault master key version {version} that the database uses is missing from {source_name}; restore it from your key backup")]
    Missing { version: i64, source_name: String },
    #[error("the vault index key (vault-index.key / MAMORI_VAULT_INDEX_KEY) does not match the database; restore the right key")]
    IndexMismatch,
    #[error("the vault index key (vault-index.key / MAMORI_VAULT_INDEX_KEY) is missing; restore it from your key backup")]
    IndexMissing,
    #[error("{0}")]
    Key(#[from] VaultKeyError),
    #[error("{0}")]
    App(#[from] AppError),
}

/// What an opened field shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldView {
    pub name: String,
    pub kind: FieldKind,
    /// The masked value (or 削除済, or empty when absent).
    pub shown: String,
    pub present: bool,
    pub may_reveal: bool,
}

/// One record as a lookup shows it: masked, or an error that says it could not be opened.
#[derive(Debug, Clone)]
pub struct RecordView {
    pub id: i64,
    pub fields: Vec<FieldView>,
    pub error: Option<String>,
    pub scrubbed: bool,
}

/// How the caller reaches a dataset, for the page header.
#[derive(Debug, Clone)]
pub struct AccessView {
    pub basis: String,
    pub custody: bool,
    pub expires_at: Option<i64>,
    pub may_export: bool,
    pub purpose: Option<String>,
    /// The fields a grant covers; `None` for custody (every field).
    pub fields: Option<Vec<String>>,
}

impl AccessView {
    /// The lookup classes this access may search a dataset with `schema` by: those whose
    /// index sources the dataset has and the access covers completely (`Access::may_lookup`).
    /// The pages offer only these; the use case refuses the others.
    pub fn lookup_classes(&self, schema: &Schema) -> Vec<IndexClass> {
        IndexClass::ALL
            .into_iter()
            .filter(|c| {
                let sources = normalize::index_sources(schema, *c);
                !sources.is_empty()
                    && self
                        .fields
                        .as_ref()
                        .is_none_or(|f| sources.iter().all(|s| f.iter().any(|g| g == s)))
            })
            .collect()
    }
}

/// What a lookup searches by.
#[derive(Debug, Clone)]
pub enum LookupBy {
    Email(String),
    Phone(String),
    Name(String),
    NameBirth(String, String),
    Record(i64),
}

impl LookupBy {
    fn class(&self) -> &'static str {
        match self {
            LookupBy::Email(_) => "email",
            LookupBy::Phone(_) => "phone",
            LookupBy::Name(_) => "name",
            LookupBy::NameBirth(..) => "name_birth",
            LookupBy::Record(_) => "record",
        }
    }
}

/// A grant as the pages show it.
#[derive(Debug, Clone)]
pub struct GrantView {
    pub row: GrantRow,
    pub fields: Vec<String>,
    pub status: &'static str,
    pub grantee: String,
    pub issuer: String,
    pub dataset: String,
}

pub(crate) fn micros_to_utc(t: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_micros(t).single().unwrap_or_default()
}

pub(crate) fn grant_of(r: &GrantRow) -> Grant {
    Grant {
        id: r.id,
        dataset_id: r.dataset_id,
        grantee_id: r.grantee_id,
        fields: serde_json::from_str(&r.fields).unwrap_or_default(),
        purpose: r.purpose.clone(),
        may_export: r.may_export,
        issued_by: r.issued_by,
        issued_at: micros_to_utc(r.issued_at),
        expires_at: micros_to_utc(r.expires_at),
        revoked_at: r.revoked_at.map(micros_to_utc),
    }
}

pub(crate) fn schema_of(d: &DatasetRow) -> Result<Schema, AppError> {
    let text = d.vault_schema.as_deref().ok_or_else(|| {
        AppError::invalid(
            "dataset",
            format!(
                "台帳「{}」にはレコードの項目定義（スキーマ）がありません",
                d.name
            ),
            format!("the dataset `{}` has no vault schema", d.name),
        )
    })?;
    serde_json::from_str(text).map_err(|e| AppError::Internal(format!("stored schema: {e}")))
}

pub(crate) fn retention_of(d: &DatasetRow) -> Option<RetentionRule> {
    d.retention
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
}

/// Opens one record's fields; `Err` carries a message for people (never the value).
pub(crate) fn open_row(
    v: &VaultState,
    schema: &Schema,
    r: &RecordRow,
) -> Result<Vec<Opened>, String> {
    open_row_with_key(v, schema, r).map(|(_, o)| o)
}

/// Opens a record and keeps its data key (to seal it again, as retention does).
pub(crate) fn open_row_with_key(
    v: &VaultState,
    schema: &Schema,
    r: &RecordRow,
) -> Result<(Dek, Vec<Opened>), String> {
    let (Some(version), Some(wrapped)) = (r.key_version, r.wrapped.as_deref()) else {
        return Err(format!("record {}: its data key is gone (erased)", r.id));
    };
    let dek = unwrap_dek(v.provider.as_ref(), version as u32, wrapped, r.id)
        .map_err(|e| format!("record {}: {e}", r.id))?;
    let layout = vault_keys::Layout::of(r.dataset_id, schema);
    let opened = open_record(&dek, &layout, r.id, &r.sealed).map_err(|_| {
        format!(
            "record {}: the fields do not decrypt (altered or wrong key)",
            r.id
        )
    })?;
    Ok((dek, opened))
}

/// The index rows of a record's opened values.
pub(crate) fn digests_of(
    keys: &IndexKeys,
    schema: &Schema,
    values: &[Option<String>],
    record_id: i64,
) -> Vec<(i64, i64)> {
    normalize::terms(schema, values)
        .into_iter()
        .map(|(c, t)| (keys.digest(c, &t), record_id))
        .collect()
}

fn values_of(opened: &[Opened]) -> Vec<Option<String>> {
    opened
        .iter()
        .map(|o| match o {
            Opened::Value(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

impl App {
    /// Opens the vault: checks every master key version the database uses against the key
    /// provider (refusing to go on with a wrong or missing key), and the index key. With
    /// `create`, a new installation gets its first keys.
    pub async fn open_vault(
        &self,
        provider: Arc<dyn KeyProvider>,
        create: bool,
    ) -> Result<(), VaultOpenError> {
        let now = self.clock.now_micros();
        let mut rows = self.store.vault_keys().await.map_err(AppError::from)?;
        if rows.is_empty() {
            let v = match provider.versions().into_iter().max() {
                Some(v) => v,
                None if create => {
                    provider.create(1)?;
                    1
                }
                None => {
                    return Err(VaultOpenError::Missing {
                        version: 1,
                        source_name: provider.describe(),
                    })
                }
            };
            self.store
                .add_vault_key(i64::from(v), &provider.check_value(v)?, now)
                .await
                .map_err(AppError::from)?;
            rows = self.store.vault_keys().await.map_err(AppError::from)?;
        }
        for r in rows.iter().filter(|r| r.retired_at.is_none()) {
            match provider.check_value(r.version as u32) {
                Ok(c) if c == r.check_value => {}
                Ok(_) => {
                    return Err(VaultOpenError::Mismatch {
                        version: r.version,
                        source_name: provider.describe(),
                    })
                }
                Err(VaultKeyError::Missing { .. }) => {
                    return Err(VaultOpenError::Missing {
                        version: r.version,
                        source_name: provider.describe(),
                    })
                }
                Err(e) => return Err(e.into()),
            }
        }
        let stored = self
            .store
            .get_setting("vault.index_check")
            .await
            .map_err(AppError::from)?;
        let root = match (stored, provider.index_root()) {
            (Some(c), Some(root)) if c == index_check(&root) => root,
            (Some(_), Some(_)) => return Err(VaultOpenError::IndexMismatch),
            (Some(_), None) => return Err(VaultOpenError::IndexMissing),
            (None, root) => {
                let root = if let Some(r) = root {
                    r
                } else {
                    provider.create_index_root()?;
                    provider.index_root().ok_or(VaultOpenError::IndexMissing)?
                };
                self.store
                    .set_setting("vault.index_check", &index_check(&root))
                    .await
                    .map_err(AppError::from)?;
                root
            }
        };
        let current = rows
            .iter()
            .filter(|r| r.retired_at.is_none())
            .map(|r| r.version)
            .max()
            .unwrap_or(1) as u32;
        let state = VaultState {
            provider,
            current: AtomicU32::new(current),
            index_root: SecretBox::new(Box::new(root)),
        };
        match self.vault.get() {
            Some(existing) => existing.current.store(current, Ordering::SeqCst),
            None => {
                let _ = self.vault.set(state);
            }
        }
        Ok(())
    }

    /// Opens the vault with the keys of the key directory (or the environment, see
    /// `vault_keys::configured_provider`).
    pub async fn open_vault_default(&self, create: bool) -> Result<(), VaultOpenError> {
        let provider = crate::vault_keys::configured_provider(&self.keys.dir().join("."))?;
        self.open_vault(provider, create).await
    }

    pub(crate) fn vault_state(&self) -> Result<&VaultState, AppError> {
        self.vault
            .get()
            .ok_or_else(|| AppError::Internal("the vault keys were not opened at start".into()))
    }

    /// The dataset, if it is the caller's company's (404 otherwise).
    pub(crate) async fn vault_dataset(&self, ctx: &Ctx, id: i64) -> Result<DatasetRow, AppError> {
        let d = self.store.get_dataset(id).await?;
        match ctx.company_scope() {
            Some(c) if c != d.company_id => Err(AppError::NotFound),
            _ => Ok(d),
        }
    }

    /// How the caller reaches a dataset's records right now: custody or an active grant,
    /// read from the database on every call (a grant is never cached).
    pub async fn vault_access(&self, ctx: &Ctx, d: &DatasetRow) -> Result<Access, AppError> {
        let u = match &ctx.principal {
            Principal::Local => return Ok(Access::Custody),
            Principal::User(u) => u,
            Principal::Anonymous => return Err(AppError::Unauthenticated),
        };
        if ctx.allows(Permission::VaultCustody) {
            return Ok(Access::Custody);
        }
        let now = self.clock.now_micros();
        let grants: Vec<Grant> = self
            .store
            .grants_for(u.id, d.id, now)
            .await?
            .iter()
            .map(grant_of)
            .collect();
        match grant_rules::access(false, &grants, micros_to_utc(now)) {
            Some(a) => Ok(a),
            None => Err(self
                .denied(ctx, "vault.access", &format!("dataset:{}", d.id))
                .await),
        }
    }

    pub fn access_view(a: &Access) -> AccessView {
        match a {
            Access::Custody => AccessView {
                basis: a.basis(),
                custody: true,
                expires_at: None,
                may_export: true,
                purpose: None,
                fields: None,
            },
            Access::Grant(g) => AccessView {
                basis: a.basis(),
                custody: false,
                expires_at: Some(g.expires_at.timestamp_micros()),
                may_export: g.may_export,
                purpose: Some(g.purpose.clone()),
                fields: Some(g.fields.clone()),
            },
        }
    }

    fn record_view(
        schema: &Schema,
        access: &Access,
        r: &RecordRow,
        opened: Result<Vec<Opened>, String>,
    ) -> RecordView {
        match opened {
            Ok(opened) => RecordView {
                id: r.id,
                scrubbed: r.scrubbed_at.is_some(),
                error: None,
                fields: schema
                    .fields
                    .iter()
                    .zip(&opened)
                    .map(|(f, o)| {
                        let (shown, present) = match o {
                            Opened::Absent => (String::new(), false),
                            Opened::Scrubbed => (SCRUBBED.to_owned(), false),
                            Opened::Value(v) => (mask::value(f.kind, v), true),
                        };
                        FieldView {
                            name: f.name.clone(),
                            kind: f.kind,
                            shown,
                            present,
                            may_reveal: present && access.may_reveal(&f.name),
                        }
                    })
                    .collect(),
            },
            Err(e) => {
                tracing::warn!(record = r.id, "vault record does not open");
                RecordView {
                    id: r.id,
                    fields: Vec::new(),
                    error: Some(e),
                    scrubbed: false,
                }
            }
        }
    }

    /// Counts a user's lookup against the per-minute and per-hour limits (shared by every
    /// process through the database). Past a limit the lookup is refused with 429 before
    /// anything is searched, and the refusal is an audit entry. The command line is not limited.
    async fn limit_lookups(
        &self,
        ctx: &Ctx,
        dataset_id: i64,
        by: &LookupBy,
    ) -> Result<(), AppError> {
        let Principal::User(u) = &ctx.principal else {
            return Ok(());
        };
        let now = self.clock.now_micros();
        let (minute, hour) = (60_000_000i64, 3_600_000_000i64);
        let (m_key, h_key) = (
            format!("vault.lookup:m:{}", u.id),
            format!("vault.lookup:h:{}", u.id),
        );
        let (m_start, h_start) = (now - now.rem_euclid(minute), now - now.rem_euclid(hour));
        let [m, h] = self
            .store
            .count_rate(&[(m_key.as_str(), m_start), (h_key.as_str(), h_start)])
            .await?;
        let secs_until = |end: i64| (end - now + 999_999) / 1_000_000;
        let retry = if m > self.settings.vault_lookups_per_minute {
            secs_until(m_start + minute)
        } else if h > self.settings.vault_lookups_per_hour {
            secs_until(h_start + hour)
        } else {
            return Ok(());
        };
        self.audit(
            ctx,
            "vault.lookup.limited",
            &format!("dataset:{dataset_id}"),
            Outcome::Denied,
            json!({"by": by.class(), "per_minute": m, "per_hour": h}),
        )
        .await?;
        Err(AppError::Throttled(retry))
    }

    /// Finds persons in a dataset by e-mail, phone, name (and birth date) or record number,
    /// through the blind index. Values are masked; the audit entry names the records and the
    /// grant used, never the query.
    pub async fn vault_lookup(
        &self,
        ctx: &Ctx,
        dataset_id: i64,
        by: &LookupBy,
    ) -> Result<(AccessView, Vec<RecordView>), AppError> {
        let v = self.vault_state()?;
        self.limit_lookups(ctx, dataset_id, by).await?;
        // A search by value reads the dataset and the index hits in one statement; nothing is
        // opened before the company and the access are checked.
        let (d, hits) = if let LookupBy::Record(_) = by {
            (self.store.get_dataset(dataset_id).await?, None)
        } else {
            let (class, term) = lookup_term(by)?;
            let digest = v.index_keys(dataset_id).digest(class, &term);
            let (d, hits) = self
                .store
                .lookup_in_dataset(dataset_id, digest, 100)
                .await?;
            (d, Some((hits, class, term)))
        };
        if ctx.company_scope().is_some_and(|c| c != d.company_id) {
            return Err(AppError::NotFound);
        }
        let schema = schema_of(&d)?;
        let access = self.vault_access(ctx, &d).await?;
        if let Some((_, class, _)) = &hits {
            if !access.may_lookup(&schema, *class) {
                self.audit(
                    ctx,
                    "vault.lookup",
                    &format!("dataset:{}", d.id),
                    Outcome::Denied,
                    json!({"by": by.class(), "basis": access.basis(), "reason": "fields_not_granted"}),
                )
                .await?;
                let fields = normalize::index_sources(&schema, *class).join(", ");
                return Err(AppError::invalid(
                    "by",
                    format!(
                        "この検索方法には、許可に次の項目がすべて含まれている必要があります: {fields}"
                    ),
                    format!("searching this way needs all of these fields in your grant: {fields}"),
                ));
            }
        }
        let rows: Vec<(RecordRow, Result<Vec<Opened>, String>)> = match (by, hits) {
            (_, Some((hits, class, term))) => confirm_opened(v, &schema, hits, class, &term),
            (LookupBy::Record(id), None) => match self.store.get_record(*id).await {
                Ok(r) if r.dataset_id == d.id && r.erased_at.is_none() => {
                    let opened = open_row(v, &schema, &r);
                    vec![(r, opened)]
                }
                Ok(_) | Err(mamori_store::StoreError::NotFound) => Vec::new(),
                Err(e) => return Err(e.into()),
            },
            (_, None) => Vec::new(),
        };
        let views: Vec<RecordView> = rows
            .into_iter()
            .map(|(r, opened)| Self::record_view(&schema, &access, &r, opened))
            .collect();
        let failed: Vec<i64> = views
            .iter()
            .filter(|r| r.error.is_some())
            .map(|r| r.id)
            .collect();
        self.audit(
            ctx,
            "vault.lookup",
            &format!("dataset:{}", d.id),
            Outcome::Success,
            json!({
                "by": by.class(),
                "records": views.iter().map(|r| r.id).collect::<Vec<_>>(),
                "undecryptable": failed,
                "basis": access.basis(),
            }),
        )
        .await?;
        Ok((Self::access_view(&access), views))
    }

    /// Shows one field of one record in clear, if the caller's access covers the field.
    pub async fn vault_reveal(
        &self,
        ctx: &Ctx,
        record_id: i64,
        field: &str,
    ) -> Result<String, AppError> {
        let r = self.store.get_record(record_id).await?;
        let d = self.vault_dataset(ctx, r.dataset_id).await?;
        let schema = schema_of(&d)?;
        let access = self.vault_access(ctx, &d).await?;
        let target = format!("record:{record_id}");
        let Some(i) = schema.index_of(field) else {
            return Err(AppError::NotFound);
        };
        if !access.may_reveal(field) {
            self.audit(
                ctx,
                "vault.reveal",
                &target,
                Outcome::Denied,
                json!({"field": field, "basis": access.basis()}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        let v = self.vault_state()?;
        let opened = open_row(v, &schema, &r).map_err(|e| {
            AppError::invalid(
                "record",
                format!("このレコードは復号できません（{e}）"),
                format!("this record cannot be decrypted ({e})"),
            )
        })?;
        let value = match &opened[i] {
            Opened::Value(v) => v.clone(),
            Opened::Scrubbed => SCRUBBED.to_owned(),
            Opened::Absent => String::new(),
        };
        self.audit(
            ctx,
            "vault.reveal",
            &target,
            Outcome::Success,
            json!({"dataset": d.id, "field": field, "basis": access.basis()}),
        )
        .await?;
        Ok(value)
    }

    /// Exports a dataset's records as CSV (the fields the caller may reveal), if the access
    /// allows export. A record that does not decrypt stops the export and is named.
    pub async fn vault_export(
        &self,
        ctx: &Ctx,
        dataset_id: i64,
        cp932: bool,
    ) -> Result<(Vec<u8>, usize), AppError> {
        let d = self.vault_dataset(ctx, dataset_id).await?;
        let schema = schema_of(&d)?;
        let access = self.vault_access(ctx, &d).await?;
        let target = format!("dataset:{}", d.id);
        if !access.may_export() {
            self.audit(
                ctx,
                "vault.export",
                &target,
                Outcome::Denied,
                json!({"basis": access.basis()}),
            )
            .await?;
            return Err(AppError::Denied);
        }
        let v = self.vault_state()?;
        let cols: Vec<usize> = (0..schema.fields.len())
            .filter(|&i| access.may_reveal(&schema.fields[i].name))
            .collect();
        let mut w = mamori_detect::csv_out::CsvOut::new();
        let mut header = vec!["record_id".to_owned()];
        header.extend(cols.iter().map(|&i| schema.fields[i].name.clone()));
        w.record(&header);
        let mut after = 0;
        let mut n = 0;
        let mut failed = Vec::new();
        loop {
            let page = self.store.records_page(d.id, after, 2000).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for r in &page {
                match open_row(v, &schema, r) {
                    Ok(opened) => {
                        let mut row = vec![r.id.to_string()];
                        row.extend(cols.iter().map(|&i| match &opened[i] {
                            Opened::Value(v) => v.clone(),
                            Opened::Scrubbed => SCRUBBED.to_owned(),
                            Opened::Absent => String::new(),
                        }));
                        w.record(&row);
                        n += 1;
                    }
                    Err(_) => failed.push(r.id),
                }
            }
        }
        if !failed.is_empty() {
            self.audit(
                ctx,
                "vault.export",
                &target,
                Outcome::Failure,
                json!({"undecryptable": failed, "basis": access.basis()}),
            )
            .await?;
            let ids = failed
                .iter()
                .take(20)
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            return Err(AppError::invalid(
                "dataset",
                format!(
                    "復号できないレコードが{}件あるため出力を中止しました（レコード番号: {ids}）",
                    failed.len()
                ),
                format!(
                    "{} records do not decrypt; the export was stopped (records: {ids})",
                    failed.len()
                ),
            ));
        }
        self.audit(
            ctx,
            "vault.export",
            &target,
            Outcome::Success,
            json!({"records": n, "fields": header[1..].to_vec(), "basis": access.basis()}),
        )
        .await?;
        let encoding = if cp932 {
            mamori_detect::csv_out::Encoding::Cp932
        } else {
            mamori_detect::csv_out::Encoding::Utf8Bom
        };
        Ok((w.finish(encoding), n))
    }

    // ---- grants ------------------------------------------------------------------------------

    /// A custodian gives somebody time-limited access to a dataset's fields for a purpose.
    pub async fn issue_grant(
        &self,
        ctx: &Ctx,
        dataset_id: i64,
        grantee_id: i64,
        req: &GrantRequest,
    ) -> Result<i64, AppError> {
        let target = format!("dataset:{dataset_id}");
        if !ctx.allows(Permission::VaultCustody) {
            return Err(self.denied(ctx, "vault.grant.issue", &target).await);
        }
        let issuer = ctx.actor_id().ok_or(AppError::Denied)?;
        let d = self.vault_dataset(ctx, dataset_id).await?;
        let schema = schema_of(&d)?;
        let grantee = self.store.get_user(grantee_id).await.map_err(|_| {
            AppError::invalid("grantee", "付与先の利用者が見つかりません", "no such user")
        })?;
        if grantee.company_id != d.company_id || grantee.disabled {
            return Err(AppError::invalid(
                "grantee",
                "付与先の利用者が見つかりません",
                "no such user",
            ));
        }
        if grantee.id == issuer {
            return Err(AppError::invalid(
                "grantee",
                "自分自身には付与できません",
                "a grant is for somebody else",
            ));
        }
        if grantee.roles.contains(Role::Custodian) {
            return Err(AppError::invalid(
                "grantee",
                "常時アクセス権限者には付与の必要がありません",
                "a custodian already has standing access",
            ));
        }
        let now = self.clock.now_micros();
        let until = req
            .check(
                &schema,
                self.settings.vault_max_grant_hours,
                micros_to_utc(now),
            )
            .map_err(|e| {
                let field = match e {
                    grant_rules::GrantError::Purpose => "purpose",
                    grant_rules::GrantError::Hours(_) => "hours",
                    grant_rules::GrantError::NoFields
                    | grant_rules::GrantError::UnknownField(_) => "fields",
                    _ => "grantee",
                };
                AppError::invalid(field, grant_error_ja(&e), e.to_string())
            })?;
        let fields = serde_json::to_string(&req.fields).expect("names serialise");
        let id = self
            .store
            .create_grant(
                d.company_id,
                d.id,
                grantee.id,
                &fields,
                req.purpose.trim(),
                req.may_export,
                issuer,
                now,
                until.timestamp_micros(),
            )
            .await?;
        self.audit(
            ctx,
            "vault.grant.issue",
            &format!("grant:{id}"),
            Outcome::Success,
            json!({"dataset": d.id, "grantee": grantee.id, "fields": req.fields, "hours": req.hours, "export": req.may_export}),
        )
        .await?;
        Ok(id)
    }

    /// Ends a grant at once (custodians).
    pub async fn revoke_grant(&self, ctx: &Ctx, id: i64) -> Result<(), AppError> {
        let target = format!("grant:{id}");
        if !ctx.allows(Permission::VaultCustody) {
            return Err(self.denied(ctx, "vault.grant.revoke", &target).await);
        }
        let g = self.store.get_grant(id).await?;
        if ctx.company_scope().is_some_and(|c| c != g.company_id) {
            return Err(AppError::NotFound);
        }
        let by = ctx.actor_id().ok_or(AppError::Denied)?;
        if !self
            .store
            .revoke_grant(id, by, self.clock.now_micros())
            .await?
        {
            return Err(AppError::invalid(
                "grant",
                "この権限はすでに終了しています",
                "this grant has already ended",
            ));
        }
        self.audit(
            ctx,
            "vault.grant.revoke",
            &target,
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(())
    }

    /// The grants of the caller's company (custodians, auditors) or the caller's own.
    pub async fn grants(&self, ctx: &Ctx) -> Result<Vec<GrantView>, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        let now = self.clock.now_micros();
        let all = ctx.allows(Permission::VaultCustody) || ctx.allows(Permission::ReadAuditLog);
        let rows = if all {
            self.store.list_grants(u.company_id, 200).await?
        } else {
            self.store.active_grants_of(u.id, now).await?
        };
        let users = self.store.list_users(Some(u.company_id)).await?;
        let datasets = self.store.list_datasets(u.company_id).await?;
        let name = |id: i64| {
            users
                .iter()
                .find(|x| x.id == id)
                .map(|x| x.display_name.clone())
                .unwrap_or_default()
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let g = grant_of(&r);
                GrantView {
                    fields: g.fields.clone(),
                    status: g.status(micros_to_utc(now)).code(),
                    grantee: name(r.grantee_id),
                    issuer: name(r.issued_by),
                    dataset: datasets
                        .iter()
                        .find(|d| d.id == r.dataset_id)
                        .map(|d| d.name.clone())
                        .unwrap_or_default(),
                    row: r,
                }
            })
            .collect())
    }

    // ---- schema and retention ----------------------------------------------------------------

    /// Declares (or extends) a dataset's record schema and its retention rule. Once records
    /// exist, fields can only be added at the end (a stored value is bound to its field's stable
    /// id, which a grown schema keeps).
    pub async fn set_vault_schema(
        &self,
        ctx: &Ctx,
        dataset_id: i64,
        version: i64,
        schema_text: &str,
        retention: Option<RetentionRule>,
    ) -> Result<(), AppError> {
        let target = format!("dataset:{dataset_id}");
        if !ctx.allows(Permission::ManageVault) {
            return Err(self.denied(ctx, "vault.schema", &target).await);
        }
        let d = self.vault_dataset(ctx, dataset_id).await?;
        let schema = Schema::parse(schema_text)
            .map_err(|e| AppError::invalid("schema", format!("項目定義: {e}"), e.to_string()))?;
        // Stored values are bound to their fields' stable ids: fields keep their ids, new
        // fields get new ones, and with records stored a change that would orphan a value is
        // refused here, before anything is written.
        let schema = match d.vault_schema.as_deref() {
            None => schema,
            Some(old) => {
                let old: Schema = serde_json::from_str(old)
                    .map_err(|e| AppError::Internal(format!("stored schema: {e}")))?;
                let records = self.store.count_records(d.id).await? > 0;
                schema.evolve(&old, records).map_err(|e| {
                    let ja = match &e {
                        SchemaError::Removed(f) => format!(
                            "レコードがある台帳では項目「{f}」を削除できません（項目は末尾へ追加だけができます）"
                        ),
                        SchemaError::KindChanged(f) => format!(
                            "レコードがある台帳では項目「{f}」の種類を変えられません"
                        ),
                        SchemaError::Reordered(f) => format!(
                            "レコードがある台帳では既存の項目の順序を変えられません（「{f}」）。新しい項目は末尾へ追加してください"
                        ),
                        other => format!("項目定義: {other}"),
                    };
                    AppError::invalid("schema", ja, e.to_string())
                })?
            }
        };
        if let Some(rule) = &retention {
            rule.check(&schema).map_err(|e| {
                AppError::invalid("retention", format!("保存期間ルール: {e}"), e.to_string())
            })?;
            if schema
                .first_of(FieldKind::Date)
                .map(|i| schema.fields[i].name.as_str())
                != Some(rule.base_field.as_str())
            {
                return Err(AppError::invalid(
                    "retention",
                    "保存期間ルールの起算日は、項目定義で最初の日付項目（date）にしてください",
                    "the rule must count from the first date field of the schema",
                ));
            }
        }
        let mut items = crate::ledger::parse_items_json(&d.items);
        items.extend(schema.items());
        items.sort();
        items.dedup();
        let items_json = serde_json::to_string(&items.iter().map(|i| i.code()).collect::<Vec<_>>())
            .expect("codes serialise");
        let schema_json = serde_json::to_string(&schema).expect("schema serialises");
        let rule_json = retention
            .as_ref()
            .map(|r| serde_json::to_string(r).expect("rule serialises"));
        self.store
            .set_dataset_vault(
                d.id,
                version,
                Some(&schema_json),
                rule_json.as_deref(),
                &items_json,
                self.clock.now_micros(),
            )
            .await?;
        self.audit(
            ctx,
            "vault.schema",
            &target,
            Outcome::Success,
            json!({"fields": schema.fields.len(), "retention": retention.is_some()}),
        )
        .await?;
        Ok(())
    }

    /// Runs the retention rules of every dataset (the periodic task `vault.retention`).
    pub async fn run_retention(&self) -> Result<Vec<(i64, RetentionRun)>, AppError> {
        let mut out = Vec::new();
        for d in self.store.all_datasets().await? {
            if let (Some(rule), Ok(schema)) = (retention_of(&d), schema_of(&d)) {
                let run = self.retention_for(&d, &schema, &rule).await?;
                out.push((d.id, run));
            }
        }
        Ok(out)
    }

    async fn retention_for(
        &self,
        d: &DatasetRow,
        schema: &Schema,
        rule: &RetentionRule,
    ) -> Result<RetentionRun, AppError> {
        let v = self.vault_state()?;
        let keys = v.index_keys(d.id);
        let now = self.clock.now_micros();
        let cutoff = rule.cutoff(jst_date(now)).to_string();
        let mut run = RetentionRun {
            ran_at: now,
            rule: serde_json::to_string(rule).expect("rule serialises"),
            cutoff: cutoff.clone(),
            scrubbed: 0,
            deleted: 0,
            failed: 0,
        };
        let mut seen_failed = std::collections::HashSet::new();
        loop {
            let due = self.store.retention_due(d.id, &cutoff, 500).await?;
            let mut progressed = false;
            for r in &due {
                if seen_failed.contains(&r.id) {
                    continue;
                }
                let Ok((dek, opened)) = open_row_with_key(v, schema, r) else {
                    tracing::warn!(record = r.id, "retention: record does not open");
                    seen_failed.insert(r.id);
                    run.failed += 1;
                    continue;
                };
                let before = values_of(&opened);
                let all_digests = digests_of(&keys, schema, &before, r.id);
                match &rule.action {
                    RetentionAction::Delete => {
                        self.store
                            .erase_record(
                                r.id,
                                d.id,
                                &all_digests,
                                "retention",
                                &rule.describe_ja(),
                                now,
                            )
                            .await?;
                        run.deleted += 1;
                    }
                    RetentionAction::Scrub { fields } => {
                        let mut slots = opened.clone();
                        let mut after = before.clone();
                        for f in fields {
                            if let Some(i) = schema.index_of(f) {
                                slots[i] = Opened::Scrubbed;
                                after[i] = None;
                            }
                        }
                        let layout = vault_keys::Layout::of(d.id, schema);
                        let sealed = vault_keys::seal_fields(&dek, &layout, r.id, &slots);
                        let keep = digests_of(&keys, schema, &after, r.id);
                        let remove: Vec<(i64, i64)> = all_digests
                            .into_iter()
                            .filter(|x| !keep.contains(x))
                            .collect();
                        self.store.scrub_record(r.id, &sealed, &remove, now).await?;
                        run.scrubbed += 1;
                    }
                }
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        if run.scrubbed + run.deleted + run.failed > 0 {
            self.store.add_retention_run(d.id, &run).await?;
            self.audit(
                &Ctx::local(),
                "vault.retention",
                &format!("dataset:{}", d.id),
                if run.failed > 0 { Outcome::Failure } else { Outcome::Success },
                json!({"cutoff": cutoff, "scrubbed": run.scrubbed, "deleted": run.deleted, "failed": run.failed}),
            )
            .await?;
        }
        Ok(run)
    }

    // ---- erasure -----------------------------------------------------------------------------

    /// Erases a person's records in a dataset on request: index rows removed, the data key
    /// destroyed (crypto-shredding), the erasure recorded. Returns how many records.
    pub async fn erase_subject(
        &self,
        ctx: &Ctx,
        dataset_id: i64,
        by: &LookupBy,
        reason: &str,
    ) -> Result<usize, AppError> {
        let target = format!("dataset:{dataset_id}");
        if !ctx.allows(Permission::EraseSubjects) {
            return Err(self.denied(ctx, "vault.erase", &target).await);
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(AppError::invalid(
                "reason",
                "消去の理由（本人からの請求の受付番号など）を500文字以内で入力してください",
                "give the reason (e.g. the request's reference), at most 500 characters",
            ));
        }
        let d = self.vault_dataset(ctx, dataset_id).await?;
        let schema = schema_of(&d)?;
        let v = self.vault_state()?;
        let keys = v.index_keys(d.id);
        let rows = match by {
            LookupBy::Record(id) => match self.store.get_record(*id).await {
                Ok(r) if r.dataset_id == d.id && r.erased_at.is_none() => vec![r],
                _ => Vec::new(),
            },
            LookupBy::Email(_) | LookupBy::Phone(_) => {
                let (class, term) = lookup_term(by)?;
                let hits = self
                    .store
                    .lookup_digest(d.id, keys.digest(class, &term), 1000)
                    .await?;
                confirm_hits(v, &schema, hits, class, &term)
            }
            LookupBy::Name(_) | LookupBy::NameBirth(..) => {
                return Err(AppError::invalid(
                    "by",
                    "消去はメールアドレス・電話番号・レコード番号で対象を特定してください（氏名だけでは同姓同名を区別できません）",
                    "erase by e-mail, phone or record number (a name alone does not tell people apart)",
                ))
            }
        };
        let now = self.clock.now_micros();
        let mut ids = Vec::new();
        let mut unopened = Vec::new();
        for r in &rows {
            let digests = if let Ok(o) = open_row(v, &schema, r) {
                digests_of(&keys, &schema, &values_of(&o), r.id)
            } else {
                unopened.push(r.id);
                Vec::new()
            };
            self.store
                .erase_record(r.id, d.id, &digests, &ctx.actor_name(), reason, now)
                .await?;
            ids.push(r.id);
        }
        self.audit(
            ctx,
            "vault.erase",
            &target,
            Outcome::Success,
            json!({"records": ids, "by": by.class(), "reason": reason, "index_left_for": unopened}),
        )
        .await?;
        Ok(ids.len())
    }

    // ---- keys --------------------------------------------------------------------------------

    /// Makes a new master key version current and queues the re-wrap of every data key.
    pub async fn rotate_vault_key(&self, ctx: &Ctx) -> Result<u32, AppError> {
        if !matches!(ctx.principal, Principal::Local) && !ctx.allows(Permission::VaultCustody) {
            return Err(self.denied(ctx, "vault.rotate", "vault").await);
        }
        let v = self.vault_state()?;
        let next = self
            .store
            .vault_keys()
            .await?
            .iter()
            .map(|r| r.version)
            .max()
            .unwrap_or(0) as u32
            + 1;
        v.provider
            .create(next)
            .map_err(|e| AppError::invalid("key", e.to_string(), e.to_string()))?;
        let check = v
            .provider
            .check_value(next)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let now = self.clock.now_micros();
        self.store
            .add_vault_key(i64::from(next), &check, now)
            .await?;
        v.current.store(next, Ordering::SeqCst);
        self.store.enqueue_job("vault.rewrap", "", now, now).await?;
        self.audit(
            ctx,
            "vault.rotate",
            "vault",
            Outcome::Success,
            json!({"version": next}),
        )
        .await?;
        Ok(next)
    }

    /// Re-wraps data keys under the current master key, `batch` at a time, until none is left
    /// or `max` were done; safe to stop and run again. Retires versions no key uses any more.
    /// Returns how many keys were re-wrapped.
    pub async fn rewrap_keys(&self, batch: i64, max: Option<u64>) -> Result<u64, AppError> {
        use rayon::prelude::*;
        let v = self.vault_state()?;
        let current = v.current();
        let provider = v.provider.clone();
        let mut after = 0;
        let mut done = 0u64;
        // The writes of the last batches overlap the read and the unwrap/wrap of the next; on
        // PostgreSQL two writes may be in flight (two backends run them in parallel), on SQLite
        // one (a second would only sleep in the busy handler). All are awaited before this
        // returns. Batches touch disjoint key ranges.
        let depth = match self.store.backend() {
            mamori_store::Backend::Postgres => 2,
            mamori_store::Backend::Sqlite => 1,
        };
        let mut writing: std::collections::VecDeque<
            tokio::task::JoinHandle<Result<u64, mamori_store::StoreError>>,
        > = std::collections::VecDeque::new();
        let finish = |h: tokio::task::JoinHandle<Result<u64, mamori_store::StoreError>>| async move {
            h.await
                .map_err(|e| AppError::Internal(format!("re-wrap write: {e}")))?
                .map_err(AppError::from)
        };
        let mut failed = None;
        loop {
            if max.is_some_and(|m| done >= m) {
                break;
            }
            let rows = match self
                .store
                .deks_to_rewrap(i64::from(current), after, batch)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    failed = Some(e.into());
                    break;
                }
            };
            let Some(last) = rows.last() else { break };
            after = last.0;
            let p = provider.clone();
            let wrapped = tokio::task::spawn_blocking(move || {
                rows.par_iter()
                    .map(|(id, old, w)| {
                        let dek: Dek = unwrap_dek(p.as_ref(), *old as u32, w, *id)?;
                        Ok((
                            *id,
                            *old,
                            i64::from(current),
                            wrap_dek(p.as_ref(), current, &dek, *id)?,
                        ))
                    })
                    .collect::<Result<Vec<_>, VaultKeyError>>()
            })
            .await;
            let wrapped = match wrapped {
                Ok(Ok(w)) => w,
                Ok(Err(e)) => {
                    failed = Some(AppError::Internal(format!("re-wrap: {e}")));
                    break;
                }
                Err(e) => {
                    failed = Some(AppError::Internal(e.to_string()));
                    break;
                }
            };
            if writing.len() >= depth {
                if let Some(h) = writing.pop_front() {
                    match finish(h).await {
                        Ok(n) => done += n,
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
            }
            let store = self.store.clone();
            writing.push_back(tokio::spawn(
                async move { store.rewrap_batch(&wrapped).await },
            ));
        }
        // Every write started is awaited, even after a failure, so that none is left running.
        for h in writing {
            match finish(h).await {
                Ok(n) => done += n,
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        if max.is_some_and(|m| done >= m) {
            return Ok(done);
        }
        // The sealed contacts of unmatched persons (impact analysis) are under a master key
        // version too: bring them to the current one before an old version can be retired.
        self.reseal_impact_contacts().await?;
        // Files attached to incidents have data keys under the master key too.
        done += self.rewrap_evidence_keys().await?;
        let now = self.clock.now_micros();
        let mut used: Vec<i64> = self
            .store
            .deks_per_version()
            .await?
            .iter()
            .map(|(v, _)| *v)
            .collect();
        used.extend(self.store.evidence_key_versions().await?);
        for k in self.store.vault_keys().await? {
            if k.retired_at.is_none()
                && k.version != i64::from(current)
                && !used.contains(&k.version)
            {
                self.store.retire_vault_key(k.version, now).await?;
            }
        }
        Ok(done)
    }

    /// Re-seals every record still in an older sealed format (format 2, bound to the field
    /// names of the schema of its day) as format 3 (bound to the dataset, the record and each
    /// field's stable id), `batch` at a time, with the same data key. Safe to stop and run
    /// again; a record changed meanwhile is left for the next run. The periodic job
    /// `vault.reseal` (queued by migration 0008 when records exist) and `mamori vault reseal`
    /// run it. Returns (re-sealed, records that did not open).
    pub async fn reseal_records(&self, batch: i64) -> Result<(u64, u64), AppError> {
        let v = self.vault_state()?;
        let mut schemas: std::collections::HashMap<i64, Option<Schema>> =
            std::collections::HashMap::new();
        let (mut after, mut done, mut failed) = (0, 0u64, 0u64);
        loop {
            let rows = self.store.records_to_reseal(after, batch).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                if let std::collections::hash_map::Entry::Vacant(e) = schemas.entry(r.dataset_id) {
                    let d = self.store.get_dataset(r.dataset_id).await?;
                    e.insert(schema_of(&d).ok());
                }
                let Some(schema) = schemas.get(&r.dataset_id).and_then(Option::as_ref) else {
                    failed += 1;
                    continue;
                };
                if let Ok((dek, opened)) = open_row_with_key(v, schema, r) {
                    let layout = vault_keys::Layout::of(r.dataset_id, schema);
                    let sealed = vault_keys::seal_fields(&dek, &layout, r.id, &opened);
                    out.push((r.id, r.sealed.clone(), sealed));
                } else {
                    tracing::warn!(record = r.id, "re-seal: record does not open");
                    failed += 1;
                }
            }
            done += self.store.reseal_batch(&out).await?;
        }
        if done + failed > 0 {
            self.audit(
                &Ctx::local(),
                "vault.reseal",
                "vault",
                if failed > 0 {
                    Outcome::Failure
                } else {
                    Outcome::Success
                },
                json!({"resealed": done, "failed": failed}),
            )
            .await?;
        }
        Ok((done, failed))
    }
}

/// The class and normal form a lookup searches for, or a message saying why the value
/// cannot be searched.
fn lookup_term(by: &LookupBy) -> Result<(IndexClass, String), AppError> {
    let (class, term) = match by {
        LookupBy::Email(e) => (
            IndexClass::Email,
            normalize::query_term(IndexClass::Email, e, None),
        ),
        LookupBy::Phone(p) => (
            IndexClass::Phone,
            normalize::query_term(IndexClass::Phone, p, None),
        ),
        LookupBy::Name(n) => (
            IndexClass::Name,
            normalize::query_term(IndexClass::Name, n, None),
        ),
        LookupBy::NameBirth(n, b) => (
            IndexClass::NameBirth,
            normalize::query_term(IndexClass::NameBirth, n, Some(b)),
        ),
        LookupBy::Record(_) => {
            return Err(AppError::Internal("a record number is not a term".into()))
        }
    };
    let term = term.ok_or_else(|| {
        AppError::invalid(
            "q",
            "検索条件を読み取れません（メールアドレスは@を含む形、電話番号は10〜11桁、生年月日は日付で入力してください）",
            "the search value cannot be used (an e-mail needs @, a phone 10–11 digits, a birth date a date)",
        )
    })?;
    Ok((class, term))
}

/// Opens the index hits and keeps those whose values really hold the term (see
/// `confirm_hits`), with what was opened.
fn confirm_opened(
    v: &VaultState,
    schema: &Schema,
    hits: Vec<RecordRow>,
    class: IndexClass,
    term: &str,
) -> Vec<(RecordRow, Result<Vec<Opened>, String>)> {
    hits.into_iter()
        .map(|r| {
            let opened = open_row(v, schema, &r);
            (r, opened)
        })
        .filter(|(_, o)| match o {
            Ok(o) => normalize::terms(schema, &values_of(o))
                .iter()
                .any(|(c, t)| *c == class && t == term),
            Err(_) => true,
        })
        .collect()
}

/// Keeps the index hits whose opened values really hold the term (a 64-bit digest may, very
/// rarely, collide). A record that does not open is kept, so that it is reported.
fn confirm_hits(
    v: &VaultState,
    schema: &Schema,
    hits: Vec<RecordRow>,
    class: IndexClass,
    term: &str,
) -> Vec<RecordRow> {
    hits.into_iter()
        .filter(|r| match open_row(v, schema, r) {
            Ok(o) => normalize::terms(schema, &values_of(&o))
                .iter()
                .any(|(c, t)| *c == class && t == term),
            Err(_) => true,
        })
        .collect()
}

fn grant_error_ja(e: &grant_rules::GrantError) -> String {
    use grant_rules::GrantError as G;
    match e {
        G::Purpose => "利用目的を1〜500文字で入力してください".into(),
        G::Hours(max) => format!("期間は1〜{max}時間で指定してください"),
        G::NoFields => "閲覧できる項目を1つ以上選んでください".into(),
        G::UnknownField(f) => format!("「{f}」はこの台帳の項目ではありません"),
        G::GranteeIsCustodian => "常時アクセス権限者には付与の必要がありません".into(),
        G::SelfGrant => "自分自身には付与できません".into(),
    }
}

//! What the vault pages need around the records: the datasets a person can reach (with how),
//! one dataset's schema and retention for the schema form, and the colleagues a custodian can
//! give a grant to. Lookup, reveal, export, grants and erasure are in `vault`.

use crate::vault::{grant_of, micros_to_utc, retention_of, AccessView};
use crate::{App, AppError, Ctx, Principal};
use mamori_domain::audit::Outcome;
use mamori_domain::role::{Permission, Role};
use mamori_domain::vault::grant::{self as grant_rules, Access, Grant};
use mamori_domain::vault::{RetentionRule, Schema};
use mamori_store::ledger::DatasetRow;
use serde_json::json;

/// A dataset as the vault pages show it.
#[derive(Debug, Clone)]
pub struct VaultDataset {
    pub id: i64,
    pub name: String,
    /// The entry's version, for the schema form's concurrent-edit check.
    pub version: i64,
    pub schema: Option<Schema>,
    pub retention: Option<RetentionRule>,
    pub records: i64,
    /// Custody or the active grant right now; `None`: no lookup.
    pub access: Option<AccessView>,
}

impl App {
    /// Custody or an active grant, read now from the database; no audit entry (the lookup,
    /// reveal and export that use it write their own).
    async fn current_access(&self, ctx: &Ctx, d: &DatasetRow) -> Result<Option<Access>, AppError> {
        let u = match &ctx.principal {
            Principal::Local => return Ok(Some(Access::Custody)),
            Principal::User(u) => u,
            Principal::Anonymous => return Ok(None),
        };
        let now = self.clock.now_micros();
        let grants: Vec<Grant> = self
            .store
            .grants_for(u.id, d.id, now)
            .await?
            .iter()
            .map(grant_of)
            .collect();
        Ok(grant_rules::access(
            ctx.allows(Permission::VaultCustody),
            &grants,
            micros_to_utc(now),
        ))
    }

    async fn vault_dataset_of(&self, ctx: &Ctx, d: DatasetRow) -> Result<VaultDataset, AppError> {
        let schema = d
            .vault_schema
            .as_deref()
            .map(serde_json::from_str::<Schema>)
            .transpose()
            .map_err(|e| AppError::Internal(format!("stored schema: {e}")))?;
        let access = match schema {
            Some(_) => self
                .current_access(ctx, &d)
                .await?
                .as_ref()
                .map(App::access_view),
            None => None,
        };
        let records = match schema {
            Some(_) => self.store.count_records(d.id).await?,
            None => 0,
        };
        Ok(VaultDataset {
            id: d.id,
            retention: retention_of(&d),
            name: d.name,
            version: d.version,
            schema,
            records,
            access,
        })
    }

    /// The datasets of the caller's company the vault pages list: those with a schema the
    /// caller reaches (custody or a grant); for the privacy office and custodians every dataset
    /// with a schema, and (to declare one) those without.
    pub async fn vault_datasets(&self, ctx: &Ctx) -> Result<Vec<VaultDataset>, AppError> {
        let u = ctx.user_ref().ok_or(AppError::Unauthenticated)?;
        let manage = ctx.allows(Permission::ManageVault);
        let all = manage || ctx.allows(Permission::EraseSubjects);
        let mut out = Vec::new();
        for d in self.store.list_datasets(u.company_id).await? {
            let v = self.vault_dataset_of(ctx, d).await?;
            let show = match v.schema {
                Some(_) => all || v.access.is_some(),
                None => manage,
            };
            if show {
                out.push(v);
            }
        }
        self.audit(
            ctx,
            "vault.list",
            "vault",
            Outcome::Success,
            json!({"datasets": out.len()}),
        )
        .await?;
        Ok(out)
    }

    /// One dataset for its vault page: reachable by custody or a grant, or by the privacy
    /// office and custodians (schema, erasure) — 403 for anybody else, 404 outside the company.
    pub async fn vault_dataset_info(&self, ctx: &Ctx, id: i64) -> Result<VaultDataset, AppError> {
        let company = ctx.company_scope().ok_or(AppError::Unauthenticated)?;
        let d = match self.store.get_dataset(id).await {
            Ok(d) if d.company_id == company => d,
            Ok(_) | Err(mamori_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let v = self.vault_dataset_of(ctx, d).await?;
        let staff_of_vault =
            ctx.allows(Permission::ManageVault) || ctx.allows(Permission::EraseSubjects);
        if v.access.is_none() && !staff_of_vault {
            return Err(self
                .denied(ctx, "vault.access", &format!("dataset:{id}"))
                .await);
        }
        if v.schema.is_none() && !ctx.allows(Permission::ManageVault) {
            return Err(AppError::NotFound);
        }
        Ok(v)
    }

    /// The colleagues a custodian may give a grant to: active users of the company who are
    /// not custodians, without the caller.
    pub async fn grantees(&self, ctx: &Ctx) -> Result<Vec<(i64, String)>, AppError> {
        if !ctx.allows(Permission::VaultCustody) {
            return Err(self.denied(ctx, "vault.grant.issue", "vault").await);
        }
        let u = ctx.user_ref().ok_or(AppError::Denied)?;
        Ok(self
            .store
            .list_users(Some(u.company_id))
            .await?
            .into_iter()
            .filter(|x| x.id != u.id && !x.disabled && !x.roles.contains(Role::Custodian))
            .map(|x| (x.id, x.display_name))
            .collect())
    }
}

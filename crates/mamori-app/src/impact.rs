//! Impact analysis: matching what leaked against the vault's persons (issue 14, items 2–5).
//!
//! The evidence reader (`evidence`) calls [`App::match_leaked`] with batches of rows as it
//! reads a leaked file; the system-side scope (a dataset, a time window, an account's reveals
//! and exports) feeds the same table (`impact_persons`) through the same store batch.
//!
//! Matching turns each row into the vault's blind-index terms (e-mail, phone, name + birth
//! date, name + address — normalised by `mamori_domain::vault::normalize`, exactly as the
//! vault indexes), computes their digests under every dataset of the incident's company (index
//! keys are per dataset) and looks them up in batches. A bare name never matches. A digest hit
//! counts only for the dataset whose key made it; with 64-bit digests and per-dataset keys a
//! false hit is about one in 10^13 per term, so hits are not opened to confirm (that would
//! decrypt every matched record).
//!
//! Persons are deduplicated per incident: `r:<record id>` for a matched row (the same record
//! from two files or datasets is one person with the union of items), else a keyed digest of
//! the leak's own best contact value (e-mail, else phone, else name + address, else the
//! locator) under a key derived for the incident, never a plain value.

use crate::vault::{open_row, schema_of};
use crate::vault_keys::{self, IndexKeys, Opened};
use crate::{App, AppError, Ctx, Principal};
use mamori_domain::appi::Item;
use mamori_domain::audit::Outcome;
use mamori_domain::impact::{LeakedField, LeakedRow};
use mamori_domain::incident::facts::{FactChange, IncidentFacts};
use mamori_domain::role::{Permission, Role};
use mamori_domain::vault::normalize::{self, IndexClass};
use mamori_domain::vault::{FieldKind, Schema};
use mamori_store::impact::{PersonDraft, PersonRow, SourceRow};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What one batch of rows gave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatchStats {
    pub rows: u64,
    pub matched: u64,
    pub unmatched: u64,
}

/// How to reach one affected person: from the vault record when matched, else from what the
/// leak itself holds. Any part may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub name: Option<String>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One affected person as a notification campaign needs them (system use: the campaign job;
/// pages show persons through the viewer's vault rights instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedPerson {
    /// `impact_persons.id`.
    pub id: i64,
    /// The vault record, when matched.
    pub record_id: Option<i64>,
    /// The items that leaked for this person, in appi.md §9 order.
    pub items: Vec<mamori_domain::appi::Item>,
    pub contact: Contact,
}

/// How many persons an incident's impact analysis found (what every incident viewer sees).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImpactCounts {
    pub total: u64,
    /// Matched by e-mail, phone or an exact record.
    pub identifier: u64,
    /// Matched by name + birth date or name + address only.
    pub name: u64,
    pub unmatched: u64,
    /// Persons per leaked item, in appi.md §9 order.
    pub per_item: Vec<(Item, u64)>,
}

/// One person as the impact page lists them for a viewer with rights on the record's dataset
/// (or for unmatched persons, the privacy office): masked values only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonView {
    pub id: i64,
    pub record_id: Option<i64>,
    pub dataset_id: Option<i64>,
    pub strength: String,
    pub items: Vec<Item>,
    pub sources: i64,
    pub first_locator: String,
    /// (field label, masked value).
    pub shown: Vec<(String, String)>,
}

/// The facts as they are and as the impact analysis proposes them.
#[derive(Debug, Clone)]
pub struct ImpactProposal {
    pub version: i64,
    pub counts: ImpactCounts,
    pub current: IncidentFacts,
    pub proposed: IncidentFacts,
    pub changes: Vec<FactChange>,
    pub current_assessment: mamori_domain::appi::Assessment,
    pub proposed_assessment: mamori_domain::appi::Assessment,
}

const STRENGTH_IDENTIFIER: &str = "identifier";
const STRENGTH_NAME: &str = "name";
const STRENGTH_NONE: &str = "none";

/// The query terms of a leaked row, each with its class.
fn row_terms(row: &LeakedRow) -> Vec<(IndexClass, String)> {
    let mut out = Vec::new();
    let birth = row.first(LeakedField::BirthDate);
    let addr = row.first(LeakedField::Address);
    for (f, v) in &row.values {
        match f {
            LeakedField::Email => {
                if let Some(t) = normalize::query_term(IndexClass::Email, v, None) {
                    out.push((IndexClass::Email, t));
                }
            }
            LeakedField::Phone => {
                if let Some(t) = normalize::query_term(IndexClass::Phone, v, None) {
                    out.push((IndexClass::Phone, t));
                }
            }
            LeakedField::Name | LeakedField::KanaName => {
                if let Some(t) = normalize::query_term(IndexClass::NameBirth, v, birth) {
                    out.push((IndexClass::NameBirth, t));
                }
                if let Some(t) = normalize::query_term(IndexClass::NameAddress, v, addr) {
                    out.push((IndexClass::NameAddress, t));
                }
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| (a.0.code(), &a.1).cmp(&(b.0.code(), &b.1)));
    out.dedup();
    out
}

fn is_identifier(c: IndexClass) -> bool {
    matches!(c, IndexClass::Email | IndexClass::Phone)
}

/// The leak's own contact data of a row.
fn row_contact(row: &LeakedRow) -> Contact {
    let own = |f| row.first(f).map(str::to_owned);
    Contact {
        name: own(LeakedField::Name).or_else(|| own(LeakedField::KanaName)),
        postal_code: own(LeakedField::PostalCode),
        address: own(LeakedField::Address),
        email: own(LeakedField::Email),
        phone: own(LeakedField::Phone),
    }
}

/// The dedupe key of an unmatched row: a keyed digest of its best contact value.
fn unmatched_key(keys: &IndexKeys, row: &LeakedRow, file_id: i64) -> String {
    let terms = row_terms(row);
    let pick = |c: IndexClass| terms.iter().find(|(k, _)| *k == c).map(|(_, t)| t);
    let (tag, class, term) = if let Some(t) = pick(IndexClass::Email) {
        ("e", IndexClass::Email, t.clone())
    } else if let Some(t) = pick(IndexClass::Phone) {
        ("p", IndexClass::Phone, t.clone())
    } else if let Some(t) = pick(IndexClass::NameAddress) {
        ("a", IndexClass::NameAddress, t.clone())
    } else {
        (
            "l",
            IndexClass::Name,
            format!("{file_id}\u{1f}{}", row.locator),
        )
    };
    format!("u:{tag}:{:016x}", keys.digest(class, &term))
}

fn item_codes(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.code().to_owned()).collect()
}

fn parse_items(s: &str) -> Vec<Item> {
    let mut v: Vec<Item> = s
        .split(',')
        .filter_map(|c| c.trim().parse::<Item>().ok())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn contact_label(incident_id: i64, dedupe_key: &str) -> String {
    format!("impact:{incident_id}:{dedupe_key}")
}

fn opened_text(o: Option<&Opened>) -> Option<String> {
    match o {
        Some(Opened::Value(v)) if !v.trim().is_empty() => Some(v.clone()),
        _ => None,
    }
}

/// A vault record's contact data by field kinds.
fn record_contact(schema: &Schema, opened: &[Opened]) -> Contact {
    let of = |k: FieldKind| schema.first_of(k).and_then(|i| opened_text(opened.get(i)));
    Contact {
        name: of(FieldKind::Name).or_else(|| of(FieldKind::KanaName)),
        postal_code: of(FieldKind::PostalCode),
        address: of(FieldKind::Address),
        email: of(FieldKind::Email),
        phone: of(FieldKind::Phone),
    }
}

/// Microseconds of a JST date-time window from page text (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM`,
/// the end date inclusive); both empty is no window.
pub fn parse_window(from: &str, to: &str) -> Result<Option<(i64, i64)>, AppError> {
    let (from, to) = (from.trim(), to.trim());
    if from.is_empty() && to.is_empty() {
        return Ok(None);
    }
    let read = |field: &'static str, s: &str, end: bool| -> Result<i64, AppError> {
        if s.is_empty() {
            return Ok(if end { i64::MAX } else { i64::MIN });
        }
        if let Ok(Some(d)) = crate::incident::parse_date(field, s) {
            let start = mamori_domain::incident::jst_midnight(d);
            return Ok(if end {
                start + 86_400_000_000 - 1
            } else {
                start
            });
        }
        Ok(crate::incident::parse_time(field, s)?.unwrap_or(i64::MIN))
    };
    let (f, t) = (read("from", from, false)?, read("to", to, true)?);
    if f > t {
        return Err(AppError::invalid(
            "to",
            "期間の終わりが始まりより前です",
            "the end of the window is before its start",
        ));
    }
    Ok(Some((f, t)))
}

impl App {
    /// The index keys of every dataset with a vault schema of a company.
    pub(crate) async fn company_index_keys(
        &self,
        company_id: i64,
    ) -> Result<Vec<(i64, IndexKeys)>, AppError> {
        let v = self.vault_state()?;
        Ok(self
            .store
            .list_datasets(company_id)
            .await?
            .into_iter()
            .filter(|d| d.vault_schema.is_some())
            .map(|d| (d.id, v.index_keys(d.id)))
            .collect())
    }

    /// The key unmatched persons of an incident are deduplicated under: derived from the index
    /// root for the incident (a negative "dataset" id never names a real dataset).
    pub(crate) fn dedupe_keys(&self, incident_id: i64) -> Result<IndexKeys, AppError> {
        Ok(self.vault_state()?.index_keys(-incident_id))
    }

    /// Matches one batch of leaked rows of an incident (from the file `file_id`, or from the
    /// system side when `None`) and records the result. Sending the same batch again (a scan
    /// resumed after a restart) changes nothing: rows are keyed by their locator.
    pub async fn match_leaked(
        &self,
        incident_id: i64,
        file_id: Option<i64>,
        rows: Vec<LeakedRow>,
    ) -> Result<MatchStats, AppError> {
        let v = self.vault_state()?;
        let incident = self.store.get_incident(incident_id).await?;
        let datasets = self.company_index_keys(incident.company_id).await?;
        let file = file_id.unwrap_or(0);
        let terms: Vec<Vec<(IndexClass, String)>> = rows.iter().map(row_terms).collect();
        // digest → (row, class, dataset) that would make it.
        let mut wanted: HashMap<i64, Vec<(u32, IndexClass, i64)>> = HashMap::new();
        for (ri, ts) in terms.iter().enumerate() {
            for (class, t) in ts {
                for (ds, keys) in &datasets {
                    wanted.entry(keys.digest(*class, t)).or_default().push((
                        u32::try_from(ri).unwrap_or(u32::MAX),
                        *class,
                        *ds,
                    ));
                }
            }
        }
        let digests: Vec<i64> = wanted.keys().copied().collect();
        let hits = if digests.is_empty() {
            Vec::new()
        } else {
            self.store.impact_lookup(&digests).await?
        };
        // Per row: record → (dataset, identifier matched, classes matched).
        let mut found: Vec<BTreeMap<i64, (i64, bool, u32)>> = vec![BTreeMap::new(); rows.len()];
        for (digest, record, ds) in hits {
            for (ri, class, want_ds) in wanted.get(&digest).into_iter().flatten() {
                if *want_ds != ds {
                    continue;
                }
                let e = found[*ri as usize].entry(record).or_insert((ds, false, 0));
                e.1 |= is_identifier(*class);
                e.2 += 1;
            }
        }
        let dedupe = self.dedupe_keys(incident_id)?;
        let mut stats = MatchStats {
            rows: rows.len() as u64,
            ..MatchStats::default()
        };
        let mut out = Vec::with_capacity(rows.len());
        let mut contact_terms: Vec<(i64, String)> = Vec::new();
        for (row, f) in rows.iter().zip(&found) {
            // The best record: an identifier match first, then the most classes, then the
            // lowest record id (so the same person is attributed alike from every file).
            let best = f
                .iter()
                .max_by(|a, b| (a.1 .1, a.1 .2, -a.0).cmp(&(b.1 .1, b.1 .2, -b.0)));
            let items = item_codes(&row.items());
            let person = if let Some((record, (ds, ident, _))) = best {
                stats.matched += 1;
                PersonDraft {
                    dedupe_key: format!("r:{record}"),
                    record_id: Some(*record),
                    dataset_id: Some(*ds),
                    strength: if *ident {
                        STRENGTH_IDENTIFIER
                    } else {
                        STRENGTH_NAME
                    }
                    .into(),
                    items,
                    contact_sealed: None,
                }
            } else {
                stats.unmatched += 1;
                let key = unmatched_key(&dedupe, row, file);
                for (class, t) in &terms[out.len()] {
                    if matches!(class, IndexClass::Email | IndexClass::Phone) {
                        contact_terms.push((dedupe.digest(*class, t), key.clone()));
                    }
                }
                let contact = serde_json::to_vec(&row_contact(row))
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let sealed = vault_keys::seal_blob(
                    v.provider.as_ref(),
                    v.current(),
                    &contact_label(incident_id, &key),
                    &contact,
                )
                .map_err(|e| AppError::Internal(e.to_string()))?;
                PersonDraft {
                    dedupe_key: key,
                    record_id: None,
                    dataset_id: None,
                    strength: STRENGTH_NONE.into(),
                    items,
                    contact_sealed: Some(sealed),
                }
            };
            out.push(SourceRow {
                locator: row.locator.clone(),
                person,
            });
        }
        let now = self.clock.now_micros();
        if !contact_terms.is_empty() {
            self.store
                .add_impact_terms(incident_id, &contact_terms)
                .await?;
        }
        for chunk in out.chunks(5000) {
            self.store
                .impact_record_batch(incident_id, file, chunk, now)
                .await?;
        }
        Ok(stats)
    }

    /// The affected persons of an incident after `after_id`, at most `limit`, in id order,
    /// with their contact data unsealed (vault keys must be open).
    pub async fn affected_persons(
        &self,
        incident_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<AffectedPerson>, AppError> {
        let v = self.vault_state()?;
        let rows = self
            .store
            .impact_persons(incident_id, after_id, limit)
            .await?;
        let mut schemas: HashMap<i64, Schema> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for p in rows {
            let contact = match (p.record_id, &p.contact_sealed) {
                (Some(record), _) => {
                    let r = self.store.get_record(record).await?;
                    if r.erased_at.is_some() {
                        Contact::default()
                    } else {
                        if let std::collections::hash_map::Entry::Vacant(e) =
                            schemas.entry(r.dataset_id)
                        {
                            e.insert(schema_of(&self.store.get_dataset(r.dataset_id).await?)?);
                        }
                        let schema = &schemas[&r.dataset_id];
                        let opened = open_row(v, schema, &r).map_err(AppError::Internal)?;
                        record_contact(schema, &opened)
                    }
                }
                (None, Some(sealed)) => {
                    let plain = vault_keys::open_blob(
                        v.provider.as_ref(),
                        &contact_label(incident_id, &p.dedupe_key),
                        sealed,
                    )
                    .map_err(|e| AppError::Internal(format!("person {}: {e}", p.id)))?;
                    serde_json::from_slice(&plain)
                        .map_err(|e| AppError::Internal(format!("person {}: {e}", p.id)))?
                }
                (None, None) => Contact::default(),
            };
            out.push(AffectedPerson {
                id: p.id,
                record_id: p.record_id,
                items: parse_items(&p.items),
                contact,
            });
        }
        if !out.is_empty() {
            // Contact data was opened: the system's read is in the audit log like any other.
            self.audit(
                &Ctx::local(),
                "impact.contacts",
                &format!("incident:{incident_id}"),
                Outcome::Success,
                json!({
                    "persons": out.len(),
                    "after": after_id,
                    "records": out.iter().filter_map(|p| p.record_id).collect::<Vec<_>>(),
                }),
            )
            .await?;
        }
        Ok(out)
    }

    /// The counts of an incident's impact analysis, for every viewer of the incident.
    pub async fn impact_counts(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<ImpactCounts, AppError> {
        self.incident_for(ctx, incident_id).await?;
        self.counts_of(incident_id).await
    }

    async fn counts_of(&self, incident_id: i64) -> Result<ImpactCounts, AppError> {
        let mut c = ImpactCounts::default();
        let mut per: BTreeMap<Item, u64> = BTreeMap::new();
        for (strength, items, n) in self.store.impact_counts(incident_id).await? {
            let n = u64::try_from(n).unwrap_or(0);
            c.total += n;
            match strength.as_str() {
                STRENGTH_IDENTIFIER => c.identifier += n,
                STRENGTH_NAME => c.name += n,
                _ => c.unmatched += n,
            }
            for i in parse_items(&items) {
                *per.entry(i).or_default() += n;
            }
        }
        c.per_item = per.into_iter().collect();
        Ok(c)
    }

    /// The persons list of the impact page: a person matched to a record is listed (masked)
    /// only if the caller has custody of or a grant on the record's dataset; unmatched persons
    /// only for the privacy office (incident managers). Every list is an audit entry naming
    /// the records shown. Returns the persons and how many were withheld.
    pub async fn impact_persons(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<(Vec<PersonView>, u64), AppError> {
        let (incident, _) = self.incident_for(ctx, incident_id).await?;
        let v = self.vault_state()?;
        let rows = self
            .store
            .impact_persons(incident_id, after_id, limit)
            .await?;
        let mut access: HashMap<i64, Option<(Schema, mamori_domain::vault::Access)>> =
            HashMap::new();
        let may_unmatched = ctx.allows(Permission::ManageIncidents);
        let (mut out, mut withheld, mut records) = (Vec::new(), 0u64, Vec::new());
        for p in rows {
            let shown = if let (Some(record), Some(ds)) = (p.record_id, p.dataset_id) {
                {
                    if let std::collections::hash_map::Entry::Vacant(e) = access.entry(ds) {
                        let d = self.store.get_dataset(ds).await?;
                        let granted = if d.company_id == incident.company_id
                            && ctx.company_scope().is_none_or(|c| c == d.company_id)
                        {
                            match self.reach(ctx, &d).await? {
                                Some(a) => Some((schema_of(&d)?, a)),
                                None => None,
                            }
                        } else {
                            None
                        };
                        e.insert(granted);
                    }
                    let Some((schema, a)) = access.get(&ds).and_then(Option::as_ref) else {
                        withheld += 1;
                        continue;
                    };
                    let r = self.store.get_record(record).await?;
                    records.push(record);
                    match open_row(v, schema, &r) {
                        Ok(opened) => schema
                            .fields
                            .iter()
                            .zip(&opened)
                            .filter(|(f, _)| {
                                matches!(
                                    f.kind,
                                    FieldKind::Name
                                        | FieldKind::Email
                                        | FieldKind::Phone
                                        | FieldKind::Address
                                ) && a.may_reveal(&f.name)
                            })
                            .filter_map(|(f, o)| match o {
                                Opened::Value(val) => Some((
                                    f.name.clone(),
                                    mamori_domain::vault::mask::value(f.kind, val),
                                )),
                                _ => None,
                            })
                            .collect(),
                        Err(_) => vec![("-".into(), "復号できません / does not decrypt".into())],
                    }
                }
            } else {
                {
                    if !may_unmatched {
                        withheld += 1;
                        continue;
                    }
                    let c: Contact = p
                        .contact_sealed
                        .as_deref()
                        .and_then(|s| {
                            vault_keys::open_blob(
                                v.provider.as_ref(),
                                &contact_label(incident_id, &p.dedupe_key),
                                s,
                            )
                            .ok()
                        })
                        .and_then(|b| serde_json::from_slice(&b).ok())
                        .unwrap_or_default();
                    [
                        ("name", FieldKind::Name, c.name),
                        ("email", FieldKind::Email, c.email),
                        ("phone", FieldKind::Phone, c.phone),
                        ("address", FieldKind::Address, c.address),
                    ]
                    .into_iter()
                    .filter_map(|(l, k, val)| {
                        val.map(|x| (l.to_owned(), mamori_domain::vault::mask::value(k, &x)))
                    })
                    .collect()
                }
            };
            out.push(PersonView {
                id: p.id,
                record_id: p.record_id,
                dataset_id: p.dataset_id,
                strength: p.strength,
                items: parse_items(&p.items),
                sources: p.sources,
                first_locator: p.first_locator,
                shown,
            });
        }
        self.audit(
            ctx,
            "impact.persons",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"records": records, "persons": out.len(), "withheld": withheld}),
        )
        .await?;
        Ok((out, withheld))
    }

    /// Custody or an active grant on a dataset, without the denial entry `vault_access`
    /// writes (here not reaching a dataset only hides its persons).
    async fn reach(
        &self,
        ctx: &Ctx,
        d: &mamori_store::ledger::DatasetRow,
    ) -> Result<Option<mamori_domain::vault::Access>, AppError> {
        match &ctx.principal {
            Principal::Local => return Ok(Some(mamori_domain::vault::Access::Custody)),
            Principal::Anonymous => return Ok(None),
            Principal::User(_) => {}
        }
        if ctx.allows(Permission::VaultCustody) {
            return Ok(Some(mamori_domain::vault::Access::Custody));
        }
        let Some(u) = ctx.user_ref() else {
            return Ok(None);
        };
        let now = self.clock.now_micros();
        let grants: Vec<mamori_domain::vault::Grant> = self
            .store
            .grants_for(u.id, d.id, now)
            .await?
            .iter()
            .map(crate::vault::grant_of)
            .collect();
        Ok(mamori_domain::vault::grant::access(
            false,
            &grants,
            chrono::DateTime::from_timestamp_micros(now).unwrap_or_default(),
        ))
    }

    /// Loads an incident the caller may change the impact analysis of (incident managers).
    async fn impact_incident(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<mamori_store::incidents::Incident, AppError> {
        let (incident, _) = self.incident_for(ctx, incident_id).await?;
        if !ctx.allows(Permission::ManageIncidents) {
            return Err(self
                .denied(ctx, "impact.scope", &format!("incident:{incident_id}"))
                .await);
        }
        Ok(incident)
    }

    /// Every record of a compromised dataset (optionally only those created or changed in a
    /// JST window) becomes an affected person matched by its record, with the dataset
    /// schema's items. Returns the stats of the rows recorded.
    pub async fn impact_from_dataset(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        dataset_id: i64,
        window: Option<(i64, i64)>,
    ) -> Result<MatchStats, AppError> {
        let incident = self.impact_incident(ctx, incident_id).await?;
        let d = self.store.get_dataset(dataset_id).await?;
        if d.company_id != incident.company_id {
            return Err(AppError::NotFound);
        }
        let schema = schema_of(&d)?;
        let items = item_codes(&schema.items());
        let now = self.clock.now_micros();
        let (mut after, mut stats) = (0, MatchStats::default());
        loop {
            let recs = self
                .store
                .records_in_window(d.id, after, 5000, window)
                .await?;
            let Some(last) = recs.last() else { break };
            after = last.id;
            let rows: Vec<SourceRow> = recs
                .iter()
                .map(|r| SourceRow {
                    locator: format!("dataset:{}:record:{}", d.id, r.id),
                    person: PersonDraft {
                        dedupe_key: format!("r:{}", r.id),
                        record_id: Some(r.id),
                        dataset_id: Some(d.id),
                        strength: STRENGTH_IDENTIFIER.into(),
                        items: items.clone(),
                        contact_sealed: None,
                    },
                })
                .collect();
            stats.rows += rows.len() as u64;
            stats.matched += rows.len() as u64;
            self.store
                .impact_record_batch(incident_id, 0, &rows, now)
                .await?;
        }
        self.audit(
            ctx,
            "impact.dataset",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"dataset": d.id, "records": stats.rows, "window": window}),
        )
        .await?;
        Ok(stats)
    }

    /// The records an account revealed or exported (successful `vault.reveal` and
    /// `vault.export` entries of the audit log, optionally only within a window) become
    /// affected persons: a reveal with the item of the field revealed, an export with the
    /// items of the fields exported (every record of the dataset created by then).
    pub async fn impact_from_account(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        user_id: i64,
        window: Option<(i64, i64)>,
    ) -> Result<MatchStats, AppError> {
        let incident = self.impact_incident(ctx, incident_id).await?;
        let user = self.store.get_user(user_id).await?;
        if user.company_id != incident.company_id {
            return Err(AppError::NotFound);
        }
        let (since, until) =
            window.map_or((None, None), |(f, t)| (Some(f), Some(t.saturating_add(1))));
        // record → (dataset, item codes)
        let mut persons: BTreeMap<i64, (i64, BTreeSet<String>)> = BTreeMap::new();
        let mut schemas: HashMap<i64, Schema> = HashMap::new();
        for action in ["vault.reveal", "vault.export"] {
            let mut before = None;
            loop {
                let page = self
                    .store
                    .search_audit(
                        &mamori_store::audit::AuditFilter {
                            actor: Some(user.login.clone()),
                            action: Some(action.into()),
                            outcome: Some(Outcome::Success),
                            since,
                            until,
                            before_seq: before,
                            ..Default::default()
                        },
                        500,
                    )
                    .await?;
                let Some(last) = page.last() else { break };
                before = Some(last.seq);
                for e in &page {
                    let r = &e.record;
                    if r.actor_id != Some(user_id) || r.action != action {
                        continue;
                    }
                    let detail: serde_json::Value =
                        serde_json::from_str(&r.detail).unwrap_or_default();
                    let ds = if action == "vault.reveal" {
                        detail["dataset"].as_i64()
                    } else {
                        r.target
                            .strip_prefix("dataset:")
                            .and_then(|s| s.parse().ok())
                    };
                    let Some(ds) = ds else { continue };
                    if let std::collections::hash_map::Entry::Vacant(v) = schemas.entry(ds) {
                        let d = self.store.get_dataset(ds).await?;
                        if d.company_id != incident.company_id {
                            continue;
                        }
                        v.insert(schema_of(&d)?);
                    }
                    let schema = &schemas[&ds];
                    let item_of = |field: &str| {
                        schema
                            .field(field)
                            .ok()
                            .and_then(|f| f.kind.item())
                            .map(|i| i.code().to_owned())
                    };
                    if action == "vault.reveal" {
                        let Some(record) = r
                            .target
                            .strip_prefix("record:")
                            .and_then(|s| s.parse::<i64>().ok())
                        else {
                            continue;
                        };
                        let e = persons.entry(record).or_insert((ds, BTreeSet::new()));
                        e.1.extend(detail["field"].as_str().and_then(item_of));
                    } else {
                        let fields: Vec<String> = detail["fields"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|x| x.as_str().and_then(item_of))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let mut after = 0;
                        loop {
                            let recs = self
                                .store
                                .records_in_window(ds, after, 5000, Some((i64::MIN, r.at_micros)))
                                .await?;
                            let Some(l) = recs.last() else { break };
                            after = l.id;
                            for rec in recs.iter().filter(|x| x.created_at <= r.at_micros) {
                                let e = persons.entry(rec.id).or_insert((ds, BTreeSet::new()));
                                e.1.extend(fields.iter().cloned());
                            }
                        }
                    }
                }
            }
        }
        let now = self.clock.now_micros();
        let rows: Vec<SourceRow> = persons
            .iter()
            .map(|(record, (ds, items))| SourceRow {
                locator: format!("account:{user_id}:record:{record}"),
                person: PersonDraft {
                    dedupe_key: format!("r:{record}"),
                    record_id: Some(*record),
                    dataset_id: Some(*ds),
                    strength: STRENGTH_IDENTIFIER.into(),
                    items: items.iter().cloned().collect(),
                    contact_sealed: None,
                },
            })
            .collect();
        for chunk in rows.chunks(5000) {
            self.store
                .impact_record_batch(incident_id, 0, chunk, now)
                .await?;
        }
        self.audit(
            ctx,
            "impact.account",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"user": user_id, "records": rows.len(), "window": window}),
        )
        .await?;
        Ok(MatchStats {
            rows: rows.len() as u64,
            matched: rows.len() as u64,
            unmatched: 0,
        })
    }

    /// The facts as they are, as the impact analysis proposes them (persons = every affected
    /// person, matched or not; items = the items found added to those already recorded) and
    /// the difference, with both assessments.
    pub async fn impact_proposal(
        &self,
        ctx: &Ctx,
        incident_id: i64,
    ) -> Result<ImpactProposal, AppError> {
        let (incident, _) = self.incident_for(ctx, incident_id).await?;
        let current: IncidentFacts = serde_json::from_str(&incident.facts)
            .map_err(|e| AppError::Internal(format!("incident {incident_id} facts: {e}")))?;
        let counts = self.counts_of(incident_id).await?;
        let mut proposed = current.clone();
        if counts.total > 0 {
            proposed.persons = Some(counts.total);
            proposed
                .items
                .extend(counts.per_item.iter().map(|(i, _)| *i));
        }
        let changes = current.diff(&proposed);
        let assess = |f: &IncidentFacts| {
            f.assess().map_err(|e| {
                AppError::invalid(
                    "knew_at",
                    format!("評価できません（{e}）"),
                    format!("cannot assess ({e})"),
                )
            })
        };
        Ok(ImpactProposal {
            version: incident.version,
            current_assessment: assess(&current)?,
            proposed_assessment: assess(&proposed)?,
            counts,
            current,
            proposed,
            changes,
        })
    }

    /// Applies the proposal through the facts update (privacy office only), so the timeline
    /// records the change and the new assessment exactly as for a hand edit. `version` is the
    /// incident version the proposal was shown at.
    pub async fn apply_impact_proposal(
        &self,
        ctx: &Ctx,
        incident_id: i64,
        version: i64,
    ) -> Result<(), AppError> {
        let is_privacy = match &ctx.principal {
            Principal::Local => true,
            Principal::User(u) => u.roles.contains(Role::PrivacyOffice),
            Principal::Anonymous => false,
        };
        if !is_privacy {
            self.incident_for(ctx, incident_id).await?;
            return Err(self
                .denied(ctx, "impact.apply", &format!("incident:{incident_id}"))
                .await);
        }
        let p = self.impact_proposal(ctx, incident_id).await?;
        if p.changes.is_empty() {
            return Ok(());
        }
        let input = crate::incident::FactsInput::from_facts(&p.proposed, version);
        self.update_facts(ctx, incident_id, &input).await?;
        // Say on the timeline where the new facts came from (the facts line above says what).
        let c = &p.counts;
        self.store
            .append_timeline(
                incident_id,
                self.clock.now_micros(),
                &[mamori_store::incidents::NewEntry::line(
                    &crate::incident::actor_label(ctx),
                    "facts",
                    &mamori_domain::incident::line::Line::ImpactApplied {
                        persons: c.total,
                        identifier: c.identifier,
                        name: c.name,
                        unmatched: c.unmatched,
                    },
                )],
            )
            .await?;
        self.audit(
            ctx,
            "impact.apply",
            &format!("incident:{incident_id}"),
            Outcome::Success,
            json!({"persons": p.counts.total, "changes": p.changes.len()}),
        )
        .await?;
        Ok(())
    }

    /// Gives every record the blind-index terms of the current index format (format 2 added
    /// name + address), `batch` records at a time; existing rows are kept, so it is safe to
    /// stop and run again. The job `vault.reindex` (queued by migration 0013 when records
    /// exist) and `mamori vault reindex` run it. Returns (records read, records that did not
    /// open).
    pub async fn reindex_records(&self, batch: i64) -> Result<(u64, u64), AppError> {
        let v = self.vault_state()?;
        let mut schemas: HashMap<i64, Option<(Schema, IndexKeys)>> = HashMap::new();
        let (mut after, mut done, mut failed) = (0, 0u64, 0u64);
        loop {
            let rows = self.store.records_for_reindex(after, batch).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let mut index = Vec::new();
            for r in &rows {
                if let std::collections::hash_map::Entry::Vacant(e) = schemas.entry(r.dataset_id) {
                    let d = self.store.get_dataset(r.dataset_id).await?;
                    e.insert(schema_of(&d).ok().map(|s| (s, v.index_keys(d.id))));
                }
                let Some((schema, keys)) = schemas.get(&r.dataset_id).and_then(Option::as_ref)
                else {
                    failed += 1;
                    continue;
                };
                if let Ok(opened) = open_row(v, schema, r) {
                    let values: Vec<Option<String>> = opened
                        .iter()
                        .map(|o| match o {
                            Opened::Value(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect();
                    index.extend(crate::vault::digests_of(keys, schema, &values, r.id));
                    done += 1;
                } else {
                    tracing::warn!(record = r.id, "re-index: record does not open");
                    failed += 1;
                }
            }
            self.store.add_index_rows(&index).await?;
        }
        self.store
            .set_setting("vault.index_format", &normalize::INDEX_FORMAT.to_string())
            .await?;
        if done + failed > 0 {
            self.audit(
                &Ctx::local(),
                "vault.reindex",
                "vault",
                if failed > 0 {
                    Outcome::Failure
                } else {
                    Outcome::Success
                },
                json!({"records": done, "failed": failed}),
            )
            .await?;
        }
        Ok((done, failed))
    }
}

/// The stored person row's items, in appi.md §9 order (for pages).
pub fn items_of(p: &PersonRow) -> Vec<Item> {
    parse_items(&p.items)
}

impl App {
    /// Re-seals the contacts of unmatched persons still under an older master key version
    /// with the current one, so that a rotation can retire the old version without losing
    /// them (part of `rewrap_keys`). Returns how many were re-sealed.
    pub async fn reseal_impact_contacts(&self) -> Result<u64, AppError> {
        let v = self.vault_state()?;
        let current = v.current();
        let prefix = format!("b1.{current}.");
        let mut after = 0;
        let mut done = 0;
        loop {
            let rows = self.store.impact_blobs_after(after, 1000).await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for (id, incident_id, key, sealed) in rows {
                if sealed.starts_with(&prefix) {
                    continue;
                }
                let label = contact_label(incident_id, &key);
                let plain = vault_keys::open_blob(v.provider.as_ref(), &label, &sealed)
                    .map_err(|e| AppError::Internal(format!("impact contact {id}: {e}")))?;
                let new = vault_keys::seal_blob(v.provider.as_ref(), current, &label, &plain)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                if self.store.replace_impact_blob(id, &sealed, &new).await? {
                    done += 1;
                }
            }
        }
        Ok(done)
    }
}

//! Discovery (issue 16, part 2; seed 001 8-③, seed 002's self-check): where does personal data
//! live that the ledger does not know?
//!
//! The privacy office configures folders on the server or mounted shares (each owned by a
//! department, inside the folders the operator allows in `discovery_roots`); the worker scans
//! them on their schedule, incrementally — a file whose size and time are as last seen is not
//! opened, and one whose bytes hash the same is not scanned again — and records per file the
//! kinds and counts found, masked samples (sealed), and what changed. People scan their own PCs
//! with `mamori scan --report` and upload the signed report (`import_scan_report`). The pages
//! show per location and file what was found, which files no ledger entry covers, and offer a
//! ledger entry or a note that the file was deleted. Every view and change is audited.

use crate::{App, AppError, Ctx, Principal, Problem};
use mamori_detect::runner;
use mamori_detect::{KindSet, Scanner};
use mamori_domain::audit::Outcome;
use mamori_domain::discovery::{self as d, Change, Counts, Seen};
use mamori_domain::role::{Permission, Role};
use mamori_store::discovery::{
    FileResult, FileRow, LocationRow, NewLocation, ScanProgress, ScanRow, SeenFile,
};
use mamori_store::ledger::DatasetRow;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

/// The periodic task that queues due scans and runs one.
pub const SCAN_TASK: &str = "discovery.scan";
/// How long a running scan holds its claim without reporting progress.
const LEASE_MICROS: i64 = 30 * 60 * 1_000_000;
/// Files read per step; progress is saved after each step.
const STEP_FILES: usize = 32;
/// How often a running scan saves its progress and extends its lease.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// Masked samples kept per kind and file.
const SAMPLES_PER_KIND: usize = 3;

/// The scanner version stored with each file: a file read by another version is read again.
pub fn scanner_version() -> String {
    format!("mamori-detect {}", env!("CARGO_PKG_VERSION"))
}

/// This process's name as a scan's claimant: its id and a random part (ids repeat after a
/// restart and across machines).
pub fn process_worker() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| format!("pid{}-{:08x}", std::process::id(), rand::random::<u32>()))
}

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| Scanner::new(KindSet::all()))
}

/// Which locations a person sees, and what they may do there.
#[derive(Debug, Clone)]
pub struct DiscoveryScope {
    pub company_id: i64,
    /// `None`: every location of the company. `Some`: only those owned by these departments.
    pub departments: Option<Vec<i64>>,
    /// The person; everybody sees the reports of their own PCs.
    pub user_id: i64,
    /// Configure locations and start scans.
    pub can_manage: bool,
    /// Tie files to ledger entries and record deletions (privacy office, CISO, department heads
    /// for their departments).
    pub can_resolve: bool,
    /// Whose files they resolve: `None` every department, `Some` only these.
    pub resolve_departments: Option<Vec<i64>>,
    pub samples: bool,
}

impl DiscoveryScope {
    pub fn sees(&self, l: &LocationRow) -> bool {
        l.company_id == self.company_id
            && (l.owner_user_id == Some(self.user_id)
                || self
                    .departments
                    .as_ref()
                    .is_none_or(|ds| ds.contains(&l.department_id)))
    }
}

/// What a person types for a location.
#[derive(Debug, Clone, Default)]
pub struct LocationInput {
    pub name: String,
    pub path: String,
    pub department_id: i64,
    /// As typed (`24`, `２４`); empty is 24.
    pub interval_hours: String,
    pub enabled: bool,
}

/// A location with its newest scan and what the list shows.
#[derive(Debug, Clone)]
pub struct LocationView {
    pub row: LocationRow,
    pub department: String,
    pub latest: Option<ScanRow>,
    /// Files holding personal data that no ledger entry covers (and not recorded as deleted).
    pub unledgered: usize,
}

#[derive(Debug, Clone)]
pub struct DiscoveryOverview {
    pub locations: Vec<LocationView>,
    pub scope: DiscoveryScope,
    /// Departments a new location may belong to (id, name).
    pub departments: Vec<(i64, String)>,
    /// Whether the operator allowed any folder (`discovery_roots`).
    pub roots: Vec<String>,
}

/// One file as the pages show it.
#[derive(Debug, Clone)]
pub struct FileView {
    pub row: FileRow,
    pub counts: Counts,
    pub prev_counts: Option<Counts>,
    pub change: Change,
    /// Changed in the newest scan of its location.
    pub changed_now: bool,
    /// The ledger entry that covers it: tied explicitly or by its storage place.
    pub dataset: Option<(i64, String)>,
    /// Holds personal data, is there, and no ledger entry covers it or records its deletion.
    pub unledgered: bool,
    /// Recorded as deleted but still found.
    pub deleted_but_present: bool,
    pub full_path: String,
}

#[derive(Debug, Clone)]
pub struct LocationDetail {
    pub location: LocationView,
    pub scans: Vec<ScanRow>,
    pub files: Vec<FileView>,
    /// Per-kind change of the totals since the scan before the newest finished one.
    pub delta: BTreeMap<String, i64>,
    pub totals: Counts,
    /// The departments the location may be given (for those who configure it).
    pub departments: Vec<(i64, String)>,
    pub scope: DiscoveryScope,
}

/// A masked sample of a finding.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Sample {
    pub kind: String,
    pub masked: String,
    /// Line (or row) in the file.
    pub line: u64,
}

#[derive(Debug, Clone)]
pub struct FileDetail {
    pub file: FileView,
    pub location: LocationRow,
    /// `None` when the reader may not see samples.
    pub samples: Option<Vec<Sample>>,
    /// Ledger entries of the location's departments the file could be tied to.
    pub datasets: Vec<(i64, String)>,
    pub scope: DiscoveryScope,
}

impl App {
    /// Who sees what of discovery. Everybody may upload the reports of their own PC.
    pub async fn discovery_scope(&self, ctx: &Ctx) -> Result<DiscoveryScope, AppError> {
        let Principal::User(u) = &ctx.principal else {
            return Err(AppError::Denied);
        };
        if !ctx.allows(Permission::SubmitScanReport) {
            return Err(self.denied(ctx, "discovery.view", "discovery").await);
        }
        let whole = [
            Role::PrivacyOffice,
            Role::Ciso,
            Role::Executive,
            Role::Auditor,
            Role::Custodian,
        ]
        .iter()
        .any(|r| u.roles.contains(*r));
        let subtree = if u.roles.contains(Role::DepartmentHead) {
            self.departments_below(u.company_id, u.department_id)
                .await?
        } else {
            Vec::new()
        };
        let can_manage = ctx.allows(Permission::ManageDiscovery);
        Ok(DiscoveryScope {
            company_id: u.company_id,
            // Staff see only the reports of their own PCs.
            departments: if whole { None } else { Some(subtree.clone()) },
            user_id: u.id,
            can_manage,
            can_resolve: can_manage || u.roles.contains(Role::DepartmentHead),
            // Reading a department's files is not resolving them: an auditor who also heads a
            // department resolves only that department's.
            resolve_departments: if can_manage { None } else { Some(subtree) },
            samples: ctx.allows(Permission::SeeDiscoverySamples),
        })
    }

    async fn discovery_depts(&self, company_id: i64) -> Result<Vec<(i64, String)>, AppError> {
        Ok(self
            .store
            .list_departments(company_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect())
    }

    /// The locations the caller sees, each with its newest scan and how many of its files no
    /// ledger entry covers.
    pub async fn discovery_overview(&self, ctx: &Ctx) -> Result<DiscoveryOverview, AppError> {
        let scope = self.discovery_scope(ctx).await?;
        let depts = self.discovery_depts(scope.company_id).await?;
        let latest: HashMap<i64, ScanRow> = self
            .store
            .latest_scans(scope.company_id)
            .await?
            .into_iter()
            .map(|s| (s.location_id, s))
            .collect();
        let finished: HashMap<i64, ScanRow> = self
            .store
            .latest_finished_scans(scope.company_id)
            .await?
            .into_iter()
            .map(|s| (s.location_id, s))
            .collect();
        let datasets = self.store.list_datasets(scope.company_id).await?;
        let mut locations = Vec::new();
        for row in self.store.locations(scope.company_id).await? {
            if !scope.sees(&row) {
                continue;
            }
            let latest = latest.get(&row.id).cloned();
            let unledgered = match finished.get(&row.id) {
                Some(s) => self
                    .file_views(&row, s, &datasets)
                    .await?
                    .iter()
                    .filter(|f| f.unledgered)
                    .count(),
                None => 0,
            };
            locations.push(LocationView {
                department: dept_name(&depts, row.department_id),
                row,
                latest,
                unledgered,
            });
        }
        self.audit(
            ctx,
            "discovery.view",
            "discovery",
            Outcome::Success,
            json!({"locations": locations.len()}),
        )
        .await?;
        let departments = own_departments(&scope, depts);
        Ok(DiscoveryOverview {
            locations,
            departments,
            roots: self.settings.discovery_roots.clone(),
            scope,
        })
    }

    async fn file_views(
        &self,
        loc: &LocationRow,
        latest: &ScanRow,
        datasets: &[DatasetRow],
    ) -> Result<Vec<FileView>, AppError> {
        Ok(self
            .store
            .location_files(loc.id, latest.id)
            .await?
            .into_iter()
            .map(|f| file_view(loc, f, (latest.id, latest.started_at), datasets))
            .collect())
    }

    /// Checks a location's fields, collecting every problem; returns the folder's real path.
    fn check_location(
        &self,
        scope: &DiscoveryScope,
        input: &LocationInput,
        depts: &[(i64, String)],
    ) -> Result<(String, i64), AppError> {
        let mut ps = crate::Problems::new();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            ps.push(Problem::new(
                Some("name"),
                "名称は1〜100文字で入力してください",
                "enter a name of 1 to 100 characters",
            ));
        }
        // The typed path is checked against the allowed folders before anything on the disk
        // is looked at (so the form cannot tell what exists elsewhere on the server), then its
        // real path again (a link inside a root may lead out).
        let typed = input.path.trim();
        let roots = &self.settings.discovery_roots;
        let own = self.own_folders();
        let real = match d::check_folder(typed, roots, &own)
            .and_then(|()| real_folder(typed))
            .and_then(|real| d::check_folder(&real, roots, &own).map(|()| real))
        {
            Ok(real) => Some(real),
            Err(p) => {
                ps.push(Problem::new(Some("path"), p.ja, p.en));
                None
            }
        };
        if !depts.iter().any(|(id, _)| *id == input.department_id)
            || !scope
                .departments
                .as_ref()
                .is_none_or(|ds| ds.contains(&input.department_id))
        {
            ps.push(Problem::new(
                Some("department_id"),
                "部署を選んでください",
                "choose a department",
            ));
        }
        let hours_text = input.interval_hours.trim();
        let hours = if hours_text.is_empty() {
            Some(24)
        } else if let Some(h) =
            mamori_domain::number::parse_whole(hours_text).and_then(|h| i64::try_from(h).ok())
        {
            match d::check_interval(h) {
                Ok(h) => Some(h),
                Err(p) => {
                    ps.push(Problem::new(Some("interval_hours"), p.ja, p.en));
                    None
                }
            }
        } else {
            ps.push(Problem::new(
                Some("interval_hours"),
                format!("スキャンの間隔「{hours_text}」を時間数として読めません"),
                format!("the interval \"{hours_text}\" is not a number of hours"),
            ));
            None
        };
        ps.done()?;
        Ok((real.unwrap_or_default(), hours.unwrap_or(24)))
    }

    /// mamori's own folders, which are never scanned: the data and key folders and the folder
    /// of the checkpoint file.
    fn own_folders(&self) -> Vec<String> {
        let mut own: Vec<String> = self
            .settings
            .discovery_own
            .iter()
            .chain(std::iter::once(&self.keys.dir().to_path_buf()))
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if let Some(dir) = self
            .settings
            .checkpoint_file
            .as_ref()
            .and_then(|f| f.parent())
        {
            if !dir.as_os_str().is_empty() {
                let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
                own.push(dir.to_string_lossy().into_owned());
            }
        }
        own
    }

    /// Adds a folder to scan; its first scan is queued at once.
    pub async fn add_location(&self, ctx: &Ctx, input: LocationInput) -> Result<i64, AppError> {
        let scope = self.discovery_scope(ctx).await?;
        if !scope.can_manage {
            return Err(self
                .denied(ctx, "discovery.location.create", "discovery")
                .await);
        }
        let depts = self.discovery_depts(scope.company_id).await?;
        let (real, hours) = self.check_location(&scope, &input, &depts)?;
        let now = self.clock.now_micros();
        let id = self
            .store
            .insert_location(&NewLocation {
                company_id: scope.company_id,
                department_id: input.department_id,
                kind: "folder".into(),
                name: input.name.trim().to_owned(),
                path: real.clone(),
                owner_user_id: None,
                interval_hours: hours,
                next_scan_at: Some(now),
                created_at: now,
                created_by: ctx.actor_name(),
            })
            .await?;
        self.audit(
            ctx,
            "discovery.location.create",
            &format!("discovery-location:{id}"),
            Outcome::Success,
            json!({"path": real, "department": input.department_id, "interval_hours": hours}),
        )
        .await?;
        Ok(id)
    }

    /// Changes a folder's name, path, department, interval or whether it is scanned.
    pub async fn update_location(
        &self,
        ctx: &Ctx,
        id: i64,
        input: LocationInput,
    ) -> Result<(), AppError> {
        let scope = self.discovery_scope(ctx).await?;
        let target = format!("discovery-location:{id}");
        let old = self.visible_location(ctx, &scope, id).await?;
        if !scope.can_manage || old.kind != "folder" {
            return Err(self.denied(ctx, "discovery.location.update", &target).await);
        }
        let depts = self.discovery_depts(scope.company_id).await?;
        let (real, hours) = self.check_location(&scope, &input, &depts)?;
        let now = self.clock.now_micros();
        let next = if input.enabled && hours > 0 {
            Some(
                old.next_scan_at
                    .map_or(now, |n| n.min(d::next_scan(now, hours).unwrap_or(n))),
            )
        } else {
            None
        };
        if real != old.path {
            self.store.reset_location_files(id).await?;
        }
        self.store
            .update_location(
                id,
                input.name.trim(),
                &real,
                input.department_id,
                hours,
                input.enabled,
                next,
            )
            .await?;
        self.audit(
            ctx,
            "discovery.location.update",
            &target,
            Outcome::Success,
            json!({"path": real, "department": input.department_id, "interval_hours": hours, "enabled": input.enabled}),
        )
        .await?;
        Ok(())
    }

    async fn visible_location(
        &self,
        ctx: &Ctx,
        scope: &DiscoveryScope,
        id: i64,
    ) -> Result<LocationRow, AppError> {
        match self.store.location(id).await {
            Ok(l) if scope.sees(&l) => Ok(l),
            Ok(_) | Err(mamori_store::StoreError::NotFound) => {
                // The same answer for "not yours" and "not there".
                self.audit(
                    ctx,
                    "discovery.location.view",
                    &format!("discovery-location:{id}"),
                    Outcome::Denied,
                    json!({}),
                )
                .await?;
                Err(AppError::NotFound)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Queues a scan of a folder now; refused while one is queued or running.
    pub async fn request_scan(&self, ctx: &Ctx, location_id: i64) -> Result<i64, AppError> {
        let scope = self.discovery_scope(ctx).await?;
        let target = format!("discovery-location:{location_id}");
        let loc = self.visible_location(ctx, &scope, location_id).await?;
        if !scope.can_manage || loc.kind != "folder" {
            return Err(self.denied(ctx, "discovery.scan.request", &target).await);
        }
        let now = self.clock.now_micros();
        let Some(id) = self
            .store
            .queue_scan(location_id, loc.company_id, &ctx.actor_name(), now)
            .await?
        else {
            return Err(AppError::invalid(
                "scan",
                "この場所のスキャンはすでに待機中か実行中です",
                "a scan of this location is already queued or running",
            ));
        };
        self.audit(
            ctx,
            "discovery.scan.request",
            &target,
            Outcome::Success,
            json!({"scan": id}),
        )
        .await?;
        Ok(id)
    }

    /// A location with its scans and the files that hold personal data, were not read or
    /// changed in the newest scan.
    pub async fn location_detail(&self, ctx: &Ctx, id: i64) -> Result<LocationDetail, AppError> {
        let scope = self.discovery_scope(ctx).await?;
        let row = self.visible_location(ctx, &scope, id).await?;
        let depts = self.discovery_depts(scope.company_id).await?;
        let scans = self.store.scans(id, 20).await?;
        let datasets = self.store.list_datasets(scope.company_id).await?;
        // The files as the newest finished scan left them (one running shows its progress).
        let files = match scans.iter().find(|s| s.status == "done") {
            Some(s) => self.file_views(&row, s, &datasets).await?,
            None => Vec::new(),
        };
        let finished: Vec<&ScanRow> = scans.iter().filter(|s| s.status == "done").collect();
        let totals = finished
            .first()
            .map(|s| d::counts_from_json(&s.counts))
            .unwrap_or_default();
        let delta = match (finished.first(), finished.get(1)) {
            (Some(_), Some(b)) => d::delta(&d::counts_from_json(&b.counts), &totals),
            _ => BTreeMap::new(),
        };
        let unledgered = files.iter().filter(|f| f.unledgered).count();
        self.audit(
            ctx,
            "discovery.location.view",
            &format!("discovery-location:{id}"),
            Outcome::Success,
            json!({"files": files.len()}),
        )
        .await?;
        Ok(LocationDetail {
            location: LocationView {
                department: dept_name(&depts, row.department_id),
                latest: scans.first().cloned(),
                row,
                unledgered,
            },
            scans,
            files,
            delta,
            totals,
            departments: own_departments(&scope, depts),
            scope,
        })
    }

    async fn visible_file(
        &self,
        ctx: &Ctx,
        scope: &DiscoveryScope,
        id: i64,
        action: &str,
    ) -> Result<(FileRow, LocationRow), AppError> {
        let target = format!("discovery-file:{id}");
        let found = match self.store.discovery_file(id).await {
            Ok(f) => Some(f),
            Err(mamori_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(f) = found {
            let loc = self.store.location(f.location_id).await?;
            if scope.sees(&loc) {
                return Ok((f, loc));
            }
        }
        self.audit(ctx, action, &target, Outcome::Denied, json!({}))
            .await?;
        Err(AppError::NotFound)
    }

    /// One file: kinds and counts, the change, its ledger entry, and — for those with
    /// vault-like rights — masked samples (their view is recorded as such).
    pub async fn discovery_file_detail(&self, ctx: &Ctx, id: i64) -> Result<FileDetail, AppError> {
        let scope = self.discovery_scope(ctx).await?;
        let (row, loc) = self
            .visible_file(ctx, &scope, id, "discovery.file.view")
            .await?;
        let latest = self
            .store
            .scans(loc.id, 20)
            .await?
            .iter()
            .find(|s| s.status == "done")
            .map_or((row.last_scan_id, None), |s| (s.id, s.started_at));
        let datasets = self.store.list_datasets(scope.company_id).await?;
        let samples = if scope.samples {
            Some(match &row.samples_sealed {
                Some(s) => {
                    let plain = self
                        .keys
                        .unseal(s, &samples_context(loc.id, &row.path))
                        .map_err(|e| AppError::Internal(format!("discovery samples: {e}")))?;
                    serde_json::from_slice::<Vec<Sample>>(&plain).unwrap_or_default()
                }
                None => Vec::new(),
            })
        } else {
            None
        };
        let choices = datasets
            .iter()
            .filter(|ds| {
                scope
                    .resolve_departments
                    .as_ref()
                    .is_none_or(|own| own.contains(&ds.department_id))
            })
            .map(|ds| (ds.id, ds.name.clone()))
            .collect();
        let file = file_view(&loc, row, latest, &datasets);
        self.audit(
            ctx,
            "discovery.file.view",
            &format!("discovery-file:{id}"),
            Outcome::Success,
            json!({"samples": samples.as_ref().map(Vec::len)}),
        )
        .await?;
        Ok(FileDetail {
            file,
            location: loc,
            samples,
            datasets: choices,
            scope,
        })
    }

    async fn resolvable_file(
        &self,
        ctx: &Ctx,
        id: i64,
        action: &str,
    ) -> Result<(DiscoveryScope, FileRow, LocationRow), AppError> {
        let scope = self.discovery_scope(ctx).await?;
        let (f, loc) = self.visible_file(ctx, &scope, id, action).await?;
        let own_dept = scope
            .resolve_departments
            .as_ref()
            .is_none_or(|ds| ds.contains(&loc.department_id));
        if !scope.can_resolve || !own_dept {
            return Err(self
                .denied(ctx, action, &format!("discovery-file:{id}"))
                .await);
        }
        Ok((scope, f, loc))
    }

    /// Ties a file to a ledger entry of the caller's company (or unties it with `None`).
    pub async fn link_discovery_file(
        &self,
        ctx: &Ctx,
        id: i64,
        dataset_id: Option<i64>,
    ) -> Result<(), AppError> {
        let action = "discovery.file.link";
        let (scope, _, _) = self.resolvable_file(ctx, id, action).await?;
        if let Some(ds) = dataset_id {
            let ok = match self.store.get_dataset(ds).await {
                Ok(row) => {
                    row.company_id == scope.company_id
                        && scope
                            .resolve_departments
                            .as_ref()
                            .is_none_or(|own| own.contains(&row.department_id))
                }
                Err(mamori_store::StoreError::NotFound) => false,
                Err(e) => return Err(e.into()),
            };
            if !ok {
                return Err(AppError::invalid(
                    "dataset_id",
                    "台帳の項目を選んでください",
                    "choose a ledger entry",
                ));
            }
        }
        self.store.set_file_dataset(id, dataset_id).await?;
        self.audit(
            ctx,
            action,
            &format!("discovery-file:{id}"),
            Outcome::Success,
            json!({"dataset": dataset_id}),
        )
        .await?;
        Ok(())
    }

    /// Records that a file was deleted (with a note), or withdraws that record. The next scan
    /// shows whether it is really gone.
    pub async fn record_file_deleted(
        &self,
        ctx: &Ctx,
        id: i64,
        note: &str,
        withdraw: bool,
    ) -> Result<(), AppError> {
        let action = "discovery.file.deleted";
        self.resolvable_file(ctx, id, action).await?;
        let note = note.trim();
        if note.chars().count() > 1000 {
            return Err(AppError::invalid(
                "note",
                "メモは1000文字以内で入力してください",
                "the note must be at most 1000 characters",
            ));
        }
        let now = self.clock.now_micros();
        self.store
            .set_file_disposition(
                id,
                (!withdraw).then_some("deleted"),
                (!withdraw && !note.is_empty()).then_some(note),
                &ctx.actor_name(),
                now,
            )
            .await?;
        self.audit(
            ctx,
            action,
            &format!("discovery-file:{id}"),
            Outcome::Success,
            json!({"withdrawn": withdraw}),
        )
        .await?;
        Ok(())
    }

    /// A ledger entry proposed from a file: its department, the items its findings point to,
    /// an estimate of persons, and the folder as storage place. The person completes it on the
    /// ledger form; nothing is stored until they save it.
    pub async fn ledger_proposal(
        &self,
        ctx: &Ctx,
        file_id: i64,
    ) -> Result<mamori_domain::ledger::DatasetInput, AppError> {
        let action = "discovery.file.propose";
        let (_, f, loc) = self.resolvable_file(ctx, file_id, action).await?;
        let counts = d::counts_from_json(&f.counts);
        let full = full_path(&loc, &f.path);
        let folder = match full.rfind(['/', '\\']) {
            Some(i) if i > 0 => full[..i].to_owned(),
            _ => full.clone(),
        };
        let name = f
            .path
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&f.path)
            .chars()
            .take(100)
            .collect();
        self.audit(
            ctx,
            action,
            &format!("discovery-file:{file_id}"),
            Outcome::Success,
            json!({}),
        )
        .await?;
        Ok(mamori_domain::ledger::DatasetInput {
            name,
            department_id: loc.department_id,
            items: d::items_of(&counts),
            card_data: counts.contains_key("credit_card"),
            persons: d::persons_estimate(&counts),
            storage_place: folder,
            storage_method: if loc.kind == "device" {
                "PC".into()
            } else {
                "ファイルサーバー".into()
            },
            ..Default::default()
        })
    }

    // ───────────────────────────── the worker ─────────────────────────────

    /// The periodic task: queues the scans whose time has come, then, unless this process is
    /// already scanning, claims one and runs it in the background.
    pub async fn discovery_tick(&self, worker: &str) -> Result<(), AppError> {
        let now = self.clock.now_micros();
        self.store.queue_due_scans(now).await?;
        if self.discovery_running.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let app = self.clone();
        let worker = worker.to_owned();
        let task = tokio::spawn(async move {
            // Cleared however the task ends (a panic included), so this process scans again.
            struct Running(std::sync::Arc<std::sync::atomic::AtomicBool>);
            impl Drop for Running {
                fn drop(&mut self) {
                    self.0.store(false, Ordering::SeqCst);
                }
            }
            let _running = Running(app.discovery_running.clone());
            while !app.stopping.load(Ordering::SeqCst) {
                match app.run_next_scan(&worker).await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "discovery scan failed");
                        break;
                    }
                }
            }
        });
        if let Ok(mut slot) = self.discovery_task.lock() {
            *slot = Some(task);
        }
        Ok(())
    }

    /// Claims the oldest queued scan (or one whose process died) and runs it to the end.
    /// Returns its id, or `None` when nothing was waiting.
    pub async fn run_next_scan(&self, worker: &str) -> Result<Option<i64>, AppError> {
        let now = self.clock.now_micros();
        let Some(scan) = self
            .store
            .claim_scan(worker, now, now + LEASE_MICROS)
            .await?
        else {
            return Ok(None);
        };
        let id = scan.id;
        let loc = self.store.location(scan.location_id).await?;
        let outcome = self.run_scan(&scan, &loc, worker).await;
        let now = self.clock.now_micros();
        let (status, error) = match outcome {
            Ok(true) => ("done", None),
            // Stopping, or the lease was lost: another worker runs it (again).
            Ok(false) => {
                if self.stopping.load(Ordering::SeqCst) {
                    self.store.release_scan(id, worker).await?;
                }
                return Ok(Some(id));
            }
            Err(e) => ("failed", Some(e.shown(id))),
        };
        // Only while the scan is still this worker's: a worker that lost its claim does not
        // end the scan another one is running.
        if !self
            .store
            .finish_claimed_scan(id, worker, status, error.as_deref(), now)
            .await?
        {
            return Ok(Some(id));
        }
        let company = Some(loc.company_id);
        self.audit_in(
            &Ctx::local(),
            company,
            "discovery.scan",
            &format!("discovery-location:{}", loc.id),
            if error.is_none() {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            json!({"scan": id, "source": scan.source, "error": error}),
        )
        .await?;
        Ok(Some(id))
    }

    /// Scans one folder incrementally. `Ok(false)` when the claim was lost on the way.
    async fn run_scan(
        &self,
        scan: &ScanRow,
        loc: &LocationRow,
        worker: &str,
    ) -> Result<bool, ScanFailure> {
        // The folder is checked again: the configuration (or a link) may have changed since.
        let real = real_folder(&loc.path).map_err(|p| ScanFailure::Folder(p.ja, p.en))?;
        d::check_folder(&real, &self.settings.discovery_roots, &self.own_folders())
            .map_err(|p| ScanFailure::Folder(p.ja, p.en))?;
        let root = PathBuf::from(&real);
        let walked = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || runner::walk_within(&root))
                .await
                .map_err(|e| AppError::Internal(format!("walk: {e}")))?
        };
        let seen: HashMap<String, SeenFile> = self
            .store
            .seen_files(loc.id)
            .await?
            .into_iter()
            .map(|f| (f.path.clone(), f))
            .collect();
        // An unmounted share is an empty folder: that is not "every file was deleted".
        if walked.files.is_empty() && walked.not_read.is_empty() && !seen.is_empty() {
            return Err(ScanFailure::Folder(
                "フォルダが空です。共有フォルダがマウントされているか確認してください（前回のファイルは削除されたものとしていません）".into(),
                "the folder is empty: check that the share is mounted (the files of the last scan are not taken as deleted)".into(),
            ));
        }
        // The walk took its time: the claim is extended before the files are read.
        let now = self.clock.now_micros();
        if !self
            .store
            .scan_progress(
                scan.id,
                worker,
                &ScanProgress::default(),
                now + LEASE_MICROS,
            )
            .await?
        {
            return Ok(false);
        }
        // Folders that could not be opened: what was seen below them stays as it was.
        let unread_dirs: Vec<String> = walked
            .not_read
            .iter()
            .filter(|(_, r)| status_reason(&r.status).is_some_and(|m| m.contains("folder")))
            .map(|(_, r)| relative(&root, &r.path))
            .collect();
        let mut progress = ScanProgress {
            files_total: Some(
                i64::try_from(walked.files.len() + walked.not_read.len()).unwrap_or(0),
            ),
            ..ScanProgress::default()
        };
        let mut present: HashSet<String> = HashSet::new();
        let version = scanner_version();
        // Paths the walk could not read.
        let mut results: Vec<FileResult> = Vec::new();
        for (_, r) in &walked.not_read {
            let rel = relative(&root, &r.path);
            present.insert(rel.clone());
            progress.files_seen += 1;
            progress.files_not_read += 1;
            results.push(FileResult {
                location_id: loc.id,
                company_id: loc.company_id,
                path: rel.clone(),
                scanner: version.clone(),
                format: r.format.to_owned(),
                status: status_code(&r.status).into(),
                reason: status_reason(&r.status),
                // Not read is never clean: what the last scan found is kept.
                counts: seen
                    .get(&rel)
                    .map_or_else(|| "{}".into(), |s| s.counts.clone()),
                change: if seen.contains_key(&rel) {
                    "unchanged"
                } else {
                    "new"
                }
                .into(),
                scan_id: scan.id,
                ..FileResult::default()
            });
        }
        if !results.is_empty() {
            self.store.save_files(&results).await?;
        }
        let files: Vec<(PathBuf, String)> = walked.files;
        let mut last_report = std::time::Instant::now();
        for chunk in files.chunks(STEP_FILES) {
            let work: Vec<Work> = chunk
                .iter()
                .map(|(p, display)| {
                    let rel = relative(&root, display);
                    let prev = seen.get(&rel);
                    (
                        p.clone(),
                        rel,
                        prev.map(|s| Seen {
                            size: u64::try_from(s.size).unwrap_or(0),
                            mtime_micros: s.mtime,
                            sha256: s.sha256.clone(),
                            scanner: s.scanner.clone(),
                        }),
                        prev.map(|s| d::counts_from_json(&s.counts)),
                        prev.map(|s| s.id),
                    )
                })
                .collect();
            let root2 = root.clone();
            let version2 = version.clone();
            let outcomes = tokio::task::spawn_blocking(move || {
                use rayon::prelude::*;
                work.into_par_iter()
                    .map(|(p, rel, prev, prev_counts, prev_id)| {
                        let o = read_one(
                            &root2,
                            &p,
                            &rel,
                            prev.as_ref(),
                            prev_counts.as_ref(),
                            &version2,
                        );
                        (rel, prev_id, o)
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| AppError::Internal(format!("scan: {e}")))?;
            let mut results = Vec::new();
            for (rel, prev_id, o) in outcomes {
                present.insert(rel.clone());
                progress.files_seen += 1;
                match o {
                    Outcome1::Unchanged => progress.files_unchanged += 1,
                    Outcome1::Touched { mtime } => {
                        progress.files_unchanged += 1;
                        if let Some(id) = prev_id {
                            self.store.touch_file(id, mtime, scan.id).await?;
                        }
                    }
                    Outcome1::Read(r) => {
                        if r.status == "scanned" {
                            progress.files_read += 1;
                            progress.bytes_read += r.size;
                        } else {
                            progress.files_not_read += 1;
                        }
                        let samples_sealed = (!r.samples.is_empty()).then(|| {
                            self.keys.seal(
                                &serde_json::to_vec(&r.samples).unwrap_or_default(),
                                &samples_context(loc.id, &rel),
                            )
                        });
                        results.push(FileResult {
                            location_id: loc.id,
                            company_id: loc.company_id,
                            path: rel,
                            size: r.size,
                            mtime: r.mtime,
                            sha256: r.sha256,
                            scanner: version.clone(),
                            format: r.format,
                            status: r.status,
                            reason: r.reason,
                            counts: d::counts_to_json(&r.counts),
                            change: r.change.code().into(),
                            samples_sealed,
                            scan_id: scan.id,
                        });
                    }
                }
            }
            if !results.is_empty() {
                self.store.save_files(&results).await?;
            }
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(false);
            }
            // Progress (and the lease) at most once a second: an unchanged share is walked at
            // tens of thousands of files a second, and each report is a write.
            if last_report.elapsed() >= PROGRESS_EVERY {
                last_report = std::time::Instant::now();
                let now = self.clock.now_micros();
                if !self
                    .store
                    .scan_progress(scan.id, worker, &progress, now + LEASE_MICROS)
                    .await?
                {
                    return Ok(false);
                }
            }
        }
        let removed: Vec<i64> = seen
            .values()
            .filter(|s| !present.contains(&s.path))
            .filter(|s| {
                !unread_dirs
                    .iter()
                    .any(|d| s.path.starts_with(&format!("{d}/")))
            })
            .map(|s| s.id)
            .collect();
        progress.files_removed = i64::try_from(removed.len()).unwrap_or(0);
        self.store.mark_removed(&removed, scan.id).await?;
        let now = self.clock.now_micros();
        self.store
            .scan_progress(scan.id, worker, &progress, now + LEASE_MICROS)
            .await
            .map_err(ScanFailure::from)
    }
}

impl App {
    /// At shutdown (after `stopping` is set): waits up to `limit` for the running scan to give
    /// its claim back.
    pub async fn wait_for_discovery(&self, limit: std::time::Duration) {
        let task = self.discovery_task.lock().ok().and_then(|mut s| s.take());
        if let Some(task) = task {
            let _ = tokio::time::timeout(limit, task).await;
        }
    }
}

/// Why a scan failed: a problem with the folder (shown as it is, in both languages), or an
/// internal error (logged; the page says to look at the log).
#[derive(Debug)]
enum ScanFailure {
    Folder(String, String),
    Internal(AppError),
}

impl From<AppError> for ScanFailure {
    fn from(e: AppError) -> Self {
        ScanFailure::Internal(e)
    }
}

impl From<mamori_store::StoreError> for ScanFailure {
    fn from(e: mamori_store::StoreError) -> Self {
        ScanFailure::Internal(e.into())
    }
}

impl ScanFailure {
    /// What the page shows (both languages; no internal detail).
    fn shown(&self, scan: i64) -> String {
        match self {
            ScanFailure::Folder(ja, en) => format!("{ja} / {en}"),
            ScanFailure::Internal(e) => {
                tracing::warn!(scan, error = %e, "discovery scan failed");
                "内部エラーのため中断しました（サーバーのログを確認してください） / stopped by an internal error (see the server log)".into()
            }
        }
    }
}

/// One file to read: its path, its path in the location, and what the last scan knew of it
/// (its size and time, its counts, its row).
type Work = (PathBuf, String, Option<Seen>, Option<Counts>, Option<i64>);

/// What reading one file gave.
enum Outcome1 {
    /// Size and time as last seen: not opened.
    Unchanged,
    /// Time changed, bytes did not: not scanned.
    Touched {
        mtime: i64,
    },
    Read(ReadFile),
}

struct ReadFile {
    size: i64,
    mtime: i64,
    sha256: String,
    format: String,
    status: String,
    reason: Option<String>,
    counts: Counts,
    change: Change,
    samples: Vec<Sample>,
}

fn status_code(s: &mamori_detect::Status) -> &'static str {
    match s {
        mamori_detect::Status::Scanned => "scanned",
        mamori_detect::Status::Skipped(_) => "skipped",
        mamori_detect::Status::Failed(_) => "failed",
    }
}

fn status_reason(s: &mamori_detect::Status) -> Option<String> {
    match s {
        mamori_detect::Status::Scanned => None,
        mamori_detect::Status::Skipped(m) | mamori_detect::Status::Failed(m) => Some(m.clone()),
    }
}

fn read_one(
    root: &Path,
    path: &Path,
    rel: &str,
    prev: Option<&Seen>,
    prev_counts: Option<&Counts>,
    version: &str,
) -> Outcome1 {
    // Not read is never clean: the counts of the last scan are kept (and the file is read
    // again next time, its hash being unknown).
    let failed = |reason: String| {
        Outcome1::Read(ReadFile {
            size: 0,
            mtime: 0,
            sha256: String::new(),
            format: "unknown".into(),
            status: "failed".into(),
            reason: Some(reason),
            counts: prev_counts.cloned().unwrap_or_default(),
            change: if prev_counts.is_some() {
                Change::Unchanged
            } else {
                Change::New
            },
            samples: Vec::new(),
        })
    };
    // The file is opened once and everything is read from that handle; the handle must be
    // the file the real path inside the location names (a link swapped in after the check
    // would be another file).
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return failed(format!("not read: {e}")),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return failed(format!("not read: {e}")),
    };
    match std::fs::canonicalize(path) {
        Ok(real) if real.starts_with(root) && same_file(&real, &meta) => {}
        Ok(_) => return failed("not read: a link that leads out of the location".into()),
        Err(e) => return failed(format!("not read: {e}")),
    }
    let size = meta.len();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |t| i64::try_from(t.as_micros()).unwrap_or(i64::MAX));
    if !d::needs_hash(prev, size, mtime, version) {
        return Outcome1::Unchanged;
    }
    let sha256 = match hash_reader(&mut file) {
        Ok(h) => h,
        Err(e) => return failed(format!("not read: {e}")),
    };
    if let Err(e) = std::io::Seek::rewind(&mut file) {
        return failed(format!("not read: {e}"));
    }
    if d::same_content(prev, &sha256, version) {
        return Outcome1::Touched { mtime };
    }
    let mut per_kind: HashMap<&'static str, usize> = HashMap::new();
    let mut samples = Vec::new();
    let reports = scanner().scan_reader(rel, std::io::BufReader::new(file), size, &mut |f| {
        let n = per_kind.entry(f.kind.as_str()).or_default();
        if *n < SAMPLES_PER_KIND {
            *n += 1;
            samples.push(Sample {
                kind: f.kind.as_str().to_owned(),
                masked: f.masked(),
                line: f.line,
            });
        }
    });
    let mut total = [0u64; 11];
    for r in &reports {
        for (a, b) in total.iter_mut().zip(r.counts) {
            *a += b;
        }
    }
    let counts = d::counts_from_array(&total);
    let top = reports.first();
    let member_not_read = reports.iter().skip(1).find(|r| runner::is_not_read(r));
    let (status, reason) = match top {
        Some(t) if t.status != mamori_detect::Status::Scanned => {
            (status_code(&t.status).to_owned(), status_reason(&t.status))
        }
        _ => (
            "scanned".to_owned(),
            member_not_read
                .and_then(|m| status_reason(&m.status).map(|s| format!("{}: {s}", m.path))),
        ),
    };
    Outcome1::Read(ReadFile {
        size: i64::try_from(size).unwrap_or(i64::MAX),
        mtime,
        sha256,
        format: top.map_or("unknown", |t| t.format).to_owned(),
        status,
        reason,
        change: d::change_of(prev_counts, &counts),
        counts,
        samples,
    })
}

/// Whether `path` names the file a handle's metadata belongs to (device and inode).
fn same_file(path: &Path, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
}

fn hash_reader(f: &mut std::fs::File) -> std::io::Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The folder as the operating system resolves it (links followed), or why it cannot be used.
fn real_folder(path: &str) -> Result<String, d::PathProblem> {
    d::check_folder(path, &["/".to_owned()], &[])?;
    match std::fs::canonicalize(path) {
        Ok(real) if real.is_dir() => Ok(real.to_string_lossy().into_owned()),
        Ok(_) => Err(d::PathProblem {
            ja: format!("「{path}」はフォルダではありません"),
            en: format!("\"{path}\" is not a folder"),
        }),
        Err(e) => Err(d::PathProblem {
            ja: format!("フォルダ「{path}」を開けません（{e}）"),
            en: format!("cannot open the folder \"{path}\" ({e})"),
        }),
    }
}

/// A walked path relative to the location's folder.
fn relative(root: &Path, display: &str) -> String {
    let r = root.to_string_lossy();
    display
        .strip_prefix(r.as_ref())
        .map(|s| s.trim_start_matches('/'))
        .filter(|s| !s.is_empty())
        .unwrap_or(display)
        .to_owned()
}

fn samples_context(location_id: i64, path: &str) -> String {
    format!("discovery.samples:{location_id}:{path}")
}

fn full_path(loc: &LocationRow, rel: &str) -> String {
    if loc.kind == "device" {
        rel.to_owned()
    } else {
        format!("{}/{}", loc.path.trim_end_matches('/'), rel)
    }
}

/// The departments of the list that the scope reaches.
fn own_departments(scope: &DiscoveryScope, depts: Vec<(i64, String)>) -> Vec<(i64, String)> {
    match &scope.departments {
        None => depts,
        Some(own) => depts
            .into_iter()
            .filter(|(id, _)| own.contains(id))
            .collect(),
    }
}

fn dept_name(depts: &[(i64, String)], id: i64) -> String {
    depts
        .iter()
        .find(|(d, _)| *d == id)
        .map(|(_, n)| n.clone())
        .unwrap_or_default()
}

/// A file as the pages show it; `latest` is the newest scan of its location (id, start).
fn file_view(
    loc: &LocationRow,
    row: FileRow,
    latest: (i64, Option<i64>),
    datasets: &[DatasetRow],
) -> FileView {
    let (latest_scan, latest_start) = latest;
    let counts = d::counts_from_json(&row.counts);
    let prev_counts = row.prev_counts.as_deref().map(d::counts_from_json);
    let change = Change::parse(&row.change).unwrap_or(Change::Unchanged);
    let full = full_path(loc, &row.path);
    let dataset = row
        .ledger_dataset_id
        .and_then(|id| datasets.iter().find(|ds| ds.id == id))
        .or_else(|| {
            datasets
                .iter()
                .filter(|ds| ds.company_id == loc.company_id)
                .find(|ds| d::storage_covers(&ds.storage_place, &full))
        })
        .map(|ds| (ds.id, ds.name.clone()));
    let present = change != Change::Removed;
    let deleted = row.disposition.as_deref() == Some("deleted");
    FileView {
        unledgered: present && !counts.is_empty() && dataset.is_none() && !deleted,
        // Recorded as deleted before a scan that still found it.
        deleted_but_present: present
            && deleted
            && matches!((row.disposition_at, latest_start), (Some(at), Some(start)) if start > at),
        changed_now: row.changed_scan_id == latest_scan,
        counts,
        prev_counts,
        change,
        dataset,
        full_path: full,
        row,
    }
}

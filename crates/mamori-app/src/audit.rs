//! Recording, checkpointing, verifying, searching and exporting the audit log.
//!
//! Appends go through one writer task per process that commits whatever has queued up in one
//! transaction (group commit): a burst of a thousand requests costs a handful of fsyncs, not a
//! thousand. `record` returns only after the entry is durable.

use crate::{App, AppError, Ctx, Principal};
use mamori_domain::audit::{
    checkpoint_lag_secs, hashes_match, sign_checkpoint, AuditEntry, AuditRecord, AuditScope,
    ChainVerifier, Checkpoint, Outcome, VerifyError, VerifySummary,
};
use mamori_domain::role::Permission;
use mamori_store::audit::{AuditFilter, WriterConnection};
use mamori_store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};

struct Pending {
    record: AuditRecord,
    done: oneshot::Sender<Result<i64, String>>,
}

/// A handle to the audit writer. Cloning is cheap; the writer stops when the last handle is
/// dropped, after committing what it holds.
#[derive(Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<Pending>,
}

impl AuditLog {
    /// Starts the writer. `max_batch` 1 gives one commit per entry (for comparison only).
    pub fn start(store: Store, max_batch: usize) -> (AuditLog, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Pending>(16_384);
        let handle = tokio::spawn(async move {
            // The writer's own connection, kept between batches (and replaced after an error).
            let mut conn = WriterConnection::default();
            let mut records: Vec<AuditRecord> = Vec::new();
            let mut waiting: Vec<oneshot::Sender<Result<i64, String>>> = Vec::new();
            while let Some(first) = rx.recv().await {
                records.push(first.record);
                waiting.push(first.done);
                while records.len() < max_batch {
                    let Ok(p) = rx.try_recv() else { break };
                    records.push(p.record);
                    waiting.push(p.done);
                }
                let mut result = store.append_audit_kept(&mut conn, &records).await;
                // A busy database is retried a few times before callers hear about it.
                let mut tries = 0;
                while matches!(result, Err(StoreError::Busy)) && tries < 5 {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * tries)).await;
                    result = store.append_audit_kept(&mut conn, &records).await;
                }
                records.clear();
                match result {
                    Ok(first_seq) => {
                        for (seq, done) in (first_seq..).zip(waiting.drain(..)) {
                            let _ = done.send(Ok(seq));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, entries = waiting.len(), "audit append failed");
                        let msg = e.to_string();
                        for done in waiting.drain(..) {
                            let _ = done.send(Err(msg.clone()));
                        }
                    }
                }
            }
        });
        (AuditLog { tx }, handle)
    }

    /// Records one entry and waits until it is durable; returns its sequence number.
    pub async fn record(&self, record: AuditRecord) -> Result<i64, AppError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Pending { record, done })
            .await
            .map_err(|_| AppError::Internal("audit writer stopped".into()))?;
        match wait.await {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(e)) if e.contains("full") => Err(AppError::DiskFull),
            Ok(Err(e)) if e.contains("busy") => Err(AppError::Busy),
            Ok(Err(e)) => Err(AppError::Internal(format!("audit append: {e}"))),
            Err(_) => Err(AppError::Internal("audit writer stopped".into())),
        }
    }
}

impl App {
    /// Records an action of `ctx` in the audit log, in the log of the actor's company.
    pub async fn audit(
        &self,
        ctx: &Ctx,
        action: &str,
        target: &str,
        outcome: Outcome,
        detail: serde_json::Value,
    ) -> Result<i64, AppError> {
        self.audit_in(ctx, ctx.company_scope(), action, target, outcome, detail)
            .await
    }

    /// [`App::audit`] in the log of `company`: for an action whose company is known although
    /// the actor has none (a failed login to a known account, the command line acting on one
    /// company).
    pub async fn audit_in(
        &self,
        ctx: &Ctx,
        company: Option<i64>,
        action: &str,
        target: &str,
        outcome: Outcome,
        detail: serde_json::Value,
    ) -> Result<i64, AppError> {
        self.audit
            .record(AuditRecord {
                company_id: company,
                at_micros: self.clock.now_micros(),
                actor_id: ctx.actor_id(),
                actor: ctx.actor_name(),
                ip: ctx.ip.clone(),
                action: action.to_owned(),
                target: target.to_owned(),
                outcome,
                detail: detail.to_string(),
            })
            .await
    }

    /// Signs the head of the chain if it moved since the last checkpoint. Returns the
    /// sequence number covered, if a checkpoint was written.
    pub async fn checkpoint_audit(&self) -> Result<Option<i64>, AppError> {
        let (seq, hash) = self.store.audit_head().await?;
        if seq == 0 || seq <= self.store.last_checkpoint_seq().await? {
            return Ok(None);
        }
        let c = sign_checkpoint(
            &self.keys.signing_key(),
            seq,
            &hash,
            self.clock.now_micros(),
        );
        self.store.insert_checkpoint(&c).await?;
        // Copies outside the database: whoever can rewrite the database cannot reach them.
        if self.settings.checkpoint_url.is_some() {
            let payload =
                serde_json::to_string(&c).map_err(|e| AppError::Internal(e.to_string()))?;
            let now = self.clock.now_micros();
            self.store
                .enqueue_job(CHECKPOINT_SEND_JOB, &payload, now, now)
                .await?;
        }
        if let Some(path) = &self.settings.checkpoint_file {
            append_checkpoint(path, &c).map_err(|e| {
                AppError::Internal(format!(
                    "checkpoint at entry {seq} signed, but not appended to {}: {e}",
                    path.display()
                ))
            })?;
        }
        Ok(Some(seq))
    }

    /// Sends one checkpoint (the payload of a [`CHECKPOINT_SEND_JOB`]) to the configured URL.
    /// A network failure or a 5xx, 408 or 429 answer is retried by the job queue; another
    /// answer is logged and not retried.
    pub async fn send_checkpoint(&self, payload: &str) -> Result<(), String> {
        let Some(url) = &self.settings.checkpoint_url else {
            return Ok(());
        };
        let c: Checkpoint = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        let body = checkpoint_line(&c);
        let now = self.clock.now_micros().div_euclid(1_000_000);
        // The checkpoint carries its own Ed25519 signature, which the receiver checks with
        // audit-signing.pub; the webhook scheme's HMAC headers have no secret to add here.
        // The operator named this URL in the configuration file, which is the allowance the
        // outbound check asks for: its host is allowed like a `webhook_allow_hosts` entry (an
        // off-machine log collector is often on a private network). The connection is still
        // pinned to the checked address, without proxy or redirects.
        let operator_host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned));
        let policy = mamori_mail::webhook::TargetPolicy::allowing(
            self.settings
                .webhook_allow_hosts
                .iter()
                .cloned()
                .chain(operator_host),
        );
        match mamori_mail::webhook::post(&policy, url, b"", body.as_bytes(), now).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_transient() => Err(format!("checkpoint {}: {e}", c.seq)),
            Err(e) => {
                tracing::warn!(seq = c.seq, error = %e, "checkpoint not accepted by checkpoint_url");
                Ok(())
            }
        }
    }

    /// The auditor's search: newest first, `limit` entries, within the auditor's scope (an
    /// auditor of one company sees that company's entries whatever the filter asks).
    pub async fn search_audit(
        &self,
        ctx: &Ctx,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, AppError> {
        if !ctx.allows(Permission::ReadAuditLog) {
            return Err(AppError::Denied);
        }
        let mut f = filter.clone();
        if let Some(AuditScope::Company(c)) = ctx.audit_scope()? {
            f.company = Some(c);
        }
        Ok(self.store.search_audit(&f, limit.clamp(1, 500)).await?)
    }

    /// The auditor's export as JSON lines (see [`export`]), within the auditor's scope; the
    /// export itself is recorded. `company` narrows a group auditor's export to one company.
    pub async fn export_audit<W: std::io::Write>(
        &self,
        ctx: &Ctx,
        since: Option<i64>,
        until: Option<i64>,
        company: Option<i64>,
        out: &mut W,
    ) -> Result<u64, AppError> {
        if !ctx.allows(Permission::ExportAuditLog) {
            return Err(AppError::Denied);
        }
        let company = match ctx.audit_scope()? {
            Some(AuditScope::Company(c)) => Some(c),
            _ => company,
        };
        let n = export(&self.store, since, until, company, out).await?;
        self.audit(
            ctx,
            "audit.export",
            &company.map_or_else(|| "audit:all".to_owned(), |c| format!("company:{c}")),
            Outcome::Success,
            serde_json::json!({ "entries": n }),
        )
        .await?;
        Ok(n)
    }
}

impl Ctx {
    /// Whose audit entries this caller may read: `None` for everything (the command line),
    /// otherwise the scope of an auditor; [`AppError::Denied`] for anybody else.
    pub fn audit_scope(&self) -> Result<Option<AuditScope>, AppError> {
        match &self.principal {
            Principal::Local => Ok(None),
            Principal::User(u) if !u.disabled => AuditScope::of(&u.roles, u.company_id)
                .map(Some)
                .ok_or(AppError::Denied),
            Principal::User(_) | Principal::Anonymous => Err(AppError::Denied),
        }
    }
}

/// The job kind that sends one checkpoint to `checkpoint_url`.
pub const CHECKPOINT_SEND_JOB: &str = "audit.checkpoint.send";

/// A checkpoint as one line of the checkpoint file (and the body sent to the URL): a JSON
/// object with `seq`, `hash`, `at_micros`, `key_id` and `signature`.
pub fn checkpoint_line(c: &Checkpoint) -> String {
    serde_json::to_string(c).expect("a checkpoint serialises")
}

/// Appends `c` as one line to the checkpoint file, created owner-only (0600) and opened for
/// appending only, so a line once written is never rewritten by mamori.
pub fn append_checkpoint(path: &std::path::Path, c: &Checkpoint) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    let mut line = checkpoint_line(c);
    line.push('\n');
    // One write of the whole line: appends from two processes never interleave within it.
    f.write_all(line.as_bytes())?;
    f.sync_data()
}

/// Reads a checkpoint file: one JSON checkpoint per line, blank lines ignored. An unreadable
/// line is an error naming its number.
pub fn read_checkpoints(text: &str) -> Result<Vec<Checkpoint>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("line {}: not a checkpoint: {e}", i + 1))
        })
        .collect()
}

/// How long the oldest entry not covered by a checkpoint has waited, in seconds, when that is
/// more than twice `interval_secs` (see [`checkpoint_lag_secs`]).
pub async fn checkpoint_lag(
    store: &Store,
    now_micros: i64,
    interval_secs: i64,
) -> Result<Option<i64>, StoreError> {
    let first_waiting = store.last_checkpoint_seq().await? + 1;
    let at = store.audit_entry_at(first_waiting).await?;
    Ok(checkpoint_lag_secs(at, now_micros, interval_secs))
}

/// The result of verification: either the whole log verified, or the first failure.
#[derive(Debug)]
pub enum Verified {
    Ok(VerifySummary),
    Failed { error: VerifyError, checked: u64 },
}

/// Verifies the whole chain and every checkpoint with `key`: [`verify_with`] without
/// checkpoints from elsewhere.
pub async fn verify(
    store: &Store,
    key: &ed25519_dalek::VerifyingKey,
    chunk: usize,
) -> Result<Verified, StoreError> {
    verify_with(store, key, chunk, Vec::new()).await
}

/// Verifies the whole chain, the checkpoints in the database and `external` ones (read from
/// the checkpoint file) with `key`. An external checkpoint is checked exactly as one in the
/// database: its signature, and the hash of the entry it names; so a tail rewritten in the
/// database (with its checkpoints removed) fails at the first external checkpoint it changed.
///
/// The entries are read in chunks of `chunk` by the store's fast read path. Checking an entry's
/// content against its hash needs only the entry itself, so those hashes are recomputed on
/// several threads (chunk `i` goes to worker `i % workers`); one thread then walks the chunks in
/// order through [`ChainVerifier::push_checked`], which checks the links, the sequence and the
/// checkpoints exactly as [`ChainVerifier::push`] does, and reports the same first failure.
pub async fn verify_with(
    store: &Store,
    key: &ed25519_dalek::VerifyingKey,
    chunk: usize,
    external: Vec<Checkpoint>,
) -> Result<Verified, StoreError> {
    let mut checkpoints = store.list_checkpoints().await?;
    checkpoints.extend(external);
    let key = *key;
    let workers = std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .clamp(1, 4);
    let mut to_workers = Vec::with_capacity(workers);
    let mut from_workers = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (in_tx, mut in_rx) = mpsc::channel::<Vec<AuditEntry>>(1);
        let (out_tx, out_rx) = std::sync::mpsc::sync_channel::<(Vec<AuditEntry>, Vec<bool>)>(1);
        tokio::task::spawn_blocking(move || {
            while let Some(entries) = in_rx.blocking_recv() {
                let ok = hashes_match(&entries);
                if out_tx.send((entries, ok)).is_err() {
                    // The checker stopped at the first failure.
                    break;
                }
            }
        });
        to_workers.push(in_tx);
        from_workers.push(out_rx);
    }
    let checker = tokio::task::spawn_blocking(move || {
        let mut v = ChainVerifier::new(&key, checkpoints);
        // Chunk `i` comes back from worker `i % workers`; the first worker with nothing more
        // to say marks the end, because chunks are handed out in the same order.
        for worker in from_workers.iter().cycle() {
            let Ok((entries, ok)) = worker.recv() else {
                break;
            };
            for (e, ok) in entries.iter().zip(ok) {
                if let Err(error) = v.push_checked(e, ok) {
                    return Verified::Failed {
                        error,
                        checked: v.entries(),
                    };
                }
            }
        }
        let checked = v.entries();
        match v.finish() {
            Ok(s) => Verified::Ok(s),
            Err(error) => Verified::Failed { error, checked },
        }
    });
    let (tx, mut rx) = mpsc::channel::<Vec<AuditEntry>>(2);
    let route = async move {
        for worker in to_workers.iter().cycle() {
            let Some(entries) = rx.recv().await else {
                break;
            };
            if worker.send(entries).await.is_err() {
                // The checker stopped at the first failure; no need to read further.
                break;
            }
        }
    };
    let (read, ()) = tokio::join!(store.audit_chunks(chunk, tx), route);
    let verified = checker
        .await
        .map_err(|e| StoreError::Database(format!("verification thread: {e}")));
    // The reader stops without error when the checker has stopped early, so an error here is
    // a real read error, and what the checker saw is then incomplete.
    read?;
    verified
}

/// Writes entries with `since <= at < until` (of `company` only, when given) as JSON lines;
/// returns how many.
pub async fn export<W: std::io::Write>(
    store: &Store,
    since: Option<i64>,
    until: Option<i64>,
    company: Option<i64>,
    out: &mut W,
) -> Result<u64, AppError> {
    let mut after = 0;
    let mut n = 0;
    loop {
        let entries = store
            .audit_page_of(after, 10_000, since, until, company)
            .await?;
        let Some(last) = entries.last() else { break };
        after = last.seq;
        for e in &entries {
            serde_json::to_writer(&mut *out, e).map_err(|e| AppError::Internal(e.to_string()))?;
            out.write_all(b"\n")
                .map_err(|e| AppError::Internal(e.to_string()))?;
            n += 1;
        }
    }
    Ok(n)
}

/// A quick summary per outcome for the auditor's page header.
pub fn outcome_label(o: Outcome, lang: &str) -> &'static str {
    match (o, lang == "en") {
        (Outcome::Success, false) => "成功",
        (Outcome::Denied, false) => "拒否",
        (Outcome::Failure, false) => "失敗",
        (Outcome::Error, false) => "エラー",
        (Outcome::Success, true) => "success",
        (Outcome::Denied, true) => "denied",
        (Outcome::Failure, true) => "failure",
        (Outcome::Error, true) => "error",
    }
}

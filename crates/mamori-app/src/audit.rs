//! Recording, checkpointing, verifying, searching and exporting the audit log.
//!
//! Appends go through one writer task per process that commits whatever has queued up in one
//! transaction (group commit): a burst of a thousand requests costs a handful of fsyncs, not a
//! thousand. `record` returns only after the entry is durable.

use crate::{App, AppError, Ctx};
use mamori_domain::audit::{
    sign_checkpoint, AuditEntry, AuditRecord, ChainVerifier, Outcome, VerifyError, VerifySummary,
};
use mamori_domain::role::Permission;
use mamori_store::audit::AuditFilter;
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
            let mut batch: Vec<Pending> = Vec::with_capacity(max_batch);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < max_batch {
                    match rx.try_recv() {
                        Ok(p) => batch.push(p),
                        Err(_) => break,
                    }
                }
                let records: Vec<AuditRecord> = batch.iter().map(|p| p.record.clone()).collect();
                let mut result = store.append_audit(records.clone()).await;
                // A busy database is retried a few times before callers hear about it.
                let mut tries = 0;
                while matches!(result, Err(StoreError::Busy)) && tries < 5 {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * tries)).await;
                    result = store.append_audit(records.clone()).await;
                }
                match result {
                    Ok(seqs) => {
                        for (p, seq) in batch.drain(..).zip(seqs) {
                            let _ = p.done.send(Ok(seq));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, entries = batch.len(), "audit append failed");
                        let msg = e.to_string();
                        for p in batch.drain(..) {
                            let _ = p.done.send(Err(msg.clone()));
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
    /// Records an action of `ctx` in the audit log.
    pub async fn audit(
        &self,
        ctx: &Ctx,
        action: &str,
        target: &str,
        outcome: Outcome,
        detail: serde_json::Value,
    ) -> Result<i64, AppError> {
        self.audit
            .record(AuditRecord {
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
        Ok(Some(seq))
    }

    /// The auditor's search: newest first, `limit` entries.
    pub async fn search_audit(
        &self,
        ctx: &Ctx,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, AppError> {
        if !ctx.allows(Permission::ReadAuditLog) {
            return Err(AppError::Denied);
        }
        Ok(self.store.search_audit(filter, limit.clamp(1, 500)).await?)
    }
}

/// The result of verification: either the whole log verified, or the first failure.
#[derive(Debug)]
pub enum Verified {
    Ok(VerifySummary),
    Failed { error: VerifyError, checked: u64 },
}

/// Verifies the whole chain and every checkpoint with `key`.
///
/// The entries are streamed from one query; a blocking thread checks links, hashes and
/// signatures while the next rows are read, so reading and hashing run on two cores.
pub async fn verify(
    store: &Store,
    key: &ed25519_dalek::VerifyingKey,
    chunk: usize,
) -> Result<Verified, StoreError> {
    use futures_util::TryStreamExt;
    let checkpoints = store.list_checkpoints().await?;
    let key = *key;
    let (tx, mut rx) = mpsc::channel::<Vec<AuditEntry>>(8);
    let checker = tokio::task::spawn_blocking(move || {
        let mut v = ChainVerifier::new(&key, checkpoints);
        while let Some(entries) = rx.blocking_recv() {
            for e in &entries {
                if let Err(error) = v.push(e) {
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
    let chunk = chunk.max(1);
    let mut buf = Vec::with_capacity(chunk);
    let mut stream = std::pin::pin!(store.audit_stream());
    while let Some(e) = stream.try_next().await? {
        buf.push(e);
        if buf.len() == chunk {
            let full = std::mem::replace(&mut buf, Vec::with_capacity(chunk));
            if tx.send(full).await.is_err() {
                // The checker stopped at the first failure; no need to read further.
                break;
            }
        }
    }
    if !buf.is_empty() {
        let _ = tx.send(buf).await;
    }
    drop(tx);
    checker
        .await
        .map_err(|e| StoreError::Database(format!("verification thread: {e}")))
}

/// Writes entries with `since <= at < until` as JSON lines; returns how many.
pub async fn export<W: std::io::Write>(
    store: &Store,
    since: Option<i64>,
    until: Option<i64>,
    out: &mut W,
) -> Result<u64, AppError> {
    let mut after = 0;
    let mut n = 0;
    loop {
        let entries = store.audit_page(after, 10_000, since, until).await?;
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

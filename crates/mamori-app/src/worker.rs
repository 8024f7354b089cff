//! The background worker: periodic tasks and queued jobs, both taken from the database so that
//! several processes share one schedule and never run the same job twice.

use crate::{App, AppError};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A handler for one kind of queued job; later capabilities (mail, notices) register theirs.
pub type JobHandler = Arc<
    dyn Fn(App, String) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync,
>;

/// The periodic tasks of the foundation and how often they run (seconds).
pub fn schedules(app: &App) -> Vec<(&'static str, i64)> {
    vec![
        ("audit.checkpoint", app.settings.checkpoint_interval_secs),
        ("sessions.purge", 600),
        ("login_failures.purge", 3600),
        ("incident.reminders", 300),
        ("ledger.reviews", 3600),
        ("vault.retention", 3600),
        (crate::evidence::PURGE_TASK, 3600),
        (crate::campaign::KICK_TASK, 15),
        (crate::desk_faq::DIGEST_TASK, 600),
        (crate::discovery::SCAN_TASK, 30),
        (crate::inspection::REMINDER_TASK, 3600),
        (crate::devices::LOAN_REMINDER_TASK, 3600),
        (crate::takeouts::TAKEOUT_REMINDER_TASK, 3600),
        (crate::contractors::REMINDER_TASK, 3600),
        (crate::learning::REMINDER_TASK, 3600),
    ]
}

impl App {
    /// Runs one periodic task by name.
    pub async fn run_periodic(&self, name: &str) -> Result<(), AppError> {
        let now = self.clock.now_micros();
        match name {
            "audit.checkpoint" => {
                self.checkpoint_audit().await?;
            }
            "sessions.purge" => {
                self.store
                    .purge_sessions(
                        now - self.settings.session_idle_secs * 1_000_000,
                        now - self.settings.session_absolute_secs * 1_000_000,
                    )
                    .await?;
            }
            "login_failures.purge" => {
                self.store
                    .purge_login_failures(now - 2 * self.settings.throttle_window_secs * 1_000_000)
                    .await?;
            }
            "incident.reminders" => {
                self.send_reminders().await?;
            }
            "ledger.reviews" => {
                self.send_ledger_reminders().await?;
            }
            "vault.retention" => {
                // Without opened vault keys (a process that never opened them) there is
                // nothing this process can do; another one will.
                if self.vault.get().is_some() {
                    self.run_retention().await?;
                }
            }
            crate::evidence::PURGE_TASK => {
                self.purge_stale_uploads().await?;
            }
            crate::campaign::KICK_TASK => self.kick_campaigns().await?,
            crate::desk_faq::DIGEST_TASK => {
                self.send_desk_digests().await?;
            }
            crate::discovery::SCAN_TASK => {
                self.discovery_tick(crate::discovery::process_worker())
                    .await?;
            }
            crate::inspection::REMINDER_TASK => {
                self.send_inspection_reminders().await?;
            }
            crate::devices::LOAN_REMINDER_TASK => {
                self.send_loan_reminders().await?;
                // Previews of register files never imported are copies of the register.
                self.store
                    .purge_device_imports(now - 86_400_000_000)
                    .await?;
            }
            crate::takeouts::TAKEOUT_REMINDER_TASK => {
                self.send_takeout_reminders().await?;
            }
            crate::contractors::REMINDER_TASK => {
                self.send_contractor_reminders().await?;
                self.send_audit_action_reminders().await?;
            }
            crate::learning::REMINDER_TASK => {
                self.send_learning_reminders().await?;
            }
            other => return Err(AppError::Internal(format!("unknown periodic task {other}"))),
        }
        Ok(())
    }

    /// One pass of the worker: due periodic tasks, then due jobs. Returns how many ran.
    pub async fn work_once(
        &self,
        worker: &str,
        handlers: &HashMap<String, JobHandler>,
    ) -> Result<usize, AppError> {
        let now = self.clock.now_micros();
        let mut ran = 0;
        for name in self.store.claim_due_schedules(worker, now).await? {
            if let Err(e) = self.run_periodic(&name).await {
                tracing::warn!(task = %name, error = %e, "periodic task failed");
            }
            ran += 1;
        }
        while let Some(job) = self.store.claim_job(worker, now, now + 300_000_000).await? {
            ran += 1;
            let result = match handlers.get(&job.kind) {
                Some(h) => h(self.clone(), job.payload.clone()).await,
                None => Err(format!("no handler for job kind {}", job.kind)),
            };
            self.finish_job(job.id, &job.kind, job.attempts, result)
                .await?;
        }
        Ok(ran)
    }

    /// Records the result of a job: done, or back in the queue with exponential backoff
    /// (30 s, 1 min, 2 min … capped at an hour).
    pub async fn finish_job(
        &self,
        id: i64,
        kind: &str,
        attempts: i64,
        result: Result<(), String>,
    ) -> Result<(), AppError> {
        let now = self.clock.now_micros();
        match result {
            Ok(()) => self.store.complete_job(id, now).await?,
            Err(e) => {
                let delay = (30i64 << attempts.clamp(0, 7)).min(3600);
                tracing::warn!(job = id, kind, attempts, "job failed");
                self.store.fail_job(id, &e, now + delay * 1_000_000).await?;
            }
        }
        Ok(())
    }

    /// Runs the worker until `stop` turns true.
    pub async fn run_worker(
        self,
        worker: String,
        handlers: HashMap<String, JobHandler>,
        mut stop: watch::Receiver<bool>,
    ) {
        let now = self.clock.now_micros();
        for (name, secs) in schedules(&self) {
            if let Err(e) = self
                .store
                .ensure_schedule(name, secs, now + secs * 1_000_000)
                .await
            {
                tracing::error!(task = name, error = %e, "cannot register periodic task");
            }
        }
        loop {
            if let Err(e) = self.work_once(&worker, &handlers).await {
                tracing::warn!(error = %e, "worker pass failed");
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => break,
            }
        }
    }
}

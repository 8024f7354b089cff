//! The use cases of mamori.
//!
//! Every action a person can take — log in, create a user, search the audit log — is a function
//! here that takes a [`Ctx`] (who is asking, from where), checks the permission in the use case
//! itself (default deny), calls the store, and records what happened in the audit log. The web
//! pages and the command line are thin fronts over these functions, so a rule is never written
//! twice and a page cannot forget a check.

pub mod admin;
pub mod alerting;
pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod campaign;
pub mod campaign_desk;
pub mod clock;
pub mod contractors;
pub mod decisions;
pub mod demo;
pub mod desk;
pub mod desk_faq;
pub mod desk_public;
pub mod devices;
pub mod discovery;
pub mod discovery_report;
pub mod error;
pub mod evidence;
pub mod impact;
pub mod incident;
pub mod inspection;
pub mod internal_audit;
pub mod keys;
pub mod learning;
pub mod ledger;
pub mod ppc;
pub mod programme;
pub mod programme_report;
pub mod takeouts;
pub mod vault;
pub mod vault_import;
pub mod vault_keys;
pub mod vault_overview;
pub mod worker;

use std::sync::Arc;

pub use error::{AppError, Problem, Problems};
use mamori_domain::role::Permission;
use mamori_store::users::User;
use mamori_store::Store;

/// Settings the use cases need (the rest of the configuration belongs to the binary).
#[derive(Debug, Clone)]
pub struct Settings {
    /// A session unused for this long ends.
    pub session_idle_secs: i64,
    /// A session ends this long after login, used or not.
    pub session_absolute_secs: i64,
    /// Failed logins of one account within the window that lock it for the window.
    pub max_failures_per_account: i64,
    /// Failed logins from one address within the window that block it for the window.
    pub max_failures_per_ip: i64,
    pub throttle_window_secs: i64,
    /// How often a signed checkpoint of the audit chain is written.
    pub checkpoint_interval_secs: i64,
    /// Each checkpoint is also appended to this file (one JSON line), outside the database.
    pub checkpoint_file: Option<std::path::PathBuf>,
    /// Each checkpoint is also POSTed to this URL (job `audit.checkpoint.send`, retried).
    pub checkpoint_url: Option<String>,
    /// The name in authenticator apps.
    pub totp_issuer: String,
    /// The address people use to reach mamori, for links in mail (`https://mamori.example.co.jp`).
    pub public_url: String,
    /// How long an alert waits for an acknowledgement before it escalates, unless the company
    /// configured its own delay.
    pub escalate_after_secs: i64,
    /// Delivery attempts of one mail before it is shown as undeliverable.
    pub mail_max_attempts: i64,
    /// Vault custodians (standing access) a company may have.
    pub vault_max_custodians: usize,
    /// The longest a vault grant may last.
    pub vault_max_grant_hours: u32,
    /// Vault lookups one user may make per minute and per hour (every process together); past
    /// either the lookup answers 429 and the refusal is in the audit log.
    pub vault_lookups_per_minute: i64,
    pub vault_lookups_per_hour: i64,
    /// Hosts a webhook may reach although they are (or resolve to) a loopback, private,
    /// link-local or other internal address. Only the configuration file sets it.
    pub webhook_allow_hosts: Vec<String>,
    /// Wrong second-factor codes in a row that lock the second factor until an administrator
    /// unlocks it (a right password does not clear the count; only a right code does).
    pub max_totp_failures: i64,
    /// Argon2 hashes computed at once (each takes 19 MiB and tens of milliseconds of a core),
    /// and how long a login waits for a free slot before it is answered 503.
    pub argon2_permits: usize,
    pub argon2_wait_millis: u64,
    /// The largest file one upload may attach to an incident (`max_upload_bytes`).
    pub max_upload_bytes: u64,
    /// Folders under which the privacy office may configure discovery locations. Only the
    /// configuration file sets it; empty: no folder may be scanned.
    pub discovery_roots: Vec<String>,
    /// mamori's own folders (data directory), never scanned even inside a root.
    pub discovery_own: Vec<std::path::PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_idle_secs: 30 * 60,
            session_absolute_secs: 12 * 3600,
            max_failures_per_account: 5,
            max_failures_per_ip: 20,
            throttle_window_secs: 15 * 60,
            checkpoint_interval_secs: 60,
            checkpoint_file: None,
            checkpoint_url: None,
            totp_issuer: "mamori".into(),
            public_url: "http://127.0.0.1:8080".into(),
            escalate_after_secs: 600,
            mail_max_attempts: 10,
            vault_max_custodians: mamori_domain::vault::grant::DEFAULT_MAX_CUSTODIANS,
            vault_max_grant_hours: mamori_domain::vault::grant::DEFAULT_MAX_HOURS,
            vault_lookups_per_minute: 30,
            vault_lookups_per_hour: 300,
            webhook_allow_hosts: Vec::new(),
            max_totp_failures: 5,
            argon2_permits: 4,
            argon2_wait_millis: 2000,
            max_upload_bytes: 512 << 20,
            discovery_roots: Vec::new(),
            discovery_own: Vec::new(),
        }
    }
}

/// Everything a use case can reach.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn clock::Clock>,
    pub audit: audit::AuditLog,
    pub keys: Arc<keys::Keys>,
    pub settings: Arc<Settings>,
    /// The SMTP transport; `None` until configured (mail then waits in the outbox, retried and
    /// shown as failing on the timeline).
    pub mailer: Option<mamori_mail::Mailer>,
    /// The vault's keys, once `open_vault` has checked them against the database.
    pub vault: vault::VaultSlot,
    /// The bounded pool that runs Argon2 off the async workers.
    pub argon2: auth::Argon2Pool,
    /// The public pages of incidents built by this process (issue 15).
    pub public_cache: Arc<desk_public::PublicCache>,
    /// This process is running discovery scans (one at a time per process).
    pub discovery_running: Arc<std::sync::atomic::AtomicBool>,
    /// The process is shutting down: a running scan gives its claim back at the next step
    /// (another process, or this one after a restart, resumes it).
    pub stopping: Arc<std::sync::atomic::AtomicBool>,
    /// The background task running this process's discovery scans, awaited at shutdown.
    pub discovery_task: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl App {
    /// Wires the use cases to a store and keys; starts the audit writer. The returned handle
    /// finishes when every clone of the `App` is dropped and the writer has flushed.
    pub fn new(
        store: Store,
        keys: keys::Keys,
        clock: Arc<dyn clock::Clock>,
        settings: Settings,
    ) -> (App, tokio::task::JoinHandle<()>) {
        let (audit, writer) = audit::AuditLog::start(store.clone(), 4096);
        let argon2 = auth::Argon2Pool::new(settings.argon2_permits, settings.argon2_wait_millis);
        (
            App {
                store,
                clock,
                audit,
                keys: Arc::new(keys),
                settings: Arc::new(settings),
                mailer: None,
                vault: vault::VaultSlot::default(),
                argon2,
                public_cache: Arc::default(),
                discovery_running: Arc::default(),
                stopping: Arc::default(),
                discovery_task: Arc::default(),
            },
            writer,
        )
    }
}

impl App {
    /// The same application, delivering mail through `mailer`.
    pub fn with_mailer(mut self, mailer: mamori_mail::Mailer) -> App {
        self.mailer = Some(mailer);
        self
    }
}

/// Who is acting.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A logged-in user.
    User(Box<User>),
    /// Nobody is logged in (login page, unknown routes).
    Anonymous,
    /// The command line, run by whoever holds the data directory and its keys.
    Local,
}

/// Who is asking, and from where: the first argument of every use case.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Principal,
    pub ip: String,
}

impl Ctx {
    pub fn local() -> Ctx {
        Ctx {
            principal: Principal::Local,
            ip: "local".into(),
        }
    }

    pub fn anonymous(ip: &str) -> Ctx {
        Ctx {
            principal: Principal::Anonymous,
            ip: ip.to_owned(),
        }
    }

    pub fn user(user: User, ip: &str) -> Ctx {
        Ctx {
            principal: Principal::User(Box::new(user)),
            ip: ip.to_owned(),
        }
    }

    pub fn user_ref(&self) -> Option<&User> {
        match &self.principal {
            Principal::User(u) => Some(u),
            _ => None,
        }
    }

    pub fn actor_id(&self) -> Option<i64> {
        self.user_ref().map(|u| u.id)
    }

    pub fn actor_name(&self) -> String {
        match &self.principal {
            Principal::User(u) => u.login.clone(),
            Principal::Anonymous => "-".into(),
            Principal::Local => "cli".into(),
        }
    }

    /// Default deny: the local command line may do everything (it holds the keys anyway); a
    /// user only what a role grants; an anonymous caller nothing.
    pub fn allows(&self, p: Permission) -> bool {
        match &self.principal {
            Principal::Local => true,
            Principal::User(u) => !u.disabled && u.roles.allows(p),
            Principal::Anonymous => false,
        }
    }

    /// The company whose data a user may manage; `None` for the command line (all).
    pub fn company_scope(&self) -> Option<i64> {
        self.user_ref().map(|u| u.company_id)
    }
}

//! Configuration: defaults, then a TOML file, then `MAMORI_*` environment variables, then
//! command-line flags — each later source wins. `mamori config` prints the result.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the web application listens on.
    pub listen: String,
    /// Where the embedded database and keys live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; empty means `sqlite://<data_dir>/mamori.db`.
    pub database_url: String,
    /// Keys kept outside the database; empty means `<data_dir>/keys`.
    pub key_dir: String,
    /// Mark cookies `Secure` (keep true; browsers accept it on localhost).
    pub cookie_secure: bool,
    /// Log filter (`info`, `mamori=debug,info`, …).
    pub log: String,
    /// `text` or `json`.
    pub log_format: String,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub checkpoint_interval_secs: i64,
    /// Append each signed audit checkpoint to this file too (one JSON line, 0600), so that a
    /// rewritten database tail is detectable without trusting the database.
    pub checkpoint_file: Option<PathBuf>,
    /// POST each signed audit checkpoint to this URL too (retried until it is accepted).
    pub checkpoint_url: Option<String>,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Largest file one upload may attach to an incident (leaked material), in bytes.
    pub max_upload_bytes: u64,
    /// The address people use to reach mamori, for links in alert mail.
    pub public_url: String,
    /// Minutes an alert waits for an acknowledgement before escalating (a company may set its
    /// own on the alert settings page).
    pub escalate_after_minutes: i64,
    /// Vault custodians (standing access) a company may have.
    pub vault_max_custodians: usize,
    /// The longest a vault grant may last, in hours.
    pub vault_max_grant_hours: u32,
    /// Vault lookups one user may make per minute and per hour.
    pub vault_lookups_per_minute: i64,
    pub vault_lookups_per_hour: i64,
    /// Hosts webhooks may reach although they are (or resolve to) loopback, private or other
    /// internal addresses. Set only in the configuration file: no environment variable, flag or
    /// page can widen it.
    pub webhook_allow_hosts: Vec<String>,
    /// Reverse proxies (addresses or ranges such as `10.0.0.0/8`) whose `X-Forwarded-For` is
    /// believed; without them the header is ignored and every connection is its own client.
    pub trusted_proxies: Vec<String>,
    /// Folders (absolute paths) under which the privacy office may configure discovery
    /// locations — shares mounted on this server. Set only in the configuration file; empty:
    /// no folder may be scanned. The data and key folders are never scanned.
    pub discovery_roots: Vec<String>,
    /// Argon2 password hashes computed at once; past that a login waits up to
    /// `argon2_wait_millis` for a slot and is then answered 503.
    pub argon2_permits: usize,
    pub argon2_wait_millis: u64,
    /// Wrong second-factor codes in a row that lock the second factor until
    /// `mamori admin unlock`.
    pub max_totp_failures: i64,
    /// The SMTP server for alerts and reminders; without it mail waits in the outbox and the
    /// timeline shows it as failing.
    pub smtp: Option<mamori_mail::SmtpConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./mamori-data"),
            database_url: String::new(),
            key_dir: String::new(),
            cookie_secure: true,
            log: "info".into(),
            log_format: "text".into(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            checkpoint_interval_secs: 60,
            checkpoint_file: None,
            checkpoint_url: None,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 512 << 20,
            public_url: String::new(),
            escalate_after_minutes: 10,
            vault_max_custodians: 3,
            vault_max_grant_hours: 24,
            vault_lookups_per_minute: 30,
            vault_lookups_per_hour: 300,
            webhook_allow_hosts: Vec::new(),
            trusted_proxies: Vec::new(),
            discovery_roots: Vec::new(),
            argon2_permits: 4,
            argon2_wait_millis: 2000,
            max_totp_failures: 5,
            smtp: None,
        }
    }
}

/// Where a setting came from, for `mamori config`.
#[derive(Debug, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: Vec<&'static str>,
}

fn env_var(name: &'static str, sources: &mut Sources) -> Option<String> {
    let v = std::env::var(name).ok().filter(|v| !v.is_empty())?;
    sources.env.push(name);
    Some(v)
}

fn parse_env<T: std::str::FromStr>(name: &'static str, sources: &mut Sources) -> Result<Option<T>> {
    match env_var(name, sources) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("environment variable {name} has an invalid value `{v}`")),
    }
}

impl Config {
    /// Loads the file (explicit path, or `./mamori.toml` when present) and the environment.
    pub fn load(explicit: Option<&Path>) -> Result<(Config, Sources)> {
        let mut sources = Sources::default();
        let from_env = std::env::var("MAMORI_CONFIG").ok().map(PathBuf::from);
        let path = explicit.map(Path::to_path_buf).or(from_env);
        let mut cfg = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| {
                    format!("cannot read the configuration file {}", p.display())
                })?;
                sources.file = Some(p.clone());
                toml::from_str(&text)
                    .with_context(|| format!("configuration file {}", p.display()))?
            }
            None if Path::new("mamori.toml").exists() => {
                let text =
                    std::fs::read_to_string("mamori.toml").context("reading ./mamori.toml")?;
                sources.file = Some(PathBuf::from("mamori.toml"));
                toml::from_str(&text).context("configuration file ./mamori.toml")?
            }
            None => Config::default(),
        };
        if let Some(v) = env_var("MAMORI_LISTEN", &mut sources) {
            cfg.listen = v;
        }
        if let Some(v) = env_var("MAMORI_DATA_DIR", &mut sources) {
            cfg.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env_var("MAMORI_DATABASE_URL", &mut sources) {
            cfg.database_url = v;
        }
        if let Some(v) = env_var("MAMORI_KEY_DIR", &mut sources) {
            cfg.key_dir = v;
        }
        if let Some(v) = parse_env("MAMORI_COOKIE_SECURE", &mut sources)? {
            cfg.cookie_secure = v;
        }
        if let Some(v) = env_var("MAMORI_LOG", &mut sources) {
            cfg.log = v;
        }
        if let Some(v) = env_var("MAMORI_LOG_FORMAT", &mut sources) {
            cfg.log_format = v;
        }
        if let Some(v) = parse_env("MAMORI_SESSION_IDLE_MINUTES", &mut sources)? {
            cfg.session_idle_minutes = v;
        }
        if let Some(v) = parse_env("MAMORI_SESSION_ABSOLUTE_HOURS", &mut sources)? {
            cfg.session_absolute_hours = v;
        }
        if let Some(v) = parse_env("MAMORI_CHECKPOINT_INTERVAL_SECS", &mut sources)? {
            cfg.checkpoint_interval_secs = v;
        }
        if let Some(v) = env_var("MAMORI_CHECKPOINT_FILE", &mut sources) {
            cfg.checkpoint_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env_var("MAMORI_CHECKPOINT_URL", &mut sources) {
            cfg.checkpoint_url = Some(v);
        }
        if let Some(v) = parse_env("MAMORI_MAX_BODY_BYTES", &mut sources)? {
            cfg.max_body_bytes = v;
        }
        if let Some(v) = parse_env("MAMORI_MAX_UPLOAD_BYTES", &mut sources)? {
            cfg.max_upload_bytes = v;
        }
        if let Some(v) = env_var("MAMORI_PUBLIC_URL", &mut sources) {
            cfg.public_url = v;
        }
        if let Some(v) = parse_env("MAMORI_ESCALATE_AFTER_MINUTES", &mut sources)? {
            cfg.escalate_after_minutes = v;
        }
        if let Some(v) = parse_env("MAMORI_VAULT_MAX_CUSTODIANS", &mut sources)? {
            cfg.vault_max_custodians = v;
        }
        if let Some(v) = parse_env("MAMORI_VAULT_MAX_GRANT_HOURS", &mut sources)? {
            cfg.vault_max_grant_hours = v;
        }
        if let Some(v) = parse_env("MAMORI_VAULT_LOOKUPS_PER_MINUTE", &mut sources)? {
            cfg.vault_lookups_per_minute = v;
        }
        if let Some(v) = parse_env("MAMORI_VAULT_LOOKUPS_PER_HOUR", &mut sources)? {
            cfg.vault_lookups_per_hour = v;
        }
        if let Some(v) = env_var("MAMORI_TRUSTED_PROXIES", &mut sources) {
            cfg.trusted_proxies = v
                .split([',', ' '])
                .filter(|p| !p.trim().is_empty())
                .map(|p| p.trim().to_owned())
                .collect();
        }
        if let Some(v) = parse_env("MAMORI_ARGON2_PERMITS", &mut sources)? {
            cfg.argon2_permits = v;
        }
        if let Some(v) = parse_env("MAMORI_ARGON2_WAIT_MILLIS", &mut sources)? {
            cfg.argon2_wait_millis = v;
        }
        if let Some(v) = parse_env("MAMORI_MAX_TOTP_FAILURES", &mut sources)? {
            cfg.max_totp_failures = v;
        }
        if let Some(host) = env_var("MAMORI_SMTP_HOST", &mut sources) {
            let mut smtp = cfg.smtp.take().unwrap_or_default();
            smtp.host = host;
            cfg.smtp = Some(smtp);
        }
        if let Some(port) = parse_env::<u16>("MAMORI_SMTP_PORT", &mut sources)? {
            let mut smtp = cfg.smtp.take().unwrap_or_default();
            smtp.port = port;
            cfg.smtp = Some(smtp);
        }
        if let Some(user) = env_var("MAMORI_SMTP_USERNAME", &mut sources) {
            let mut smtp = cfg.smtp.take().unwrap_or_default();
            smtp.username = Some(user);
            cfg.smtp = Some(smtp);
        }
        if let Some(password) = env_var("MAMORI_SMTP_PASSWORD", &mut sources) {
            let mut smtp = cfg.smtp.take().unwrap_or_default();
            smtp.password = Some(password);
            cfg.smtp = Some(smtp);
        }
        if let Some(from) = env_var("MAMORI_SMTP_FROM", &mut sources) {
            let mut smtp = cfg.smtp.take().unwrap_or_default();
            smtp.from = from;
            cfg.smtp = Some(smtp);
        }
        cfg.validate()?;
        Ok((cfg, sources))
    }

    pub fn validate(&self) -> Result<()> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            bail!(
                "listen address `{}` is not HOST:PORT (e.g. 127.0.0.1:8080)",
                self.listen
            );
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "log_format must be `text` or `json`, not `{}`",
                self.log_format
            );
        }
        if self.session_idle_minutes < 1 || self.session_absolute_hours < 1 {
            bail!("session timeouts must be positive");
        }
        if self.escalate_after_minutes < 1 {
            bail!("escalate_after_minutes must be at least 1");
        }
        let url = &self.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            bail!(
                "public_url must start with http:// or https://, not `{}`",
                self.public_url
            );
        }
        if self.checkpoint_interval_secs < 1 {
            bail!("checkpoint_interval_secs must be positive");
        }
        if let Some(url) = &self.checkpoint_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("checkpoint_url must start with http:// or https://, not `{url}`");
            }
        }
        if self.vault_max_custodians < 1 {
            bail!("vault_max_custodians must be at least 1");
        }
        if !(1..=24 * 31).contains(&self.vault_max_grant_hours) {
            bail!("vault_max_grant_hours must be between 1 and 744 (31 days)");
        }
        if self.vault_lookups_per_minute < 1 || self.vault_lookups_per_hour < 1 {
            bail!("vault_lookups_per_minute and vault_lookups_per_hour must be at least 1");
        }
        if let Some(h) = self
            .webhook_allow_hosts
            .iter()
            .find(|h| h.trim().is_empty() || h.contains('/') || h.contains(char::is_whitespace))
        {
            bail!("webhook_allow_hosts lists host names or IP addresses only (no URL, path or space), not `{h}`");
        }
        self.trusted_proxies()?;
        if let Some(r) = self
            .discovery_roots
            .iter()
            .find(|r| !r.starts_with('/') || r.split('/').any(|c| c == ".."))
        {
            bail!(
                "discovery_roots lists absolute folders (starting with /, without ..), not `{r}`"
            );
        }
        if self.max_upload_bytes < 1 {
            bail!("max_upload_bytes must be at least 1 (bytes; the default is 536870912, 512 MiB)");
        }
        if self.argon2_permits < 1 {
            bail!("argon2_permits must be at least 1");
        }
        if self.max_totp_failures < 1 {
            bail!("max_totp_failures must be at least 1");
        }
        Ok(())
    }

    /// The trusted proxies, parsed; an entry that is not an address or a range is named.
    pub fn trusted_proxies(&self) -> Result<Vec<mamori_domain::net::Cidr>> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                p.parse().with_context(|| {
                    "trusted_proxies (MAMORI_TRUSTED_PROXIES) lists addresses or ranges of the \
                     reverse proxies in front of mamori, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]"
                })
            })
            .collect()
    }

    /// The database URL, defaulting to the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("mamori.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn key_dir(&self) -> PathBuf {
        if self.key_dir.is_empty() {
            self.data_dir.join("keys")
        } else {
            PathBuf::from(&self.key_dir)
        }
    }

    /// True when nothing moved the database away from the default place, where mamori may
    /// create it on first start.
    pub fn is_default_location(&self) -> bool {
        self.database_url.is_empty() && self.data_dir == Config::default().data_dir
    }

    pub fn settings(&self) -> mamori_app::Settings {
        mamori_app::Settings {
            session_idle_secs: self.session_idle_minutes * 60,
            session_absolute_secs: self.session_absolute_hours * 3600,
            checkpoint_interval_secs: self.checkpoint_interval_secs,
            checkpoint_file: self.checkpoint_file.clone(),
            checkpoint_url: self.checkpoint_url.clone(),
            public_url: if self.public_url.is_empty() {
                format!("http://{}", self.listen)
            } else {
                self.public_url.clone()
            },
            escalate_after_secs: self.escalate_after_minutes * 60,
            vault_max_custodians: self.vault_max_custodians,
            vault_max_grant_hours: self.vault_max_grant_hours,
            vault_lookups_per_minute: self.vault_lookups_per_minute,
            vault_lookups_per_hour: self.vault_lookups_per_hour,
            webhook_allow_hosts: self.webhook_allow_hosts.clone(),
            max_totp_failures: self.max_totp_failures,
            argon2_permits: self.argon2_permits,
            argon2_wait_millis: self.argon2_wait_millis,
            max_upload_bytes: self.max_upload_bytes,
            // Compared with real paths: a root that is (or lies under) a link is resolved.
            discovery_roots: self
                .discovery_roots
                .iter()
                .map(|r| {
                    std::fs::canonicalize(r)
                        .map_or_else(|_| r.clone(), |p| p.to_string_lossy().into_owned())
                })
                .collect(),
            discovery_own: vec![self.data_dir.clone(), self.key_dir()],
            ..mamori_app::Settings::default()
        }
    }
}

#[cfg(test)]
mod webhook_allow_tests {
    use super::*;

    #[test]
    fn webhook_allow_hosts_come_from_the_file_only() {
        let cfg: Config =
            toml::from_str("webhook_allow_hosts = [\"hooks.intra.example\", \"10.0.0.5\"]")
                .unwrap();
        cfg.validate().unwrap();
        assert_eq!(
            cfg.settings().webhook_allow_hosts,
            vec!["hooks.intra.example".to_owned(), "10.0.0.5".to_owned()]
        );
        assert!(Config::default().settings().webhook_allow_hosts.is_empty());
        let bad: Config =
            toml::from_str("webhook_allow_hosts = [\"http://x.example/hook\"]").unwrap();
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("webhook_allow_hosts"), "{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_checked_and_parsed() {
        let cfg = Config {
            trusted_proxies: vec!["127.0.0.1".into(), "10.0.0.0/8".into(), "::1".into()],
            ..Config::default()
        };
        cfg.validate().unwrap();
        assert_eq!(cfg.trusted_proxies().unwrap().len(), 3);
        let bad = Config {
            trusted_proxies: vec!["proxy.example".into()],
            ..Config::default()
        };
        let e = format!("{:#}", bad.validate().unwrap_err());
        assert!(
            e.contains("trusted_proxies") && e.contains("proxy.example"),
            "{e}"
        );
        let parsed: Config = toml::from_str("trusted_proxies = [\"192.0.2.1\"]\n").unwrap();
        assert_eq!(parsed.trusted_proxies, vec!["192.0.2.1".to_owned()]);
        assert!(Config::default().trusted_proxies().unwrap().is_empty());
    }

    #[test]
    fn discovery_roots_come_from_the_file_and_are_absolute() {
        let cfg: Config =
            toml::from_str("discovery_roots = [\"/srv/share\", \"/mnt/nas\"]").unwrap();
        cfg.validate().unwrap();
        let s = cfg.settings();
        assert_eq!(
            s.discovery_roots,
            vec!["/srv/share".to_owned(), "/mnt/nas".to_owned()]
        );
        // mamori's own folders are never scanned.
        assert!(s.discovery_own.contains(&cfg.data_dir));
        assert!(s.discovery_own.contains(&cfg.key_dir()));
        assert!(Config::default().settings().discovery_roots.is_empty());
        for bad in ["share", "/srv/../etc"] {
            let c: Config = toml::from_str(&format!("discovery_roots = [\"{bad}\"]")).unwrap();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("discovery_roots"), "{e}");
        }
    }
}

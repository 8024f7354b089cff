//! The tamper-evident audit log: canonical content, the hash chain and signed checkpoints.
//!
//! Each entry carries the SHA-256 hash of the previous entry and a hash over its own canonical
//! content, so an edited entry, a deleted or reordered entry in the middle breaks the chain at
//! that point. A truncated tail keeps a valid chain, which is why a signed checkpoint
//! periodically commits to `(seq, hash)` with an Ed25519 key kept outside the database: a
//! checkpoint beyond the last entry proves that entries were removed.
//!
//! The canonical content has versions ("forms"), stored with each entry: form 1 (the first
//! release) covers the fields up to `detail`; form 2 adds the company the entry belongs to.
//! An entry is always checked with the form it was written in, so entries written before a new
//! form still verify after the upgrade.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The canonical form of the first release: no company.
pub const FORM_1: u8 = 1;
/// The canonical form written now: form 1 and the company the entry belongs to.
pub const CURRENT_FORM: u8 = 2;

/// The hash that the first entry of a log points back to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The action was carried out.
    Success,
    /// Authorisation refused it (no session, wrong role, wrong department, bad CSRF token).
    Denied,
    /// The user's input was wrong (a bad password, an invalid form).
    Failure,
    /// The server could not carry it out.
    Error,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Success,
        Outcome::Denied,
        Outcome::Failure,
        Outcome::Error,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failure => "failure",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.code() == s)
            .ok_or_else(|| format!("unknown outcome `{s}` (success, denied, failure, error)"))
    }
}

/// What happened, before the log gives it a place in the chain.
///
/// Never put personal data into any of these fields: targets are ids (`user:42`), details are
/// codes and counts. The audit log is kept indefinitely and exported as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Microseconds since the Unix epoch (UTC).
    pub at_micros: i64,
    pub actor_id: Option<i64>,
    /// The login name of the actor, `-` for an anonymous request, `cli` for the command line.
    pub actor: String,
    /// The client's address, or `local` for the command line.
    pub ip: String,
    /// A dotted action code such as `auth.login` or `GET /admin/users`.
    pub action: String,
    /// What the action was about (`user:42`, `/audit?…`), never personal data.
    pub target: String,
    pub outcome: Outcome,
    /// A small JSON object with codes and counts; `{}` when there is nothing to add.
    pub detail: String,
    /// The company whose log this entry belongs to (the actor's company); `None` for the
    /// command line and anonymous requests. Covered by the hash from form 2 on.
    #[serde(default)]
    pub company_id: Option<i64>,
}

/// An entry as stored: the record, its position and its two hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    #[serde(flatten)]
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
    /// The canonical form the hash was computed over ([`FORM_1`] or [`CURRENT_FORM`]).
    pub form: u8,
}

/// The canonical bytes that an entry's hash covers, in the current form: a JSON array with
/// the fields in a fixed order. JSON gives unambiguous escaping of arbitrary text without
/// inventing a format.
pub fn canonical(seq: i64, r: &AuditRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_canonical(&mut out, CURRENT_FORM, seq, r);
    out
}

/// Writes the canonical content in `form`; false (and nothing written) for an unknown form.
fn write_canonical<W: std::io::Write>(w: W, form: u8, seq: i64, r: &AuditRecord) -> bool {
    let first = (
        seq,
        r.at_micros,
        r.actor_id,
        &r.actor,
        &r.ip,
        &r.action,
        &r.target,
        r.outcome.code(),
        &r.detail,
    );
    // Serialising plain strings and integers into a hasher or a Vec cannot fail.
    match form {
        FORM_1 => {
            let _ = serde_json::to_writer(w, &first);
        }
        CURRENT_FORM => {
            let value = (
                first.0,
                first.1,
                first.2,
                first.3,
                first.4,
                first.5,
                first.6,
                first.7,
                first.8,
                r.company_id,
            );
            let _ = serde_json::to_writer(w, &value);
        }
        _ => return false,
    }
    true
}

/// Feeds what is written straight into the hash, so hashing allocates nothing.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// hash = SHA-256(prev_hash (hex) ‖ "\n" ‖ canonical content), in lower-case hex, in the
/// current form.
pub fn entry_hash(prev_hash: &str, seq: i64, r: &AuditRecord) -> String {
    entry_hash_in(CURRENT_FORM, prev_hash, seq, r).expect("the current form is known")
}

/// [`entry_hash`] in a given canonical form; `None` for an unknown form.
pub fn entry_hash_in(form: u8, prev_hash: &str, seq: i64, r: &AuditRecord) -> Option<String> {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    write_canonical(HashWriter(&mut h), form, seq, r).then(|| hex::encode(h.finalize()))
}

/// Whether `e.hash` is the hash of `e.prev_hash` and `e`'s content in the entry's own form:
/// exactly `entry_hash_in(e.form, &e.prev_hash, e.seq, &e.record) == Some(e.hash)`, the check
/// behind [`VerifyError::Altered`], without allocating (`buf` is scratch space reused across
/// calls). An unknown form never matches.
pub fn hash_matches(e: &AuditEntry, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    buf.extend_from_slice(e.prev_hash.as_bytes());
    buf.push(b'\n');
    if !write_canonical(&mut *buf, e.form, e.seq, &e.record) {
        return false;
    }
    let digest = Sha256::digest(buf.as_slice());
    let mut hex = [0u8; 64];
    hex::encode_to_slice(digest, &mut hex).is_ok() && hex[..] == *e.hash.as_bytes()
}

/// [`hash_matches`] for every entry, in order. Each entry is checked against its own stored
/// `prev_hash`, so the work can be split across threads; whether the links join up is the
/// sequential part, left to [`ChainVerifier::push_checked`].
pub fn hashes_match(entries: &[AuditEntry]) -> Vec<bool> {
    let mut buf = Vec::with_capacity(512);
    entries.iter().map(|e| hash_matches(e, &mut buf)).collect()
}

/// The hashes that [`chain`] gives `records` placed after `(last_seq, last_hash)`, without
/// taking the records: entry `last_seq + 1 + i` has hash `result[i]`, and its `prev_hash` is
/// `last_hash` for the first and `result[i - 1]` after that.
pub fn chain_hashes(last_seq: i64, last_hash: &str, records: &[AuditRecord]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(records.len());
    let mut seq = last_seq;
    for r in records {
        seq += 1;
        let prev = out.last().map_or(last_hash, String::as_str);
        let hash = entry_hash(prev, seq, r);
        out.push(hash);
    }
    out
}

/// Places records into the chain after `(last_seq, last_hash)`.
pub fn chain(last_seq: i64, last_hash: &str, records: Vec<AuditRecord>) -> Vec<AuditEntry> {
    let mut prev = last_hash.to_owned();
    let mut seq = last_seq;
    records
        .into_iter()
        .map(|record| {
            seq += 1;
            let hash = entry_hash(&prev, seq, &record);
            let e = AuditEntry {
                seq,
                record,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
                form: CURRENT_FORM,
            };
            debug_assert_eq!(e.prev_hash.len(), 64);
            e
        })
        .collect()
}

/// A signed statement that the log had entry `seq` with hash `hash` at `at_micros`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at_micros: i64,
    /// The first 16 hex digits of SHA-256 over the public key, to find the right key.
    pub key_id: String,
    /// The Ed25519 signature over `checkpoint_message`, in hex.
    pub signature: String,
}

pub fn checkpoint_message(seq: i64, hash: &str, at_micros: i64) -> Vec<u8> {
    format!("mamori-audit-checkpoint\n{seq}\n{hash}\n{at_micros}").into_bytes()
}

pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

pub fn sign_checkpoint(key: &SigningKey, seq: i64, hash: &str, at_micros: i64) -> Checkpoint {
    let sig = key.sign(&checkpoint_message(seq, hash, at_micros));
    Checkpoint {
        seq,
        hash: hash.to_owned(),
        at_micros,
        key_id: key_id(&key.verifying_key()),
        signature: hex::encode(sig.to_bytes()),
    }
}

/// The first thing in the log that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("entry {found} follows entry {previous}: entries {missing_from}..{found} are missing or reordered")]
    Gap {
        previous: i64,
        missing_from: i64,
        found: i64,
    },
    #[error("entry {seq} does not point to the hash of the entry before it (deleted, inserted or reordered entry)")]
    BrokenLink { seq: i64 },
    #[error("entry {seq} has been altered: its content does not match its hash")]
    Altered { seq: i64 },
    #[error("checkpoint at entry {seq} has an invalid signature (or was made with another key)")]
    BadSignature { seq: i64 },
    #[error("checkpoint at entry {seq} names hash {expected}, but the log has {found} there")]
    CheckpointMismatch {
        seq: i64,
        expected: String,
        found: String,
    },
    #[error("the log ends at entry {last}, but a signed checkpoint covers entry {checkpoint}: the tail was truncated")]
    Truncated { last: i64, checkpoint: i64 },
}

impl VerifyError {
    /// The first entry that does not verify.
    pub fn first_bad_seq(&self) -> i64 {
        match self {
            VerifyError::Gap { missing_from, .. } => *missing_from,
            VerifyError::BrokenLink { seq }
            | VerifyError::Altered { seq }
            | VerifyError::BadSignature { seq }
            | VerifyError::CheckpointMismatch { seq, .. } => *seq,
            VerifyError::Truncated { last, .. } => last + 1,
        }
    }
}

/// Verifies a log streamed in `seq` order, with the checkpoints that cover it.
///
/// Feed entries with [`ChainVerifier::push`]; call [`ChainVerifier::finish`] at the end. The
/// checkpoints must be sorted by `seq`.
pub struct ChainVerifier<'k> {
    key: &'k VerifyingKey,
    checkpoints: Vec<Checkpoint>,
    next_checkpoint: usize,
    last_seq: i64,
    last_hash: String,
    entries: u64,
}

impl<'k> ChainVerifier<'k> {
    /// Starts verifying from the genesis hash.
    pub fn new(key: &'k VerifyingKey, mut checkpoints: Vec<Checkpoint>) -> Self {
        checkpoints.sort_by_key(|c| c.seq);
        ChainVerifier {
            key,
            checkpoints,
            next_checkpoint: 0,
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
            entries: 0,
        }
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    pub fn push(&mut self, e: &AuditEntry) -> Result<(), VerifyError> {
        self.push_with(e, |e| {
            entry_hash_in(e.form, &e.prev_hash, e.seq, &e.record).as_deref()
                == Some(e.hash.as_str())
        })
    }

    /// Like [`ChainVerifier::push`], with the content check already done: `hash_ok` must be
    /// [`hash_matches`] of `e` (computed ahead, possibly on another thread). The checks and
    /// their order are those of `push`, so the first failure reported is the same.
    pub fn push_checked(&mut self, e: &AuditEntry, hash_ok: bool) -> Result<(), VerifyError> {
        self.push_with(e, |_| hash_ok)
    }

    fn push_with(
        &mut self,
        e: &AuditEntry,
        hash_ok: impl FnOnce(&AuditEntry) -> bool,
    ) -> Result<(), VerifyError> {
        if e.seq != self.last_seq + 1 {
            return Err(VerifyError::Gap {
                previous: self.last_seq,
                missing_from: self.last_seq + 1,
                found: e.seq,
            });
        }
        if e.prev_hash != self.last_hash {
            return Err(VerifyError::BrokenLink { seq: e.seq });
        }
        if !hash_ok(e) {
            return Err(VerifyError::Altered { seq: e.seq });
        }
        while let Some(c) = self.checkpoints.get(self.next_checkpoint) {
            if c.seq > e.seq {
                break;
            }
            // A checkpoint below this entry would have been checked already; one equal to it
            // is checked now.
            self.check(c, e)?;
            self.next_checkpoint += 1;
        }
        self.last_seq = e.seq;
        self.last_hash.clone_from(&e.hash);
        self.entries += 1;
        Ok(())
    }

    fn check(&self, c: &Checkpoint, e: &AuditEntry) -> Result<(), VerifyError> {
        let sig_ok = hex::decode(&c.signature)
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .is_some_and(|sig| {
                self.key
                    .verify(&checkpoint_message(c.seq, &c.hash, c.at_micros), &sig)
                    .is_ok()
            });
        if !sig_ok {
            return Err(VerifyError::BadSignature { seq: c.seq });
        }
        if c.seq != e.seq || c.hash != e.hash {
            return Err(VerifyError::CheckpointMismatch {
                seq: c.seq,
                expected: c.hash.clone(),
                found: if c.seq == e.seq {
                    e.hash.clone()
                } else {
                    "(no entry)".to_owned()
                },
            });
        }
        Ok(())
    }

    /// Checks what remains after the last entry: a checkpoint beyond it means truncation.
    pub fn finish(self) -> Result<VerifySummary, VerifyError> {
        if let Some(c) = self.checkpoints.get(self.next_checkpoint) {
            return Err(VerifyError::Truncated {
                last: self.last_seq,
                checkpoint: c.seq,
            });
        }
        Ok(VerifySummary {
            entries: self.entries,
            last_seq: self.last_seq,
            last_hash: self.last_hash,
            checkpoints: self.checkpoints.len(),
        })
    }
}

/// Whose entries an auditor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    /// The entries of one company (an auditor of that company).
    Company(i64),
    /// Every entry of this installation: every company of the group and the entries that
    /// belong to none (the command line, anonymous requests).
    Group,
}

impl AuditScope {
    /// The scope of an auditor of `company_id` with `roles`: an auditor who also holds the
    /// group headquarters role (グループ統括部門) audits the whole group, which is every company
    /// of this installation (one installation serves one group); any other auditor audits
    /// their own company. `None` without the auditor role.
    pub fn of(roles: &crate::role::Roles, company_id: i64) -> Option<AuditScope> {
        use crate::role::{Permission, Role};
        if !roles.allows(Permission::ReadAuditLog) {
            return None;
        }
        Some(if roles.contains(Role::GroupHq) {
            AuditScope::Group
        } else {
            AuditScope::Company(company_id)
        })
    }

    /// Whether an entry of `company` is in this scope.
    pub fn covers(self, company: Option<i64>) -> bool {
        match self {
            AuditScope::Group => true,
            AuditScope::Company(c) => company == Some(c),
        }
    }
}

/// How long the oldest entry not covered by a signed checkpoint has waited, in seconds, when
/// that is more than twice the checkpoint interval (the periodic checkpoint has stopped, so a
/// truncated tail would go unnoticed); `None` when nothing waits or it is not late.
/// `first_waiting_at` is the time of the first entry after the newest checkpoint.
pub fn checkpoint_lag_secs(
    first_waiting_at: Option<i64>,
    now_micros: i64,
    interval_secs: i64,
) -> Option<i64> {
    let waited = now_micros.saturating_sub(first_waiting_at?) / 1_000_000;
    (waited > interval_secs.saturating_mul(2)).then_some(waited)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySummary {
    pub entries: u64,
    pub last_seq: i64,
    pub last_hash: String,
    pub checkpoints: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: i64) -> AuditRecord {
        AuditRecord {
            at_micros: 1_700_000_000_000_000 + i,
            actor_id: Some(7),
            actor: "sato".into(),
            ip: "127.0.0.1".into(),
            action: "GET /audit".into(),
            target: format!("/audit?page={i}"),
            outcome: Outcome::Success,
            detail: "{}".into(),
            company_id: Some(3),
        }
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn log(n: i64) -> Vec<AuditEntry> {
        chain(0, GENESIS_HASH, (1..=n).map(rec).collect())
    }

    fn verify(entries: &[AuditEntry], cps: Vec<Checkpoint>) -> Result<VerifySummary, VerifyError> {
        let k = key();
        let vk = k.verifying_key();
        let mut v = ChainVerifier::new(&vk, cps);
        for e in entries {
            v.push(e)?;
        }
        v.finish()
    }

    fn cp(entries: &[AuditEntry], seq: i64) -> Checkpoint {
        let e = &entries[(seq - 1) as usize];
        sign_checkpoint(&key(), e.seq, &e.hash, 5)
    }

    #[test]
    fn intact_log_verifies() {
        let l = log(10);
        let s = verify(&l, vec![cp(&l, 5), cp(&l, 10)]).unwrap();
        assert_eq!(s.entries, 10);
        assert_eq!(s.last_seq, 10);
        assert_eq!(s.checkpoints, 2);
    }

    #[test]
    fn chaining_in_two_batches_equals_one() {
        let all = log(6);
        let mut first = chain(0, GENESIS_HASH, (1..=3).map(rec).collect());
        let second = chain(3, &first[2].hash.clone(), (4..=6).map(rec).collect());
        first.extend(second);
        assert_eq!(first, all);
    }

    #[test]
    fn chain_hashes_equal_chain() {
        let records: Vec<AuditRecord> = (1..=5).map(rec).collect();
        let head = log(1)[0].hash.clone();
        let entries = chain(1, &head, records.clone());
        let hashes = chain_hashes(1, &head, &records);
        assert_eq!(
            hashes,
            entries.iter().map(|e| e.hash.clone()).collect::<Vec<_>>()
        );
        assert!(chain_hashes(0, GENESIS_HASH, &[]).is_empty());
    }

    #[test]
    fn edited_entry_is_named() {
        let mut l = log(10);
        l[3].record.outcome = Outcome::Denied;
        assert_eq!(verify(&l, vec![]), Err(VerifyError::Altered { seq: 4 }));
    }

    #[test]
    fn edited_and_rehashed_entry_breaks_the_next_link() {
        let mut l = log(10);
        l[3].record.actor = "attacker".into();
        l[3].hash = entry_hash(&l[3].prev_hash, 4, &l[3].record);
        assert_eq!(verify(&l, vec![]), Err(VerifyError::BrokenLink { seq: 5 }));
    }

    #[test]
    fn deleted_middle_entry_is_a_gap() {
        let mut l = log(10);
        l.remove(4);
        let err = verify(&l, vec![]).unwrap_err();
        assert_eq!(err.first_bad_seq(), 5);
        assert!(matches!(err, VerifyError::Gap { found: 6, .. }));
    }

    #[test]
    fn deleted_and_renumbered_entry_breaks_the_link() {
        let mut l = log(10);
        l.remove(4);
        for e in &mut l[4..] {
            e.seq -= 1;
        }
        assert_eq!(verify(&l, vec![]), Err(VerifyError::BrokenLink { seq: 5 }));
    }

    #[test]
    fn reordered_entries_are_detected() {
        let mut l = log(10);
        l.swap(2, 3);
        let (a, b) = (l[2].seq, l[3].seq);
        l[2].seq = b;
        l[3].seq = a;
        assert_eq!(verify(&l, vec![]), Err(VerifyError::BrokenLink { seq: 3 }));
    }

    #[test]
    fn truncated_tail_covered_by_checkpoint() {
        let l = log(10);
        let cps = vec![cp(&l, 5), cp(&l, 8)];
        let err = verify(&l[..7], cps).unwrap_err();
        assert_eq!(
            err,
            VerifyError::Truncated {
                last: 7,
                checkpoint: 8
            }
        );
        assert_eq!(err.first_bad_seq(), 8);
    }

    #[test]
    fn truncation_beyond_last_checkpoint_is_not_provable() {
        let l = log(10);
        assert!(verify(&l[..9], vec![cp(&l, 8)]).is_ok());
    }

    #[test]
    fn forged_checkpoint_signature_is_refused() {
        let l = log(10);
        let mut c = cp(&l, 5);
        c.at_micros += 1;
        assert_eq!(
            verify(&l, vec![c]),
            Err(VerifyError::BadSignature { seq: 5 })
        );
        let other = SigningKey::from_bytes(&[9u8; 32]);
        let c = sign_checkpoint(&other, 5, &l[4].hash, 5);
        assert_eq!(
            verify(&l, vec![c]),
            Err(VerifyError::BadSignature { seq: 5 })
        );
    }

    #[test]
    fn rewritten_log_does_not_match_checkpoint() {
        let l = log(10);
        let c = cp(&l, 5);
        // Somebody rebuilds the whole chain from entry 3 with other content.
        let mut forged = l[..2].to_vec();
        let mut r = rec(3);
        r.actor = "attacker".into();
        forged.extend(chain(2, &l[1].hash, vec![r, rec(4), rec(5)]));
        let err = verify(&forged, vec![c]).unwrap_err();
        assert!(matches!(
            err,
            VerifyError::CheckpointMismatch { seq: 5, .. }
        ));
    }

    /// The same log verified with `push` and with precomputed checks through `push_checked`.
    fn both_ways(entries: &[AuditEntry], cps: &[Checkpoint]) {
        let k = key();
        let vk = k.verifying_key();
        let flags = hashes_match(entries);
        let mut v = ChainVerifier::new(&vk, cps.to_vec());
        let mut fast = Ok(());
        for (e, ok) in entries.iter().zip(flags) {
            fast = v.push_checked(e, ok);
            if fast.is_err() {
                break;
            }
        }
        let fast = fast.and_then(|()| v.finish());
        assert_eq!(fast, verify(entries, cps.to_vec()));
    }

    #[test]
    fn precomputed_checks_report_the_same_first_failure() {
        let l = log(12);
        let cps = vec![cp(&l, 4), cp(&l, 9)];
        both_ways(&l, &cps);
        both_ways(&l[..8], &cps);
        let mut t = l.clone();
        t[3].record.detail = "{\"x\":1}".into();
        t[7].record.outcome = Outcome::Error;
        both_ways(&t, &cps);
        let mut t = l.clone();
        t[5].hash = t[5].hash.to_uppercase();
        both_ways(&t, &[]);
        let mut t = l.clone();
        t[2].record.actor = "attacker".into();
        t[2].hash = entry_hash(&t[2].prev_hash, 3, &t[2].record);
        both_ways(&t, &cps);
        let mut t = l.clone();
        t.remove(6);
        both_ways(&t, &cps);
        let mut t = l.clone();
        t[1].prev_hash = GENESIS_HASH.into();
        both_ways(&t, &[]);
        let mut t = l.clone();
        t[10].hash.pop();
        both_ways(&t, &cps);
    }

    #[test]
    fn hash_matches_agrees_with_entry_hash() {
        let mut l = log(5);
        l[1].record.target = "a\"b\\c\n日本".into();
        l[2].record.actor_id = None;
        l[3].hash = "x".into();
        let mut buf = Vec::new();
        for e in &l {
            let expected = entry_hash(&e.prev_hash, e.seq, &e.record) == e.hash;
            assert_eq!(hash_matches(e, &mut buf), expected);
        }
        assert_eq!(hashes_match(&l), vec![true, false, false, false, true]);
        assert!(hashes_match(&log(3)).into_iter().all(|ok| ok));
    }

    #[test]
    fn canonical_form_escapes_text() {
        let mut r = rec(1);
        r.target = "a\"b\nc".into();
        let c = String::from_utf8(canonical(1, &r)).unwrap();
        assert!(c.contains(r#""a\"b\nc""#));
    }

    /// The first release's canonical content, byte for byte: entries written by it must keep
    /// verifying after the upgrade.
    #[test]
    fn form_1_is_the_first_release_content() {
        let r = rec(1);
        let mut out = Vec::new();
        assert!(write_canonical(&mut out, FORM_1, 1, &r));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"[1,1700000000000001,7,"sato","127.0.0.1","GET /audit","/audit?page=1","success","{}"]"#
        );
        let c = String::from_utf8(canonical(1, &r)).unwrap();
        assert!(c.ends_with(r#""{}",3]"#), "{c}");
    }

    /// A log written in form 1 and continued in form 2 verifies; the company is covered by the
    /// hash of a form-2 entry only, and neither the form nor the company can be changed.
    #[test]
    fn old_form_entries_verify_beside_new_ones() {
        let mut old = Vec::new();
        let mut prev = GENESIS_HASH.to_owned();
        for seq in 1..=3 {
            let mut record = rec(seq);
            record.company_id = None;
            let hash = entry_hash_in(FORM_1, &prev, seq, &record).unwrap();
            old.push(AuditEntry {
                seq,
                record,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
                form: FORM_1,
            });
        }
        let mut l = old.clone();
        l.extend(chain(3, &prev, (4..=6).map(rec).collect()));
        let cps = vec![cp(&l, 2), cp(&l, 6)];
        assert!(verify(&l, cps.clone()).is_ok());
        both_ways(&l, &cps);
        // The backfilled company of an old entry is not covered by its hash.
        let mut t = l.clone();
        t[1].record.company_id = Some(3);
        assert!(verify(&t, cps.clone()).is_ok());
        // A new entry's company is.
        let mut t = l.clone();
        t[4].record.company_id = Some(4);
        assert_eq!(
            verify(&t, cps.clone()),
            Err(VerifyError::Altered { seq: 5 })
        );
        both_ways(&t, &cps);
        for form in [FORM_1, 9] {
            let mut t = l.clone();
            t[4].form = form;
            assert_eq!(verify(&t, vec![]), Err(VerifyError::Altered { seq: 5 }));
            both_ways(&t, &[]);
        }
        let mut t = l.clone();
        t[0].form = CURRENT_FORM;
        assert_eq!(verify(&t, vec![]), Err(VerifyError::Altered { seq: 1 }));
    }

    #[test]
    fn audit_scope_follows_the_roles() {
        use crate::role::{Role, Roles};
        let auditor = Roles::new(vec![Role::Auditor]);
        assert_eq!(AuditScope::of(&auditor, 4), Some(AuditScope::Company(4)));
        let group = Roles::new(vec![Role::Auditor, Role::GroupHq]);
        assert_eq!(AuditScope::of(&group, 4), Some(AuditScope::Group));
        assert_eq!(AuditScope::of(&Roles::new(vec![Role::GroupHq]), 4), None);
        assert!(AuditScope::Company(4).covers(Some(4)));
        assert!(!AuditScope::Company(4).covers(Some(5)));
        assert!(!AuditScope::Company(4).covers(None));
        assert!(AuditScope::Group.covers(None));
    }

    #[test]
    fn checkpoint_lag_counts_from_the_first_waiting_entry() {
        let s = 1_000_000;
        assert_eq!(checkpoint_lag_secs(None, 1000 * s, 60), None);
        assert_eq!(checkpoint_lag_secs(Some(900 * s), 1000 * s, 60), None);
        assert_eq!(checkpoint_lag_secs(Some(880 * s), 1000 * s, 60), None);
        assert_eq!(checkpoint_lag_secs(Some(879 * s), 1000 * s, 60), Some(121));
    }
}

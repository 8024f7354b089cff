//! The vault's keys and cryptography: master keys behind a provider interface, per-person data
//! keys (DEKs) wrapped by a master key version, fields sealed with the DEK, and blind-index
//! digests keyed from the index root.
//!
//! - A DEK is 32 random bytes. It is stored only wrapped: XChaCha20-Poly1305 under the master
//!   key of a version, with the record id as associated data, so a wrapped key copied onto
//!   another record does not open.
//! - Every field of a record is sealed with the DEK in one message (XChaCha20-Poly1305, random
//!   192-bit nonce, associated data = dataset id and record id): `v3.` then base64 of nonce ‖
//!   ciphertext of (per field: its stable id u32, tag 0 absent / 1 value / 2 scrubbed, u32
//!   length, bytes). The old format 2 (bare base64 of `2` ‖ nonce ‖ ciphertext, associated data
//!   = record id and the field names of the schema of the day) is still read, and re-sealed as
//!   format 3 by `App::reseal_records`.
//!   One AEAD per record rather than per field: for values of a few bytes the MAC set-up was
//!   most of the import's time, and one tag over the whole record also stops fields being
//!   swapped between records.
//! - A blind-index digest is HMAC-SHA256 over the normalised term under a key derived from the
//!   index root by HMAC-SHA256 with the dataset id and the class as the label, truncated to 128
//!   bits. Equal values in two datasets or two classes give different digests.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use mamori_domain::vault::normalize::IndexClass;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroize;

type HmacSha256 = Hmac<Sha256>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

#[derive(Debug, thiserror::Error)]
pub enum VaultKeyError {
    #[error("vault master key version {version} is not available from {source_name}")]
    Missing { version: u32, source_name: String },
    #[error("vault key file {0}: not 64 hex digits")]
    Invalid(PathBuf),
    #[error("vault key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
    #[error("this key provider ({0}) cannot make new keys: add the new version there and run the command again")]
    CannotCreate(String),
    #[error(
        "a data key could not be unwrapped (wrong master key version, or the value was altered)"
    )]
    Unwrap,
    #[error("the record holds a field (id {0}) its dataset's schema does not declare")]
    UnknownField(u32),
}

/// Where master keys live. The file provider is the default; a KMS would implement the same
/// calls (its `wrap`/`unwrap` going over the network, `create` asking the KMS for a new key).
pub trait KeyProvider: Send + Sync {
    /// Says where keys come from, for messages (`key directory mamori-data/keys`).
    fn describe(&self) -> String;
    /// The master key versions this provider holds.
    fn versions(&self) -> Vec<u32>;
    fn wrap(&self, version: u32, dek: &[u8; 32], aad: &[u8]) -> Result<Vec<u8>, VaultKeyError>;
    fn unwrap(&self, version: u32, wrapped: &[u8], aad: &[u8]) -> Result<[u8; 32], VaultKeyError>;
    /// A value that proves a version's key is the one registered (HMAC of a constant).
    fn check_value(&self, version: u32) -> Result<String, VaultKeyError>;
    /// Makes a new master key version.
    fn create(&self, version: u32) -> Result<(), VaultKeyError>;
    /// The blind-index root key, or `None` if there is none yet.
    fn index_root(&self) -> Option<[u8; 32]>;
    fn create_index_root(&self) -> Result<(), VaultKeyError>;
}

fn aead_seal(key: &[u8; 32], plain: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .expect("XChaCha20-Poly1305 encryption does not fail for inputs under 256 GiB");
    let mut out = Vec::with_capacity(24 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend(ct);
    out
}

fn aead_open(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 24 + 16 {
        return None;
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(
            XNonce::from_slice(&sealed[..24]),
            Payload {
                msg: &sealed[24..],
                aad,
            },
        )
        .ok()
}

fn check_of(key: &[u8; 32], version: u32) -> String {
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).expect("any key length");
    m.update(format!("mamori vault key check v{version}").as_bytes());
    hex::encode(&m.finalize().into_bytes()[..16])
}

/// Master keys held in memory (loaded from files or the environment).
struct KeyMap(BTreeMap<u32, SecretBox<[u8; 32]>>);

impl KeyMap {
    fn get(&self, version: u32, describe: &str) -> Result<&[u8; 32], VaultKeyError> {
        self.0
            .get(&version)
            .map(ExposeSecret::expose_secret)
            .ok_or_else(|| VaultKeyError::Missing {
                version,
                source_name: describe.to_owned(),
            })
    }
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s.trim()).ok()?.try_into().ok()
}

/// Keys in files of the key directory: `vault-master-v{N}.key` and `vault-index.key` (64 hex
/// digits, mode 0600), created by mamori and never overwritten.
pub struct FileKeyProvider {
    dir: PathBuf,
    keys: std::sync::RwLock<KeyMap>,
    index: std::sync::RwLock<Option<SecretBox<[u8; 32]>>>,
}

impl FileKeyProvider {
    pub fn load(dir: &Path) -> Result<FileKeyProvider, VaultKeyError> {
        let mut keys = BTreeMap::new();
        let mut index = None;
        if dir.exists() {
            let entries = std::fs::read_dir(dir).map_err(|source| VaultKeyError::Io {
                path: dir.to_owned(),
                source,
            })?;
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let read = |p: &Path| -> Result<[u8; 32], VaultKeyError> {
                    let text = std::fs::read_to_string(p).map_err(|source| VaultKeyError::Io {
                        path: p.to_owned(),
                        source,
                    })?;
                    parse_hex32(&text).ok_or_else(|| VaultKeyError::Invalid(p.to_owned()))
                };
                if let Some(v) = name
                    .strip_prefix("vault-master-v")
                    .and_then(|r| r.strip_suffix(".key"))
                    .and_then(|n| n.parse::<u32>().ok())
                {
                    keys.insert(v, SecretBox::new(Box::new(read(&e.path())?)));
                } else if name == "vault-index.key" {
                    index = Some(SecretBox::new(Box::new(read(&e.path())?)));
                }
            }
        }
        Ok(FileKeyProvider {
            dir: dir.to_owned(),
            keys: std::sync::RwLock::new(KeyMap(keys)),
            index: std::sync::RwLock::new(index),
        })
    }

    fn write_new(&self, name: &str) -> Result<[u8; 32], VaultKeyError> {
        use std::io::Write;
        let path = self.dir.join(name);
        let io = |source| VaultKeyError::Io {
            path: path.clone(),
            source,
        };
        mamori_store::create_private_dir(&self.dir).map_err(io)?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&path).map_err(io)?;
        let mut text = hex::encode(key);
        text.push('\n');
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        text.zeroize();
        Ok(key)
    }
}

impl KeyProvider for FileKeyProvider {
    fn describe(&self) -> String {
        format!("the key directory {}", self.dir.display())
    }

    fn versions(&self) -> Vec<u32> {
        self.keys
            .read()
            .expect("key lock")
            .0
            .keys()
            .copied()
            .collect()
    }

    fn wrap(&self, version: u32, dek: &[u8; 32], aad: &[u8]) -> Result<Vec<u8>, VaultKeyError> {
        let keys = self.keys.read().expect("key lock");
        Ok(aead_seal(keys.get(version, &self.describe())?, dek, aad))
    }

    fn unwrap(&self, version: u32, wrapped: &[u8], aad: &[u8]) -> Result<[u8; 32], VaultKeyError> {
        let keys = self.keys.read().expect("key lock");
        let plain = aead_open(keys.get(version, &self.describe())?, wrapped, aad)
            .ok_or(VaultKeyError::Unwrap)?;
        plain.try_into().map_err(|_| VaultKeyError::Unwrap)
    }

    fn check_value(&self, version: u32) -> Result<String, VaultKeyError> {
        let keys = self.keys.read().expect("key lock");
        Ok(check_of(keys.get(version, &self.describe())?, version))
    }

    fn create(&self, version: u32) -> Result<(), VaultKeyError> {
        let key = self.write_new(&format!("vault-master-v{version}.key"))?;
        self.keys
            .write()
            .expect("key lock")
            .0
            .insert(version, SecretBox::new(Box::new(key)));
        Ok(())
    }

    fn index_root(&self) -> Option<[u8; 32]> {
        self.index
            .read()
            .expect("key lock")
            .as_ref()
            .map(|k| *k.expose_secret())
    }

    fn create_index_root(&self) -> Result<(), VaultKeyError> {
        let key = self.write_new("vault-index.key")?;
        *self.index.write().expect("key lock") = Some(SecretBox::new(Box::new(key)));
        Ok(())
    }
}

/// Keys from the environment: `MAMORI_VAULT_KEYS=1:hex,2:hex` and `MAMORI_VAULT_INDEX_KEY=hex`
/// (for deployments that inject secrets). It cannot create keys.
pub struct EnvKeyProvider {
    keys: KeyMap,
    index: Option<SecretBox<[u8; 32]>>,
}

impl EnvKeyProvider {
    pub fn parse(keys: &str, index: Option<&str>) -> Result<EnvKeyProvider, VaultKeyError> {
        let mut map = BTreeMap::new();
        for part in keys.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (v, hexkey) = part.split_once(':').ok_or_else(|| {
                VaultKeyError::Config("MAMORI_VAULT_KEYS: write VERSION:HEX, e.g. 1:<64 hex digits>,2:<64 hex digits>".into())
            })?;
            let v: u32 = v.trim().parse().map_err(|_| {
                VaultKeyError::Config(format!(
                    "MAMORI_VAULT_KEYS: `{}` is not a version number",
                    v.trim()
                ))
            })?;
            let k = parse_hex32(hexkey).ok_or_else(|| {
                VaultKeyError::Config(format!(
                    "MAMORI_VAULT_KEYS: the key of version {v} is not 64 hex digits"
                ))
            })?;
            map.insert(v, SecretBox::new(Box::new(k)));
        }
        let index = match index {
            Some(h) => Some(SecretBox::new(Box::new(parse_hex32(h).ok_or_else(
                || VaultKeyError::Config("MAMORI_VAULT_INDEX_KEY is not 64 hex digits".into()),
            )?))),
            None => None,
        };
        Ok(EnvKeyProvider {
            keys: KeyMap(map),
            index,
        })
    }
}

impl KeyProvider for EnvKeyProvider {
    fn describe(&self) -> String {
        "MAMORI_VAULT_KEYS".into()
    }
    fn versions(&self) -> Vec<u32> {
        self.keys.0.keys().copied().collect()
    }
    fn wrap(&self, version: u32, dek: &[u8; 32], aad: &[u8]) -> Result<Vec<u8>, VaultKeyError> {
        Ok(aead_seal(
            self.keys.get(version, &self.describe())?,
            dek,
            aad,
        ))
    }
    fn unwrap(&self, version: u32, wrapped: &[u8], aad: &[u8]) -> Result<[u8; 32], VaultKeyError> {
        let plain = aead_open(self.keys.get(version, &self.describe())?, wrapped, aad)
            .ok_or(VaultKeyError::Unwrap)?;
        plain.try_into().map_err(|_| VaultKeyError::Unwrap)
    }
    fn check_value(&self, version: u32) -> Result<String, VaultKeyError> {
        Ok(check_of(self.keys.get(version, &self.describe())?, version))
    }
    fn create(&self, _version: u32) -> Result<(), VaultKeyError> {
        Err(VaultKeyError::CannotCreate(self.describe()))
    }
    fn index_root(&self) -> Option<[u8; 32]> {
        self.index.as_ref().map(|k| *k.expose_secret())
    }
    fn create_index_root(&self) -> Result<(), VaultKeyError> {
        Err(VaultKeyError::CannotCreate("MAMORI_VAULT_INDEX_KEY".into()))
    }
}

/// The check value of the index root, kept in the settings table.
pub fn index_check(root: &[u8; 32]) -> String {
    check_of(root, 0)
}

/// The blind-index keys of one dataset, prepared once (keying HMAC is half its cost).
#[derive(Clone)]
pub struct IndexKeys {
    macs: [HmacSha256; 5],
}

impl IndexKeys {
    pub fn derive(root: &[u8; 32], dataset_id: i64) -> IndexKeys {
        let mac_for = |class: IndexClass| {
            let mut m = <HmacSha256 as Mac>::new_from_slice(root).expect("any key length");
            m.update(format!("mamori-bidx\0{dataset_id}\0{}", class.code()).as_bytes());
            let key = m.finalize().into_bytes();
            <HmacSha256 as Mac>::new_from_slice(&key).expect("any key length")
        };
        IndexKeys {
            macs: IndexClass::ALL.map(mac_for),
        }
    }

    /// The digest of a normalised term: the first 64 bits of the HMAC, as an integer (a
    /// lookup confirms each hit against the opened value, so a rare collision never shows the
    /// wrong person).
    pub fn digest(&self, class: IndexClass, term: &str) -> i64 {
        let i = IndexClass::ALL
            .iter()
            .position(|c| *c == class)
            .expect("every class has a key");
        let mut m = self.macs[i].clone();
        m.update(term.as_bytes());
        let bytes = m.finalize().into_bytes();
        i64::from_le_bytes(bytes[..8].try_into().expect("32-byte HMAC"))
    }
}

/// A record's data key, in memory only while it is used.
pub struct Dek(SecretBox<[u8; 32]>);

impl Dek {
    pub fn generate() -> Dek {
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        Dek(SecretBox::new(Box::new(k)))
    }

    pub fn key(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// A key unwrapped by a provider (evidence files wrap their own keys).
    pub fn from_key(k: [u8; 32]) -> Dek {
        Dek(SecretBox::new(Box::new(k)))
    }
}

fn dek_aad(record_id: i64) -> String {
    format!("mamori-dek:{record_id}")
}

pub fn wrap_dek(
    p: &dyn KeyProvider,
    version: u32,
    dek: &Dek,
    record_id: i64,
) -> Result<String, VaultKeyError> {
    Ok(B64.encode(p.wrap(version, dek.key(), dek_aad(record_id).as_bytes())?))
}

pub fn unwrap_dek(
    p: &dyn KeyProvider,
    version: u32,
    wrapped: &str,
    record_id: i64,
) -> Result<Dek, VaultKeyError> {
    let bytes = B64.decode(wrapped).map_err(|_| VaultKeyError::Unwrap)?;
    let k = p.unwrap(version, &bytes, dek_aad(record_id).as_bytes())?;
    Ok(Dek(SecretBox::new(Box::new(k))))
}

/// Seals a small blob that is not a vault record (an unmatched person's contact data, issue
/// 14) under a fresh data key wrapped by master key `version`; `label` (its place, e.g. the
/// incident and the person's key) is bound as associated data. Text: `b1.{version}.{wrapped}.{sealed}`.
pub fn seal_blob(
    p: &dyn KeyProvider,
    version: u32,
    label: &str,
    plain: &[u8],
) -> Result<String, VaultKeyError> {
    let dek = Dek::generate();
    let aad = format!("mamori-blob:{label}");
    let wrapped = p.wrap(version, dek.key(), aad.as_bytes())?;
    let sealed = aead_seal(dek.key(), plain, aad.as_bytes());
    Ok(format!(
        "b1.{version}.{}.{}",
        B64.encode(wrapped),
        B64.encode(sealed)
    ))
}

/// Opens a blob sealed by [`seal_blob`] under the same `label`.
pub fn open_blob(p: &dyn KeyProvider, label: &str, text: &str) -> Result<Vec<u8>, VaultKeyError> {
    let mut parts = text.split('.');
    let (Some("b1"), Some(version), Some(wrapped), Some(sealed), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(VaultKeyError::Unwrap);
    };
    let version: u32 = version.parse().map_err(|_| VaultKeyError::Unwrap)?;
    let aad = format!("mamori-blob:{label}");
    let wrapped = B64.decode(wrapped).map_err(|_| VaultKeyError::Unwrap)?;
    let key = p.unwrap(version, &wrapped, aad.as_bytes())?;
    let sealed = B64.decode(sealed).map_err(|_| VaultKeyError::Unwrap)?;
    aead_open(&key, &sealed, aad.as_bytes()).ok_or(VaultKeyError::Unwrap)
}

/// What one field of a record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    Absent,
    Scrubbed,
    Value(String),
}

/// Where a record's fields are: the dataset, and the stable ids and names of the schema's fields
/// in schema order. Made once per schema (`Layout::of`) and used for every record sealed or
/// opened under it.
#[derive(Debug, Clone, Copy)]
pub struct Layout<'a> {
    pub dataset_id: i64,
    pub schema: &'a mamori_domain::vault::Schema,
}

impl<'a> Layout<'a> {
    pub fn of(dataset_id: i64, schema: &'a mamori_domain::vault::Schema) -> Layout<'a> {
        Layout { dataset_id, schema }
    }

    fn len(&self) -> usize {
        self.schema.fields.len()
    }
}

/// The text prefix of the current sealed format (base64 has no `.`, so it cannot be confused
/// with the format-2 text, which is bare base64).
const V3: &str = "v3.";

/// Whether a sealed value is in the current format (the re-seal walks the others).
pub fn is_current_format(sealed: &str) -> bool {
    sealed.starts_with(V3)
}

/// Format 3's associated data: the dataset and the record. Nothing that changes when the schema
/// grows: each value is stored under its field's stable id inside the sealed message, so the
/// binding of value to field is authenticated by the one tag.
fn record_aad_v3(dataset_id: i64, record_id: i64) -> [u8; 32] {
    let mut aad = [0u8; 32];
    aad[..16].copy_from_slice(b"mamori-record:v3");
    aad[16..24].copy_from_slice(&dataset_id.to_le_bytes());
    aad[24..].copy_from_slice(&record_id.to_le_bytes());
    aad
}

/// Format 2's associated data: the record id and the field names of the schema *at the time the
/// record was sealed* (which is what made a grown schema lock records away). Read only.
fn record_aad_v2<'a>(record_id: i64, names: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut aad = format!("mamori-record:{record_id}").into_bytes();
    for n in names {
        aad.push(0);
        aad.extend_from_slice(n.as_bytes());
    }
    aad
}

/// Seals every field of a record (in schema order) with its data key, as one message: per
/// field its stable id (u32), a tag (0 absent, 1 value, 2 scrubbed) and for a value a u32
/// length and its bytes. One AEAD per record instead of one per field: for values of a few
/// bytes the Poly1305 set-up dominated, and one tag over the record stops values being swapped
/// between fields or records.
pub fn seal_fields(dek: &Dek, layout: &Layout, record_id: i64, fields: &[Opened]) -> String {
    debug_assert_eq!(fields.len(), layout.len());
    let mut plain = Vec::with_capacity(fields.len() * 28);
    for (f, spec) in fields.iter().zip(&layout.schema.fields) {
        plain.extend_from_slice(&spec.id.to_le_bytes());
        match f {
            Opened::Absent => plain.push(0),
            Opened::Scrubbed => plain.push(2),
            Opened::Value(v) => {
                plain.push(1);
                plain.extend_from_slice(&(v.len() as u32).to_le_bytes());
                plain.extend_from_slice(v.as_bytes());
            }
        }
    }
    let sealed = aead_seal(
        dek.key(),
        &plain,
        &record_aad_v3(layout.dataset_id, record_id),
    );
    plain.zeroize();
    let mut out = String::with_capacity(V3.len() + sealed.len() * 4 / 3 + 4);
    out.push_str(V3);
    B64.encode_string(&sealed, &mut out);
    out
}

/// Seals checked values (`None`: absent).
pub fn seal_record(
    dek: &Dek,
    layout: &Layout,
    record_id: i64,
    values: &[Option<String>],
) -> String {
    let fields: Vec<Opened> = values
        .iter()
        .map(|v| v.clone().map_or(Opened::Absent, Opened::Value))
        .collect();
    seal_fields(dek, layout, record_id, &fields)
}

/// Seals in the old format 2 (bound to the field names of `names`). Kept only so that the
/// upgrade of stored records can be tested on records written the old way.
#[doc(hidden)]
pub fn seal_fields_v2(dek: &Dek, record_id: i64, names: &[&str], fields: &[Opened]) -> String {
    let mut plain = Vec::new();
    for f in fields {
        push_v2(&mut plain, f);
    }
    let mut out = vec![2u8];
    out.extend(aead_seal(
        dek.key(),
        &plain,
        &record_aad_v2(record_id, names.iter().copied()),
    ));
    plain.zeroize();
    B64.encode(out)
}

fn push_v2(plain: &mut Vec<u8>, f: &Opened) {
    match f {
        Opened::Absent => plain.push(0),
        Opened::Scrubbed => plain.push(2),
        Opened::Value(v) => {
            plain.push(1);
            plain.extend_from_slice(&(v.len() as u32).to_le_bytes());
            plain.extend_from_slice(v.as_bytes());
        }
    }
}

/// Reads one field's tag and value.
fn read_field(p: &mut &[u8]) -> Result<Opened, VaultKeyError> {
    let (&tag, r) = p.split_first().ok_or(VaultKeyError::Unwrap)?;
    *p = r;
    Ok(match tag {
        0 => Opened::Absent,
        2 => Opened::Scrubbed,
        1 if p.len() >= 4 => {
            let n = u32::from_le_bytes(p[..4].try_into().expect("4 bytes")) as usize;
            let v = p.get(4..4 + n).ok_or(VaultKeyError::Unwrap)?;
            let v = String::from_utf8(v.to_vec()).map_err(|_| VaultKeyError::Unwrap)?;
            *p = &p[4 + n..];
            Opened::Value(v)
        }
        _ => return Err(VaultKeyError::Unwrap),
    })
}

/// Opens the fields of a record, in the order of `layout` (fields declared after the record was
/// sealed are absent). Reads format 3 and the old format 2 — whose names were those of the
/// schema when it was sealed, always a prefix of today's, since fields could only be added at
/// the end; the longest prefix is tried first. Anything that does not open is an error for the
/// whole record (reported, never skipped).
pub fn open_record(
    dek: &Dek,
    layout: &Layout,
    record_id: i64,
    sealed: &str,
) -> Result<Vec<Opened>, VaultKeyError> {
    if let Some(text) = sealed.strip_prefix(V3) {
        let bytes = B64.decode(text).map_err(|_| VaultKeyError::Unwrap)?;
        let mut plain = aead_open(
            dek.key(),
            &bytes,
            &record_aad_v3(layout.dataset_id, record_id),
        )
        .ok_or(VaultKeyError::Unwrap)?;
        let mut out = vec![Opened::Absent; layout.len()];
        let mut p = &plain[..];
        let result = (|| {
            while p.len() >= 4 {
                let id = u32::from_le_bytes(p[..4].try_into().expect("4 bytes"));
                p = &p[4..];
                let f = read_field(&mut p)?;
                // A field the schema does not declare (cannot happen while fields are never
                // removed from a schema with records) is an error, never dropped silently.
                let i = layout
                    .schema
                    .position_of_id(id)
                    .ok_or(VaultKeyError::UnknownField(id))?;
                out[i] = f;
            }
            if p.is_empty() {
                Ok(())
            } else {
                Err(VaultKeyError::Unwrap)
            }
        })();
        plain.zeroize();
        result?;
        return Ok(out);
    }
    let bytes = B64.decode(sealed).map_err(|_| VaultKeyError::Unwrap)?;
    let (&version, rest) = bytes.split_first().ok_or(VaultKeyError::Unwrap)?;
    if version != 2 {
        return Err(VaultKeyError::Unwrap);
    }
    let names = || layout.schema.fields.iter().map(|f| f.name.as_str());
    for k in (1..=layout.len()).rev() {
        let aad = record_aad_v2(record_id, names().take(k));
        let Some(mut plain) = aead_open(dek.key(), rest, &aad) else {
            continue;
        };
        let mut out = Vec::with_capacity(layout.len());
        let mut p = &plain[..];
        let mut result = Ok(());
        while !p.is_empty() {
            match read_field(&mut p) {
                Ok(f) => out.push(f),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        plain.zeroize();
        result?;
        out.resize(layout.len(), Opened::Absent);
        return Ok(out);
    }
    Err(VaultKeyError::Unwrap)
}

/// The provider a deployment configured: `MAMORI_VAULT_KEYS` (and `MAMORI_VAULT_INDEX_KEY`) when
/// set, otherwise the key files of `dir`.
pub fn configured_provider(dir: &Path) -> Result<std::sync::Arc<dyn KeyProvider>, VaultKeyError> {
    match std::env::var("MAMORI_VAULT_KEYS") {
        Ok(keys) if !keys.trim().is_empty() => Ok(std::sync::Arc::new(EnvKeyProvider::parse(
            &keys,
            std::env::var("MAMORI_VAULT_INDEX_KEY").ok().as_deref(),
        )?)),
        _ => Ok(std::sync::Arc::new(FileKeyProvider::load(dir)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_the_bindings() {
        let dir = mamori_store::testing::temp_dir("vaultkeys");
        let p = FileKeyProvider::load(&dir).unwrap();
        assert!(p.versions().is_empty());
        p.create(1).unwrap();
        assert!(p.create(1).is_err(), "never overwritten");
        let dek = Dek::generate();
        let wrapped = wrap_dek(&p, 1, &dek, 42).unwrap();
        assert_eq!(unwrap_dek(&p, 1, &wrapped, 42).unwrap().key(), dek.key());
        assert!(
            unwrap_dek(&p, 1, &wrapped, 43).is_err(),
            "bound to its record"
        );
        let schema =
            mamori_domain::vault::Schema::parse("name:name, email:email, phone:phone").unwrap();
        let layout = Layout::of(7, &schema);
        let values = [
            Some("山田 太郎".to_owned()),
            None,
            Some("090-1234-5678".to_owned()),
        ];
        let sealed = seal_record(&dek, &layout, 42, &values);
        assert!(!sealed.contains("山田"));
        assert!(is_current_format(&sealed));
        let opened = open_record(&dek, &layout, 42, &sealed).unwrap();
        assert_eq!(opened[0], Opened::Value("山田 太郎".into()));
        assert_eq!(opened[1], Opened::Absent);
        assert!(
            open_record(&dek, &layout, 41, &sealed).is_err(),
            "bound to its record"
        );
        let elsewhere = Layout::of(8, &schema);
        assert!(
            open_record(&dek, &elsewhere, 42, &sealed).is_err(),
            "bound to its dataset"
        );
        let other = Dek::generate();
        assert!(open_record(&other, &layout, 42, &sealed).is_err());
        // The schema grows: the record opens, the new field is absent.
        let grown = mamori_domain::vault::Schema::parse(
            "name:name, email:email, phone:phone, zip:postal_code",
        )
        .unwrap()
        .evolve(&schema, true)
        .unwrap();
        let opened = open_record(&dek, &Layout::of(7, &grown), 42, &sealed).unwrap();
        assert_eq!(opened.len(), 4);
        assert_eq!(opened[2], Opened::Value("090-1234-5678".into()));
        assert_eq!(opened[3], Opened::Absent);
        // A field id the schema does not know is an error, not a silent drop.
        let fewer = mamori_domain::vault::Schema::parse("name:name, email:email").unwrap();
        assert!(matches!(
            open_record(&dek, &Layout::of(7, &fewer), 42, &sealed),
            Err(VaultKeyError::UnknownField(3))
        ));
        // Format 2, sealed under the names of its day, opens under the grown schema.
        let fields: Vec<Opened> = values
            .iter()
            .map(|v| v.clone().map_or(Opened::Absent, Opened::Value))
            .collect();
        let old = seal_fields_v2(&dek, 42, &["name", "email", "phone"], &fields);
        assert!(!is_current_format(&old));
        let opened = open_record(&dek, &Layout::of(7, &grown), 42, &old).unwrap();
        assert_eq!(opened[0], Opened::Value("山田 太郎".into()));
        assert_eq!(opened[3], Opened::Absent);
        assert!(open_record(&dek, &Layout::of(7, &grown), 43, &old).is_err());
        // A second provider on the same directory sees the same key; a different key does not
        // match the check value.
        let again = FileKeyProvider::load(&dir).unwrap();
        assert_eq!(again.check_value(1).unwrap(), p.check_value(1).unwrap());
        let env = EnvKeyProvider::parse(&format!("1:{}", "ab".repeat(32)), None).unwrap();
        assert_ne!(env.check_value(1).unwrap(), p.check_value(1).unwrap());
        assert!(EnvKeyProvider::parse("1:xyz", None).is_err());
        // Digests differ per dataset and per class.
        let root = [7u8; 32];
        let a = IndexKeys::derive(&root, 1);
        let b = IndexKeys::derive(&root, 2);
        assert_ne!(
            a.digest(IndexClass::Email, "x@y.jp"),
            b.digest(IndexClass::Email, "x@y.jp")
        );
        assert_ne!(
            a.digest(IndexClass::Email, "x@y.jp"),
            a.digest(IndexClass::Name, "x@y.jp")
        );
        assert_eq!(
            a.digest(IndexClass::Email, "x@y.jp"),
            a.clone().digest(IndexClass::Email, "x@y.jp")
        );
    }
}

//! Keys kept outside the database, in the key directory (by default `mamori-data/keys`).
//!
//! - `audit-signing.key`: the Ed25519 key that signs audit checkpoints. Whoever can change the
//!   database should not also hold this key; a deployment may keep the directory on another
//!   volume or hand only `audit-signing.pub` to auditors.
//! - `audit-signing.pub`: its public half, which `mamori audit verify` needs.
//! - `secret.key`: 32 random bytes that seal small secrets in the database (TOTP seeds) with
//!   XChaCha20-Poly1305.
//!
//! Files are created with mode 0600 on first start and never overwritten.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {0} is not valid (expected 64 hex digits)")]
    Invalid(PathBuf),
    #[error("the key directory {0} does not exist and may not be created here")]
    Missing(PathBuf),
    #[error("a sealed value could not be opened (wrong secret.key, or the value was altered)")]
    Unseal,
}

pub struct Keys {
    signing: SecretBox<[u8; 32]>,
    verifying: VerifyingKey,
    secret: SecretBox<[u8; 32]>,
    dir: PathBuf,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn read_hex32(path: &Path) -> Result<[u8; 32], KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })?;
    let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Invalid(path.to_owned()))?;
    bytes
        .try_into()
        .map_err(|_| KeyError::Invalid(path.to_owned()))
}

fn write_new(path: &Path, content: &str, private: bool) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(content.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)
}

impl Keys {
    /// Loads the keys, creating missing ones when `create` is true.
    pub fn load_or_create(dir: &Path, create: bool) -> Result<Keys, KeyError> {
        if !dir.exists() {
            if !create {
                return Err(KeyError::Missing(dir.to_owned()));
            }
            mamori_store::create_private_dir(dir).map_err(|source| KeyError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        let sk_path = dir.join("audit-signing.key");
        let pk_path = dir.join("audit-signing.pub");
        let secret_path = dir.join("secret.key");
        for (path, public) in [(&sk_path, false), (&secret_path, false)] {
            if !path.exists() {
                if !create {
                    return Err(KeyError::Missing(path.clone()));
                }
                let mut b = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut b);
                write_new(path, &format!("{}\n", hex::encode(b)), !public)?;
            }
        }
        let seed = read_hex32(&sk_path)?;
        let signing = SigningKey::from_bytes(&seed);
        let verifying = signing.verifying_key();
        if !pk_path.exists() {
            write_new(
                &pk_path,
                &format!("{}\n", hex::encode(verifying.as_bytes())),
                false,
            )?;
        }
        let secret = read_hex32(&secret_path)?;
        Ok(Keys {
            signing: SecretBox::new(Box::new(seed)),
            verifying,
            secret: SecretBox::new(Box::new(secret)),
            dir: dir.to_owned(),
        })
    }

    /// Reads only a public key file, for verification by someone without the private keys.
    pub fn read_public(path: &Path) -> Result<VerifyingKey, KeyError> {
        let b = read_hex32(path)?;
        VerifyingKey::from_bytes(&b).map_err(|_| KeyError::Invalid(path.to_owned()))
    }

    pub fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(self.signing.expose_secret())
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.verifying
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A key for one purpose derived from the server secret (HMAC-SHA256 of the label), so
    /// keys of different purposes never coincide (e.g. the public pages' proof-of-work).
    pub fn derive(&self, label: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.secret.expose_secret())
            .expect("HMAC takes any key length");
        m.update(b"mamori-derive:");
        m.update(label.as_bytes());
        m.finalize().into_bytes().into()
    }

    /// HMAC-SHA256 of `value` under a key derived for `purpose`: a keyed digest for counters
    /// and lookups that must not hold the value itself.
    pub fn mac(&self, purpose: &[u8], value: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let key = self.derive(&String::from_utf8_lossy(purpose));
        let mut m =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length");
        m.update(value);
        m.finalize().into_bytes().into()
    }

    /// Seals `plain` bound to `context` (e.g. `totp:user:42`): `v1:` + base64(nonce ‖ box).
    pub fn seal(&self, plain: &[u8], context: &str) -> String {
        use base64::Engine;
        let cipher = XChaCha20Poly1305::new(self.secret.expose_secret().into());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for small inputs");
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!(
            "v1:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        )
    }

    pub fn unseal(&self, sealed: &str, context: &str) -> Result<Vec<u8>, KeyError> {
        use base64::Engine;
        let b = sealed
            .strip_prefix("v1:")
            .and_then(|s| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(s)
                    .ok()
            })
            .filter(|b| b.len() > 24)
            .ok_or(KeyError::Unseal)?;
        let cipher = XChaCha20Poly1305::new(self.secret.expose_secret().into());
        cipher
            .decrypt(
                XNonce::from_slice(&b[..24]),
                Payload {
                    msg: &b[24..],
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Unseal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_created_once_and_reloaded() {
        let dir = mamori_store::testing::temp_dir("keys").join("keys");
        assert!(
            Keys::load_or_create(&dir, false).is_err(),
            "not created without leave"
        );
        let a = Keys::load_or_create(&dir, true).unwrap();
        let b = Keys::load_or_create(&dir, false).unwrap();
        assert_eq!(a.verifying_key(), b.verifying_key());
        assert_eq!(
            Keys::read_public(&dir.join("audit-signing.pub")).unwrap(),
            a.verifying_key()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = a.seal(b"JBSWY3DPEHPK3PXP", "totp:user:1");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            b.unseal(&sealed, "totp:user:1").unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert!(
            b.unseal(&sealed, "totp:user:2").is_err(),
            "bound to its context"
        );
        std::fs::write(dir.join("audit-signing.key"), "zz").unwrap();
        assert!(matches!(
            Keys::load_or_create(&dir, false),
            Err(KeyError::Invalid(_))
        ));
    }
}

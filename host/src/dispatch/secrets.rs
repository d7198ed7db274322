//! Signing secrets at rest: sealed with ChaCha20-Poly1305 under a key from the config (or,
//! for a single SQLite deployment, a generated key file beside the database). The webhook
//! id is the associated data, so a sealed secret copied onto another webhook's row does not
//! open.

use crate::core::signature::SigningSecret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use std::path::{Path, PathBuf};

const NONCE_LEN: usize = 12;

/// Why the sealing key could not be obtained, or a secret not opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// `[dispatch] secret_key` is not 32 bytes of base64 or hex.
    #[error("[dispatch] secret_key must be 32 bytes written as base64 or hex")]
    BadKey,
    /// A PostgreSQL deployment has no configured key.
    #[error(
        "[dispatch] secret_key (or HINTD__DISPATCH__SECRET_KEY) is required with a PostgreSQL store, the same on every replica"
    )]
    KeyRequired,
    /// The generated key file could not be read or written.
    #[error("signing-secret key file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A stored secret does not open with this key (wrong key, or the row was tampered with).
    #[error("stored signing secret of webhook {0} does not decrypt with the configured key")]
    Undecryptable(String),
}

/// The key signing secrets are sealed with. Never printed.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// A box over 32 key bytes.
    pub fn new(key: [u8; 32]) -> SecretBox {
        SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// The key from `[dispatch] secret_key`, else (SQLite only) the key file beside the
    /// database, generated on first start.
    pub fn from_config(
        configured: Option<&str>,
        store_url: &str,
    ) -> Result<SecretBox, SecretError> {
        if let Some(text) = configured {
            return Ok(SecretBox::new(decode_key(text)?));
        }
        let path = key_file_for(store_url).ok_or(SecretError::KeyRequired)?;
        Ok(SecretBox::new(load_or_create_key_file(&path)?))
    }

    /// Seals a secret for the row of `webhook_id`: nonce followed by ciphertext.
    pub fn seal(&self, webhook_id: &str, secret: &SigningSecret) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.key(),
                    aad: webhook_id.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 encryption of a short message cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`seal`](Self::seal) produced for the same webhook.
    pub fn open(&self, webhook_id: &str, sealed: &[u8]) -> Result<SigningSecret, SecretError> {
        let fail = || SecretError::Undecryptable(webhook_id.to_string());
        if sealed.len() <= NONCE_LEN {
            return Err(fail());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let key = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: webhook_id.as_bytes(),
                },
            )
            .map_err(|_| fail())?;
        SigningSecret::parse(&format!(
            "{}{}",
            crate::core::signature::SECRET_PREFIX,
            B64.encode(key)
        ))
        .map_err(|_| fail())
    }
}

fn decode_key(text: &str) -> Result<[u8; 32], SecretError> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|_| SecretError::BadKey)?
    } else {
        B64.decode(text).map_err(|_| SecretError::BadKey)?
    };
    bytes.try_into().map_err(|_| SecretError::BadKey)
}

/// `dispatch-secret.key` beside an SQLite database file; `None` for other stores.
fn key_file_for(store_url: &str) -> Option<PathBuf> {
    let rest = store_url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let dir = Path::new(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Some(dir.join("dispatch-secret.key"))
}

fn load_or_create_key_file(path: &Path) -> Result<[u8; 32], SecretError> {
    let fail = |reason: String| SecretError::KeyFile {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => decode_key(&text).map_err(|_| fail("not 32 bytes of base64".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
            }
            write_private(path, B64.encode(key).as_bytes()).map_err(|e| fail(e.to_string()))?;
            Ok(key)
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Writes a file readable by its owner only, failing if it already exists (two processes
/// starting at once must not overwrite each other's key).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_bound_to_the_webhook() {
        let b = SecretBox::new([7u8; 32]);
        let s = SigningSecret::generate();
        let sealed = b.seal("wh_1", &s);
        assert!(
            !sealed.windows(s.key().len()).any(|w| w == s.key()),
            "plaintext must not appear"
        );
        assert_eq!(b.open("wh_1", &sealed).unwrap(), s);
        assert!(b.open("wh_2", &sealed).is_err());
        assert!(SecretBox::new([8u8; 32]).open("wh_1", &sealed).is_err());
        assert!(b.open("wh_1", &sealed[..5]).is_err());
    }

    #[test]
    fn key_text_forms() {
        assert!(decode_key(&"ab".repeat(32)).is_ok());
        assert!(decode_key(&B64.encode([1u8; 32])).is_ok());
        assert!(decode_key("short").is_err());
        assert!(decode_key(&B64.encode([1u8; 16])).is_err());
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/hintd.db", dir.path().display());
        let s = SigningSecret::generate();
        let sealed = SecretBox::from_config(None, &url).unwrap().seal("wh", &s);
        assert_eq!(
            SecretBox::from_config(None, &url)
                .unwrap()
                .open("wh", &sealed)
                .unwrap(),
            s
        );
        assert!(matches!(
            SecretBox::from_config(None, "postgres://x@h/db"),
            Err(SecretError::KeyRequired)
        ));
    }
}

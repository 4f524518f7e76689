//! Where the server key comes from: the environment, or a key file in the data folder that is
//! created (mode 0600) on first start. The file holds one key per line, current first; further
//! lines are previous keys that still open what they sealed. Lines starting with `#` are comments.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use rand::{RngCore, rngs::OsRng};
use zeroize::Zeroizing;

use super::Keyring;
use crate::error::{CoreError, CoreResult};

/// How the server key is configured.
#[derive(Clone)]
pub enum KeySource {
    /// `GATEHOUSE_SECRET_KEY` and `GATEHOUSE_SECRET_KEY_PREVIOUS` (comma-separated).
    Env { current: Zeroizing<String>, previous: Vec<Zeroizing<String>> },
    /// A key file, created when missing.
    File(PathBuf),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env { previous, .. } => write!(f, "KeySource::Env(current, {} previous)", previous.len()),
            KeySource::File(path) => write!(f, "KeySource::File({})", path.display()),
        }
    }
}

impl KeySource {
    /// The keyring, reading (or creating) the key file as needed. Also says where the key came from.
    pub fn load(&self) -> CoreResult<(Keyring, String)> {
        match self {
            KeySource::Env { current, previous } => {
                let current = parse_key_text(current)
                    .map_err(|m| CoreError::invalid("GATEHOUSE_SECRET_KEY", format!("GATEHOUSE_SECRET_KEY {m}")))?;
                let previous =
                    previous.iter().map(|p| parse_key_text(p)).collect::<Result<Vec<_>, _>>().map_err(|m| {
                        CoreError::invalid("GATEHOUSE_SECRET_KEY", format!("GATEHOUSE_SECRET_KEY_PREVIOUS: a key {m}"))
                    })?;
                Ok((Keyring::new(&current, &previous), "GATEHOUSE_SECRET_KEY".to_owned()))
            }
            KeySource::File(path) => {
                if !path.exists() {
                    create_key_file(path)?;
                    tracing::warn!(
                        path = %path.display(),
                        "created a new server key file: back it up, since sealed secrets cannot be read without it"
                    );
                }
                let keys = read_key_file(path)?;
                let (current, previous) = keys.split_first().ok_or_else(|| {
                    CoreError::invalid("GATEHOUSE_SECRET_KEY", format!("the key file {} holds no key", path.display()))
                })?;
                Ok((Keyring::new(current, previous), path.display().to_string()))
            }
        }
    }
}

/// 32 bytes from base64 (standard or URL-safe, padded or not) or 64 hex digits.
pub fn parse_key_text(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or(0)).collect::<Vec<_>>()
    } else {
        STANDARD.decode(text).or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('='))).map_err(
            |_| "must be 32 bytes as base64 or 64 hex digits (make one with `gatehouse secret-key generate`)",
        )?
    };
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        format!("must be 32 bytes; this is {} (make one with `gatehouse secret-key generate`)", bytes.len())
    })
}

/// A new random key, as base64 text.
pub fn generate_key_text() -> Zeroizing<String> {
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    Zeroizing::new(STANDARD.encode(key.as_ref()))
}

fn read_key_file(path: &Path) -> CoreResult<Vec<[u8; 32]>> {
    warn_if_readable_by_others(path);
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        CoreError::invalid("GATEHOUSE_SECRET_KEY", format!("cannot read the key file {}: {e}", path.display()))
    })?);
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            parse_key_text(l)
                .map_err(|m| CoreError::invalid("GATEHOUSE_SECRET_KEY", format!("a key in {} {m}", path.display())))
        })
        .collect()
}

/// Writes a new key file readable by its owner only; an existing file is never overwritten.
fn create_key_file(path: &Path) -> CoreResult<()> {
    let fail = |e: std::io::Error| {
        CoreError::invalid("GATEHOUSE_SECRET_KEY", format!("cannot create the key file {}: {e}", path.display()))
    };
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    let contents = Zeroizing::new(format!(
        "# Gatehouse server key: seals stored secrets. Back this file up; keep it private.\n{}\n",
        generate_key_text().as_str()
    ));
    file.write_all(contents.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the server key file can be read by other users: chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_texts() {
        let text = generate_key_text();
        assert!(parse_key_text(&text).is_ok());
        assert_eq!(parse_key_text(&"ab".repeat(32)).expect("hex"), [0xab; 32]);
        assert!(parse_key_text("short").is_err());
        assert!(parse_key_text(&STANDARD.encode([1u8; 16])).expect_err("16 bytes").contains("16"));
    }

    #[test]
    fn the_key_file_is_created_private_once_and_then_read() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("nested").join("secret.key");
        let source = KeySource::File(path.clone());
        let (first, _) = source.load().expect("created");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let (again, _) = source.load().expect("read");
        assert_eq!(first.key_id(), again.key_id(), "the same key on the next start");
        let sealed = first.seal("c", b"x");
        // A rotated file: a new key first, the old one after it.
        let old = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, format!("{}\n{old}", generate_key_text().as_str())).expect("write");
        let (rotated, _) = source.load().expect("rotated");
        assert_ne!(rotated.key_id(), first.key_id());
        assert_eq!(rotated.open("c", &sealed).expect("old key opens").as_slice(), b"x");
    }
}

//! Assets: files uploaded through MCP (base64), size-limited, with their content type checked
//! against what the bytes actually are.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    Db,
    agents::Tenant,
    clock::{Millis, now_ms},
    error::{CoreError, CoreResult},
    ids::new_id,
};

/// Largest asset accepted, in bytes (decoded).
pub const MAX_ASSET_BYTES: usize = 256 * 1024;

/// Content types accepted, and the leading bytes each must start with (empty: any text).
const TYPES: [(&str, &[u8]); 8] = [
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/gif", b"GIF8"),
    ("image/webp", b"RIFF"),
    ("application/pdf", b"%PDF-"),
    ("text/plain", b""),
    ("text/csv", b""),
    ("application/json", b""),
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Asset {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Millis,
}

/// Stores an asset after checking its name, size and content type.
pub async fn upload(db: &Db, at: Tenant<'_>, name: &str, content_type: &str, bytes: &[u8]) -> CoreResult<Asset> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(CoreError::invalid(
            "name",
            "A file name is 1 to 200 characters, without slashes or control characters.",
        ));
    }
    if bytes.is_empty() || bytes.len() > MAX_ASSET_BYTES {
        return Err(CoreError::invalid("content", format!("An asset is 1 byte to {} KiB.", MAX_ASSET_BYTES / 1024)));
    }
    let Some((_, magic)) = TYPES.iter().find(|(t, _)| *t == content_type) else {
        return Err(CoreError::invalid(
            "content_type",
            format!("Accepted types: {}.", TYPES.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")),
        ));
    };
    let matches = if magic.is_empty() { std::str::from_utf8(bytes).is_ok() } else { bytes.starts_with(magic) };
    if !matches {
        return Err(CoreError::invalid("content_type", format!("The content is not {content_type}.")));
    }
    let sha256: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    let asset = Asset {
        id: new_id("ast"),
        name: name.to_owned(),
        content_type: content_type.to_owned(),
        size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        sha256,
        created_at: now_ms(),
    };
    sqlx::query(
        "INSERT INTO assets (id, workspace_id, environment, name, content_type, size, sha256, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&asset.id)
    .bind(at.workspace_id)
    .bind(at.environment.as_str())
    .bind(&asset.name)
    .bind(&asset.content_type)
    .bind(asset.size)
    .bind(&asset.sha256)
    .bind(bytes.to_vec())
    .bind(asset.created_at)
    .execute(db.pool())
    .await?;
    Ok(asset)
}

//! Sealing every stored secret again under the current server key, after a rotation: each sealed
//! column is listed here once, with the context its values are sealed for.

use sqlx::Row;

use super::Keyring;
use crate::{Db, error::CoreResult};

/// A column holding sealed values: its table, the row's key column, and the context prefix (the
/// context is the prefix and the row's key).
struct SealedColumn {
    table: &'static str,
    id: &'static str,
    column: &'static str,
    context: &'static str,
}

const SEALED: &[SealedColumn] =
    &[SealedColumn { table: "signing_keys", id: "kid", column: "private_key", context: "signing-key:" }];

/// The context a sealed value of this column and row is sealed for.
pub fn context_of(prefix: &str, id: &str) -> String {
    format!("{prefix}{id}")
}

/// Seals again, under the current key, every value a previous key sealed; returns how many.
pub async fn reseal(db: &Db, keys: &Keyring) -> CoreResult<usize> {
    let mut count = 0;
    for c in SEALED {
        let rows = sqlx::query(&format!(
            "SELECT {id}, {column} FROM {table} WHERE {column} IS NOT NULL",
            id = c.id,
            column = c.column,
            table = c.table
        ))
        .fetch_all(db.pool())
        .await?;
        for row in rows {
            let id: String = row.try_get(0)?;
            let sealed: String = row.try_get(1)?;
            if !keys.is_stale(&sealed) {
                continue;
            }
            let ctx = context_of(c.context, &id);
            let plain = keys.open(&ctx, &sealed)?;
            sqlx::query(&format!("UPDATE {} SET {} = $1 WHERE {} = $2 AND {} = $3", c.table, c.column, c.id, c.column))
                .bind(keys.seal(&ctx, &plain))
                .bind(&id)
                .bind(&sealed)
                .execute(db.pool())
                .await?;
            count += 1;
        }
    }
    Ok(count)
}

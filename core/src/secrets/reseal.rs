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

const SEALED: &[SealedColumn] = &[
    SealedColumn { table: "signing_keys", id: "kid", column: "private_key", context: "signing-key:" },
    SealedColumn { table: "upstream_servers", id: "id", column: "credentials", context: "upstream-credentials:" },
];

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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{
        keys::Environment,
        servers::{self, CredentialHeaders, NewServer, ServerName, UpstreamUrl},
        testing::sqlite_with_workspace,
    };

    #[tokio::test]
    async fn upstream_credentials_survive_a_rotation() {
        let (_dir, db) = sqlite_with_workspace().await;
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let before = Keyring::new(&old, &[]);
        let added = servers::add_in(
            &db,
            &before,
            "ws_1",
            None,
            NewServer {
                name: ServerName::parse("CRM").expect("name"),
                slug: None,
                url: UpstreamUrl::parse("http://127.0.0.1:9/mcp").expect("url"),
                environment: Environment::Live,
                timeout: Duration::from_secs(5),
                headers: CredentialHeaders::parse("Authorization: Bearer crm-secret").expect("headers"),
                send_identity: false,
                allow_private: true,
            },
        )
        .await
        .expect("added");
        // The new key first, the old one still opening: reseal, then the old key can go.
        let rotating = Keyring::new(&new, &[old]);
        assert_eq!(reseal(&db, &rotating).await.expect("reseal"), 1, "the server's credentials");
        assert_eq!(reseal(&db, &rotating).await.expect("again"), 0, "nothing stale is left");
        let after = Keyring::new(&new, &[]);
        let server = servers::get_in(&db, "ws_1", &added.slug).await.expect("server");
        let headers = server.credentials(&after).expect("opened with the new key alone");
        assert_eq!(headers.pairs(), [("Authorization".to_owned(), "Bearer crm-secret".to_owned())]);
        assert!(server.credentials(&before).is_err(), "the old key no longer opens them");
    }
}

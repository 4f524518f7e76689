//! Helpers for this crate's unit tests: a migrated SQLite database in a temporary folder.

use crate::Db;

/// A new, migrated SQLite database; it lives as long as the returned folder.
pub(crate) async fn sqlite() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("dir");
    let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.expect("db");
    db.migrate().await.expect("migrate");
    (dir, db)
}

/// [`sqlite`] with one workspace, `ws_1`, to hang rows on.
pub(crate) async fn sqlite_with_workspace() -> (tempfile::TempDir, Db) {
    let (dir, db) = sqlite().await;
    sqlx::query("INSERT INTO workspaces (id, slug, name, created_at) VALUES ('ws_1', 'one', 'One', 0)")
        .execute(db.pool())
        .await
        .expect("workspace");
    (dir, db)
}

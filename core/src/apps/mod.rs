//! Apps: an agent version published under a name, so it can be triggered as a fixed thing while
//! the agent keeps changing.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Row, any::AnyRow};

use crate::{
    Db,
    agents::{self, Tenant},
    clock::{Millis, now_ms},
    error::{CoreError, CoreResult},
    ids::new_id,
    runs::{self, Run},
};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub name: String,
    pub agent_id: String,
    pub agent_version: i64,
    pub published_at: Millis,
}

fn app_from_row(row: &AnyRow) -> CoreResult<App> {
    Ok(App {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        agent_id: row.try_get("agent_id")?,
        agent_version: row.try_get("agent_version")?,
        published_at: row.try_get("published_at")?,
    })
}

/// Publishes `version` (default: the current one) of an agent as an app.
pub async fn publish(
    db: &Db,
    at: Tenant<'_>,
    agent_id: &str,
    version: Option<i64>,
    name: Option<&str>,
) -> CoreResult<App> {
    let agent = agents::get(db, at, agent_id).await?;
    let version = version.unwrap_or(agent.version);
    if !agents::version_exists(db, at, agent_id, version).await? {
        return Err(CoreError::invalid("version", format!("This agent has no version {version}.")));
    }
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&agent.name).to_owned();
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(CoreError::invalid("name", "An app name is 1 to 200 characters, without control characters."));
    }
    let app = App { id: new_id("app"), name, agent_id: agent.id, agent_version: version, published_at: now_ms() };
    sqlx::query(
        "INSERT INTO apps (id, workspace_id, environment, name, agent_id, agent_version, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&app.id)
    .bind(at.workspace_id)
    .bind(at.environment.as_str())
    .bind(&app.name)
    .bind(&app.agent_id)
    .bind(app.agent_version)
    .bind(app.published_at)
    .execute(db.pool())
    .await?;
    Ok(app)
}

pub async fn list(db: &Db, at: Tenant<'_>) -> CoreResult<Vec<App>> {
    let rows = sqlx::query(
        "SELECT id, name, agent_id, agent_version, published_at FROM apps
         WHERE workspace_id = $1 AND environment = $2 ORDER BY published_at DESC, id LIMIT 500",
    )
    .bind(at.workspace_id)
    .bind(at.environment.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(app_from_row).collect()
}

pub async fn get(db: &Db, at: Tenant<'_>, id: &str) -> CoreResult<App> {
    let row = sqlx::query(
        "SELECT id, name, agent_id, agent_version, published_at FROM apps
         WHERE workspace_id = $1 AND environment = $2 AND id = $3",
    )
    .bind(at.workspace_id)
    .bind(at.environment.as_str())
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(CoreError::NotFound)?;
    app_from_row(&row)
}

/// Queues a run of the app's published agent version.
pub async fn trigger(db: &Db, at: Tenant<'_>, id: &str, input: &Value) -> CoreResult<Run> {
    let app = get(db, at, id).await?;
    runs::trigger_version(db, at, &app.agent_id, app.agent_version, input).await
}

//! Agents: named JSON graphs, versioned (every write makes a new version), kept apart for live and
//! test data. Every query names the workspace and the environment of the caller.

mod graph;
mod pages;

pub use graph::{NODE_TYPES, Problem, validate};
pub use pages::AgentPages;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::{
    Db,
    clock::{Millis, now_ms},
    direct::{self, Columns, FromColumns},
    error::{CoreError, CoreResult},
    ids::new_id,
    keys::Environment,
};

/// Where an agent call acts: one workspace's live or test data.
#[derive(Debug, Clone, Copy)]
pub struct Tenant<'a> {
    pub workspace_id: &'a str,
    pub environment: Environment,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub environment: Environment,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// The current version's graph, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgentVersion {
    pub version: i64,
    pub created_at: Millis,
}

/// A page of agents and the cursor of the next page, if any.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgentPage {
    pub agents: Vec<Agent>,
    pub next_cursor: Option<String>,
}

fn agent_from_row(row: &impl Columns, with_graph: bool) -> CoreResult<Agent> {
    let environment = Environment::parse(&row.col::<String>("environment")?)
        .ok_or_else(|| CoreError::Internal("agent with an unknown environment".into()))?;
    let graph = if with_graph {
        let text: String = row.col("graph")?;
        Some(serde_json::from_str(&text).map_err(|e| CoreError::Internal(format!("stored graph unreadable: {e}")))?)
    } else {
        None
    };
    Ok(Agent {
        id: row.col("id")?,
        name: row.col("name")?,
        environment,
        version: row.col("current_version")?,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
        graph,
    })
}

/// An agent with its current graph (the row has a `graph` column).
impl FromColumns for Agent {
    fn from_columns(row: &impl Columns) -> CoreResult<Self> {
        agent_from_row(row, true)
    }
}

/// An agent as lists show it, without its graph.
struct Summary(Agent);

impl FromColumns for Summary {
    fn from_columns(row: &impl Columns) -> CoreResult<Self> {
        agent_from_row(row, false).map(Summary)
    }
}

fn check_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(CoreError::invalid("name", "An agent name is 1 to 200 characters, without control characters."));
    }
    Ok(name.to_owned())
}

fn check_graph(graph: &Value) -> CoreResult<String> {
    let problems = validate(graph);
    if let Some(first) = problems.first() {
        return Err(CoreError::invalid(
            "graph",
            format!(
                "The graph has {} problem(s); the first, at {:?}: {}",
                problems.len(),
                first.pointer,
                first.message
            ),
        ));
    }
    serde_json::to_string(graph).map_err(|e| CoreError::Internal(e.to_string()))
}

/// Creates an agent at version 1.
pub async fn create(db: &Db, at: Tenant<'_>, name: &str, graph: &Value) -> CoreResult<Agent> {
    let name = check_name(name)?;
    let text = check_graph(graph)?;
    let now = now_ms();
    let id = new_id("agt");
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO agents (id, workspace_id, environment, name, current_version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 1, $5, $5)",
    )
    .bind(&id)
    .bind(at.workspace_id)
    .bind(at.environment.as_str())
    .bind(&name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO agent_versions (agent_id, version, graph, created_at) VALUES ($1, 1, $2, $3)")
        .bind(&id)
        .bind(&text)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    db.agents_changed(at.workspace_id);
    get(db, at, &id).await
}

/// Agents newest first, `limit` at a time (1–100), after `cursor` (from the previous page).
pub async fn list(db: &Db, at: Tenant<'_>, cursor: Option<&str>, limit: i64) -> CoreResult<AgentPage> {
    const SQL: &str = "SELECT id, name, environment, current_version, created_at, updated_at FROM agents
         WHERE workspace_id = $1 AND environment = $2 ORDER BY created_at DESC, id LIMIT $3 OFFSET $4";
    let (offset, limit) = crate::paging::window(cursor, limit)?;
    let params = [at.workspace_id.into(), at.environment.as_str().into(), (limit + 1).into(), offset.into()];
    let mut agents: Vec<Agent> =
        direct::fetch_all::<Summary>(db, SQL, &params).await?.into_iter().map(|s| s.0).collect();
    let next_cursor = crate::paging::next_cursor(agents.len(), offset, limit);
    agents.truncate(limit as usize);
    Ok(AgentPage { agents, next_cursor })
}

/// One agent with its current graph. Another workspace's or environment's agent is `NotFound`.
pub async fn get(db: &Db, at: Tenant<'_>, id: &str) -> CoreResult<Agent> {
    const SQL: &str = "SELECT a.id, a.name, a.environment, a.current_version, a.created_at, a.updated_at, v.graph
         FROM agents a JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.current_version
         WHERE a.workspace_id = $1 AND a.environment = $2 AND a.id = $3";
    let params = [at.workspace_id.into(), at.environment.as_str().into(), id.into()];
    direct::fetch_optional::<Agent>(db, SQL, &params).await?.ok_or(CoreError::NotFound)
}

/// Every version of an agent, newest first.
pub async fn versions(db: &Db, at: Tenant<'_>, id: &str) -> CoreResult<Vec<AgentVersion>> {
    get(db, at, id).await?;
    let rows = sqlx::query("SELECT version, created_at FROM agent_versions WHERE agent_id = $1 ORDER BY version DESC")
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok(AgentVersion { version: r.try_get("version")?, created_at: r.try_get("created_at")? }))
        .collect()
}

/// Replaces the graph (and optionally the name): a new version.
pub async fn update(db: &Db, at: Tenant<'_>, id: &str, name: Option<&str>, graph: &Value) -> CoreResult<Agent> {
    let current = get(db, at, id).await?;
    let name = match name {
        Some(n) => check_name(n)?,
        None => current.name,
    };
    let text = check_graph(graph)?;
    let now = now_ms();
    let next = current.version + 1;
    let mut tx = db.pool().begin().await?;
    sqlx::query("INSERT INTO agent_versions (agent_id, version, graph, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(next)
        .bind(&text)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                CoreError::Conflict("The agent changed while this update was made; read it again and retry.".into())
            }
            _ => CoreError::Database(e),
        })?;
    sqlx::query(
        "UPDATE agents SET current_version = $1, name = $2, updated_at = $3 WHERE id = $4 AND workspace_id = $5",
    )
    .bind(next)
    .bind(&name)
    .bind(now)
    .bind(id)
    .bind(at.workspace_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    db.agents_changed(at.workspace_id);
    get(db, at, id).await
}

/// Deletes an agent and its versions.
pub async fn delete(db: &Db, at: Tenant<'_>, id: &str) -> CoreResult<()> {
    let done = sqlx::query("DELETE FROM agents WHERE workspace_id = $1 AND environment = $2 AND id = $3")
        .bind(at.workspace_id)
        .bind(at.environment.as_str())
        .bind(id)
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(CoreError::NotFound);
    }
    db.agents_changed(at.workspace_id);
    Ok(())
}

/// A new agent with a copy of another's current graph.
pub async fn clone(db: &Db, at: Tenant<'_>, id: &str, name: Option<&str>) -> CoreResult<Agent> {
    let source = get(db, at, id).await?;
    let name = match name {
        Some(n) => n.to_owned(),
        None => format!("{} (copy)", source.name.chars().take(190).collect::<String>()),
    };
    let graph = source.graph.unwrap_or(Value::Null);
    create(db, at, &name, &graph).await
}

/// Makes an earlier version's graph current again, as a new version.
pub async fn restore(db: &Db, at: Tenant<'_>, id: &str, version: i64) -> CoreResult<Agent> {
    get(db, at, id).await?;
    let row = sqlx::query("SELECT graph FROM agent_versions WHERE agent_id = $1 AND version = $2")
        .bind(id)
        .bind(version)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| CoreError::invalid("version", format!("This agent has no version {version}.")))?;
    let graph: Value = serde_json::from_str(&row.try_get::<String, _>("graph")?)
        .map_err(|e| CoreError::Internal(format!("stored graph unreadable: {e}")))?;
    update(db, at, id, None, &graph).await
}

/// Whether the agent has this version.
pub async fn version_exists(db: &Db, at: Tenant<'_>, id: &str, version: i64) -> CoreResult<bool> {
    get(db, at, id).await?;
    let row = sqlx::query("SELECT COUNT(*) AS n FROM agent_versions WHERE agent_id = $1 AND version = $2")
        .bind(id)
        .bind(version)
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get::<i64, _>("n")? == 1)
}

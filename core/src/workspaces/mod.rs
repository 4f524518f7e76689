//! Workspaces and their members. Every function that acts for a user first loads that user's
//! membership and checks the role: members read, admins manage keys and connectors, owners manage
//! members and the workspace itself.

mod name;
mod role;

pub use name::{WorkspaceName, slugify};
pub use role::Role;

use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

use crate::{
    Db,
    accounts::{self, Email},
    clock::now_ms,
    error::{CoreError, CoreResult},
    ids::{new_id, random_base62},
};

/// A workspace: the unit that owns keys, connectors, usage and webhooks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

/// A workspace as one user sees it: with their role in it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Membership {
    pub workspace: Workspace,
    pub role: Role,
}

/// A member as listed on the workspace's settings page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub joined_at: i64,
}

/// Inserts a workspace with `owner_id` as its owner, inside the caller's transaction.
pub(crate) async fn insert_with_owner(
    tx: &mut Transaction<'static, Any>,
    name: &WorkspaceName,
    owner_id: &str,
) -> CoreResult<Workspace> {
    let now = now_ms();
    let base = slugify(name.as_str());
    // A random suffix keeps slugs unique without a read-then-write race; retry on the rare clash.
    for _ in 0..5 {
        let workspace = Workspace {
            id: new_id("ws"),
            slug: format!("{base}-{}", random_base62(6).to_lowercase()),
            name: name.as_str().to_owned(),
            created_at: now,
        };
        let inserted = sqlx::query(
            "INSERT INTO workspaces (id, slug, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(&workspace.id)
        .bind(&workspace.slug)
        .bind(&workspace.name)
        .bind(workspace.created_at)
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 1 {
            sqlx::query("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&workspace.id)
                .bind(owner_id)
                .bind(Role::Owner.as_str())
                .bind(now)
                .execute(&mut **tx)
                .await?;
            return Ok(workspace);
        }
    }
    Err(CoreError::Internal("could not find a free workspace slug".into()))
}

/// Creates a workspace owned by `user_id`.
pub async fn create(db: &Db, user_id: &str, name: WorkspaceName) -> CoreResult<Workspace> {
    let mut tx = db.pool().begin().await?;
    let workspace = insert_with_owner(&mut tx, &name, user_id).await?;
    tx.commit().await?;
    Ok(workspace)
}

fn workspace_from_row(row: &sqlx::any::AnyRow) -> CoreResult<Workspace> {
    Ok(Workspace {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Every workspace the user belongs to, by name.
pub async fn list_for_user(db: &Db, user_id: &str) -> CoreResult<Vec<Membership>> {
    let rows = sqlx::query(
        "SELECT w.id, w.slug, w.name, w.created_at, m.role FROM workspaces w
         JOIN memberships m ON m.workspace_id = w.id WHERE m.user_id = $1 ORDER BY w.name, w.slug",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(membership_from_row).collect()
}

fn membership_from_row(row: &sqlx::any::AnyRow) -> CoreResult<Membership> {
    Ok(Membership { workspace: workspace_from_row(row)?, role: Role::parse(&row.try_get::<String, _>("role")?)? })
}

/// The user's membership of the workspace with this slug. A workspace the user is not in is
/// `NotFound`, exactly like one that does not exist.
pub async fn membership(db: &Db, user_id: &str, slug: &str) -> CoreResult<Membership> {
    let row = sqlx::query(
        "SELECT w.id, w.slug, w.name, w.created_at, m.role FROM workspaces w
         JOIN memberships m ON m.workspace_id = w.id WHERE m.user_id = $1 AND w.slug = $2",
    )
    .bind(user_id)
    .bind(slug)
    .fetch_optional(db.pool())
    .await?
    .ok_or(CoreError::NotFound)?;
    membership_from_row(&row)
}

/// The workspace with this slug, for the admin CLI (no membership check).
pub async fn find_by_slug(db: &Db, slug: &str) -> CoreResult<Workspace> {
    let row = sqlx::query("SELECT id, slug, name, created_at FROM workspaces WHERE slug = $1")
        .bind(slug)
        .fetch_optional(db.pool())
        .await?
        .ok_or(CoreError::NotFound)?;
    workspace_from_row(&row)
}

/// The workspace with this id (no membership check).
pub async fn find_by_id(db: &Db, id: &str) -> CoreResult<Workspace> {
    let row = sqlx::query("SELECT id, slug, name, created_at FROM workspaces WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(CoreError::NotFound)?;
    workspace_from_row(&row)
}

/// The user's first workspace (the one to land in after sign-in), if they have any.
pub async fn default_for_user(db: &Db, user_id: &str) -> CoreResult<Option<Workspace>> {
    let row = sqlx::query(
        "SELECT w.id, w.slug, w.name, w.created_at FROM workspaces w
         JOIN memberships m ON m.workspace_id = w.id WHERE m.user_id = $1
         ORDER BY m.created_at, w.slug LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(workspace_from_row).transpose()
}

/// Renames a workspace (owners only). The slug, and so every link, stays the same.
pub async fn rename(db: &Db, actor_id: &str, slug: &str, name: WorkspaceName) -> CoreResult<Workspace> {
    let m = membership(db, actor_id, slug).await?;
    m.role.require_owner("rename the workspace")?;
    sqlx::query("UPDATE workspaces SET name = $1 WHERE id = $2")
        .bind(name.as_str())
        .bind(&m.workspace.id)
        .execute(db.pool())
        .await?;
    db.access_changed(&m.workspace.id);
    Ok(Workspace { name: name.as_str().to_owned(), ..m.workspace })
}

/// The members of a workspace (any member may read them).
pub async fn list_members(db: &Db, actor_id: &str, slug: &str) -> CoreResult<Vec<Member>> {
    let m = membership(db, actor_id, slug).await?;
    members_of(db, &m.workspace.id).await
}

/// The members of a workspace (no membership check).
pub async fn members_of(db: &Db, workspace_id: &str) -> CoreResult<Vec<Member>> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.workspace_id = $1 ORDER BY m.created_at, u.email",
    )
    .bind(workspace_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Member {
                user_id: row.try_get("id")?,
                email: row.try_get("email")?,
                role: Role::parse(&row.try_get::<String, _>("role")?)?,
                joined_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

/// Adds an existing account to the workspace with a role (owners only).
pub async fn add_member(db: &Db, actor_id: &str, slug: &str, email: &Email, role: Role) -> CoreResult<Member> {
    let m = membership(db, actor_id, slug).await?;
    m.role.require_owner("add members")?;
    add_member_in(db, &m.workspace.id, email, role).await
}

/// Adds an existing account to the workspace, without a role check (the management API).
pub async fn add_member_in(db: &Db, workspace_id: &str, email: &Email, role: Role) -> CoreResult<Member> {
    let user = accounts::find_user_by_email(db, email).await?.ok_or_else(|| {
        CoreError::invalid("email", "No account uses this email yet. Ask them to sign up first, then add them.")
    })?;
    let now = now_ms();
    sqlx::query("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
        .bind(workspace_id)
        .bind(&user.id)
        .bind(role.as_str())
        .bind(now)
        .execute(db.pool())
        .await
        .map_err(|e| CoreError::unique_violation(e, "email", "This person is already a member."))?;
    Ok(Member { user_id: user.id, email: user.email, role, joined_at: now })
}

/// Changes a member's role (owners only). The last owner cannot be demoted.
pub async fn change_role(db: &Db, actor_id: &str, slug: &str, user_id: &str, role: Role) -> CoreResult<()> {
    let m = membership(db, actor_id, slug).await?;
    m.role.require_owner("change roles")?;
    change_role_in(db, &m.workspace.id, user_id, role).await
}

/// Changes a member's role without a role check (the management API).
pub async fn change_role_in(db: &Db, workspace_id: &str, user_id: &str, role: Role) -> CoreResult<()> {
    let mut tx = db.pool().begin().await?;
    let current = role_in_tx(&mut tx, workspace_id, user_id).await?;
    if current == Role::Owner && role != Role::Owner && owner_count(&mut tx, workspace_id).await? <= 1 {
        return Err(CoreError::Conflict(
            "This is the workspace's last owner. Make someone else an owner first.".into(),
        ));
    }
    sqlx::query("UPDATE memberships SET role = $1 WHERE workspace_id = $2 AND user_id = $3")
        .bind(role.as_str())
        .bind(workspace_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    db.access_changed(workspace_id);
    Ok(())
}

/// Removes a member (owners), or lets a member leave. The last owner can do neither.
pub async fn remove_member(db: &Db, actor_id: &str, slug: &str, user_id: &str) -> CoreResult<()> {
    let m = membership(db, actor_id, slug).await?;
    if actor_id != user_id {
        m.role.require_owner("remove members")?;
    }
    remove_member_in(db, &m.workspace.id, user_id).await
}

/// Removes a member without a role check (the management API). The last owner stays.
pub async fn remove_member_in(db: &Db, workspace_id: &str, user_id: &str) -> CoreResult<()> {
    let mut tx = db.pool().begin().await?;
    let current = role_in_tx(&mut tx, workspace_id, user_id).await?;
    if current == Role::Owner && owner_count(&mut tx, workspace_id).await? <= 1 {
        return Err(CoreError::Conflict("The last owner cannot leave. Make someone else an owner first.".into()));
    }
    sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
        .bind(workspace_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // The member's connectors stop working here (their approver is gone).
    db.access_changed(workspace_id);
    Ok(())
}

async fn role_in_tx(tx: &mut Transaction<'static, Any>, workspace_id: &str, user_id: &str) -> CoreResult<Role> {
    let row = sqlx::query("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2")
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(CoreError::NotFound)?;
    Role::parse(&row.try_get::<String, _>("role")?)
}

async fn owner_count(tx: &mut Transaction<'static, Any>, workspace_id: &str) -> CoreResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE workspace_id = $1 AND role = 'owner'")
        .bind(workspace_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("n")?)
}

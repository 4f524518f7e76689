//! Accounts: sign-up, sign-in with a throttle against guessing, and looking a user up.

mod email;
mod password;
pub(crate) mod throttle;

pub use email::Email;
pub use password::{Password, hash_password, verify_password};
pub use throttle::ThrottlePolicy;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{
    Db,
    clock::now_ms,
    error::{CoreError, CoreResult},
    ids::new_id,
    workspaces::{self, Workspace, WorkspaceName},
};

/// A person who can sign in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub created_at: i64,
}

/// Creates an account and its personal workspace, in one transaction.
pub async fn sign_up(db: &Db, email: Email, password: Password) -> CoreResult<(User, Workspace)> {
    let hash = hash_password(password).await?;
    let user = User { id: new_id("usr"), email: email.as_str().to_owned(), created_at: now_ms() };
    let mut tx = db.pool().begin().await?;
    sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&user.id)
        .bind(&user.email)
        .bind(&hash)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            CoreError::unique_violation(e, "email", "An account with this email already exists. Sign in instead.")
        })?;
    let name = WorkspaceName::parse(&personal_workspace_name(&email))?;
    let workspace = workspaces::insert_with_owner(&mut tx, &name, &user.id).await?;
    tx.commit().await?;
    Ok((user, workspace))
}

fn personal_workspace_name(email: &Email) -> String {
    let local = email.as_str().split('@').next().unwrap_or("My");
    let local: String = local.chars().take(60).collect();
    format!("{local}'s workspace")
}

/// Checks an email and password. Unknown email and wrong password give the same error and take
/// the same time; repeated failures for one email or one address are slowed down, then refused.
pub async fn sign_in(
    db: &Db,
    policy: &ThrottlePolicy,
    email: &str,
    password: &str,
    client_ip: Option<&str>,
) -> CoreResult<User> {
    let email_subject = format!("email:{}", email.trim().to_lowercase());
    let ip_subject = client_ip.map(|ip| format!("ip:{ip}"));
    throttle::check(db, &email_subject).await?;
    if let Some(ip) = &ip_subject {
        throttle::check(db, ip).await?;
    }

    let row = sqlx::query("SELECT id, email, password_hash, created_at FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(db.pool())
        .await?;
    let (user, hash) = match row {
        Some(row) => (
            Some(User { id: row.try_get("id")?, email: row.try_get("email")?, created_at: row.try_get("created_at")? }),
            Some(row.try_get::<String, _>("password_hash")?),
        ),
        None => (None, None),
    };
    // Always run one argon2 verification so an unknown email takes as long as a wrong password.
    let ok = verify_password(password.to_owned(), hash).await? && user.is_some();
    match user {
        Some(user) if ok => {
            throttle::clear(db, &email_subject).await?;
            Ok(user)
        }
        _ => {
            if let Some(user) = &user {
                crate::audit::record_failed_sign_in(db, &user.id, client_ip).await?;
            }
            let delay = throttle::record_failure(db, policy, &email_subject, policy.account_limit).await?;
            if let Some(ip) = &ip_subject {
                throttle::record_failure(db, policy, ip, policy.address_limit).await?;
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Err(CoreError::InvalidCredentials)
        }
    }
}

/// The user with this id, if any.
pub async fn find_user(db: &Db, user_id: &str) -> CoreResult<Option<User>> {
    let row = sqlx::query("SELECT id, email, created_at FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| {
        Ok(User { id: row.try_get("id")?, email: row.try_get("email")?, created_at: row.try_get("created_at")? })
    })
    .transpose()
}

/// The user with this email, if any.
pub async fn find_user_by_email(db: &Db, email: &Email) -> CoreResult<Option<User>> {
    let row = sqlx::query("SELECT id, email, created_at FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| {
        Ok(User { id: row.try_get("id")?, email: row.try_get("email")?, created_at: row.try_get("created_at")? })
    })
    .transpose()
}

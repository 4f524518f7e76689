//! The domain's one error type. Callers map it to HTTP or to a dashboard message in one place each.
//!
//! - `Invalid` names the input field that is wrong, so a form can show the message next to it.
//! - `NotFound` is also what a user gets for something that exists in a workspace they are not in:
//!   existence is not revealed across tenants.
//! - `Database` and `Internal` carry details for the log only; their `Display` is what may be logged,
//!   never shown to a client.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CoreError {
    /// A value a person typed is not acceptable; `field` is the form field's name.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// The thing does not exist, or the caller may not know that it exists.
    #[error("not found")]
    NotFound,
    /// The caller is known but their role does not allow this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request conflicts with the current state (the last owner leaving, say).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Unknown email or wrong password: deliberately the same error for both.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many attempts; try again after `retry_after_secs`.
    #[error("too many attempts; retry after {retry_after_secs}s")]
    Throttled { retry_after_secs: i64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CoreError::Invalid { field, message: message.into() }
    }

    /// Turns a unique-constraint violation into a field error, and passes anything else through.
    pub fn unique_violation(err: sqlx::Error, field: &'static str, message: &str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => CoreError::invalid(field, message),
            _ => CoreError::Database(err),
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;

//! The dashboard's error type: what a server function can fail with, as the page shows it.
//!
//! Domain errors become these in `api::context::fail`, which also sets the HTTP status and logs
//! anything internal. Internal details never reach this type.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form field is wrong; shown next to that field.
    #[error("{message}")]
    Field { field: String, message: String },
    #[error("Your session has ended. Sign in again.")]
    SignedOut,
    #[error("{0}")]
    Forbidden(String),
    #[error("This page does not exist, or you do not have access to it.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Throttled(String),
    #[error("Something went wrong on our side. Try again in a moment.")]
    Internal,
    /// The request never reached the function (network, decoding).
    #[error("The request failed: {0}")]
    Request(String),
}

impl AppError {
    /// The message for `field`, if this error is about that field.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            AppError::Field { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// True when the error belongs to no particular field and so goes at the top of a form.
    pub fn is_general(&self) -> bool {
        !matches!(self, AppError::Field { .. })
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

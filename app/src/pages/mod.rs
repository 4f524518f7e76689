//! One module per page (or family of pages) of the dashboard.

pub mod audit;
pub mod auth;
pub mod connectors;
pub mod consent;
pub mod dashboard;
pub mod device;
pub mod keys;
pub mod landing;
pub mod not_found;
pub mod overview;
pub mod servers;
pub mod settings;
pub mod usage;
pub mod webhooks;
pub mod workspace_new;

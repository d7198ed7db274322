//! `/api/v1/*` and the platform webhook endpoints.

pub mod clients;
pub mod conversations;
pub mod ingest;
pub mod playground;
pub mod plugins;
pub mod prompter;
pub mod webhooks;

//! `/api/v1/*` and the platform webhook endpoints.

pub mod clients;
pub mod conversation_list;
pub mod conversations;
mod fields;
mod hint_http;
pub mod hint_series;
pub mod hints;
pub mod ingest;
pub mod playground;
pub mod plugins;
pub mod webhooks;

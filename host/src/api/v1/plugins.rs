//! `GET /api/v1/plugins`: every plugin with its manifest, load status or load error, circuit
//! state per function, calls by outcome with latency, and how often its hints were shown and
//! chosen; `POST /api/v1/plugins/reload`: rescan the plugin directory now.

use super::hint_http::{StatsQuery, hint_stats};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::QueryParams;
use crate::app::App;
use crate::plugins::{PluginStats, PluginSummary};
use crate::store::PluginAcceptance;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The plugin routes (admin key).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(reload))
}

/// `GET /api/v1/plugins`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginList {
    /// Whether the first load has ended (plugins load in the background at start).
    pub loaded: bool,
    /// Completed loads and reloads, the first one included.
    pub reloads: u64,
    /// The plugins: loaded ones by name, then those that failed or are loading.
    pub plugins: Vec<PluginView>,
}

/// One plugin.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    /// Its manifest name; for a plugin that did not load, the name of its directory.
    pub name: String,
    /// The plugin's directory, for a plugin that did not load (or is loading).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
    /// Whether it serves.
    pub status: LoadStatus,
    /// Why the last (re)load of it failed. A loaded plugin with an error keeps serving the
    /// version loaded before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_error: Option<String>,
    /// Manifest fields and what `describe()` said (loaded plugins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<PluginSummary>,
    /// Circuit breaker state of each exported function.
    pub circuits: Circuits,
    /// Calls by outcome since the process started, with mean, median, 99th-percentile and
    /// maximum latency (`/metrics` has the latency histogram too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<PluginStats>,
    /// Its hints shown and chosen, and acceptance (answers in the store, filtered like
    /// `/api/v1/hints/stats`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hints: Option<PluginAcceptance>,
}

/// Whether a plugin serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoadStatus {
    /// Loaded and called.
    Loaded,
    /// Not loaded: see `load_error`.
    Failed,
    /// Being compiled and described right now.
    Loading,
}

/// The circuit of each function a plugin exports.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct Circuits {
    /// `suggest`: hints.
    pub suggest: CircuitState,
    /// `feedback`: the operator's choices.
    pub feedback: CircuitState,
    /// `observe`: conversation events.
    pub observe: CircuitState,
}

/// A circuit breaker's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Calls go through.
    #[default]
    Closed,
    /// Calls are skipped until the cooldown ends.
    Open,
}

impl Circuits {
    /// From the functions whose circuit is open (`PluginStats::open_circuits`).
    fn from_open(open: &[&str]) -> Circuits {
        let state = |f: &str| {
            if open.contains(&f) {
                CircuitState::Open
            } else {
                CircuitState::Closed
            }
        };
        Circuits {
            suggest: state("suggest"),
            feedback: state("feedback"),
            observe: state("observe"),
        }
    }
}

/// Every plugin with its health and figures.
#[utoipa::path(get, operation_id = "list_plugins", path = "/api/v1/plugins", tag = "plugins", params(StatsQuery),
    responses(
        (status = 200, description = "The plugins", body = PluginList),
        (status = 400, description = "A query parameter is wrong (named in `field`)", body = ErrorBody)))]
async fn list(
    State(app): State<App>,
    QueryParams(q): QueryParams<StatsQuery>,
) -> Result<Json<PluginList>, ApiError> {
    Ok(Json(plugin_list(&app, q).await?))
}

/// Rescans the plugin directory now, as hot reload does on a change: new and changed plugins
/// are loaded, removed ones dropped, broken ones reported. Answers the list after the reload.
#[utoipa::path(post, operation_id = "reload_plugins", path = "/api/v1/plugins/reload", tag = "plugins",
    responses((status = 200, description = "The plugins after the reload", body = PluginList)))]
async fn reload(State(app): State<App>) -> Result<Json<PluginList>, ApiError> {
    app.plugins.reload().await;
    tracing::info!(
        reloads = app.plugins.reloads(),
        "plugins reloaded on request"
    );
    Ok(Json(plugin_list(&app, StatsQuery::default()).await?))
}

async fn plugin_list(app: &App, q: StatsQuery) -> Result<PluginList, ApiError> {
    let registry = &app.plugins;
    let mut acceptance: BTreeMap<String, PluginAcceptance> = hint_stats(app, q)
        .await?
        .plugins
        .into_iter()
        .map(|a| (a.plugin.clone(), a))
        .collect();
    let mut stats: BTreeMap<String, PluginStats> = registry
        .stats()
        .into_iter()
        .map(|s| (s.plugin.clone(), s))
        .collect();
    // Failures and loads in progress are known by directory; loaded plugins by name.
    let mut failures: BTreeMap<String, String> = registry.failures().into_iter().collect();
    let mut plugins: Vec<PluginView> = registry
        .enabled()
        .into_iter()
        .map(|summary| {
            let name = summary.name.clone();
            let calls = stats.remove(&name);
            PluginView {
                status: LoadStatus::Loaded,
                load_error: failures.remove(&name),
                manifest: Some(summary),
                circuits: calls
                    .as_ref()
                    .map(|c| Circuits::from_open(&c.open_circuits))
                    .unwrap_or_default(),
                calls,
                hints: acceptance.remove(&name),
                name,
                directory: None,
            }
        })
        .collect();
    let unloaded = |directory: String, status, load_error| PluginView {
        name: std::path::Path::new(&directory)
            .file_name()
            .map_or_else(|| directory.clone(), |n| n.to_string_lossy().into_owned()),
        directory: Some(directory),
        circuits: Circuits::default(),
        calls: None,
        manifest: None,
        hints: None,
        status,
        load_error,
    };
    plugins.extend(
        failures
            .into_iter()
            .map(|(dir, error)| unloaded(dir, LoadStatus::Failed, Some(error))),
    );
    for dir in registry.loading() {
        if !plugins
            .iter()
            .any(|p| p.directory.as_deref() == Some(dir.as_str()))
        {
            plugins.push(unloaded(dir, LoadStatus::Loading, None));
        }
    }
    Ok(PluginList {
        loaded: registry.is_loaded(),
        reloads: registry.reloads(),
        plugins,
    })
}

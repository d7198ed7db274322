//! The composition root: builds every layer from a [`Config`] and holds them for the API.

use crate::config::Config;
use crate::context::{ContextError, ContextService};
use crate::ingest::Event;
use crate::store::{Appended, Store};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Everything a running hintd holds. Cloning is cheap.
#[derive(Clone)]
pub struct App {
    /// The configuration it was built from.
    pub config: Arc<Config>,
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Each dialog's context, and the writer every ingested event goes through.
    pub context: ContextService,
    /// Webhook subscriptions and delivery (workers started by `serve`).
    pub dispatch: crate::dispatch::Dispatcher,
    /// The provider plugins (loading in the background after `build`; see
    /// [`crate::plugins::Registry::loaded`]).
    pub plugins: crate::plugins::Registry,
    /// Prompter mode: hint requests, choices, callbacks.
    pub hints: crate::hints::Hints,
}

/// What accepting a platform event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored at this position of the event log.
    Stored {
        /// Event log position.
        seq: i64,
    },
    /// A redelivery of an event already stored: acknowledged, nothing changed.
    Duplicate,
}

impl App {
    /// Opens the store and builds every layer.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let store = crate::store::open(&config.store).await?;
        let context = ContextService::new(config.context.clone(), store.clone());
        context.check_pending_dialogs().await?;
        let dispatch =
            crate::dispatch::Dispatcher::new(&config.dispatch, &config.store.url, store.clone())?;
        // Plugins load in the background: the server answers health checks meanwhile, and
        // each plugin serves hints from the moment it is ready.
        let plugins = crate::plugins::Registry::start(&config.plugins, store.clone())?;
        let hints = crate::hints::Hints::new(
            config.hints.clone(),
            Arc::new(plugins.clone()),
            Arc::new(context.clone()),
            store.clone(),
        )?;
        hints.load_replay_index().await?;
        Ok(App {
            config: Arc::new(config),
            store,
            context,
            dispatch,
            plugins,
            hints,
        })
    }

    /// Builds every layer and starts every background loop: message retention, webhook
    /// delivery and, when configured, plugin hot reload. [`Running::shutdown`] stops them all;
    /// `serve` and the benchmarks start and stop hintd only this way.
    pub async fn start(config: Config) -> anyhow::Result<Running> {
        let app = App::build(config).await?;
        let retention = crate::context::spawn_retention(app.context.clone());
        app.dispatch.start().await?;
        let plugin_watch = match app.plugins.watch() {
            Ok(watch) => watch,
            Err(e) => {
                app.dispatch.stop().await;
                retention.abort();
                return Err(e.into());
            }
        };
        Ok(Running {
            app,
            retention,
            _plugin_watch: plugin_watch,
        })
    }

    /// Gives `event` what it needs before it is stored: a Chat2Desk message that names only
    /// its client gets the client's current dialog, and a pending dialog is merged into the
    /// real one when an event first names both.
    pub async fn resolve(&self, event: &mut Event) -> Result<(), ContextError> {
        self.context.resolve_dialog(event).await
    }

    /// Accepts one resolved platform event: its raw body and conversation changes are stored
    /// in one transaction (nothing on error), then memory is updated, plugins observe it off
    /// the request path, and a client message in `note` delivery schedules its private note.
    pub async fn accept(&self, raw_body: Vec<u8>, event: &Event) -> Result<Accepted, ContextError> {
        let received_at_ms = crate::core::now_ms();
        let appended = self.context.record(event, raw_body, received_at_ms).await?;
        let Appended::Stored { seq } = appended else {
            return Ok(Accepted::Duplicate);
        };
        self.dispatch.wake();
        self.hints
            .note_on_client_message(event, &self.config.sources);
        if self.plugins.observes()
            && let Some(observed) = crate::plugins::ConversationEvent::from_event(event)
        {
            self.plugins.observe(observed);
        }
        Ok(Accepted::Stored { seq })
    }
}

/// hintd with its background loops running (see [`App::start`]).
pub struct Running {
    app: App,
    retention: JoinHandle<()>,
    /// Hot reload of the plugin directory, while held.
    _plugin_watch: Option<crate::plugins::WatchGuard>,
}

impl Running {
    /// The application, for the router and the callers of its layers.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Stops every background loop after storing what is still queued for the store (an
    /// answer computed for a callback, say): the hint writer is flushed before its task goes
    /// away with the runtime, and webhook delivery hands back its leases.
    pub async fn shutdown(self) {
        self.app.hints.flush().await;
        self.retention.abort();
        self.app.dispatch.stop().await;
    }
}

impl Drop for Running {
    /// A `Running` dropped without [`Running::shutdown`] (a failed start, a test) leaves no
    /// retention task behind.
    fn drop(&mut self) {
        self.retention.abort();
    }
}

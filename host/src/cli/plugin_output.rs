//! What a plugin said during `hintd plugin check|run`: its `log` lines, its stdout and stderr
//! (a Python traceback goes to stderr) and the host's events about it (a refused request, a
//! failed call). In the server these are log events tagged with the plugin; here they are
//! collected from the same events and printed after the command, so an author sees them
//! without setting up logging.

use parking_lot::Mutex;
use std::fmt::Write as _;
use std::sync::Arc;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt as _};

/// The plugin events collected so far, one printable line each.
#[derive(Clone, Default)]
pub struct PluginOutput {
    lines: Arc<Mutex<Vec<String>>>,
}

impl PluginOutput {
    /// Collects the events of hintd's own code that name a plugin, from now on, for the rest
    /// of the process (the command's only subscriber).
    pub fn collect() -> PluginOutput {
        let output = PluginOutput::default();
        let only_hintd = Targets::new().with_target("hintd", LevelFilter::TRACE);
        let subscriber =
            tracing_subscriber::registry().with(output.clone().with_filter(only_hintd));
        // A subscriber set already (a test calling the command in-process) keeps its own.
        let _ = tracing::subscriber::set_global_default(subscriber);
        output
    }

    /// The lines collected so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().clone()
    }

    /// Prints the collected lines to stderr under a heading, or that there were none.
    pub fn print(&self, plugin: &str) {
        let lines = self.lines();
        if lines.is_empty() {
            eprintln!("{plugin}: no log lines or output");
            return;
        }
        eprintln!("{plugin}: log and output ({} lines):", lines.len());
        for line in lines {
            eprintln!("  {line}");
        }
    }
}

/// The fields of one event that make its line.
#[derive(Default)]
struct Fields {
    message: String,
    plugin: Option<String>,
    stream: Option<String>,
    text: Option<String>,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "plugin" => self.plugin = Some(value.to_string()),
            "stream" => self.stream = Some(value.to_string()),
            "text" => self.text = Some(value.to_string()),
            "message" => self.message = value.to_string(),
            name => {
                let _ = write!(self.rest, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%value` fields arrive here already formatted with Display.
        self.record_str(field, &format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> Layer<S> for PluginOutput {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.plugin.is_none() {
            return;
        }
        let level = event.metadata().level().as_str().to_ascii_lowercase();
        let line = match (fields.stream, fields.text) {
            (Some(stream), Some(text)) => format!("{stream}: {text}"),
            (Some(stream), None) => format!("{stream}: {}{}", fields.message, fields.rest),
            (None, Some(text)) => format!("log {level}: {text}"),
            (None, None) => format!("hintd {level}: {}{}", fields.message, fields.rest),
        };
        self.lines.lock().push(line);
    }
}

//! hintd's configuration: one TOML file (see `examples/hintd.toml`) whose sections belong to
//! the layers that read them, with `HINTD_*` environment overrides applied by the CLI.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Prefix of the generic overrides: `HINTD__SECTION__KEY=value` sets `[section] key`.
pub const ENV_OVERRIDE_PREFIX: &str = "HINTD__";

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("config file {path}, line {}, column {}: not valid TOML: {message}", at.line, at.column)]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where the parser stopped.
        at: Location,
        /// The parser's message.
        message: String,
    },
    /// A key is unknown or its value has the wrong type or form.
    #[error("`{key}`{}: {message}", at.as_ref().map(|(path, at)| format!(" (config file {}, line {}, column {})", path.display(), at.line, at.column)).unwrap_or_default())]
    Key {
        /// The dotted key (an unknown key included).
        key: String,
        /// Where the file sets it; none when an override set it.
        at: Option<(PathBuf, Location)>,
        /// What is wrong.
        message: String,
    },
    /// An override names a key that cannot be set (e.g. it crosses a non-table value).
    #[error("override `{key}`: {message}")]
    Override {
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Values that are each well-formed but not valid (ranges, relations between keys).
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the configuration: the TOML file (when given), then the generic
    /// `HINTD__SECTION__KEY=value` overrides found in `env`, then `sets` (dotted keys set by
    /// command-line flags and the named `HINTD_*` variables), and validates the result.
    /// Override values are read as TOML values when they parse as one (`8`, `true`,
    /// `["a","b"]`), else as strings.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        sets: &[(&str, toml::Value)],
    ) -> Result<Config, ConfigError> {
        let text = match file {
            Some(path) => {
                Some(
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                        path: path.into(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let mut tree = match (file, &text) {
            (Some(path), Some(text)) => {
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Syntax {
                        path: path.into(),
                        at: Location::of(text, e.span()),
                        message: e.message().trim_end().to_string(),
                    })?
            }
            _ => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(rest) = name.strip_prefix(ENV_OVERRIDE_PREFIX) else {
                continue;
            };
            let key = rest
                .split("__")
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
                .join(".");
            set_key(&mut tree, &key, parse_override(&value))?;
        }
        for (key, value) in sets {
            set_key(&mut tree, key, value.clone())?;
        }
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(tree)).map_err(|e| {
                let key = e.path().to_string();
                let at = file
                    .zip(text.as_deref())
                    .and_then(|(path, text)| Some((path.to_path_buf(), key_in_file(text, &key)?)));
                ConfigError::Key {
                    key,
                    at,
                    message: e.into_inner().message().trim_end().to_string(),
                }
            })?;
        config.validate().map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    /// Checks what serde cannot, for the sections this module owns.
    pub fn validate(&self) -> Result<(), String> {
        if self.server.body_limit_bytes < 1024 {
            return Err("server.body_limit_bytes must be at least 1024".into());
        }
        if self
            .server
            .admin_key
            .as_deref()
            .is_some_and(|k| k.len() < 8)
        {
            return Err("server.admin_key must be at least 8 characters".into());
        }
        self.server.validate_limits()?;
        self.sources.validate()?;
        self.context.validate()?;
        // Each layer checks its own section again when it is built; checking here too makes a
        // bad value fail at load time with the same message, before anything starts.
        self.plugins.validate().map_err(|e| e.to_string())?;
        self.hints.validate().map_err(|e| e.to_string())?;
        self.dispatch.validate().map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Reads an override value as TOML when it is one, else as a string.
fn parse_override(value: &str) -> toml::Value {
    format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()))
}

/// Sets a dotted key in a TOML tree, creating tables on the way.
fn set_key(tree: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), ConfigError> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ConfigError::Override {
            key: key.into(),
            message: "empty key segment".into(),
        });
    }
    let (last, path) = parts.split_last().expect("split yields at least one part");
    let mut table = tree;
    for part in path {
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry.as_table_mut().ok_or_else(|| ConfigError::Override {
            key: key.into(),
            message: format!("`{part}` is not a table"),
        })?;
    }
    table.insert(last.to_string(), value);
    Ok(())
}

/// The whole configuration. Every section has defaults, so an empty file is valid.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// HTTP server and admin API.
    pub server: ServerConfig,
    /// Persistence.
    pub store: crate::store::StoreConfig,
    /// Platform webhook endpoints, their secrets and accounts.
    pub sources: crate::ingest::SourcesConfig,
    /// Context window per dialog and message retention.
    pub context: crate::context::ContextConfig,
    /// Plugin directory and runtime limits.
    pub plugins: crate::plugins::PluginsConfig,
    /// Hint pipeline: deadline, merge, delivery.
    pub hints: crate::hints::HintsConfig,
    /// Webhook subscriptions and delivery.
    pub dispatch: crate::dispatch::DispatchConfig,
}

/// `[server]`: the listener and the admin API.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on: `IP:PORT`, or `HOST:PORT` with a name resolved once at load
    /// (`localhost:8080`: its first address).
    #[serde(deserialize_with = "listen_address")]
    pub listen: SocketAddr,
    /// Bearer key for `/api/v1/*`. Without one the admin API answers 401 to everyone.
    pub admin_key: Option<String>,
    /// Largest accepted request body, bytes (larger: 413).
    pub body_limit_bytes: usize,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// Connections open at once, at most. At the limit a new connection takes the place of
    /// the one that has waited longest without a request in progress; when every connection
    /// has a request in progress it gets a `503` at once and is closed.
    pub max_connections: usize,
    /// A request head (request line and headers) must be complete this long after its first
    /// byte arrived, ms; a client still sending it then is disconnected (Slowloris).
    pub header_read_timeout_ms: u64,
    /// A connection without a request in progress is closed after this long, ms: a fresh one
    /// that sends nothing, and a kept-alive one between requests.
    pub idle_timeout_ms: u64,
    /// Largest request head (request line and headers), bytes; larger: `431`.
    pub max_header_bytes: usize,
    /// A request body must be complete this long after its head, ms; later: `408` (a client
    /// trickling a body would otherwise hold a connection that cannot be evicted).
    pub body_read_timeout_ms: u64,
}

/// A line and column of the config file, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// The line.
    pub line: usize,
    /// The column, in characters.
    pub column: usize,
}

impl Location {
    /// Where the byte range `span` (a parser's) starts in `text`.
    fn of(text: &str, span: Option<std::ops::Range<usize>>) -> Location {
        let offset = span.map_or(text.len(), |s| s.start).min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

/// Where the file's own value of `key` is wrong: the file read alone fails at the same key.
/// None when the file alone is fine there (an override set the bad value).
fn key_in_file(text: &str, key: &str) -> Option<Location> {
    let err =
        serde_path_to_error::deserialize::<_, Config>(toml::de::Deserializer::new(text)).err()?;
    (err.path().to_string() == key).then(|| Location::of(text, err.inner().span()))
}

/// `server.listen`: an address, or a name and a port resolved here (from `/etc/hosts` for
/// `localhost`), so that the configuration holds the address the listener binds.
fn listen_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    use std::net::ToSocketAddrs;
    let text = String::deserialize(d)?;
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let invalid = |why: String| serde::de::Error::custom(format!("`{text}` {why}"));
    let mut addrs = text
        .to_socket_addrs()
        .map_err(|e| invalid(format!("is not HOST:PORT or cannot be resolved ({e})")))?;
    addrs
        .next()
        .ok_or_else(|| invalid("resolves to no address".into()))
}

/// Longest request head `server.max_header_bytes` may allow: within the HTTP layer's read
/// buffer, so that the limit is the one that applies.
pub const MAX_HEADER_BYTES_CEILING: usize = 256 * 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: ([127, 0, 0, 1], 8080).into(),
            admin_key: None,
            body_limit_bytes: 1024 * 1024,
            log_format: LogFormat::Text,
            max_connections: 10_000,
            header_read_timeout_ms: 10_000,
            // Longer than the 60 s idle timeout of common load balancers, so that the
            // balancer, not hintd, closes a kept-alive connection it may be about to reuse.
            idle_timeout_ms: 75_000,
            max_header_bytes: 16 * 1024,
            body_read_timeout_ms: 30_000,
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    // The admin key never reaches logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("admin_key", &self.admin_key.as_ref().map(|_| "***"))
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("log_format", &self.log_format)
            .field("max_connections", &self.max_connections)
            .field("header_read_timeout_ms", &self.header_read_timeout_ms)
            .field("idle_timeout_ms", &self.idle_timeout_ms)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("body_read_timeout_ms", &self.body_read_timeout_ms)
            .finish()
    }
}

impl ServerConfig {
    /// Checks the connection limits.
    fn validate_limits(&self) -> Result<(), String> {
        if self.max_connections == 0 {
            return Err("server.max_connections must be at least 1".into());
        }
        if self.header_read_timeout_ms < 100 {
            return Err("server.header_read_timeout_ms must be at least 100".into());
        }
        if self.idle_timeout_ms < 100 {
            return Err("server.idle_timeout_ms must be at least 100".into());
        }
        if self.body_read_timeout_ms < 100 {
            return Err("server.body_read_timeout_ms must be at least 100".into());
        }
        if !(1024..=MAX_HEADER_BYTES_CEILING).contains(&self.max_header_bytes) {
            return Err(format!(
                "server.max_header_bytes must be between 1024 and {MAX_HEADER_BYTES_CEILING}"
            ));
        }
        Ok(())
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_env_and_flags_layer_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hintd.toml");
        std::fs::write(
            &path,
            "[server]\nbody_limit_bytes = 2048\n[context]\nmax_messages = 10\n",
        )
        .unwrap();
        let env = vec![
            ("HINTD__CONTEXT__MAX_MESSAGES".to_string(), "20".to_string()),
            (
                "HINTD__SOURCES__CHAT2DESK__TOKEN".to_string(),
                "tok en".to_string(),
            ),
            ("UNRELATED".to_string(), "x".to_string()),
        ];
        let sets = [("server.listen", toml::Value::String("127.0.0.1:0".into()))];
        let c = Config::load(Some(&path), env, &sets).unwrap();
        assert_eq!(c.server.body_limit_bytes, 2048);
        assert_eq!(c.context.max_messages, 20);
        assert_eq!(
            c.sources.chat2desk.unwrap().token.as_deref(),
            Some("tok en")
        );
        assert_eq!(c.server.listen.port(), 0);
    }

    #[test]
    fn errors_name_the_key_and_where_the_file_sets_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hintd.toml");
        let load = |text: &str, env: Vec<(String, String)>| {
            std::fs::write(&path, text).unwrap();
            Config::load(Some(&path), env, &[]).unwrap_err().to_string()
        };
        let file = path.display();
        assert_eq!(
            load("[server]\nmax_connections = \"x\"\n", Vec::new()),
            format!(
                "`server.max_connections` (config file {file}, line 2, column 19): \
                 invalid type: string \"x\", expected usize"
            )
        );
        let unknown = load("[context]\nmax_messages = 5\nmax_mesages = 6\n", Vec::new());
        assert!(
            unknown.starts_with(&format!(
                "`context.max_mesages` (config file {file}, line 3, column 1): unknown field `max_mesages`"
            )),
            "{unknown}"
        );
        // Set by an override: the key, and no place in the file.
        let by_env = load(
            "[server]\n",
            vec![("HINTD__SERVER__MAX_CONNECTIONS".into(), "many".into())],
        );
        assert_eq!(
            by_env,
            "`server.max_connections`: invalid type: string \"many\", expected usize"
        );
        let syntax = load("[server]\nmax_connections = [\n", Vec::new());
        assert!(
            syntax.starts_with(&format!(
                "config file {file}, line 3, column 1: not valid TOML"
            )),
            "{syntax}"
        );
        let missing =
            Config::load(Some(&dir.path().join("none.toml")), Vec::new(), &[]).unwrap_err();
        assert_eq!(
            missing.to_string(),
            format!(
                "cannot read config file {}",
                dir.path().join("none.toml").display()
            )
        );
        assert!(std::error::Error::source(&missing).is_some());
    }

    #[test]
    fn listen_takes_a_host_name() {
        let set = |v: &str| [("server.listen", toml::Value::String(v.into()))];
        let c = Config::load(None, Vec::new(), &set("localhost:8081")).unwrap();
        assert!(c.server.listen.ip().is_loopback(), "{}", c.server.listen);
        assert_eq!(c.server.listen.port(), 8081);
        let c = Config::load(None, Vec::new(), &set("[::1]:9")).unwrap();
        assert_eq!(c.server.listen, "[::1]:9".parse().unwrap());
        let err = Config::load(None, Vec::new(), &set("localhost")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`server.listen`: `localhost` is not HOST:PORT"),
            "{err}"
        );
    }

    #[test]
    fn the_sample_configuration_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hintd.toml");
        let c = Config::load(Some(&path), Vec::new(), &[]).unwrap();
        assert!(
            c.sources
                .account(crate::core::Source::Chatwoot, Some("shop"))
                .is_ok()
        );
        assert_eq!(c.context.max_messages, 50);
    }

    #[test]
    fn errors_are_precise() {
        let err =
            Config::load(None, vec![("HINTD__SERVER__NOPE".into(), "1".into())], &[]).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let err = Config::load(
            None,
            vec![("HINTD__CONTEXT__MAX_MESSAGES".into(), "0".into())],
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("context.max_messages"), "{err}");
        let err =
            Config::load(Some(Path::new("/nonexistent/hintd.toml")), Vec::new(), &[]).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
    }

    #[test]
    fn server_limits_have_defaults_and_bounds() {
        let c = Config::load(None, Vec::new(), &[]).unwrap();
        assert_eq!(c.server.max_connections, 10_000);
        assert_eq!(c.server.header_read_timeout_ms, 10_000);
        assert_eq!(c.server.idle_timeout_ms, 75_000);
        assert_eq!(c.server.max_header_bytes, 16 * 1024);
        assert_eq!(c.server.body_read_timeout_ms, 30_000);
        for (key, value, wanted) in [
            ("MAX_CONNECTIONS", "0", "server.max_connections"),
            (
                "HEADER_READ_TIMEOUT_MS",
                "5",
                "server.header_read_timeout_ms",
            ),
            ("IDLE_TIMEOUT_MS", "0", "server.idle_timeout_ms"),
            ("BODY_READ_TIMEOUT_MS", "99", "server.body_read_timeout_ms"),
            ("MAX_HEADER_BYTES", "100", "server.max_header_bytes"),
            ("MAX_HEADER_BYTES", "10000000", "server.max_header_bytes"),
        ] {
            let err = Config::load(
                None,
                vec![(format!("HINTD__SERVER__{key}"), value.to_string())],
                &[],
            )
            .unwrap_err();
            assert!(err.to_string().contains(wanted), "{key}={value}: {err}");
        }
    }
}

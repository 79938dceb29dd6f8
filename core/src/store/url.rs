//! Database URLs: `sqlite://path`, `sqlite:path`, `sqlite::memory:`, `postgres://…`.

use super::Backend;
use crate::config::ConfigError;

/// A checked database URL.
#[derive(Debug, Clone)]
pub(crate) struct DatabaseUrl {
    backend: Backend,
    connect: String,
    memory: bool,
    sqlite_path: Option<std::path::PathBuf>,
}

impl DatabaseUrl {
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }
    pub(crate) fn connect_url(&self) -> &str {
        &self.connect
    }
    pub(crate) fn is_memory(&self) -> bool {
        self.memory
    }
    /// The file of a SQLite database.
    pub(crate) fn sqlite_path(&self) -> Option<&std::path::Path> {
        self.sqlite_path.as_deref()
    }
}

/// Parses and checks `url`; SQLite files are created if missing.
pub(crate) fn parse(url: &str) -> Result<DatabaseUrl, ConfigError> {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")) {
        if rest.is_empty() {
            return Err(ConfigError::Url { reason: "missing host or database" });
        }
        return Ok(DatabaseUrl {
            backend: Backend::Postgres,
            connect: url.to_owned(),
            memory: false,
            sqlite_path: None,
        });
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(ConfigError::Url { reason: "missing SQLite file path" });
        }
        if path == ":memory:" {
            return Ok(DatabaseUrl {
                backend: Backend::Sqlite,
                connect: "sqlite::memory:".into(),
                memory: true,
                sqlite_path: None,
            });
        }
        let mode = if query.contains("mode=") { String::new() } else { "mode=rwc".to_owned() };
        let sep = if query.is_empty() || mode.is_empty() { "" } else { "&" };
        return Ok(DatabaseUrl {
            backend: Backend::Sqlite,
            connect: format!("sqlite://{path}?{query}{sep}{mode}"),
            memory: false,
            sqlite_path: Some(path.into()),
        });
    }
    Err(ConfigError::Url { reason: "unsupported scheme: use sqlite:// or postgres://" })
}

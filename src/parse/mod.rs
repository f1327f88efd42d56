//! The parse stage: pure functions from a log message to typed fields.
//!
//! A parser is picked by the log type in the log group name (see
//! [`Registry::for_source`]). Adding an engine format is one new file in this
//! folder plus one line in [`Registry::builtin`].

mod mysql_audit;
mod mysql_common;
mod mysql_error;
mod mysql_general;
mod mysql_slow;
mod passthrough;

use mysql_audit::MySqlAudit;
use mysql_error::MySqlError;
use mysql_general::MySqlGeneral;
use mysql_slow::MySqlSlow;
pub use passthrough::Passthrough;

use crate::record::Attributes;
use crate::severity::Severity;
use crate::source::{EngineFamily, SourceInfo};

/// What a parser found in one message. Everything is optional: a parser
/// fills what it recognised and leaves the rest to the pipeline's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The database's own time for the entry (Unix ns), better than the
    /// CloudWatch event timestamp when present.
    pub timestamp_ns: Option<i64>,
    pub severity: Option<Severity>,
    pub attributes: Attributes,
    /// A `db.system.name` found from content (e.g. MariaDB vs MySQL), which
    /// overrides the one the log type implies.
    pub db_system: Option<&'static str>,
    /// Why the message matched no rule; the record is still forwarded with
    /// its raw body and this reason in `rds.parse.error`.
    pub error: Option<String>,
}

impl Parsed {
    /// A result for a message no rule matched.
    pub fn unrecognised(reason: impl Into<String>) -> Self {
        Parsed {
            error: Some(reason.into()),
            ..Parsed::default()
        }
    }
}

/// One record-to-be: one CloudWatch event, or several that a parser joined
/// (e.g. a PostgreSQL ERROR and its STATEMENT line).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Every CloudWatch event id this entry covers; the first is its own.
    pub event_ids: Vec<String>,
    /// The CloudWatch event timestamp of the first event (Unix ms).
    pub cloudwatch_timestamp_ms: i64,
    pub body: String,
    pub parsed: Parsed,
}

/// A log format. Implementations are stateless and shared across batches.
pub trait LogParser: Send + Sync {
    /// Short name, reported in `rds.parser`.
    fn name(&self) -> &'static str;

    /// Reads one message. Must not panic on any input.
    fn parse(&self, message: &str) -> Parsed;

    /// Joins entries that belong together within one batch (companion lines).
    /// The default keeps one entry per event.
    fn join(&self, entries: Vec<Entry>) -> Vec<Entry> {
        entries
    }
}

/// Maps log types (and engine families) to parsers.
pub struct Registry {
    by_log_type: Vec<(&'static str, Option<EngineFamily>, &'static dyn LogParser)>,
    fallback: &'static dyn LogParser,
}

impl Registry {
    /// The parsers shipped with rds-forwarder.
    pub fn builtin() -> Self {
        let mut r = Registry {
            by_log_type: Vec::new(),
            fallback: &Passthrough,
        };
        r.register("error", Some(EngineFamily::MySql), &MySqlError);
        r.register("slowquery", Some(EngineFamily::MySql), &MySqlSlow);
        r.register("general", Some(EngineFamily::MySql), &MySqlGeneral);
        r.register("audit", Some(EngineFamily::MySql), &MySqlAudit);
        r
    }

    /// Registers `parser` for `log_type` (or a `prefix*`), optionally only for one family
    /// (`error` is written by MySQL and SQL Server alike).
    pub fn register(
        &mut self,
        log_type: &'static str,
        family: Option<EngineFamily>,
        parser: &'static dyn LogParser,
    ) {
        self.by_log_type.push((log_type, family, parser));
    }

    /// The parser for a source; the pass-through parser when none is known.
    pub fn for_source(&self, source: &SourceInfo) -> &'static dyn LogParser {
        let Some(log_type) = source.log_type.as_deref() else {
            return self.fallback;
        };
        self.by_log_type
            .iter()
            .find(|(pattern, fam, _)| {
                log_type_matches(pattern, log_type) && (fam.is_none() || *fam == source.family)
            })
            .map(|(_, _, p)| *p)
            .unwrap_or(self.fallback)
    }
}

/// `pattern` is a log type, or a prefix ending in `*` (`oemagent*`).
fn log_type_matches(pattern: &str, log_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => log_type.starts_with(prefix),
        None => pattern == log_type,
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

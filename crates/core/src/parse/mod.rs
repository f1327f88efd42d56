//! The parse stage: pure functions from a log message to typed fields.
//!
//! A parser is picked by the log type in the log group name (see
//! [`Registry::for_source`]), from the format descriptors in [`format`].
//! Adding an engine format is one new file in this folder plus one entry in
//! [`format::FORMATS`].

#[cfg(test)]
mod distinct_keys_tests;
pub mod entry_start;
pub mod format;
pub mod iam_auth;
mod mysql_audit;
mod mysql_common;
mod mysql_error;
mod mysql_general;
mod mysql_slow;
pub mod oracle;
mod passthrough;
pub mod postgres;
pub mod proxy;
pub(crate) mod scan;
pub mod sqlserver;

use mysql_audit::MySqlAudit;
use mysql_error::MySqlError;
use mysql_general::MySqlGeneral;
use mysql_slow::MySqlSlow;
pub use passthrough::Passthrough;

use crate::record::Attributes;
use crate::severity::Severity;
use crate::source::SourceInfo;
use format::{LogFormat, FORMATS};

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

/// An entry's event ids: one inline (the usual case), more on the heap only
/// when a parser joined events. A `Vec` cost a heap allocation and free per
/// event for its one id (callgrind). `vec![..].into()` builds one in tests.
pub type EventIds = smallvec::SmallVec<[String; 1]>;

/// One record-to-be: one CloudWatch event, or several that a parser joined
/// (e.g. a PostgreSQL ERROR and its STATEMENT line).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Every CloudWatch event id this entry covers; the first is its own.
    pub event_ids: EventIds,
    /// The CloudWatch event timestamp of the first event (Unix ms).
    pub cloudwatch_timestamp_ms: i64,
    pub body: String,
    pub parsed: Parsed,
    /// When one CloudWatch event held several entries ([`LogParser::split`]):
    /// this entry's place among them, from 1; `None` for a whole event.
    pub part: Option<u32>,
}

/// A log format. Implementations are stateless and shared across batches.
pub trait LogParser: Send + Sync {
    /// Short name, reported in `rds.parser`.
    fn name(&self) -> &'static str;

    /// Reads one message. Must not panic on any input.
    fn parse(&self, message: &str) -> Parsed;

    /// Cuts one message that holds several entries (e.g. two slow-query
    /// blocks RDS published as one event) into them, in order; `None` (the
    /// default, and the usual case) when it holds one. Each part is parsed
    /// and becomes a record of its own.
    fn split<'m>(&self, _message: &'m str) -> Option<Vec<&'m str>> {
        None
    }

    /// Joins entries that belong together within one batch (companion lines).
    /// The default keeps one entry per event.
    fn join(&self, entries: Vec<Entry>) -> Vec<Entry> {
        entries
    }
}

pub use format::ContentTest;

/// Picks parsers from the format descriptors.
pub struct Registry {
    formats: Vec<&'static LogFormat>,
    fallback: &'static dyn LogParser,
}

impl Registry {
    /// The parsers shipped with rds-forwarder ([`FORMATS`]).
    pub fn builtin() -> Self {
        Registry {
            formats: FORMATS.iter().collect(),
            fallback: &Passthrough,
        }
    }

    /// The parser for one batch: by the source's log type, refined by the
    /// batch's first non-empty message where engines share the log type (a
    /// log group belongs to one database, so one sample decides).
    pub fn for_batch<'m>(
        &self,
        source: &SourceInfo,
        mut messages: impl Iterator<Item = &'m str>,
    ) -> &'static dyn LogParser {
        let log_type = source.log_type.as_deref().unwrap_or("");
        let shared: Vec<&LogFormat> = self
            .formats
            .iter()
            .copied()
            .filter(|f| f.sniff.is_some() && f.covers(log_type))
            .collect();
        if !shared.is_empty() {
            if let Some(sample) = messages.find(|m| !m.trim().is_empty()) {
                if let Some(f) = shared.iter().find(|f| f.sniff.is_some_and(|t| t(sample))) {
                    return f.parser;
                }
            }
        }
        self.for_source(source)
    }

    /// The parser for a source: the format of its log type for its family,
    /// else the log type's default; the pass-through parser when none is
    /// known.
    pub fn for_source(&self, source: &SourceInfo) -> &'static dyn LogParser {
        let Some(log_type) = source.log_type.as_deref() else {
            return self.fallback;
        };
        let covering = || self.formats.iter().filter(|f| f.covers(log_type));
        covering()
            .find(|f| Some(f.family) == source.family)
            .or_else(|| covering().find(|f| f.sniff.is_none()))
            .map_or(self.fallback, |f| f.parser)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_log_types_are_told_apart_by_content() {
        let r = Registry::builtin();
        let error = SourceInfo::from_log_group("/aws/rds/instance/db1/error");
        let mysql = "2023-04-27 14:36:09 14487 [Warning] Access denied for user 'dev'@'1.2.3.4' (using password: YES)";
        let mssql = "2024-05-23 06:09:53.813 Logon       Login failed for user 'sa'. Reason: Password did not match. [CLIENT: 10.0.0.5]";
        assert_eq!(
            r.for_batch(&error, [mysql].into_iter()).name(),
            r.for_source(&error).name()
        );
        assert_eq!(
            r.for_batch(&error, ["", mssql].into_iter()).name(),
            sqlserver::SQLSERVER.name()
        );
        assert_ne!(sqlserver::SQLSERVER.name(), r.for_source(&error).name());
        // No sample: the log type's default.
        assert_eq!(
            r.for_batch(&error, std::iter::empty()).name(),
            r.for_source(&error).name()
        );
    }
}

//! The parse stage: pure functions from a log message to typed fields.
//!
//! A parser is picked by the log type in the log group name (see
//! [`Registry::for_source`]). Adding an engine format is one new file in this
//! folder plus one line in [`Registry::builtin`].

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

/// Tells from one message whether it comes from a given engine.
pub type ContentTest = fn(&str) -> bool;

/// Maps log types (and engine families) to parsers.
pub struct Registry {
    by_log_type: Vec<(&'static str, Option<EngineFamily>, &'static dyn LogParser)>,
    /// Log types several engines share, told apart by content: (log type,
    /// test on a sample message, the family it reveals).
    sniffers: Vec<(&'static str, ContentTest, EngineFamily)>,
    fallback: &'static dyn LogParser,
}

impl Registry {
    /// The parsers shipped with rds-forwarder.
    pub fn builtin() -> Self {
        let mut r = Registry {
            by_log_type: Vec::new(),
            sniffers: Vec::new(),
            fallback: &Passthrough,
        };
        r.register("postgresql", None, &postgres::POSTGRESQL);
        r.register("upgrade", None, &postgres::UPGRADE);
        r.register("alert", None, &oracle::ORACLE);
        r.register("listener", None, &oracle::ORACLE);
        r.register("trace", None, &oracle::ORACLE);
        r.register("oemagent*", None, &oracle::ORACLE);
        r.register("audit", Some(EngineFamily::Oracle), &oracle::ORACLE);
        r.register(
            "error",
            Some(EngineFamily::SqlServer),
            &sqlserver::SQLSERVER,
        );
        r.register("agent", None, &sqlserver::SQLSERVER);
        r.sniff(
            "error",
            sqlserver::looks_like_sqlserver,
            EngineFamily::SqlServer,
        );
        r.sniff(
            "audit",
            oracle::looks_like_oracle_audit,
            EngineFamily::Oracle,
        );
        r.register("proxy", None, &proxy::Proxy);
        r.register("iam-db-auth-error", None, &iam_auth::IamAuth);
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

    /// Declares that `log_type` may come from `family` too, recognised by
    /// `test` on a message (RDS names SQL Server's error log and Oracle's
    /// audit log like MySQL's, so the group name cannot tell).
    pub fn sniff(&mut self, log_type: &'static str, test: ContentTest, family: EngineFamily) {
        self.sniffers.push((log_type, test, family));
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
        let shared: Vec<_> = self
            .sniffers
            .iter()
            .filter(|(t, _, _)| *t == log_type)
            .collect();
        if !shared.is_empty() {
            if let Some(sample) = messages.find(|m| !m.trim().is_empty()) {
                if let Some((_, _, family)) = shared.iter().find(|(_, test, _)| test(sample)) {
                    let refined = SourceInfo {
                        family: Some(*family),
                        ..source.clone()
                    };
                    return self.for_source(&refined);
                }
            }
        }
        self.for_source(source)
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

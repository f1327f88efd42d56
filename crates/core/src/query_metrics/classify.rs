//! What one record contributes to the query metrics, read in one pass over
//! its attributes (no lookups per key: records carry ~15 of them).

use super::{as_f64, as_i64, band, is_error, names, ConnectionEvent};
use crate::record::{keys, Record};

/// The parts of a record the aggregator sums.
#[derive(Debug, Default)]
pub(super) struct Observed<'a> {
    pub fingerprint_id: Option<&'a str>,
    pub fingerprint: Option<&'a str>,
    /// `NaN` when the attribute is there but not a number.
    pub duration_ms: Option<f64>,
    pub rows_sent: Option<i64>,
    pub rows_examined: Option<i64>,
    pub lock_time_ms: Option<f64>,
    pub status_code: Option<&'a str>,
    /// The severity band when the record counts as an error.
    pub error_band: Option<&'static str>,
    pub connection: Option<ConnectionEvent>,
    /// (metric, `db.postgresql.event`, seconds).
    pub maintenance: Option<(&'static str, &'static str, f64)>,
}

pub(super) fn classify(record: &Record) -> Observed<'_> {
    let mut o = Observed::default();
    let mut parser = "";
    let mut pg_event = "";
    let mut audit_op = "";
    let mut audit_retcode = 0i64;
    let mut command = "";
    let mut checkpoint_s = None;
    let mut elapsed_s = None;
    for (k, v) in record.attributes.iter() {
        match k {
            _ if k == keys::DB_QUERY_FINGERPRINT_ID => o.fingerprint_id = v.as_str(),
            _ if k == keys::DB_QUERY_FINGERPRINT => o.fingerprint = v.as_str(),
            _ if k == keys::DB_QUERY_DURATION_MS => {
                o.duration_ms = Some(as_f64(v).unwrap_or(f64::NAN))
            }
            _ if k == keys::MYSQL_ROWS_SENT => o.rows_sent = as_i64(v),
            _ if k == keys::MYSQL_ROWS_EXAMINED => o.rows_examined = as_i64(v),
            _ if k == keys::MYSQL_LOCK_TIME_MS => o.lock_time_ms = as_f64(v),
            _ if k == keys::DB_RESPONSE_STATUS_CODE => o.status_code = v.as_str(),
            _ if k == keys::PARSER => parser = v.as_str().unwrap_or(""),
            _ if k == keys::PG_EVENT => pg_event = v.as_str().unwrap_or(""),
            _ if k == keys::MYSQL_AUDIT_OPERATION => audit_op = v.as_str().unwrap_or(""),
            _ if k == keys::MYSQL_AUDIT_RETCODE => audit_retcode = as_i64(v).unwrap_or(0),
            _ if k == keys::MYSQL_COMMAND => command = v.as_str().unwrap_or(""),
            _ if k == keys::PG_CHECKPOINT_TOTAL_S => checkpoint_s = as_f64(v),
            _ if k == keys::PG_ELAPSED_S => elapsed_s = as_f64(v),
            _ => {}
        }
    }
    let failed_audit = audit_op == "FAILED_CONNECT" || audit_retcode != 0;
    if is_error(&record.severity) || failed_audit {
        o.error_band = Some(band(&record.severity));
    }
    o.connection = connection(
        record,
        parser,
        pg_event,
        audit_op,
        audit_retcode,
        command,
        o.status_code,
    );
    o.maintenance = match pg_event {
        "checkpoint_complete" | "restartpoint_complete" => checkpoint_s.map(|s| {
            let event = if pg_event == "checkpoint_complete" {
                "checkpoint_complete"
            } else {
                "restartpoint_complete"
            };
            (names::CHECKPOINT_DURATION, event, s)
        }),
        "autovacuum" => elapsed_s.map(|s| (names::AUTOVACUUM_DURATION, "autovacuum", s)),
        "autoanalyze" => elapsed_s.map(|s| (names::AUTOVACUUM_DURATION, "autoanalyze", s)),
        _ => None,
    };
    o
}

/// Connections, authentication failures and disconnections, as each
/// engine's logs tell them (see `docs/schema.md`).
fn connection(
    record: &Record,
    parser: &str,
    pg_event: &str,
    audit_op: &str,
    audit_retcode: i64,
    command: &str,
    status_code: Option<&str>,
) -> Option<ConnectionEvent> {
    use ConnectionEvent::*;
    match pg_event {
        "connection_authorized" => return Some(Connect),
        "disconnection" => return Some(Disconnect),
        _ => {}
    }
    match audit_op {
        "FAILED_CONNECT" => return Some(AuthFailure),
        "CONNECT" if audit_retcode != 0 => return Some(AuthFailure),
        "CONNECT" => return Some(Connect),
        "DISCONNECT" => return Some(Disconnect),
        _ => {}
    }
    const DENIED: &str = "Access denied for user";
    match (parser, command) {
        ("mysql_general", "Connect") if record.body.contains(DENIED) => return Some(AuthFailure),
        ("mysql_general", "Connect") => return Some(Connect),
        ("mysql_general", "Quit") => return Some(Disconnect),
        ("mysql_error", _) if record.body.contains(DENIED) => return Some(AuthFailure),
        _ => {}
    }
    // PostgreSQL invalid_password / invalid_authorization_specification;
    // SQL Server `Login failed`.
    if let Some("28P01" | "28000" | "18456") = status_code {
        return Some(AuthFailure);
    }
    // PostgreSQL without `%e` in the prefix: the FATAL line's own words.
    if parser.starts_with("postgres")
        && record.severity.number >= crate::severity::FATAL
        && (record.body.contains("authentication failed for user")
            || record.body.contains("no pg_hba.conf entry"))
    {
        return Some(AuthFailure);
    }
    None
}

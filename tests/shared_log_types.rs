//! `error` and `audit` log groups are named alike for MySQL, SQL Server and
//! Oracle; the pipeline tells them apart by content, end to end.

use crate::common;

use common::*;

fn payload(group: &str, messages: &[&str]) -> Vec<u8> {
    awslogs_event(&subscription_doc(group, messages))
}

fn records(group: &str, messages: &[&str]) -> Vec<serde_json::Value> {
    let out = process(&payload(group, messages));
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    out.records.with_resources().map(as_json).collect()
}

#[test]
fn sql_server_error_log_gets_the_sql_server_parser() {
    let text =
        std::fs::read_to_string(manifest_dir().join("tests/data/parse/documented/error.log"))
            .unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let recs = records("/aws/rds/instance/mssql-1/error", &lines);
    assert_eq!(recs.len(), lines.len());
    for r in &recs {
        assert_eq!(
            r["resource"]["db.system.name"], "microsoft.sql_server",
            "{r}"
        );
        assert_eq!(r["attributes"]["rds.parser"], "sqlserver", "{r}");
        assert!(r["attributes"]["rds.parse.error"].is_null(), "{r}");
    }
}

#[test]
fn mysql_error_log_keeps_the_mysql_parser() {
    let recs = records(
        "/aws/rds/instance/maria-1/error",
        &["2023-04-27 14:36:09 14487 [Warning] Access denied for user 'dev'@'1.2.3.4' (using password: YES)"],
    );
    assert_eq!(recs[0]["resource"]["db.system.name"], "mariadb");
    assert_ne!(recs[0]["attributes"]["rds.parser"], "sqlserver");
}

/// A MySQL-family batch whose content cannot tell MySQL from MariaDB (general
/// log lines without the time column, as in any batch within one second).
const GENERAL_NO_TIME: [&str; 2] = ["\t\t     4 Query\tSELECT VERSION()", "\t\t     4 Quit\t"];

#[test]
fn mariadb_general_log_without_a_banner_is_never_labelled_mysql() {
    let recs = records("/aws/rds/instance/maria-2/general", &GENERAL_NO_TIME);
    for r in &recs {
        assert!(r["resource"]["db.system.name"].is_null(), "{r}");
        assert_eq!(
            r["resource"]["aws.rds.engine_family"], "mysql_or_mariadb",
            "{r}"
        );
    }
}

#[test]
fn the_engine_a_log_group_named_once_labels_its_later_batches() {
    let pipeline = pipeline();
    let group = "/aws/rds/instance/maria-3/general";
    let run = |messages: &[&str]| {
        let out = pipeline.process(&payload(group, messages), OBSERVED_NS);
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        out.records
            .with_resources()
            .map(as_json)
            .collect::<Vec<_>>()
    };
    // The first batch names the engine (MariaDB's short time column) ...
    let first = run(&["261125  7:52:29\t     3 Connect\troot@localhost on  using Socket"]);
    assert_eq!(first[0]["resource"]["db.system.name"], "mariadb");
    // ... so a later batch that cannot tell is still MariaDB, not a guess.
    for r in run(&GENERAL_NO_TIME) {
        assert_eq!(r["resource"]["db.system.name"], "mariadb", "{r}");
        assert!(r["resource"]["aws.rds.engine_family"].is_null(), "{r}");
    }
    // Another group learns nothing from it.
    let other = pipeline.process(
        &payload("/aws/rds/instance/other/general", &GENERAL_NO_TIME),
        OBSERVED_NS,
    );
    assert!(other
        .records
        .resource_of(0)
        .get_str(rdsf_core::record::keys::DB_SYSTEM_NAME)
        .is_none());
}

/// `log_error_verbosity = verbose` (allowed on RDS and Aurora) writes the
/// SQLSTATE before the message and a LOCATION line after it.
#[test]
fn postgresql_verbose_error_verbosity_keeps_statement_duration_and_sqlstate() {
    const P: &str = "2026-11-25 07:59:31 UTC:10.0.0.5(5432):app@shop:[97390]:";
    let lines = [
        format!("{P}LOG:  00000: duration: 12.5 ms  statement: SELECT 1"),
        format!("{P}LOCATION:  exec_simple_query, postgres.c:1303"),
        format!("{P}ERROR:  42P01: relation \"x\" does not exist at character 15"),
        format!("{P}LOCATION:  parserOpenTable, parse_relation.c:1384"),
        format!("{P}STATEMENT:  SELECT * FROM x"),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let recs = records("/aws/rds/instance/pg-1/postgresql", &lines);
    assert_eq!(recs.len(), 2, "{recs:?}");
    let a = &recs[0]["attributes"];
    assert!(a["rds.parse.error"].is_null(), "{a}");
    assert_eq!(a["db.query.duration_ms"], 12.5, "{a}");
    assert_eq!(a["db.query.text"], "SELECT 1", "{a}");
    assert_eq!(a["db.operation.name"], "SELECT", "{a}");
    assert_eq!(
        a["db.postgresql.location"],
        "exec_simple_query, postgres.c:1303"
    );
    let b = &recs[1]["attributes"];
    assert_eq!(b["db.response.status_code"], "42P01", "{b}");
    assert_eq!(b["db.query.text"], "SELECT * FROM x", "{b}");
    assert_eq!(
        b["db.postgresql.location"],
        "parserOpenTable, parse_relation.c:1384"
    );
}

/// A slow-query event holding two entries becomes two records, each with
/// its own duration and statement, both naming the event; their stable ids
/// differ (`<event id>.<N>`), so neither is dropped as the other's duplicate.
#[test]
fn slow_query_event_with_two_entries_makes_two_records() {
    let two = "# Time: 2026-11-25T07:52:29.100000Z\n# User@Host: app[app] @  [10.0.0.7]  Id:    12\n# Query_time: 1.500000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 10\nSET timestamp=1795593149;\nSELECT SLEEP(1.5);\n# Time: 2026-11-25T07:52:31.200000Z\n# User@Host: app[app] @  [10.0.0.7]  Id:    13\n# Query_time: 2.250000  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0\nSET timestamp=1795593151;\nUPDATE t SET a = 1;";
    let one = "# User@Host: app[app] @  [10.0.0.7]  Id:    14\n# Query_time: 0.300000  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0\nSET timestamp=1795593152;\nDELETE FROM t;";
    let p = payload("/aws/rds/instance/my-1/slowquery", &[two, one]);
    let out = process(&p);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let recs: Vec<serde_json::Value> = out.records.with_resources().map(as_json).collect();
    assert_eq!(recs.len(), 3, "{recs:#?}");
    let event = format!("{:056}", 1);
    for (r, (ms, sql, part)) in recs.iter().zip([
        (1500.0, "SELECT SLEEP(1.5)", Some(1)),
        (2250.0, "UPDATE t SET a = 1", Some(2)),
        (300.0, "DELETE FROM t", None),
    ]) {
        let a = &r["attributes"];
        assert!(a["rds.parse.error"].is_null(), "{r}");
        assert_eq!(a["db.query.duration_ms"], ms, "{r}");
        assert_eq!(a["db.query.text"], sql, "{r}");
        assert_eq!(a["aws.cloudwatch.event_part"].as_i64(), part, "{r}");
    }
    assert_eq!(recs[0]["attributes"]["aws.cloudwatch.event_id"], event);
    assert_eq!(recs[1]["attributes"]["aws.cloudwatch.event_id"], event);
    assert_eq!(recs[1]["attributes"]["mysql.thread_id"], 13);
    let ids: Vec<&str> = out.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            format!("{event}.1"),
            format!("{event}.2"),
            format!("{:056}", 2)
        ]
    );
    // The same payload again (an at-least-once retry) gives the same ids.
    let again: Vec<String> = process(&p).records.into_iter().map(|r| r.id).collect();
    assert_eq!(again, ids);
}

/// `Query_time: 18446744073708.796870` is MySQL's overflowed (negative)
/// time: marked, not reported as a 584,000-year duration.
#[test]
fn slow_query_overflowed_query_time_is_marked_not_a_duration() {
    let recs = records(
        "/aws/rds/instance/my-1/slowquery",
        &["# Time: 2026-11-25T07:52:29.100000Z\n# User@Host: app[app] @  [10.0.0.7]  Id:    12\n# Query_time: 18446744073708.796870  Lock_time: 0.000000 Rows_sent: 0  Rows_examined: 0\nSET timestamp=1795593149;\nSELECT 1;"],
    );
    let a = &recs[0]["attributes"];
    assert!(a["db.query.duration_ms"].is_null(), "{a}");
    let err = a["rds.parse.error"].as_str().unwrap_or_default();
    assert!(err.contains("Query_time 18446744073708.796870"), "{a}");
    // The rest of the entry is still read.
    assert_eq!(a["db.query.text"], "SELECT 1", "{a}");
    assert_eq!(a["mysql.rows_examined"], 0, "{a}");
}

/// An Aurora MySQL advanced-auditing event holding several records (a file
/// wrapped as one event before `wrap` knew Aurora's form) gives one record
/// each, not one record whose `connection_type` is the next record's host.
#[test]
fn aurora_audit_event_with_several_records_makes_one_record_each() {
    let event = "1603442208508100,database-1-instance-1,admin,1.34.6.81,50,0,CONNECT,,,0\n1603442208508200,database-1-instance-1,admin,1.34.6.81,50,1234,QUERY,mydb,'select 1',0\n1603442208508300,database-1-instance-1,admin,1.34.6.81,50,0,DISCONNECT,,,0\n";
    let recs = records("/aws/rds/cluster/aurora-1/audit", &[event]);
    assert_eq!(recs.len(), 3, "{recs:#?}");
    for (k, (r, op)) in recs
        .iter()
        .zip(["CONNECT", "QUERY", "DISCONNECT"])
        .enumerate()
    {
        let a = &r["attributes"];
        assert!(a["rds.parse.error"].is_null(), "{r}");
        assert!(a["mysql.audit.connection_type"].is_null(), "{r}");
        assert_eq!(a["mysql.audit.operation"], op, "{r}");
        assert_eq!(a["mysql.audit.retcode"], 0, "{r}");
        assert_eq!(a["aws.cloudwatch.event_part"], k as i64 + 1, "{r}");
    }
    assert_eq!(recs[1]["attributes"]["db.query.text"], "select 1");
}

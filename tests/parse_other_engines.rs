//! Oracle, SQL Server, RDS Proxy and IAM-auth parsers end to end. There is
//! no real-server corpus for these engines: the inputs are the documented
//! example lines in `tests/data/parse/documented/` (sources in its README),
//! wrapped one entry per line as the log group RDS would use, and replayed
//! through `Pipeline::process`.

use std::path::Path;

use rds_forwarder::cli::wrap::{wrap, SplitKind, WrapOptions};
use rds_forwarder::config::Config;
use rds_forwarder::pipeline::Pipeline;
use rdsf_core::parse::sqlserver::{looks_like_sqlserver, SQLSERVER};
use rdsf_core::parse::LogParser;
use rdsf_core::record::{keys, Record, RecordSet};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/parse/documented")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn replay(group: &str, text: &str) -> RecordSet {
    let opts = WrapOptions {
        log_group: group.into(),
        log_stream: "documented".into(),
        owner: "123456789012".into(),
        kind: SplitKind::Line,
        batch: 1000,
    };
    let pipeline = Pipeline::new(Config::default());
    let mut records = RecordSet::new();
    for p in wrap(text, &opts) {
        records.append(pipeline.process(p.as_bytes(), 0).records);
    }
    assert_eq!(
        records.len(),
        text.lines().count(),
        "{group}: one record per line"
    );
    for r in &records {
        assert!(
            r.attributes.get(keys::PARSE_ERROR).is_none(),
            "{group}: {:?}",
            r.attributes
        );
    }
    records
}

fn parser_of(r: &Record) -> &str {
    r.attributes.get_str(keys::PARSER).unwrap_or_default()
}

#[test]
fn rds_proxy_and_iam_auth() {
    let recs = replay("/aws/rds/proxy/my-proxy", &fixture("proxy.log"));
    assert!(recs.iter().all(|r| parser_of(r) == "rds-proxy"));
    let levels: Vec<&str> = recs.iter().map(|r| r.severity.text.as_ref()).collect();
    assert_eq!(levels, ["INFO", "WARN", "ERROR"]);
    assert_eq!(
        recs[0].attributes.get_str(keys::SERVER_ADDRESS),
        Some("172.31.1.99")
    );

    let recs = replay(
        "/aws/rds/instance/db1/iam-db-auth-error",
        &fixture("iam-db-auth-error.log"),
    );
    assert_eq!(parser_of(&recs[0]), "iam-db-auth-error");
    assert_eq!(
        recs[0].attributes.get_str(keys::USER_NAME),
        Some("testuser")
    );
}

#[test]
fn oracle_listener_and_alert() {
    let recs = replay("/aws/rds/instance/ora1/listener", &fixture("listener.log"));
    assert!(recs.iter().all(|r| parser_of(r) == "oracle"));
    assert_eq!(
        recs.resource_of(0).get_str(keys::DB_SYSTEM_NAME),
        Some("oracle.db")
    );
    assert_eq!(
        recs[0].attributes.get_str(keys::ORA_LISTENER_EVENT),
        Some("establish")
    );
    assert_eq!(
        recs[1].attributes.get_str(keys::DB_RESPONSE_STATUS_CODE),
        Some("TNS-12514")
    );

    let recs = replay("/aws/rds/instance/ora1/alert", &fixture("alert.log"));
    let codes: Vec<Option<&str>> = recs
        .iter()
        .map(|r| r.attributes.get_str(keys::DB_RESPONSE_STATUS_CODE))
        .collect();
    assert_eq!(
        codes,
        [
            None,
            None,
            Some("ORA-12012"),
            None,
            Some("ORA-00600"),
            Some("ORA-3136")
        ]
    );
    let numbers: Vec<u8> = recs.iter().map(|r| r.severity.number).collect();
    assert_eq!(numbers, [9, 9, 17, 9, 21, 17]);
    let oem = replay("/aws/rds/instance/ora1/oemagent", "plain agent text");
    assert_eq!(parser_of(&oem[0]), "oracle");
}

#[test]
fn sqlserver_agent_and_error_log() {
    let recs = replay("/aws/rds/instance/sql1/agent", &fixture("agent.log"));
    assert!(recs.iter().all(|r| parser_of(r) == "sqlserver"));
    let levels: Vec<&str> = recs.iter().map(|r| r.severity.text.as_ref()).collect();
    assert_eq!(levels, ["Informational", "Warning", "Error"]);

    // The `error` log type defaults to the MySQL family; the MySQL error
    // parser hands SQL Server lines over via `looks_like_sqlserver`.
    for line in fixture("error.log").lines() {
        assert!(looks_like_sqlserver(line), "{line}");
        let p = SQLSERVER.parse(line);
        assert!(p.error.is_none(), "{line}");
        assert_eq!(p.db_system, Some("microsoft.sql_server"));
    }
}

/// Every parser on mutated and truncated versions of real and documented
/// lines: none may panic (the pipeline forwards whatever they say).
#[test]
fn hostile_input_never_panics() {
    use rdsf_core::parse::{iam_auth::IamAuth, oracle::ORACLE, postgres, proxy::Proxy};
    let parsers: [&dyn LogParser; 6] = [
        &postgres::POSTGRESQL,
        &postgres::UPGRADE,
        &ORACLE,
        &SQLSERVER,
        &Proxy,
        &IamAuth,
    ];
    let mut samples: Vec<String> = [
        "proxy.log",
        "iam-db-auth-error.log",
        "listener.log",
        "alert.log",
        "error.log",
        "agent.log",
    ]
    .iter()
    .flat_map(|f| fixture(f).lines().map(str::to_owned).collect::<Vec<_>>())
    .collect();
    samples.push("2024-01-02 03:04:05.678 UTC:10.0.0.9(40000):app@shop:[4242]:7:23505:2024-01-02 03:00:00 UTC:3/45:981:65a1b2c3.1092:psql:ERROR:  dup".into());
    samples.push("2026-11-25 07:50:30 UTC::@:[27354]:LOG:  checkpoint complete: wrote 1 buffers (0.0%); 0 WAL file(s) added, 0 removed, 0 recycled; write=0.013 s".into());
    samples.push("2026-11-25 07:48:50 UTC:127.0.0.1(1):u@d:[1]:LOG:  duration: 1.5 ms  plan:\n\tQuery Text: select 1\n\tResult  (cost=0.00..0.01 rows=1 width=4)".into());
    let alphabet: Vec<char> = ":[]()@*-. \n\t0123456789ZTé'\"{}=,".chars().collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for sample in &samples {
        let chars: Vec<char> = sample.chars().collect();
        for cut in 0..=chars.len() {
            let s: String = chars[..cut].iter().collect();
            for p in parsers {
                let _ = p.parse(&s);
            }
        }
        for _ in 0..300 {
            let mut c = chars.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % c.len().max(1);
                let ch = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 if !c.is_empty() => c[at] = ch,
                    1 if !c.is_empty() => {
                        c.remove(at);
                    }
                    _ => c.insert(at.min(c.len()), ch),
                }
            }
            let s: String = c.iter().collect();
            for p in parsers {
                let _ = p.parse(&s);
            }
        }
    }
}

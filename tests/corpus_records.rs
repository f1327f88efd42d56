//! Every CloudWatch payload of the corpus gives one record per log event
//! (joined records list every event they cover), with the fixed keys.

use crate::common;

use std::collections::HashMap;

use common::*;

/// The time `mkpayload.py` gives an entry whose own time it cannot read.
const MKPAYLOAD_PLACEHOLDER_MS: i64 = 1_700_000_000_000;

const RESOURCE_KEYS: [&str; 7] = [
    "cloud.provider",
    "cloud.account.id",
    "aws.log.group.names",
    "aws.log.stream.names",
    "aws.rds.source_kind",
    "aws.rds.source_identifier",
    "aws.rds.log_type",
];

#[test]
fn every_log_event_is_in_exactly_one_record() {
    for corpus in corpora() {
        let counts = readme_counts(&corpus);
        assert_eq!(counts.len(), 5, "{}: README table", corpus.display());
        for (folder, expected_events) in counts {
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut events = 0;
            let mut records = 0;
            for file in json_files(&corpus.join("payloads").join(&folder)) {
                let bytes = std::fs::read(&file).unwrap();
                let raw = raw_events(&bytes);
                events += raw.len();
                let cw_time: HashMap<&str, i64> =
                    raw.iter().map(|e| (e.id.as_str(), e.timestamp)).collect();

                let out = process(&bytes);
                assert!(
                    out.failures.is_empty(),
                    "{}: {:?}",
                    file.display(),
                    out.failures
                );
                assert_eq!(out.stats.log_events, raw.len(), "{}", file.display());
                records += out.records.len();
                for r in out.records.with_resources() {
                    let keys: Vec<&str> = r.attributes.iter().map(|(k, _)| k).collect();
                    for (i, k) in keys.iter().enumerate() {
                        assert!(
                            !keys[..i].contains(k),
                            "{}: {k} twice in {keys:?}",
                            file.display()
                        );
                    }
                    let j = as_json(r);
                    for k in ["timestamp", "observed_timestamp", "severity_text", "body"] {
                        assert!(j[k].is_string(), "{}: {k} in {j}", file.display());
                    }
                    let sev = j["severity_number"].as_u64().unwrap();
                    assert!((1..=24).contains(&sev), "severity_number {sev}");
                    for k in RESOURCE_KEYS {
                        assert!(
                            !j["resource"][k].is_null(),
                            "{}: resource.{k} in {j}",
                            file.display()
                        );
                    }
                    // The engine, or (MySQL family, content silent) the
                    // documented statement that it is unknown; never both.
                    let engine = &j["resource"]["db.system.name"];
                    let family = &j["resource"]["aws.rds.engine_family"];
                    assert!(
                        engine.is_string() != (family == "mysql_or_mariadb"),
                        "{}: db.system.name / aws.rds.engine_family in {j}",
                        file.display()
                    );
                    assert_eq!(j["resource"]["cloud.provider"], "aws");
                    assert_eq!(j["resource"]["cloud.region"], "us-east-1");

                    let id = j["attributes"]["aws.cloudwatch.event_id"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    assert_eq!(r.id, id, "the record's stable id is its event id");
                    let ids: Vec<String> =
                        match j["attributes"]["aws.cloudwatch.event_ids"].as_array() {
                            Some(list) => list
                                .iter()
                                .map(|v| v.as_str().unwrap().to_owned())
                                .collect(),
                            None => vec![id.clone()],
                        };
                    assert_eq!(ids[0], id);
                    for i in ids {
                        *seen.entry(i).or_default() += 1;
                    }
                    // The database's time is kept: within a second of the
                    // entry time stamped on the event, never the receive time.
                    // `mkpayload.py` could not read MariaDB's space-padded
                    // hours (`2026-11-25  7:52:29`) and stamped those events
                    // with its placeholder 1700000000000; there the parser's
                    // time is better than the event's, so only check the rest.
                    let cw_ms = cw_time[id.as_str()];
                    assert!(
                        cw_ms == MKPAYLOAD_PLACEHOLDER_MS
                            || (r.timestamp_ns / 1_000_000 - cw_ms).abs() < 1000,
                        "{}: timestamp {} vs CloudWatch {}",
                        file.display(),
                        r.timestamp_ns,
                        cw_ms
                    );
                    assert_ne!(r.timestamp_ns, r.observed_timestamp_ns);
                }
            }
            assert_eq!(
                events,
                expected_events,
                "{}/{folder}: events vs README",
                corpus.display()
            );
            assert_eq!(
                seen.len(),
                events,
                "{}/{folder}: every event id covered",
                corpus.display()
            );
            assert!(
                seen.values().all(|&n| n == 1),
                "{}/{folder}: an event id in two records",
                corpus.display()
            );
            assert!(records <= events && records > 0);
            eprintln!(
                "{}/{folder}: {events} events -> {records} records",
                corpus.display()
            );
        }
    }
}

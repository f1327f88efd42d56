//! Record invariants over arbitrary CloudWatch documents (proptest): one
//! record per event id (joined records list every id exactly once), the
//! CloudWatch timestamp kept when the parser finds none, no message text
//! lost, and no panic on arbitrary bytes.
//!
//! Cases per property: `PROPTEST_CASES` (default 256, kept modest so the
//! suite stays fast; raise it for a deeper run).

use rdsf_testkit::payload;

use payload::CwEvent;
use proptest::prelude::*;
use rds_forwarder::config::Config;
use rds_forwarder::pipeline::{Pipeline, Processed};
use rdsf_core::parse::Registry;
use rdsf_core::record::{keys, Record, Value};
use rdsf_core::source::SourceInfo;

const OBSERVED_NS: i64 = 42;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn process(event: &[u8]) -> Processed {
    Pipeline::new(Config {
        region: Some("eu-west-1".to_owned()),
        ..Config::default()
    })
    .process(event, OBSERVED_NS)
}

const LOG_TYPES: [&str; 14] = rdsf_core::source::RDS_LOG_TYPES;

/// RDS groups of every log type (instance, cluster, proxy) and arbitrary text.
fn log_group() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::sample::select(LOG_TYPES.to_vec()),
            "[a-z][a-z0-9-]{0,20}",
            any::<bool>()
        )
            .prop_map(|(t, id, cluster)| match (t, cluster) {
                ("proxy", _) => format!("/aws/rds/proxy/{id}"),
                (t, true) => format!("/aws/rds/cluster/{id}/{t}"),
                (t, false) => format!("/aws/rds/instance/{id}/{t}"),
            }),
        any::<String>(),
    ]
}

/// Arbitrary Unicode with newlines, NULs and RDS-looking prefixes mixed in,
/// so parsers get past their first check now and then.
fn message() -> impl Strategy<Value = String> {
    let chars = prop::collection::vec(
        prop_oneof![
            6 => any::<char>(),
            1 => Just('\n'),
            1 => Just('\0'),
            1 => Just(' '),
            1 => Just(':'),
        ],
        0..120,
    )
    .prop_map(String::from_iter);
    let prefix = prop::sample::select(vec![
        "",
        "2024-01-01 00:00:05 UTC:10.0.0.1(5432):app@db:[123]:LOG:  duration: 1.5 ms  statement: ",
        "2024-01-01 00:00:05 UTC:10.0.0.1(5432):app@db:[123]:ERROR:  ",
        "2024-01-01 00:00:05 UTC:10.0.0.1(5432):app@db:[123]:STATEMENT:  ",
        "2024-01-01 12:00:00 42 [Warning] ",
        "2020-08-06T14:25:02.936146Z 0 [Note] [MY-010068] [Server] ",
        "# Time: 2023-05-01T09:57:34.360484Z\n# User@Host: a[a] @  [1.2.3.4]  Id: 7\n# Query_time: 0.1  Lock_time: 0.0 Rows_sent: 1  Rows_examined: 1\n",
        // Two slow-query entries in one event: a record each.
        "# User@Host: a[a] @  [1.2.3.4]  Id: 7\n# Query_time: 0.1  Lock_time: 0.0\nSELECT 1;\n# Time: 2023-05-01T09:57:35Z\n# User@Host: b[b] @  [1.2.3.4]  Id: 8\n# Query_time: 0.2  Lock_time: 0.0\n",
        "20221201 14:07:05,ip-10-22-1-51,rdsadmin,localhost,821,0,QUERY,db,'",
        "2024-05-23 06:09:53.813 Logon       ",
        "2025-05-30T12:28:53.383Z [INFO] ",
    ]);
    (prefix, chars).prop_map(|(p, c)| format!("{p}{c}"))
}

/// Events with distinct ids (CloudWatch ids are unique within a document).
fn events() -> impl Strategy<Value = Vec<CwEvent>> {
    prop::collection::vec((any::<String>(), any::<i64>(), message()), 0..16).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (id, ts, message))| CwEvent {
                id: format!("{i}:{id}"),
                timestamp_ms: ts,
                message,
            })
            .collect()
    })
}

/// The event ids a record covers: `aws.cloudwatch.event_ids` when joined.
fn ids_of(r: &Record) -> Vec<String> {
    match r.attributes.get(keys::CW_EVENT_IDS) {
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => r
            .attributes
            .get_str(keys::CW_EVENT_ID)
            .map(str::to_owned)
            .into_iter()
            .collect(),
    }
}

/// The N-th record of an event that held several entries.
fn part_of(r: &Record) -> Option<i64> {
    match r.attributes.get(keys::CW_EVENT_PART) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

/// A record whose body lacks a message may only be one a secret rule
/// redacted (and says so in an attribute naming redaction).
fn redacted(r: &Record) -> bool {
    r.attributes.iter().any(|(k, _)| k.contains("redact"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn every_event_id_once_timestamps_kept_bodies_whole(
        group in log_group(),
        stream in any::<String>(),
        events in events(),
    ) {
        let event = payload::lambda_event("123456789012", &group, &stream, &events);
        let out = process(&event);
        prop_assert!(out.failures.is_empty(), "{:?}", out.failures);
        prop_assert_eq!(out.stats.log_events, events.len());

        // One record per event id, or joined records listing every id once;
        // an event holding several entries gives parts 1, 2, … of it.
        let mut seen: Vec<String> = out
            .records
            .iter()
            .filter(|r| part_of(r).is_none_or(|n| n == 1))
            .flat_map(ids_of)
            .collect();
        seen.sort();
        let mut want: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
        want.sort();
        prop_assert_eq!(&seen, &want);

        let parser = Registry::builtin().for_source(&SourceInfo::from_log_group(&group));
        for r in &out.records {
            let ids = ids_of(r);
            if let Some(n) = part_of(r) {
                prop_assert_eq!(&r.id, &format!("{}.{n}", ids[0]));
                let ev = events.iter().find(|e| e.id == ids[0]).unwrap();
                // Its parts, in order, are the message.
                let parts: Vec<&str> = out
                    .records
                    .iter()
                    .filter(|o| part_of(o).is_some() && ids_of(o) == ids)
                    .map(|o| o.body.as_str())
                    .collect();
                prop_assert!(
                    parts.join("\n") == ev.message.strip_suffix('\n').unwrap_or(&ev.message)
                        || redacted(r),
                    "parts {:?} of {:?}", parts, ev.message
                );
                continue;
            }
            prop_assert_eq!(&r.id, &ids[0]);
            let first = events.iter().find(|e| e.id == ids[0]).unwrap();
            // The CloudWatch time stands when the parser finds no time of its own.
            if ids.len() == 1 && parser.parse(&first.message).timestamp_ns.is_none() {
                prop_assert_eq!(r.timestamp_ns, first.timestamp_ms.saturating_mul(1_000_000));
            }
            prop_assert_eq!(r.observed_timestamp_ns, OBSERVED_NS);
            // Body never lost: each covered message's text is in the body.
            for id in &ids {
                let ev = events.iter().find(|e| &e.id == id).unwrap();
                prop_assert!(
                    r.body.contains(&ev.message) || redacted(r),
                    "message of {:?} missing from body {:?}", id, r.body
                );
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let out = process(&bytes);
        prop_assert_eq!(out.stats.records, out.records.len());
        // The same bytes as a decompressed subscription document.
        let out = process(&payload::wrap_document(&bytes));
        prop_assert_eq!(out.stats.records, out.records.len());
    }

    #[test]
    fn arbitrary_json_never_panics(doc in arbitrary_json()) {
        let text = doc.to_string();
        process(text.as_bytes());
        process(&payload::wrap_document(text.as_bytes()));
    }
}

/// JSON values shaped like the inputs (awslogs, Records, EventBridge keys)
/// with arbitrary leaves, to get past the first `serde_json` check.
fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    let keys = prop::sample::select(vec![
        "awslogs",
        "data",
        "Records",
        "kinesis",
        "eventSource",
        "source",
        "detail-type",
        "detail",
        "id",
        "logGroup",
        "logStream",
        "logEvents",
        "message",
        "timestamp",
        "messageType",
        "EventID",
        "Message",
        "SourceIdentifier",
        "SourceArn",
        "Date",
        "EventCategories",
    ]);
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| {
                serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

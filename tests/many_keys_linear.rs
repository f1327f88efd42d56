//! Keys taken from input — a subscription's extracted fields, an RDS
//! event's tags, a slow log's `#` line words — become attributes in time
//! linear in how many there are.
//! Each key was inserted by scanning the keys before it, so one 250 KB
//! payload whose event had 80,000 extracted fields took 12 s of CPU: a
//! Lambda timeout, retried for ever. The WhaTap writer's check that keys are
//! distinct was quadratic past 64 keys the same way.
//!
//! Each shape is processed (and written as NDJSON and WhaTap frames) at n
//! and 8n keys; [`common::assert_linear`] says what is asserted.

use crate::common;

use rdsf_core::record::{keys, RecordSet};
use rdsf_sinks::whatap::mapping::Mapping;

/// One PostgreSQL event carrying `n` extracted fields `f0…`.
fn many_extracted_fields(n: usize) -> Vec<u8> {
    let line = "2025-11-25 07:50:00 UTC:10.0.0.1(5432):app@db:[7]:LOG:  connection received";
    let mut doc = common::subscription_doc("/aws/rds/instance/db1/postgresql", &[line]);
    let fields: serde_json::Map<String, serde_json::Value> = (0..n)
        .map(|i| (format!("f{i}"), serde_json::Value::from(format!("v{i}"))))
        .collect();
    doc["logEvents"][0]["extractedFields"] = fields.into();
    common::awslogs_event(&doc)
}

/// An RDS event (EventBridge) carrying `n` resource tags `t0…`.
fn many_tags(n: usize) -> Vec<u8> {
    let path = common::manifest_dir().join("tests/data/events/01-db-instance-stopped.json");
    let mut ev: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let tags: serde_json::Map<String, serde_json::Value> = (0..n)
        .map(|i| (format!("t{i}"), serde_json::Value::from(format!("v{i}"))))
        .collect();
    ev["detail"]["Tags"] = tags.into();
    serde_json::to_vec(&ev).unwrap()
}

/// One MySQL slow-log entry whose `# Query_time:` line carries `n` words
/// of its own (`W0: v0 W1: v1 …`) and an overflowed `Lock_time` every 8
/// words (each was once added to the parse error again).
fn many_slow_log_words(n: usize) -> Vec<u8> {
    let mut words = String::new();
    for i in 0..n {
        words.push_str(&format!(" W{i}: v{i}"));
        if i % 8 == 0 {
            words.push_str(" Lock_time: 18446744073709.551615");
        }
    }
    let entry = format!(
        "# Time: 2024-01-01T00:00:00.000000Z\n# User@Host: app[app] @  [10.0.0.1]  Id: 5\n\
         # Query_time: 0.5{words}\nSET timestamp=1704067200;\nSELECT 1;"
    );
    let doc = common::subscription_doc("/aws/rds/instance/db1/slowquery", &[entry.as_str()]);
    common::awslogs_event(&doc)
}

/// Processes `payload` and writes its records as NDJSON and WhaTap frames.
fn process_and_write(payload: &[u8]) -> RecordSet {
    let out = common::process(payload);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let mut ndjson = Vec::new();
    rdsf_sinks::stdout::encode_ndjson_batch(&out.records.all_groups(), &mut ndjson);
    let mapping = Mapping {
        pcode: 1,
        license_hash: 2,
        log_category: None,
        event_category: None,
        event_pack: true,
    };
    let mut frames = Vec::new();
    mapping.encode_batch(&out.records.all_groups(), &mut frames);
    std::hint::black_box((ndjson, frames));
    out.records
}

/// Processing and writing `large` (8× the keys of `small`) costs time
/// linear in the keys.
fn processing_is_linear(what: &str, small: &[u8], large: &[u8]) {
    common::assert_linear(
        what,
        &|| {
            process_and_write(small);
        },
        &|| {
            process_and_write(large);
        },
    );
}

/// Every key arrives once, with its own value.
/// `name` is the letter each key's name starts with after `prefix`.
fn assert_keys(records: &RecordSet, prefix: &str, name: char, n: usize) {
    assert_eq!(records.len(), 1);
    let a = &records[0].attributes;
    assert!(a.has_distinct_keys());
    assert_eq!(a.iter().filter(|(k, _)| k.starts_with(prefix)).count(), n);
    for i in [0, n / 2, n - 1] {
        let key = format!("{prefix}{name}{i}");
        assert_eq!(a.get_str(&key), Some(format!("v{i}").as_str()), "{key}");
    }
}

#[test]
fn an_event_with_many_extracted_fields_costs_time_linear_in_them() {
    let (small, large) = (many_extracted_fields(2_000), many_extracted_fields(16_000));
    let prefix = keys::CW_EXTRACTED_FIELDS_PREFIX;
    assert_keys(&process_and_write(&large), prefix, 'f', 16_000);
    processing_is_linear("extracted fields of one event", &small, &large);
}

#[test]
fn an_rds_event_with_many_tags_costs_time_linear_in_them() {
    let (small, large) = (many_tags(2_000), many_tags(16_000));
    let prefix = keys::RDS_EVENT_TAG_PREFIX;
    assert_keys(&process_and_write(&large), prefix, 't', 16_000);
    processing_is_linear("tags of an RDS event", &small, &large);
}

#[test]
fn a_slow_log_entry_with_many_words_costs_time_linear_in_them() {
    let (small, large) = (many_slow_log_words(1_000), many_slow_log_words(8_000));
    let records = process_and_write(&large);
    assert_keys(&records, keys::MYSQL_SLOW_EXTRA_PREFIX, 'w', 8_000);
    // The overflowed time is said once, not once per repeat.
    let error = records[0].attributes.get_str(keys::PARSE_ERROR).unwrap();
    assert_eq!(error.matches("Lock_time").count(), 1, "{error}");
    processing_is_linear("words of a slow log entry", &small, &large);
}

//! The 25 EventBridge RDS event samples (all 11 detail-types) come out as
//! 25 records enriched from the event catalogue.

use crate::common;

use std::path::PathBuf;

use common::*;
use rdsf_core::input::eventbridge::RDS_DETAIL_TYPES;

fn sample_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![manifest_dir().join("tests/data/events")];
    let shared = manifest_dir().join("../shared/rds-events/samples");
    if shared.is_dir() {
        eprintln!("rds events: in-repo copy + shared samples");
        dirs.push(shared);
    } else {
        eprintln!("rds events: in-repo copy only");
    }
    dirs
}

fn record_of(file: &str) -> serde_json::Value {
    let bytes = std::fs::read(manifest_dir().join("tests/data/events").join(file)).unwrap();
    let out = process(&bytes);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.records.len(), 1);
    as_json(out.records.at(0))
}

#[test]
fn all_samples_give_enriched_records() {
    for dir in sample_dirs() {
        let files = json_files(&dir);
        assert_eq!(files.len(), 25, "{}", dir.display());
        let mut detail_types = std::collections::BTreeSet::new();
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            let src: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let out = process(&bytes);
            assert!(
                out.failures.is_empty(),
                "{}: {:?}",
                f.display(),
                out.failures
            );
            assert_eq!(out.records.len(), 1, "{}", f.display());
            assert_eq!(out.stats.rds_events, 1);
            let r = as_json(out.records.at(0));
            let a = &r["attributes"];
            let d = &src["detail"];
            assert_eq!(a["rds.event.id"], d["EventID"], "{}", f.display());
            assert_eq!(a["rds.event.categories"], d["EventCategories"]);
            assert_eq!(a["rds.event.source_type"], d["SourceType"]);
            assert_eq!(a["rds.event.detail_type"], src["detail-type"]);
            assert_eq!(a["aws.eventbridge.id"], src["id"]);
            assert_eq!(r["body"], d["Message"]);
            assert_eq!(r["resource"]["cloud.region"], src["region"]);
            assert_eq!(r["resource"]["cloud.account.id"], src["account"]);
            // detail.Date, to the millisecond, is the record's time.
            assert_eq!(r["timestamp"], d["Date"], "{}", f.display());
            let known = a["rds.event.known"].as_bool().unwrap();
            assert_eq!(known, a["rds.event.description"].is_string());
            if !known {
                assert_eq!(r["severity_text"], "INFO", "unknown ids pass as INFO");
            }
            detail_types.insert(src["detail-type"].as_str().unwrap().to_owned());
        }
        assert_eq!(detail_types.len(), RDS_DETAIL_TYPES.len());
        for t in RDS_DETAIL_TYPES {
            assert!(detail_types.contains(t), "{t}");
        }
    }
}

#[test]
fn severity_and_identifiers_follow_the_catalogue() {
    let r = record_of("02-db-instance-failover-rds-prefix.json");
    assert_eq!(r["severity_text"], "WARN");
    assert_eq!(r["severity_number"], 13);
    assert!(!r["resource"]["aws.rds.source_identifier"]
        .as_str()
        .unwrap()
        .starts_with("rds:"));
    assert_eq!(r["resource"]["aws.rds.source_kind"], "instance");

    let r = record_of("03-db-instance-low-storage.json");
    assert_eq!(r["severity_text"], "WARN");

    let r = record_of("20-custom-engine-version-create-failed-empty-resources.json");
    assert_eq!(r["severity_text"], "ERROR");
    assert_eq!(r["severity_number"], 17);

    let r = record_of("01-db-instance-stopped.json");
    assert_eq!(r["severity_text"], "INFO");
    assert_eq!(r["attributes"]["rds.event.known"], true);

    // `rds:` is part of an automated snapshot's name and must stay.
    let r = record_of("12-db-snapshot-automated-created.json");
    assert!(r["resource"]["aws.rds.source_identifier"]
        .as_str()
        .unwrap()
        .starts_with("rds:"));

    let r = record_of("06-db-instance-backup-with-tags.json");
    assert_eq!(r["attributes"]["rds.event.tags.team"], "payments");
    assert_eq!(r["severity_text"], "INFO");

    let r = record_of("05-db-instance-unknown-event-id.json");
    assert_eq!(r["attributes"]["rds.event.known"], false);
    assert_eq!(r["severity_number"], 9);

    // Unknown detail fields are tolerated.
    let r = record_of("16-db-cluster-stopped-extra-fields.json");
    assert_eq!(r["resource"]["aws.rds.source_kind"], "cluster");
}

//! Enhanced Monitoring points on the WhaTap wire: the TagCountPacks we send
//! for the real documents of `tests/data/enhanced-monitoring/` equal, byte
//! for byte, the frames WhaTap's Go library made for the same packs
//! (`tests/data/whatap/vectors/tagcount-os/README.md` says how they were
//! made). Not every pack is kept: per document, the first pack of each tag
//! shape (the instance's own, per CPU mode, memory state, process state,
//! paging state, interface and direction, disk, filesystem, process, thread)
//! and any pack carrying a metric no kept pack has, so every metric the
//! document gives is checked at least once.

use crate::common;
use crate::delivery_support;
use crate::enhanced_monitoring::{documents, em_doc};
use crate::golib_tagcount::{check_against_golib, frame_hex, generator_input, mapping};

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value as Json;

fn golib_cases_path() -> PathBuf {
    delivery_support::manifest_dir().join("tests/data/whatap/vectors/tagcount-os/cases.json")
}

/// Short engine name of a fixture file, for the case names.
fn engine_of(file: &str) -> &'static str {
    match file {
        "mysql-57-percona.json" => "mysql",
        "aurora-postgresql-11-percona.json" => "aurora_pg",
        "sqlserver-signalfx.json" => "sqlserver",
        other => panic!("unknown fixture {other}"),
    }
}

/// The selected packs of every document: (name, generator input, our frame),
/// and per document the metric names it gave and those the kept packs carry.
#[allow(clippy::type_complexity)]
fn os_packs() -> (
    Vec<(String, Json, String)>,
    Vec<(&'static str, BTreeSet<String>, BTreeSet<String>)>,
) {
    // A fixed region: other tests of this binary set `AWS_REGION`, which
    // the resource (and so the tags) would otherwise follow.
    let (pipeline, _) = delivery_support::build(&["--region", "us-east-1"]);
    let mapping = mapping();
    let (mut out, mut coverage) = (Vec::new(), Vec::new());
    for (file, message, points_per_doc) in documents() {
        let engine = engine_of(file);
        let event = common::awslogs_event(&em_doc(&[&message]));
        let points = pipeline.process(&event, common::OBSERVED_NS).metrics;
        assert_eq!(points.len(), points_per_doc, "{file}");
        let resource_keys: BTreeSet<&str> = points[0].resource.iter().map(|(k, _)| k).collect();
        let all_names: BTreeSet<String> = points.iter().map(|p| p.name.clone()).collect();
        let (mut shapes, mut kept_names) = (BTreeSet::new(), BTreeSet::new());
        for (i, mut pack) in mapping.metric_packs(&points).into_iter().enumerate() {
            let shape: Vec<String> = pack
                .tags
                .entries()
                .iter()
                .map(|(k, _)| k.to_string())
                .filter(|k| k != "oname" && !resource_keys.contains(k.as_str()))
                .collect();
            let fields: Vec<String> = pack
                .fields
                .entries()
                .iter()
                .map(|(k, _)| k.to_string())
                .collect();
            let new_shape = shapes.insert(shape.clone());
            let new_metric = fields.iter().any(|f| !kept_names.contains(f));
            if !(new_shape || new_metric) {
                continue;
            }
            kept_names.extend(fields);
            let shape = if shape.is_empty() {
                "instance".to_owned()
            } else {
                shape.join("+")
            };
            let name = format!("{engine}_{i:02}_{shape}");
            let input = generator_input(&pack);
            out.push((name, input, frame_hex(&mapping, &mut pack)));
        }
        coverage.push((engine, all_names, kept_names));
    }
    (out, coverage)
}

/// Our TagCountPacks of Enhanced Monitoring points, byte for byte what
/// golib's `TagCountPack` and `OneWayTcpClient` send for the same input,
/// every metric of each document among them, all in category `rds_os`.
/// With `RDSF_WRITE_OS_VECTOR_INPUT=<file>` it writes the generator's input
/// instead (and fails).
#[test]
fn os_metric_packs_match_golib_frames_byte_for_byte() {
    let (packs, coverage) = os_packs();
    for (engine, all, kept) in &coverage {
        assert_eq!(kept, all, "{engine}: every metric in a checked pack");
        for section in [
            "system.cpu.",
            "system.memory.",
            "aws.rds.os.disk.",
            "aws.rds.os.network.",
            "system.filesystem.",
            "process.",
        ] {
            assert!(
                kept.iter().any(|n| n.starts_with(section)),
                "{engine}: no {section}* metric"
            );
        }
    }
    for (name, input, _) in &packs {
        assert_eq!(input["category"], "rds_os", "{name}");
    }
    check_against_golib(&golib_cases_path(), "RDSF_WRITE_OS_VECTOR_INPUT", &packs);
    println!(
        "{} Enhanced Monitoring TagCountPacks equal golib's frames byte for byte ({})",
        packs.len(),
        coverage
            .iter()
            .map(|(e, all, _)| format!("{e}: {} metrics", all.len()))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

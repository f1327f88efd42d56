//! The premise of [`Attributes::push_new`](crate::record::Attributes::push_new):
//! the keys a parser writes are distinct. Every CloudWatch payload among the
//! in-repo test data, plus the shared corpus when present (`RDSF_CORPUS_DIR`,
//! default `../shared/corpus` beside the repository), is split, parsed and
//! joined by the parser the pipeline would pick, and every result must hold
//! each key once. Debug builds also stop at the first key pushed twice.

use std::path::{Path, PathBuf};

use super::{Entry, Registry};
use crate::input::{self, Content};
use crate::source::SourceInfo;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Payload files: all of `tests/data`, and the shared corpus's payloads.
fn payload_files() -> (Vec<PathBuf>, bool) {
    let mut files = Vec::new();
    json_files(&repo_root().join("tests/data"), &mut files);
    let shared = std::env::var_os("RDSF_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus"))
        .join("payloads");
    let with_shared = shared.is_dir();
    json_files(&shared, &mut files);
    files.sort();
    (files, with_shared)
}

#[test]
fn parsers_write_each_key_once_over_the_corpus() {
    let registry = Registry::builtin();
    let (files, with_shared) = payload_files();
    eprintln!(
        "{} payload files ({})",
        files.len(),
        if with_shared {
            "in-repo test data + shared corpus"
        } else {
            "in-repo test data only"
        }
    );
    let (mut parsed, mut parsers) = (0usize, std::collections::BTreeSet::new());
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let Ok(decoded) = input::decode(&bytes, input::DEFAULT_MAX_DECOMPRESSED_BYTES) else {
            continue; // not a Lambda event (an expected-output file, say)
        };
        for unit in decoded.units {
            let Ok(Content::Logs(docs)) = unit.content else {
                continue;
            };
            for doc in docs {
                let source = SourceInfo::from_log_group(&doc.log_group);
                let parser =
                    registry.for_batch(&source, doc.events.iter().map(|e| e.message.as_str()));
                parsers.insert(parser.name());
                let mut entries = Vec::new();
                for ev in &doc.events {
                    let parts = parser
                        .split(&ev.message)
                        .unwrap_or_else(|| vec![ev.message.as_str()]);
                    for part in parts {
                        let p = parser.parse(part);
                        assert!(
                            p.attributes.has_distinct_keys(),
                            "{}: {} wrote a key twice for {part:?}: {:?}",
                            file.display(),
                            parser.name(),
                            p.attributes
                        );
                        parsed += 1;
                        entries.push(Entry {
                            event_ids: vec![ev.id.clone()].into(),
                            cloudwatch_timestamp_ms: ev.timestamp_ms,
                            body: part.to_owned(),
                            parsed: p,
                            part: None,
                        });
                    }
                }
                for e in parser.join(entries) {
                    assert!(
                        e.parsed.attributes.has_distinct_keys(),
                        "{}: {} joined a key twice: {:?}",
                        file.display(),
                        parser.name(),
                        e.parsed.attributes
                    );
                }
            }
        }
    }
    // The test reads what it claims to: every MySQL-family parser and
    // PostgreSQL's, over thousands of entries.
    for name in [
        "postgresql",
        "mysql_slow",
        "mysql_general",
        "mysql_audit",
        "mysql_error",
    ] {
        assert!(parsers.contains(name), "no {name} payload in {parsers:?}");
    }
    assert!(parsed > 1_000, "{parsed} entries parsed");
}

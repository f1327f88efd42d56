//! No crate or module depends on a layer above it (README, "Where things
//! are"): the crates' manifests, and every path a source file names
//! (`crate::x`, `rdsf_y::`), comments aside. Also: the core stays free of
//! network and async code, and every crate forbids unsafe code but the one
//! that exists to hold the single ioctl.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common;

/// Each crate of the workspace, by library name, with what it may use.
const CRATES: [(&str, &str, &[&str]); 7] = [
    ("rdsf_core", "crates/core", &[]),
    ("rdsf_http", "crates/http", &[]),
    ("rdsf_outq", "crates/outq", &[]),
    (
        "rdsf_sinks",
        "crates/sinks",
        &["rdsf_core", "rdsf_http", "rdsf_outq"],
    ),
    ("rdsf_aws", "crates/aws", &["rdsf_core", "rdsf_http"]),
    (
        "rdsf_testkit",
        "crates/testkit",
        &["rdsf_core", "rdsf_sinks"],
    ),
    (
        "rds_forwarder",
        ".",
        &["rdsf_core", "rdsf_http", "rdsf_sinks", "rdsf_aws"],
    ),
];

/// The core's modules by layer: a module may name its own layer and those
/// below (`source` and `parse` are one layer: a log group's name and its
/// format's descriptor refer to each other).
const CORE_LAYERS: [(&str, u8); 17] = [
    ("record", 0),
    ("severity", 0),
    ("time", 0),
    ("config_error", 0),
    ("secret", 0),
    ("boxed", 0),
    ("metric", 1),
    ("input", 1),
    ("source", 1),
    ("parse", 1),
    ("sql", 2),
    ("enrich", 3),
    ("enhanced_monitoring", 3),
    ("query_metrics", 3),
    ("failure", 3),
    ("process", 4),
    ("lib", 5),
];

/// The binary crate's modules by layer (the composition root).
const ROOT_LAYERS: [(&str, u8); 9] = [
    ("config", 0),
    ("selfmon", 0),
    ("pipeline", 1),
    ("firehose", 2),
    ("serve", 3),
    ("lambda", 2),
    ("cli", 2),
    ("lib", 4),
    ("main", 4),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(prefix, name)` of every `prefix::name` path in the code of `text`
/// (comment lines skipped), for prefixes `crate`, `rdsf_*`, `rds_forwarder`.
fn paths(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let bytes = code.as_bytes();
        let mut i = 0;
        while let Some(at) = code[i..].find("::") {
            let end = i + at;
            let start = code[..end]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |p| p + 1);
            let prefix = &code[start..end];
            let rest = &code[end + 2..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let after_colon = start > 0 && bytes[start - 1] == b':';
            if !after_colon
                && (prefix == "crate" || prefix.starts_with("rdsf_") || prefix == "rds_forwarder")
            {
                found.push((prefix.to_owned(), name));
            }
            i = end + 2;
        }
    }
    found
}

/// The top-level module a file of `src` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

#[test]
fn no_crate_names_a_crate_above_it() {
    let root = common::manifest_dir();
    let mut problems = Vec::new();
    let mut files_checked = 0;
    for (name, dir, allowed) in CRATES {
        let src = root.join(dir).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for file in &files {
            files_checked += 1;
            let text = std::fs::read_to_string(file).unwrap();
            for (prefix, _) in paths(&text) {
                if prefix != "crate" && prefix != name && !allowed.contains(&prefix.as_str()) {
                    problems.push(format!("{}: names {prefix}", file.display()));
                }
            }
        }
        // The manifest agrees: no dependency on a workspace crate not allowed.
        let manifest = std::fs::read_to_string(root.join(dir).join("Cargo.toml")).unwrap();
        let deps = manifest
            .split("\n[")
            .filter(|s| s.starts_with("dependencies]"))
            .collect::<String>();
        for line in deps.lines() {
            if let Some(dep) = line.strip_prefix("rdsf-") {
                let dep = format!("rdsf_{}", dep.split(['.', ' ', '=']).next().unwrap());
                if !allowed.contains(&dep.as_str()) {
                    problems.push(format!("{dir}/Cargo.toml: depends on {dep}"));
                }
            }
        }
    }
    assert!(files_checked > 100, "only {files_checked} files found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn check_layers(dir: &str, layers: &[(&str, u8)]) -> Vec<String> {
    let root = common::manifest_dir();
    let src = root.join(dir);
    let layer: BTreeMap<&str, u8> = layers.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let own = module_of(&src, file);
        let own_layer = *layer
            .get(own.as_str())
            .unwrap_or_else(|| panic!("{}: module {own} has no layer here", file.display()));
        let text = std::fs::read_to_string(file).unwrap();
        for (prefix, target) in paths(&text) {
            if prefix != "crate" {
                continue;
            }
            if let Some(&l) = layer.get(target.as_str()) {
                if l > own_layer {
                    problems.push(format!("{}: {own} names crate::{target}", file.display()));
                }
            }
        }
    }
    problems
}

#[test]
fn no_module_names_a_layer_above_it() {
    let mut problems = check_layers("crates/core/src", &CORE_LAYERS);
    problems.extend(check_layers("src", &ROOT_LAYERS));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The guard itself: a path to a higher layer is found, a comment is not.
#[test]
fn the_path_scan_sees_code_not_comments() {
    let text = "use crate::process::Processor;\n// crate::pipeline::Pipeline\nlet x = rdsf_sinks::Sink;\nfoo::crate::bar";
    assert_eq!(
        paths(text),
        [
            ("crate".to_owned(), "process".to_owned()),
            ("rdsf_sinks".to_owned(), "Sink".to_owned())
        ]
    );
}

#[test]
fn the_core_has_no_network_or_async_dependency() {
    let root = common::manifest_dir();
    let manifest = std::fs::read_to_string(root.join("crates/core/Cargo.toml")).unwrap();
    let deps = manifest
        .split("\n[")
        .find(|s| s.starts_with("dependencies]"))
        .unwrap();
    for banned in [
        "tokio",
        "hyper",
        "hyper-util",
        "socket2",
        "lambda_runtime",
        "aws-",
    ] {
        assert!(
            !deps.lines().any(|l| l.starts_with(banned)),
            "crates/core depends on {banned}"
        );
    }
    let clap = deps.lines().find(|l| l.starts_with("clap")).unwrap();
    assert!(clap.contains("optional = true"), "{clap}");
}

#[test]
fn every_crate_forbids_unsafe_code_but_the_ioctl_one() {
    let root = common::manifest_dir();
    for (name, dir, _) in CRATES {
        let lib = root.join(dir).join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        let want = if name == "rdsf_outq" {
            "#![deny(unsafe_code)]"
        } else {
            "#![forbid(unsafe_code)]"
        };
        assert!(text.contains(want), "{}: no {want}", lib.display());
    }
    let main = std::fs::read_to_string(root.join("src/main.rs")).unwrap();
    assert!(main.contains("#![forbid(unsafe_code)]"), "src/main.rs");
    // The one exception holds exactly one unsafe block, with its SAFETY comment.
    let outq = std::fs::read_to_string(root.join("crates/outq/src/lib.rs")).unwrap();
    assert_eq!(outq.matches("unsafe {").count(), 1);
    assert!(outq.contains("// SAFETY:"));
}

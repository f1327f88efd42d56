//! The CloudFormation templates pass cfn-lint and checkov (installed by
//! scripts/deps/deploy.sh into virtualenvs under target/ when missing).

use crate::deploy_support;

use deploy_support::{ensure_tools, root, venv_bin};
use std::process::Command;

fn templates() -> Vec<String> {
    let mut t: Vec<String> = std::fs::read_dir(root().join("deploy"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    t.sort();
    t
}

#[test]
fn cfn_lint_reports_nothing() {
    ensure_tools();
    let templates = templates();
    assert_eq!(templates.len(), 2, "{templates:?}");
    let out = Command::new(venv_bin("cfn-lint", "cfn-lint"))
        .args(&templates)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.trim().is_empty(),
        "cfn-lint:\n{text}"
    );
    println!("cfn-lint: {} templates, no findings", templates.len());
}

#[test]
fn checkov_passes_with_only_documented_skips() {
    ensure_tools();
    let out = Command::new(venv_bin("checkov", "checkov"))
        .args([
            "--framework",
            "cloudformation",
            "-d",
            "deploy",
            "--skip-download",
        ])
        .args(["--output", "json"])
        .current_dir(root())
        // Offline: no guideline download, no platform mapping.
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "checkov failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let summary = &report["summary"];
    assert_eq!(summary["failed"], 0, "{summary}");
    assert!(summary["passed"].as_u64().unwrap() > 0, "{summary}");
    for skipped in report["results"]["skipped_checks"].as_array().unwrap() {
        let reason = skipped["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or("");
        assert!(
            reason.len() > 40,
            "skip without a written reason: {skipped}"
        );
    }
    println!("checkov: {summary}");
}

/// The scripts a user runs (`scripts/*.sh`; not `scripts/deps/`, which are
/// Debian's apt steps) work on macOS too: no GNU-only flags (issue 12:
/// `package.sh` used `stat -c`).
#[test]
fn user_scripts_use_no_gnu_only_flags() {
    let gnu_only = [
        ("stat -c", "use `wc -c < FILE`"),
        ("stat --format", "use `wc -c < FILE`"),
        ("readlink -f", "use `cd \"$(dirname …)\" && pwd`"),
        ("date -d", "BSD date has no -d"),
        ("grep -P", "BSD grep has no -P"),
        ("xargs -r", "BSD xargs has no -r"),
        ("-printf", "BSD find has no -printf"),
        ("sed -i '", "BSD sed needs `sed -i '' …` or `sed -i.bak`"),
        ("sed -i \"", "BSD sed needs `sed -i '' …` or `sed -i.bak`"),
        ("sed -i s", "BSD sed needs `sed -i '' …` or `sed -i.bak`"),
    ];
    let mut found = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("scripts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "sh") {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split(" #").next().unwrap_or("");
            if code.trim_start().starts_with('#') {
                continue;
            }
            for (flag, why) in gnu_only {
                if code.contains(flag) {
                    found.push(format!("{}:{}: `{flag}`: {why}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(checked >= 3, "scripts/*.sh not found");
    assert!(found.is_empty(), "GNU-only flags:\n{}", found.join("\n"));
}

/// Cargo.toml says Apache-2.0; the licence text ships with the source.
#[test]
fn the_licence_cargo_names_is_in_the_repository() {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(cargo.contains("license = \"Apache-2.0\""));
    let text = std::fs::read_to_string(root().join("LICENSE")).expect("LICENSE file");
    assert!(text.contains("Apache License") && text.contains("Version 2.0, January 2004"));
    assert!(text.contains("END OF TERMS AND CONDITIONS"), "full text");
}

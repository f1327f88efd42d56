//! Shared by the deployment tests: the tool virtualenvs and paths.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

pub mod moto;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn venv_bin(venv: &str, exe: &str) -> PathBuf {
    root()
        .join("target")
        .join(format!("venv-{venv}"))
        .join("bin")
        .join(exe)
}

/// Runs scripts/deps/deploy.sh when a tool is missing (it installs only
/// what is missing), once per test binary.
pub fn ensure_tools() {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let needed = [
        venv_bin("cfn-lint", "cfn-lint"),
        venv_bin("checkov", "checkov"),
        venv_bin("moto", "moto_server"),
        venv_bin("iac", "hcl2tojson"),
        venv_bin("sam", "sam"),
        venv_bin("actionlint", "actionlint"),
        venv_bin("awscli", "aws"),
    ];
    if needed.iter().all(|p| Path::new(p).exists()) {
        return;
    }
    let status = Command::new("bash")
        .args(["-c", "set -euo pipefail; source scripts/deps/deploy.sh"])
        .current_dir(root())
        .status()
        .expect("bash runs");
    assert!(status.success(), "scripts/deps/deploy.sh failed");
}

/// Checks checkov's JSON report in `out`: it ran, nothing failed, more than
/// `at_least` checks passed, and every skip carries a written reason (the
/// template's inline comment). Returns the summary.
pub fn checkov_clean(out: &std::process::Output, at_least: u64) -> serde_json::Value {
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
    assert!(summary["passed"].as_u64().unwrap() > at_least, "{summary}");
    for skipped in report["results"]["skipped_checks"].as_array().unwrap() {
        let reason = skipped["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or("");
        assert!(
            reason.len() > 40,
            "skip without a written reason: {skipped}"
        );
    }
    summary.clone()
}

/// Every parameter of template `t` is shown in exactly one group of the
/// CloudFormation console form.
pub fn assert_every_parameter_grouped(t: &serde_json::Value) {
    let mut grouped: Vec<&str> = t["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["Parameters"].as_array().unwrap())
        .map(|p| p.as_str().unwrap())
        .collect();
    grouped.sort_unstable();
    let mut parameters: Vec<&str> = t["Parameters"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    parameters.sort_unstable();
    assert_eq!(grouped, parameters);
}

/// Every environment variable the binary reads: each setting (`Settings`,
/// the CLI definition Lambda mode parses too; with `serve`, serve's own)
/// and, for each secret setting, its two references (`aws::secrets`).
pub fn variables_the_binary_reads(serve: bool) -> Vec<String> {
    use clap::Args;
    let mut cmd = <rds_forwarder::config::Settings as Args>::augment_args(clap::Command::new("x"));
    if serve {
        cmd = <rds_forwarder::serve::ServeArgs as Args>::augment_args(cmd);
    }
    let mut known: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect();
    for var in rds_forwarder::config::secret_vars() {
        known.push(format!("{var}_SECRET_ARN"));
        known.push(format!("{var}_SSM_PARAMETER"));
    }
    known
}

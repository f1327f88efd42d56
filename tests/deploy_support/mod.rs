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

//! The release artefacts (issue 16): scripts/package.sh writes dist/ as
//! the README's "Install" lists it, with sums that verify; scripts/upload.sh
//! puts it in a bucket per region (moto_server's S3 on 127.0.0.1, the AWS
//! CLI from PyPI). The cargo build itself is skipped (`--skip-build`, zips
//! of this build's binary): a release build of both architectures takes
//! minutes; the release workflow runs it in full.

use crate::deploy_packaging::{text, Scratch};
use crate::deploy_support;

use deploy_support::moto::Moto;
use deploy_support::{ensure_tools, root, venv_bin};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

const BIN: &str = env!("CARGO_BIN_EXE_rds-forwarder");

fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// `CARGO_TARGET_DIR`-shaped directory with cargo-lambda's zip (this
/// build's binary as `bootstrap`) for each of `archs`.
fn lambda_zips(dir: &Path, archs: &[&str]) -> PathBuf {
    let target = dir.join("target");
    for arch in archs {
        let lambda = target.join(format!("lambda-{arch}/rds-forwarder"));
        std::fs::create_dir_all(&lambda).unwrap();
        std::fs::copy(BIN, lambda.join("bootstrap")).unwrap();
        let out = Command::new("python3")
            .args(["-m", "zipfile", "-c", "bootstrap.zip", "bootstrap"])
            .current_dir(&lambda)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        std::fs::remove_file(lambda.join("bootstrap")).unwrap();
    }
    target
}

/// Runs package.sh --skip-build; one at a time, as the first run on a new
/// machine makes the script's virtualenv.
fn package(target: &Path, out: &Path) -> Output {
    static LOCK: Mutex<()> = Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    ensure_tools();
    Command::new("bash")
        .arg(root().join("scripts/package.sh"))
        .args(["--skip-build", "--out"])
        .arg(out)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap()
}

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// The artefacts the README's "Install" section names (backticked names in
/// its "Download" table), `<version>` for the version.
fn readme_artefacts() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("\n## Install\n")
        .expect("README has ## Install");
    let section = &readme[start..];
    let table = &section[section.find("| artefact |").expect("the Download table")..];
    let table = &table[..table.find("\n\n").unwrap_or(table.len())];
    let name = regex::Regex::new(r"^\| `([^`]+)` \|").unwrap();
    table
        .lines()
        .filter_map(|l| name.captures(l).map(|c| c[1].to_string()))
        .collect()
}

fn shasum_check(dir: &Path) -> Output {
    Command::new("shasum")
        .args(["-a", "256", "-c", "SHA256SUMS"])
        .current_dir(dir)
        .output()
        .unwrap()
}

/// dist/ holds what the README lists and nothing else; SHA256SUMS covers
/// every file and verifies (and fails once a file changes); the zips are the
/// build's; install.yaml's CodeS3Key defaults to where upload.sh puts the
/// arm64 zip; the SAM templates and the Terraform archive are there.
#[test]
fn package_sh_writes_dist_as_the_readme_lists_it() {
    let scratch = Scratch::new("package");
    let target = lambda_zips(&scratch.0, &["arm64", "x86_64"]);
    let dist = scratch.0.join("dist");
    let out = package(&target, &dist);
    assert!(out.status.success(), "package.sh:\n{}", text(&out));

    let v = version();
    let listed: BTreeSet<String> = files(&dist)
        .iter()
        .map(|f| f.replace(&v, "<version>"))
        .collect();
    assert_eq!(
        listed,
        readme_artefacts(),
        "dist/ and the README's Download table differ"
    );

    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    let summed: BTreeSet<String> = sums
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    let mut expected = files(&dist);
    expected.remove("SHA256SUMS");
    assert_eq!(summed, expected);
    let check = shasum_check(&dist);
    assert!(check.status.success(), "{}", text(&check));

    for arch in ["arm64", "x86_64"] {
        let built =
            std::fs::read(target.join(format!("lambda-{arch}/rds-forwarder/bootstrap.zip")))
                .unwrap();
        assert!(
            std::fs::read(dist.join(format!("rds-forwarder-{arch}.zip"))).unwrap() == built,
            "{arch}"
        );
        let sam = std::fs::read_to_string(dist.join(format!("sam-{arch}.yaml"))).unwrap();
        assert!(
            sam.contains(&format!("CodeUri: rds-forwarder-{arch}.zip"))
                && sam.contains(&format!("SemanticVersion: {v}"))
        );
    }
    // The templates are deploy/'s, but for the pinned default.
    let pin = format!("    Default: rds-forwarder/{v}/rds-forwarder-arm64.zip\n");
    for name in files(&root().join("deploy"))
        .iter()
        .filter(|f| f.ends_with(".yaml"))
    {
        let original = std::fs::read_to_string(root().join("deploy").join(name)).unwrap();
        let shipped = std::fs::read_to_string(dist.join(name)).unwrap();
        if original.contains("\n  CodeS3Key:\n") {
            assert!(
                shipped.contains(&format!("  CodeS3Key:\n    Type: String\n{pin}")),
                "{name}"
            );
        }
        assert_eq!(shipped.replace(&pin, ""), original, "{name}");
    }
    // The module archive holds deploy/terraform as it is.
    let tar = Command::new("tar")
        .arg("-tzf")
        .arg(dist.join(format!("rds-forwarder-terraform-{v}.tar.gz")))
        .output()
        .unwrap();
    let listed: BTreeSet<String> = String::from_utf8_lossy(&tar.stdout)
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(str::to_string)
        .collect();
    for want in [
        "terraform/main.tf",
        "terraform/variables.tf",
        "terraform/setup.tf",
        "terraform/outputs.tf",
        "terraform/versions.tf",
    ] {
        assert!(listed.contains(want), "{want} not in {listed:?}");
    }
    assert!(
        listed.iter().any(|f| f.starts_with("terraform/examples/")),
        "{listed:?}"
    );

    // A changed artefact no longer verifies.
    let mut zip = std::fs::OpenOptions::new()
        .append(true)
        .open(dist.join("rds-forwarder-x86_64.zip"))
        .unwrap();
    std::io::Write::write_all(&mut zip, b"x").unwrap();
    let check = shasum_check(&dist);
    assert!(
        !check.status.success() && text(&check).contains("rds-forwarder-x86_64.zip: FAILED"),
        "{}",
        text(&check)
    );
    println!(
        "package.sh --skip-build: {} files in dist/, sums verify",
        expected.len() + 1
    );
}

/// Without the arm64 zip, package.sh says so and packages x86_64 only.
#[test]
fn package_sh_says_which_architecture_it_skipped() {
    let scratch = Scratch::new("package-x86");
    let target = lambda_zips(&scratch.0, &["x86_64"]);
    let dist = scratch.0.join("dist");
    let out = package(&target, &dist);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("SKIPPED arm64"), "{}", text(&out));
    let names = files(&dist);
    assert!(names.contains("rds-forwarder-x86_64.zip") && names.contains("sam-x86_64.yaml"));
    assert!(
        !names.contains("rds-forwarder-arm64.zip") && !names.contains("sam-arm64.yaml"),
        "{names:?}"
    );
    assert!(shasum_check(&dist).status.success());

    let out = Command::new("bash")
        .arg(root().join("scripts/package.sh"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("unknown argument '--bogus'"));
}

/// The AWS CLI from PyPI against moto_server: `args` through the CLI.
fn aws(moto: &Moto, args: &[&str]) -> Output {
    Command::new(venv_bin("awscli", "aws"))
        .args(args)
        .envs(aws_env(moto))
        .output()
        .unwrap()
}

fn aws_env(moto: &Moto) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_SESSION_TOKEN", "testing".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
    ]
}

fn upload(moto: &Moto, dist: &Path, args: &[&str]) -> Output {
    let path = format!(
        "{}:{}",
        venv_bin("awscli", "aws").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .arg(root().join("scripts/upload.sh"))
        .arg("--dist")
        .arg(dist)
        .args(args)
        .envs(aws_env(moto))
        .env("PATH", path)
        .output()
        .unwrap()
}

fn keys(moto: &Moto, bucket: &str) -> BTreeSet<String> {
    let out = aws(
        moto,
        &[
            "s3api",
            "list-objects-v2",
            "--bucket",
            bucket,
            "--region",
            "us-east-1",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return BTreeSet::new();
    }
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    listing["Contents"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|o| o["Key"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// One command puts dist/ in each region's bucket under
/// rds-forwarder/VERSION/, byte for byte; it refuses a dist/ whose sums
/// fail and several regions sharing one bucket, uploading nothing.
#[test]
fn upload_sh_puts_dist_in_a_bucket_per_region() {
    let scratch = Scratch::new("upload");
    let target = lambda_zips(&scratch.0, &["arm64", "x86_64"]);
    let dist = scratch.0.join("dist");
    assert!(package(&target, &dist).status.success());
    let moto = Moto::start();
    let regions = ["eu-west-1", "us-east-1"];
    for region in regions {
        let bucket = format!("rdsf-artifacts-{region}");
        let mut args = vec![
            "s3api",
            "create-bucket",
            "--bucket",
            &bucket,
            "--region",
            region,
        ];
        let location = format!("LocationConstraint={region}");
        if region != "us-east-1" {
            args.extend(["--create-bucket-configuration", &location]);
        }
        let out = aws(&moto, &args);
        assert!(out.status.success(), "{}", text(&out));
    }

    let out = upload(
        &moto,
        &dist,
        &["rdsf-artifacts-{region}", "eu-west-1", "us-east-1"],
    );
    assert!(out.status.success(), "upload.sh:\n{}", text(&out));
    let v = version();
    let expected: BTreeSet<String> = files(&dist)
        .iter()
        .map(|f| format!("rds-forwarder/{v}/{f}"))
        .collect();
    for region in regions {
        let bucket = format!("rdsf-artifacts-{region}");
        assert_eq!(keys(&moto, &bucket), expected, "{bucket}");
        assert!(text(&out).contains(&format!("--template-url https://{bucket}.s3.{region}.amazonaws.com/rds-forwarder/{v}/install.yaml")), "{}", text(&out));
        let back = scratch.0.join(format!("back-{region}.zip"));
        let key = format!("s3://{bucket}/rds-forwarder/{v}/rds-forwarder-arm64.zip");
        let get = aws(
            &moto,
            &[
                "s3",
                "cp",
                "--only-show-errors",
                &key,
                back.to_str().unwrap(),
                "--region",
                region,
            ],
        );
        assert!(get.status.success(), "{}", text(&get));
        assert!(
            std::fs::read(&back).unwrap()
                == std::fs::read(dist.join("rds-forwarder-arm64.zip")).unwrap()
        );
    }

    // Refusals, each before any upload.
    let out = aws(
        &moto,
        &[
            "s3api",
            "create-bucket",
            "--bucket",
            "rdsf-refusals",
            "--region",
            "us-east-1",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = upload(&moto, &dist, &["rdsf-refusals", "us-east-1", "eu-west-1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("put {region} in BUCKET"),
        "{}",
        text(&out)
    );
    std::fs::write(dist.join("setup.yaml"), "changed").unwrap();
    let out = upload(&moto, &dist, &["rdsf-refusals", "us-east-1"]);
    assert!(
        !out.status.success() && text(&out).contains("does not match its SHA256SUMS"),
        "{}",
        text(&out)
    );
    assert!(keys(&moto, "rdsf-refusals").is_empty());
    println!(
        "upload.sh: {} objects in each of {regions:?}",
        expected.len()
    );
}

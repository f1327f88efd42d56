//! Every shell example in README.md is either run here, as a user would type
//! it, or checked against what it drives (issue 12: the deploy example's
//! `WhatapHost=A,B` broke every invocation and no test noticed).
//!
//! Run: the commands that need nothing but this machine (`replay`, `wrap`,
//! redaction patterns, WhaTap against collectors on 127.0.0.1). `cargo run
//! -q --` and `rds-forwarder` reach the binary under test through shims on
//! PATH; file names the README leaves to the user (`postgresql.log`,
//! `events.json`) are in-repo samples placed in a scratch folder.
//! Checked: the AWS CLI steps (they need an account): each
//! `--parameter-overrides` key exists in the template named beside it and
//! its value passes the template's AllowedValues / AllowedPattern, and the
//! values the function reads as settings are accepted by the binary.
//! A new example that is neither fails `every_readme_example_is_run_or_checked`.

use crate::common;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::manifest_dir;

const BIN: &str = env!("CARGO_BIN_EXE_rds-forwarder");
/// golib's public test licence that carries pcode 78.
const LICENSE_78: &str = "x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth";

/// One ```sh block of the README.
#[derive(Debug, Clone)]
struct Block {
    /// 1-based line of its first command.
    line: usize,
    text: String,
}

fn readme() -> String {
    std::fs::read_to_string(manifest_dir().join("README.md")).unwrap()
}

fn blocks() -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (n, line) in readme().lines().enumerate() {
        match &mut current {
            None if line.trim() == "```sh" => {
                current = Some(Block {
                    line: n + 2,
                    text: String::new(),
                })
            }
            Some(_) if line.trim() == "```" => out.push(current.take().unwrap()),
            Some(b) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            None => {}
        }
    }
    assert!(out.len() >= 10, "README sh blocks not found: {}", out.len());
    out
}

/// How the suite covers a block, chosen by what the block does.
#[derive(Debug, PartialEq)]
enum Coverage {
    /// Executed by the named test in this file.
    Run(&'static str),
    /// Checked (not executed) by the named test in this file.
    Checked(&'static str),
    /// Neither, and why that is right.
    NotHere(&'static str),
}

fn coverage(b: &Block) -> Option<Coverage> {
    let t = b.text.as_str();
    Some(
        if t.starts_with("cargo run -q -- replay examples/cloudwatch-rdsosmetrics.json") {
            Coverage::Run("enhanced_monitoring_example_prints_cpu_points")
        } else if t.starts_with("RDSF_METRICS=queries cargo run -q -- replay examples/") {
            Coverage::Run("query_metrics_example_prints_duration_histograms")
        } else if t.starts_with("cargo run -q -- replay examples/") {
            Coverage::Run("try_it_replays_the_bundled_events")
        } else if t.starts_with("cargo run -q -- wrap ") {
            Coverage::Run("wrap_into_replay_parses_a_raw_postgresql_log")
        } else if t.starts_with("RDSF_REDACT_PATTERNS=") {
            Coverage::Run("custom_redaction_pattern_masks_its_group")
        } else if t.starts_with("WHATAP_HOST=") {
            Coverage::Run("whatap_example_delivers_to_the_first_collector")
        } else if t.starts_with("scripts/package.sh") {
            Coverage::NotHere(
                "a release build with cargo-lambda and zig for two targets takes minutes; \
             release_artefacts::package_sh_writes_dist_as_the_readme_lists_it runs --skip-build, \
             deploy_lint::user_scripts_use_no_gnu_only_flags checks portability",
            )
        } else if t.contains("scripts/upload.sh ") {
            Coverage::NotHere(
                "needs the user's buckets; run against moto_server's S3 (a bucket per region, \
             {region}) by release_artefacts::upload_sh_puts_dist_in_a_bucket_per_region",
            )
        } else if t.contains("--parameter-overrides") {
            Coverage::Checked("deploy_parameters_exist_and_pass_the_templates_rules")
        } else if t.contains("rds-forwarder subscribe") || t.contains("rds-forwarder unsubscribe") {
            // Run for real against moto by deploy_moto; here: every flag exists.
            Coverage::Checked("subscription_examples_parse")
        } else if t.trim_end().ends_with("rds-forwarder check") {
            Coverage::Run("check_example_reports_each_host_and_the_unread_secret")
        } else if t.lines().all(|l| {
            let l = l.trim();
            l.is_empty()
                || l.starts_with('#')
                || l.starts_with("aws ")
                || l.starts_with("--")
                || l.starts_with("REGION=")
                || l.starts_with("BUCKET=")
                || l.starts_with("ARCH=")
                || l.starts_with("VERSION=")
                || l.starts_with("KEY=")
                || !l.contains(' ') && l.ends_with('\\')
        }) && t.contains("aws ")
        {
            Coverage::NotHere("AWS CLI calls against a real account (the templates are deployed to moto by deploy_moto)")
        } else {
            return None;
        },
    )
}

#[test]
fn every_readme_example_is_run_or_checked() {
    let mut unclaimed = Vec::new();
    for b in blocks() {
        match coverage(&b) {
            Some(c) => println!("README line {}: {c:?}", b.line),
            None => unclaimed.push(format!("line {}:\n{}", b.line, b.text)),
        }
    }
    assert!(
        unclaimed.is_empty(),
        "README examples no test runs or checks (add them to coverage()):\n{}",
        unclaimed.join("\n")
    );
}

/// The block `coverage` gives to `test`; it must exist.
fn block_for(test: &str) -> Block {
    blocks()
        .into_iter()
        .find(|b| matches!(coverage(b), Some(Coverage::Run(t) | Coverage::Checked(t)) if t == test))
        .unwrap_or_else(|| panic!("no README example is covered by {test}"))
}

/// A scratch folder where README commands run: `examples/` linked, the
/// shims on PATH.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("rdsf-readme-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::os::unix::fs::symlink(manifest_dir().join("examples"), dir.join("examples")).unwrap();
        std::os::unix::fs::symlink(BIN, dir.join("bin/rds-forwarder")).unwrap();
        // `cargo run -q -- ARGS` is the binary with ARGS; nothing else is.
        let cargo = dir.join("bin/cargo");
        std::fs::write(
            &cargo,
            "#!/bin/sh\nif [ \"$1 $2 $3\" = \"run -q --\" ]; then shift 3; exec rds-forwarder \"$@\"; fi\n\
             echo \"readme shim: unexpected cargo $*\" >&2; exit 99\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch { dir }
    }

    fn put(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.dir.join(name), bytes).unwrap();
    }

    /// Runs `script` with bash (pipefail) in the scratch folder.
    fn run(&self, script: &str, env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("bash");
        cmd.args(["-eo", "pipefail", "-c", script])
            .current_dir(&self.dir)
            .env("PATH", path)
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        for var in [
            "RDSF_SINKS",
            "WHATAP_HOST",
            "WHATAP_LICENSE",
            "WHATAP_PCODE",
        ] {
            if !env.iter().any(|(k, _)| *k == var) {
                cmd.env_remove(var);
            }
        }
        for (k, _) in std::env::vars() {
            if k.starts_with("OTEL_") {
                cmd.env_remove(k);
            }
        }
        cmd.output().unwrap()
    }
}

impl Scratch {
    /// [`Scratch::run`] with every AWS credential variable removed.
    fn run_without_aws(&self, script: &str, env: &[(&str, &str)]) -> Output {
        let mut wrapped = String::new();
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                wrapped.push_str(&format!("unset {k}; "));
            }
        }
        wrapped.push_str(script);
        self.run(&wrapped, env)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ndjson(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {:?}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn try_it_replays_the_bundled_events() {
    let b = block_for("try_it_replays_the_bundled_events");
    // The second line is this very suite; only the first is run here.
    let mut lines = b.text.lines();
    let first = lines.next().unwrap();
    assert!(
        lines.any(|l| l.starts_with("bash scripts/test.sh")),
        "{}",
        b.text
    );
    let s = Scratch::new("try");
    let out = s.run(first, &[]);
    assert_ok(&out, first);
    let records = ndjson(&out.stdout);
    // 200 PostgreSQL events (some joined), one RDS event, one Kinesis record.
    assert!(records.len() > 100, "{} records", records.len());
    assert!(records
        .iter()
        .any(|r| r["attributes"]["rds.event.id"] == "RDS-EVENT-0049"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("records"), "summary on stderr: {stderr}");
}

#[test]
fn enhanced_monitoring_example_prints_cpu_points() {
    let b = block_for("enhanced_monitoring_example_prints_cpu_points");
    let s = Scratch::new("em");
    let out = s.run(&b.text, &[]);
    assert_ok(&out, &b.text);
    let points = ndjson(&out.stdout);
    let modes: Vec<&str> = points
        .iter()
        .map(|p| p["attributes"]["cpu.mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["idle", "user", "kernel"]);
    for p in &points {
        assert_eq!(p["metric"]["unit"], "1", "{p}");
        assert_eq!(p["resource"]["aws.rds.source_identifier"], "trevor", "{p}");
    }
}

#[test]
fn query_metrics_example_prints_duration_histograms() {
    let b = block_for("query_metrics_example_prints_duration_histograms");
    let s = Scratch::new("qm");
    let out = s.run(&b.text, &[]);
    assert_ok(&out, &b.text);
    let points = ndjson(&out.stdout);
    assert!(points.len() >= 5, "{} histograms", points.len());
    for p in &points {
        assert_eq!(p["kind"], "metric", "{p}");
        assert_eq!(p["metric"]["type"], "histogram", "{p}");
        assert_eq!(p["metric"]["unit"], "s", "{p}");
        assert_eq!(p["metric"]["temporality"], "delta", "{p}");
        assert!(p["metric"]["count"].as_u64().unwrap() > 0, "{p}");
        assert!(
            p["attributes"]["db.query.fingerprint_id"].is_string(),
            "{p}"
        );
        assert_eq!(
            p["resource"]["aws.rds.source_identifier"], "shopdb-prod",
            "{p}"
        );
    }
    // The README's line is one of them.
    assert!(points
        .iter()
        .any(|p| p["attributes"]["db.query.fingerprint"] == "end;"
            && p["metric"]["count"] == 4
            && p["metric"]["max"] == 0.008554));
}

#[test]
fn wrap_into_replay_parses_a_raw_postgresql_log() {
    let b = block_for("wrap_into_replay_parses_a_raw_postgresql_log");
    assert!(b.text.contains(" postgresql.log"), "{}", b.text);
    let s = Scratch::new("wrap");
    let raw = std::fs::read(manifest_dir().join("tests/data/parse/mysql/postgresql.log")).unwrap();
    s.put("postgresql.log", &raw);
    let out = s.run(&b.text, &[]);
    assert_ok(&out, &b.text);
    let records = ndjson(&out.stdout);
    assert!(records.len() > 10, "{} records", records.len());
    for r in &records {
        assert_eq!(r["resource"]["aws.rds.source_identifier"], "mydb", "{r}");
        assert_eq!(r["resource"]["db.system.name"], "postgresql", "{r}");
        assert!(r["attributes"]["rds.parse.error"].is_null(), "{r}");
    }
}

#[test]
fn custom_redaction_pattern_masks_its_group() {
    let b = block_for("custom_redaction_pattern_masks_its_group");
    assert!(b.text.contains("events.json"), "{}", b.text);
    let s = Scratch::new("redact");
    s.put(
        "events.json",
        &common::awslogs_event(&common::subscription_doc(
            "/aws/rds/instance/mydb/postgresql",
            &["2026-11-25 07:50:00 UTC:10.0.0.5(41000):app@shop:[4242]:LOG:  statement: SELECT * FROM calls WHERE note = 'api_key=Zq81vNotForLogs'"],
        )),
    );
    // The example's own command line (its trailing comment is an alternative).
    let out = s.run(b.text.lines().next().unwrap(), &[]);
    assert_ok(&out, &b.text);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("Zq81vNotForLogs"), "{stdout}");
    assert!(stdout.contains("api_key=***"), "{stdout}");

    // The alternative the comment names: the flag.
    let flag = b
        .text
        .split("# or ")
        .nth(1)
        .expect("the flag alternative")
        .trim()
        .to_owned();
    let line = format!("rds-forwarder replay events.json {flag}");
    let out = s.run(&line, &[]);
    assert_ok(&out, &line);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Zq81vNotForLogs"));
}

/// A WhaTap collector on 127.0.0.1 that reads until the peer closes and
/// reports how many bytes it got.
fn collector() -> (u16, mpsc::Receiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                let mut buf = Vec::new();
                let _ = stream.read_to_end(&mut buf);
                let _ = tx.send(buf.len());
            });
        }
    });
    (port, rx)
}

#[test]
fn whatap_example_delivers_to_the_first_collector() {
    let b = block_for("whatap_example_delivers_to_the_first_collector");
    let line = b.text.lines().next().unwrap();
    // The example's hosts stand for two collectors; here both are local.
    let hosts = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("WHATAP_HOST="))
        .unwrap();
    let (p1, got1) = collector();
    let (p2, _got2) = collector();
    let local = hosts
        .split(['/', ','])
        .zip([p1, p2])
        .map(|(_, p)| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(&hosts[hosts.find(['/', ',']).unwrap()..][..1]);
    let line = line
        .replace(hosts, &local)
        .replace("WHATAP_LICENSE=…", &format!("WHATAP_LICENSE={LICENSE_78}"))
        .replace("WHATAP_PCODE=…", "WHATAP_PCODE=78");
    assert!(!line.contains('…'), "placeholders left: {line}");
    let s = Scratch::new("whatap");
    let out = s.run(&line, &[]);
    assert_ok(&out, &line);
    assert!(out.stdout.is_empty(), "WhaTap alone: nothing on stdout");
    let bytes = got1
        .recv_timeout(Duration::from_secs(30))
        .expect("the first collector got a connection");
    assert!(bytes > 1000, "{bytes} bytes reached the collector");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(LICENSE_78));
}

/// `Name: ` entries of a template's `Parameters:` section with their rules.
#[derive(Debug, Default)]
struct Param {
    allowed_values: Option<Vec<String>>,
    allowed_pattern: Option<String>,
    min_length: Option<usize>,
}

fn template_parameters(template: &Path) -> std::collections::BTreeMap<String, Param> {
    let text = std::fs::read_to_string(template).unwrap();
    let mut params = std::collections::BTreeMap::new();
    let mut in_params = false;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_params = line.starts_with("Parameters:");
            continue;
        }
        if !in_params {
            continue;
        }
        if let Some(name) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' ') && l.ends_with(':'))
        {
            let name = name.trim_end_matches(':').to_owned();
            params.insert(name.clone(), Param::default());
            current = Some(name);
            continue;
        }
        let (Some(name), Some(rule)) = (&current, line.strip_prefix("    ")) else {
            continue;
        };
        let p = params.get_mut(name).unwrap();
        if let Some(v) = rule.strip_prefix("AllowedValues: [") {
            p.allowed_values = Some(
                v.trim_end_matches(']')
                    .split(',')
                    .map(|s| s.trim().trim_matches(['"', '\'']).to_owned())
                    .collect(),
            );
        } else if let Some(v) = rule.strip_prefix("AllowedPattern: ") {
            let v: String = serde_json::from_str(v.trim()).unwrap_or_else(|_| v.trim().to_owned());
            p.allowed_pattern = Some(v);
        } else if let Some(v) = rule.strip_prefix("MinLength: ") {
            p.min_length = v.trim().parse().ok();
        }
    }
    params
}

/// The `KEY=VALUE` pairs after `--parameter-overrides` (continuation lines
/// joined) and the `--template-file`.
fn overrides(block: &str) -> Vec<(PathBuf, Vec<(String, String)>)> {
    let joined = block.replace("\\\n", " ");
    let mut out = Vec::new();
    for command in joined
        .lines()
        .filter(|l| l.contains("--parameter-overrides"))
    {
        let words: Vec<&str> = command.split_whitespace().collect();
        let template = words
            .iter()
            .position(|w| *w == "--template-file")
            .map(|i| manifest_dir().join(words[i + 1]))
            .expect("--template-file beside --parameter-overrides");
        let start = words
            .iter()
            .position(|w| *w == "--parameter-overrides")
            .unwrap();
        let pairs = words[start + 1..]
            .iter()
            .take_while(|w| !w.starts_with("--"))
            .map(|w| {
                let (k, v) = w.split_once('=').expect("KEY=VALUE");
                (k.to_owned(), v.to_owned())
            })
            .collect();
        out.push((template, pairs));
    }
    out
}

#[test]
fn deploy_parameters_exist_and_pass_the_templates_rules() {
    let mut checked = 0;
    // Each command's parameters that passed, the user's `$…` ones aside.
    let mut commands: Vec<Vec<(String, String)>> = Vec::new();
    for b in blocks() {
        if coverage(&b)
            != Some(Coverage::Checked(
                "deploy_parameters_exist_and_pass_the_templates_rules",
            ))
        {
            continue;
        }
        for (template, pairs) in overrides(&b.text) {
            let mut settings = Vec::new();
            let params = template_parameters(&template);
            assert!(
                params.len() > 3,
                "{}: no parameters read",
                template.display()
            );
            for (k, v) in pairs {
                let p = params.get(&k).unwrap_or_else(|| {
                    panic!(
                        "README line {}: {} has no parameter {k}",
                        b.line,
                        template.display()
                    )
                });
                checked += 1;
                if v.contains('$') {
                    continue; // filled in by the user's shell
                }
                if let Some(allowed) = &p.allowed_values {
                    assert!(allowed.contains(&v), "{k}={v}: not in {allowed:?}");
                }
                if let Some(pattern) = &p.allowed_pattern {
                    let rx = regex::Regex::new(pattern).unwrap();
                    assert!(rx.is_match(&v), "{k}={v}: does not match {pattern}");
                }
                if let Some(min) = p.min_length {
                    assert!(v.len() >= min, "{k}={v}: shorter than {min}");
                }
                settings.push((k, v));
            }
            commands.push(settings);
        }
    }
    assert!(checked >= 10, "only {checked} parameters checked");
    // What the function reads as settings must start it: each install
    // example's values, with what the secret it names would hold.
    let example = |key: &str| {
        let settings = commands
            .iter()
            .find(|c| c.iter().any(|(n, _)| n == key))
            .unwrap_or_else(|| panic!("no install example sets {key}: update this test"));
        move |k: &str| {
            settings
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        }
    };
    let get = example("WhatapHost");
    let (Some(sinks), Some(hosts)) = (get("Sinks"), get("WhatapHost")) else {
        panic!("the install example no longer sets Sinks and WhatapHost: update this test");
    };
    let config = config_from_args(&[
        "--sinks",
        &sinks,
        "--whatap-host",
        &hosts,
        "--whatap-license",
        LICENSE_78,
    ]);
    let whatap = config
        .sink::<rdsf_sinks::whatap::WhatapConfig>()
        .expect("the example's WhaTap settings select WhaTap");
    let expected: Vec<(String, u16)> = hosts
        .split([',', '/'])
        .map(|h| (h.to_owned(), 6600))
        .collect();
    assert_eq!(whatap.endpoints.hosts, expected, "WhatapHost={hosts}");

    // The Loki example: its URL, with the basic auth its secret would hold.
    let get = example("LokiUrl");
    let (Some(sinks), Some(url)) = (get("Sinks"), get("LokiUrl")) else {
        panic!("the Loki install example no longer sets Sinks and LokiUrl: update this test");
    };
    let config = config_from_args(&[
        "--sinks",
        &sinks,
        "--loki-url",
        &url,
        "--loki-basic-auth",
        "123456:glc_token",
    ]);
    let loki = config
        .sink::<rdsf_sinks::loki::LokiConfig>()
        .expect("the example's Loki settings select Loki");
    assert_eq!(loki.url, format!("{url}/loki/api/v1/push"));
}

fn config_from_args(args: &[&str]) -> rds_forwarder::config::Config {
    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        settings: rds_forwarder::config::Settings,
    }
    let parsed = <Args as clap::Parser>::try_parse_from(
        std::iter::once("rds-forwarder").chain(args.iter().copied()),
    )
    .unwrap();
    rds_forwarder::config::Config::from_settings(&parsed.settings).unwrap()
}

#[test]
fn subscription_examples_parse() {
    let checked: Vec<Block> = blocks()
        .into_iter()
        .filter(|b| coverage(b) == Some(Coverage::Checked("subscription_examples_parse")))
        .collect();
    assert!(checked.len() >= 2, "subscribe and unsubscribe examples");
    let s = Scratch::new("subscribe");
    for line in checked
        .iter()
        .flat_map(|b| b.text.lines())
        .filter(|l| l.starts_with("rds-forwarder "))
    {
        // The same command with --help: its flags must all be accepted
        // (no AWS call is made when help is asked for).
        let command = line.split(" #").next().unwrap().replace(
            "$FUNCTION_ARN",
            "arn:aws:lambda:us-east-1:111122223333:function:rds-forwarder",
        );
        let out = s.run(&format!("{command} --help"), &[]);
        assert_ok(&out, &command);
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in command.split_whitespace().filter(|w| w.starts_with("--")) {
            assert!(help.contains(flag), "{flag} not in --help of {command}");
        }
    }
}

#[test]
fn check_example_reports_each_host_and_the_unread_secret() {
    let b = block_for("check_example_reports_each_host_and_the_unread_secret");
    // The collectors become listeners on 127.0.0.1 (no name is resolved),
    // the region a real one; the secret reference stays: without AWS
    // credentials here, `check` must say it could not read it (no call).
    let hosts = b
        .text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("WHATAP_HOST="))
        .unwrap()
        .to_owned();
    let listeners: Vec<TcpListener> = hosts
        .split([',', '/'])
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let local = listeners
        .iter()
        .map(|l| format!("127.0.0.1:{}", l.local_addr().unwrap().port()))
        .collect::<Vec<_>>()
        .join(",");
    let script = b
        .text
        .replace(&hosts, &local)
        .replace("$REGION", "us-east-1");
    let s = Scratch::new("check");
    // No credentials from anywhere: variables unset, no shared files.
    let home = s.dir.display().to_string();
    let env = [
        ("HOME", home.as_str()),
        ("AWS_CONFIG_FILE", "/nonexistent/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
    ];
    let out = s.run_without_aws(&script, &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "the secret cannot be read: {all}"
    );
    for host in local.split(',') {
        assert!(
            all.lines().any(|l| l.contains("ok") && l.contains(host)),
            "{host} reachable: {all}"
        );
    }
    assert!(
        all.lines()
            .any(|l| l.contains("FAIL") && l.contains("secret")),
        "{all}"
    );
}

/// deploy/README.md's commands too (firehose.yaml's three steps): each
/// override names a parameter of the template beside it, with a value its
/// rules accept.
#[test]
fn deploy_readme_parameters_exist_and_pass_the_templates_rules() {
    let text = std::fs::read_to_string(manifest_dir().join("deploy/README.md")).unwrap();
    let mut checked = 0;
    for block in text
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split("\n```").next())
    {
        for (template, pairs) in overrides(block) {
            let params = template_parameters(&template);
            for (k, v) in pairs {
                let p = params
                    .get(&k)
                    .unwrap_or_else(|| panic!("{} has no parameter {k}", template.display()));
                checked += 1;
                let v = v.trim_matches('"');
                if v.contains('$') {
                    continue; // filled in by the user's shell
                }
                if let Some(allowed) = &p.allowed_values {
                    assert!(
                        allowed.iter().any(|a| a == v),
                        "{k}={v}: not in {allowed:?}"
                    );
                }
                if let Some(pattern) = &p.allowed_pattern {
                    let rx = regex::Regex::new(pattern).unwrap();
                    assert!(rx.is_match(v), "{k}={v}: does not match {pattern}");
                }
            }
        }
    }
    assert!(checked >= 3, "only {checked} parameters checked");
}

//! The real binary as a user would try it: `rds-forwarder replay` with
//! WHATAP_* in the environment delivers to a receiver on 127.0.0.1, and a
//! pcode that contradicts the licence stops it at start-up without ever
//! printing the licence.

use rdsf_testkit::whatap as whatap_support;

use std::path::PathBuf;
use std::process::{Command, Output};

use rdsf_sinks::whatap::hash::hash64_str;
use whatap_support::{
    corpus_payloads, decode_pack, fixture, refused_port, Behaviour, Pack, Receiver,
};

/// golib's public test licences that carry pcodes 78 and 79.
const LICENSE_78: &str = "x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth";
const LICENSE_79: &str = "x2jogsfu22s10-x52c23sgmuab82-z38tcf60s1i202";

fn forwarder(envs: &[(&str, String)], args: &[PathBuf]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rds-forwarder"));
    cmd.arg("replay").args(args);
    for var in [
        "RDSF_SINKS",
        "AWS_LAMBDA_RUNTIME_API",
        "WHATAP_PCODE",
        "WHATAP_EVENT_PACK",
        "WHATAP_CATEGORY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_REGION", "us-east-1")
        .env("RDSF_LOG_LEVEL", "info");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("binary runs"))
        .await
        .unwrap()
}

/// The replay summary's JSON line.
fn summary(stderr: &str) -> serde_json::Value {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("summary: "))
        .expect("summary line");
    serde_json::from_str(line).unwrap()
}

#[tokio::test]
async fn replay_delivers_every_record_to_whatap() {
    let rx = Receiver::start(Behaviour::default()).await;
    let mut inputs = corpus_payloads();
    inputs.push(fixture("rds-event-failover.json"));
    let out = run(forwarder(
        &[
            ("WHATAP_HOST", "127.0.0.1".to_owned()),
            ("WHATAP_PORT", rx.port.to_string()),
            ("WHATAP_LICENSE", LICENSE_79.to_owned()),
            ("WHATAP_PCODE", "79".to_owned()),
            ("WHATAP_EVENT_PACK", "true".to_owned()),
        ],
        &inputs,
    ))
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "WhaTap alone is selected: nothing on stdout"
    );
    let stats = &summary(&stderr)["stats"];
    let records = stats["records"].as_u64().unwrap() as usize;
    assert_eq!(stats["delivered"].as_u64().unwrap() as usize, records);
    // One LogSinkPack per record, plus the RDS event's EventPack.
    let frames = rx.wait_for(records + 1).await;
    assert_eq!(frames.len(), records + 1);
    let (mut logs, mut events) = (0, 0);
    for f in &frames {
        assert_eq!((f.pcode, f.license_hash), (79, hash64_str(LICENSE_79)));
        match decode_pack(&f.body) {
            Pack::Log(p) => {
                logs += 1;
                assert!(
                    p.category == "rds-error" || p.category == "rds-event",
                    "{}",
                    p.category
                );
            }
            Pack::Event(e) => {
                events += 1;
                assert_eq!(e.level, 20);
            }
        }
    }
    assert_eq!((logs, events), (records, 1));
    assert!(!stderr.contains(LICENSE_79));
    eprintln!("whatap cli: replay delivered {records} records (+1 EventPack)");
}

#[tokio::test]
async fn stdout_and_whatap_together_and_pcode_from_the_licence() {
    let rx = Receiver::start(Behaviour::default()).await;
    let input = corpus_payloads().remove(0);
    let out = run(forwarder(
        &[
            ("RDSF_SINKS", "stdout,whatap".to_owned()),
            (
                "WHATAP_HOST",
                format!("127.0.0.1:{}/127.0.0.1", refused_port()),
            ),
            ("WHATAP_PORT", rx.port.to_string()),
            ("WHATAP_LICENSE", LICENSE_78.to_owned()),
        ],
        &[input],
    ))
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let records = summary(&stderr)["stats"]["records"].as_u64().unwrap() as usize;
    let lines = String::from_utf8(out.stdout).unwrap().lines().count();
    assert_eq!(lines, records, "stdout still gets every record");
    let frames = rx.wait_for(records).await;
    assert!(frames
        .iter()
        .all(|f| f.pcode == 78 && f.license_hash == hash64_str(LICENSE_78)));
    assert!(!stderr.contains(LICENSE_78));
}

#[tokio::test]
async fn pcode_contradicting_the_licence_fails_at_start_up_without_printing_it() {
    let out = run(forwarder(
        &[
            ("WHATAP_HOST", "127.0.0.1".to_owned()),
            ("WHATAP_PORT", refused_port().to_string()),
            ("WHATAP_LICENSE", LICENSE_78.to_owned()),
            ("WHATAP_PCODE", "79".to_owned()),
        ],
        &[fixture("rds-event-failover.json")],
    ))
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("WHATAP_PCODE") && stderr.contains("78"),
        "{stderr}"
    );
    for token in LICENSE_78.split('-') {
        assert!(!stderr.contains(token), "licence leaked: {stderr}");
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains(LICENSE_78));
}

#[tokio::test]
async fn help_never_shows_the_licence_from_the_environment() {
    let mut cmd = forwarder(&[("WHATAP_LICENSE", LICENSE_78.to_owned())], &[]);
    cmd.arg("--help");
    let out = run(cmd).await;
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("WHATAP_LICENSE"), "{all}");
    assert!(!all.contains("z6l4o2nb3cckq0"), "{all}");
}

/// A licence that carries no project code used to be accepted whenever
/// WHATAP_PCODE was given, and the one-way protocol then lost every record
/// without a word; a port that is not a number looped on `host:abc:6600`.
#[tokio::test]
async fn a_malformed_licence_or_port_stops_start_up_naming_the_setting() {
    let rx = Receiver::start(Behaviour::default()).await;
    for (host, license, setting) in [
        ("127.0.0.1".to_owned(), "test-license-key", "WHATAP_LICENSE"),
        ("127.0.0.1:abc".to_owned(), LICENSE_78, "WHATAP_HOST"),
        (format!("127.0.0.1:{},", rx.port), LICENSE_78, "WHATAP_HOST"),
    ] {
        let out = run(forwarder(
            &[
                ("WHATAP_HOST", host.clone()),
                ("WHATAP_PORT", rx.port.to_string()),
                ("WHATAP_LICENSE", license.to_owned()),
                ("WHATAP_PCODE", "78".to_owned()),
            ],
            &[fixture("rds-event-failover.json")],
        ))
        .await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{host}: {stderr}");
        assert!(stderr.contains(setting), "{host}: {stderr}");
        assert!(!stderr.contains(license), "licence leaked: {stderr}");
    }
    assert_eq!(rx.connections(), 0, "nothing was attempted");
}

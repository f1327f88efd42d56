//! `rds-forwarder check`, the real binary against real servers on
//! 127.0.0.1: a WhaTap receiver (TCP) and an OTLP/HTTP server, healthy and
//! failing; every bad setting reported at once; missing AWS credentials
//! said plainly without stopping the other checks; `--show-wire` showing
//! what would be sent without sending it. No secret is ever printed.

use crate::delivery_support;
use rdsf_testkit::whatap as whatap_support;

use std::process::{Command, Output};
use std::time::Duration;

use delivery_support::fault_server::{Act, FaultServer};
use rdsf_sinks::whatap::hash::hash64_str;
use whatap_support::{refused_port, Behaviour, Receiver};

/// golib's public test licence that carries pcode 78.
const LICENSE_78: &str = "x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth";
const TOKEN: &str = "s3cr3t-otlp-token";

fn check(args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rds-forwarder"));
    for (var, _) in std::env::vars_os() {
        let name = var.to_string_lossy();
        if name.starts_with("RDSF_")
            || name.starts_with("OTEL_")
            || name.starts_with("WHATAP_")
            || name.starts_with("AWS_")
        {
            cmd.env_remove(&var);
        }
    }
    cmd.arg("check").args(args);
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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The check lines (`ok …` / `FAIL …`) of the output.
fn lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
}

fn assert_no_secret(out: &Output) {
    let all = text(&out.stdout) + &text(&out.stderr);
    for token in LICENSE_78.split('-').chain([TOKEN, "hunter2"]) {
        assert!(!all.contains(token), "secret `{token}` printed:\n{all}");
    }
    assert!(
        !all.contains(&hash64_str(LICENSE_78).to_string()),
        "the licence hash authenticates a sender: never printed"
    );
}

#[tokio::test]
async fn healthy_whatap_and_otlp_are_reported_ok_and_check_exits_0() {
    let rx = Receiver::start(Behaviour::default()).await;
    let otlp = FaultServer::start(vec![], Act::Accept);
    let endpoint = otlp.endpoint();
    let port = rx.port.to_string();
    let out = run(check(
        &[
            "--sinks",
            "stdout,whatap,otlp",
            "--whatap-host",
            "127.0.0.1",
            "--whatap-port",
            &port,
            "--otlp-endpoint",
            &endpoint,
        ],
        &[
            ("WHATAP_LICENSE", LICENSE_78),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                &format!("authorization=Bearer%20{TOKEN}"),
            ),
        ],
    ))
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let lines = lines(&stdout);
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].starts_with("ok   settings: valid; sinks: stdout, whatap, otlp"));
    // Each sink's own check, in the order the sinks are named.
    assert!(lines[1].starts_with("ok   stdout: "), "{stdout}");
    assert!(
        lines[2].starts_with(&format!("ok   whatap 127.0.0.1:{port}: TCP connect in ")),
        "{stdout}"
    );
    assert_eq!(
        lines[3],
        format!("ok   otlp {endpoint}/v1/logs: HTTP 200 to an empty export request")
    );
    // The OTLP server got one (empty) export request; the WhaTap receiver a
    // connection and no frame.
    assert_eq!(otlp.taken(), [Act::Accept]);
    assert!(otlp.accepted().is_empty());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rx.connections(), 1);
    assert!(rx.frames().is_empty());
    assert_no_secret(&out);
}

#[tokio::test]
async fn unreachable_whatap_and_a_refusing_otlp_server_fail_with_the_reason_and_exit_1() {
    let rx = Receiver::start(Behaviour::default()).await;
    let otlp = FaultServer::start(vec![], Act::Status(401, Some("bad token")));
    let refused = refused_port();
    let hosts = format!("127.0.0.1:{refused},127.0.0.1:{}", rx.port);
    let with_userinfo = otlp.endpoint().replace("http://", "http://user:hunter2@");
    let out = run(check(
        &[
            "--whatap-host",
            &hosts,
            "--otlp-endpoint",
            &with_userinfo,
            "--whatap-connect-timeout-ms",
            "500",
        ],
        &[("WHATAP_LICENSE", LICENSE_78)],
    ))
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let lines = lines(&stdout);
    assert!(lines[0].starts_with("ok   settings: valid; sinks: whatap, otlp"));
    assert!(
        lines[1].starts_with(&format!(
            "FAIL whatap 127.0.0.1:{refused}: cannot connect: "
        )) && lines[1].contains("refused"),
        "{stdout}"
    );
    assert!(lines[2].starts_with(&format!("ok   whatap 127.0.0.1:{}:", rx.port)));
    assert!(
        lines[3].starts_with(&format!("FAIL otlp {}/v1/logs: ", otlp.endpoint()))
            && lines[3].contains("HTTP 401"),
        "{stdout}"
    );
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_no_secret(&out);
}

#[tokio::test]
async fn several_bad_settings_are_all_reported_at_once() {
    let out = run(check(
        &[
            "--log-level",
            "loud",
            "--whatap-host",
            "10.0.0.1:abc",
            "--whatap-pcode",
            "7x",
            "--otlp-protocol",
            "grpc",
            "--sinks",
            "whatap,otlp",
            "--batch-max-records",
            "0",
        ],
        &[("WHATAP_LICENSE", "hunter2-not-a-licence")],
    ))
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let lines = lines(&stdout);
    for setting in [
        "RDSF_LOG_LEVEL",
        "WHATAP_HOST",
        "WHATAP_PCODE",
        "WHATAP_LICENSE",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "RDSF_BATCH_MAX_RECORDS",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("FAIL setting {setting}: "))),
            "{setting} missing:\n{stdout}"
        );
    }
    assert!(lines.iter().all(|l| l.starts_with("FAIL ")), "{stdout}");
    assert_no_secret(&out);
}

#[tokio::test]
async fn without_aws_credentials_a_secret_reference_is_named_and_the_rest_still_checked() {
    let rx = Receiver::start(Behaviour::default()).await;
    let home = std::env::temp_dir().join(format!("rdsf-check-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let port = rx.port.to_string();
    let out = run(check(
        &["--whatap-host", "127.0.0.1", "--whatap-port", &port],
        &[
            (
                "WHATAP_LICENSE_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:whatap",
            ),
            ("HOME", home.to_str().unwrap()),
        ],
    ))
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let lines = lines(&stdout);
    assert!(
        lines[0].starts_with(
            "FAIL secret WHATAP_LICENSE_SECRET_ARN: not read: no AWS access from here"
        ),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("FAIL setting WHATAP_LICENSE: ")
                && l.contains("its secret reference could not be read")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("ok   whatap 127.0.0.1:{port}: "))),
        "the collector is still contacted:\n{stdout}"
    );
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn show_wire_prints_decoded_whatap_frames_and_otlp_json_without_sending_them() {
    let rx = Receiver::start(Behaviour::default()).await;
    let otlp = FaultServer::start(vec![], Act::Accept);
    let endpoint = otlp.endpoint();
    let port = rx.port.to_string();
    let out = run(check(
        &[
            "--show-wire",
            "--whatap-host",
            "127.0.0.1",
            "--whatap-port",
            &port,
            "--otlp-endpoint",
            &endpoint,
        ],
        &[("WHATAP_LICENSE", LICENSE_78)],
    ))
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for want in [
        "frame 1: LogSinkPack (header pcode 78)",
        "    category: rds-postgresql",
        "    tags: {\"oname\": \"shopdb-prod\"",
        "    content: 2026-11-25 07:48:49 UTC::@:[27352]:LOG:  starting PostgreSQL",
        "sent as http/protobuf, gzip; shown as OTLP/JSON",
        "\"resourceLogs\": [",
        "\"stringValue\": \"shopdb-prod\"",
    ] {
        assert!(stdout.contains(want), "{want:?} missing:\n{stdout}");
    }
    // Only the empty probe reached the OTLP server; no frame reached WhaTap.
    assert_eq!(otlp.taken(), [Act::Accept]);
    assert!(otlp.accepted().is_empty());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(rx.frames().is_empty());
    assert_no_secret(&out);
}

#[test]
fn check_usage_errors_exit_2_and_its_help_has_examples_and_the_exit_table() {
    let out = check(&["--no-such-flag"], &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = check(&["--help"], &[]).output().unwrap();
    let help = text(&out.stdout);
    assert!(out.status.success());
    assert!(help.contains("--show-wire"), "{help}");
    let examples = help.find("Examples:").expect("examples");
    let table = help.find("Exit status:").expect("exit table");
    assert!(examples < table, "{help}");
    assert!(
        help.contains("\nWhaTap:\n") && help.contains("\nOTLP:\n"),
        "{help}"
    );
}

/// `--show-wire` decodes frames with the library's decoder; the test
/// suite's own decoder (written from the vectors' description) must read
/// the same frames into the same fields.
#[test]
fn the_show_wire_decoder_agrees_with_the_independent_test_decoder() {
    use rds_forwarder::config::Config;
    use rds_forwarder::pipeline::Pipeline;
    use rdsf_core::secret::Secret;
    use rdsf_sinks::whatap::conn::Endpoints;
    use rdsf_sinks::whatap::decode::decode_frames;
    use rdsf_sinks::whatap::{WhatapConfig, WhatapSink};
    use whatap_support::{corpus_payloads, decode_pack, fixture, Pack};

    let mut records = rdsf_core::record::RecordSet::new();
    for path in corpus_payloads()
        .into_iter()
        .chain([fixture("rds-event-failover.json")])
    {
        let bytes = std::fs::read(&path).unwrap();
        records.append(Pipeline::new(Config::default()).process(&bytes, 1).records);
    }
    let sink = WhatapSink::new(&WhatapConfig {
        endpoints: Endpoints {
            hosts: vec![("127.0.0.1".into(), 6600)],
            connect_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(1),
        },
        license: Secret::new(LICENSE_78),
        pcode: 78,
        event_pack: true,
        log_category: None,
        event_category: None,
    });
    let bytes = sink.encode(&records.all_groups());
    let ours = decode_frames(&bytes).unwrap();
    // Split the same bytes into frame bodies by the header's length field.
    let mut theirs = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let len = i32::from_be_bytes(rest[18..22].try_into().unwrap()) as usize;
        theirs.push(decode_pack(&rest[22..22 + len]));
        rest = &rest[22 + len..];
    }
    assert_eq!(ours.len(), theirs.len());
    assert_eq!(
        ours.len(),
        records.len() + 1,
        "one EventPack besides the logs"
    );
    for (a, b) in ours.iter().zip(&theirs) {
        let field = |k: &str| {
            a.fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{k} missing in {a:?}"))
        };
        assert_eq!(a.pcode, 78);
        match b {
            Pack::Log(p) => {
                assert_eq!(a.pack, "LogSinkPack");
                assert_eq!(field("category"), p.category);
                assert_eq!(field("content"), p.content);
                assert_eq!(field("line"), p.line.to_string());
                assert_eq!(field("time"), p.head.time.to_string());
                for (k, _) in &p.tags {
                    assert!(field("tags").contains(&format!("{k:?}: ")), "{k}");
                }
            }
            Pack::Event(e) => {
                assert_eq!(a.pack, "EventPack");
                assert_eq!(field("level"), e.level.to_string());
                assert_eq!(field("title"), e.title);
                assert_eq!(field("message"), e.message);
            }
        }
    }
}

//! Deploys deploy/install.yaml and deploy/setup.yaml into moto_server (a
//! local AWS API emulator on 127.0.0.1) and drives the forwarder's own AWS
//! code against it: secrets at cold start (Secrets Manager and SSM), the
//! CloudTrail auto-subscription through the real Lambda runtime loop and
//! through `Handler`, the `subscribe` command, and re-driving an event kept
//! by the failure destination. What moto lacks is listed in
//! tests/deploy/moto_stacks.py and printed by this test.
//!
//! One #[test] on purpose: it sets AWS_* variables in this process, which is
//! only sound while no other test thread runs.

use crate::deploy_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use deploy_support::moto::Moto;
use deploy_support::{ensure_tools, root, venv_bin};
use rds_forwarder::config::Config;
use rds_forwarder::lambda::Handler;
use rds_forwarder::pipeline::Pipeline;
use rdsf_aws::api::{AwsLogs, AwsSecrets};
use rdsf_aws::subscribe::AutoSubscribe;
use rdsf_aws::{secrets, SecretRef, SecretSource};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rds-forwarder");
const CREATE_LOG_GROUP: &str = "tests/data/deploy/cloudtrail-create-log-group.json";
/// Only a bound against hanging forever if something is badly broken.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

fn python(moto: &Moto, args: &[&str]) -> Value {
    let out = Command::new(venv_bin("moto", "python"))
        .arg(root().join("tests/deploy/moto_stacks.py"))
        .arg(&moto.endpoint)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moto_stacks.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn forwarder(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .current_dir(root())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The subscription filters of `group` as `[[name, destination], ...]`,
/// read by boto3 in moto_stacks.py: an independent client, not our code.
fn filters_of(moto: &Moto, group: &str) -> Value {
    python(moto, &["filters"])
        .get(group)
        .cloned()
        .unwrap_or_else(|| panic!("log group {group} does not exist"))
}

/// `[[filter name, destination]]`: what a subscribed group carries.
fn subscribed(function_arn: &str) -> Value {
    serde_json::json!([["rds-forwarder", function_arn]])
}

/// Serves one invocation to the binary running as a Lambda bootstrap, over
/// the Lambda Runtime API, and returns what the function replied.
fn invoke_via_runtime_api(
    event: &str,
    function_arn: &str,
    env: &[(&str, &str)],
) -> (String, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(true).unwrap();
    let mut child = Command::new(BIN)
        .envs(env.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "rds-forwarder")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("RDSF_SINKS", "stdout")
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut served = false;
    let reply = loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("bootstrap exited ({status}) before replying:\n{err}");
        }
        assert!(
            started.elapsed() < GIVE_UP_AFTER,
            "no reply from the bootstrap"
        );
        let Ok((stream, _)) = listener.accept() else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        stream.set_nonblocking(false).unwrap();
        let (method, path, body) = read_request(&stream);
        let mut stream = stream;
        if method == "GET" && path.ends_with("/invocation/next") {
            if served {
                // The reply came first; leave this poll unanswered.
                continue;
            }
            served = true;
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 60_000;
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-1\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: {function_arn}\r\n\
                 Content-Length: {}\r\n\r\n{event}",
                event.len()
            )
            .unwrap();
        } else {
            write!(stream, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n").unwrap();
            if path.contains("/invocation/req-1/") {
                break (path, body);
            }
        }
    };
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let (path, body) = reply;
    assert!(
        path.ends_with("/response"),
        "invocation failed ({path}): {body}\n{}",
        text(&out.stderr)
    );
    (body, text(&out.stderr))
}

fn read_request(stream: &TcpStream) -> (String, String, String) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (method, path, text(&body))
}

#[test]
fn stacks_deploy_to_moto_and_the_aws_code_paths_work() {
    ensure_tools();
    let moto = Moto::start();

    // 1. Both stacks, created with real parameter values, checked by the script.
    let deployed = python(&moto, &["deploy"]);
    println!(
        "deploy: stacks created; moto lacks (covered as described): {:#}",
        deployed["moto_lacks"]
    );
    println!(
        "deploy: applied outside CloudFormation: {}",
        deployed["applied_outside_cloudformation"]
    );
    let function_arn = deployed["function_arn"].as_str().unwrap().to_owned();
    let secret_arn = deployed["whatap_license_secret_arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let ssm_name = deployed["otlp_headers_ssm_parameter"]
        .as_str()
        .unwrap()
        .to_owned();
    let license = deployed["license"].as_str().unwrap().to_owned();
    let headers = deployed["headers"].as_str().unwrap().to_owned();
    let loki_token = deployed["loki_token"].as_str().unwrap().to_owned();

    // The AWS client reads its endpoint, region and credentials from the environment,
    // in this process (the in-process checks) and in the binaries below.
    let aws_env = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    for (k, v) in aws_env {
        std::env::set_var(k, v);
    }
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_SESSION_TOKEN");
    for group in deployed["listed_groups"].as_array().unwrap() {
        let group = group.as_str().unwrap();
        assert_eq!(
            filters_of(&moto, group),
            subscribed(&function_arn),
            "{group}"
        );
    }

    // 2. Secrets: the references the install stack puts in the environment,
    // resolved by the same functions main() uses.
    let fn_env = [
        ("WHATAP_LICENSE_SECRET_ARN", secret_arn.as_str()),
        (
            "OTEL_EXPORTER_OTLP_HEADERS_SSM_PARAMETER",
            ssm_name.as_str(),
        ),
    ];
    let refs = secrets::references(rds_forwarder::config::secret_vars(), |k| {
        fn_env
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let resolved = block_on(secrets::resolve(&AwsSecrets::new(), &refs)).unwrap();
    assert_eq!(resolved[0].0, "WHATAP_LICENSE");
    assert_eq!(resolved[0].1.expose(), license);
    assert_eq!(resolved[1].0, "OTEL_EXPORTER_OTLP_HEADERS");
    assert_eq!(resolved[1].1.expose(), headers);
    let missing = SecretRef::SsmParameter("/rds-forwarder/absent".into());
    let err = block_on(AwsSecrets::new().get(&missing))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ssm:GetParameter on /rds-forwarder/absent"),
        "{err}"
    );
    println!("secrets: Secrets Manager and SSM SecureString read through aws::api::AwsSecrets");

    // `check` reads the same references with these credentials and says so,
    // never printing a value (the sinks are not deployed here: WhaTap fails).
    let checked = forwarder(
        &["check", "--sinks", "whatap", "--whatap-host", "127.0.0.1:1"],
        &[aws_env.as_slice(), fn_env.as_slice()].concat(),
    );
    let out = text(&checked.stdout);
    assert_eq!(
        checked.status.code(),
        Some(1),
        "{out}{}",
        text(&checked.stderr)
    );
    assert!(
        out.starts_with(&format!(
            "ok   secret WHATAP_LICENSE_SECRET_ARN: read Secrets Manager secret {secret_arn}\n\
             ok   secret OTEL_EXPORTER_OTLP_HEADERS_SSM_PARAMETER: read SSM parameter {ssm_name}\n\
             ok   settings: valid; sinks: whatap\n\
             FAIL whatap 127.0.0.1:1: cannot connect"
        )),
        "{out}"
    );
    assert!(!out.contains(&license) && !out.contains(&headers), "{out}");
    println!(
        "check: {}",
        out.lines().take(2).collect::<Vec<_>>().join(" / ")
    );
    println!("secrets: a missing parameter reads: {err}");

    // 3. A cold start in the real Lambda loop: main() reads the secrets, then a
    // CloudTrail CreateLogGroup event subscribes the new group to the invoked
    // function (its ARN from the Runtime API, as in Lambda).
    let new_group = "/aws/rds/instance/orders-db/postgresql";
    let fresh_group = "/aws/rds/cluster/new-aurora/postgresql";
    python(&moto, &["create-group", fresh_group]);
    let event = std::fs::read_to_string(root().join(CREATE_LOG_GROUP))
        .unwrap()
        .replace(new_group, fresh_group);
    // The function's environment exactly as the install stack set it (sink
    // settings and secret references, no secret values).
    let function_env: Vec<(String, String)> = deployed["function_environment"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            (k.clone(), v)
        })
        .collect();
    println!("function environment: {function_env:?}");
    let mut env: Vec<(&str, &str)> = aws_env.to_vec();
    env.extend(function_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (reply, stderr) = invoke_via_runtime_api(&event, &function_arn, &env);
    assert!(reply.contains("\"records\":0"), "{reply}");
    assert!(stderr.contains("log group subscribed"), "{stderr}");
    assert!(
        !stderr.contains(&license) && !stderr.contains(&headers) && !stderr.contains(&loki_token),
        "a secret reached the log"
    );
    assert_eq!(filters_of(&moto, fresh_group), subscribed(&function_arn));
    println!("auto-subscription: CloudTrail event through the Lambda runtime loop subscribed {fresh_group}");

    // The Loki settings exactly as the stack set them, its bearer token read
    // from SSM (a name without a leading `/`): `check` finds them valid.
    // Loki itself is not deployed, so the push goes to a closed port.
    let loki_ssm = deployed["loki_token_ssm_parameter"].as_str().unwrap();
    let mut loki_env = env.clone();
    loki_env.extend([("RDSF_SINKS", "loki"), ("LOKI_URL", "http://127.0.0.1:1")]);
    let checked = forwarder(&["check"], &loki_env);
    let out = text(&checked.stdout);
    assert_eq!(
        checked.status.code(),
        Some(1),
        "{out}{}",
        text(&checked.stderr)
    );
    assert!(
        out.contains(&format!(
            "ok   secret LOKI_BEARER_TOKEN_SSM_PARAMETER: read SSM parameter {loki_ssm}\n"
        )) && out.contains("ok   settings: valid; sinks: loki\n")
            && out.contains("FAIL loki http://127.0.0.1:1/loki/api/v1/push"),
        "{out}"
    );
    assert!(
        !out.contains(&loki_token) && !out.contains(&license) && !out.contains(&headers),
        "{out}"
    );
    println!("loki: the stack's settings and SSM bearer token pass `check`");

    // A wrong secret reference stops the cold start, naming it but no value
    // (`replay` reads settings as the function does; `subscribe` takes none,
    // so it reads no secret).
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/cloudwatch-postgresql.json"
    );
    let bad = forwarder(
        &["replay", sample],
        &[
            aws_env.as_slice(),
            &[(
                "WHATAP_LICENSE_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope",
            )],
        ]
        .concat(),
    );
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("cannot read secrets: secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:nope"), "{}", text(&bad.stderr));

    // 4. The same event through Handler in-process, for another new group.
    let handler_group = "/aws/rds/instance/billing-db/error";
    python(&moto, &["create-group", handler_group]);
    let mut handler = Handler::new(Pipeline::new(Config::default()), Vec::new());
    handler.auto_subscribe = Some(AutoSubscribe {
        subscriber: Box::new(AwsLogs::new()),
        prefix: "/aws/rds/".into(),
        destination_arn: None,
    });
    let event = std::fs::read_to_string(root().join(CREATE_LOG_GROUP))
        .unwrap()
        .replace(new_group, handler_group);
    block_on(handler.handle_invocation(event.as_bytes(), u64::MAX, Some(&function_arn))).unwrap();
    assert_eq!(filters_of(&moto, handler_group), subscribed(&function_arn));

    // 5. `subscribe` for the groups that existed before: dry run, then for real.
    let unlisted = deployed["unlisted_group"].as_str().unwrap();
    let other = deployed["other_group"].as_str().unwrap();
    let dry = forwarder(
        &[
            "subscribe",
            "--prefix",
            "/aws/rds/",
            "--destination-arn",
            &function_arn,
            "--dry-run",
        ],
        &aws_env,
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains(&format!("would subscribe {unlisted}\n")),
        "{}",
        text(&dry.stdout)
    );
    assert!(
        filters_of(&moto, unlisted) == serde_json::json!([]),
        "dry run changed something"
    );
    let real = forwarder(
        &[
            "subscribe",
            "--prefix",
            "/aws/rds/",
            "--destination-arn",
            &function_arn,
        ],
        &aws_env,
    );
    assert!(
        real.status.success(),
        "{}{}",
        text(&real.stdout),
        text(&real.stderr)
    );
    print!("subscribe: {}", text(&real.stdout));
    let all = python(&moto, &["filters"]);
    for (group, filters) in all.as_object().unwrap() {
        let expected = if group.starts_with("/aws/rds/") {
            subscribed(&function_arn)
        } else {
            serde_json::json!([])
        };
        assert_eq!(filters, &expected, "{group}");
    }
    assert!(
        all.get(other).is_some() && all.get(unlisted).is_some(),
        "{all}"
    );
    // Idempotent: running it again changes nothing.
    let again = forwarder(&["subscribe", "--destination-arn", &function_arn], &aws_env);
    assert!(again.status.success());
    assert_eq!(python(&moto, &["filters"]), all);

    // More groups than one DescribeLogGroups page (moto answers 50 a page):
    // `subscribe` follows nextToken to the end.
    let paged = "/aws/rds/paging-test/";
    python(&moto, &["create-groups", paged, "120"]);
    let listed = forwarder(
        &[
            "subscribe",
            "--prefix",
            paged,
            "--destination-arn",
            &function_arn,
            "--dry-run",
        ],
        &aws_env,
    );
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let would: Vec<String> = text(&listed.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("would subscribe "))
        .map(str::to_owned)
        .collect();
    let mut would = would;
    would.sort();
    let expected: Vec<String> = (0..120).map(|i| format!("{paged}{i:03}")).collect();
    assert_eq!(would, expected);
    println!(
        "pagination: {} groups listed across DescribeLogGroups pages",
        would.len()
    );

    // 6. The failure destination: Lambda's on-failure record on the stack's
    // queue, read back as deploy/README.md says, and its requestPayload replayed.
    let dir = root().join("target/deploy-test");
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("failed-event.json");
    let queue = deployed["failure_queue_url"].as_str().unwrap();
    let original = root().join("tests/data/deploy/rds-event-failover.json");
    let got = python(
        &moto,
        &[
            "failure",
            queue,
            path(&saved),
            path(&original),
            &function_arn,
        ],
    );
    assert_eq!(got["condition"], "RetriesExhausted");
    let replayed = forwarder(&["replay", path(&saved)], &[("RDSF_SINKS", "stdout")]);
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    assert!(
        text(&replayed.stdout).contains("RDS-EVENT-0049"),
        "{}",
        text(&replayed.stdout)
    );
    println!("failure destination: on-failure record read from the queue and replayed");

    // 7. `unsubscribe`: removes the filters `subscribe` and auto-subscription
    // put (outside CloudFormation), and only those: a filter of that name
    // sending elsewhere, or another filter sending to the function, stays.
    let kept = "/aws/rds/instance/kept-db/error";
    let other_name = "/aws/rds/instance/audited-db/audit";
    let put = python(
        &moto,
        &["put-filter", kept, "rds-forwarder", "kinesis:someone-elses"],
    );
    let elsewhere = put["destination"].as_str().unwrap().to_owned();
    python(&moto, &["put-filter", other_name, "audit", &function_arn]);
    let before = python(&moto, &["filters"]);
    let dry = forwarder(
        &[
            "unsubscribe",
            "--destination-arn",
            &function_arn,
            "--dry-run",
        ],
        &aws_env,
    );
    let dry_out = text(&dry.stdout);
    assert!(dry.status.success(), "{dry_out}{}", text(&dry.stderr));
    assert!(
        dry_out.contains(&format!("would unsubscribe {unlisted}\n"))
            && dry_out.contains(&format!(
                "left {kept}: its rds-forwarder filter sends to {elsewhere}\n"
            ))
            && !dry_out.contains(other_name),
        "{dry_out}"
    );
    assert_eq!(
        python(&moto, &["filters"]),
        before,
        "dry run changed something"
    );
    let real = forwarder(
        &["unsubscribe", "--destination-arn", &function_arn],
        &aws_env,
    );
    assert!(
        real.status.success(),
        "{}{}",
        text(&real.stdout),
        text(&real.stderr)
    );
    print!(
        "unsubscribe: {}",
        text(&real.stdout).lines().last().unwrap()
    );
    println!();
    let after = python(&moto, &["filters"]);
    let mut removed = 0;
    for (group, filters) in after.as_object().unwrap() {
        let expected = match group.as_str() {
            g if g == kept => serde_json::json!([["rds-forwarder", &elsewhere]]),
            g if g == other_name => serde_json::json!([["audit", function_arn]]),
            _ => serde_json::json!([]),
        };
        assert_eq!(filters, &expected, "{group}");
        removed += usize::from(before[group] != after[group]);
    }
    assert!(removed >= 4, "{before} -> {after}");
    // Nothing left to do the second time.
    let again = forwarder(
        &["unsubscribe", "--destination-arn", &function_arn],
        &aws_env,
    );
    assert!(
        text(&again.stdout).starts_with(&format!("left {kept}")),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(python(&moto, &["filters"]), after);

    // 8. Enhanced Monitoring's group, outside /aws/rds/: RDS creates it when
    // Enhanced Monitoring is first turned on, and auto-subscription takes it
    // (setup.yaml's rule and policy cover it; the deploy phase checked them).
    python(&moto, &["create-group", "RDSOSMetrics"]);
    let event = std::fs::read_to_string(root().join(CREATE_LOG_GROUP))
        .unwrap()
        .replace(new_group, "RDSOSMetrics");
    block_on(handler.handle_invocation(event.as_bytes(), u64::MAX, Some(&function_arn))).unwrap();
    assert_eq!(filters_of(&moto, "RDSOSMetrics"), subscribed(&function_arn));
    println!("auto-subscription: RDSOSMetrics subscribed");

    // 9. firehose.yaml, and a delivery as its stream makes it.
    firehose_stack_delivers_to_the_forwarder(&moto, &function_arn, &aws_env);
}

/// Creates firehose.yaml beside the install stack (moto_stacks.py checks
/// what it made), then: the forwarder's secret loader reads the generated
/// secret as Firehose does (`api_key`); an install stack given its ARN sets
/// the function's reference; and the function's handler and `serve`
/// (started with that environment, secrets read from moto) answer 200 to the
/// request the stream's configuration describes (gzip, the key from the
/// secret, read by boto3) and 401 to any other key.
fn firehose_stack_delivers_to_the_forwarder(
    moto: &Moto,
    function_arn: &str,
    aws_env: &[(&str, &str)],
) {
    use crate::serve::{exit_of, firehose_headers, http, sigterm, start};
    let made = python(moto, &["firehose", function_arn]);
    println!(
        "firehose: stack created; moto lacks (covered as described): {:#}",
        made["moto_lacks"]
    );
    let secret_arn = made["access_key_secret_arn"].as_str().unwrap().to_owned();
    let api_key = python(moto, &["access-key", &secret_arn])["api_key"]
        .as_str()
        .unwrap()
        .to_owned();

    // The forwarder reads the key Firehose presents from the same secret.
    let refs = secrets::references(rds_forwarder::config::secret_vars(), |k| {
        (k == "RDSF_FIREHOSE_ACCESS_KEY_SECRET_ARN").then(|| secret_arn.clone())
    })
    .unwrap();
    let resolved = block_on(secrets::resolve(&AwsSecrets::new(), &refs)).unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].0, "RDSF_FIREHOSE_ACCESS_KEY");
    assert_eq!(resolved[0].1.expose(), api_key);

    // The function's handler, given the key so read, answers a function URL
    // event carrying the stream's request (gzip) 200, and another key 401.
    let config = Config {
        firehose_access_key: Some(resolved[0].1.clone()),
        ..Config::default()
    };
    let handler = Handler::new(Pipeline::new(config), Vec::new());
    let deadline_ms = (rdsf_core::time::now_ns() / 1_000_000) as u64 + 60_000;
    for (key, status) in [(api_key.as_str(), 200), (crate::firehose::KEY, 401)] {
        let event = crate::firehose::function_url_event(
            "7d9e8d2c-firehose-url-0001",
            Some(key),
            crate::firehose::body("7d9e8d2c-firehose-url-0001").as_bytes(),
            true,
        );
        match block_on(handler.respond(&event, deadline_ms, None)).unwrap() {
            rds_forwarder::lambda::Reply::Http(r) => {
                assert_eq!(r.status_code, status, "{}", r.body)
            }
            other => panic!("a function URL event answered with {other:?}"),
        }
    }

    // The install stack given the AccessKeySecretArn output: its function's
    // environment, with the stdout sink only (the others are not deployed).
    let installed = python(moto, &["use-firehose-key", &secret_arn]);
    let function_env: Vec<(String, String)> = installed["function_environment"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            (k.clone(), v)
        })
        .collect();
    assert!(
        function_env.contains(&(
            "RDSF_FIREHOSE_ACCESS_KEY_SECRET_ARN".into(),
            secret_arn.clone()
        )),
        "{function_env:?}"
    );
    let mut env: Vec<(&str, &str)> = aws_env.to_vec();
    env.extend(function_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    env.extend([("RDSF_SINKS", "stdout"), ("RDSF_FIREHOSE_ACCESS_KEY", "")]);
    let (mut child, addr, log) = start(&env);

    // As the stream sends it: ContentEncoding GZIP, the key from the secret.
    assert_eq!(made["content_encoding"], "GZIP");
    let request_id = "7d9e8d2c-firehose-moto-0001";
    let body = rdsf_testkit::payload::gzip(crate::firehose::body(request_id).as_bytes());
    let mut headers = firehose_headers(request_id, &api_key);
    headers.push(("content-encoding", "gzip"));
    let (status, answer) = http(&addr, "POST", "/", &headers, &body);
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["requestId"], request_id);
    // Any other key (here the one the environment would give) is refused.
    let other = firehose_headers("7d9e8d2c-firehose-moto-0002", crate::firehose::KEY);
    let (status, answer) = http(
        &addr,
        "POST",
        "/",
        &other,
        crate::firehose::body("x").as_bytes(),
    );
    assert_eq!(status, 401, "{answer}");
    assert!(!answer.contains(&api_key));
    sigterm(&child);
    assert!(exit_of(&mut child).success());
    let log = log.join().unwrap();
    assert!(!log.contains(&api_key), "the access key reached the log");
    println!("firehose: serve read the generated key from Secrets Manager and answered the stream's request 200");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

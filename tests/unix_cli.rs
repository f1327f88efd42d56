//! The binary as a Unix tool (issue 12): a closed stdout ends the run at
//! once and quietly, colour and progress only on a terminal, each failure
//! logged once, documented exit statuses, clear messages instead of panics.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rds-forwarder"));
    c.current_dir(manifest_dir());
    for (var, _) in std::env::vars_os() {
        let name = var.to_string_lossy();
        if name.starts_with("RDSF_")
            || name.starts_with("OTEL_")
            || name.starts_with("WHATAP_")
            // The Lambda runtime's, and region and credentials (deploy_moto
            // sets them process-wide), which would turn RDS metadata
            // lookups on: these runs have none.
            || name.starts_with("AWS_")
            || name == "NO_COLOR"
        {
            c.env_remove(&var);
        }
    }
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Waits up to `limit` for `child` to exit; kills it and returns `None` if
/// it is still running then (a bound, not a timing assertion).
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Reads a pipe to its end on a thread (so a full pipe cannot block the child).
fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

// ---- 1. a closed stdout --------------------------------------------------

#[test]
fn replay_into_a_closed_pipe_stops_at_once_with_141_and_logs_nothing() {
    // ~4 MB of records: far more than a pipe holds, so the writer is still
    // busy when the reader goes away (as with `| head -5`).
    let mut cmd = bin();
    cmd.arg("replay");
    for _ in 0..20 {
        cmd.arg("examples/");
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take().unwrap());
    {
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        for _ in 0..5 {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            assert!(line.starts_with('{'), "{line}");
        }
        // dropped: the pipe is closed
    }
    let status = wait_bounded(&mut child, Duration::from_secs(10))
        .expect("the run must end once stdout is closed, not retry it");
    let stderr = text(&stderr.join().unwrap());
    assert_eq!(status.code(), Some(141), "{stderr}");
    assert!(
        stderr.lines().count() <= 1,
        "a closed stdout is no error to log: {stderr}"
    );
}

#[test]
fn wrap_into_a_closed_pipe_exits_141_quietly() {
    let raw = std::env::temp_dir().join(format!("rdsf-wrap-{}.log", std::process::id()));
    let line = "2024-01-01 00:00:00 UTC:10.0.0.1(5432):app@db:[42]:LOG:  statement: SELECT 1\n";
    std::fs::write(&raw, line.repeat(40_000)).unwrap();
    let mut child = bin()
        .args([
            "wrap",
            "--log-group",
            "/aws/rds/instance/db/postgresql",
            "--log-stream",
            "db.0",
            "--batch",
            "10",
        ])
        .arg(&raw)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take().unwrap());
    {
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.starts_with('{'), "{first}");
    }
    let status = wait_bounded(&mut child, Duration::from_secs(10)).expect("wrap ends");
    let _ = std::fs::remove_file(&raw);
    let stderr = text(&stderr.join().unwrap());
    assert_eq!(status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

// ---- 2. progress by bytes, on a terminal only -----------------------------

/// `script` (util-linux) runs a command under a pseudo-terminal.
fn script() -> PathBuf {
    for dir in ["/usr/bin", "/bin"] {
        let p = Path::new(dir).join("script");
        if p.exists() {
            return p;
        }
    }
    panic!("`script` (util-linux / bsdutils) is needed for the terminal tests");
}

#[test]
fn stdin_replay_on_a_terminal_shows_a_spinner_with_bytes_read() {
    let dir = std::env::temp_dir().join(format!("rdsf-pty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("in");
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let event = std::fs::read(manifest_dir().join("examples/cloudwatch-postgresql.json")).unwrap();
    // stderr is the terminal; stdin a FIFO we feed slowly; stdout discarded.
    let inner = format!(
        "'{}' replay - < '{}' > /dev/null",
        env!("CARGO_BIN_EXE_rds-forwarder"),
        fifo.display()
    );
    let mut child = Command::new(script())
        .args(["-qfc", &inner, "/dev/null"])
        .env_remove("RDSF_SINKS")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let terminal = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let terminal = terminal.clone();
        let mut out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                terminal.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let mut input = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let half = event.len() / 2;
    input.write_all(&event[..half]).unwrap();
    input.flush().unwrap();
    // While stdin is still open, the bytes read so far must be on screen.
    let shown = format!("{:.2} KiB", half as f64 / 1024.0);
    let start = Instant::now();
    while !text(&terminal.lock().unwrap()).contains(&shown) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no progress for stdin on a terminal (looked for `{shown}`): {:?}",
            text(&terminal.lock().unwrap())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    input.write_all(&event[half..]).unwrap();
    drop(input);
    let status = wait_bounded(&mut child, Duration::from_secs(30)).expect("replay ends");
    reader.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success());
    let screen = text(&terminal.lock().unwrap());
    assert!(screen.contains("B/s"), "a rate is shown: {screen:?}");
    assert!(screen.contains("records: 187"), "{screen:?}");
}

/// Writes `bytes` to `file`, replays it with stderr on a pseudo-terminal
/// (`script`), records to /dev/null; the terminal's text is the stdout.
fn replay_file_on_a_terminal(file: &Path, bytes: &[u8], env: &[(&str, &str)]) -> Output {
    std::fs::write(file, bytes).unwrap();
    let inner = format!(
        "'{}' replay '{}' > /dev/null",
        env!("CARGO_BIN_EXE_rds-forwarder"),
        file.display()
    );
    let out = Command::new(script())
        .args(["-qfc", &inner, "/dev/null"])
        .env_remove("RDSF_SINKS")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_file(file);
    out
}

#[test]
fn one_file_on_a_terminal_shows_a_bar_moving_by_bytes_not_per_file() {
    // One file of ten events: the bar must show it part done.
    let event = std::fs::read(manifest_dir().join("examples/cloudwatch-postgresql.json")).unwrap();
    let file = std::env::temp_dir().join(format!("rdsf-ten-{}.json", std::process::id()));
    let mut ten = Vec::new();
    for _ in 0..10 {
        ten.extend_from_slice(&event);
        ten.push(b'\n');
    }
    let out = replay_file_on_a_terminal(&file, &ten, &[]);
    let screen = text(&out.stdout);
    assert!(out.status.success(), "{screen:?}");
    let first = format!(
        "{:.2} KiB/{:.2} KiB",
        event.len() as f64 / 1024.0,
        ten.len() as f64 / 1024.0
    );
    assert!(screen.contains(&first), "looked for `{first}`: {screen:?}");
}

#[test]
fn a_log_line_on_a_terminal_does_not_run_into_the_progress_bar() {
    // Good events, then one no Lambda event (an error line while the bar
    // is on screen), then another good one.
    let event = std::fs::read(manifest_dir().join("examples/cloudwatch-postgresql.json")).unwrap();
    let file = std::env::temp_dir().join(format!("rdsf-mixed-{}.json", std::process::id()));
    let mut mixed = Vec::new();
    for _ in 0..3 {
        mixed.extend_from_slice(&event);
        mixed.push(b'\n');
    }
    mixed.extend_from_slice(b"{\"foo\":1}\n");
    mixed.extend_from_slice(&event);
    let out = replay_file_on_a_terminal(&file, &mixed, &[("NO_COLOR", "1")]);
    let screen = text(&out.stdout);
    let at = screen.find(" ERROR ").expect("the error line is shown");
    // The line starts with its timestamp, `YYYY-MM-DDT…`.
    let bytes = screen.as_bytes();
    let line_start = (0..at)
        .rev()
        .find(|&p| {
            let b = &bytes[p..];
            b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-' && b[10] == b'T'
        })
        .expect("a timestamp starts the error line");
    let before = &screen[..line_start];
    // The bar is lifted first (a cursor move / line clear), not written over.
    assert!(
        before.is_empty()
            || ["\n", "\r", "\x1b[1A", "\x1b[2K"]
                .iter()
                .any(|end| before.ends_with(end)),
        "the log line runs into the bar: {:?}",
        &before[before.len().saturating_sub(80)..]
    );
}

#[test]
fn off_a_terminal_stderr_holds_only_the_summary() {
    let event = std::fs::read(manifest_dir().join("examples/cloudwatch-postgresql.json")).unwrap();
    let mut cmd = bin();
    cmd.args(["replay", "-", "examples/"]);
    let out = run_with_stdin(cmd, &event);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.lines().count(), 5, "{stderr:?}");
    // stdin and the 5 files of examples/.
    assert!(stderr.starts_with("replayed 6 file(s)"), "{stderr:?}");
}

// ---- 3. colour -------------------------------------------------------------

#[test]
fn log_lines_into_a_pipe_carry_no_colour_codes() {
    let mut cmd = bin();
    cmd.args(["replay", "-"]);
    let out = run_with_stdin(cmd, br#"{"foo":1}"#);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ERROR"),
        "an error line was provoked: {stderr}"
    );
    assert!(
        !stderr.contains("\x1b["),
        "escape codes in a pipe: {stderr:?}"
    );
}

// ---- 4. each failure logged once; the OTLP URL named, without secrets -----

#[test]
fn each_failure_is_logged_once_with_its_file() {
    let mut cmd = bin();
    cmd.args(["replay", "-"]);
    let out = run_with_stdin(cmd, br#"{"foo":1}"#);
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("unsupported event shape"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("file=-"), "{stderr}");
}

#[test]
fn an_unreachable_otlp_endpoint_is_named_without_its_credentials() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // dropped: nothing listens there
    let out = bin()
        .args(["replay", "examples/eventbridge-rds-failover.json"])
        .env(
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            format!("http://alice:pa55w0rd@127.0.0.1:{port}/v1/logs?api_key=k3y"),
        )
        .env("RDSF_RETRY_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let url = format!("http://127.0.0.1:{port}/v1/logs");
    let naming: Vec<&str> = stderr.lines().filter(|l| l.contains(&url)).collect();
    assert_eq!(naming.len(), 1, "the failure, once, naming {url}: {stderr}");
    for secret in ["alice", "pa55w0rd", "k3y"] {
        assert!(!stderr.contains(secret), "{secret} leaked: {stderr}");
    }
}

// ---- 5. lambda outside Lambda ----------------------------------------------

#[test]
fn lambda_outside_lambda_names_the_missing_variables_and_exits_2() {
    let out = bin().arg("lambda").output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for var in [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    ] {
        assert!(stderr.contains(var), "{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Only some set: the rest are named.
    let out = bin()
        .arg("lambda")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "f")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
        "{stderr}"
    );
    assert!(!stderr.contains("AWS_LAMBDA_FUNCTION_NAME"), "{stderr}");
}

// ---- 6. a raw log file given to replay ------------------------------------

#[test]
fn replay_of_a_raw_log_file_suggests_wrap() {
    let out = bin().args(["replay", "README.md"]).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("looks like a raw log file")
            && stderr.contains("rds-forwarder wrap --log-group")
            && stderr.contains("README.md | rds-forwarder replay -"),
        "{stderr}"
    );
    // JSON that is no Lambda event gets no such hint.
    let mut cmd = bin();
    cmd.args(["replay", "-"]);
    let out = run_with_stdin(cmd, br#"{"foo":1}"#);
    assert!(!text(&out.stderr).contains("wrap"), "{}", text(&out.stderr));
}

// ---- 7. exit statuses, documented and produced -----------------------------

#[test]
fn every_subcommand_help_lists_the_exit_statuses() {
    for sub in [
        vec!["--help"],
        vec!["replay", "--help"],
        vec!["wrap", "--help"],
        vec!["lambda", "--help"],
        vec!["subscribe", "--help"],
        vec!["unsubscribe", "--help"],
        vec!["check", "--help"],
    ] {
        let out = bin().args(&sub).output().unwrap();
        let help = text(&out.stdout);
        assert!(out.status.success(), "{sub:?}");
        assert!(help.contains("Exit status:"), "{sub:?}: {help}");
        for code in ["0", "1", "2", "70", "141"] {
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{code} "))),
                "{sub:?} lacks {code}: {help}"
            );
        }
    }
}

#[test]
fn each_exit_status_comes_from_the_situation_it_names() {
    // 0: everything delivered.
    let out = bin().args(["replay", "examples/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // 1: an event not delivered (malformed).
    let mut cmd = bin();
    cmd.args(["replay", "-"]);
    let out = run_with_stdin(cmd, br#"{"foo":1}"#);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // 2: unreadable input, bad configuration, bad usage, no subcommand.
    for args in [
        vec!["replay", "no/such/file.json"],
        vec![
            "wrap",
            "--log-group",
            "g",
            "--log-stream",
            "s",
            "no/such.log",
        ],
        vec!["replay", "--batch-max-records", "0", "examples/"],
        vec!["replay", "--no-such-flag", "examples/"],
        vec!["lambda"],
        vec!["subscribe", "--prefix", "", "--destination-arn", "arn:x"],
        vec![],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // 141 is `replay_into_a_closed_pipe_stops_at_once_with_141_and_logs_nothing`;
    // 70 (a panic) is `cli::exit` 's unit test: no input is known to panic.
}

// ---- issue 13: no panic from an absurd duration -----------------------------

/// Every duration setting at its type's maximum: `Instant + Duration`
/// overflowed (a panic) before they were saturated.
#[test]
fn maximal_duration_settings_do_not_panic() {
    let max = u64::MAX.to_string();
    let out = bin()
        .args(["replay", "--timeout-secs", &max, "examples/"])
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    // WhaTap to a local collector that reads everything, every timeout maximal.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        buf.len()
    });
    let out = bin()
        .args(["replay", "examples/"])
        .env("WHATAP_HOST", format!("127.0.0.1:{port}"))
        .env(
            "WHATAP_LICENSE",
            "x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth",
        )
        .env("WHATAP_CONNECT_TIMEOUT_MS", &max)
        .env("WHATAP_WRITE_TIMEOUT_MS", &max)
        .env("RDSF_ATTEMPT_TIMEOUT_MS", &max)
        .env("RDSF_RETRY_MAX_BACKOFF_MS", &max)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        reader.join().unwrap() > 1000,
        "the collector got the records"
    );
}

// ---- 8. settings that used to be accepted silently -------------------------

#[test]
fn an_unknown_log_level_stops_start_up_naming_rds_log_level() {
    let flag = bin()
        .args(["replay", "--log-level", "verbose", "examples/"])
        .output()
        .unwrap();
    let env = bin()
        .env("RDSF_LOG_LEVEL", "loud")
        .args(["replay", "examples/"])
        .output()
        .unwrap();
    for (out, value) in [(flag, "verbose"), (env, "loud")] {
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert!(
            stderr.contains("RDSF_LOG_LEVEL") && stderr.contains(value),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing was replayed");
    }
    // Every documented level works, in any case.
    for level in ["error", "WARN", "off", "Trace"] {
        let out = bin()
            .env("RDSF_LOG_LEVEL", level)
            .args(["replay", "examples/"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{level}: {}", text(&out.stderr));
    }
}

// ---- 9. `--help` a newcomer can read ----------------------------------------

/// The flags of one `--help` section: the lines between `heading:` and the
/// next unindented line.
fn help_section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != format!("{heading}:"))
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_once("--"))
        .map(|(_, l)| l.split([' ', '[']).next().unwrap())
        .collect()
}

#[test]
fn replay_help_groups_its_flags_by_topic_and_shows_examples_above_the_exit_table() {
    let out = bin().args(["replay", "--help"]).output().unwrap();
    let help = text(&out.stdout);
    assert!(out.status.success());
    for (heading, prefix, at_least) in [
        ("General", "", 4),
        ("WhaTap", "whatap-", 9),
        ("Delivery", "", 6),
        ("OTLP", "", 10),
        ("Kinesis", "kinesis-", 1),
        ("Redaction", "redact-", 1),
        ("Auto-subscription", "", 2),
    ] {
        let flags = help_section(&help, heading);
        assert!(flags.len() >= at_least, "{heading}: {flags:?}\n{help}");
        assert!(
            flags.iter().all(|f| f.starts_with(prefix)),
            "{heading}: {flags:?}"
        );
    }
    assert!(help_section(&help, "OTLP").contains(&"otlp-endpoint"));
    assert!(help_section(&help, "Delivery").contains(&"retry-max-attempts"));
    assert!(help_section(&help, "General").contains(&"log-level"));
    // Only --help is left ungrouped.
    assert_eq!(help_section(&help, "Options"), ["help"], "{help}");
    let examples = help.find("Examples:\n  ").expect("examples");
    let table = help.find("Exit status:").expect("exit table");
    assert!(examples < table, "{help}");
    assert!(help[examples..table].contains("rds-forwarder replay examples/"));
}

//! A real MariaDB server, end to end: start a private instance on 127.0.0.1
//! with RDS-like logging (error, slow query with `log_slow_verbosity`,
//! general, server_audit), run a short workload with errors, slow queries, a
//! failed login and password changes carrying planted secrets, shut it down,
//! then `rds-forwarder wrap` each log and `rds-forwarder replay` it.
//!
//! Needs root (the server runs as `mysql`) and the Debian packages that
//! `scripts/deps/parse-mysql.sh` installs; the test runs that script itself
//! when `mariadbd` is missing and fails clearly when it cannot.

use crate::mysql_support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mysql_support::*;

const BIN: &str = env!("CARGO_BIN_EXE_rds-forwarder");

fn sh(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    out
}

fn must(cmd: &mut Command) -> Output {
    let out = sh(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/bin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// mariadbd, installing it when missing.
fn ensure_server() -> PathBuf {
    let uid = String::from_utf8_lossy(&sh(Command::new("id").arg("-u")).stdout)
        .trim()
        .to_owned();
    assert_eq!(
        uid, "0",
        "the MariaDB server test needs root (it runs mariadbd as user `mysql`); CI runs as root"
    );
    if find_tool("mariadbd").is_none() || find_tool("mariadb").is_none() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/deps/parse-mysql.sh");
        println!("mariadbd missing: running {}", script.display());
        let out = sh(Command::new("bash")
            .arg("-c")
            .arg(format!("set -euo pipefail; source {}", script.display())));
        assert!(
            out.status.success(),
            "installing mariadb-server failed (is apt available?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    find_tool("mariadbd").expect("mariadbd is installed")
}

/// Stops the server even when an assertion fails half way.
struct Server {
    child: Option<Child>,
    socket: PathBuf,
}

impl Server {
    fn shutdown(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("mariadb-admin")
                .arg(format!("--socket={}", self.socket.display()))
                .arg("--user=root")
                .arg("shutdown")
                .output();
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts mariadbd and waits until it answers (bounded; not a timing assertion).
fn start_server(mariadbd: &Path, args: &[String], socket: &Path, error_log: &Path) -> Server {
    let child = Command::new(mariadbd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mariadbd starts");
    let mut server = Server {
        child: Some(child),
        socket: socket.to_owned(),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ping = sh(Command::new("mariadb-admin")
            .arg(format!("--socket={}", socket.display()))
            .args(["--user=root", "ping"]));
        if ping.status.success() {
            return server;
        }
        if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
            panic!(
                "mariadbd exited ({status}) before accepting connections; error log:\n{}",
                std::fs::read_to_string(error_log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "mariadbd did not accept connections within 120 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs SQL as root over the socket; `--force` keeps going past the errors
/// the workload makes on purpose.
fn sql_root(socket: &Path, sql: &str) -> Output {
    let mut child = Command::new("mariadb")
        .arg(format!("--socket={}", socket.display()))
        .args(["--user=root", "--force", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mariadb client");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn sql_tcp(port: u16, user: &str, password: &str, sql: &str) -> Output {
    sh(Command::new("mariadb")
        .args(["--protocol=TCP", "--host=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--user={user}"))
        .arg(format!("--password={password}"))
        .args(["--force", "--batch", "-e", sql]))
}

struct Replayed {
    lines: Vec<serde_json::Value>,
    raw_stdout: String,
    input_ids: Vec<String>,
    raw_log: String,
}

/// `rds-forwarder wrap` then `rds-forwarder replay` for one log.
fn wrap_and_replay(work: &Path, log: &Path, log_type: &str) -> Replayed {
    let group = format!("/aws/rds/instance/x/{log_type}");
    let wrapped = must(
        Command::new(BIN)
            .args(["wrap", "--log-group", &group, "--log-stream", "x"])
            .arg(log),
    );
    let events_file = work.join(format!("{log_type}.events.ndjson"));
    std::fs::write(&events_file, &wrapped.stdout).unwrap();
    let input_ids: Vec<String> = String::from_utf8_lossy(&wrapped.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .flat_map(|l| payload_events(l.as_bytes()).into_iter().map(|(id, _)| id))
        .collect();
    let replayed = must(Command::new(BIN).arg("replay").arg(&events_file));
    let raw_stdout = String::from_utf8(replayed.stdout).expect("NDJSON is UTF-8");
    let lines = raw_stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("each output line is JSON"))
        .collect();
    Replayed {
        lines,
        raw_stdout,
        input_ids,
        raw_log: String::from_utf8_lossy(&std::fs::read(log).unwrap()).into_owned(),
    }
}

fn check_common(label: &str, r: &Replayed, secrets: &[&str]) {
    assert!(!r.input_ids.is_empty(), "{label}: the log is empty");
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for line in &r.lines {
        let attrs = &line["attributes"];
        assert!(
            attrs.get("rds.parse.error").is_none(),
            "{label}: record with rds.parse.error: {line}"
        );
        let ids: Vec<String> = match attrs.get("aws.cloudwatch.event_ids") {
            Some(serde_json::Value::Array(ids)) => {
                ids.iter().map(|v| v.as_str().unwrap().to_owned()).collect()
            }
            _ => vec![attrs["aws.cloudwatch.event_id"]
                .as_str()
                .unwrap()
                .to_owned()],
        };
        for id in ids {
            *seen.entry(id).or_default() += 1;
        }
    }
    for id in &r.input_ids {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "{label}: event {id} must be in exactly one record"
        );
    }
    assert_eq!(
        seen.len(),
        r.input_ids.len(),
        "{label}: unknown ids in output"
    );
    for s in secrets {
        assert!(
            !r.raw_stdout.contains(s),
            "{label}: planted secret {s:?} leaked"
        );
    }
    println!(
        "{label}: {} events → {} records, no rds.parse.error, no secret",
        r.input_ids.len(),
        r.lines.len()
    );
}

#[test]
fn real_mariadb_logs_through_wrap_and_replay() {
    let mariadbd = ensure_server();
    let version = String::from_utf8_lossy(&must(Command::new(&mariadbd).arg("--version")).stdout)
        .trim()
        .to_owned();
    println!("server: {version}");

    let work = std::env::temp_dir().join(format!("rdsf-mariadb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (data, run, logs) = (work.join("data"), work.join("run"), work.join("logs"));
    for d in [&data, &run, &logs] {
        std::fs::create_dir_all(d).unwrap();
    }
    must(Command::new("chown").args(["-R", "mysql:mysql"]).arg(&work));
    must(
        Command::new(find_tool("mariadb-install-db").expect("mariadb-install-db"))
            .args(["--no-defaults", "--user=mysql", "--skip-test-db"])
            .arg(format!("--datadir={}", data.display())),
    );

    let audit_plugin = [
        "/usr/lib/mysql/plugin/server_audit.so",
        "/usr/lib/x86_64-linux-gnu/mariadb19/plugin/server_audit.so",
    ]
    .iter()
    .any(|p| Path::new(p).is_file());
    let port = free_port();
    let socket = run.join("mariadb.sock");
    let log = |name: &str| logs.join(name);
    let mut args: Vec<String> = vec![
        "--no-defaults".into(),
        "--user=mysql".into(),
        format!("--datadir={}", data.display()),
        format!("--socket={}", socket.display()),
        format!("--pid-file={}", run.join("mariadb.pid").display()),
        format!("--port={port}"),
        "--bind-address=127.0.0.1".into(),
        "--skip-name-resolve".into(),
        "--performance-schema=OFF".into(),
        "--innodb-buffer-pool-size=32M".into(),
        format!("--log-error={}", log("error.log").display()),
        "--log-warnings=2".into(),
        "--log-output=FILE".into(),
        "--general-log=1".into(),
        format!("--general-log-file={}", log("general.log").display()),
        "--slow-query-log=1".into(),
        format!("--slow-query-log-file={}", log("slow.log").display()),
        "--long-query-time=0".into(),
        "--log-slow-verbosity=query_plan,explain".into(),
        "--log-slow-admin-statements=ON".into(),
    ];
    if audit_plugin {
        args.extend([
            "--plugin-load-add=server_audit".into(),
            "--server-audit-logging=ON".into(),
            "--server-audit-events=CONNECT,QUERY,TABLE".into(),
            "--server-audit-output-type=file".into(),
            format!("--server-audit-file-path={}", log("audit.log").display()),
        ]);
    }
    println!("starting: {} {}", mariadbd.display(), args.join(" "));
    let mut server = start_server(&mariadbd, &args, &socket, &log("error.log"));

    // Planted secrets, unique to this run.
    let pid = std::process::id();
    let first = format!("Plant-First-{pid}-pw!");
    let rotated = format!("Plant-Rotated-{pid}-pw");
    let via_function = format!("Plant-Function-{pid}-pw");
    let wrong = format!("Plant-Wrong-{pid}-pw");
    let secrets = [
        first.as_str(),
        rotated.as_str(),
        via_function.as_str(),
        wrong.as_str(),
    ];

    let setup = format!(
        "CREATE DATABASE shop;\n\
         CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '{first}';\n\
         GRANT ALL PRIVILEGES ON shop.* TO 'app'@'127.0.0.1';\n\
         CREATE USER 'ops'@'127.0.0.1' IDENTIFIED BY '{first}';\n\
         SET PASSWORD FOR 'ops'@'127.0.0.1' = PASSWORD('{via_function}');\n\
         ALTER USER 'app'@'127.0.0.1' IDENTIFIED BY '{rotated}';\n\
         FLUSH PRIVILEGES;\n"
    );
    let out = sql_root(&socket, &setup);
    assert!(
        out.status.success(),
        "setup: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let workload = "CREATE TABLE items (id INT PRIMARY KEY, sku VARCHAR(20) UNIQUE, price DECIMAL(8,2), note TEXT);\n\
         INSERT INTO items SELECT seq, CONCAT('SKU-', seq), seq * 1.5, REPEAT('x', seq % 50) FROM seq_1_to_20000;\n\
         SELECT COUNT(*), AVG(price) FROM items WHERE note LIKE '%xx%';\n\
         SELECT id, sku FROM items WHERE id IN (1, 2, 3, 4) ORDER BY price DESC;\n\
         SELECT id FROM items WHERE id = 7;\nSELECT id FROM items WHERE id = 8;\n\
         UPDATE items SET price = price * 1.1 WHERE id BETWEEN 10 AND 20;\n\
         SELECT SLEEP(0.3);\nSELECT SLEEP(0.2);\n\
         SELECT a.id FROM items a JOIN items b ON b.id = a.id + 1 WHERE a.price > 100 LIMIT 5;\n\
         SELEC id FROM items;\n\
         SELECT * FROM missing_table;\n\
         INSERT INTO items (id, sku, price) VALUES (1, 'dup', 1.0);\n\
         SELECT nonexistent_column FROM items;\n\
         SELECT id,\n  sku\nFROM items\nWHERE id = 42;\n";
    let out = sql_tcp(port, "app", &rotated, &format!("USE shop;\n{workload}"));
    assert!(
        out.status.success() || !out.stderr.is_empty(),
        "workload: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let failed_login = sql_tcp(port, "app", &wrong, "SELECT 1");
    assert!(
        !failed_login.status.success(),
        "a wrong password must be refused"
    );
    let unknown_user = sql_tcp(port, "intruder", &wrong, "SELECT 1");
    assert!(!unknown_user.status.success());
    println!("workload done (errors expected: syntax, missing table, duplicate key, missing column, 2 failed logins)");

    // A restart, as RDS does on maintenance: the server writes its header into
    // the slow and general logs again, and a second start into the error log.
    server.shutdown();
    let mut server = start_server(&mariadbd, &args, &socket, &log("error.log"));
    let after = sql_tcp(
        port,
        "app",
        &rotated,
        "SELECT COUNT(*) FROM shop.items WHERE price > 10; SELECT SLEEP(0.1)",
    );
    assert!(
        after.status.success(),
        "after restart: {}",
        String::from_utf8_lossy(&after.stderr)
    );
    server.shutdown();
    println!(
        "server restarted once and stopped; logs in {}",
        logs.display()
    );

    // ---- wrap + replay each log ----
    let slow = wrap_and_replay(&work, &log("slow.log"), "slowquery");
    check_common("slowquery", &slow, &secrets);
    let query_times = grep_prefix_count(&slow.raw_log, "# Query_time: ");
    println!(
        "slowquery: {} records, `# Query_time` lines: {query_times}",
        slow.lines.len()
    );
    assert_eq!(slow.lines.len(), query_times);
    assert!(slow
        .lines
        .iter()
        .all(|l| l["attributes"]["db.query.duration_ms"].is_f64()));
    assert!(slow
        .lines
        .iter()
        .any(|l| l["attributes"]["db.query.fingerprint"] == "select sleep(?)"));
    assert!(slow.lines.iter().any(|l| l["attributes"]["db.query.text"]
        .as_str()
        .is_some_and(|q| q.contains("IDENTIFIED BY '***'"))));

    // The classes pt-query-digest finds in the same slow log.
    let mut expected = run_pt_query_digest(&log("slow.log"));
    let halves = split_restart_merges(&mut expected);
    let mut ours = std::collections::BTreeMap::<String, usize>::new();
    for l in &slow.lines {
        let fp = l["attributes"]["db.query.fingerprint"]
            .as_str()
            .expect("fingerprint")
            .to_owned();
        *ours.entry(fp).or_default() += 1;
    }
    println!(
        "slowquery: {} fingerprint classes, equal to pt-query-digest's after splitting {} class(es) it merged across the restart header",
        ours.len(),
        halves.len()
    );
    assert_eq!(
        halves.len(),
        1,
        "the restart header split one pair of entries for pt-query-digest"
    );
    assert_eq!(ours, expected);

    let general = wrap_and_replay(&work, &log("general.log"), "general");
    check_common("general", &general, &secrets);
    let denied = general
        .lines
        .iter()
        .filter(|l| {
            l["body"]
                .as_str()
                .is_some_and(|b| b.contains("Access denied"))
        })
        .count();
    assert!(
        denied >= 2,
        "the failed logins are in the general log ({denied})"
    );

    let error = wrap_and_replay(&work, &log("error.log"), "error");
    check_common("error", &error, &secrets);
    for word in ["Note", "Warning", "ERROR"] {
        let grep = grep_level_count(&error.raw_log, word);
        let ours = error
            .lines
            .iter()
            .filter(|l| l["severity_text"] == word)
            .count();
        println!("error: [{word}] grep {grep}, records {ours}");
        if ours != grep {
            // Show both sides so a mismatch on real server output can be read.
            let raw = &error.raw_log;
            for l in raw.lines().filter(|l| l.contains(&format!("[{word}]"))) {
                eprintln!("raw: {l}");
            }
            for l in error.lines.iter().filter(|l| l["severity_text"] == word) {
                eprintln!("rec: {}", l["body"]);
            }
        }
        assert_eq!(ours, grep, "{word}");
    }
    assert!(error.lines.iter().any(|l| l["body"]
        .as_str()
        .is_some_and(|b| b.contains("Access denied for user 'app'"))));
    assert_eq!(error.lines[0]["resource"]["db.system.name"], "mariadb");

    if audit_plugin {
        let audit = wrap_and_replay(&work, &log("audit.log"), "audit");
        check_common("audit", &audit, &secrets);
        assert!(audit
            .lines
            .iter()
            .any(|l| l["attributes"]["mysql.audit.operation"] == "FAILED_CONNECT"));
    } else {
        println!(
            "audit: server_audit plugin not installed; audit log not tested against the server"
        );
    }

    let _ = std::fs::remove_dir_all(&work);
}

/// Regression (a CI run, 2026-12-05): MariaDB's server_audit plugin wrote a
/// line without its newline and the next `[Note]` line was glued onto it;
/// counting every line that contains `[Note]` then counted one entry the
/// server never wrote as a Note line.
#[test]
fn a_note_glued_onto_an_audit_line_is_not_a_note_line() {
    let log = "2026-12-05 17:39:25 0 [Note] Plugin 'FEEDBACK' is disabled.\n\
               261205 17:39:25 server_audit: Query cache is enabled. Some table reads can be veiled.2026-12-05 17:39:25 0 [Note] InnoDB: Loading buffer pool(s)\n\
               2026-11-25  7:59:31 0 [Warning] padded hour\n\
               2020-08-06T14:25:02.936146Z 0 [Warning] [MY-010068] [Server] MySQL 8\n";
    assert_eq!(grep_level_count(log, "Note"), 1);
    assert_eq!(grep_level_count(log, "Warning"), 2);
    assert_eq!(grep_count(log, "[Note]"), 2, "what the old count saw");
}

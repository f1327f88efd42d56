//! Our fingerprint against pt-query-digest's own code, statement by
//! statement: the `QueryRewriter` package is cut out of the installed
//! `/usr/bin/pt-query-digest` (percona-toolkit, installed by
//! `scripts/deps/parse-mysql.sh`) and run by perl on the same inputs: every
//! statement of the MariaDB general log and PostgreSQL log (corpus or in-repo
//! excerpts), hand-picked edge cases, and seeded random token soup.

use crate::fingerprint_one_pass::slow_log_statements;
use crate::mysql_support;

use std::io::Write;
use std::process::{Command, Stdio};

use mysql_support::{corpus_dir, fixtures_dir};
use rdsf_core::sql::fingerprint;
use rdsf_core::sql::fingerprint::takes_one_pass;

const PT: &str = "/usr/bin/pt-query-digest";

/// A perl program: pt's QueryRewriter plus a loop reading NUL-separated statements.
fn perl_program() -> String {
    let pt = std::fs::read_to_string(PT).unwrap_or_else(|e| {
        panic!("{PT} is needed (percona-toolkit; run scripts/deps/parse-mysql.sh): {e}")
    });
    let start = pt
        .find("{\npackage QueryRewriter;")
        .expect("QueryRewriter package in pt-query-digest");
    let end = pt[start..]
        .find("# End QueryRewriter package")
        .expect("end of QueryRewriter")
        + start;
    format!(
        "use strict; use warnings;\n{}\npackage main;\nmy $qr = QueryRewriter->new();\n\
         local $/ = \"\\0\";\nwhile (my $q = <STDIN>) {{ chomp $q; my $f; {{ local $/ = \"\\n\"; $f = $qr->fingerprint($q); }} print $f, \"\\0\"; }}\n",
        &pt[start..end]
    )
}

fn pt_fingerprints(statements: &[String]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("rdsf-fp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("fingerprint.pl");
    std::fs::write(&script, perl_program()).unwrap();
    let mut child = Command::new("perl")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("perl runs");
    let mut input = Vec::new();
    for s in statements {
        input.extend_from_slice(s.as_bytes());
        input.push(0);
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("pt output is UTF-8");
    let mut v: Vec<String> = text.split('\0').map(str::to_owned).collect();
    assert_eq!(v.pop().as_deref(), Some(""));
    v
}

/// Statements from the general log (`Query` arguments), the PostgreSQL log
/// and the slow log (statement blocks).
fn logged_statements() -> Vec<String> {
    let dir = match corpus_dir() {
        Some(c) => {
            println!("statements from the shared corpus {}", c.display());
            c.join("raw")
        }
        None => {
            println!("statements from the in-repo excerpts");
            fixtures_dir()
        }
    };
    let (general, pg) = (dir.join("mariadb-general.log"), dir.join("postgresql.log"));
    let slow = std::fs::read_to_string(dir.join("mariadb-slow.log")).unwrap();
    let mut out = slow_log_statements(&slow);
    let general = std::fs::read_to_string(general).unwrap();
    let mut current: Option<String> = None;
    for line in general.lines() {
        if let Some((_, q)) = line.split_once(" Query\t") {
            out.extend(current.take());
            current = Some(q.to_owned());
        } else if line.contains('\t') && line.trim_start().starts_with(|c: char| c.is_ascii_digit())
        {
            out.extend(current.take());
        } else if let Some(c) = current.as_mut() {
            c.push('\n');
            c.push_str(line);
        }
    }
    out.extend(current);
    for line in std::fs::read_to_string(pg).unwrap().lines() {
        if let Some((_, q)) = line.split_once("statement: ") {
            out.push(q.to_owned());
        }
    }
    out.sort();
    out.dedup();
    out
}

const EDGE_CASES: &[&str] = &[
    "CALL p(f(1))",
    "call  x.y(1)",
    "INSERT IGNORE INTO t VALUES (1),(2)",
    "REPLACE INTO t (a) VALUES ('x'),('y')",
    "insert into t values(1) , (2) on duplicate key update a=values(a)",
    "SELECT a FROM t ORDER BY a ASC, b DESC, c ASC LIMIT 5 OFFSET 10",
    "select /*!40001 x */ 1",
    "select 0x1F, b'01', -5, +3.2e10, 1e-5",
    "select 'it''s', \"a\\\"b\"",
    "SELECT * FROM t -- trailing 'quote\n WHERE a = 1 # x",
    "SELECT TRUE, false, NULL, nullable FROM t",
    "use db",
    "USE `db`\n",
    "select a from t union select a from t union all select a from t",
    "select 1 from t where a between 1 and 2 limit 1,2",
    "administrator command: Ping",
    "SELECT /*!40001 SQL_NO_CACHE */ * FROM `t`",
    "select * from x /*pt.table:1/2*/",
    "  \n select\t\t1  \n",
    "select ascii from t order by x ascii",
    "select * from t where id in ()",
    "SELECT ÄÖ FROM t WHERE x='é'",
    "select 'unterminated",
    "select 1 /* unterminated",
];

/// Seeded token soup (xorshift; no randomness crate needed for a test).
fn random_statements(n: usize) -> Vec<String> {
    const TOKENS: &[&str] = &[
        "'",
        "\"",
        "\\",
        "(",
        ")",
        ",",
        "?",
        "-",
        "--",
        "#",
        "/*",
        "*/",
        "/*!",
        "in",
        "IN",
        "in (",
        "values",
        "VALUES",
        "value",
        " ",
        "  ",
        "\n",
        "\t",
        "\r",
        "\x0c",
        "\x0b",
        "1",
        "23",
        "0x",
        "b",
        "x",
        ".",
        "+",
        " union ",
        "UNION ALL ",
        "select ",
        "SELECT a ",
        "order by ",
        "ORDER BY ",
        "ASC",
        " asc",
        " limit ",
        "LIMIT ",
        "offset ",
        "null",
        "NULL",
        "true",
        "FALSE",
        "call ",
        "CALL ",
        "use ",
        "INSERT INTO ",
        "REPLACE ",
        "IGNORE",
        "INTO ",
        " VALUES (1)",
        ", (2)",
        "é",
        "t",
        "abc",
        "_",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = 1 + (next() % 14) as usize;
            (0..len)
                .map(|_| TOKENS[(next() % TOKENS.len() as u64) as usize])
                .collect()
        })
        .collect()
}

#[test]
fn fingerprints_equal_pt_query_digest_statement_by_statement() {
    let mut statements = logged_statements();
    let logged = statements.len();
    statements.extend(EDGE_CASES.iter().map(|s| s.to_string()));
    statements.extend(random_statements(20_000));
    let theirs = pt_fingerprints(&statements);
    assert_eq!(theirs.len(), statements.len());
    let mut differ = Vec::new();
    for (s, pt) in statements.iter().zip(&theirs) {
        let ours = fingerprint(s);
        if &ours != pt {
            differ.push((s.clone(), ours, pt.clone()));
        }
    }
    let one_pass = statements.iter().filter(|s| takes_one_pass(s)).count();
    println!(
        "compared {} statements ({logged} logged, {} edge cases, 20000 random; {one_pass} taken by the one pass) with pt-query-digest's QueryRewriter: {} differ",
        statements.len(),
        EDGE_CASES.len(),
        differ.len()
    );
    assert!(
        differ.is_empty(),
        "first differences (statement, ours, pt): {:#?}",
        &differ[..differ.len().min(5)]
    );
}

//! The one-pass fingerprint (issue 17) gives byte for byte what pt's steps
//! run one after another give (`fingerprint_multi_step`, the code the pass
//! replaces for statements without quotes or comments): on every statement
//! and every line of the corpus logs (in-repo fixtures, and the shared
//! corpus when present), and on random statements from a grammar of SQL-ish
//! tokens chosen where the steps interact (`-false`, `nullx1`, `X1`, `t1`,
//! vertical tabs, `IN` lists). Each test also counts the statements the
//! pass took, so it fails if the pass stops being exercised.
//! `tests/fingerprint_vs_pt.rs` compares the result with pt-query-digest.
//!
//! Cases for the property: `PROPTEST_CASES` (default 4096).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rdsf_core::sql::fingerprint::{
    fingerprint, fingerprint_multi_step, takes_one_pass, takes_one_pass_after_quotes,
};

/// The corpus logs: the in-repo fixtures, and the shared corpus if present.
fn corpus_logs() -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")];
    let shared = std::env::var_os("RDSF_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if shared.is_dir() {
        dirs.push(shared);
    }
    let mut logs = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "log") {
                logs.push(path);
            }
        }
    }
    logs.sort();
    logs
}

/// Statements of a MariaDB slow log: the lines between `#` headers, as one
/// block and one by one.
pub fn slow_log_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in text.lines().chain(std::iter::once("#")) {
        if line.starts_with('#') {
            if block.len() > 1 {
                out.push(block.join("\n"));
            }
            block.clear();
        } else {
            block.push(line);
        }
    }
    out
}

/// Every line of every corpus log, the statements logged in them (general
/// log `Query`, PostgreSQL `statement:`, slow-log blocks), deduplicated.
fn corpus_statements() -> Vec<String> {
    let mut out = Vec::new();
    for log in corpus_logs() {
        let bytes = std::fs::read(&log).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        out.extend(slow_log_statements(&text));
        for line in text.lines() {
            out.push(line.to_owned());
            out.push(format!("{line}\n"));
            for marker in [" Query\t", "statement: ", "execute <unnamed>: "] {
                if let Some((_, q)) = line.split_once(marker) {
                    out.push(q.to_owned());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn one_pass_equals_the_multi_step_fingerprint_on_the_whole_corpus() {
    let statements = corpus_statements();
    let took = statements.iter().filter(|q| takes_one_pass(q)).count();
    let quoted = statements
        .iter()
        .filter(|q| takes_one_pass_after_quotes(q))
        .count();
    let differ: Vec<_> = statements
        .iter()
        .filter_map(|q| {
            let (fast, slow) = (fingerprint(q), fingerprint_multi_step(q));
            (fast != slow).then(|| (q.clone(), fast, slow))
        })
        .collect();
    println!(
        "{} corpus statements and lines, {took} taken by the one pass, {quoted} by the pass after the quotes' rewrite, {} differ",
        statements.len(),
        differ.len()
    );
    assert!(
        differ.is_empty(),
        "first differences (statement, one pass, multi-step): {:#?}",
        &differ[..differ.len().min(5)]
    );
    // The in-repo fixtures alone have hundreds of quote- and comment-free lines.
    assert!(took >= 500, "only {took} statements took the one pass");
    assert!(
        quoted >= 50,
        "only {quoted} statements took the pass after quotes"
    );
}

#[test]
fn one_pass_handles_the_steps_interplay_like_the_multi_step_code() {
    for (q, want) in [
        (
            "SELECT * FROM t WHERE id = 42",
            "select * from t where id = ?",
        ),
        (
            "select -false, 1.false, truex, true1",
            "select ??, ??, truex, true?",
        ),
        (
            "select nullx1, null.1, NULL, nullable",
            "select ??, ??, ?, nullable",
        ),
        (
            "select X1, x1, idx1, tab1, b1, a.1",
            "select x?, ?, id?, ta?, ?, a?",
        ),
        ("select xx?, x??, utf8mb4", "select x?, ??, utf?m?"),
        ("  \t\n select\u{b} a \t\n b\n", "select\u{b} a b"),
        (
            "SELECT a FROM t WHERE x IN (1, 2) LIMIT 5, 10",
            "select a from t where x in(?+) limit ?",
        ),
        (
            "select f(1) from t order by a asc",
            "select f(?) from t order by a",
        ),
        ("select a union select a", "select a /*repeat union*/"),
        // `limit` glued to a word the union collapse then cuts off: the
        // pass's `limit` gate must not need a word boundary before it.
        (
            "select xa union select xalimit 1, 2",
            "select xa /*repeat union*/limit ?",
        ),
        ("use db", "use ?"),
    ] {
        expect_fingerprint(takes_one_pass, q, want);
    }
    for q in [
        "select 'a'",
        "select \"a\"",
        "select 1 -- c",
        "select 1 # c",
        "select /* c */ 1",
    ] {
        assert!(!takes_one_pass(q), "{q:?}");
    }
    // Quotes are rewritten first, then the pass runs; comments, `#` and
    // escaped quotes stay with the steps.
    for (q, want) in [
        ("select 'a', \"b\"", "select ?, ?"),
        ("SELECT x'0A', X'0B', -'1', 'a'true", "select ?, x?, ??, ??"),
        (
            "select \"it's\" from t where a='1' or b=\"",
            "select ? from t where a=? or b=\"",
        ),
        // pt pairs `"` first: `"b' , "` goes, then `'a?c'`.
        ("select 'a\"b' , \"c'd\"", "select ?d\""),
        ("use 'db'", "use ?"),
    ] {
        expect_fingerprint(takes_one_pass_after_quotes, q, want);
    }
    for q in [
        "select 'a' -- c",
        "select 'a' # c",
        "select /* c */ 'a'",
        "select 'a\\'b'",
        "select 1",
    ] {
        assert!(!takes_one_pass_after_quotes(q), "{q:?}");
    }
}

/// `q` takes the path `taken` says, and both ways give `want`.
fn expect_fingerprint(taken: fn(&str) -> bool, q: &str, want: &str) {
    assert!(taken(q), "{q:?}");
    assert_eq!(fingerprint(q), want, "{q:?}");
    assert_eq!(fingerprint_multi_step(q), want, "{q:?}");
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4096)
}

/// SQL-ish tokens without quotes or comments, weighted toward the places
/// where pt's steps interact.
const TOKENS: &[&str] = &[
    "select", "SELECT", "from", "FROM", "where", "and", "t", "a", "b", "x", "X", "B", "ab", "idx",
    "tab", "col_1", "t1", "nullable", "null", "NULL", "Null", "true", "TRUE", "false", "False",
    "truex", "xtrue", "in", "IN", "values", "VALUES", "value", "into", "insert", "INSERT",
    "replace", "union", "UNION", "all", "limit", "LIMIT", "offset", "order by", "ORDER BY", "asc",
    "ASC", "desc", "use", "call", "1", "42", "0", "1.5", "0x1f", "1e5", "-2", "+3", "-", "+", ".",
    "x1", "b1", "X1", "f", "e", "?", "??", "*", "=", "<", ">=", ",", ", ", ";", "(", ")", "(?)",
    "()", "/", "@", "$1", "_", " ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\u{b}", "\u{c}",
    "é", "ü",
];

/// A statement of tokens, glued or spaced.
fn soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (proptest::sample::select(TOKENS), proptest::bool::ANY),
        0..30,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(t, space)| if space { format!("{t} ") } else { t.to_owned() })
            .collect()
    })
}

/// `IN` / `VALUES` lists, `LIMIT` and `ORDER BY … ASC` around soup.
fn shaped() -> impl Strategy<Value = String> {
    let list = prop_oneof![
        Just("IN (1, 2, 3)"),
        Just("in(?,?)"),
        Just("IN ( 1 ,\n2 )"),
        Just("values (1,2), (3,4)"),
        Just("VALUES(1)(2)"),
        Just("value ,(1)"),
        Just("in (a, 1)"),
        Just("in ()"),
        Just("LIMIT 10"),
        Just("limit 1, 2"),
        Just("LIMIT 3 OFFSET 4"),
        Just("limit 1,2"),
        Just("ORDER BY a ASC, b ASC"),
        Just("order by a  asc"),
        Just("ORDER BY a DESC"),
        Just("UNION SELECT a"),
        Just("union all select a"),
    ];
    (soup(), proptest::collection::vec((list, soup()), 1..5)).prop_map(|(head, parts)| {
        let mut s = head;
        for (l, tail) in parts {
            s.push(' ');
            s.push_str(l);
            s.push(' ');
            s.push_str(&tail);
        }
        s
    })
}

/// Tokens side by side can open a comment (`-` `-2`, `/` `*`), which the
/// pass leaves to the multi-step code: a space keeps them apart.
fn no_comment(mut q: String) -> String {
    while q.contains("--") || q.contains("/*") {
        q = q.replace("--", "- -").replace("/*", "/ *");
    }
    q
}

/// Soup with quoted strings, unpaired quotes and quotes of the other kind
/// inside, glued to words, numbers, `x`/`b` prefixes and booleans.
fn quoted() -> impl Strategy<Value = String> {
    const QUOTED: &[&str] = &[
        "'a'",
        "'bob'",
        "''",
        "\"\"",
        "\"x\"",
        "'it\"s'",
        "\"it's\"",
        "'",
        "\"",
        "'1 true null'",
        "x'0A'",
        "X'0b'",
        "b'01'",
        "-'2'",
        "+'3'",
        ".'4'",
        "'a''b'",
        "'é ü'",
        "'(1, 2)'",
        "'in ('",
        "' limit 1'",
        "'\n'",
        "'\t '",
    ];
    proptest::collection::vec(
        (
            prop_oneof![
                proptest::sample::select(QUOTED),
                proptest::sample::select(TOKENS)
            ],
            proptest::bool::ANY,
        ),
        0..30,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(t, space)| if space { format!("{t} ") } else { t.to_owned() })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_pass_after_quotes_equals_the_multi_step_fingerprint(
        q in quoted().prop_map(no_comment)
    ) {
        prop_assert!(
            takes_one_pass(&q) || takes_one_pass_after_quotes(&q),
            "neither pass taken: {:?}", q
        );
        prop_assert_eq!(fingerprint(&q), fingerprint_multi_step(&q), "statement {:?}", q);
    }

    #[test]
    fn one_pass_equals_the_multi_step_fingerprint_on_sql_ish_statements(
        q in prop_oneof![soup(), shaped()].prop_map(no_comment)
    ) {
        prop_assert!(takes_one_pass(&q), "not taken: {:?}", q);
        prop_assert_eq!(fingerprint(&q), fingerprint_multi_step(&q), "statement {:?}", q);
    }
}

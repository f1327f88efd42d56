//! The linear fingerprint (issue 13) gives byte for byte what the code it
//! replaced gave: random statements built from SQL-ish tokens — quotes,
//! comments (closed and not), `UNION` chains of a few alike branches, `VALUES`
//! tuples, `IN` lists, numbers, odd whitespace — fingerprinted by both the
//! current `rdsf_core::sql::fingerprint` and the frozen copy of the old
//! one in `tests/fingerprint_old` (itself checked against pt-query-digest by
//! `tests/fingerprint_vs_pt.rs` before it was frozen).
//!
//! Cases per property: `PROPTEST_CASES` (default 2048).

use crate::fingerprint_old;

use proptest::prelude::*;
use rdsf_core::sql::fingerprint;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048)
}

const TOKENS: &[&str] = &[
    "select",
    "SELECT",
    "Select",
    "union",
    "UNION",
    "all",
    "ALL",
    "union all",
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\u{b}",
    "\u{c}",
    "'",
    "\"",
    "\\'",
    "\\\"",
    "\\",
    "/*",
    "*/",
    "/*!",
    "/**/",
    "/*a",
    "--",
    "#",
    "(",
    ")",
    "((",
    "))",
    ",",
    ", ",
    "?",
    "1",
    "42",
    "0x1f",
    "-2",
    "+3",
    "1.5e3",
    "b'01'",
    "values",
    "VALUES",
    "value",
    "Values",
    "in",
    "IN",
    "insert",
    "INSERT",
    "into",
    "INTO",
    "IGNORE",
    "replace",
    "t",
    "a",
    "b",
    "x",
    "ab",
    "true",
    "FALSE",
    "null",
    "NULL",
    "order by",
    "ORDER BY",
    "asc",
    "ASC",
    "desc",
    "limit",
    "LIMIT",
    "offset",
    ";",
    "=",
    "*",
    ".",
    ":",
    "/",
    "call",
    "use",
    "é",
    "ü",
    "from",
    "where",
    "and",
];

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(TOKENS).prop_map(str::to_owned),
        1 => "[ -~]{0,3}",
    ]
}

/// Free token soup.
fn soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(token(), 0..40).prop_map(|v| v.concat())
}

/// A few words and spaces, as tokens.
fn soup_short() -> impl Strategy<Value = String> {
    proptest::collection::vec(token(), 0..4).prop_map(|v| v.concat())
}

/// `select …` branches drawn from a small set (so some repeat), joined by
/// `union` / `union all` separators with varied whitespace and case.
fn union_chain() -> impl Strategy<Value = String> {
    let branch = prop_oneof![
        Just("select a".to_owned()),
        Just("select b".to_owned()),
        Just("SELECT 1".to_owned()),
        Just("select a from t where x in (1, 2)".to_owned()),
        Just("select  a".to_owned()),
        Just("select".to_owned()),
        Just("select union".to_owned()),
        Just("select a union".to_owned()),
        soup_short().prop_map(|s| format!("select {s}")),
    ];
    let sep = prop_oneof![
        Just(" union "),
        Just(" UNION "),
        Just(" union all "),
        Just(" union  all "),
        Just(" union\tall\n"),
        Just("\nunion "),
        Just(" union"),
        Just("union "),
        Just(" unionall "),
        Just(" "),
    ];
    (
        soup_short(),
        proptest::collection::vec((branch, sep), 1..12),
        soup_short(),
    )
        .prop_map(|(head, parts, tail)| {
            let mut s = head;
            for (b, sep) in parts {
                s.push_str(&b);
                s.push_str(sep);
            }
            s.push_str(&tail);
            s
        })
}

/// `INSERT … VALUES (…), (…)` with tuples, stray `VALUES` and lists.
fn insert_values() -> impl Strategy<Value = String> {
    let start = prop_oneof![
        Just("INSERT INTO t"),
        Just("insert into t (a, b)"),
        Just("INSERT IGNORE INTO t"),
        Just("REPLACE INTO t"),
        Just("INSERT  INTO t"),
        Just("insert ignoreinto t"),
    ];
    let part = prop_oneof![
        Just(" VALUES".to_owned()),
        Just(" values".to_owned()),
        Just(" value".to_owned()),
        Just("(1)".to_owned()),
        Just(" (1, 'a')".to_owned()),
        Just(", (2)".to_owned()),
        Just(",(?)".to_owned()),
        Just(" , ( 3 , 4 ) ".to_owned()),
        Just(")".to_owned()),
        Just("(".to_owned()),
        Just(" in (1,2,3)".to_owned()),
        token(),
    ];
    (start, proptest::collection::vec(part, 0..16)).prop_map(|(s, parts)| {
        let mut q = s.to_owned();
        for p in parts {
            q.push_str(&p);
        }
        q
    })
}

fn statement() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => soup(),
        3 => union_chain(),
        2 => insert_values(),
        1 => (soup_short(), union_chain(), soup_short(), union_chain())
            .prop_map(|(a, b, c, d)| format!("{a} ({b}) {c} {d}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn fingerprint_is_unchanged_from_the_quadratic_version(q in statement()) {
        prop_assert_eq!(fingerprint(&q), fingerprint_old::fingerprint(&q), "statement {:?}", q);
    }
}

//! The fingerprint costs time linear in the statement, whatever its shape.
//! PostgreSQL logs a failing statement in full, so any database user can
//! make us fingerprint a megabyte of `select 1 union select 1 union …`; the
//! shapes below were quadratic (seconds to minutes of CPU) before issue 13.
//!
//! Not a timed assertion on an absolute figure: each shape is fingerprinted at
//! n and 8n bytes and the larger must cost at most 32× the smaller (best of
//! several runs, measured twice before a failure counts), which a linear step
//! meets (~8×) and a quadratic one (64×) cannot. Cost is the thread's own CPU
//! time (`CLOCK_THREAD_CPUTIME_ID`), not wall time, so other processes on a
//! loaded machine do not stretch one measurement. `FP_IMPL=old` runs the same checks on the frozen pre-issue-13 code
//! (`tests/fingerprint_old`), where the quadratic shapes fail; `FP_IMPL=multi`
//! on the multi-step code the one pass (issue 17) stands in for.
//!
//! `cargo test --release --test integration fingerprint_linear:: -- --ignored --nocapture`
//! prints the before/after figures at 256 KB and 1 MB.

use crate::fingerprint_old;

use cpu_time::ThreadTime;
use std::time::Duration;

type Fingerprint = fn(&str) -> String;

/// A statement of a given shape, as a function of its size in bytes.
type Shape = (&'static str, fn(usize) -> String);

fn implementation() -> (&'static str, Fingerprint) {
    match std::env::var("FP_IMPL").as_deref() {
        Ok("old") => ("old", fingerprint_old::fingerprint),
        Ok("multi") => ("multi", rdsf_core::sql::fingerprint::fingerprint_multi_step),
        _ => ("new", rdsf_core::sql::fingerprint),
    }
}

/// `unit` repeated to at least `n` bytes, between `head` and `tail`.
fn repeat(head: &str, unit: &str, tail: &str, n: usize) -> String {
    let mut s = String::with_capacity(n + head.len() + tail.len() + unit.len());
    s.push_str(head);
    while s.len() < n {
        s.push_str(unit);
    }
    s.push_str(tail);
    s
}

/// A distinct lower-case word per `i` (digits would all become `?`).
fn word(mut i: usize) -> String {
    let mut w = String::new();
    loop {
        w.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
        if i == 0 {
            return w;
        }
    }
}

/// `select <w0> union select <w1> union …`: no two branches alike, so nothing
/// collapses, but every branch used to be compared with every later one.
fn distinct_unions(n: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < n {
        s.push_str("select ");
        s.push_str(&word(i));
        s.push_str(" union ");
        i += 1;
    }
    s.push_str("select z");
    s
}

/// `select a union select <w1> union select a union select <w2> …`: every
/// other branch alike, the ones between all different.
fn alternating_unions(n: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < n {
        s.push_str("select a union select q");
        s.push_str(&word(i));
        s.push_str(" union ");
        i += 1;
    }
    s.push_str("select z");
    s
}

/// Each pathological shape, by name, as a function of its size in bytes.
fn shapes() -> Vec<Shape> {
    vec![
        ("select 1 union select 1 union …", |n| {
            repeat("select 1", " union select 1", "", n)
        }),
        ("select 1 union all select 1 union … (mixed)", |n| {
            repeat("select 1", " union all select 1 union select 1", "", n)
        }),
        ("select <distinct> union …", distinct_unions),
        (
            "select a union select <distinct> union select a …",
            alternating_unions,
        ),
        ("select select select … union", |n| {
            repeat("", "select ", "x union select y", n)
        }),
        ("INSERT INTO t VALUES(1) VALUES(1) …", |n| {
            repeat("INSERT INTO t", " VALUES(1)", "", n)
        }),
        ("INSERT INTO t VALUES (1) (1) …", |n| {
            repeat("INSERT INTO t VALUES ", "(1) ", "", n)
        }),
        ("/*a /*a /*a … (unterminated comments)", |n| {
            repeat("select 1 ", "/*a ", "", n)
        }),
        ("/* long comment */", |n| {
            repeat("select /* ", "comment ", "*/ 1", n)
        }),
        (
            "-- a ' -- a ' … (line comments running into quotes)",
            |n| repeat("select 1 ", "-- a ' ", "", n),
        ),
        ("((((…))))", |n| {
            let k = n / 2;
            format!("select {}1{}", "(".repeat(k), ")".repeat(k))
        }),
        ("(((( unclosed", |n| repeat("select ", "(", "", n)),
        ("IN (1,2,3,…)", |n| {
            repeat("select * from t where id in (1", ",2", ")", n)
        }),
        ("in in in … (", |n| repeat("select ", "in ", "(", n)),
        ("'long string'", |n| repeat("select '", "abcdefgh", "'", n)),
        ("'unterminated string", |n| {
            repeat("select 'x' '", "ab\\'c", "", n)
        }),
        ("\"unterminated quotes \" \" \"", |n| {
            repeat("select ", "\" ", "", n)
        }),
        ("true false null …", |n| {
            repeat("select ", "true false null ", "", n)
        }),
        ("1 2 3 -4 +5 0x… numbers", |n| {
            repeat("select ", "1 2.5 -4 +5 0xff ", "", n)
        }),
        ("ORDER BY a ASC, … and vertical tabs", |n| {
            repeat("select a from t order by a", "\u{b}", " desc", n)
        }),
        ("ORDER BY a ASC, b ASC, …", |n| {
            repeat("select a from t order by a asc", ", b asc", "", n)
        }),
        ("limit ? limit ? …", |n| {
            repeat("select 1 ", "limit 1 ", "", n)
        }),
        ("call p(((", |n| repeat("call p", "(", "", n)),
        ("/*a.b:1/2*/ lookalikes", |n| {
            repeat("select ", "/*ab.cd:1/x ", "", n)
        }),
        ("whitespace", |n| repeat("select", " \t\r\n", "1", n)),
        // The one pass's own work (issue 17): number runs that check for a
        // boolean at each byte, folds, `null` after a fold, and the look
        // back over `[\s,]*` after each `(`.
        ("nullx1 -false 1.false X1 … (one pass)", |n| {
            repeat("select ", "nullx1 -false 1.false X1 idx? ", "", n)
        }),
        ("-f.f.f.f… number run (one pass)", |n| {
            repeat("select -", "f.", "", n)
        }),
        (", , , ( , , , ( … (one pass)", |n| {
            repeat("select ", ", ,\t, (", "", n)
        }),
    ]
}

/// The best of `runs` timings (this thread's CPU time) of one fingerprint.
fn best(f: Fingerprint, q: &str, runs: usize) -> Duration {
    (0..runs)
        .map(|_| {
            let t = ThreadTime::now();
            std::hint::black_box(f(std::hint::black_box(q)));
            t.elapsed()
        })
        .min()
        .unwrap()
}

/// Past this ratio of the 8n cost to the n cost, a shape is superlinear.
const LIMIT: f64 = 32.0;

/// The cost ratio of `make(8n)` to `make(n)`: best of several runs each.
fn ratio(f: Fingerprint, make: &dyn Fn(usize) -> String, n: usize) -> (f64, Duration, Duration) {
    let (small, large) = (make(n), make(8 * n));
    // Warm the thread's scratch buffers at full size first.
    let _ = f(&large);
    let t1 = best(f, &small, 7);
    let t8 = best(f, &large, 3);
    (t8.as_secs_f64() / t1.as_secs_f64().max(1e-9), t1, t8)
}

/// A description when the shape costs more than [`LIMIT`]× at 8n, twice
/// in a row (a busy machine can slow one measurement, rarely two).
fn superlinear(f: Fingerprint, make: &dyn Fn(usize) -> String, n: usize) -> Option<String> {
    let (r, t1, t8) = ratio(f, make, n);
    if r <= LIMIT || t8 < Duration::from_millis(2) {
        return None;
    }
    let (r2, t1b, t8b) = ratio(f, make, n);
    (r2 > LIMIT).then(|| format!("×{r:.1} ({t1:?} → {t8:?}), again ×{r2:.1} ({t1b:?} → {t8b:?})"))
}

#[test]
fn fingerprint_cost_grows_linearly_on_every_pathological_shape() {
    let (which, f) = implementation();
    let n = 16 << 10;
    let mut failed = Vec::new();
    for (name, make) in shapes() {
        let one_pass = rdsf_core::sql::fingerprint::takes_one_pass(&make(n));
        // The shapes meant for the one pass must reach it, or they test nothing new.
        assert!(one_pass || !name.ends_with("(one pass)"), "{name}");
        let (r, t1, t8) = ratio(f, &make, n);
        println!(
            "{which} {name:55} {:>8} B {t1:>10.3?}  ×8 {t8:>10.3?}  ×{r:.1}{}",
            make(n).len(),
            if one_pass { "  (one pass)" } else { "" }
        );
        if let Some(why) = superlinear(f, &make, n) {
            failed.push(format!("{name}: {why}"));
        }
    }
    assert!(failed.is_empty(), "{which}: superlinear: {failed:#?}");
}

/// Before/after figures at 256 KB and 1 MB (release build); prints only.
#[test]
#[ignore = "figures for the report: cargo test --release --test integration fingerprint_linear:: -- --ignored --nocapture"]
fn print_fingerprint_figures() {
    let old_too = std::env::var("FP_SKIP_OLD").is_err();
    for (name, make) in shapes() {
        for size in [256 << 10, 1 << 20] {
            let q = make(size);
            let new = best(rdsf_core::sql::fingerprint, &q, 3);
            let old = if old_too {
                format!("{:.3?}", best(fingerprint_old::fingerprint, &q, 1))
            } else {
                "-".to_owned()
            };
            println!(
                "{name:55} {:>8} B  before {old:>10}  after {new:>10.3?}",
                q.len()
            );
        }
    }
}

/// Tokens for [`fingerprint_cost_grows_linearly_on_random_repeated_patterns`].
const TOKENS: &[&str] = &[
    "select",
    "SELECT",
    "union",
    "UNION",
    "all",
    "union all",
    " ",
    "  ",
    "\t",
    "\n",
    "\u{b}",
    "'",
    "\"",
    "\\'",
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
    ",",
    "?",
    "1",
    "0x1f",
    "-2",
    "+3",
    "1.5e3",
    "values",
    "VALUES",
    "value",
    "in",
    "IN",
    "insert into t",
    "INSERT",
    "INTO",
    "IGNORE",
    "replace",
    "t",
    "a",
    "b",
    "true",
    "null",
    "order by",
    "asc",
    "limit",
    "offset",
    "=",
    "*",
    ".",
    ":",
    "/",
    "call",
    "use",
    "é",
];

/// Shapes nobody listed: a random head, then a random run of 1–6 tokens
/// repeated, at 8 KB and 64 KB (seeded, so a failure reproduces); five
/// failures end the search.
#[test]
fn fingerprint_cost_grows_linearly_on_random_repeated_patterns() {
    let (which, f) = implementation();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let mut failed = Vec::new();
    for _ in 0..200 {
        let join = if rnd(2) == 0 { " " } else { "" };
        let head: Vec<&str> = (0..rnd(4)).map(|_| TOKENS[rnd(TOKENS.len())]).collect();
        let unit: Vec<&str> = (0..1 + rnd(6)).map(|_| TOKENS[rnd(TOKENS.len())]).collect();
        let (head, unit) = (head.join(join), unit.join(join));
        let make = |n: usize| repeat(&head, &unit, "", n);
        if let Some(why) = superlinear(f, &make, 8 << 10) {
            failed.push(format!("{head:?} + {unit:?}…: {why}"));
            if failed.len() == 5 {
                break;
            }
        }
    }
    assert!(failed.is_empty(), "{which}: superlinear: {failed:#?}");
}

//! Secret redaction: statements that carry credentials have the secret
//! replaced by `***` before anything leaves the process.
//!
//! Built-in rules cover `IDENTIFIED BY '…'` / `IDENTIFIED WITH plugin BY '…'`,
//! `PASSWORD('…')`, `SET PASSWORD … = '…'`, PostgreSQL's `… PASSWORD '…'`
//! (CREATE/ALTER ROLE|USER), `password=…` in connection strings and
//! `scheme://user:secret@host` URLs. Users add their own regexes
//! (`RDSF_REDACT_PATTERNS` / `--redact-pattern`): group 1 is masked when the
//! pattern has one, else the whole match.
//!
//! The quotes around a secret stay (`'***'`), so a redacted statement still
//! fingerprints like the original (`identified by ?`).

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use crate::parse::scan::finder;

/// What replaces a secret.
pub const MASK: &str = "***";

/// A quoted secret: `'…'`, `"…"`, or `\'…\'` (inside an audit log's quoted
/// object); the content is the first group that took part.
const SECRET: &str =
    r#"(?:'((?:[^'\\]|\\.|'')*)'|"((?:[^"\\]|\\.|"")*)"|\\'((?:[^'\\]|\\[^'])*)\\')"#;

struct Rule {
    regex: Regex,
    /// Leave a bare (unquoted) value alone when `(` follows it: `PASSWORD = PASSWORD('…')`
    /// is a function call whose argument another rule masks.
    skip_before_paren: bool,
}

fn builtin_rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let quoted = |prefix: &str| Rule {
            regex: Regex::new(&format!("(?i){prefix}{SECRET}"))
                .expect("built-in redaction rule compiles"),
            skip_before_paren: false,
        };
        vec![
            // MySQL/MariaDB: IDENTIFIED BY '…', IDENTIFIED WITH plugin BY|AS '…', BY PASSWORD '…'.
            quoted(r"\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)\s+(?:PASSWORD\s+)?"),
            // PASSWORD('…') and OLD_PASSWORD('…').
            quoted(r"\b(?:OLD_)?PASSWORD\s*\(\s*"),
            // SET PASSWORD [FOR user] = '…'.
            quoted(r"\bSET\s+PASSWORD\b[^=;]{0,300}=\s*"),
            // PostgreSQL CREATE/ALTER ROLE|USER … [ENCRYPTED] PASSWORD '…', user mappings.
            quoted(r"\bPASSWORD\s+"),
            // Connection strings: password=…, pwd=… (quoted or bare).
            Rule {
                regex: Regex::new(&format!(
                    r#"(?i)\b(?:password|passwd|pwd)\s*=\s*(?:{SECRET}|([^\s;'"&,()]+))"#
                ))
                .expect("built-in redaction rule compiles"),
                skip_before_paren: true,
            },
            // URLs with credentials: scheme://user:secret@host.
            Rule {
                regex: Regex::new(r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@")
                    .expect("built-in redaction rule compiles"),
                skip_before_paren: false,
            },
        ]
    })
}

/// Cheap test run before the built-in rules: each of them needs `pass`,
/// `pwd`, `identified` or `://` (ASCII case-insensitive; the rules are
/// Unicode case-insensitive, where `ſ` (U+017F) also matches `s`).
///
/// Hand-written rather than an Aho-Corasick or regex alternation: it runs on
/// every body and string attribute, mostly short texts, where those engines'
/// per-search set-up (and a case-insensitive automaton's ~8 instructions a
/// byte) were the largest cost left in the pipeline (callgrind). One table
/// lookup per byte finds the few bytes that can start a hint.
fn may_hold_builtin_secret(text: &str) -> bool {
    const STARTS: [bool; 256] = {
        let mut t = [false; 256];
        t[b'p' as usize] = true;
        t[b'P' as usize] = true;
        t[b'f' as usize] = true; // identiFied
        t[b'F' as usize] = true;
        t[b':' as usize] = true;
        t
    };
    let b = text.as_bytes();
    if b.len() >= 64 {
        // Long texts: vector scans for the rare starting bytes beat the table.
        return finder!(b"://").find(b).is_some()
            || memchr::memchr2_iter(b'p', b'P', b).any(|at| pass_or_pwd(&b[at + 1..]))
            || memchr::memchr2_iter(b'f', b'F', b).any(|at| identified_around(b, at));
    }
    for (at, &c) in b.iter().enumerate() {
        if !STARTS[usize::from(c)] {
            continue;
        }
        let hit = match c {
            b':' => b[at + 1..].starts_with(b"//"),
            b'f' | b'F' => identified_around(b, at),
            _ => pass_or_pwd(&b[at + 1..]),
        };
        if hit {
            return true;
        }
    }
    false
}

/// `identified` around the `f` at `at`.
fn identified_around(b: &[u8], at: usize) -> bool {
    at >= 6 && b.len() >= at + 4 && b[at - 6..at + 4].eq_ignore_ascii_case(b"identified")
}

/// After a `p`: `wd`, or `a` then two `s` (`S`, `ſ`).
fn pass_or_pwd(rest: &[u8]) -> bool {
    if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"wd") {
        return true;
    }
    let Some(after_a) = rest.strip_prefix(b"a").or_else(|| rest.strip_prefix(b"A")) else {
        return false;
    };
    let s_len = |t: &[u8]| -> Option<usize> {
        match t {
            [b's' | b'S', ..] => Some(1),
            [0xC5, 0xBF, ..] => Some(2), // ſ in UTF-8
            _ => None,
        }
    };
    s_len(after_a).is_some_and(|n| s_len(&after_a[n..]).is_some())
}

/// A bad user pattern, named in the start-up error.
#[derive(Debug, thiserror::Error)]
#[error("redaction pattern `{pattern}` is not a valid regular expression: {detail}")]
pub struct PatternError {
    pub pattern: String,
    pub detail: String,
}

/// The built-in rules plus the user's patterns. Cloning is cheap enough
/// (compiled regexes share their programs).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    user: Vec<Regex>,
}

impl Redactor {
    /// The built-in rules alone.
    pub fn builtin() -> Self {
        Redactor::default()
    }

    /// The built-in rules plus `patterns` (regex syntax of the `regex` crate).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, PatternError> {
        let mut user = Vec::with_capacity(patterns.len());
        for p in patterns {
            let p = p.as_ref();
            if p.trim().is_empty() {
                continue;
            }
            let regex = Regex::new(p).map_err(|e| PatternError {
                pattern: p.to_owned(),
                detail: e.to_string(),
            })?;
            user.push(regex);
        }
        Ok(Redactor { user })
    }

    /// `text` with every secret masked; borrowed when nothing matched.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if may_hold_builtin_secret(text) {
            for rule in builtin_rules() {
                if let Some(changed) = mask_matches(&rule.regex, &out, rule.skip_before_paren) {
                    out = Cow::Owned(changed);
                }
            }
        }
        for regex in &self.user {
            if let Some(changed) = mask_matches(regex, &out, false) {
                out = Cow::Owned(changed);
            }
        }
        out
    }
}

/// Masks, in every match of `regex`, the first capture group that took
/// part (the whole match when the pattern has no groups). `None` when
/// nothing changed.
fn mask_matches(regex: &Regex, text: &str, skip_before_paren: bool) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    let mut changed = false;
    for caps in regex.captures_iter(text) {
        let whole = caps.get(0).expect("group 0 always takes part");
        let secret = if caps.len() > 1 {
            (1..caps.len()).find_map(|g| caps.get(g))
        } else {
            Some(whole)
        };
        let Some(secret) = secret else { continue };
        if skip_before_paren && text[whole.end()..].starts_with('(') {
            continue;
        }
        if &text[secret.range()] == MASK {
            continue;
        }
        out.push_str(&text[copied..secret.start()]);
        out.push_str(MASK);
        copied = secret.end();
        changed = true;
    }
    if !changed {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        Redactor::builtin().redact(s).into_owned()
    }

    #[test]
    fn mysql_statements() {
        assert_eq!(
            r("CREATE USER 'web_app'@'%' IDENTIFIED BY 'W3bApp-Secret-2024!'"),
            "CREATE USER 'web_app'@'%' IDENTIFIED BY '***'"
        );
        assert_eq!(
            r("ALTER USER u IDENTIFIED WITH mysql_native_password BY \"p'w\""),
            "ALTER USER u IDENTIFIED WITH mysql_native_password BY \"***\""
        );
        assert_eq!(
            r("SET PASSWORD FOR 'slap_runner'@'%' = PASSWORD('slap-Runner-pw-10')"),
            "SET PASSWORD FOR 'slap_runner'@'%' = PASSWORD('***')"
        );
        assert_eq!(r("SET PASSWORD = 'plain'"), "SET PASSWORD = '***'");
        assert_eq!(
            r("'CREATE USER \\'x\\'@\\'%\\' IDENTIFIED BY \\'s3cret\\''"),
            "'CREATE USER \\'x\\'@\\'%\\' IDENTIFIED BY \\'***\\''"
        );
        assert_eq!(
            r("GRANT SELECT ON db.* TO 'x'@'%'"),
            "GRANT SELECT ON db.* TO 'x'@'%'"
        );
    }

    #[test]
    fn postgres_and_connection_strings() {
        assert_eq!(
            r("CREATE ROLE etl WITH LOGIN PASSWORD 'etl-L0ader-Pa55' VALID UNTIL '2030-01-01';"),
            "CREATE ROLE etl WITH LOGIN PASSWORD '***' VALID UNTIL '2030-01-01';"
        );
        assert_eq!(
            r("ALTER USER e WITH ENCRYPTED PASSWORD 'x'"),
            "ALTER USER e WITH ENCRYPTED PASSWORD '***'"
        );
        assert_eq!(
            r("host=db user=a password=hunter2 dbname=x"),
            "host=db user=a password=*** dbname=x"
        );
        assert_eq!(r("Server=x;Pwd='a b';"), "Server=x;Pwd='***';");
        assert_eq!(
            r("postgres://app:t0ps3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
    }

    proptest::proptest! {
        /// The hand-written pre-check says exactly what the regex it replaced said.
        #[test]
        fn pre_check_equals_the_regex_it_replaced(
            text in "([pPaAsSwWdDiIeEnNtTfF:/ ſK]|pass|PASS|pwd|identified|IDENTIFIED|://|é){0,80}"
        ) {
            let old = Regex::new(r"(?i)pass|pwd|identified|://").unwrap();
            proptest::prop_assert_eq!(may_hold_builtin_secret(&text), old.is_match(&text), "{:?}", text);
        }
    }

    #[test]
    fn pre_check_knows_what_the_unicode_rules_match() {
        // `(?i)` rules match `ſ` for `s`; the ASCII pre-check must not skip them.
        assert_eq!(
            r("ALTER ROLE a PAſSWORD 'x'"),
            "ALTER ROLE a PAſSWORD '***'"
        );
        assert_eq!(r("password=x"), "password=***");
        assert_eq!(r("PAſſWORD('x')"), "PAſſWORD('***')");
        for hint in ["pass", "PwD", "IdEnTiFiEd", "://", "paſs", "pasſ"] {
            assert!(may_hold_builtin_secret(&format!("x {hint} y")), "{hint}");
        }
        for miss in [
            "pas",
            "pw",
            "identifie",
            "dentified",
            ":/",
            "p",
            "f",
            "",
            "paſ",
        ] {
            assert!(!may_hold_builtin_secret(miss), "{miss}");
        }
    }

    #[test]
    fn user_patterns_and_errors() {
        let red = Redactor::new(&["api_key=(\\w+)", "SSN \\d{3}-\\d{2}-\\d{4}"]).unwrap();
        assert_eq!(
            red.redact("x api_key=abc SSN 123-45-6789"),
            "x api_key=*** ***"
        );
        let err = Redactor::new(&["ok", "(unclosed"]).unwrap_err();
        assert_eq!(err.pattern, "(unclosed");
        assert!(err.to_string().contains("`(unclosed`"));
        assert!(matches!(
            Redactor::builtin().redact("SELECT 1"),
            Cow::Borrowed(_)
        ));
    }
}

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

/// A quoted secret: `'…'` (also PostgreSQL `E'…'` and SQL Server `N'…'`),
/// `"…"`, `\'…\'` (inside an audit log's quoted object, where a quote in the
/// secret is `\\\'`) or PostgreSQL dollar quoting (`$$…$$`, `$tag$…$tag$`);
/// the content is the first group that took part.
const SECRET: &str = r#"(?:(?:[NnEe])?'((?:[^'\\]|\\.|'')*)'|"((?:[^"\\]|\\.|"")*)"|\\'((?:[^'\\]|\\\\\\'|\\[^'])*)\\'|\$\w*\$((?s:.*?))\$\w*\$)"#;

/// An unquoted secret (Oracle `IDENTIFIED BY tiger`, a failing statement
/// PostgreSQL logged in full, `password=x` in a connection string).
const BARE: &str = r#"([^\s;'"&,()]+)"#;

/// `word` matched ASCII case-insensitively without `(?i)`: the pre-check
/// below is ASCII, and `(?i)` would also match `ſ` for `s`.
fn ascii_ci(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            c if c.is_ascii_alphabetic() => {
                format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
            }
            '_' => "_".to_owned(),
            c => regex::escape(&c.to_string()),
        })
        .collect()
}

struct Rule {
    regex: Regex,
    /// Leave a bare (unquoted) value alone when `(` follows it: `PASSWORD = PASSWORD('…')`
    /// is a function call whose argument another rule masks.
    skip_before_paren: bool,
    /// Bare values that are no secret (MySQL's `(using password: YES)`).
    keep: &'static [&'static str],
}

fn builtin_rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let rule = |pattern: String, skip_before_paren, keep| Rule {
            regex: Regex::new(&pattern).expect("built-in redaction rule compiles"),
            skip_before_paren,
            keep,
        };
        let quoted = |prefix: &str| rule(format!("(?i){prefix}{SECRET}"), false, &[]);
        let quoted_or_bare =
            |prefix: &str| rule(format!("(?i){prefix}(?:{SECRET}|{BARE})"), true, &[]);
        let arg = r#"(?:'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|[^,()'"]*)"#;
        vec![
            // MySQL/MariaDB/Oracle: IDENTIFIED BY '…' or bare, IDENTIFIED WITH plugin
            // BY|AS '…', BY PASSWORD '…', Oracle's BY VALUES '…'.
            quoted_or_bare(
                r"\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)\s+(?:PASSWORD\s+|VALUES\s+)?",
            ),
            // MySQL: ALTER USER … IDENTIFIED BY '…' REPLACE '<the old one>'.
            quoted(r"\bIDENTIFIED\b[^;]{0,300}?\bREPLACE\s+"),
            // PASSWORD('…') and OLD_PASSWORD('…').
            quoted(r"\b(?:OLD_)?PASSWORD\s*\(\s*"),
            // SET PASSWORD [FOR user] = '…'.
            quoted(r"\bSET\s+PASSWORD\b[^=;]{0,300}=\s*"),
            // PostgreSQL CREATE/ALTER ROLE|USER … [ENCRYPTED] PASSWORD '…', user mappings.
            quoted(r"\bPASSWORD\s+"),
            // The same unquoted (a statement that failed, logged in full): only
            // after ROLE/USER, so "password authentication failed" stays.
            rule(
                format!(r"(?i)\b(?:ROLE|USER)\b[^;]{{0,300}}?\bPASSWORD\s+(?:{SECRET}|{BARE})"),
                true,
                &["NULL"],
            ),
            // Connection strings and settings: password=…, pwd=…, PGPASSWORD=…,
            // MASTER_PASSWORD=…, SOURCE_PASSWORD=…, db_password=… (quoted or bare).
            quoted_or_bare(r"\b\w*(?:password|passwd|pwd)\s*=\s*"),
            // JSON / YAML: "password": "…", password: …, client_secret: ….
            rule(
                format!(
                    r#"(?i)\b\w*(?:password|passwd|pwd|{})["']?\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|'')*)'|([^\s,;}}\])]+))"#,
                    ascii_ci("secret")
                ),
                false,
                &["YES", "NO"],
            ),
            // RDS's replication procedures take the password as 4th argument.
            rule(
                format!(
                    r"{}\w*\s*\(\s*(?:{arg}\s*,\s*){{3}}(?:{SECRET}|{BARE})",
                    ascii_ci("rds_set_external_")
                ),
                false,
                &[],
            ),
            // URLs with credentials: scheme://user:secret@host (the secret may hold `/`).
            rule(
                r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s]+)@".to_owned(),
                false,
                &[],
            ),
        ]
    })
}

/// Cheap test run before the built-in rules: each of them needs `pass`,
/// `pwd`, `identified` or `://` (ASCII case-insensitive; the rules are
/// Unicode case-insensitive, where `ſ` (U+017F) also matches `s`), or
/// `secret` / `rds_set_external` (ASCII case-insensitive, as their rules).
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
        t[b's' as usize] = true; // secret
        t[b'S' as usize] = true;
        t[b'r' as usize] = true; // rds_set_external
        t[b'R' as usize] = true;
        t
    };
    let b = text.as_bytes();
    if b.len() >= 64 {
        // Long texts: vector scans for the rare starting bytes beat the table.
        return finder!(b"://").find(b).is_some()
            || memchr::memchr2_iter(b'p', b'P', b).any(|at| pass_or_pwd(&b[at + 1..]))
            || memchr::memchr2_iter(b'f', b'F', b).any(|at| identified_around(b, at))
            || memchr::memchr2_iter(b's', b'S', b).any(|at| ascii_word_at(b, at, b"secret"))
            || memchr::memchr2_iter(b'r', b'R', b)
                .any(|at| ascii_word_at(b, at, b"rds_set_external"));
    }
    for (at, &c) in b.iter().enumerate() {
        if !STARTS[usize::from(c)] {
            continue;
        }
        let hit = match c {
            b':' => b[at + 1..].starts_with(b"//"),
            b'f' | b'F' => identified_around(b, at),
            b's' | b'S' => ascii_word_at(b, at, b"secret"),
            b'r' | b'R' => ascii_word_at(b, at, b"rds_set_external"),
            _ => pass_or_pwd(&b[at + 1..]),
        };
        if hit {
            return true;
        }
    }
    false
}

/// `word` (ASCII case-insensitive) at `at`.
fn ascii_word_at(b: &[u8], at: usize, word: &[u8]) -> bool {
    b.len() >= at + word.len() && b[at..at + word.len()].eq_ignore_ascii_case(word)
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
                if let Some(changed) =
                    mask_matches(&rule.regex, &out, rule.skip_before_paren, rule.keep)
                {
                    out = Cow::Owned(changed);
                }
            }
        }
        for regex in &self.user {
            if let Some(changed) = mask_matches(regex, &out, false, &[]) {
                out = Cow::Owned(changed);
            }
        }
        out
    }
}

/// Masks, in every match of `regex`, the first capture group that took
/// part (the whole match when the pattern has no groups). `None` when
/// nothing changed.
fn mask_matches(
    regex: &Regex,
    text: &str,
    skip_before_paren: bool,
    keep: &[&str],
) -> Option<String> {
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
        let value = &text[secret.range()];
        if value == MASK || keep.iter().any(|k| value.eq_ignore_ascii_case(k)) {
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

    /// Issue 13's leaked forms: each secret is gone, the statement around it stays.
    #[test]
    fn forms_the_review_found_leaking() {
        let cases = [
            ("ALTER ROLE a PASSWORD E'pg-E-str1ng'", "ALTER ROLE a PASSWORD E'***'"),
            ("CREATE ROLE a LOGIN PASSWORD $$pg-d0llar$$", "CREATE ROLE a LOGIN PASSWORD $$***$$"),
            ("CREATE ROLE a PASSWORD $q$pg-t4gged$q$", "CREATE ROLE a PASSWORD $q$***$q$"),
            ("create user bob password Unqu0ted-pg", "create user bob password ***"),
            ("CREATE LOGIN l WITH PASSWORD = N'Mss-Pa55'", "CREATE LOGIN l WITH PASSWORD = N'***'"),
            ("CREATE USER scott IDENTIFIED BY tiger", "CREATE USER scott IDENTIFIED BY ***"),
            ("ALTER USER s IDENTIFIED BY VALUES 'S:ABCDEF'", "ALTER USER s IDENTIFIED BY VALUES '***'"),
            ("mysql://app:p4ss/w0rd@db:3306/x", "mysql://app:***@db:3306/x"),
            (
                r"'CREATE USER 'x'@'%' IDENTIFIED BY 'pa\'ss-tail''",
                r"'CREATE USER 'x'@'%' IDENTIFIED BY '***''",
            ),
            (
                "ALTER USER u IDENTIFIED BY 'new-one' REPLACE 'old-one'",
                "ALTER USER u IDENTIFIED BY '***' REPLACE '***'",
            ),
            (
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PASSWORD='repl-M4ster'",
                "CHANGE MASTER TO MASTER_HOST='h', MASTER_PASSWORD='***'",
            ),
            ("CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = 'src-pw'", "CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = '***'"),
            ("PGPASSWORD=env-Secret psql -h db", "PGPASSWORD=*** psql -h db"),
            ("db_password=cfg-Secret", "db_password=***"),
            (
                "CALL mysql.rds_set_external_master('h.example', 3306, 'repl', 'Ext-Repl-pw', 'mysql-bin.000001', 120, 0)",
                "CALL mysql.rds_set_external_master('h.example', 3306, 'repl', '***', 'mysql-bin.000001', 120, 0)",
            ),
            (r#"{"user":"a","password":"json-S3cret"}"#, r#"{"user":"a","password":"***"}"#),
            ("password: yaml-S3cret", "password: ***"),
            ("client_secret: oauth-S3cret", "client_secret: ***"),
        ];
        for (input, expected) in cases {
            assert_eq!(r(input), expected, "{input}");
        }
        // Over-redaction stays harmless, and what is no secret stays.
        for keep in [
            "Access denied for user 'dev'@'1.2.3.4' (using password: YES)",
            "FATAL:  password authentication failed for user \"app\"",
            "SET password_encryption = 'scram-sha-256'",
            "Secrets Manager rotation finished",
        ] {
            assert_eq!(r(keep), keep);
        }
        // An empty password is masked too: harmless, and no length leaks.
        assert_eq!(r("password=''"), "password='***'");
    }

    proptest::proptest! {
        /// The hand-written pre-check says exactly what the regex it replaced said.
        #[test]
        fn pre_check_equals_the_regex_it_replaced(
            text in "([pPaAsSwWdDiIeEnNtTfF:/ ſKcCrR_]|pass|PASS|pwd|identified|IDENTIFIED|://|é|secret|SeCrEt|ſecret|rds_set_external|RDS_SET_EXTERNAL){0,80}"
        ) {
            let old = Regex::new(r"(?i)pass|pwd|identified|://|(?-i:[sS][eE][cC][rR][eE][tT]|[rR][dD][sS]_[sS][eE][tT]_[eE][xX][tT][eE][rR][nN][aA][lL])").unwrap();
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

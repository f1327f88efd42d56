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

/// What replaces a secret.
pub const MASK: &str = "***";

/// A quoted secret: `'…'` (also PostgreSQL `E'…'` and SQL Server `N'…'`),
/// `"…"`, `\'…\'` (inside an audit log's quoted object, where a quote in the
/// secret is `\\\'`) or PostgreSQL dollar quoting (`$$…$$`, `$tag$…$tag$`);
/// the content is the first group that took part.
const SECRET: &str = r#"(?:(?:[NnEe])?'((?:[^'\\]|\\.|'')*)'|"((?:[^"\\]|\\.|"")*)"|\\'((?:[^'\\]|\\\\\\'|\\[^'])*)\\'|\$\w*\$((?s:.*?))\$\w*\$)"#;

/// One character but `;` — `[^;]` — spelt for the byte-mode rules: a byte
/// that is neither `;` nor a UTF-8 continuation byte, then the
/// continuation bytes after it. On UTF-8 text each repetition is one whole
/// character: one that stopped inside a character would leave a
/// continuation byte, which neither a next repetition nor what follows in
/// the rules (`\b`, a letter, `=`) can match. Compiled in the three
/// `{0,300}` windows, `[^;]` as a Unicode class was ~66 M instructions per
/// cold process, over half the cost of a whole slow-log payload
/// (callgrind, issue 17); this is a few states a repetition.
/// `byte_mode_rules_match_as_the_unicode_ones` checks the rules against
/// the Unicode spelling on text with multi-byte characters.
const NOT_SEMICOLON: &str = r"(?-u:[^;\x80-\xBF][\x80-\xBF]*)";

/// One character but `=` or `;` (`[^=;]`), as [`NOT_SEMICOLON`].
const NOT_EQUALS_OR_SEMICOLON: &str = r"(?-u:[^=;\x80-\xBF][\x80-\xBF]*)";

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
    /// The pattern, byte mode for [`NOT_SEMICOLON`]; run on the text's
    /// bytes, where it matches as the Unicode rule on the text (outside
    /// that, Unicode mode is on as in `Regex`).
    pattern: String,
    /// `pattern` compiled with Unicode on, for texts with non-ASCII bytes.
    unicode: OnceLock<regex::bytes::Regex>,
    /// `pattern` compiled with Unicode off, for ASCII texts (nearly all),
    /// on which it matches as the Unicode one: `\w`, `\s`, `\b`, `(?i)` and
    /// negated classes differ only on non-ASCII characters. A third of the
    /// compile cost (a Unicode `\w` alone is ~2.3 M instructions), which a
    /// cold Lambda pays on its first secret-shaped text (callgrind,
    /// issue 17); `ascii_rules_match_as_the_unicode_ones` checks it.
    ascii: OnceLock<regex::bytes::Regex>,
    /// Leave a bare (unquoted) value alone when `(` follows it: `PASSWORD = PASSWORD('…')`
    /// is a function call whose argument another rule masks.
    skip_before_paren: bool,
    /// Bare values that are no secret (MySQL's `(using password: YES)`).
    keep: &'static [&'static str],
}

/// A built-in rule: the hint words it cannot match without (any of them,
/// see [`hints`]) and how to build it. Each is compiled the first time a
/// text holds one of its hints: compiling all of them cost more than
/// processing a whole payload that needed one (callgrind, issue 17).
struct RuleSpec {
    needs: u8,
    build: fn() -> Rule,
}

// The hint words [`hints`] reports, one bit each.
/// `passw` (ASCII case-insensitive, `s` also `ſ`): `password`, `passwd`.
const PASSW: u8 = 1;
/// `pwd` (ASCII case-insensitive).
const PWD: u8 = 2;
/// `identified` (ASCII case-insensitive).
const IDENTIFIED: u8 = 4;
/// `://`.
const URL: u8 = 8;
/// `secret` (ASCII case-insensitive, as its rule).
const SECRET_WORD: u8 = 16;
/// `rds_set_external` (ASCII case-insensitive, as its rule).
const RDS: u8 = 32;

fn rule(pattern: String, skip_before_paren: bool, keep: &'static [&'static str]) -> Rule {
    Rule {
        pattern,
        unicode: OnceLock::new(),
        ascii: OnceLock::new(),
        skip_before_paren,
        keep,
    }
}

fn quoted(prefix: &str) -> Rule {
    rule(format!("(?i){prefix}{SECRET}"), false, &[])
}

fn quoted_or_bare(prefix: &str) -> Rule {
    rule(format!("(?i){prefix}(?:{SECRET}|{BARE})"), true, &[])
}

/// The built-in rules, in the order they run (each on what the previous
/// left). `needs` is what the pattern spells out: `(?i)` makes `s` match `ſ`
/// too (and `k` the Kelvin sign, in no hint), which [`hints`] knows
/// (`only_s_has_a_unicode_case_variant_in_the_hints` checks it).
const RULES: [RuleSpec; 10] = [
    // MySQL/MariaDB/Oracle: IDENTIFIED BY '…' or bare, IDENTIFIED WITH plugin
    // BY|AS '…', BY PASSWORD '…', Oracle's BY VALUES '…'.
    RuleSpec {
        needs: IDENTIFIED,
        build: || {
            quoted_or_bare(
                r"\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)\s+(?:PASSWORD\s+|VALUES\s+)?",
            )
        },
    },
    // MySQL: ALTER USER … IDENTIFIED BY '…' REPLACE '<the old one>'.
    RuleSpec {
        needs: IDENTIFIED,
        build: || {
            quoted(&format!(
                r"\bIDENTIFIED\b{NOT_SEMICOLON}{{0,300}}?\bREPLACE\s+"
            ))
        },
    },
    // PASSWORD('…') and OLD_PASSWORD('…').
    RuleSpec {
        needs: PASSW,
        build: || quoted(r"\b(?:OLD_)?PASSWORD\s*\(\s*"),
    },
    // SET PASSWORD [FOR user] = '…'.
    RuleSpec {
        needs: PASSW,
        build: || {
            quoted(&format!(
                r"\bSET\s+PASSWORD\b{NOT_EQUALS_OR_SEMICOLON}{{0,300}}=\s*"
            ))
        },
    },
    // PostgreSQL CREATE/ALTER ROLE|USER … [ENCRYPTED] PASSWORD '…', user mappings.
    RuleSpec {
        needs: PASSW,
        build: || quoted(r"\bPASSWORD\s+"),
    },
    // The same unquoted (a statement that failed, logged in full): only
    // after ROLE/USER, so "password authentication failed" stays.
    RuleSpec {
        needs: PASSW,
        build: || {
            rule(
                format!(
                    r"(?i)\b(?:ROLE|USER)\b{NOT_SEMICOLON}{{0,300}}?\bPASSWORD\s+(?:{SECRET}|{BARE})"
                ),
                true,
                &["NULL"],
            )
        },
    },
    // Connection strings and settings: password=…, pwd=…, PGPASSWORD=…,
    // MASTER_PASSWORD=…, SOURCE_PASSWORD=…, db_password=… (quoted or bare).
    RuleSpec {
        needs: PASSW | PWD,
        build: || quoted_or_bare(r"\b\w*(?:password|passwd|pwd)\s*=\s*"),
    },
    // JSON / YAML: "password": "…", password: …, client_secret: ….
    RuleSpec {
        needs: PASSW | PWD | SECRET_WORD,
        build: || {
            rule(
                format!(
                    r#"(?i)\b\w*(?:password|passwd|pwd|{})["']?\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|'')*)'|([^\s,;}}\])]+))"#,
                    ascii_ci("secret")
                ),
                false,
                &["YES", "NO"],
            )
        },
    },
    // RDS's replication procedures take the password as 4th argument.
    RuleSpec {
        needs: RDS,
        build: || {
            let arg = r#"(?:'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|[^,()'"]*)"#;
            rule(
                format!(
                    r"{}\w*\s*\(\s*(?:{arg}\s*,\s*){{3}}(?:{SECRET}|{BARE})",
                    ascii_ci("rds_set_external_")
                ),
                false,
                &[],
            )
        },
    },
    // URLs with credentials: scheme://user:secret@host (the secret may hold `/`).
    RuleSpec {
        needs: URL,
        build: || {
            rule(
                r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s]+)@".to_owned(),
                false,
                &[],
            )
        },
    },
];

/// Built-in rule `i`, compiled on first use.
fn builtin_rule(i: usize) -> &'static Rule {
    static COMPILED: [OnceLock<Rule>; RULES.len()] = [const { OnceLock::new() }; RULES.len()];
    COMPILED[i].get_or_init(RULES[i].build)
}

/// Which hint words (the `PASSW`… bits) `text` holds: run before the
/// built-in rules, each of which needs one of its `needs` (masking only
/// removes text and writes `*`, so it never makes a hint appear).
///
/// Hand-written rather than an Aho-Corasick or regex alternation: it runs on
/// every body and string attribute, mostly short texts, where those engines'
/// per-search set-up (and a case-insensitive automaton's ~8 instructions a
/// byte) were the largest cost left in the pipeline (callgrind). Each hint
/// is found from one rare byte of it ([`hint_at`]): `w` (`passw`, `pwd`),
/// `f` (`identified`), `c` (`secret`), `x` (`rds_set_external`), `/`
/// (`://`), any case. MariaDB's slow log writes `Merge_passes` in every
/// entry: `pass` alone sent each of them through all the rules.
///
/// Each text is read 16 bytes at a time: the anchors of a step are found
/// by five vector compares into one bit mask, and only its set bits are
/// looked at. The byte table this replaced cost ~7 instructions a byte
/// (most of a body's redaction check; the table is kept as the reference
/// the tests compare with); this is ~1, plus the anchors, which in SQL are
/// mostly `c`, `f` and `w` of keywords, most turned down by the byte beside
/// them ([`beside_fits`]) without a call (callgrind, issue 17). Three
/// `memchr3` passes were tried before: their set-up and restarts at each of
/// those anchors lost below ~1 KB.
#[inline(always)]
fn hints(text: &str) -> u8 {
    let b = text.as_bytes();
    if b.len() >= 16 {
        hints_wide(b)
    } else if b.len() >= 4 {
        hints_short(b)
    } else if b.len() == 3 {
        let anchor = |i: usize| u32::from(ANCHOR[usize::from(b[i])]) << i;
        hints_in(b, 0, anchor(0) | anchor(1) | anchor(2))
    } else {
        // Every hint word is 3 bytes or more.
        0
    }
}

/// The anchor bytes of [`hints`].
const ANCHOR: [bool; 256] = {
    let mut t = [false; 256];
    let anchors = b"wWfFcCxX/";
    let mut i = 0;
    while i < anchors.len() {
        t[anchors[i] as usize] = true;
        i += 1;
    }
    t
};

/// [`hints`] of a text of 4 to 15 bytes: its first and last 8 (or 4)
/// bytes, which overlap, in one vector. A byte read twice is looked at
/// twice, which finds the same hint. Fixed-size copies: a copy of the
/// text's own length into a padded buffer is a `memcpy` call.
#[inline(always)]
fn hints_short(b: &[u8]) -> u8 {
    let n = b.len();
    let half = if n >= 8 { 8 } else { 4 };
    let mut bytes = [0u8; 16];
    if half == 8 {
        bytes[..8].copy_from_slice(&b[..8]);
        bytes[8..].copy_from_slice(&b[n - 8..]);
    } else {
        bytes[..4].copy_from_slice(&b[..4]);
        bytes[8..12].copy_from_slice(&b[n - 4..]);
    }
    // Zero padding is no anchor (`0 | 0x20` is a space).
    let mask = anchor_mask(bytes);
    hints_in(b, 0, mask & 0xFF) | hints_in(b, n - half, mask >> 8)
}

/// [`hints`] of a text of 16 bytes or more: 32 bytes a step (two vectors,
/// one mask: half the steps' loop and mask tests), then 16.
#[inline(never)]
fn hints_wide(b: &[u8]) -> u8 {
    debug_assert!(b.len() >= 16);
    let chunk = |from: usize| -> [u8; 16] { b[from..from + 16].try_into().expect("16 bytes") };
    let mut found = 0;
    let mut at = 0;
    while at + 32 <= b.len() {
        let mask = anchor_mask(chunk(at)) | anchor_mask(chunk(at + 16)) << 16;
        found |= hints_in(b, at, mask);
        at += 32;
    }
    if at + 16 <= b.len() {
        found |= hints_in(b, at, anchor_mask(chunk(at)));
        at += 16;
    }
    if at < b.len() {
        // The last 16 bytes, less those a step above has looked at.
        let start = b.len() - 16;
        let mask = anchor_mask(chunk(start)) & (u32::MAX << (at - start));
        found |= hints_in(b, start, mask);
    }
    found
}

/// Bit `i` set when `bytes[i]` may be an anchor of [`hints`]: each anchor
/// or, from the case fold (`| 0x20`), control byte 0x0F (as `/`), which
/// [`hint_at`] turns down.
#[inline(always)]
fn anchor_mask(bytes: [u8; 16]) -> u32 {
    use wide::u8x16;
    let folded = u8x16::new(bytes) | u8x16::splat(0x20);
    let hit = folded.cmp_eq(u8x16::splat(b'w'))
        | folded.cmp_eq(u8x16::splat(b'f'))
        | folded.cmp_eq(u8x16::splat(b'c'))
        | folded.cmp_eq(u8x16::splat(b'x'))
        | folded.cmp_eq(u8x16::splat(b'/'));
    // 16 bits, one a byte.
    hit.move_mask() as u32
}

/// The hints at the set bits of `mask`, bit `i` being byte `from + i`.
#[inline(always)]
fn hints_in(b: &[u8], from: usize, mut mask: u32) -> u8 {
    let mut found = 0;
    while mask != 0 {
        let at = from + mask.trailing_zeros() as usize;
        if beside_fits(b, at) {
            found |= hint_at(b, at);
        }
        mask &= mask - 1;
    }
    found
}

/// Whether the byte beside the anchor at `at` is the one its hints have
/// there (any case): `c` → `r` after (`secret`), `f` → `i` after
/// (`identified`), `x` → `t` after (`rds_set_external`), `w` → `s`, `ſ`'s
/// last byte or `p` before (`passw`, `pwd`), `/` → `:` before (`://`).
/// Necessary for each hint, so a `false` is no hint; one compare turns
/// down the anchors of SQL keywords (`select`, `from`, `where`).
#[inline(always)]
fn beside_fits(b: &[u8], at: usize) -> bool {
    let after = b.get(at + 1).map_or(0, |c| c | 0x20);
    let before = if at > 0 { b[at - 1] | 0x20 } else { 0 };
    match b[at] | 0x20 {
        b'c' => after == b'r',
        b'f' => after == b'i',
        b'x' => after == b't',
        // 0xBF: the last byte of `ſ` (0xC5 0xBF), unchanged by `| 0x20`.
        b'w' => matches!(before, b's' | b'p' | 0xBF),
        b'/' => before == b':',
        _ => false,
    }
}

/// The hint whose anchor byte (see [`hints`]) is at `at`, if any.
fn hint_at(b: &[u8], at: usize) -> u8 {
    match b[at] {
        b'/' if at >= 1 && b[at - 1] == b':' && b.get(at + 1) == Some(&b'/') => URL,
        b'w' | b'W' => {
            let pwd = at >= 1
                && matches!(b[at - 1], b'p' | b'P')
                && matches!(b.get(at + 1), Some(b'd' | b'D'));
            (if pwd { PWD } else { 0 }) | (if pass_before(b, at) { PASSW } else { 0 })
        }
        b'f' | b'F' if identified_around(b, at) => IDENTIFIED,
        b'c' | b'C' if at >= 2 && ascii_word_at(b, at - 2, b"secret") => SECRET_WORD,
        b'x' | b'X' if at >= 9 && ascii_word_at(b, at - 9, b"rds_set_external") => RDS,
        _ => 0,
    }
}

/// `word` (ASCII case-insensitive) at `at`.
fn ascii_word_at(b: &[u8], at: usize, word: &[u8]) -> bool {
    b.len() >= at + word.len() && b[at..at + word.len()].eq_ignore_ascii_case(word)
}

/// `identified` around the `f` at `at`.
fn identified_around(b: &[u8], at: usize) -> bool {
    at >= 6 && b.len() >= at + 4 && b[at - 6..at + 4].eq_ignore_ascii_case(b"identified")
}

/// `pass` (each `s` may be `S` or `ſ`) right before `at`.
fn pass_before(b: &[u8], at: usize) -> bool {
    let mut i = at;
    for _ in 0..2 {
        if i >= 1 && matches!(b[i - 1], b's' | b'S') {
            i -= 1;
        } else if i >= 2 && b[i - 2..i] == [0xC5, 0xBF] {
            // ſ in UTF-8
            i -= 2;
        } else {
            return false;
        }
    }
    i >= 2 && matches!(b[i - 1], b'a' | b'A') && matches!(b[i - 2], b'p' | b'P')
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

    /// Whether [`Redactor::redact`] returns `text` as it is without running
    /// a rule: no hint word in it and no user pattern. Then the same holds
    /// for every part of `text` (`hints` only looks for words in it, which a
    /// part cannot hold unless the whole does), so a caller that scanned a
    /// text need not scan its parts again (`parts_of_a_text_left_alone_are_left_alone`).
    #[inline]
    pub fn leaves_alone(&self, text: &str) -> bool {
        self.user.is_empty() && hints(text) == 0
    }

    /// `text` with every secret masked; borrowed when nothing matched.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let found = hints(text);
        if found == 0 && self.user.is_empty() {
            // Most texts: nothing to run, the text as it is.
            return Cow::Borrowed(text);
        }
        self.redact_with(text, found)
    }

    /// [`Redactor::redact`] once the hints are known.
    fn redact_with<'a>(&self, text: &'a str, found: u8) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if found != 0 {
            for (i, spec) in RULES.iter().enumerate() {
                if found & spec.needs == 0 {
                    continue;
                }
                let rule = builtin_rule(i);
                if let Some(changed) = rule.mask(&out) {
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

impl Rule {
    /// The compiled rule for `text`: ASCII or Unicode, each on first use.
    fn regex_for(&self, text: &str) -> &regex::bytes::Regex {
        let (cell, unicode) = if text.is_ascii() {
            (&self.ascii, false)
        } else {
            (&self.unicode, true)
        };
        cell.get_or_init(|| {
            regex::bytes::RegexBuilder::new(&self.pattern)
                .unicode(unicode)
                .build()
                .expect("built-in redaction rule compiles")
        })
    }

    /// [`mask_matches`] for this rule's byte-mode regex.
    fn mask(&self, text: &str) -> Option<String> {
        self.mask_with(self.regex_for(text), text)
    }

    fn mask_with(&self, regex: &regex::bytes::Regex, text: &str) -> Option<String> {
        let found = regex
            .captures_iter(text.as_bytes())
            .map(|caps| whole_and_secret(caps.len(), |g| caps.get(g).map(|m| m.range())));
        mask_ranges(text, found, self.skip_before_paren, self.keep)
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
    let found = regex
        .captures_iter(text)
        .map(|caps| whole_and_secret(caps.len(), |g| caps.get(g).map(|m| m.range())));
    mask_ranges(text, found, skip_before_paren, keep)
}

type Span = std::ops::Range<usize>;

/// A match's whole range and its secret: the first capture group that took
/// part, or the whole match when the pattern has no groups. `group(g)` is
/// group `g`'s range, for text and byte regexes alike.
fn whole_and_secret(groups: usize, group: impl Fn(usize) -> Option<Span>) -> (Span, Option<Span>) {
    let whole = group(0).expect("group 0 always takes part");
    let secret = if groups > 1 {
        (1..groups).find_map(group)
    } else {
        Some(whole.clone())
    };
    (whole, secret)
}

/// Masks the secret of each match (whole match, secret), in order;
/// `None` when nothing changed. A range not on character boundaries
/// (which the byte-mode rules cannot give, see [`NOT_SEMICOLON`]) is left
/// alone rather than cut into a character.
fn mask_ranges(
    text: &str,
    found: impl Iterator<Item = (Span, Option<Span>)>,
    skip_before_paren: bool,
    keep: &[&str],
) -> Option<String> {
    let mut out = String::new();
    let mut copied = 0;
    let mut changed = false;
    for (whole, secret) in found {
        let Some(secret) = secret else { continue };
        let (Some(after), Some(value), Some(before)) = (
            text.get(whole.end..),
            text.get(secret.clone()),
            text.get(copied..secret.start),
        ) else {
            continue;
        };
        if skip_before_paren && after.starts_with('(') {
            continue;
        }
        if value == MASK || keep.iter().any(|k| value.eq_ignore_ascii_case(k)) {
            continue;
        }
        out.push_str(before);
        out.push_str(MASK);
        copied = secret.end;
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

    /// Every built-in rule on `text`, ungated: what [`Redactor::redact`]
    /// gave before its rules were gated by the hints they need.
    fn every_rule(text: &str) -> String {
        let mut out = text.to_owned();
        for i in 0..RULES.len() {
            if let Some(changed) = builtin_rule(i).mask(&out) {
                out = changed;
            }
        }
        out
    }

    /// Every built-in rule on `text`, ungated, spelt as before the byte
    /// mode: `[^;]` / `[^=;]` Unicode classes, `Regex` on the text.
    fn every_unicode_rule(text: &str) -> String {
        static UNICODE: OnceLock<Vec<Regex>> = OnceLock::new();
        let rules = UNICODE.get_or_init(|| {
            (0..RULES.len())
                .map(|i| {
                    let byte_mode = &builtin_rule(i).pattern;
                    let unicode = byte_mode
                        .replace(NOT_SEMICOLON, "[^;]")
                        .replace(NOT_EQUALS_OR_SEMICOLON, "[^=;]");
                    assert!(!unicode.contains("(?-u"), "{unicode}");
                    Regex::new(&unicode).unwrap()
                })
                .collect()
        });
        let mut out = text.to_owned();
        for (i, regex) in rules.iter().enumerate() {
            let rule = builtin_rule(i);
            if let Some(changed) = mask_matches(regex, &out, rule.skip_before_paren, rule.keep) {
                out = changed;
            }
        }
        out
    }

    /// The byte-table scan [`hints`] was before it read 16 bytes a step
    /// (issue 17): the reference the vector scan is compared with.
    fn hints_by_table(text: &str) -> u8 {
        let b = text.as_bytes();
        let mut found = 0;
        for (at, c) in b.iter().enumerate() {
            if ANCHOR[usize::from(*c)] {
                found |= hint_at(b, at);
            }
        }
        found
    }

    proptest::proptest! {
        /// The vector scan finds what the byte table found, for every
        /// prefix of texts dense in anchors, the bytes beside them, the
        /// case fold's strays (0x0F folds to `/`, 0x1A to `:`, 0x9F to
        /// `ſ`'s last byte) and multi-byte characters, at 0 to 19 bytes of
        /// shift: each length path (up to 2 bytes, 3, 4-7, 8-15, 16-byte
        /// steps and the overlapping last step) and each alignment.
        #[test]
        fn vector_hints_equal_the_table_scan(
            text in "([wWfFcCxX/:sSpPdDiIrRtT\\x0f\\x1a\\x{7df} ſé]|secret|SECRET|identified|rds_set_external|passw|paſſw|pwd|://){0,40}",
            shift in 0usize..20,
        ) {
            let text = format!("{}{text}", "a".repeat(shift));
            for end in (0..=text.len()).filter(|i| text.is_char_boundary(*i)) {
                let part = &text[..end];
                proptest::prop_assert_eq!(hints(part), hints_by_table(part), "{:?}", part);
            }
        }
    }

    proptest::proptest! {
        /// Each hint bit says exactly what a regex for its word says.
        #[test]
        fn hints_equal_their_regexes(
            text in "([pPaAsSwWdDiIeEnNtTfF:/ ſKcCrRxX_]|pass|PASSW|pwd|identified|IDENTIFIED|://|é|secret|SeCrEt|ſecret|rds_set_external|RDS_SET_EXTERNAL|Merge_passes){0,80}"
        ) {
            let found = hints(&text);
            // The 16-byte steps (after 1024 bytes of padding) find the same.
            proptest::prop_assert_eq!(hints(&format!("{text}{}", " ".repeat(1024))), found);
            for (bit, word) in [
                (PASSW, r"(?i)passw"),
                (PWD, r"(?i)pwd"),
                (IDENTIFIED, r"(?i)identified"),
                (URL, r"://"),
                (SECRET_WORD, r"[sS][eE][cC][rR][eE][tT]"),
                (RDS, r"[rR][dD][sS]_[sS][eE][tT]_[eE][xX][tT][eE][rR][nN][aA][lL]"),
            ] {
                proptest::prop_assert_eq!(found & bit != 0, Regex::new(word).unwrap().is_match(&text), "{} in {:?}", word, text);
            }
        }

        /// Gating the rules by their hints changes nothing: the same text
        /// as running every rule, on texts built from the rules' words.
        #[test]
        fn gated_rules_redact_as_every_rule(
            text in "(password|PASSWORD|paſſword|PaSSwd|pwd|PWD|identified|IDENTIFIED| by | BY | with x | as |://|u:p@h|secret|SECRET|rds_set_external_master\\(|'s1'|\"s2\"|s3|=|:|;|,|\\(|\\)| |role|USER|replace|set |Merge_passes|w|ſ|pass|\\$\\$|é|NULL|YES){0,40}"
        ) {
            proptest::prop_assert_eq!(Redactor::builtin().redact(&text).into_owned(), every_rule(&text));
        }
    }

    proptest::proptest! {
        /// What `leaves_alone` promises for the parts of a text: a part of
        /// a text with no hint has none either (hints are words looked for
        /// inside the text, found the same wherever the text is cut), so
        /// redaction leaves the part as it is, at every cut, on texts built
        /// from hint words, their pieces and non-ASCII.
        #[test]
        fn parts_of_a_text_left_alone_are_left_alone(
            text in "(passw|pass|PaSs|ſ|w|W|pwd|pw|d|identified|identifie|dentified|f|://|:/|/|secret|secre|c|rds_set_external|x|é|ü|'|=| |a|b){0,60}"
        ) {
            let whole = hints(&text);
            let red = Redactor::builtin();
            let cuts: Vec<usize> = (0..=text.len()).filter(|i| text.is_char_boundary(*i)).collect();
            for (k, &a) in cuts.iter().enumerate() {
                for &b in &cuts[k..] {
                    let part = &text[a..b];
                    // Each hint of a part is a hint of the whole.
                    proptest::prop_assert_eq!(hints(part) & !whole, 0, "{:?} in {:?}", part, text);
                    if red.leaves_alone(&text) {
                        proptest::prop_assert!(red.leaves_alone(part));
                        proptest::prop_assert!(matches!(red.redact(part), Cow::Borrowed(_)));
                        proptest::prop_assert_eq!(every_rule(part), part);
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// The byte-mode rules mask what the Unicode ones did: the rules'
        /// words, quotes, `;` and `=`, and multi-byte characters (`ſ`, the
        /// Kelvin sign, 4-byte emoji), in runs that put the `{0,300}`
        /// windows' limit between their character and byte counts.
        #[test]
        fn byte_mode_rules_match_as_the_unicode_ones(
            text in "(IDENTIFIED|identified| BY | by |REPLACE|replace|SET |set |PASSWORD|paſſword|ROLE|USER|user| |=|;|'s1'|\"s2\"|s3|\\'s4\\'|\\$\\$s5\\$\\$|é|ſ|\u{212A}|😀|\\(|\\)|é{100,160}|x{100,160}|😀{60,80}){0,24}"
        ) {
            proptest::prop_assert_eq!(every_rule(&text), every_unicode_rule(&text));
        }
    }

    #[test]
    fn the_300_character_windows_count_characters_not_bytes() {
        // A window of 300 characters, two bytes each but the spaces: within
        // the limit (~600 bytes), masked as the Unicode rules did; 301 are
        // past it.
        for (window, masked) in [(300, true), (301, false)] {
            let pad = |n: usize| "é".repeat(n);
            for text in [
                format!(
                    "ALTER USER u IDENTIFIED {} REPLACE 'old-one'",
                    pad(window - 2)
                ),
                format!("SET PASSWORD {}= 'set-one'", pad(window - 1)),
                format!("ALTER ROLE {} PASSWORD role-one", pad(window - 2)),
            ] {
                let out = r(&text);
                assert_eq!(!out.contains("-one"), masked, "{window}: {out}");
                assert_eq!(out, every_unicode_rule(&text));
            }
        }
    }

    #[test]
    fn user_patterns_are_never_left_alone() {
        // A user pattern may match a part but not the whole (`^x`): no text
        // vouches for its parts then.
        let red = Redactor::new(&["^secretless"]).unwrap();
        assert!(!red.leaves_alone("a b"));
        assert!(Redactor::builtin().leaves_alone("a b"));
        assert!(!Redactor::builtin().leaves_alone("a password b"));
    }

    #[test]
    fn only_s_has_a_unicode_case_variant_in_the_hints() {
        // The rules are `(?i)` (Unicode): a non-ASCII character matching a
        // letter of `passw`, `pwd` or `identified` would be missed by the
        // ASCII hints. Only `ſ` does, and `hints` knows it.
        let all: String = (0x80..=0x10FFFF).filter_map(char::from_u32).collect();
        let found: Vec<&str> = Regex::new("(?i)[adefinpstw]")
            .unwrap()
            .find_iter(&all)
            .map(|m| m.as_str())
            .collect();
        assert_eq!(found, ["ſ"]);
    }

    #[test]
    fn every_builtin_rule_compiles() {
        for i in 0..RULES.len() {
            let _ = builtin_rule(i).regex_for("ascii");
            let _ = builtin_rule(i).regex_for("é");
        }
    }

    proptest::proptest! {
        /// On ASCII text each rule compiled with Unicode off masks what it
        /// masks compiled with Unicode on (the rules' words in both cases,
        /// quotes, dollar quotes, URLs, every ASCII class edge: `_`, digits,
        /// whitespace kinds, punctuation).
        #[test]
        fn ascii_rules_match_as_the_unicode_ones(
            text in "(password|PASSWORD|PaSSwd|pwd|PWD|identified|IDENTIFIED| by | BY | with x | as | values |replace |REPLACE |set |SET |role |USER |old_password\\(|password\\(|secret|client_secret|rds_set_external_master\\(|x://u:p@h|://|'s1'|\"s2\"|\\\\'s3\\\\'|\\$\\$d\\$\\$|\\$t\\$e\\$t\\$|E'e'|N'n'|=|:|;|,|\\(|\\)|@|/| |\t|\n|\x0b|\x0c|\r|_|0|9|z|Z|-|\\.|\\\\|NULL|YES|\x01|\x7f){0,40}"
        ) {
            for i in 0..RULES.len() {
                let rule = builtin_rule(i);
                let unicode = regex::bytes::Regex::new(&rule.pattern).unwrap();
                proptest::prop_assert_eq!(rule.mask(&text), rule.mask_with(&unicode, &text), "rule {} on {:?}", i, text);
            }
        }
    }

    /// A secret planted in each shape the hints accept — every hint, found
    /// at every alignment, in short texts and past 1024 bytes — is masked; what they decline has
    /// nothing to mask.
    #[test]
    fn planted_secrets_in_every_hint_shape() {
        let shapes = [
            "# Merge_passes: 0\nCREATE USER 'a'@'%' IDENTIFIED BY 'planted-1'",
            "SET PASSWORD = PAſſWORD('planted-2')",
            "ALTER ROLE r PaSſWORD 'planted-3'",
            "Server=x;PwD=planted-4;",
            "db_passwd=planted-5",
            "CLIENT_SECRET: planted-6",
            "CALL mysql.RDS_SET_EXTERNAL_MASTER('h', 1, 'u', 'planted-7', 'f', 4, 0)",
            "jdbc:mysql://u:planted-8@h/x",
            "{\"pwd\": \"planted-9\"}",
            "ALTER USER u IDENTIFIED BY 'planted-10' REPLACE 'planted-11'",
        ];
        let pad = "SELECT 1 FROM t WHERE a = 1 AND b = 2 AND c = 3 AND d = 4 -- ";
        let long = "SELECT 1 -- ".repeat(100);
        for shape in shapes {
            // Anywhere in the text, and both scans.
            let shifted = (0..8).map(|k| format!("{}{shape}", " ".repeat(k)));
            let padded = [
                format!("{pad}{shape}"),
                format!("{shape} {pad}"),
                format!("{long}{shape}"),
                format!("{shape}{long}"),
            ];
            for text in shifted.chain(padded) {
                let out = Redactor::builtin().redact(&text);
                assert!(!out.contains("planted"), "{text:?} → {out:?}");
                assert_eq!(out, every_rule(&text));
            }
        }
        for declined in [
            "# Filesort: Yes  Filesort_on_disk: No  Merge_passes: 0  Priority_queue: Yes",
            "SELECT pass, pw, identifie, :/ FROM ſecret_rds_set_externa",
            "SELECT * FROM t WHERE id = 1",
        ] {
            for text in [
                declined.to_owned(),
                format!("{pad}{declined}"),
                format!("{long}{declined}"),
            ] {
                assert_eq!(hints(&text), 0, "{text}");
                assert!(matches!(
                    Redactor::builtin().redact(&text),
                    Cow::Borrowed(_)
                ));
                assert_eq!(every_rule(&text), text);
            }
        }
    }

    #[test]
    fn hints_know_what_the_unicode_rules_match() {
        // `(?i)` rules match `ſ` for `s`; the ASCII hints must not skip them.
        assert_eq!(
            r("ALTER ROLE a PAſSWORD 'x'"),
            "ALTER ROLE a PAſSWORD '***'"
        );
        assert_eq!(r("password=x"), "password=***");
        assert_eq!(r("PAſſWORD('x')"), "PAſſWORD('***')");
        for (hint, bit) in [
            ("passw", PASSW),
            ("PwD", PWD),
            ("IdEnTiFiEd", IDENTIFIED),
            ("://", URL),
            ("paſsw", PASSW),
            ("pasſW", PASSW),
            ("sEcReT", SECRET_WORD),
            ("Rds_Set_External", RDS),
        ] {
            assert_eq!(hints(&format!("x {hint} y")), bit, "{hint}");
            assert_eq!(hints(hint), bit, "{hint}");
        }
        for miss in [
            "pass",
            "pas",
            "pw",
            "identifie",
            "dentified",
            ":/",
            "p",
            "f",
            "",
            "paſ",
            "paſw",
            "pssw",
            "pd",
            "secre",
            "ds_set_external",
            "w",
            "x",
            "/",
        ] {
            assert_eq!(hints(miss), 0, "{miss}");
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

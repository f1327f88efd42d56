//! Statement-level enrichment shared by every engine: secret redaction and
//! query fingerprints. Runs in the pipeline right after a parser's `join`,
//! once per entry, so parsers stay pure and know nothing of either.

pub mod fingerprint;
pub mod redact;
mod settings;

pub use fingerprint::{fingerprint, fingerprint_id};
pub use redact::{PatternError, Redactor};
pub use settings::RedactionSettings;

use crate::parse::Entry;
use crate::record::{keys, Attributes, CompactString, Value};

/// Redacts the entry's body and string attributes, then fingerprints its
/// statement (`db.query.text`) when it has one. Fingerprints are computed
/// after redaction so no secret can reach them. Whether anything was masked
/// (counted by self-monitoring).
pub fn enrich_entry(entry: &mut Entry, redactor: &Redactor) -> bool {
    let mut masked = false;
    let body_untouched = redactor.leaves_alone(&entry.body);
    if !body_untouched {
        if let std::borrow::Cow::Owned(body) = redactor.redact(&entry.body) {
            entry.body = body;
            masked = true;
        }
    }
    // A clean body vouches for every part of it (`leaves_alone`): parsers
    // end the body with the statement, which then needs no second scan.
    let clean_body = body_untouched.then_some(entry.body.as_str());
    masked |= redact_attributes_of(&mut entry.parsed.attributes, redactor, clean_body);
    if let Some(reason) = &mut entry.parsed.error {
        if let std::borrow::Cow::Owned(clean) = redactor.redact(reason) {
            *reason = clean;
            masked = true;
        }
    }
    let Some(statement) = entry.parsed.attributes.get_str(keys::DB_QUERY_TEXT) else {
        return masked;
    };
    if statement.trim().is_empty() {
        return masked;
    }
    let fp = fingerprint::fingerprint_compact(statement);
    let id = fingerprint::fingerprint_id_compact(&fp);
    set_fingerprint(&mut entry.parsed.attributes, fp, id);
    masked
}

/// Sets the two fingerprint keys. An entry straight from a parser holds
/// neither (no parser writes them), so one look for both, then two pushes,
/// instead of `insert`'s scan of every key for each (~124 instructions an
/// insert, callgrind); an entry enriched before gets them replaced.
fn set_fingerprint(attrs: &mut Attributes, fp: CompactString, id: CompactString) {
    let present = attrs
        .0
        .iter()
        .any(|(k, _)| *k == keys::DB_QUERY_FINGERPRINT || *k == keys::DB_QUERY_FINGERPRINT_ID);
    if present {
        attrs.insert(keys::DB_QUERY_FINGERPRINT, fp);
        attrs.insert(keys::DB_QUERY_FINGERPRINT_ID, id);
    } else {
        attrs.push_new(keys::DB_QUERY_FINGERPRINT, fp);
        attrs.push_new(keys::DB_QUERY_FINGERPRINT_ID, id);
    }
}

/// Redacts every text value of `attrs`, inside arrays too; whether any was
/// masked.
pub fn redact_attributes(attrs: &mut Attributes, redactor: &Redactor) -> bool {
    redact_attributes_of(attrs, redactor, None)
}

/// [`redact_attributes`], skipping texts that are part of `clean`, a text
/// the redactor [leaves alone](Redactor::leaves_alone) (and so every part
/// of it).
fn redact_attributes_of(attrs: &mut Attributes, redactor: &Redactor, clean: Option<&str>) -> bool {
    let mut masked = false;
    for (_, value) in attrs.0.iter_mut() {
        // Texts handled here, not through the recursive `redact_value`: a
        // call per attribute cost more than the redaction of most of them
        // (callgrind, issue 17).
        masked |= match value {
            // Most texts: nothing to redact, known without a call.
            Value::Str(text)
                if clean.is_some_and(|c| is_part_of(text, c)) || redactor.leaves_alone(text) =>
            {
                false
            }
            Value::Str(text) => redact_text(text, redactor),
            Value::Array(_) => redact_value(value, redactor),
            _ => false,
        };
    }
    masked
}

/// Whether `text` is found in `whole` — looked for only where that costs
/// less than scanning `text` for hints: a text of 16 bytes or more that
/// ends `whole` or stops up to two bytes before its end (PostgreSQL's
/// statement ends its body; a slow-log statement is written with its `;`
/// and a line end after it). A search anywhere in `whole` was tried: a
/// `memmem` searcher's set-up cost ~20,000 instructions per statement.
fn is_part_of(text: &str, whole: &str) -> bool {
    text.len() >= 16
        && (0..=2).any(|cut| {
            whole
                .len()
                .checked_sub(cut)
                .and_then(|end| whole.get(..end))
                .is_some_and(|w| w.ends_with(text))
        })
}

fn redact_value(value: &mut Value, redactor: &Redactor) -> bool {
    match value {
        Value::Str(text) => redact_text(text, redactor),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |m, v| redact_value(v, redactor) | m),
        _ => false,
    }
}

#[inline]
fn redact_text(text: &mut compact_str::CompactString, redactor: &Redactor) -> bool {
    if let std::borrow::Cow::Owned(clean) = redactor.redact(text) {
        *text = clean.into();
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Parsed;

    fn redactor(patterns: &[&str]) -> Result<Redactor, String> {
        let settings = RedactionSettings {
            redact_patterns: patterns.iter().map(|p| p.to_string()).collect(),
        };
        settings.redactor().map_err(|e| e.to_string())
    }

    #[test]
    fn user_patterns_are_validated_at_start_up() {
        let err = redactor(&["token=(\\w+", "ok"]).unwrap_err();
        assert!(err.contains("RDSF_REDACT_PATTERNS"), "{err}");
        assert!(err.contains("`token=(\\w+`"), "{err}");
        let redactor = redactor(&["token=(\\w+)"]).unwrap();
        assert_eq!(redactor.redact("a token=abc b"), "a token=*** b");
    }

    fn entry(body: &str, statement: &str) -> Entry {
        let mut parsed = Parsed::default();
        parsed.attributes.insert(keys::DB_QUERY_TEXT, statement);
        parsed
            .attributes
            .insert("x.other", "a password=other-Secret-1 b");
        Entry {
            event_ids: vec!["1".into()].into(),
            cloudwatch_timestamp_ms: 0,
            body: body.into(),
            parsed,
            part: None,
        }
    }

    /// The skip of a statement that ends a clean body: only then, and only
    /// for texts that do end it.
    #[test]
    fn only_texts_ending_a_clean_body_skip_redaction() {
        let red = Redactor::builtin();
        // Clean body ending with the statement: both as they were; the
        // other attribute (not the body's end) is still redacted.
        let stmt = "SELECT * FROM t WHERE id = 42";
        let mut e = entry(&format!("LOG:  statement: {stmt}"), stmt);
        assert!(enrich_entry(&mut e, &red));
        let a = &e.parsed.attributes;
        assert_eq!(a.get_str(keys::DB_QUERY_TEXT), Some(stmt));
        assert_eq!(a.get_str("x.other"), Some("a password=*** b"));
        // A statement with a secret that the clean body does not end with.
        let leak = "ALTER ROLE r PASSWORD 'stmt-Secret-2' VALID";
        let mut e = entry("LOG:  statement: SELECT 1 FROM t WHERE a = 1", leak);
        enrich_entry(&mut e, &red);
        assert_eq!(
            e.parsed.attributes.get_str(keys::DB_QUERY_TEXT),
            Some("ALTER ROLE r PASSWORD '***' VALID")
        );
        // A body with a secret ending with the statement: both redacted.
        let mut e = entry(&format!("LOG:  statement: {leak}"), leak);
        enrich_entry(&mut e, &red);
        assert!(!e.body.contains("stmt-Secret"), "{}", e.body);
        assert_eq!(
            e.parsed.attributes.get_str(keys::DB_QUERY_TEXT),
            Some("ALTER ROLE r PASSWORD '***' VALID")
        );
        // A statement written with `;` and a line end after it: skipped the
        // same way, and a long text that is not in the body still scanned.
        let long = format!(
            "SELECT a, b, c FROM t WHERE a = 1 AND b = 2 AND c = 3 -- {}",
            "x".repeat(40)
        );
        let mut e = entry(&format!("# Query_time: 1\n{long};\n"), &long);
        e.parsed
            .attributes
            .insert("x.long", format!("{long} password=long-Secret-3"));
        enrich_entry(&mut e, &red);
        let a = &e.parsed.attributes;
        assert_eq!(a.get_str(keys::DB_QUERY_TEXT), Some(long.as_str()));
        assert_eq!(
            a.get_str("x.long"),
            Some(format!("{long} password=***").as_str())
        );
        assert!(is_part_of(&long, &e.body));
        assert!(!is_part_of(&long, &format!("{long};\n\n")));
        assert!(
            !is_part_of("SELECT 1", "SELECT 1"),
            "short texts are scanned"
        );
        // A user pattern: no text vouches for its parts.
        let user = Redactor::new(&["^SELECT \\* FROM (t)"]).unwrap();
        let mut e = entry(&format!("LOG:  statement: {stmt}"), stmt);
        enrich_entry(&mut e, &user);
        assert_eq!(
            e.parsed.attributes.get_str(keys::DB_QUERY_TEXT),
            Some("SELECT * FROM *** WHERE id = 42")
        );
    }

    /// The fingerprint keys are pushed without a key scan only when the
    /// entry has neither: an entry that already holds them (enriched
    /// before, or given them by hand) gets them replaced, never twice.
    #[test]
    fn enriching_again_replaces_the_fingerprint_pair() {
        let red = Redactor::builtin();
        let stmt = "SELECT a FROM t WHERE id = 7";
        let mut e = entry(&format!("LOG:  statement: {stmt}"), stmt);
        enrich_entry(&mut e, &red);
        let first = e.parsed.attributes.clone();
        assert!(first.has_distinct_keys());
        assert_eq!(
            first.get_str(keys::DB_QUERY_FINGERPRINT),
            Some("select a from t where id = ?")
        );
        enrich_entry(&mut e, &red);
        assert_eq!(e.parsed.attributes, first);
        // Only one of the two present, with a stale value: both set, once.
        let mut e = entry(&format!("LOG:  statement: {stmt}"), stmt);
        e.parsed
            .attributes
            .insert(keys::DB_QUERY_FINGERPRINT_ID, "stale");
        enrich_entry(&mut e, &red);
        let a = &e.parsed.attributes;
        assert!(a.has_distinct_keys());
        assert_eq!(
            a.get_str(keys::DB_QUERY_FINGERPRINT_ID),
            first.get_str(keys::DB_QUERY_FINGERPRINT_ID)
        );
        assert_eq!(
            a.get_str(keys::DB_QUERY_FINGERPRINT),
            first.get_str(keys::DB_QUERY_FINGERPRINT)
        );
    }

    #[test]
    fn enrichment_redacts_then_fingerprints() {
        let mut parsed = Parsed::default();
        parsed.attributes.insert(
            keys::DB_QUERY_TEXT,
            "ALTER USER 'a'@'%' IDENTIFIED BY 'S3cret!'",
        );
        let mut entry = Entry {
            event_ids: vec!["1".into()].into(),
            cloudwatch_timestamp_ms: 0,
            body: "6 Query\tALTER USER 'a'@'%' IDENTIFIED BY 'S3cret!'".into(),
            parsed,
            part: None,
        };
        enrich_entry(&mut entry, &Redactor::builtin());
        assert!(!entry.body.contains("S3cret"));
        let a = &entry.parsed.attributes;
        assert_eq!(
            a.get_str(keys::DB_QUERY_TEXT),
            Some("ALTER USER 'a'@'%' IDENTIFIED BY '***'")
        );
        assert_eq!(
            a.get_str(keys::DB_QUERY_FINGERPRINT),
            Some("alter user ?@? identified by ?")
        );
        // pt-query-digest's checksum for this class on the shared corpus: 36F6EC989D9A050B…
        assert_eq!(
            a.get_str(keys::DB_QUERY_FINGERPRINT_ID),
            Some("36F6EC989D9A050B")
        );
    }
}

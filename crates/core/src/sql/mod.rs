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
use crate::record::{keys, Attributes, Value};

/// Redacts the entry's body and string attributes, then fingerprints its
/// statement (`db.query.text`) when it has one. Fingerprints are computed
/// after redaction so no secret can reach them. Whether anything was masked
/// (counted by self-monitoring).
pub fn enrich_entry(entry: &mut Entry, redactor: &Redactor) -> bool {
    let mut masked = false;
    if let std::borrow::Cow::Owned(body) = redactor.redact(&entry.body) {
        entry.body = body;
        masked = true;
    }
    masked |= redact_attributes(&mut entry.parsed.attributes, redactor);
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
    let fp = fingerprint(statement);
    let id = fingerprint_id(&fp);
    entry
        .parsed
        .attributes
        .insert(keys::DB_QUERY_FINGERPRINT, fp);
    entry
        .parsed
        .attributes
        .insert(keys::DB_QUERY_FINGERPRINT_ID, id);
    masked
}

/// Redacts every text value of `attrs`, inside arrays too; whether any was
/// masked.
pub fn redact_attributes(attrs: &mut Attributes, redactor: &Redactor) -> bool {
    let mut masked = false;
    for (_, value) in attrs.0.iter_mut() {
        // Texts handled here, not through the recursive `redact_value`: a
        // call per attribute cost more than the redaction of most of them
        // (callgrind, issue 17).
        masked |= match value {
            Value::Str(text) => redact_text(text, redactor),
            Value::Array(_) => redact_value(value, redactor),
            _ => false,
        };
    }
    masked
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

    #[test]
    fn enrichment_redacts_then_fingerprints() {
        let mut parsed = Parsed::default();
        parsed.attributes.insert(
            keys::DB_QUERY_TEXT,
            "ALTER USER 'a'@'%' IDENTIFIED BY 'S3cret!'",
        );
        let mut entry = Entry {
            event_ids: vec!["1".into()],
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

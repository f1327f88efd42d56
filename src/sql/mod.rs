//! Statement-level enrichment shared by every engine: secret redaction and
//! query fingerprints. Runs in the pipeline right after a parser's `join`,
//! once per entry, so parsers stay pure and know nothing of either.

pub mod fingerprint;
pub mod redact;

pub use fingerprint::{fingerprint, fingerprint_id};
pub use redact::{PatternError, Redactor};

use crate::parse::Entry;
use crate::record::{keys, Value};

/// Redacts the entry's body and string attributes, then fingerprints its
/// statement (`db.query.text`) when it has one. Fingerprints are computed
/// after redaction so no secret can reach them.
pub fn enrich_entry(entry: &mut Entry, redactor: &Redactor) {
    if let std::borrow::Cow::Owned(body) = redactor.redact(&entry.body) {
        entry.body = body;
    }
    for (_, value) in entry.parsed.attributes.0.iter_mut() {
        if let Value::Str(text) = value {
            if let std::borrow::Cow::Owned(clean) = redactor.redact(text) {
                *text = clean;
            }
        }
    }
    let Some(statement) = entry.parsed.attributes.get_str(keys::DB_QUERY_TEXT) else {
        return;
    };
    if statement.trim().is_empty() {
        return;
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
}

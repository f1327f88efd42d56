//! JSON objects that name a key twice. serde_json keeps the last value of a
//! repeated key, so `{"awslogs":{…},"awslogs":{…}}` would silently drop the
//! first payload's events (issue 13). The event envelope is checked before
//! it is read as a `Value`, and an event with a repeated key fails whole
//! (retryable by nobody, but visible), rather than losing part of itself.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The first repeated key (with the path of objects leading to it), if any.
/// Linear in the input; nesting is bounded by serde_json's recursion limit.
pub fn first_duplicate_key(bytes: &[u8]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match Check.deserialize(&mut de) {
        Err(e) if e.is_data() => Some(e.to_string()),
        // Not JSON at all: the caller's own parse says so.
        _ => None,
    }
}

/// Walks any JSON value, failing on an object with a repeated key.
struct Check;

impl<'de> DeserializeSeed<'de> for Check {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                // Keys are field names, but cap what an error echoes.
                let shown: String = key.chars().take(64).collect();
                return Err(de::Error::custom(format_args!(
                    "the key `{shown}` appears twice in one object"
                )));
            }
            map.next_value_seed(Check)?;
            seen.insert(key);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Check)?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_repeated_key_at_any_depth() {
        let top = br#"{"awslogs":{"data":"a"},"awslogs":{"data":"b"}}"#;
        assert!(first_duplicate_key(top).unwrap().contains("`awslogs`"));
        let deep = br#"{"Records":[{"kinesis":{"data":"a","data":"b"}}]}"#;
        assert!(first_duplicate_key(deep).unwrap().contains("`data`"));
        // The same key in sibling objects is fine.
        let ok = br#"{"Records":[{"kinesis":{"data":"a"}},{"kinesis":{"data":"b"}}],"x":[1,2.5,true,null,"s"]}"#;
        assert_eq!(first_duplicate_key(ok), None);
        assert_eq!(first_duplicate_key(b"not json"), None);
    }
}

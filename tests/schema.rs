//! Every attribute key the code can emit is documented in docs/schema.md.

use crate::common;

#[test]
fn every_key_constant_is_documented() {
    let root = common::manifest_dir();
    let code = std::fs::read_to_string(root.join("crates/core/src/record.rs")).unwrap();
    let schema = std::fs::read_to_string(root.join("docs/schema.md")).unwrap();
    let keys_block = &code[code.find("pub mod keys").expect("record::keys")..];
    let mut checked = 0;
    // Statements up to `;`: rustfmt may wrap a long constant over lines.
    for statement in keys_block.split(';') {
        let Some(at) = statement.find("pub const ") else {
            continue;
        };
        let (line, rest) = (&statement[at..], &statement[at + "pub const ".len()..]);
        let value = rest.split('"').nth(1).unwrap_or_else(|| panic!("{line}"));
        // Prefix keys (`rds.event.tags.`) are documented as `prefix<name>`.
        let needle = if value.ends_with('.') {
            format!("`{value}<")
        } else {
            format!("`{value}`")
        };
        assert!(
            schema.contains(&needle),
            "docs/schema.md does not document {value} ({needle})"
        );
        checked += 1;
    }
    assert!(
        checked >= 30,
        "only {checked} keys found: is record::keys parsed right?"
    );
}

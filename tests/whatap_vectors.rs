//! Byte-exact: the encoder reproduces every frame WhaTap's own Go library
//! (golib) produced, and the hash / hexa32 functions reproduce its values.
//! Runs the in-repo copy (tests/data/whatap/vectors) always, and the set in
//! `RDSF_WHATAP_VECTORS` (default `../shared/whatap-vectors`) when present.
//! TagCountPack (metrics) frames are in each set's `tagcount/cases.json`.

use std::path::{Path, PathBuf};

use rdsf_sinks::whatap::decode::decode_frames;
use rdsf_sinks::whatap::frame::write_frame;
use rdsf_sinks::whatap::hash::{hash64, hash64_str, hash_str};
use rdsf_sinks::whatap::hexa32::{to_long32, to_string32};
use rdsf_sinks::whatap::pack::{EventPack, Header, LogSinkPack, EVENT_PACK, LOGSINK_PACK};
use rdsf_sinks::whatap::tagcount::{TagCountPack, TAG_COUNT_PACK};
use rdsf_sinks::whatap::value::{Value, ValueMap};
use serde_json::Value as Json;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vector_sets() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sets = vec![("in-repo".to_owned(), root.join("tests/data/whatap/vectors"))];
    match std::env::var_os("RDSF_WHATAP_VECTORS") {
        Some(dir) => {
            let dir = root.join(dir);
            assert!(
                dir.is_dir(),
                "RDSF_WHATAP_VECTORS={} is not a folder",
                dir.display()
            );
            sets.push(("RDSF_WHATAP_VECTORS".to_owned(), dir));
        }
        None => match Some(root.join("../shared/whatap-vectors")).filter(|d| d.is_dir()) {
            Some(dir) => sets.push(("shared".to_owned(), dir)),
            None => eprintln!("whatap vectors: no shared set beside the repo; in-repo copy only"),
        },
    }
    sets
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn i64_of(v: &Json) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an i64: {v}"))
}

fn value_of(op: &Json) -> Value {
    let v = &op["value"];
    match op["type"].as_str().unwrap() {
        "text" => Value::Text(v.as_str().unwrap().to_owned()),
        "decimal" => Value::Decimal(i64_of(v)),
        "double" => Value::Double(f64::from_bits(
            u64::from_str_radix(op["double_bits"].as_str().unwrap(), 16).unwrap(),
        )),
        "boolean" => Value::Boolean(v.as_bool().unwrap()),
        other => panic!("unknown value type {other}"),
    }
}

fn map_of(ops: &Json) -> ValueMap {
    let mut m = ValueMap::new();
    for op in ops.as_array().unwrap() {
        m.put(op["key"].as_str().unwrap(), value_of(op));
    }
    m
}

fn header_of(input: &Json) -> Header {
    Header {
        pcode: i64_of(&input["pcode"]),
        oid: i64_of(&input["oid"]) as i32,
        okind: i64_of(&input["okind"]) as i32,
        onode: i64_of(&input["onode"]) as i32,
        time: i64_of(&input["time"]),
    }
}

/// Builds the frame for one case exactly as the generator fed golib.
fn encode_case(input: &Json) -> Vec<u8> {
    let header = header_of(input);
    if let Some(oname) = input["oname"].as_str() {
        assert_eq!(hash_str(oname), header.oid, "oid = HashStr(oname)");
    }
    let license_hash = hash64_str(input["license"].as_str().unwrap());
    let pcode = header.pcode;
    let mut out = Vec::new();
    match input["pack"].as_str().unwrap() {
        "logsink" => {
            let mut pack = LogSinkPack {
                header,
                category: input["category"].as_str().unwrap().to_owned(),
                tag_hash: i64_of(&input["tag_hash_preset"]),
                tags: map_of(&input["tags"]),
                line: i64_of(&input["line"]),
                content: input["content"].as_str().unwrap().to_owned(),
                fields: (!input["fields"].is_null()).then(|| map_of(&input["fields"])),
            };
            if input["transfer_oid_to_tag"].as_bool().unwrap() {
                pack.transfer_oid_to_tag();
            }
            write_frame(&mut out, pcode, license_hash, |b| pack.write_body(b));
        }
        "event" => {
            let mut ev = EventPack {
                header,
                level: i64_of(&input["level"]) as u8,
                title: input["title"].as_str().unwrap().to_owned(),
                message: input["message"].as_str().unwrap().to_owned(),
                uuid: input["uuid"].as_str().unwrap().to_owned(),
                escalation: input["escalation"].as_bool().unwrap(),
                status: i64_of(&input["status"]) as i32,
                otype: i64_of(&input["otype"]) as i32,
                ..EventPack::default()
            };
            for kv in input["attrs"].as_array().unwrap() {
                ev.put_attr(kv[0].as_str().unwrap(), kv[1].as_str().unwrap());
            }
            write_frame(&mut out, pcode, license_hash, |b| ev.write_body(b));
        }
        other => panic!("unknown pack {other}"),
    }
    out
}

#[test]
fn every_frame_matches_golib_byte_for_byte() {
    for (set, dir) in vector_sets() {
        let cases = read_json(&dir.join("cases.json"));
        let cases = cases.as_array().unwrap();
        assert!(!cases.is_empty(), "{set}: no cases");
        let mut failed = Vec::new();
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let got = hex(&encode_case(&case["input"]));
            let want = case["frame_hex"].as_str().unwrap();
            let derived = &case["derived"];
            assert_eq!(
                hash64_str(case["input"]["license"].as_str().unwrap()),
                i64_of(&derived["license_hash"]),
                "{set}/{name}: licence hash"
            );
            let frame = unhex(want);
            let body_len = i32::from_be_bytes(frame[18..22].try_into().unwrap());
            assert_eq!(
                body_len as i64,
                i64_of(&derived["body_len"]),
                "{set}/{name}: body_len"
            );
            let pack_type = i16::from_be_bytes(frame[22..24].try_into().unwrap());
            assert!([LOGSINK_PACK, EVENT_PACK].contains(&pack_type));
            failed.extend(first_difference(name, &got, want));
        }
        assert!(
            failed.is_empty(),
            "{set}: frames differ:\n{}",
            failed.join("\n")
        );
        eprintln!(
            "whatap vectors [{set}] {}: {} frames match byte for byte",
            dir.display(),
            cases.len()
        );
    }
}

#[test]
fn hashes_and_hexa32_match_golib() {
    for (set, dir) in vector_sets() {
        let h = read_json(&dir.join("hashes.json"));
        let hashes = h["hash"].as_array().unwrap();
        for c in hashes {
            let bytes = unhex(c["utf8_hex"].as_str().unwrap());
            let input = c["input"].as_str().unwrap();
            assert_eq!(input.as_bytes(), &bytes[..], "{set}: utf8 of {input:?}");
            assert_eq!(
                hash_str(input) as i64,
                i64_of(&c["hash_str"]),
                "{set}: HashStr({input:?})"
            );
            assert_eq!(
                hash64(&bytes),
                i64_of(&c["hash64_str"]),
                "{set}: Hash64Str({input:?})"
            );
        }
        let numbers = h["hexa32"].as_array().unwrap();
        for c in numbers {
            let n = i64_of(&c["number"]);
            let s = c["string"].as_str().unwrap();
            assert_eq!(to_string32(n), s, "{set}: ToString32({n})");
            assert_eq!(
                to_long32(s),
                i64_of(&c["parsed_back"]),
                "{set}: ToLong32({s})"
            );
        }
        let parses = h["hexa32_parse"].as_array().unwrap();
        for c in parses {
            let s = c["string"].as_str().unwrap();
            assert_eq!(to_long32(s), i64_of(&c["parsed"]), "{set}: ToLong32({s:?})");
        }
        assert!(!hashes.is_empty() && !numbers.is_empty());
        eprintln!(
            "whatap hashes [{set}] {}: {} hashes, {} hexa32 numbers, {} hexa32 parses match",
            dir.display(),
            hashes.len(),
            numbers.len(),
            parses.len()
        );
    }
}

fn f64_bits(op: &Json) -> f64 {
    f64::from_bits(u64::from_str_radix(op["double_bits"].as_str().unwrap(), 16).unwrap())
}

fn f32_bits(op: &Json) -> f32 {
    f32::from_bits(u32::from_str_radix(op["float_bits"].as_str().unwrap(), 16).unwrap())
}

/// A value given by its wire type (`tags` entries put straight into the
/// map, and `derived.wire_*`).
fn wire_value_of(op: &Json) -> Value {
    let v = &op["value"];
    match op["type"].as_str().unwrap() {
        "null" => Value::Null,
        "boolean" => Value::Boolean(v.as_bool().unwrap()),
        "decimal" => Value::Decimal(i64_of(v)),
        "int" => Value::Int(i32::try_from(i64_of(v)).unwrap()),
        "long" => Value::Long(i64_of(v)),
        "float" => Value::Float(f32_bits(op)),
        "double" => Value::Double(f64_bits(op)),
        "text" => Value::Text(v.as_str().unwrap().to_owned()),
        other => panic!("unknown wire type {other}"),
    }
}

/// What golib's `TagCountPack.Put(key, v)` stores for a Go value of
/// `go_type` (the vectors' README, "What `Put(key, v)` stores").
fn put_value_of(op: &Json) -> Value {
    let v = &op["value"];
    match op["go_type"].as_str().unwrap() {
        "int" | "int16" | "int32" | "int64" => Value::Decimal(i64_of(v)),
        // int64(v): from 2^63 up wraps to negative.
        "uint" | "uint32" | "uint64" => Value::Decimal(v.as_u64().unwrap() as i64),
        "float32" => Value::Float(f32_bits(op)),
        "float64" => Value::Double(f64_bits(op)),
        "string" => Value::Text(v.as_str().unwrap().to_owned()),
        // fmt.Sprintf("%v", v)
        "bool" => Value::Text(v.as_bool().unwrap().to_string()),
        "int8" | "uint8" | "uint16" => Value::Text(v.to_string()),
        "nil" => Value::Text("<nil>".to_owned()),
        "value.IntValue" => Value::Int(i32::try_from(i64_of(v)).unwrap()),
        "value.LongValue" => Value::Long(i64_of(v)),
        "value.DecimalValue" => Value::Decimal(i64_of(v)),
        "value.BoolValue" => Value::Boolean(v.as_bool().unwrap()),
        "value.NullValue" => Value::Null,
        "value.FloatValue" => Value::Float(f32_bits(op)),
        "value.DoubleValue" => Value::Double(f64_bits(op)),
        "value.TextValue" => Value::Text(v.as_str().unwrap().to_owned()),
        other => panic!("unknown go_type {other}"),
    }
}

fn put_tags(pack: &mut TagCountPack, ops: &Json) {
    for op in ops.as_array().unwrap() {
        let key = op["key"].as_str().unwrap();
        match op["via"].as_str().unwrap() {
            "PutTag" => pack.put_tag(key, op["value"].as_str().unwrap()),
            "Tags.Put" => pack.tags.put(key, wire_value_of(op)),
            other => panic!("unknown tag setter {other}"),
        }
    }
}

/// The frame of one TagCountPack case, built as the generator drove golib:
/// tags, fields, an optional first write to scratch then more tags, the
/// frame.
fn encode_tagcount_case(input: &Json) -> Vec<u8> {
    assert_eq!(input["pack"], "tagcount");
    let header = header_of(input);
    if let Some(oname) = input["oname"].as_str() {
        assert_eq!(hash_str(oname), header.oid, "oid = HashStr(oname)");
    }
    let pcode = header.pcode;
    let mut pack = TagCountPack::new(header, input["category"].as_str().unwrap());
    put_tags(&mut pack, &input["tags"]);
    for op in input["fields"].as_array().unwrap() {
        pack.put(op["key"].as_str().unwrap(), put_value_of(op));
    }
    if !input["tags_after_first_write"].is_null() {
        pack.write_body(&mut Vec::new());
        put_tags(&mut pack, &input["tags_after_first_write"]);
    }
    let license_hash = hash64_str(input["license"].as_str().unwrap());
    let mut out = Vec::new();
    write_frame(&mut out, pcode, license_hash, |b| pack.write_body(b));
    out
}

/// How `decode` shows a map: `{"key": value, ...}` in wire order.
fn shown_map(entries: &Json) -> String {
    let shown: Vec<String> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let v = match wire_value_of(e) {
                Value::Null => "null".to_owned(),
                Value::Boolean(b) => b.to_string(),
                Value::Decimal(d) => d.to_string(),
                Value::Int(i) => format!("{i}i32"),
                Value::Long(l) => format!("{l}i64"),
                Value::Float(f) => format!("{f:?}f32"),
                Value::Double(d) => d.to_string(),
                Value::Text(t) => format!("{t:?}"),
            };
            format!("{:?}: {v}", e["key"].as_str().unwrap())
        })
        .collect();
    format!("{{{}}}", shown.join(", "))
}

fn wire_map(entries: &Json) -> ValueMap {
    let mut m = ValueMap::new();
    for e in entries.as_array().unwrap() {
        m.put(e["key"].as_str().unwrap(), wire_value_of(e));
    }
    m
}

#[test]
fn every_tagcount_frame_matches_golib_byte_for_byte() {
    let mut sets_run = 0;
    for (set, dir) in vector_sets() {
        let path = dir.join("tagcount/cases.json");
        let cases = read_json(&path);
        let cases = cases.as_array().unwrap();
        assert!(!cases.is_empty(), "{set}: no TagCountPack cases");
        let mut failed = Vec::new();
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let (input, derived) = (&case["input"], &case["derived"]);
            let want = case["frame_hex"].as_str().unwrap();
            let frame = unhex(want);
            assert_eq!(
                i64::from(i32::from_be_bytes(frame[18..22].try_into().unwrap())),
                i64_of(&derived["body_len"]),
                "{set}/{name}: body_len"
            );
            assert_eq!(
                i16::from_be_bytes(frame[22..24].try_into().unwrap()),
                TAG_COUNT_PACK,
                "{set}/{name}: pack type"
            );
            assert_eq!(i64_of(&derived["pack_type"]), i64::from(TAG_COUNT_PACK));
            // The tag-hash rule, from golib's own numbers.
            let mut tag_bytes = Vec::new();
            wire_map(&derived["wire_tags"]).write(&mut tag_bytes);
            assert_eq!(
                hash64(&tag_bytes),
                i64_of(&derived["tag_hash_of_tag_bytes"]),
                "{set}/{name}: Hash64 of the wire tags"
            );
            // The library decoder reads golib's frame as golib meant it.
            let decoded = decode_frames(&frame).unwrap_or_else(|e| panic!("{set}/{name}: {e}"));
            assert_eq!(decoded.len(), 1, "{set}/{name}");
            let d = &decoded[0];
            assert_eq!(d.pack, "TagCountPack", "{set}/{name}");
            assert_eq!(d.pcode, i64_of(&input["pcode"]), "{set}/{name}");
            let field = |k: &str| {
                d.fields
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| panic!("{set}/{name}: no {k} in {:?}", d.fields))
            };
            assert_eq!(field("time"), input["time"].to_string(), "{set}/{name}");
            assert_eq!(field("oid"), input["oid"].to_string(), "{set}/{name}");
            assert_eq!(
                field("category"),
                input["category"].as_str().unwrap(),
                "{set}/{name}"
            );
            assert_eq!(
                field("tag_hash"),
                derived["tag_hash_written"].to_string(),
                "{set}/{name}"
            );
            assert_eq!(
                field("tags"),
                shown_map(&derived["wire_tags"]),
                "{set}/{name}"
            );
            assert_eq!(
                field("fields"),
                shown_map(&derived["wire_fields"]),
                "{set}/{name}"
            );

            let got = hex(&encode_tagcount_case(input));
            failed.extend(first_difference(name, &got, want));
        }
        assert!(
            failed.is_empty(),
            "{set}: TagCountPack frames differ:\n{}",
            failed.join("\n")
        );
        eprintln!(
            "whatap TagCountPack vectors [{set}] {}: {} frames match byte for byte",
            path.display(),
            cases.len()
        );
        sets_run += 1;
    }
    assert!(sets_run >= 1, "the in-repo set always runs");
}

/// Where two hex frames first differ, for a failure message; `None` when equal.
fn first_difference(name: &str, got: &str, want: &str) -> Option<String> {
    (got != want).then(|| {
        let at = got
            .bytes()
            .zip(want.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        format!(
            "{name}: first difference at hex offset {at} (got {} / want {} hex chars)",
            got.len(),
            want.len()
        )
    })
}

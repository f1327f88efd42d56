//! Byte-exact: the encoder reproduces every frame WhaTap's own Go library
//! (golib) produced, and the hash / hexa32 functions reproduce its values.
//! Runs the in-repo copy (tests/data/whatap/vectors) always, and the set in
//! `RDSF_WHATAP_VECTORS` (default `../shared/whatap-vectors`) when present.

use std::path::{Path, PathBuf};

use rds_forwarder::sink::whatap::frame::write_frame;
use rds_forwarder::sink::whatap::hash::{hash64, hash64_str, hash_str};
use rds_forwarder::sink::whatap::hexa32::{to_long32, to_string32};
use rds_forwarder::sink::whatap::pack::{EventPack, Header, LogSinkPack, EVENT_PACK, LOGSINK_PACK};
use rds_forwarder::sink::whatap::value::{Value, ValueMap};
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
            if got != want {
                let at = got
                    .bytes()
                    .zip(want.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(got.len().min(want.len()));
                failed.push(format!(
                    "{name}: first difference at hex offset {at} (got {} / want {} hex chars)",
                    got.len(),
                    want.len()
                ));
            }
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

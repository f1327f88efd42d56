//! TagCountPacks checked against frames WhaTap's Go library made: each pack
//! as the golib generator's input (`tests/data/whatap/vectors/tagcount-query/
//! gen/main.go`: header, category, tags and fields in wire order, doubles
//! with their exact bits) beside the frame our encoder writes for it, and the
//! comparison with a `cases.json` of golib's frames.

use std::path::Path;

use rdsf_sinks::whatap::frame::write_frame;
use rdsf_sinks::whatap::hash::hash64_str;
use rdsf_sinks::whatap::license::pcode_of;
use rdsf_sinks::whatap::mapping::Mapping;
use rdsf_sinks::whatap::tagcount::TagCountPack;
use rdsf_sinks::whatap::value::Value;
use serde_json::{json, Value as Json};

/// A made-up licence (golib needs one; only its hash goes on the wire).
pub const LICENSE: &str = "x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth";

pub fn mapping() -> Mapping {
    Mapping {
        pcode: pcode_of(LICENSE).unwrap(),
        license_hash: hash64_str(LICENSE),
        log_category: None,
        event_category: None,
        event_pack: false,
    }
}

/// The pack as the generator is given it.
pub fn generator_input(pack: &TagCountPack) -> Json {
    let oname = match pack.tags.get("oname") {
        Some(Value::Text(s)) => s.clone(),
        other => panic!("oname {other:?}"),
    };
    let tags: Vec<Json> = pack
        .tags
        .entries()
        .iter()
        .map(|(k, v)| match v {
            Value::Text(s) => json!({ "key": k, "via": "PutTag", "type": "text", "value": s }),
            other => panic!("a tag is text: {other:?}"),
        })
        .collect();
    let fields: Vec<Json> = pack
        .fields
        .entries()
        .iter()
        .map(|(k, v)| match v {
            Value::Decimal(i) => json!({ "key": k, "go_type": "int64", "value": i }),
            Value::Double(d) => json!({
                "key": k, "go_type": "float64", "value": d,
                "double_bits": format!("{:016x}", d.to_bits()),
            }),
            other => panic!("a field is a number: {other:?}"),
        })
        .collect();
    json!({
        "pack": "tagcount",
        "license": LICENSE,
        "pcode": pack.header.pcode,
        "oname": oname,
        "oid": pack.header.oid,
        "okind": pack.header.okind,
        "onode": pack.header.onode,
        "time": pack.header.time,
        "category": pack.category,
        "tags": tags,
        "fields": fields,
    })
}

/// Our whole frame of the pack, in hex.
pub fn frame_hex(mapping: &Mapping, pack: &mut TagCountPack) -> String {
    let mut frame = Vec::new();
    write_frame(&mut frame, mapping.pcode, mapping.license_hash, |b| {
        pack.write_body(b)
    });
    frame.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal JSON, numbers to within an ulp: the decimal `value` beside a
/// double's exact `double_bits` is read back by serde_json to within one.
pub fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Named packs (name, generator input, our frame) against golib's frames in
/// `cases`: same names in the same order, golib given exactly the pack we
/// make now, and our frame equal to golib's byte for byte. With the
/// environment variable `write_var` set to a file, writes the generator's
/// input there instead and fails (a run that only writes cannot pass).
pub fn check_against_golib(cases: &Path, write_var: &str, packs: &[(String, Json, String)]) {
    if let Some(path) = std::env::var_os(write_var) {
        let inputs: Vec<Json> = packs
            .iter()
            .map(|(name, input, _)| json!({ "name": name, "input": input }))
            .collect();
        std::fs::write(&path, serde_json::to_vec_pretty(&inputs).unwrap()).unwrap();
        panic!(
            "wrote {} generator inputs to {path:?}; not a test run",
            inputs.len()
        );
    }
    let cases: Vec<Json> =
        serde_json::from_slice(&std::fs::read(cases).expect("golib cases")).unwrap();
    let names = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>();
    assert_eq!(
        names(&mut cases.iter().map(|c| c["name"].as_str().unwrap().to_owned())),
        names(&mut packs.iter().map(|(n, _, _)| n.clone())),
        "one golib frame per pack, in order"
    );
    for (case, (name, input, ours)) in cases.iter().zip(packs) {
        assert!(
            same(&case["input"], input),
            "{name}: golib was given the pack we make:\n{}\n{input}",
            case["input"]
        );
        let want = case["frame_hex"].as_str().unwrap();
        assert_eq!(ours, want, "{name}: frame differs from golib's");
    }
}

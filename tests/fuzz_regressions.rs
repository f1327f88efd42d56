//! Replays every input under `tests/data/fuzz-regressions/<target>/`
//! through the same code as the fuzz target `<target>` (`tests/fuzz_support`),
//! on stable, in the normal test suite. A fuzz finding is committed there
//! (with its fix) so it can never come back. The fuzz seed corpora
//! (`fuzz/corpus/<target>/`, the repo fixtures) are replayed too, as a
//! sanity check that the targets accept real inputs.

use rdsf_testkit::fuzz as fuzz_support;

use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.')
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn replay(root: &str) -> usize {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let mut total = 0;
    for target in fuzz_support::TARGETS {
        let inputs = files(&base.join(target));
        for f in &inputs {
            let data = std::fs::read(f).unwrap();
            let name = f.display().to_string();
            let r = std::panic::catch_unwind(|| fuzz_support::run(target, &data));
            assert!(r.is_ok(), "{target}: {name} fails again");
        }
        eprintln!("{root}/{target}: {} input(s) replayed", inputs.len());
        total += inputs.len();
    }
    total
}

#[test]
fn committed_fuzz_findings_stay_fixed() {
    let n = replay("tests/data/fuzz-regressions");
    eprintln!("fuzz regressions: {n} input(s) in all");
}

#[test]
fn fuzz_seed_corpora_run_clean() {
    let n = replay("fuzz/seeds");
    assert!(n > 0, "no fuzz seeds found under fuzz/seeds");
}

#[test]
fn whatap_roundtrip_on_a_plain_record() {
    // ts, severity 17, body, id, source id, log type, one attribute of each kind.
    let mut data = 1_718_000_000_123_456_789i64.to_le_bytes().to_vec();
    data.push(17);
    for chunk in [
        "body text",
        "id-1",
        "db-1",
        "error",
        "k",
        "a",
        "n",
        "\u{1}xy",
        "e",
        "\u{5}RDS-EVENT-0004",
    ] {
        data.extend_from_slice(chunk.as_bytes());
        data.push(0xff);
    }
    fuzz_support::whatap_roundtrip(&data);
}

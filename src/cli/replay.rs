//! `rds-forwarder replay`: feeds saved Lambda events through exactly the
//! Lambda pipeline, so users can try a configuration or re-drive events a
//! failure destination kept.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::value::RawValue;

use crate::pipeline::{Pipeline, Stats};
use crate::sink::Sink;

/// Show a progress bar above this many input bytes (on a terminal only).
const PROGRESS_THRESHOLD_BYTES: u64 = 4 * 1024 * 1024;

/// What a replay did; `failed()` decides the exit code.
#[derive(Debug, Default)]
pub struct ReplaySummary {
    pub files: usize,
    pub invocations: usize,
    pub failed_invocations: usize,
    pub stats: Stats,
}

impl ReplaySummary {
    pub fn failed(&self) -> bool {
        self.stats.failed() || self.failed_invocations > 0
    }

    /// The human summary printed on stderr, ending with one JSON line.
    pub fn render(&self) -> String {
        let s = &self.stats;
        let failures = if s.failures.is_empty() {
            "none".to_owned()
        } else {
            s.failures
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "replayed {} file(s), {} invocation(s), {} failed\n\
             log events: {}  rds events: {}  records: {}  delivered: {}\n\
             control messages skipped: {}  malformed events: {}  parse errors: {}\n\
             failures: {}\n\
             summary: {}\n",
            self.files,
            self.invocations,
            self.failed_invocations,
            s.log_events,
            s.rds_events,
            s.records,
            s.delivered,
            s.control_messages_skipped,
            s.malformed_events,
            s.parse_errors,
            failures,
            serde_json::json!({
                "files": self.files,
                "invocations": self.invocations,
                "failed_invocations": self.failed_invocations,
                "stats": s,
            })
        )
    }
}

/// An input that could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct ReadError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Expands files, folders (recursively, `*.json` / `*.ndjson` / `*.jsonl`,
/// sorted) and `-` into the list of inputs.
pub fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReadError> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" || !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut found = Vec::new();
        walk(p, &mut found).map_err(|source| ReadError {
            path: p.display().to_string(),
            source,
        })?;
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "ndjson" | "jsonl")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

fn read_input(path: &Path) -> Result<Vec<u8>, ReadError> {
    let err = |source| ReadError {
        path: path.display().to_string(),
        source,
    };
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(err)?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(err)
    }
}

/// Splits a file into the Lambda events it holds: one JSON document, or
/// several back to back / one per line. Bytes that are not JSON stay one
/// event, so the pipeline reports them exactly as Lambda would.
pub fn split_events(bytes: &[u8]) -> Vec<&[u8]> {
    let mut events = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<&RawValue>();
    let mut consumed = 0;
    loop {
        match stream.next() {
            Some(Ok(raw)) => {
                events.push(raw.get().as_bytes());
                consumed = stream.byte_offset();
            }
            Some(Err(_)) => {
                events.push(&bytes[consumed..]);
                break;
            }
            None => break,
        }
    }
    if events.is_empty() {
        events.push(bytes);
    }
    events
}

/// Replays every input through `pipeline` into `sinks`.
pub async fn replay(
    pipeline: &Pipeline,
    sinks: &[Box<dyn Sink>],
    paths: &[PathBuf],
    timeout: Duration,
) -> Result<ReplaySummary, ReadError> {
    let inputs = collect_inputs(paths)?;
    let total: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = (std::io::stderr().is_terminal() && total > PROGRESS_THRESHOLD_BYTES).then(|| {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });

    let mut summary = ReplaySummary::default();
    for path in &inputs {
        let bytes = read_input(path)?;
        summary.files += 1;
        for event in split_events(&bytes) {
            summary.invocations += 1;
            let outcome = pipeline.run(event, sinks, Instant::now() + timeout).await;
            if outcome.stats.failed() {
                summary.failed_invocations += 1;
                for f in &outcome.failures {
                    tracing::error!(file = %path.display(), reason = f.reason, "{}", f.message);
                }
            }
            summary.stats.add(&outcome.stats);
        }
        if let Some(bar) = &bar {
            bar.inc(bytes.len() as u64);
            bar.set_message(format!("{} records", summary.stats.records));
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_concatenated_and_line_separated_events() {
        assert_eq!(split_events(b"{\"a\":1}{\"b\":2}\n{\"c\":3}\n").len(), 3);
        assert_eq!(split_events(b"{\"a\":1} garbage"), vec![&b"{\"a\":1}"[..], &b" garbage"[..]]);
        assert_eq!(split_events(b""), vec![&b""[..]]);
        assert_eq!(split_events(b"not json"), vec![&b"not json"[..]]);
    }
}

//! `rds-forwarder replay`: feeds saved Lambda events through exactly the
//! Lambda pipeline, so users can try a configuration or re-drive events a
//! failure destination kept.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::pipeline::{Pipeline, Stats};
use rdsf_sinks::Sink;

/// What a replay did; `failed()` decides the exit code.
#[derive(Debug, Default)]
pub struct ReplaySummary {
    pub files: usize,
    pub invocations: usize,
    pub failed_invocations: usize,
    pub stats: Stats,
    /// stdout was closed by its reader (`| head`): the run stopped there.
    pub output_closed: bool,
    /// What to do about inputs that were not Lambda events at all.
    pub hints: Vec<String>,
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
        // Metric points only when there were some (Enhanced Monitoring).
        let points = if s.metric_points > 0 {
            format!(
                "  metric points: {}  delivered: {}",
                s.metric_points, s.metric_points_delivered
            )
        } else {
            String::new()
        };
        format!(
            "replayed {} file(s), {} invocation(s), {} failed\n\
             log events: {}  rds events: {}  records: {}  delivered: {}{}\n\
             control messages skipped: {}  malformed events: {}  parse errors: {}\n\
             failures: {}\n\
             {}summary: {}\n",
            self.files,
            self.invocations,
            self.failed_invocations,
            s.log_events,
            s.rds_events,
            s.records,
            s.delivered,
            points,
            s.control_messages_skipped,
            s.malformed_events,
            s.parse_errors,
            failures,
            self.hints
                .iter()
                .map(|h| format!("hint: {h}\n"))
                .collect::<String>(),
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

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads one input; stdin through the progress spinner, if any, so it
/// moves as bytes arrive (`wrap … | replay -`).
fn read_input(path: &Path, progress: Option<&ProgressBar>) -> Result<Vec<u8>, ReadError> {
    let err = |source| ReadError {
        path: path.display().to_string(),
        source,
    };
    if is_stdin(path) {
        let mut buf = Vec::new();
        let stdin = std::io::stdin().lock();
        match progress {
            Some(bar) => bar.wrap_read(stdin).read_to_end(&mut buf),
            None => { stdin }.read_to_end(&mut buf),
        }
        .map_err(err)?;
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

/// Progress by input bytes: a bar against the total size for files, a
/// spinner with bytes and rate when stdin (of unknown size) is among them.
fn progress_bar(inputs: &[PathBuf]) -> Option<ProgressBar> {
    // Only on a terminal: never into a file, a pipe or a CI log.
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let style = |template: &str| {
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
    };
    let bar = if inputs.iter().any(|p| is_stdin(p)) {
        let bar = ProgressBar::new_spinner();
        bar.set_style(style("{spinner} {bytes} ({bytes_per_sec}) {msg}"));
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    } else {
        let total = inputs
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let bar = ProgressBar::new(total);
        bar.set_style(style(
            "{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
        ));
        bar
    };
    Some(bar)
}

/// Why an input is no Lambda event at all, and what to do: a file that
/// does not start as JSON is most likely a raw log file.
fn raw_log_hint(path: &Path, bytes: &[u8]) -> Option<String> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if matches!(first, b'{' | b'[') {
        return None;
    }
    let file = if is_stdin(path) {
        "FILE".to_owned()
    } else {
        path.display().to_string()
    };
    Some(format!(
        "{}: this looks like a raw log file, not JSON Lambda events; turn it into events first: \
         rds-forwarder wrap --log-group /aws/rds/instance/DB/LOGTYPE --log-stream DB {file} | rds-forwarder replay -",
        path.display()
    ))
}

/// Replays every input through `pipeline` into `sinks`.
pub async fn replay(
    pipeline: &Pipeline,
    sinks: &[Box<dyn Sink>],
    paths: &[PathBuf],
    timeout: Duration,
) -> Result<ReplaySummary, ReadError> {
    let inputs = collect_inputs(paths)?;
    let bar = ClearOnDrop::shown(progress_bar(&inputs));
    let mut summary = ReplaySummary::default();
    let mut done: u64 = 0;
    for path in &inputs {
        let bytes = read_input(path, bar.0.as_ref())?;
        summary.files += 1;
        let mut file_failed = false;
        for event in split_events(&bytes) {
            summary.invocations += 1;
            // The pipeline logs each failure once; the span adds the file.
            let outcome = pipeline
                .run(event, sinks, rdsf_core::time::instant_after(timeout))
                .instrument(tracing::error_span!("replay", file = %path.display()))
                .await;
            summary.stats.add(&outcome.stats);
            if outcome.failures.iter().any(|f| f.is_output_closed()) {
                summary.output_closed = true;
                return Ok(summary);
            }
            if outcome.stats.failed() {
                summary.failed_invocations += 1;
                file_failed = true;
            }
            if let Some(bar) = &bar.0 {
                // stdin's bytes were counted as they arrived.
                if !is_stdin(path) {
                    let end = event.as_ptr() as usize - bytes.as_ptr() as usize + event.len();
                    bar.set_position(done + end as u64);
                }
                bar.set_message(format!("{} records", summary.stats.records));
            }
        }
        if !is_stdin(path) {
            done += bytes.len() as u64;
        }
        if file_failed {
            summary.hints.extend(raw_log_hint(path, &bytes));
        }
    }
    Ok(summary)
}

/// The progress display on screen, if any: log lines written meanwhile
/// hide it for the moment they are printed ([`stderr_writer`]).
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Clears the progress display however the run ends (a closed stdout, an
/// unreadable input), so no half-drawn bar stays on the terminal.
struct ClearOnDrop(Option<ProgressBar>);

impl ClearOnDrop {
    fn shown(bar: Option<ProgressBar>) -> ClearOnDrop {
        *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = bar.clone();
        ClearOnDrop(bar)
    }
}

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            SHOWN.lock().unwrap_or_else(|e| e.into_inner()).take();
            bar.finish_and_clear();
        }
    }
}

/// stderr for log lines: while a progress display is shown, each line is
/// written with the display lifted (cleared, line, redrawn), so lines and
/// bar never share a row. Give it to `tracing_subscriber`'s `with_writer`.
pub fn stderr_writer() -> StderrBesideProgress {
    StderrBesideProgress
}

pub struct StderrBesideProgress;

impl Write for StderrBesideProgress {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match shown {
            Some(bar) => bar.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        // One log line is one write_all: lift the display once for it.
        let shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match shown {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf)),
            None => std::io::stderr().write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_concatenated_and_line_separated_events() {
        assert_eq!(split_events(b"{\"a\":1}{\"b\":2}\n{\"c\":3}\n").len(), 3);
        assert_eq!(
            split_events(b"{\"a\":1} garbage"),
            vec![&b"{\"a\":1}"[..], &b" garbage"[..]]
        );
        assert_eq!(split_events(b""), vec![&b""[..]]);
        assert_eq!(split_events(b"not json"), vec![&b"not json"[..]]);
    }

    #[test]
    fn raw_log_files_get_a_wrap_hint_and_json_files_do_not() {
        let hint = raw_log_hint(Path::new("pg.log"), b"2024-01-01 00:00:00 UTC::LOG: x").unwrap();
        assert!(hint.contains("rds-forwarder wrap --log-group"), "{hint}");
        assert!(hint.contains(" pg.log | rds-forwarder replay -"), "{hint}");
        assert_eq!(raw_log_hint(Path::new("a.json"), b" {\"foo\":1}"), None);
        assert_eq!(raw_log_hint(Path::new("a.json"), b"[1]"), None);
    }
}

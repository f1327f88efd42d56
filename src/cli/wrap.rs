//! `rds-forwarder wrap`: turns a raw RDS log file into CloudWatch Logs
//! subscription events, split the way RDS publishes them (one event per log
//! entry, continuation lines kept with their entry, one slow-query entry per
//! event), so users can replay their own logs.

use std::io::Write;

use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;

use rdsf_core::parse::entry_start::{
    digits, is_aurora_audit_start, is_hms, is_iso_date, starts_with_loose_hms,
};
use rdsf_core::parse::format;
use rdsf_core::source::SourceInfo;
use rdsf_core::time;

/// How to cut a raw file into entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitKind {
    /// PostgreSQL: a new entry at each line starting with the prefix time.
    Postgresql,
    /// MySQL/MariaDB error log: a new entry at each line starting with a time.
    Error,
    /// MySQL/MariaDB slow query log: one entry per `# Time:` / `# User@Host:` block.
    Slowquery,
    /// MySQL/MariaDB general log: a new entry at each command line.
    General,
    /// MariaDB audit plugin (`YYYYMMDD HH:MM:SS,…`) or Aurora MySQL advanced
    /// auditing (`<epoch µs>,…`): a new entry at each record's first line.
    Audit,
    /// One entry per line.
    Line,
}

impl SplitKind {
    /// The splitting RDS uses for a log group's log type: its default
    /// format's (`parse::format`).
    pub fn for_log_group(group: &str) -> SplitKind {
        SourceInfo::from_log_group(group)
            .log_type
            .as_deref()
            .and_then(format::default_for)
            .and_then(|f| f.split)
            .and_then(|split| <SplitKind as clap::ValueEnum>::from_str(split.kind, false).ok())
            .unwrap_or(SplitKind::Line)
    }

    /// The entry rules this kind names; `None` for one entry per line.
    fn rules(self) -> Option<format::Split> {
        let name = clap::ValueEnum::to_possible_value(&self)?;
        format::split_by_kind(name.get_name())
    }
}

/// Cuts `text` into log entries.
pub fn split_entries(kind: SplitKind, text: &str) -> Vec<&str> {
    let rules = kind.rules();
    let mut entries = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut prev_line = "";
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        let bare = line.trim_end_matches(['\n', '\r']);
        if rules
            .and_then(|r| r.server_header)
            .is_some_and(|is_header| is_header(bare))
        {
            // Restart headers are not entries; close the current one.
            if let Some(s) = start.take() {
                entries.push(strip_one_newline(&text[s..end]));
            }
            prev_line = "";
            continue;
        }
        let new = rules.is_none_or(|r| (r.starts)(bare, prev_line));
        if new || start.is_none() {
            if let Some(s) = start {
                entries.push(strip_one_newline(&text[s..end]));
            }
            start = Some(at);
        }
        end = offset;
        prev_line = bare;
    }
    if let Some(s) = start {
        entries.push(strip_one_newline(&text[s..end]));
    }
    if rules.is_none() {
        entries.retain(|e| !e.is_empty());
    }
    entries
}

/// An entry ends at its last line's terminator; empty lines inside it (an
/// InnoDB dump ends with one) are part of the entry, as RDS publishes them.
fn strip_one_newline(entry: &str) -> &str {
    entry.strip_suffix('\n').unwrap_or(entry)
}

/// The entry's own time (Unix ms), read the way RDS stamps events; `None`
/// when the entry carries none (the previous entry's time is used).
pub fn entry_time_ms(entry: &str) -> Option<i64> {
    let b = entry.as_bytes();
    let num = |s: &[u8]| -> u32 { s.iter().fold(0u32, |a, c| a * 10 + (c - b'0') as u32) };
    if b.len() >= 19 && is_iso_date(b) && (b[10] == b' ' || b[10] == b'T') && is_hms(&b[11..19]) {
        let frac_ms = fraction_ms(&b[19..]);
        return time::utc_ns(
            num(&b[0..4]) as i32,
            num(&b[5..7]),
            num(&b[8..10]),
            num(&b[11..13]),
            num(&b[14..16]),
            num(&b[17..19]),
            0,
        )
        .map(|ns| ns / 1_000_000 + frac_ms);
    }
    if b.len() >= 17 && digits(&b[0..8]) && b[8] == b' ' && is_hms(&b[9..17]) {
        return time::utc_ns(
            num(&b[0..4]) as i32,
            num(&b[4..6]),
            num(&b[6..8]),
            num(&b[9..11]),
            num(&b[12..14]),
            num(&b[15..17]),
            0,
        )
        .map(|ns| ns / 1_000_000);
    }
    if is_aurora_audit_start(entry.lines().next().unwrap_or("")) {
        let stamp = &entry[..entry.find(',').unwrap_or(0)];
        return stamp.parse::<i64>().ok().map(|us| us / 1000);
    }
    if let Some(rest) = entry.strip_prefix("# Time: ") {
        let rb = rest.as_bytes();
        if rb.len() >= 19 && is_iso_date(rb) {
            return entry_time_ms(rest);
        }
        if rb.len() >= 7 && digits(&rb[0..6]) {
            let t = rest[6..].trim_start();
            let h = t.bytes().take_while(u8::is_ascii_digit).count();
            if starts_with_loose_hms(t) {
                let tb = t.as_bytes();
                return time::utc_ns(
                    2000 + num(&rb[0..2]) as i32,
                    num(&rb[2..4]),
                    num(&rb[4..6]),
                    num(&tb[..h]),
                    num(&tb[h + 1..h + 3]),
                    num(&tb[h + 4..h + 6]),
                    0,
                )
                .map(|ns| ns / 1_000_000);
            }
        }
    }
    if let Some(pos) = entry.find("SET timestamp=") {
        let digits_str: String = entry[pos + 14..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return digits_str.parse::<i64>().ok().map(|s| s * 1000);
    }
    None
}

fn fraction_ms(b: &[u8]) -> i64 {
    if b.first() != Some(&b'.') {
        return 0;
    }
    let frac: Vec<u8> = b[1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .take(3)
        .copied()
        .collect();
    let mut ms = 0i64;
    for i in 0..3 {
        ms = ms * 10 + frac.get(i).map_or(0, |c| (c - b'0') as i64);
    }
    ms
}

#[derive(Serialize)]
struct WireEvent<'a> {
    id: String,
    timestamp: i64,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireDocument<'a> {
    message_type: &'static str,
    owner: &'a str,
    log_group: &'a str,
    log_stream: &'a str,
    subscription_filters: [&'static str; 1],
    log_events: Vec<WireEvent<'a>>,
}

/// Settings for [`wrap`].
#[derive(Debug, Clone)]
pub struct WrapOptions {
    pub log_group: String,
    pub log_stream: String,
    pub owner: String,
    pub kind: SplitKind,
    /// Events per payload, at most (CloudWatch sends at most 10,000, and at
    /// most 1,048,576 bytes of messages plus 26 bytes an event; payloads are
    /// cut smaller to stay within both).
    pub batch: usize,
}

/// CloudWatch Logs' per-event overhead in PutLogEvents size accounting.
pub const EVENT_OVERHEAD_BYTES: usize = 26;
/// The largest event CloudWatch Logs accepts, overhead included.
pub const MAX_EVENT_BYTES: usize = 262_144;
/// The most message bytes one event can hold.
pub const MAX_MESSAGE_BYTES: usize = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES;
/// The largest PutLogEvents batch: message bytes plus 26 per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// The most events in one PutLogEvents batch.
pub const MAX_BATCH_EVENTS: usize = 10_000;

/// What [`wrap_report`] made.
#[derive(Debug, Default)]
pub struct Wrapped {
    /// One Lambda event per line of output.
    pub payloads: Vec<String>,
    /// Entries longer than [`MAX_MESSAGE_BYTES`], each cut into several events.
    pub oversized_entries: usize,
    /// The events those entries became.
    pub oversized_events: usize,
}

impl Wrapped {
    /// The warning for oversized entries, if there were any.
    pub fn warning(&self) -> Option<String> {
        (self.oversized_entries > 0).then(|| {
            format!(
                "{} {} over CloudWatch Logs' event limit ({MAX_MESSAGE_BYTES} message bytes) and \
                 cut into {} events; is --kind right for this file?",
                self.oversized_entries,
                if self.oversized_entries == 1 {
                    "entry was"
                } else {
                    "entries were"
                },
                self.oversized_events
            )
        })
    }
}

/// The warning for a log group whose name does not say how to split
/// (`/aws/rds/{instance|cluster}/<id>/<type>` or a proxy) when no `--kind`
/// was given: `wrap` then falls back to one event per line.
pub fn kind_warning(log_group: &str, kind: Option<SplitKind>) -> Option<String> {
    if kind.is_some() || SourceInfo::from_log_group(log_group).log_type.is_some() {
        return None;
    }
    Some(format!(
        "log group {log_group:?} is not /aws/rds/{{instance|cluster}}/<id>/<type>, so one event \
         per line is made; pass --kind postgresql|error|slowquery|general|audit to split entries \
         as RDS does"
    ))
}

/// `entry` cut into pieces of at most [`MAX_MESSAGE_BYTES`], on UTF-8
/// character boundaries.
fn event_pieces(entry: &str) -> Vec<&str> {
    let mut pieces = Vec::with_capacity(entry.len() / MAX_MESSAGE_BYTES + 1);
    let mut rest = entry;
    while rest.len() > MAX_MESSAGE_BYTES {
        let mut cut = MAX_MESSAGE_BYTES;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    pieces.push(rest);
    pieces
}

/// Builds Lambda events (`{"awslogs":{"data":…}}`) from a raw log. Event
/// ids are 56-digit strings like CloudWatch's, unique per log group.
pub fn wrap(text: &str, opts: &WrapOptions) -> Vec<String> {
    wrap_report(text, opts).payloads
}

/// [`wrap`], also counting the entries cut to fit CloudWatch's event limit.
/// No payload holds more than `opts.batch` events, nor more than a
/// PutLogEvents batch can ([`MAX_BATCH_EVENTS`], [`MAX_BATCH_BYTES`]).
pub fn wrap_report(text: &str, opts: &WrapOptions) -> Wrapped {
    let entries = split_entries(opts.kind, text);
    let base = id_base(&opts.log_group);
    let mut prev_ms = time::now_ns() / 1_000_000;
    let mut out = Wrapped::default();
    let mut events: Vec<WireEvent> = Vec::with_capacity(entries.len());
    for e in &entries {
        prev_ms = entry_time_ms(e).unwrap_or(prev_ms);
        let pieces = event_pieces(e);
        if pieces.len() > 1 {
            out.oversized_entries += 1;
            out.oversized_events += pieces.len();
        }
        for piece in pieces {
            events.push(WireEvent {
                id: format!("{base}{:020}", events.len() + 1),
                timestamp: prev_ms,
                message: piece,
            });
        }
    }
    let max_events = opts.batch.clamp(1, MAX_BATCH_EVENTS);
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let mut chunk: Vec<WireEvent> = Vec::new();
        let mut bytes = 0;
        while let Some(ev) = events.peek() {
            let size = ev.message.len() + EVENT_OVERHEAD_BYTES;
            if chunk.len() == max_events || (!chunk.is_empty() && bytes + size > MAX_BATCH_BYTES) {
                break;
            }
            bytes += size;
            chunk.extend(events.next());
        }
        let doc = WireDocument {
            message_type: "DATA_MESSAGE",
            owner: &opts.owner,
            log_group: &opts.log_group,
            log_stream: &opts.log_stream,
            subscription_filters: ["rds-forwarder"],
            log_events: chunk,
        };
        let json = serde_json::to_vec(&doc).expect("wire document serializes");
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&json).expect("writing to a Vec cannot fail");
        let compressed = gz.finish().expect("writing to a Vec cannot fail");
        let data = base64::engine::general_purpose::STANDARD.encode(compressed);
        out.payloads
            .push(serde_json::json!({ "awslogs": { "data": data } }).to_string());
    }
    out
}

/// The first 36 digits of a 56-digit id: a fixed lead digit and a hash of
/// the log group, so ids from different groups never collide.
fn id_base(group: &str) -> String {
    // FNV-1a: tiny, stable across versions and platforms.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in group.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("3{:035}", h as u128 * 1_000_000_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_continuation_lines_stay_with_their_entry() {
        let log = "2019-08-08 00:49:34 UTC:10.40.77.242(56266):xyz@xyz_db:[20474]:LOG:  duration: 5.076 ms  statement: SELECT col1, col2\n\tFROM sample1 JOIN sample2 ON sample1.id = sample2.id\n2019-08-08 00:49:35 UTC::@:[355]:LOG: checkpoint starting: time\n";
        let e = split_entries(SplitKind::Postgresql, log);
        assert_eq!(e.len(), 2);
        assert!(e[0].ends_with("sample2.id"));
        assert_eq!(entry_time_ms(e[1]), Some(1565225375000));
    }

    #[test]
    fn slow_query_entries_and_headers() {
        let log = "/usr/sbin/mariadbd, Version: 10.11 started with:\nTcp port: 3306  Unix socket: /run/mysqld.sock\nTime                 Id Command    Argument\n# Time: 210122 18:04:41\n# User@Host: admin[admin] @  [172.31.74.90]  Id:   274\n# Query_time: 0.000193  Lock_time: 0.000093 Rows_sent: 1  Rows_examined: 1\nuse db;\nSET timestamp=1611338681;\nselect * from colors where id = 1;\n# User@Host: admin[admin] @  [172.31.74.90]  Id:   274\n# Query_time: 0.1  Lock_time: 0 Rows_sent: 1  Rows_examined: 1\nSET timestamp=1611338682;\nselect 2;\n";
        let e = split_entries(SplitKind::Slowquery, log);
        assert_eq!(e.len(), 2, "{e:#?}");
        assert_eq!(entry_time_ms(e[0]), Some(1611338681000));
        assert_eq!(entry_time_ms(e[1]), Some(1611338682000));
    }

    #[test]
    fn error_general_and_audit_starts() {
        use rdsf_core::parse::entry_start::{is_audit_start, is_error_start, is_general_start};
        assert!(is_error_start("2026-11-25  7:59:31 0 [Note] x"));
        assert!(is_error_start(
            "2020-08-06T14:25:02.936146Z 0 [Warning] [MY-010068] [Server] x"
        ));
        assert!(is_error_start(
            "261125  7:52:29 server_audit: logging started"
        ));
        assert!(!is_error_start("InnoDB: continuation"));
        assert!(is_general_start(
            "261125  7:52:29\t    5 Connect\tweb_app@localhost on storefront"
        ));
        assert!(is_general_start("\t\t    5 Query\tSELECT 1"));
        assert!(is_general_start(
            "2021-08-10T09:57:26.077268Z    2 Query\tSELECT 1"
        ));
        assert!(!is_general_start("  AND x = 1"));
        assert!(is_audit_start(
            "20221201 14:07:05,ip-10-22-1-51,rdsadmin,localhost,821,0,CONNECT,,,0,SOCKET"
        ));
        assert!(is_audit_start(
            "1603442208508100,database-1-instance-1,admin,1.34.6.81,50,0,CONNECT,,,0"
        ));
        assert!(!is_audit_start("1603442208,b"));
        assert!(!is_audit_start(
            "1603442208508100,x,y,z,5O,0,QUERY,db,'a',0"
        ));
        assert_eq!(
            entry_time_ms("1603442208508100,h,admin,1.34.6.81,50,0,CONNECT,,,0"),
            Some(1603442208508)
        );
        assert_eq!(entry_time_ms("2026-11-25  7:59:31 0 [Note]"), None);
        assert_eq!(
            entry_time_ms("2020-08-06T14:25:02.936146Z 0"),
            Some(1596723902936)
        );
    }

    #[test]
    fn oversized_entries_are_cut_on_character_boundaries() {
        // 1 + 4k bytes: the limit falls inside a 4-byte character.
        let e = format!("a{}", "\u{1F600}".repeat(70_000));
        let pieces = event_pieces(&e);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].len(), MAX_MESSAGE_BYTES - 1);
        assert_eq!(pieces.concat(), e);
        assert_eq!(event_pieces("short"), ["short"]);
        assert_eq!(event_pieces(""), [""]);
        let exact = "x".repeat(MAX_MESSAGE_BYTES);
        assert_eq!(event_pieces(&exact).len(), 1);
    }

    #[test]
    fn ids_are_56_digits_and_differ_by_group() {
        let a = id_base("/aws/rds/instance/a/error");
        let b = id_base("/aws/rds/instance/b/error");
        assert_eq!(a.len(), 36);
        assert_ne!(a, b);
        let opts = WrapOptions {
            log_group: "/aws/rds/instance/a/error".into(),
            log_stream: "a".into(),
            owner: "123456789012".into(),
            kind: SplitKind::Line,
            batch: 2,
        };
        let payloads = wrap("x\ny\nz\n", &opts);
        assert_eq!(payloads.len(), 2);
    }
}

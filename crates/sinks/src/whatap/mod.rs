//! The WhaTap sink: records as LogSinkPacks (and RDS events also as
//! EventPacks) over WhaTap's one-way TCP protocol (port 6600), byte-exact
//! with WhaTap's Go library github.com/whatap/golib (Apache-2.0).
//!
//! The encoder (`value`, `pack`, `tagcount`, `frame`, `mapping`, `metrics`,
//! `hash`, `hexa32`, `license`) is pure; only `conn` does I/O.

pub mod conn;
pub mod decode;
pub mod frame;
pub mod hash;
pub mod hexa32;
pub mod license;
pub mod mapping;
pub mod metrics;
pub mod pack;
mod settings;
pub mod tagcount;
pub mod value;

pub use settings::WhatapSettings;

use std::time::{Duration, Instant};

use super::{BoxFuture, Sink, SinkError};
use rdsf_core::config_error::ConfigError;
use rdsf_core::record::ResourceRecords;
use rdsf_core::secret::Secret;
use conn::{Endpoints, Transport};
use mapping::Mapping;

pub const DEFAULT_PORT: u16 = 6600;

/// Validated WhaTap settings.
#[derive(Debug, Clone)]
pub struct WhatapConfig {
    pub endpoints: Endpoints,
    /// Only its Hash64 is ever sent; `Secret` keeps it out of every print.
    pub license: Secret,
    pub pcode: i64,
    pub event_pack: bool,
    pub log_category: Option<String>,
    pub event_category: Option<String>,
}

impl WhatapConfig {
    /// `None` when neither `WHATAP_HOST` nor `WHATAP_LICENSE` is set. One
    /// without the other, a bad host list, a licence that carries no
    /// project code or a pcode that contradicts it is an error (that never
    /// shows the licence); the first one found.
    pub fn from_settings(s: &WhatapSettings) -> Result<Option<WhatapConfig>, ConfigError> {
        Self::from_settings_all(s).map_err(|mut errors| errors.swap_remove(0))
    }

    /// As [`from_settings`](Self::from_settings), with every problem.
    pub fn from_settings_all(s: &WhatapSettings) -> Result<Option<WhatapConfig>, Vec<ConfigError>> {
        let license = s
            .whatap_license
            .as_ref()
            .filter(|l| !l.expose().trim().is_empty())
            .map(|l| Secret::new(l.expose().trim()));
        let endpoints = Self::endpoints_from_settings(s);
        let mut errors = Vec::new();
        let endpoints = match (endpoints, &license) {
            (Ok(None), None) => return Ok(None),
            (Ok(Some(_)), None) => {
                errors.push(invalid(
                    "WHATAP_LICENSE",
                    "is empty, but WHATAP_HOST is set: both are needed".into(),
                ));
                None
            }
            (Ok(None), Some(_)) => {
                errors.push(invalid(
                    "WHATAP_HOST",
                    "is empty, but WHATAP_LICENSE is set: both are needed".into(),
                ));
                None
            }
            (Ok(Some(e)), Some(_)) => Some(e),
            (Err(e), _) => {
                errors.extend(e);
                None
            }
        };
        let given = s
            .whatap_pcode
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .and_then(|p| match p.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(invalid(
                        "WHATAP_PCODE",
                        format!("`{p}` is not an integer project code"),
                    ));
                    None
                }
            });
        // A licence that carries no project code is not one WhaTap issued:
        // the one-way protocol would take every frame and drop it silently.
        let pcode = match license.as_ref().map(|l| license::pcode_of(l.expose())) {
            None => None,
            Some(None) => {
                errors.push(invalid(
                    "WHATAP_LICENSE",
                    "is not a WhaTap licence (project access key): expected `-`-separated tokens \
                     that carry a project code, as the WhaTap console shows it"
                        .into(),
                ));
                None
            }
            Some(Some(from_license)) => match given {
                Some(p) if p != from_license => {
                    errors.push(invalid(
                        "WHATAP_PCODE",
                        format!("{p} does not match the project code {from_license} that WHATAP_LICENSE carries; fix or unset WHATAP_PCODE"),
                    ));
                    None
                }
                _ => Some(from_license),
            },
        };
        let non_empty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
        };
        match (endpoints, license, pcode) {
            (Some(endpoints), Some(license), Some(pcode)) if errors.is_empty() => {
                Ok(Some(WhatapConfig {
                    endpoints,
                    license,
                    pcode,
                    event_pack: s.whatap_event_pack,
                    log_category: non_empty(&s.whatap_category),
                    event_category: non_empty(&s.whatap_event_category),
                }))
            }
            _ => Err(errors),
        }
    }

    /// The collectors and timeouts alone (`None` when `WHATAP_HOST` is
    /// unset): what `check` connects to even when the licence is missing.
    pub fn endpoints_from_settings(
        s: &WhatapSettings,
    ) -> Result<Option<Endpoints>, Vec<ConfigError>> {
        let Some(host) = s
            .whatap_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        else {
            return Ok(None);
        };
        let mut errors = Vec::new();
        if s.whatap_port == 0 {
            errors.push(invalid("WHATAP_PORT", "must not be 0".into()));
        }
        // golib's GetWhatapHosts splits on `/` and `,`; an empty entry (a
        // doubled or trailing separator) is a typo, not a host to skip.
        let hosts = host
            .split(['/', ','])
            .map(|entry| split_host_port(entry.trim(), s.whatap_port))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|detail| errors.push(invalid("WHATAP_HOST", detail)))
            .ok();
        let mut timeout = |setting, ms: u64| {
            if ms == 0 {
                errors.push(invalid(setting, "must be at least 1 ms".into()));
            }
            Duration::from_millis(ms)
        };
        let connect_timeout = timeout("WHATAP_CONNECT_TIMEOUT_MS", s.whatap_connect_timeout_ms);
        let write_timeout = timeout("WHATAP_WRITE_TIMEOUT_MS", s.whatap_write_timeout_ms);
        match hosts {
            Some(hosts) if errors.is_empty() => Ok(Some(Endpoints {
                hosts,
                connect_timeout,
                write_timeout,
            })),
            _ => Err(errors),
        }
    }
}

fn invalid(setting: &'static str, detail: String) -> ConfigError {
    ConfigError::Invalid { setting, detail }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address; entries
/// without a port use WHATAP_PORT. An empty entry or host, or a port that is
/// not 1–65535, is an error (the detail names the entry, never a secret).
fn split_host_port(entry: &str, default_port: u16) -> Result<(String, u16), String> {
    let port = |p: &str| match p.parse::<u16>() {
        Ok(n) if n != 0 => Ok(n),
        _ => Err(format!(
            "`{entry}` has port `{p}`: a port is a number from 1 to 65535"
        )),
    };
    if entry.is_empty() {
        return Err("has an empty entry (hosts are separated by `/` or `,`)".to_owned());
    }
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let Some((host, tail)) = rest.split_once(']') else {
            return Err(format!("`{entry}` has no closing `]`"));
        };
        match tail {
            "" => (host, default_port),
            _ => match tail.strip_prefix(':') {
                Some(p) => (host, port(p)?),
                None => return Err(format!("`{entry}`: expected `[address]:port`")),
            },
        }
    } else {
        match entry.rsplit_once(':') {
            // Two or more colons: a bare IPv6 address.
            Some((host, _)) if host.contains(':') => (entry, default_port),
            Some((host, p)) => (host, port(p)?),
            None => (entry, default_port),
        }
    };
    if host.trim().is_empty() {
        return Err(format!("`{entry}` names no host"));
    }
    Ok((host.to_owned(), port))
}

/// Encodes a batch into frames and writes them on the kept connection.
pub struct WhatapSink {
    mapping: Mapping,
    transport: Transport,
}

impl WhatapSink {
    pub fn new(config: &WhatapConfig) -> Self {
        WhatapSink {
            mapping: Mapping {
                pcode: config.pcode,
                license_hash: hash::hash64_str(config.license.expose()),
                log_category: config.log_category.clone(),
                event_category: config.event_category.clone(),
                event_pack: config.event_pack,
            },
            transport: Transport::new(config.endpoints.clone()),
        }
    }

    /// All frames of a batch, concatenated (what one `send` writes).
    pub fn encode(&self, batch: &[ResourceRecords<'_>]) -> Vec<u8> {
        // Sized by `encode_batch` from the first record's frames.
        let mut buf = Vec::new();
        self.mapping.encode_batch(batch, &mut buf);
        buf
    }

    /// All TagCountPack frames of a batch of metric points, concatenated
    /// (see [`metrics`] for the mapping).
    pub fn encode_metrics(&self, points: &[rdsf_core::metric::MetricPoint]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(points.len() * 256);
        self.mapping.encode_metrics(points, &mut buf);
        buf
    }
}

impl Sink for WhatapSink {
    fn name(&self) -> &'static str {
        "whatap"
    }

    fn send<'a>(
        &'a self,
        batch: &'a [ResourceRecords<'a>],
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if batch.iter().all(|g| g.records.is_empty()) {
                return Ok(());
            }
            let frames = self.encode(batch);
            self.transport.send(&frames, deadline).await
        })
    }

    /// Metric points go as TagCountPacks over the same confirmed connection.
    fn accepts_metrics(&self) -> bool {
        true
    }

    fn send_metrics<'a>(
        &'a self,
        points: &'a [rdsf_core::metric::MetricPoint],
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let frames = self.encode_metrics(points);
            if frames.is_empty() {
                // Every value was NaN or infinite: nothing WhaTap can carry.
                return Ok(());
            }
            self.transport.send(&frames, deadline).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::select_for_tests::{select as config, settings};

    const LICENSE_78: &str = "x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth";
    const LICENSE_79: &str = "x2jogsfu22s10-x52c23sgmuab82-z38tcf60s1i202";


    #[test]
    fn selection_and_pcode_from_the_licence() {
        let c = config(&[]).unwrap();
        assert_eq!(c.sink_names(), ["stdout"]);
        assert!(c.sink::<WhatapConfig>().is_none());

        let c = config(&[
            "--whatap-host",
            "10.0.0.1/ 10.0.0.2:7000",
            "--whatap-license",
            LICENSE_78,
        ])
        .unwrap();
        assert_eq!(c.sink_names(), ["whatap"]);
        let w = c.sink::<WhatapConfig>().unwrap();
        assert_eq!(w.pcode, 78);
        assert_eq!(
            w.endpoints.hosts,
            [("10.0.0.1".to_owned(), 6600), ("10.0.0.2".to_owned(), 7000)]
        );
        assert!(!w.event_pack);
        assert!(
            !format!("{c:?} {:?}", settings(&["--whatap-license", LICENSE_78]))
                .contains("z6l4o2nb3cckq0")
        );

        let c = config(&[
            "--sinks=stdout,whatap",
            "--whatap-host=h",
            "--whatap-license",
            LICENSE_79,
            "--whatap-pcode=79",
            "--whatap-event-pack",
        ])
        .unwrap();
        assert_eq!(c.sink_names(), ["stdout", "whatap"]);
        assert_eq!(
            c.sink::<WhatapConfig>().map(|w| (w.pcode, w.event_pack)),
            Some((79, true))
        );
        let c = config(&[
            "--whatap-host=h",
            "--whatap-license",
            LICENSE_79,
            "--whatap-event-pack=false",
        ]);
        assert!(!c.unwrap().sink::<WhatapConfig>().unwrap().event_pack);
        // A matching pcode is fine.
        assert!(config(&[
            "--whatap-host=h",
            "--whatap-license",
            LICENSE_78,
            "--whatap-pcode=78"
        ])
        .is_ok());
    }

    #[test]
    fn errors_say_what_and_never_show_the_licence() {
        let cases: [&[&str]; 6] = [
            &[
                "--whatap-host=h",
                "--whatap-license",
                LICENSE_78,
                "--whatap-pcode=79",
            ],
            &["--whatap-host=h", "--whatap-license=abcdefg"],
            &[
                "--whatap-host=h",
                "--whatap-license=abcdefg",
                "--whatap-pcode=x1",
            ],
            &["--whatap-host=h"],
            &["--whatap-license", LICENSE_78],
            &["--sinks=whatap"],
        ];
        let expect = [
            "does not match the project code 78",
            "WHATAP_LICENSE: is not a WhaTap licence",
            "not an integer",
            "WHATAP_LICENSE",
            "WHATAP_HOST",
            "whatap needs",
        ];
        for (args, want) in cases.iter().zip(expect) {
            let msg = config(args).unwrap_err().to_string();
            assert!(msg.contains(want), "{args:?}: {msg}");
            assert!(
                !msg.contains("z6l4o2nb3cckq0") && !msg.contains("abcdefg"),
                "{msg}"
            );
        }
    }

    #[test]
    fn encode_metrics_frames_carry_the_licence_hash_and_pcode() {
        use rdsf_core::metric::{Kind, MetricPoint, Number};
        let c = config(&["--whatap-host=h", "--whatap-license", LICENSE_78]).unwrap();
        let sink = WhatapSink::new(c.sink::<WhatapConfig>().unwrap());
        let point = |name: &str, id: &str| {
            let mut res = rdsf_core::record::Attributes::new();
            res.insert(rdsf_core::record::keys::RDS_SOURCE_IDENTIFIER, id.to_owned());
            MetricPoint {
                name: name.to_owned(),
                unit: "%",
                description: "",
                kind: Kind::Gauge(Number::Double(12.5)),
                time_ns: 1_718_000_000_000_000_000,
                start_time_ns: None,
                attributes: rdsf_core::record::Attributes::new(),
                resource: std::sync::Arc::new(res),
            }
        };
        let points = [point("a", "db-1"), point("b", "db-1"), point("a", "db-2")];
        let bytes = sink.encode_metrics(&points);
        let mut want = Vec::new();
        assert_eq!(sink.mapping.encode_metrics(&points, &mut want), 2);
        assert_eq!(bytes, want);
        assert_eq!(&bytes[2..10], 78i64.to_be_bytes());
        assert_eq!(&bytes[10..18], hash::hash64_str(LICENSE_78).to_be_bytes());
        let frames = decode::decode_frames(&bytes).unwrap();
        assert_eq!(frames.len(), 2);
        assert!(frames.iter().all(|f| f.pack == "TagCountPack"));
        assert!(sink.encode_metrics(&[]).is_empty());
    }

    #[test]
    fn host_entries() {
        let ok = |e| split_host_port(e, 6600).unwrap();
        assert_eq!(ok("10.0.0.1"), ("10.0.0.1".into(), 6600));
        assert_eq!(ok("10.0.0.1:7000"), ("10.0.0.1".into(), 7000));
        assert_eq!(ok("::1"), ("::1".into(), 6600));
        assert_eq!(ok("[::1]:7000"), ("::1".into(), 7000));
        assert_eq!(ok("[::1]"), ("::1".into(), 6600));
    }

    #[test]
    fn whatap_host_splits_on_slash_and_comma_like_golib() {
        let hosts = |h: &str| {
            config(&["--whatap-host", h, "--whatap-license", LICENSE_78])
                .unwrap()
                .sink::<WhatapConfig>()
                .unwrap()
                .endpoints
                .hosts
                .clone()
        };
        let two = [
            ("COLLECTOR-HOST-1".to_owned(), 6600),
            ("COLLECTOR-HOST-2".to_owned(), 6600),
        ];
        assert_eq!(hosts("COLLECTOR-HOST-1,COLLECTOR-HOST-2"), two);
        assert_eq!(hosts("COLLECTOR-HOST-1/COLLECTOR-HOST-2"), two);
        assert_eq!(
            hosts("a:7000, b/c"),
            [
                ("a".to_owned(), 7000),
                ("b".to_owned(), 6600),
                ("c".to_owned(), 6600)
            ]
        );
    }

    #[test]
    fn bad_ports_and_empty_entries_in_whatap_host_stop_start_up() {
        for (host, want) in [
            ("127.0.0.1:abc", "port `abc`"),
            ("127.0.0.1:0", "port `0`"),
            ("127.0.0.1:65536", "port `65536`"),
            ("[::1]:x", "port `x`"),
            ("[::1]7000", "expected `[address]:port`"),
            ("a//b", "empty entry"),
            ("a,", "empty entry"),
            (":7000", "names no host"),
        ] {
            let msg = config(&["--whatap-host", host, "--whatap-license", LICENSE_78])
                .unwrap_err()
                .to_string();
            assert!(
                msg.starts_with("WHATAP_HOST: ") && msg.contains(want),
                "{host}: {msg}"
            );
        }
    }

    #[test]
    fn a_licence_of_the_wrong_shape_is_rejected_even_with_a_pcode() {
        for license in ["test-license-key", "abcdefg", "x2jgg66m4jlck"] {
            let msg = config(&[
                "--whatap-host=h",
                "--whatap-license",
                license,
                "--whatap-pcode=78",
            ])
            .unwrap_err()
            .to_string();
            assert!(msg.starts_with("WHATAP_LICENSE: "), "{msg}");
            assert!(!msg.contains(license), "{msg}");
        }
    }
}

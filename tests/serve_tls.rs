//! `rds-forwarder serve` over HTTPS (RDSF_SERVE_TLS_CERT / _KEY): the real
//! binary on 127.0.0.1 with a certificate made here (rcgen); a real rustls
//! client trusting it delivers a Firehose request and gets 200, a client
//! trusting another certificate and a plain-HTTP client get nothing, and
//! bad settings stop start-up with a message naming the setting and never
//! the key's content.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};

use crate::firehose::{body, KEY};
use crate::serve::{exit_of, firehose_headers, sigterm, start, status_and_body, BIN};

/// A directory of its own under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("rdsf-tls-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn write(&self, file: &str, text: &str) -> String {
        let path = self.0.join(file);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A self-signed certificate for localhost and 127.0.0.1: (DER, cert PEM, key PEM).
fn certificate() -> (CertificateDer<'static>, String, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    (
        made.cert.der().clone(),
        made.cert.pem(),
        made.signing_key.serialize_pem(),
    )
}

/// The base64 lines of a PEM text (what must never be printed).
fn pem_body_lines(pem: &str) -> Vec<&str> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect()
}

/// One HTTP/1.1 exchange over TLS, trusting only `trusted`: status and body,
/// or the handshake/IO error.
fn https(
    addr: &str,
    trusted: &CertificateDer<'static>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tls.write_all(req.as_bytes())?;
    tls.write_all(body)?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // The server closed without close_notify after a full answer: keep what came.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    Ok(status_and_body(&raw))
}

#[test]
fn serve_over_tls_delivers_to_a_client_trusting_the_certificate() {
    let scratch = Scratch::new("serve");
    let (der, cert_pem, key_pem) = certificate();
    let cert = scratch.write("cert.pem", &cert_pem);
    let key = scratch.write("key.pem", &key_pem);
    let (mut child, addr, log) = start(&[
        ("RDSF_SERVE_TLS_CERT", cert.as_str()),
        ("RDSF_SERVE_TLS_KEY", key.as_str()),
    ]);

    assert_eq!(
        https(&addr, &der, "GET", "/healthz", &[], b"").unwrap(),
        (200, "ok\n".to_owned())
    );
    let delivery = body("tls-1");
    let (status, answer) = https(
        &addr,
        &der,
        "POST",
        "/",
        &firehose_headers("tls-1", KEY),
        delivery.as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["requestId"], "tls-1");

    // A client trusting another certificate refuses the server's.
    let (other, _, _) = certificate();
    let refused = https(&addr, &other, "GET", "/healthz", &[], b"");
    assert!(refused.is_err(), "{refused:?}");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(&addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = plain.read_to_end(&mut raw);
    assert!(
        !String::from_utf8_lossy(&raw).contains("HTTP/1.1 200"),
        "plain HTTP answered: {}",
        String::from_utf8_lossy(&raw)
    );

    // Still serving after the bad clients; then a graceful stop.
    assert_eq!(
        https(&addr, &der, "GET", "/readyz", &[], b"").unwrap().0,
        200
    );
    sigterm(&child);
    let exit = exit_of(&mut child);
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let log = log.join().unwrap();
    assert!(exit.success(), "exit {exit:?}; log:\n{log}");
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("{\"timestamp\""))
            .count(),
        3,
        "the delivery's three records, once: {out}"
    );
    for line in pem_body_lines(&key_pem) {
        assert!(
            !log.contains(line) && !out.contains(line),
            "key material printed"
        );
    }
}

/// Runs `serve` with `env` and expects it to refuse to start: its stderr.
fn refused_start(env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("RDSF_FIREHOSE_ACCESS_KEY", KEY)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("RDSF_SERVE_TLS_CERT")
        .env_remove("RDSF_SERVE_TLS_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let exit = exit_of(&mut child);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(exit.code(), Some(2), "a configuration error: {err}");
    assert!(!err.contains("listening"), "{err}");
    err
}

#[test]
fn bad_tls_settings_stop_start_up_naming_the_setting() {
    let scratch = Scratch::new("bad");
    let (_, cert_pem, key_pem) = certificate();
    let (_, _, other_key_pem) = certificate();
    let cert = scratch.write("cert.pem", &cert_pem);
    let key = scratch.write("key.pem", &key_pem);
    let other_key = scratch.write("other-key.pem", &other_key_pem);
    let missing = scratch.0.join("nowhere.pem").to_string_lossy().into_owned();
    // A key file whose base64 is broken: its text must not be quoted back.
    let broken_key = scratch.write(
        "broken-key.pem",
        "-----BEGIN PRIVATE KEY-----\nS3CR3T-KEY-MATERIAL!!not*base64\n-----END PRIVATE KEY-----\n",
    );
    let no_key = scratch.write("cert-as-key.pem", &cert_pem);
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 6] = [
        (
            &[("RDSF_SERVE_TLS_CERT", &cert)],
            &["RDSF_SERVE_TLS_CERT is set but RDSF_SERVE_TLS_KEY is not"],
        ),
        (
            &[("RDSF_SERVE_TLS_KEY", &key)],
            &["RDSF_SERVE_TLS_KEY is set but RDSF_SERVE_TLS_CERT is not"],
        ),
        (
            &[
                ("RDSF_SERVE_TLS_CERT", &missing),
                ("RDSF_SERVE_TLS_KEY", &key),
            ],
            &["RDSF_SERVE_TLS_CERT", "nowhere.pem", "cannot read"],
        ),
        (
            &[("RDSF_SERVE_TLS_CERT", &key), ("RDSF_SERVE_TLS_KEY", &key)],
            &["RDSF_SERVE_TLS_CERT", "no PEM CERTIFICATE"],
        ),
        (
            &[
                ("RDSF_SERVE_TLS_CERT", &cert),
                ("RDSF_SERVE_TLS_KEY", &no_key),
            ],
            &["RDSF_SERVE_TLS_KEY", "no PEM private key"],
        ),
        (
            &[
                ("RDSF_SERVE_TLS_CERT", &cert),
                ("RDSF_SERVE_TLS_KEY", &other_key),
            ],
            &[
                "RDSF_SERVE_TLS_KEY",
                "does not go with",
                "RDSF_SERVE_TLS_CERT",
            ],
        ),
    ];
    for (env, wants) in cases {
        let err = refused_start(env);
        for want in wants {
            assert!(err.contains(want), "{env:?}: {want:?} not in\n{err}");
        }
        for pem in [&key_pem, &other_key_pem] {
            for line in pem_body_lines(pem) {
                assert!(!err.contains(line), "{env:?}: key material printed:\n{err}");
            }
        }
    }
    let err = refused_start(&[
        ("RDSF_SERVE_TLS_CERT", &cert),
        ("RDSF_SERVE_TLS_KEY", &broken_key),
    ]);
    assert!(err.contains("RDSF_SERVE_TLS_KEY"), "{err}");
    assert!(
        !err.contains("S3CR3T"),
        "the key file's text quoted:\n{err}"
    );
}

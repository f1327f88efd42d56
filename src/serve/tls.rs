//! HTTPS for `serve` when no load balancer terminates TLS in front of it:
//! a certificate chain and its private key from PEM files, served with
//! rustls (ring, the provider the client side already uses).
//!
//! Errors name the setting and the file, never the file's content: a key
//! file's lines are key material, so PEM parse errors (which can quote a
//! line) are reduced to what kind of problem it was.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The setting naming the certificate chain file.
pub const CERT_SETTING: &str = "RDSF_SERVE_TLS_CERT";
/// The setting naming the private key file.
pub const KEY_SETTING: &str = "RDSF_SERVE_TLS_KEY";

/// Why the server cannot serve HTTPS with what it was given.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{given} is set but {missing} is not: give both (HTTPS) or neither (plain HTTP behind a TLS-terminating load balancer)")]
    OnlyOne {
        given: &'static str,
        missing: &'static str,
    },
    #[error("{setting} ({path}): cannot read the file: {source}")]
    Unreadable {
        setting: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{setting} ({path}): {what}")]
    NotPem {
        setting: &'static str,
        path: PathBuf,
        what: String,
    },
    #[error("{KEY_SETTING} ({key}) does not go with the certificate in {CERT_SETTING} ({cert}): {reason}")]
    Refused {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
}

/// The acceptor for `cert` and `key` (both or neither; an empty path counts
/// as unset), or `None` for plain HTTP.
pub fn acceptor(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<TlsAcceptor>, TlsError> {
    fn set(p: Option<&Path>) -> Option<&Path> {
        p.filter(|p| !p.as_os_str().is_empty())
    }
    let (cert, key) = match (set(cert), set(key)) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(TlsError::OnlyOne {
                given: CERT_SETTING,
                missing: KEY_SETTING,
            })
        }
        (None, Some(_)) => {
            return Err(TlsError::OnlyOne {
                given: KEY_SETTING,
                missing: CERT_SETTING,
            })
        }
        (Some(c), Some(k)) => (c, k),
    };
    let chain = certificates(cert)?;
    let private = private_key(key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let refused = |e: rustls::Error| TlsError::Refused {
        cert: cert.to_owned(),
        key: key.to_owned(),
        // rustls' errors describe the problem (a mismatch, an unsupported
        // key type), not the key's bytes.
        reason: e.to_string(),
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(refused)?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(refused)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Unreadable {
        setting,
        path: path.to_owned(),
        source,
    })
}

/// What kind of PEM problem, without the text that `pem::Error` may quote.
fn pem_problem(e: &pem::Error) -> &'static str {
    match e {
        pem::Error::Io(_) => "cannot read the file",
        pem::Error::Base64Decode(_) => "a PEM section whose base64 is broken",
        pem::Error::MissingSectionEnd { .. } => "a PEM section with no END line",
        pem::Error::IllegalSectionStart { .. } => "a malformed PEM BEGIN line",
        pem::Error::NoItemsFound => "no PEM section in it",
        _ => "not readable as PEM",
    }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(CERT_SETTING, path)?;
    let not_pem = |what: String| TlsError::NotPem {
        setting: CERT_SETTING,
        path: path.to_owned(),
        what,
    };
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_pem(pem_problem(&e).to_owned()))?;
    if chain.is_empty() {
        return Err(not_pem(
            "no PEM CERTIFICATE section in it (the chain, server certificate first)".into(),
        ));
    }
    Ok(chain)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(KEY_SETTING, path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::NotPem {
        setting: KEY_SETTING,
        path: path.to_owned(),
        what: match e {
            pem::Error::NoItemsFound => {
                "no PEM private key in it (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)".into()
            }
            e => pem_problem(&e).to_owned(),
        },
    })
}

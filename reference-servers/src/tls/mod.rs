//! The servers' TLS set-up, shared by the three models: the
//! `rustls::ServerConfig` built from `--tls-cert`/`--tls-key` or a
//! self-signed certificate (`--tls`), and the handshake count every model
//! keeps in its totals. How each model moves TLS bytes is its own business
//! (`blocking_stream` for sync and fork, `selector::tls` for the event loop).
//!
//! One crypto provider, ring, always named explicitly
//! (`builder_with_provider`): the default builder panics when a build
//! holds two providers, and feature unification can bring in a second.
//! Session resumption is countable exactly and works against every model:
//! stateless tickets (one key, made and primed before any fork child
//! exists, so every child can open any ticket) plus a session-ID cache for
//! TLS 1.2 clients that do not take tickets (per process: for fork, per
//! child, so session IDs never resume there). ring's ticketer rotates its
//! key every 6 hours from a next key made in advance; fork children roll
//! alike once, so tickets stop crossing children only after 12 hours.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::server::ServerSessionMemoryCache;
use rustls::{HandshakeKind, ServerConfig, ServerConnection};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::cli::ServerArgs;
use crate::totals::Totals;

pub mod blocking_stream;
mod pem;
mod self_signed;

pub use self_signed::CertFile;

/// The one ALPN protocol offered; a client that offers none is served too.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

/// TLS 1.2 sessions remembered by ID (per process), enough for any
/// benchmark's connections to resume.
const SESSION_CACHE_ENTRIES: usize = 4096;

/// The ticket plaintext the ticketer is primed with: longer than any
/// session a ticket carries here (no client certificates; an SNI name is
/// at most 255 bytes).
const TICKET_PRIMING_LEN: usize = 2048;

/// Why the server cannot serve HTTPS; each message names the flag and file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{flag} {}: {why}", path.display())]
    File {
        flag: &'static str,
        path: PathBuf,
        why: String,
    },
    #[error("--tls-key {} does not match the certificate in --tls-cert {}", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("--tls-cert {} with --tls-key {}: {why}", cert.display(), key.display())]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        why: String,
    },
    #[error("--tls: cannot make a self-signed certificate: {0}")]
    SelfSigned(String),
}

/// What a TLS server needs: its config, and the certificate's PEM file for
/// the listening line (and, for `--tls`, the guard that removes it).
pub struct TlsServer {
    pub config: Arc<ServerConfig>,
    cert_path: PathBuf,
    /// `--tls` only: the written certificate, removed on drop.
    _cert_file: Option<CertFile>,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

impl TlsServer {
    /// The PEM file a client trusts to talk to this server.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }
}

/// The TLS set-up `args` ask for, or `None` for plain HTTP. Call before
/// binding (errors come before anything listens) and before any fork.
pub fn setup(args: &ServerArgs) -> Result<Option<TlsServer>, TlsError> {
    if args.tls {
        let made = self_signed::make(args.addr.ip())?;
        let config = server_config(made.chain, made.key).map_err(|e| {
            TlsError::SelfSigned(format!("rustls refused the certificate it was given: {e}"))
        })?;
        return Ok(Some(TlsServer {
            config,
            cert_path: made.file.path().to_path_buf(),
            _cert_file: Some(made.file),
        }));
    }
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let chain = pem::load_chain(cert)?;
    let private = pem::load_key(key)?;
    let config = server_config(chain, private).map_err(|e| match e {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            TlsError::KeyMismatch {
                cert: cert.clone(),
                key: key.clone(),
            }
        }
        other => TlsError::Unusable {
            cert: cert.clone(),
            key: key.clone(),
            why: other.to_string(),
        },
    })?;
    // The listening line names the file for clients started elsewhere.
    let cert_path = std::fs::canonicalize(cert).unwrap_or_else(|_| cert.clone());
    Ok(Some(TlsServer {
        config,
        cert_path,
        _cert_file: None,
    }))
}

/// The server config: ring, TLS 1.3 and 1.2, ALPN `http/1.1`, tickets and
/// a session cache.
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE_ENTRIES);
    config.ticketer = rustls::crypto::ring::Ticketer::new()?;
    // ring's ticketer refuses to decrypt anything longer than the longest
    // ticket it has encrypted itself, and it remembers that length in its
    // own memory. A fork child starts from the parent's copy, which has
    // encrypted nothing, so it would refuse every ticket another child
    // issued. One encryption here, before any fork, sets the bound for all.
    if config.ticketer.enabled() && config.ticketer.encrypt(&[0; TICKET_PRIMING_LEN]).is_none() {
        return Err(rustls::Error::General(
            "cannot prime the session ticketer".into(),
        ));
    }
    Ok(Arc::new(config))
}

/// Counts `conn`'s handshake once it has completed; returns whether it did
/// (the caller then stops asking).
pub fn count_handshake(conn: &ServerConnection, totals: &Totals) -> bool {
    if conn.is_handshaking() {
        return false;
    }
    let resumed = matches!(conn.handshake_kind(), Some(HandshakeKind::Resumed));
    totals.add_tls_handshake(resumed);
    true
}

//! The client's TLS set-up: one [`ClientConfig`] per run (its session cache
//! is what lets later connections resume), the trust it applies (system
//! roots, `--cacert`, or `-k`), and what a fatal rejection was about.
//!
//! Only the ring provider is ever used, and always named explicitly
//! (`builder_with_provider`): the default builder panics when a second
//! provider is linked in by some other crate's features.
//!
//! Deciding is kept apart from printing: a rejection is recorded as a
//! [`Fatal`] by the verifier or the engine, and [`Fatal::message`] says it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

pub mod der;

/// `--tls-version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    V1_2,
    V1_3,
}

/// The TLS flags, validated (files are read and parsed once here so that a
/// bad one is a usage error naming the flag, before any socket opens).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// `--cacert`: the certificates that replace the system roots.
    pub cacert: Option<(PathBuf, Vec<CertificateDer<'static>>)>,
    /// `-k`: any certificate is accepted (handshake signatures still checked).
    pub insecure: bool,
    /// `--cert` and `--key`.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub version: Option<TlsVersion>,
    /// `--tls-resume` (default on).
    pub resume: bool,
}

/// Why a TLS flag's file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PemError {
    // Not a `source`: the message already ends with the OS error's.
    #[error("invalid value '{path}' for {flag}: cannot read it: {error}")]
    Read {
        flag: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("invalid value '{path}' for {flag}: expected {expected}")]
    Empty {
        flag: &'static str,
        path: PathBuf,
        expected: &'static str,
    },
}

/// Reads the PEM certificates of `path` (several allowed; at least one).
pub fn read_certs(
    flag: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let bytes = std::fs::read(path).map_err(|error| PemError::Read {
        flag,
        path: path.to_path_buf(),
        error,
    })?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(PemError::Empty {
            flag,
            path: path.to_path_buf(),
            expected: "a PEM file with at least one certificate (-----BEGIN CERTIFICATE-----)",
        });
    }
    Ok(certs)
}

/// Reads the PEM private key of `path` (PKCS#8, PKCS#1 or SEC1).
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    let bytes = std::fs::read(path).map_err(|error| PemError::Read {
        flag: "--key",
        path: path.to_path_buf(),
        error,
    })?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| PemError::Empty {
        flag: "--key",
        path: path.to_path_buf(),
        expected: "a PEM file with a private key (-----BEGIN PRIVATE KEY-----)",
    })
}

/// Something that makes every request of the run fail the same way: the
/// run stops at once instead of failing for its whole duration.
#[derive(Debug, Clone, PartialEq)]
pub enum Fatal {
    /// The server's certificate was refused.
    Certificate(Rejected),
    /// The server answered the ClientHello in plain HTTP.
    PlainHttp,
}

/// A refused server certificate: why, and whose it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub error: CertificateError,
    /// The subject of the end-entity certificate (`CN=...`, or the whole
    /// name when it has no CN); `None` if it could not be read.
    pub subject: Option<String>,
    /// Its DNS and IP subject alternative names.
    pub names: Vec<String>,
    /// The name the client asked for (SNI, or the IP address).
    pub asked: String,
}

impl Fatal {
    /// The sentence for people, with the fix.
    pub fn message(&self) -> String {
        match self {
            Fatal::PlainHttp => {
                "the server answered in plain HTTP; try http:// instead of https://".to_string()
            }
            Fatal::Certificate(r) => {
                let whose = match &r.subject {
                    Some(s) => format!("the server's certificate ({s})"),
                    None => "the server's certificate".to_string(),
                };
                let names = if r.names.is_empty() {
                    "no names".to_string()
                } else {
                    r.names.join(", ")
                };
                let why = match &r.error {
                    // A bad signature means a trusted certificate of the same
                    // name did not sign it: untrusted all the same.
                    CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                        "is not trusted: its issuer is not among the trusted roots".to_string()
                    }
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. } => {
                        format!("is not valid for '{}' (it names {names})", r.asked)
                    }
                    CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                        "has expired".to_string()
                    }
                    CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                        "is not valid yet".to_string()
                    }
                    other if is_ca_as_end_entity(other) => {
                        return format!(
                            "TLS: {whose} is a CA certificate (basicConstraints CA:TRUE) used as \
                             the server's own, which rustls refuses even when --cacert names it \
                             (openssl req -x509 makes such certificates by default); accept it \
                             with -k/--insecure, or remake it with \
                             -addext basicConstraints=critical,CA:FALSE"
                        );
                    }
                    other => format!("was refused: {other:?}"),
                };
                format!(
                    "TLS: {whose} {why}; trust its issuer with --cacert FILE (PEM), \
                     or accept any certificate with -k/--insecure"
                )
            }
        }
    }
}

/// webpki's `CaUsedAsEndEntity`, which reaches us only inside rustls's
/// opaque `CertificateError::Other`, so by its name: a self-signed
/// certificate made with openssl's defaults, the commonest first stumble.
fn is_ca_as_end_entity(e: &CertificateError) -> bool {
    matches!(e, CertificateError::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity"))
}

/// The run's TLS: the shared configuration, the name asked for, and the
/// slot a fatal rejection is recorded in.
#[derive(Debug, Clone)]
pub struct ClientTls {
    pub config: Arc<ClientConfig>,
    pub server_name: ServerName<'static>,
    pub fatal: Arc<OnceLock<Fatal>>,
}

impl ClientTls {
    /// The same set-up offering `protocols` by ALPN instead of
    /// `http/1.1` (HTTP/2 offers `h2` alone: a server without it must say
    /// so, not fall back silently). The session cache is shared.
    pub fn with_alpn(&self, protocols: &[&[u8]]) -> ClientTls {
        let mut config = (*self.config).clone();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        ClientTls {
            config: Arc::new(config),
            ..self.clone()
        }
    }

    /// Whether the run must stop (see [`Fatal`]).
    #[inline]
    pub fn stopped(&self) -> bool {
        self.fatal.get().is_some()
    }
}

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "no system root certificates could be loaded{0}; pass --cacert FILE (PEM) or -k/--insecure"
    )]
    NoRoots(String),
    #[error("invalid value '{0}' for the URL's host: not a valid TLS server name")]
    ServerName(String),
    #[error("--cert/--key: {0}")]
    ClientCert(rustls::Error),
    #[error(transparent)]
    Pem(#[from] PemError),
    #[error("TLS set-up: {0}")]
    Rustls(rustls::Error),
}

/// Builds the run's one configuration for `host` (the name SNI carries; an
/// IP literal sends none and is checked against the IP addresses in the
/// certificate).
/// `fatal` is the run's one slot: every host of a run shares it, so that a
/// refusal on any of them stops the run and is the one reported.
pub fn client_tls(
    opts: &TlsOptions,
    host: &str,
    fatal: &Arc<OnceLock<Fatal>>,
) -> Result<ClientTls, SetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let fatal = Arc::clone(fatal);
    let server_name = ServerName::try_from(host.to_string())
        .map_err(|_| SetupError::ServerName(host.to_string()))?;
    // -k: no chain to check, as curl -k and oha; the handshake signatures
    // are checked all the same, so the peer must hold the key it shows.
    let webpki = if opts.insecure {
        None
    } else {
        let mut roots = RootCertStore::empty();
        match &opts.cacert {
            Some((_, certs)) => {
                roots.add_parsable_certificates(certs.iter().cloned());
            }
            None => {
                let loaded = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(loaded.certs);
                if roots.is_empty() {
                    let why = loaded
                        .errors
                        .first()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default();
                    return Err(SetupError::NoRoots(why));
                }
            }
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| SetupError::Rustls(rustls::Error::General(e.to_string())))?;
        Some(inner)
    };
    let verifier: Arc<dyn ServerCertVerifier> = Arc::new(Verifier {
        webpki,
        algorithms: provider.signature_verification_algorithms,
        fatal: Arc::clone(&fatal),
        asked: host.to_string(),
    });
    let versions: &[&rustls::SupportedProtocolVersion] = match opts.version {
        None => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Some(TlsVersion::V1_2) => &[&rustls::version::TLS12],
        Some(TlsVersion::V1_3) => &[&rustls::version::TLS13],
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(SetupError::Rustls)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match &opts.client_cert {
        Some((cert, key)) => {
            let certs = read_certs("--cert", cert)?;
            let key = read_key(key)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(SetupError::ClientCert)?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if !opts.resume {
        config.resumption = Resumption::disabled();
    }
    Ok(ClientTls {
        config: Arc::new(config),
        server_name,
        fatal,
    })
}

/// The server's certificate check: WebPKI against the roots (none with
/// `-k`, which accepts any certificate), recording what it refused (with
/// the certificate's names, which the error alone does not carry) before
/// saying no. The handshake signatures are checked with the provider's
/// algorithms either way.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    fatal: Arc<OnceLock<Fatal>>,
    asked: String,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        let verified =
            webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        if let Err(rustls::Error::InvalidCertificate(error)) = &verified {
            let names = der::names(end_entity);
            let _ = self.fatal.set(Fatal::Certificate(Rejected {
                error: error.clone(),
                subject: names.subject,
                names: names.alt_names,
                asked: self.asked.clone(),
            }));
        }
        verified
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The short, stable id (after `tls:` in `errors_by_cause`) of a TLS
/// failure; `head` is the first bytes the server sent, which tell a plain
/// HTTP answer apart from a broken TLS one.
pub fn cause_id(e: &rustls::Error, head: &[u8]) -> &'static str {
    use rustls::AlertDescription as A;
    if head.starts_with(b"HTTP/") {
        return "plain_http";
    }
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => "cert_not_trusted",
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "cert_wrong_name"
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "cert_expired",
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "cert_not_valid_yet"
            }
            other if is_ca_as_end_entity(other) => "cert_is_ca",
            _ => "cert_invalid",
        },
        rustls::Error::AlertReceived(a) => match a {
            A::HandshakeFailure => "alert_handshake_failure",
            A::ProtocolVersion => "alert_protocol_version",
            A::BadCertificate | A::CertificateRequired | A::UnknownCA => "alert_client_certificate",
            A::NoApplicationProtocol => "alert_no_application_protocol",
            _ => "alert_other",
        },
        rustls::Error::PeerIncompatible(_) => "peer_incompatible",
        _ => "protocol",
    }
}

/// The sentence for a cause id of [`cause_id`], for reports.
pub fn describe_cause(id: &str) -> Option<&'static str> {
    Some(match id {
        "plain_http" => "the server answered in plain HTTP: try http://",
        "cert_not_trusted" => "the server's certificate is not trusted (--cacert FILE, or -k)",
        "cert_wrong_name" => "the server's certificate is for another name",
        "cert_expired" => "the server's certificate has expired",
        "cert_not_valid_yet" => "the server's certificate is not valid yet",
        "cert_is_ca" => {
            "the server's certificate is a CA certificate (CA:TRUE), refused as a server's own"
        }
        "cert_invalid" => "the server's certificate was refused",
        "alert_handshake_failure" => "the server refused the handshake (no common parameters)",
        "alert_protocol_version" => "the server refused the TLS version (--tls-version)",
        "alert_client_certificate" => "the server refused the client certificate (--cert/--key)",
        "alert_no_application_protocol" => "the server does not speak http/1.1 (ALPN)",
        "alert_other" => "the server sent a fatal TLS alert",
        "peer_incompatible" => "the server's TLS is incompatible",
        "protocol" => "the TLS records were malformed",
        _ => return None,
    })
}

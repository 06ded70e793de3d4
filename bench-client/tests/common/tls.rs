//! A small TLS server for the https tests: rustls over std sockets, one
//! thread per connection, certificates made by rcgen at test time (no key
//! files committed). It answers every request with a 2-byte 200 and counts
//! what the client's figures must equal: responses, body bytes, full and
//! resumed handshakes, and the SNI and Host it saw.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{HandshakeKind, ServerConfig, ServerConnection};

/// A certificate made for a test, with its PEM written to a file.
pub struct TestCert {
    pub der: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
    /// The certificate as PEM, for `--cacert`.
    pub pem_path: PathBuf,
    /// Its private key as PEM, for `--key`.
    pub key_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCert {
    /// Self-signed, for `names` (DNS names or IP addresses), CN "bench test
    /// server"; `expired`: valid only in 2020.
    pub fn new(names: &[&str], expired: bool) -> TestCert {
        Self::build(names, |params| {
            if expired {
                params.not_before = rcgen::date_time_ymd(2020, 1, 1);
                params.not_after = rcgen::date_time_ymd(2020, 12, 31);
            }
        })
    }

    /// Self-signed and marked as a CA (basicConstraints CA:TRUE), as
    /// `openssl req -x509` makes them by default.
    pub fn ca(names: &[&str]) -> TestCert {
        Self::build(names, |params| {
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        })
    }

    fn build(names: &[&str], edit: impl FnOnce(&mut rcgen::CertificateParams)) -> TestCert {
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "bench test server");
        edit(&mut params);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        let dir = tempfile::tempdir().expect("tempdir");
        let pem_path = dir.path().join("cert.pem");
        std::fs::write(&pem_path, cert.pem()).expect("write cert");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        TestCert {
            key_path,
            der: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            pem_path,
            _dir: dir,
        }
    }

    pub fn key_pem(&self) -> &str {
        self.key_path.to_str().expect("utf-8 path")
    }

    pub fn pem(&self) -> &str {
        self.pem_path.to_str().expect("utf-8 path")
    }
}

/// How the server behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Behaviour {
    /// TLS, answering every request.
    Answer,
    /// Accepts TCP, never says a word.
    Silent,
    /// Answers the first request with a chunked body of 1-byte chunks
    /// that never ends (cheap to send, costly to frame).
    Endless,
}

pub struct TlsServer {
    pub addr: SocketAddr,
    pub answered: Arc<AtomicU64>,
    pub body_bytes: Arc<AtomicU64>,
    pub full: Arc<AtomicU64>,
    pub resumed: Arc<AtomicU64>,
    /// SNI of each handshake (None: no SNI).
    pub sni: Arc<Mutex<Vec<Option<String>>>>,
    /// Host header of each request.
    pub hosts: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsServer {
    pub fn start(cert: &TestCert, behaviour: Behaviour) -> TlsServer {
        TlsServer::start_with(cert, None, behaviour)
    }

    /// A server that requires a client certificate issued as `client`.
    pub fn start_with(
        cert: &TestCert,
        client: Option<&TestCert>,
        behaviour: Behaviour,
    ) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("versions");
        let builder = match client {
            None => builder.with_no_client_auth(),
            Some(c) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(c.der.clone()).expect("client root");
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .expect("client verifier");
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder
            .with_single_cert(vec![cert.der.clone()], cert.key.clone_key())
            .expect("server cert");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let mut server = TlsServer {
            addr,
            answered: Arc::default(),
            body_bytes: Arc::default(),
            full: Arc::default(),
            resumed: Arc::default(),
            sni: Arc::default(),
            hosts: Arc::default(),
            stop: Arc::default(),
            thread: None,
        };
        let counts = server.counts();
        let stop = Arc::clone(&server.stop);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let (config, counts, stop) =
                            (Arc::clone(&config), counts.clone(), Arc::clone(&stop));
                        std::thread::spawn(move || match behaviour {
                            Behaviour::Answer => serve(sock, config, &counts),
                            Behaviour::Endless => endless(sock, config, &stop),
                            Behaviour::Silent => {
                                let end = Instant::now() + Duration::from_secs(20);
                                while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                                    std::thread::sleep(Duration::from_millis(20));
                                }
                                drop(sock);
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        server.thread = Some(thread);
        server
    }

    fn counts(&self) -> Counts {
        Counts {
            answered: Arc::clone(&self.answered),
            body_bytes: Arc::clone(&self.body_bytes),
            full: Arc::clone(&self.full),
            resumed: Arc::clone(&self.resumed),
            sni: Arc::clone(&self.sni),
            hosts: Arc::clone(&self.hosts),
        }
    }

    pub fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(Clone)]
struct Counts {
    answered: Arc<AtomicU64>,
    body_bytes: Arc<AtomicU64>,
    full: Arc<AtomicU64>,
    resumed: Arc<AtomicU64>,
    sni: Arc<Mutex<Vec<Option<String>>>>,
    hosts: Arc<Mutex<Vec<String>>>,
}

fn serve(mut sock: TcpStream, config: Arc<ServerConfig>, counts: &Counts) {
    let _ = sock.set_nonblocking(false);
    let _ = sock.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = sock.set_nodelay(true);
    let Ok(mut conn) = ServerConnection::new(config) else {
        return;
    };
    while conn.is_handshaking() {
        if conn.complete_io(&mut sock).is_err() {
            // Send the alert that says why, if any.
            let _ = conn.write_tls(&mut sock);
            return;
        }
    }
    match conn.handshake_kind() {
        Some(HandshakeKind::Resumed) => counts.resumed.fetch_add(1, Ordering::SeqCst),
        _ => counts.full.fetch_add(1, Ordering::SeqCst),
    };
    counts
        .sni
        .lock()
        .unwrap()
        .push(conn.server_name().map(str::to_string));
    let mut stream = rustls::Stream::new(&mut conn, &mut sock);
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        // A head, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
        };
        let length: usize = header("content-length:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if let Some(host) = header("host:") {
            counts.hosts.lock().unwrap().push(host);
        }
        let close = header("connection:").is_some_and(|v| v == "close");
        while buf.len() < head_end + length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + length);
        let response: &[u8] = if close {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        };
        if stream
            .write_all(response)
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
        counts.body_bytes.fetch_add(length as u64, Ordering::SeqCst);
        counts.answered.fetch_add(1, Ordering::SeqCst);
        if close {
            stream.conn.send_close_notify();
            let _ = stream.flush();
            return;
        }
    }
}

fn endless(mut sock: TcpStream, config: Arc<ServerConfig>, stop: &AtomicBool) {
    let _ = sock.set_nonblocking(false);
    let _ = sock.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = sock.set_write_timeout(Some(Duration::from_secs(5)));
    let Ok(mut conn) = ServerConnection::new(config) else {
        return;
    };
    let mut stream = rustls::Stream::new(&mut conn, &mut sock);
    let mut head = [0u8; 4096];
    if !matches!(stream.read(&mut head), Ok(n) if n > 0) {
        return;
    }
    let chunks = b"1\r\na\r\n".repeat(2048);
    if stream
        .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        .is_err()
    {
        return;
    }
    let end = Instant::now() + Duration::from_secs(30);
    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
        if stream.write_all(&chunks).is_err() {
            return;
        }
    }
}

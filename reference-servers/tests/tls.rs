//! HTTPS on the three server binaries, beyond the conformance table (which
//! runs over TLS in `conformance.rs`): exact handshake counts with and
//! without resumption, a real TLS peer (curl), certificate files that are
//! wrong, peers that do not speak TLS, and handshakes that stall.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use reference_servers::wire::totals::TotalsLine;
use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

const MODELS: [&str; 3] = ["sync", "selector", "fork"];

fn binary(model: &str) -> &'static str {
    match model {
        "sync" => env!("CARGO_BIN_EXE_sync-server"),
        "selector" => env!("CARGO_BIN_EXE_selector-server"),
        "fork" => env!("CARGO_BIN_EXE_fork-server"),
        other => panic!("no model {other}"),
    }
}

/// A running https server; dropping it stops the process.
struct Server {
    inner: common::Server,
    addr: SocketAddr,
    cert: PathBuf,
}

impl Server {
    fn start(model: &'static str, args: &[&str]) -> Server {
        let inner = common::Server::spawn(binary(model), model, args);
        let cert = inner.cert.clone().expect("an https listening line");
        Server {
            addr: inner.addr,
            inner,
            cert,
        }
    }

    /// SIGTERM, a clean exit, and the totals line.
    fn stop(self) -> TotalsLine {
        self.inner.stop()
    }

    fn stderr(&self) -> String {
        self.inner.stderr()
    }

    fn tcp(&self) -> TcpStream {
        self.inner.tcp()
    }

    /// One request over a new TLS connection with `config`; the response,
    /// read to the server's close (so TLS 1.3 tickets are received too).
    fn get(&self, config: &Arc<rustls::ClientConfig>, path: &str) -> String {
        let name = ServerName::IpAddress(self.addr.ip().into());
        let conn = rustls::ClientConnection::new(Arc::clone(config), name).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, self.tcp());
        let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).expect("send the request");
        let mut data = Vec::new();
        tls.read_to_end(&mut data)
            .expect("read to close_notify (a clean TLS close)");
        String::from_utf8_lossy(&data).into_owned()
    }
}

/// A client config (ring) trusting only `cert`, for `versions`.
fn client_config(
    cert: &Path,
    versions: &[&'static rustls::SupportedProtocolVersion],
    resumption: Resumption,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(der.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.resumption = resumption;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

const TLS13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
const TLS12: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];

fn assert_hello(response: &str) {
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nHello, World!\n"), "{response}");
}

/// `n` requests, each on a new connection through one client config (so
/// one session cache); returns the server's totals.
fn counted(
    model: &'static str,
    versions: &[&'static rustls::SupportedProtocolVersion],
    resumption: Resumption,
    n: u64,
) -> TotalsLine {
    // Every `--tls` server makes its own key: the config trusts this one's.
    let server = Server::start(model, &["--tls"]);
    let config = client_config(&server.cert, versions, resumption);
    for _ in 0..n {
        assert_hello(&server.get(&config, "/"));
    }
    server.stop()
}

#[test]
fn tls13_resumption_is_counted_exactly_on_every_model() {
    for model in MODELS {
        let totals = counted(model, TLS13, Resumption::default(), 5);
        assert_eq!(
            (totals.connections, totals.requests),
            (5, 5),
            "{model}: {totals}"
        );
        assert_eq!(
            (totals.tls_full, totals.tls_resumed),
            (1, 4),
            "{model}: {totals}"
        );
    }
}

#[test]
fn tls12_ticket_resumption_is_counted_exactly_on_every_model() {
    // Stateless tickets: a fork child opens a ticket another child issued,
    // because the key was made before the fork.
    for model in MODELS {
        let totals = counted(model, TLS12, Resumption::default(), 4);
        assert_eq!(
            (totals.tls_full, totals.tls_resumed),
            (1, 3),
            "{model}: {totals}"
        );
    }
}

#[test]
fn tls12_session_id_resumption_works_where_one_process_holds_the_cache() {
    let ids_only = || {
        Resumption::in_memory_sessions(64)
            .tls12_resumption(rustls::client::Tls12Resumption::SessionIdOnly)
    };
    for model in ["sync", "selector"] {
        let totals = counted(model, TLS12, ids_only(), 3);
        assert_eq!(
            (totals.tls_full, totals.tls_resumed),
            (1, 2),
            "{model}: {totals}"
        );
    }
    // A fork child's session cache dies with it: IDs never resume there
    // (tickets do, above).
    let totals = counted("fork", TLS12, ids_only(), 3);
    assert_eq!((totals.tls_full, totals.tls_resumed), (3, 0), "{totals}");
}

#[test]
fn without_resumption_every_handshake_is_full() {
    for model in MODELS {
        let totals = counted(model, TLS13, Resumption::disabled(), 3);
        assert_eq!(
            (totals.tls_full, totals.tls_resumed),
            (3, 0),
            "{model}: {totals}"
        );
    }
}

#[test]
fn curl_gets_the_right_answers_from_every_model() {
    let has_curl = Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_curl {
        eprintln!("curl is not installed: skipping the real-peer check");
        return;
    }
    for model in MODELS {
        let server = Server::start(model, &["--tls"]);
        let curl = |extra: &[&str], path: &str| -> Output {
            Command::new("curl")
                .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}"])
                .arg("--cacert")
                .arg(&server.cert)
                .args(extra)
                .arg(format!("https://{}{path}", server.addr))
                .output()
                .expect("run curl")
        };
        let hello = curl(&[], "/");
        assert_eq!(
            String::from_utf8_lossy(&hello.stdout),
            "Hello, World!\n\n200",
            "{model}: {}",
            String::from_utf8_lossy(&hello.stderr)
        );
        let echo = curl(&["--data-binary", "ping over tls"], "/echo");
        assert_eq!(String::from_utf8_lossy(&echo.stdout), "ping over tls\n200");
        let missing = curl(&["--tlsv1.2", "--tls-max", "1.2"], "/nowhere");
        assert!(
            String::from_utf8_lossy(&missing.stdout).ends_with("\n404"),
            "{model}: TLS 1.2 and a 404"
        );
        let totals = server.stop();
        assert_eq!((totals.connections, totals.requests), (3, 3), "{totals}");
        assert_eq!(totals.tls_full + totals.tls_resumed, 3, "{totals}");
    }
}

// ---- Certificate files ------------------------------------------------------

/// Runs `model` with `args`, expecting it to refuse to start.
fn refused(model: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(binary(model))
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the server");
    assert!(
        out.stdout.is_empty(),
        "printed {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().expect("an exit code, not a signal"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A certificate for 127.0.0.1 and its key, as PEM files in `dir`.
fn cert_files(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.join(format!("{name}.pem"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

#[test]
fn a_given_certificate_is_served_and_named_in_the_listening_line() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = cert_files(dir.path(), "server");
    for model in MODELS {
        let server = Server::start(
            model,
            &[
                "--tls-cert",
                cert.to_str().unwrap(),
                "--tls-key",
                key.to_str().unwrap(),
            ],
        );
        assert_eq!(server.cert, cert.canonicalize().unwrap());
        let config = client_config(&cert, TLS13, Resumption::default());
        assert_hello(&server.get(&config, "/"));
        let totals = server.stop();
        assert_eq!(totals.tls_full, 1, "{model}: {totals}");
    }
    assert!(
        cert.exists(),
        "a given certificate is not the server's to remove"
    );
}

#[test]
fn bad_certificate_files_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = cert_files(dir.path(), "a");
    let (_, other_key) = cert_files(dir.path(), "b");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");
    let [cert, key, other_key, junk, missing] =
        [&cert, &key, &other_key, &junk, &missing].map(|p| p.to_str().unwrap().to_string());
    let cases: [(&[&str], String); 5] = [
        (
            &["--tls-cert", &junk, "--tls-key", &key],
            format!("--tls-cert {junk}: no certificate in file; expected PEM 'BEGIN CERTIFICATE'"),
        ),
        (
            &["--tls-cert", &missing, "--tls-key", &key],
            format!("--tls-cert {missing}: cannot read it: "),
        ),
        (
            &["--tls-cert", &cert, "--tls-key", &junk],
            format!("--tls-key {junk}: no private key in file; expected PEM 'BEGIN PRIVATE KEY'"),
        ),
        (
            &["--tls-cert", &cert, "--tls-key", &cert],
            format!("--tls-key {cert}: no private key in file"),
        ),
        (
            &["--tls-cert", &cert, "--tls-key", &other_key],
            format!("--tls-key {other_key} does not match the certificate in --tls-cert {cert}"),
        ),
    ];
    for model in MODELS {
        for (args, expected) in &cases {
            let (code, stderr) = refused(model, args);
            assert_eq!(code, 1, "{model} {args:?}: {stderr}");
            assert!(
                stderr.starts_with(&format!("{model}-server: error: {expected}")),
                "{model} {args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

#[test]
fn tls_options_that_contradict_each_other_are_usage_errors() {
    let (code, stderr) = refused(
        "selector",
        &["--tls", "--tls-cert", "c.pem", "--tls-key", "k"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tls-cert"), "{stderr}");
    let (code, stderr) = refused("sync", &["--tls-cert", "c.pem"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
}

#[test]
fn the_self_signed_certificate_file_is_removed_on_a_clean_stop() {
    for model in MODELS {
        let server = Server::start(model, &["--tls"]);
        let cert = server.cert.clone();
        let text = std::fs::read_to_string(&cert).expect("the printed file exists");
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----"));
        server.stop();
        assert!(!cert.exists(), "{model} left {}", cert.display());
        assert!(!cert.parent().unwrap().exists(), "{model} left its folder");
    }
}

// ---- Peers that do not speak TLS, and handshakes that stall ----------------

/// Reads until the server closes; true if it did within `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
        if started.elapsed() > limit {
            return false;
        }
    }
}

#[test]
fn plain_http_and_garbage_on_the_tls_port_are_closed_and_serving_goes_on() {
    for model in MODELS {
        let server = Server::start(model, &["--tls"]);
        let config = client_config(&server.cert, TLS13, Resumption::disabled());
        for junk in [
            &b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"[..],
            &[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5][..],
            &[0xff; 600][..],
        ] {
            let mut stream = server.tcp();
            stream.write_all(junk).unwrap();
            assert!(
                closed_within(&mut stream, Duration::from_secs(5)),
                "{model}: {junk:?} left the connection open"
            );
            assert_hello(&server.get(&config, "/"));
        }
        let stderr = server.stderr();
        let totals = server.stop();
        assert_eq!(
            (totals.connections, totals.requests, totals.tls_full),
            (6, 3, 3),
            "{model}: {totals}; stderr: {stderr}"
        );
    }
}

/// The first bytes a rustls client sends: its ClientHello.
fn client_hello(config: &Arc<rustls::ClientConfig>) -> Vec<u8> {
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::clone(config), name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

#[test]
fn a_stalled_handshake_holds_up_no_one_on_the_selector_and_meets_its_deadline() {
    let server = Server::start("selector", &["--tls", "--read-timeout", "1s"]);
    let config = client_config(&server.cert, TLS13, Resumption::disabled());
    let mut silent = server.tcp();
    let mut half = server.tcp();
    let hello = client_hello(&config);
    half.write_all(&hello[..hello.len() / 2]).unwrap();
    thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    assert_hello(&server.get(&config, "/"));
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "served only after the stalled handshakes timed out"
    );
    assert!(closed_within(&mut silent, Duration::from_secs(5)));
    assert!(closed_within(&mut half, Duration::from_secs(5)));
    let totals = server.stop();
    assert_eq!(
        (totals.connections, totals.requests, totals.tls_full),
        (3, 1, 1),
        "{totals}"
    );
}

#[test]
fn a_trickled_handshake_cannot_hold_the_sync_server_past_its_deadline() {
    let server = Server::start("sync", &["--tls", "--read-timeout", "1s"]);
    let config = client_config(&server.cert, TLS13, Resumption::disabled());
    let mut trickle = server.tcp();
    let hello = client_hello(&config);
    let started = Instant::now();
    // One byte every 200 ms: every read makes progress, none completes.
    let writer = {
        let mut stream = trickle.try_clone().unwrap();
        thread::spawn(move || {
            for byte in hello.iter().take(40) {
                if stream.write_all(&[*byte]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(200));
            }
        })
    };
    assert!(closed_within(&mut trickle, Duration::from_secs(5)));
    let held = started.elapsed();
    assert!(held < Duration::from_secs(3), "held for {held:?}");
    assert_hello(&server.get(&config, "/"));
    writer.join().unwrap();
    let totals = server.stop();
    assert_eq!((totals.connections, totals.requests), (2, 1), "{totals}");
}

/// A socket that takes one byte per write, a millisecond apart, so the
/// server sees every TLS record split at every byte.
struct Trickle(TcpStream);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(byte) = buf.first() else {
            return Ok(0);
        };
        thread::sleep(Duration::from_millis(1));
        self.0.write(std::slice::from_ref(byte))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[test]
fn records_split_at_every_byte_still_make_requests() {
    for model in MODELS {
        let server = Server::start(model, &["--tls"]);
        let config = client_config(&server.cert, TLS13, Resumption::disabled());
        let sock = server.tcp();
        sock.set_nodelay(true).unwrap();
        let name = ServerName::IpAddress(server.addr.ip().into());
        let conn = rustls::ClientConnection::new(Arc::clone(&config), name).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, Trickle(sock));
        tls.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nsplit")
            .unwrap();
        let mut data = Vec::new();
        tls.read_to_end(&mut data).expect("a clean close");
        let text = String::from_utf8_lossy(&data);
        assert!(text.ends_with("\r\n\r\nsplit"), "{model}: {text}");
        let totals = server.stop();
        assert_eq!(
            (totals.requests, totals.body_bytes, totals.tls_full),
            (1, 5, 1),
            "{model}: {totals}"
        );
    }
}

#[test]
fn a_response_the_client_never_takes_is_not_counted() {
    for model in MODELS {
        let server = Server::start(model, &["--tls", "--read-timeout", "300ms"]);
        let config = client_config(&server.cert, TLS13, Resumption::disabled());
        let name = ServerName::IpAddress(server.addr.ip().into());
        let conn = rustls::ClientConnection::new(Arc::clone(&config), name).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, server.tcp());
        tls.write_all(b"GET /bytes/67108864 HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        tls.flush().unwrap();
        // 64 MiB cannot fit in the socket buffers: the server's records
        // stall, and --read-timeout drops the client.
        thread::sleep(Duration::from_millis(1500));
        let totals = server.stop();
        assert_eq!(
            (totals.connections, totals.requests, totals.tls_full),
            (1, 0, 1),
            "{model}: {totals}"
        );
    }
}

//! https on real sockets, against the in-test TLS server of
//! `common::tls` (certificates made at test time). The server's counts are
//! the oracle: responses, body bytes, full and resumed handshakes.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::tls::{Behaviour, TestCert, TlsServer};
use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn localhost_cert() -> TestCert {
    TestCert::new(&["127.0.0.1", "localhost"], false)
}

#[test]
fn a_counted_run_over_tls_is_exact_with_phases_per_connection() {
    let cert = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    let (r, _) = run_saved(
        &[
            "-n",
            "200",
            "-c",
            "4",
            "-t",
            "2",
            "--cacert",
            cert.pem(),
            &url,
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 200, "{:?}", r.summary.errors_by_cause);
    assert_eq!(server.answered.load(Ordering::SeqCst), 200);
    let tls = r.tls.expect("tls block");
    assert_eq!(tls.version.as_deref(), Some("TLSv1_3"));
    let handshakes = tls.handshakes_full + tls.handshakes_resumed;
    assert_eq!(handshakes, 4, "one per connection");
    assert_eq!(
        server.full.load(Ordering::SeqCst) + server.resumed.load(Ordering::SeqCst),
        4
    );
    let phases = r.phases.expect("phases");
    assert_eq!(phases.connect.count, 4);
    assert_eq!(phases.tls_handshake.expect("handshake phase").count, 4);
    assert_eq!(phases.ttfb.count, 200);
    assert!(phases.resolve_us.is_some());
}

#[test]
fn a_64k_post_over_tls_arrives_whole() {
    let cert = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    let (r, _) = run_saved(
        &[
            "-n",
            "20",
            "-c",
            "2",
            "--payload",
            "64k",
            "--cacert",
            cert.pem(),
            &url,
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 20);
    assert_eq!(server.answered.load(Ordering::SeqCst), 20);
    assert_eq!(server.body_bytes.load(Ordering::SeqCst), 20 * 65_536);
}

#[test]
fn connection_per_request_resumes_after_the_first_handshake() {
    let cert = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    let (r, _) = run_saved(
        &[
            "-n",
            "20",
            "-c",
            "1",
            "--connection-per-request",
            "--cacert",
            cert.pem(),
            &url,
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 20);
    let tls = r.tls.expect("tls block");
    assert_eq!((tls.handshakes_full, tls.handshakes_resumed), (1, 19));
    assert_eq!(server.full.load(Ordering::SeqCst), 1);
    assert_eq!(server.resumed.load(Ordering::SeqCst), 19);
    let phases = r.phases.expect("phases");
    assert_eq!(phases.connect.count, 20, "one connect per connection");
    assert_eq!(phases.tls_handshake.expect("handshake").count, 20);
}

#[test]
fn without_resumption_every_handshake_is_full() {
    let cert = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    let (r, _) = run_saved(
        &[
            "-n",
            "10",
            "-c",
            "1",
            "--connection-per-request",
            "--tls-resume",
            "off",
            "--cacert",
            cert.pem(),
            &url,
        ],
        LIMIT,
    );
    let tls = r.tls.expect("tls block");
    assert_eq!((tls.handshakes_full, tls.handshakes_resumed), (10, 0));
    assert_eq!(server.full.load(Ordering::SeqCst), 10);
}

#[test]
fn tls_version_pins_the_version() {
    let cert = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    for (flag, name) in [("1.2", "TLSv1_2"), ("1.3", "TLSv1_3")] {
        let (r, _) = run_saved(
            &[
                "-n",
                "5",
                "-c",
                "1",
                "--tls-version",
                flag,
                "--cacert",
                cert.pem(),
                &url,
            ],
            LIMIT,
        );
        assert_eq!(r.summary.requests, 5);
        assert_eq!(r.tls.expect("tls").version.as_deref(), Some(name));
    }
}

/// A run whose certificate is refused: exit 1, early, with the message.
fn refused(args: &[&str]) -> Finished {
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let mut all = vec!["-d", "30s", "-c", "2", "-q", "-o", path_str(&out)];
    all.extend_from_slice(args);
    let run = run_client(&all, dir.path(), LIMIT);
    assert_eq!(run.code(), 1, "stderr: {}", run.stderr);
    // Stopped early, not after the 30 s of -d.
    let r = load(&out);
    assert!(r.summary.duration_s < 20.0, "{}", r.summary.duration_s);
    assert!(r.tls.expect("tls").fatal.is_some());
    run
}

#[test]
fn an_untrusted_certificate_stops_the_run_naming_it() {
    let cert = localhost_cert();
    let other = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    let run = refused(&["--cacert", other.pem(), &url]);
    assert!(
        run.stderr.contains("CN=bench test server") && run.stderr.contains("is not trusted"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--cacert FILE") && run.stderr.contains("-k"));
}

#[test]
fn a_certificate_for_another_host_stops_the_run() {
    let cert = TestCert::new(&["other.test"], false);
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let port = server.addr.port();
    let url = format!("https://bench.test:{port}/");
    let resolve = format!("bench.test:{port}:127.0.0.1");
    let run = refused(&["--cacert", cert.pem(), "--resolve", &resolve, &url]);
    assert!(
        run.stderr.contains("is not valid for 'bench.test'") && run.stderr.contains("other.test"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_expired_certificate_stops_the_run() {
    let cert = TestCert::new(&["127.0.0.1"], true);
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    let run = refused(&["--cacert", cert.pem(), &url]);
    assert!(run.stderr.contains("has expired"), "{}", run.stderr);
}

/// A self-signed CA certificate (openssl's default) named by --cacert is
/// still refused by rustls as a server's own: the message says why and how
/// to make one it accepts, since "not trusted" would send the user in circles.
#[test]
fn a_ca_certificate_as_the_servers_own_says_how_to_remake_it() {
    let cert = TestCert::ca(&["127.0.0.1"]);
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    let run = refused(&["--cacert", cert.pem(), &url]);
    assert!(
        run.stderr.contains("is a CA certificate")
            && run.stderr.contains("basicConstraints=critical,CA:FALSE"),
        "{}",
        run.stderr
    );
}

#[test]
fn insecure_accepts_any_certificate() {
    let cert = TestCert::new(&["other.test"], true);
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    let (r, _) = run_saved(&["-n", "10", "-c", "1", "-k", &url], LIMIT);
    assert_eq!(r.summary.requests, 10);
    assert_eq!(server.answered.load(Ordering::SeqCst), 10);
}

#[test]
fn resolve_keeps_the_name_for_sni_and_host() {
    let cert = TestCert::new(&["bench.test"], false);
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let port = server.addr.port();
    let url = format!("https://bench.test:{port}/");
    let resolve = format!("bench.test:{port}:127.0.0.1");
    let (r, _) = run_saved(
        &[
            "-n",
            "3",
            "-c",
            "1",
            "--cacert",
            cert.pem(),
            "--resolve",
            &resolve,
            &url,
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 3);
    assert!(r.phases.expect("phases").resolve_us.is_none());
    let sni = server.sni.lock().unwrap().clone();
    assert_eq!(sni, [Some("bench.test".to_string())]);
    let hosts = server.hosts.lock().unwrap().clone();
    assert!(
        hosts.iter().all(|h| h == &format!("bench.test:{port}")),
        "{hosts:?}"
    );
}

#[test]
fn https_to_a_plain_http_server_says_so() {
    let (_server, addr) = serve("sync");
    let dir = tempdir();
    let url = format!("https://{addr}/");
    let run = run_client(
        &["-n", "5", "-c", "1", "-q", "--no-save", &url],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("plain HTTP"), "{}", run.stderr);
}

#[test]
fn http_to_a_tls_server_is_named_as_tls() {
    let cert = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = format!("http://{}/", server.addr);
    let (r, _) = run_saved_with_status(&["-n", "3", "-c", "1", &url], LIMIT, 1);
    assert_eq!(
        r.summary
            .errors_by_cause
            .get("invalid_response:looks_like_tls"),
        Some(&3),
        "{:?}",
        r.summary.errors_by_cause
    );
}

#[test]
fn a_server_that_never_answers_the_handshake_times_out_in_that_phase() {
    let cert = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Silent);
    let url = server.url();
    let (r, _) = run_saved_with_status(
        &[
            "-n",
            "2",
            "-c",
            "1",
            "--timeout",
            "500ms",
            "--cacert",
            cert.pem(),
            &url,
        ],
        LIMIT,
        1,
    );
    assert_eq!(
        r.summary.errors_by_kind.get("tls_handshake_timeout"),
        Some(&2),
        "{:?}",
        r.summary.errors_by_kind
    );
}

/// The bounded turn holds over TLS: a server streaming without end cannot
/// keep the worker from `--timeout` and the end of `-d` (the run ends, and
/// the request is counted as timed out).
#[test]
fn an_endless_response_over_tls_still_times_out() {
    let cert = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Endless);
    let url = server.url();
    let (r, _) = run_saved_with_status(
        &[
            "-d",
            "2s",
            "-c",
            "1",
            "--timeout",
            "500ms",
            "--cacert",
            cert.pem(),
            &url,
        ],
        LIMIT,
        1,
    );
    assert!(
        r.summary
            .errors_by_kind
            .get("timeout")
            .is_some_and(|&n| n >= 1),
        "{:?}",
        r.summary.errors_by_kind
    );
}

#[test]
fn open_loop_over_tls_handshakes_before_the_schedule() {
    let cert = localhost_cert();
    let server = TlsServer::start(&cert, Behaviour::Answer);
    let url = server.url();
    let (r, _) = run_saved(
        &[
            "-R",
            "100",
            "-n",
            "30",
            "-c",
            "2",
            "--cacert",
            cert.pem(),
            &url,
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 30);
    assert_eq!(server.answered.load(Ordering::SeqCst), 30);
    let phases = r.phases.expect("phases");
    assert_eq!(phases.tls_handshake.expect("handshake").count, 2);
}

#[test]
fn tls_flags_with_an_http_url_are_a_usage_error() {
    let dir = tempdir();
    let run = run_client(&["-k", "-n", "1", "http://127.0.0.1:1/"], dir.path(), LIMIT);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr
            .contains("--insecure applies to https:// URLs only"),
        "{}",
        run.stderr
    );
}

/// `--server MODEL --tls` end to end, with the server's own totals as the
/// oracle: requests, and full and resumed handshakes, counted alike on both
/// sides for every model, keep-alive and a connection per request, with
/// resumption on and off.
#[test]
fn server_tls_counts_match_the_reference_servers_exactly() {
    for model in ["sync", "selector", "fork"] {
        let cases: [(&[&str], u64); 3] = [
            (&["-n", "100", "-c", "4"], 100),
            (&["-n", "20", "-c", "2", "--connection-per-request"], 20),
            (
                &[
                    "-n",
                    "12",
                    "-c",
                    "2",
                    "--connection-per-request",
                    "--tls-resume",
                    "off",
                ],
                12,
            ),
        ];
        for (extra, n) in cases {
            let mut args = vec!["--server", model, "--tls"];
            args.extend_from_slice(extra);
            let (r, _) = run_saved(&args, LIMIT);
            let what = format!("{model} {extra:?}");
            assert_eq!(r.summary.requests, n, "{what}");
            assert_eq!(
                r.summary.errors, 0,
                "{what}: {:?}",
                r.summary.errors_by_cause
            );
            assert!(r.target.url.starts_with("https://"), "{}", r.target.url);
            let tls = r.tls.expect("tls block");
            let totals = r.target.server.and_then(|s| s.totals).expect("totals");
            assert_eq!(totals.requests, n, "{what}");
            assert_eq!(
                (tls.handshakes_full, tls.handshakes_resumed),
                (totals.tls_full, totals.tls_resumed),
                "{what}: client (full, resumed) vs the server's"
            );
            let connections = tls.handshakes_full + tls.handshakes_resumed;
            let phases = r.phases.expect("phases");
            assert_eq!(phases.connect.count, connections, "{what}");
            assert_eq!(
                phases.tls_handshake.expect("handshake").count,
                connections,
                "{what}"
            );
            if extra.contains(&"--connection-per-request") {
                assert_eq!(connections, n, "{what}");
                if extra.contains(&"off") {
                    assert_eq!(tls.handshakes_resumed, 0, "{what}");
                } else {
                    // Sessions resume once a first ticket is in; each of the
                    // two connections may start before any ticket arrived.
                    assert!(tls.handshakes_resumed >= n - 2, "{what}: {tls:?}");
                }
            } else if model != "sync" {
                // The sync server closes after each response unless started
                // with --keep-alive (one client at a time could starve the rest).
                assert_eq!(connections, 4, "{what}");
            }
        }
    }
}

/// Phases over plain HTTP: one connect per connection, no handshake block,
/// one ttfb per response; the server's totals are the oracle.
#[test]
fn plain_http_phases_count_one_connect_per_connection() {
    let (_server, addr) = serve("selector");
    let url = format!("http://{addr}/");
    let (r, _) = run_saved(&["-n", "30", "-c", "3", "-t", "1", &url], LIMIT);
    let p = r.phases.expect("phases");
    // One worker: with two, a worker starved by a busy machine can find
    // `-n` used up by the other before its connection ever connects.
    assert_eq!(p.connect.count, 3);
    assert!(p.tls_handshake.is_none() && r.tls.is_none());
    assert_eq!(p.ttfb.count, 30);
    let (r, _) = run_saved(
        &["-n", "12", "-c", "2", "--connection-per-request", &url],
        LIMIT,
    );
    let p = r.phases.expect("phases");
    assert_eq!(p.connect.count, 12);
    assert_eq!(p.ttfb.count, 12);
}

/// `--cert/--key`: a server that requires a client certificate accepts the
/// run with it, and without it every request fails with the server's alert.
#[test]
fn client_certificates() {
    let cert = localhost_cert();
    let client = TestCert::new(&["client.test"], false);
    let server = TlsServer::start_with(&cert, Some(&client), Behaviour::Answer);
    let url = server.url();
    let (r, _) = run_saved(
        &[
            "-n",
            "5",
            "-c",
            "1",
            "--cacert",
            cert.pem(),
            "--cert",
            client.pem(),
            "--key",
            client.key_pem(),
            &url,
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 5);
    assert_eq!(server.answered.load(Ordering::SeqCst), 5);
    let (r, _) = run_saved_with_status(
        &["-n", "3", "-c", "1", "--cacert", cert.pem(), &url],
        LIMIT,
        1,
    );
    assert_eq!(r.summary.errors, 3, "{:?}", r.summary.errors_by_cause);
    assert!(
        r.summary
            .errors_by_cause
            .keys()
            .any(|k| k.starts_with("tls:alert_")),
        "{:?}",
        r.summary.errors_by_cause
    );
}

/// A targets file mixing an https host (by name: SNI per host) and a plain
/// one: each connection speaks its own host's protocol, and the TLS
/// server answers exactly the client's count for its targets.
/// A refused certificate on a host that is not the file's first stops the
/// run like one on the first: reported, saved, exit 1 (each host has its
/// own TLS, all of them the run's one stop slot).
#[test]
fn a_refused_certificate_on_a_later_host_of_a_targets_file_stops_the_run() {
    let cert = localhost_cert();
    let tls = TlsServer::start(&cert, Behaviour::Answer);
    let (_plain, plain) = serve("selector");
    let dir = tempdir();
    let file = dir.path().join("t.txt");
    let port = tls
        .url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    std::fs::write(
        &file,
        format!("GET http://{plain}/\n\nGET https://localhost:{port}/\n"),
    )
    .unwrap();
    // No --cacert: the test certificate is not among the system's roots.
    let run = refused(&["--targets", path_str(&file)]);
    assert!(run.stderr.contains("is not trusted"), "{}", run.stderr);
}

#[test]
fn a_targets_file_mixes_https_and_http_hosts() {
    let cert = localhost_cert();
    let tls = TlsServer::start(&cert, Behaviour::Answer);
    let (_plain, plain) = serve("selector");
    let dir = tempdir();
    let file = dir.path().join("t.txt");
    let port = tls
        .url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    std::fs::write(
        &file,
        format!("GET https://localhost:{port}/\n\nGET http://{plain}/\n"),
    )
    .unwrap();
    let (r, _) = run_saved(
        &[
            "--targets",
            path_str(&file),
            "--targets-order",
            "round-robin",
            "-n",
            "100",
            "-c",
            "2",
            "--cacert",
            cert.pem(),
        ],
        LIMIT,
    );
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_cause);
    let counts: Vec<u64> = r.targets.iter().map(|t| t.requests).collect();
    assert_eq!(counts.iter().sum::<u64>(), 100);
    assert_eq!(tls.answered.load(Ordering::SeqCst), counts[0]);
    let sni = tls.sni.lock().unwrap().clone();
    assert!(
        !sni.is_empty() && sni.iter().all(|s| s.as_deref() == Some("localhost")),
        "{sni:?}"
    );
}

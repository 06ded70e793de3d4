//! Command-line options shared by the server binaries and by
//! `bench-client serve`: clap types plus the value parsers they need.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use crate::wire::authority::Authority;
use crate::wire::units;

/// The concurrency model a server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    Sync,
    Selector,
    Fork,
    /// The HTTP/2 test target (h2 on tokio; h2c with prior knowledge, or h2
    /// over TLS): a server to test HTTP/2 clients against, not a fourth
    /// classic concurrency model.
    H2,
}

impl Model {
    /// The name used on the command line and in the totals line.
    pub fn name(self) -> &'static str {
        match self {
            Model::Sync => "sync",
            Model::Selector => "selector",
            Model::Fork => "fork",
            Model::H2 => "h2",
        }
    }
}

/// Options common to all servers.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8888", value_parser = parse_listen_addr)]
    pub addr: SocketAddr,

    /// How long a client may take to send a complete request (and to accept
    /// each write of a response); e.g. 10 (seconds), 10s, 500ms. A partial request gets 408,
    /// a silent idle connection is just closed.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub read_timeout: Duration,

    /// Largest request body accepted (larger gets 413): bytes, or with a unit
    /// k, m, g (powers of 1024, also written kb/KB/KiB), e.g. 1048576, 64k, 64KB, 64MiB.
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub max_body: u64,

    /// Most request-body bytes held in memory at once, across all
    /// connections (for fork: all children together). Only `POST /echo`
    /// holds a body (to send it back); other routes discard bodies as they
    /// arrive. A body that would pass this gets 503. Same units as --max-body.
    #[arg(long, default_value = "128MiB", value_parser = parse_size)]
    pub max_buffered: u64,

    /// Let clients keep their connection open (sync server only; the others
    /// always follow HTTP/1.1 keep-alive). Off by default, as in the original
    /// iterative server: every response carries `Connection: close`.
    #[arg(long)]
    pub keep_alive: bool,

    /// Most children alive at once (fork server only); at the bound the server
    /// waits for a child to exit before accepting more.
    #[arg(long, default_value_t = 1024, value_parser = parse_max_children)]
    pub max_children: usize,

    /// Serve HTTPS with a self-signed certificate made at start-up for the
    /// listening address (and `localhost`); its PEM file is named in the
    /// `listening on https://... cert=PATH` line.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls: bool,

    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// SETTINGS_MAX_CONCURRENT_STREAMS the server announces (h2 server only);
    /// a small value tests how a client queues or spreads its streams
    /// [default: 256].
    #[arg(long, value_name = "N", value_parser = parse_at_least_one::<u32>)]
    pub max_concurrent_streams: Option<u32>,

    /// Send a graceful GOAWAY once the Nth stream of a connection is accepted
    /// (h2 server only): streams up to the last id it names are served, later
    /// ones are refused and the client must send them again elsewhere.
    #[arg(long, value_name = "N", value_parser = parse_at_least_one::<u64>)]
    pub goaway_after: Option<u64>,

    /// Answer requests for this path (query ignored) with RST_STREAM
    /// INTERNAL_ERROR instead of a response (h2 server only), e.g. /reset.
    #[arg(long, value_name = "PATH", value_parser = parse_reset_path)]
    pub reset_path: Option<String>,
}

impl ServerArgs {
    /// Refuses the flags that only `model` does not have, so that a test
    /// that asks a classic model to misbehave fails instead of passing
    /// against a server that never did.
    pub fn check_for(&self, model: Model) -> Result<(), String> {
        if model == Model::H2 {
            return Ok(());
        }
        let h2_only = [
            (
                "--max-concurrent-streams",
                self.max_concurrent_streams.is_some(),
            ),
            ("--goaway-after", self.goaway_after.is_some()),
            ("--reset-path", self.reset_path.is_some()),
        ];
        match h2_only.iter().find(|(_, given)| *given) {
            Some((flag, _)) => Err(format!(
                "{flag} is for the HTTP/2 test target only (h2), not the {} server",
                model.name()
            )),
            None => Ok(()),
        }
    }
}

/// Largest `--max-body`: a body is counted, not kept whole, but a limit
/// beyond any benchmark's would only hide a typo.
pub const MAX_BODY_LIMIT: u64 = 1 << 40;

/// Parses `--max-body` with the one size reader both crates use.
pub fn parse_size(text: &str) -> Result<u64, String> {
    units::parse_size(text, MAX_BODY_LIMIT).map_err(|e| format!("expected {e}"))
}

/// Longest `--read-timeout`: far beyond any benchmark, and small enough that
/// adding it to an `Instant` cannot overflow (which panics).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses a timeout with the one duration reader both crates use, and
/// refuses zero, which the socket layer would read as "no timeout at all".
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    match units::parse_duration(text, MAX_TIMEOUT) {
        Ok(d) if d.is_zero() => Err("expected a duration above zero, such as 10s or 500ms".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("expected {e}")),
    }
}

/// The address forms `--addr` takes, the same as a client URL's authority.
const ADDR_FORMS: &str = "HOST:PORT such as 127.0.0.1:8888, localhost:8890, [::1]:8890 \
                          or :8890 (port 0 picks a free port)";

/// Parses `--addr`: `HOST:PORT` with a name, an IPv4 address, a bracketed
/// IPv6 address or nothing (loopback) as the host.
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    let authority =
        Authority::parse(text.trim()).map_err(|e| format!("expected {ADDR_FORMS} ({e})"))?;
    let Some(port) = authority.port else {
        return Err(format!("expected {ADDR_FORMS} (the port is missing)"));
    };
    let mut addrs = (authority.host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| {
            format!(
                "expected {ADDR_FORMS} (cannot resolve '{}': {e})",
                authority.host
            )
        })?;
    addrs.next().ok_or_else(|| {
        format!(
            "expected {ADDR_FORMS} ('{}' has no address)",
            authority.host
        )
    })
}

/// A count of at least one: zero streams or a GOAWAY before any stream
/// would make a server that serves nothing.
fn parse_at_least_one<T: std::str::FromStr + PartialOrd + From<u8>>(
    text: &str,
) -> Result<T, String> {
    match text.trim().parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => Err(format!(
            "invalid count '{text}': expected a whole number of at least 1"
        )),
    }
}

/// An origin-form path, as `:path` carries it (the query is not compared).
fn parse_reset_path(text: &str) -> Result<String, String> {
    if text.starts_with('/') && !text.contains(['?', '#']) && !text.contains(char::is_whitespace) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "invalid path '{text}': expected a path such as /reset, without a query"
        ))
    }
}

fn parse_max_children(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "invalid child count '{text}': expected a whole number of at least 1, e.g. 1024"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The size and duration spellings have their one table in `wire::units`;
    // these check what the server adds: its limits and its messages.

    #[test]
    fn max_body_message_lists_the_forms() {
        assert_eq!(parse_size("64KB"), Ok(64 * 1024));
        let err = parse_size("64x").unwrap_err();
        assert_eq!(err, format!("expected {}", units::SIZE_FORMS));
    }

    #[test]
    fn timeout_zero_refused() {
        assert_eq!(
            parse_timeout("0s").unwrap_err(),
            "expected a duration above zero, such as 10s or 500ms"
        );
        assert_eq!(parse_timeout("10"), Ok(Duration::from_secs(10)));
    }

    /// Review finding: `--read-timeout 500000000000y` parsed, and the server
    /// panicked ("overflow when adding duration to instant") on its first
    /// connection.
    #[test]
    fn timeout_beyond_a_day_refused() {
        let err = parse_timeout("500000000000y").unwrap_err();
        assert_eq!(err, "expected a duration of at most 24h");
        assert_eq!(parse_timeout("24h"), Ok(MAX_TIMEOUT));
    }

    #[test]
    fn listen_addresses() {
        let v4: SocketAddr = "127.0.0.1:8890".parse().unwrap();
        assert_eq!(parse_listen_addr("127.0.0.1:8890"), Ok(v4));
        assert_eq!(parse_listen_addr(":8890"), Ok(v4));
        assert_eq!(
            parse_listen_addr("[::1]:8890"),
            Ok("[::1]:8890".parse().unwrap())
        );
        let local = parse_listen_addr("localhost:8890").unwrap();
        assert!(local.ip().is_loopback() && local.port() == 8890, "{local}");
        assert_eq!(
            parse_listen_addr("localhost").unwrap_err(),
            format!("expected {ADDR_FORMS} (the port is missing)")
        );
        assert_eq!(
            parse_listen_addr("[::1]:99999").unwrap_err(),
            format!("expected {ADDR_FORMS} (port must be a number from 0 to 65535)")
        );
    }

    #[test]
    fn h2_flags_are_checked() {
        assert_eq!(parse_at_least_one::<u32>("1"), Ok(1));
        assert!(parse_at_least_one::<u32>("0").is_err());
        assert!(parse_at_least_one::<u64>("-1").is_err());
        assert_eq!(parse_reset_path("/reset"), Ok("/reset".to_string()));
        for bad in ["reset", "/r?x", "/a b", ""] {
            assert!(parse_reset_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn h2_flags_are_refused_by_the_classic_models() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            server: ServerArgs,
        }
        let args = Cli::parse_from(["t", "--goaway-after", "3"]).server;
        assert_eq!(args.check_for(Model::H2), Ok(()));
        assert_eq!(
            args.check_for(Model::Selector).unwrap_err(),
            "--goaway-after is for the HTTP/2 test target only (h2), not the selector server"
        );
        let plain = Cli::parse_from(["t"]).server;
        assert_eq!(plain.check_for(Model::Fork), Ok(()));
    }

    #[test]
    fn max_children_zero_refused() {
        assert!(parse_max_children("0").is_err());
    }
}

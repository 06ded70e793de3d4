//! The validated configuration of a load run, built from [`RunArgs`].
//!
//! Everything the user can get wrong is caught here, before any socket is
//! opened, with an error that quotes the flag, the bad value and the forms
//! that are accepted. The engine never sees clap's types.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reference_servers::Model;

use crate::cli::RunArgs;
use crate::result::RunConfig;

/// Largest accepted request body: the body is built once and kept in memory.
pub const MAX_BODY_BYTES: u64 = 1 << 30;

const SIZE_FORMS: &str = "a size in bytes such as 512, 64k (= 65536), 1m, 64KiB or 1MiB";
const DURATION_FORMS: &str = "a duration such as 10s, 500ms or 2m";

/// Why the command line does not describe a run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid value '{value}' for {flag}: expected {expected}")]
    Invalid {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("https is not supported yet: {0} (use an http:// URL)")]
    Https(String),
    #[error("invalid URL '{url}': {reason}")]
    Url { url: String, reason: &'static str },
    #[error("cannot read --body-file '{path}'")]
    BodyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--body-file '{path}' is {bytes} bytes, more than the limit of {limit} bytes")]
    BodyTooLarge {
        path: PathBuf,
        bytes: u64,
        limit: u64,
    },
}

/// CPUs above this are refused: the kernel's `cpu_set_t` holds 1024.
const MAX_CPU: usize = 1023;

/// Parses a CPU list as taskset and /sys write it: `0`, `0,2`, `1-3,6`.
pub fn parse_cpu_list(text: &str) -> Result<Vec<usize>, ConfigError> {
    let invalid = || ConfigError::Invalid {
        flag: "--server-cpus",
        value: text.to_string(),
        expected: "a CPU list such as 0, 0,2 or 1-3 (CPU numbers from 0 to 1023)",
    };
    let mut cpus = Vec::new();
    for part in text.split(',') {
        let number = |s: &str| -> Result<usize, ConfigError> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            s.parse::<usize>()
                .ok()
                .filter(|&n| n <= MAX_CPU)
                .ok_or_else(invalid)
        };
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if lo > hi {
                    return Err(invalid());
                }
                cpus.extend(lo..=hi);
            }
            None => cpus.push(number(part)?),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// Where the run ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// After this long (measured phase, warm-up not included).
    Duration(Duration),
    /// After exactly this many request attempts (responses plus failed attempts).
    Requests(u64),
}

/// Where the JSON result goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    File(PathBuf),
    /// `DIR/<UTC timestamp>-<label>.json`.
    Dir(PathBuf),
    None,
}

/// Where the request body comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum BodySource {
    None,
    Payload(u64),
    File(PathBuf),
}

/// A plain `http://` URL, split for request building and connecting.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpUrl {
    pub host: String,
    pub port: u16,
    /// Path and query, always starting with `/`.
    pub path: String,
}

impl HttpUrl {
    /// Parses `http://host[:port][/path][?query]` (IPv6 hosts in brackets).
    pub fn parse(url: &str) -> Result<HttpUrl, ConfigError> {
        let bad = |reason| ConfigError::Url {
            url: url.to_string(),
            reason,
        };
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("https://") {
            return Err(ConfigError::Https(url.to_string()));
        }
        if !lower.starts_with("http://") {
            return Err(bad("expected http://HOST[:PORT][/PATH]"));
        }
        let rest = &url["http://".len()..];
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        let path = match path.find('#') {
            Some(i) => path[..i].to_string(),
            None => path,
        };
        if authority.contains('@') {
            return Err(bad("user information in URLs is not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(|| bad("unclosed '[' in host"))?;
            let host = &v6[..end];
            match &v6[end + 1..] {
                "" => (host, None),
                p => match p.strip_prefix(':') {
                    Some(p) => (host, Some(p)),
                    None => return Err(bad("expected ':PORT' after ']'")),
                },
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        let port = match port {
            None => 80,
            Some(p) => p.parse::<u16>().map_err(|_| bad("port must be 0..65535"))?,
        };
        Ok(HttpUrl {
            host: host.to_string(),
            port,
            path,
        })
    }

    /// `host:port` as a `Host` header value and as a `ToSocketAddrs` string.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL written back, e.g. into the result.
    pub fn to_url(&self) -> String {
        format!("http://{}{}", self.authority(), self.path)
    }
}

/// A validated load run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL as given (with `--server`, its host and port are replaced at run time).
    pub url: HttpUrl,
    pub method: String,
    /// `-H` values, each checked to be `Name: value`.
    pub headers: Vec<String>,
    pub body_source: BodySource,
    /// The request body, read or generated once.
    pub body: Vec<u8>,
    pub max_clients: u32,
    pub max_conns: u32,
    /// Worker threads asked for; `None` means available cores (at most the connections).
    pub threads: Option<u32>,
    pub stop: Stop,
    /// Open-loop total rate (requests per second); `None` is a closed loop.
    pub rate: Option<f64>,
    pub connection_per_request: bool,
    pub timeout: Duration,
    pub warmup: Duration,
    pub server: Option<Model>,
    /// CPUs the `--server` child is pinned to (sorted, no duplicates).
    pub server_cpus: Option<Vec<usize>>,
    pub output: Output,
    pub label: Option<String>,
    pub quiet: bool,
}

impl Config {
    /// Validates the command line; reads `--body-file`.
    pub fn from_args(args: &RunArgs) -> Result<Config, ConfigError> {
        let url = HttpUrl::parse(&args.url)?;
        let positive = |flag: &'static str, value: u64| {
            if value == 0 {
                Err(ConfigError::Invalid {
                    flag,
                    value: value.to_string(),
                    expected: "a whole number of at least 1",
                })
            } else {
                Ok(())
            }
        };
        positive("--max-clients", args.max_clients.into())?;
        positive("--max-conns", args.max_conns.into())?;
        if let Some(t) = args.threads {
            positive("--threads", t.into())?;
        }
        if let Some(n) = args.requests {
            positive("--requests", n)?;
        }
        let too_many = match args.max_clients.checked_mul(args.max_conns) {
            Some(c) => c > i32::MAX as u32,
            None => true,
        };
        if too_many {
            return Err(ConfigError::Invalid {
                flag: "--max-clients x --max-conns",
                value: format!("{} x {}", args.max_clients, args.max_conns),
                expected: "a product that fits the file descriptor limit",
            });
        }
        let stop = match (args.requests, &args.duration) {
            (Some(n), _) => Stop::Requests(n),
            (None, Some(d)) => Stop::Duration(parse_duration("--duration", d, false)?),
            (None, None) => Stop::Duration(Duration::from_secs(10)),
        };
        let timeout = parse_duration("--timeout", &args.timeout, false)?;
        let warmup = parse_duration("--warmup", &args.warmup, true)?;
        let rate = match args.rate {
            None => None,
            Some(r) if r.is_finite() && r > 0.0 && r <= 1e9 => Some(r),
            Some(r) => {
                return Err(ConfigError::Invalid {
                    flag: "--rate",
                    value: r.to_string(),
                    expected: "requests per second, a number above 0 (e.g. 1, 2000, 0.5)",
                })
            }
        };
        let (body_source, body) = match (&args.payload, &args.body_file) {
            (Some(p), _) => {
                let n = parse_size("--payload", p)?;
                (BodySource::Payload(n), payload_bytes(n))
            }
            (None, Some(path)) => (BodySource::File(path.clone()), read_body(path)?),
            (None, None) => (BodySource::None, Vec::new()),
        };
        let method = match &args.method {
            Some(m) if is_token(m) => m.clone(),
            Some(m) => {
                return Err(ConfigError::Invalid {
                    flag: "--method",
                    value: m.clone(),
                    expected: "an HTTP method token such as GET, POST or PUT",
                })
            }
            None if body_source != BodySource::None => "POST".to_string(),
            None => "GET".to_string(),
        };
        for h in &args.headers {
            let ok = match h.split_once(':') {
                Some((name, value)) => {
                    is_token(name) && !value.bytes().any(|b| b == b'\r' || b == b'\n')
                }
                None => false,
            };
            if !ok {
                return Err(ConfigError::Invalid {
                    flag: "--header",
                    value: h.clone(),
                    expected: "'Name: value', e.g. 'Accept: text/plain'",
                });
            }
            // The client frames every body itself: a user's length or coding
            // that disagrees with the bytes sent would desynchronise each
            // keep-alive connection, and the server would count garbage.
            let name = h.split_once(':').map_or("", |(n, _)| n.trim());
            if name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding")
            {
                return Err(ConfigError::Invalid {
                    flag: "--header",
                    value: h.clone(),
                    expected: "a header other than Content-Length or Transfer-Encoding \
                               (bench-client frames the body itself; set its size with --payload or --body-file)",
                });
            }
        }
        let output = match (&args.output, args.no_save) {
            (_, true) => Output::None,
            (Some(p), false) => Output::File(p.clone()),
            (None, false) => Output::Dir(args.results_dir.clone()),
        };
        Ok(Config {
            url,
            method,
            headers: args.headers.clone(),
            body_source,
            body,
            max_clients: args.max_clients,
            max_conns: args.max_conns,
            threads: args.threads,
            stop,
            rate,
            connection_per_request: args.connection_per_request,
            timeout,
            warmup,
            server: args.server,
            server_cpus: args
                .server_cpus
                .as_deref()
                .map(parse_cpu_list)
                .transpose()?,
            output,
            label: args.label.clone(),
            quiet: args.quiet,
        })
    }

    /// `--max-clients * --max-conns`.
    pub fn connections(&self) -> u32 {
        self.max_clients * self.max_conns
    }

    /// Worker threads actually used: at least 1, at most one per connection.
    pub fn effective_threads(&self) -> u32 {
        let default = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        self.threads
            .unwrap_or(default)
            .clamp(1, self.connections().max(1))
    }

    /// The `config` block of the result; `url` is the URL actually driven.
    pub fn run_config(&self, url: &str) -> RunConfig {
        RunConfig {
            url: url.to_string(),
            method: self.method.clone(),
            headers: self.headers.clone(),
            max_clients: self.max_clients,
            max_conns: self.max_conns,
            connections: self.connections(),
            threads: self.effective_threads(),
            duration_s: match self.stop {
                Stop::Duration(d) => Some(d.as_secs_f64()),
                Stop::Requests(_) => None,
            },
            requests: match self.stop {
                Stop::Requests(n) => Some(n),
                Stop::Duration(_) => None,
            },
            payload_bytes: self.body.len() as u64,
            body_file: match &self.body_source {
                BodySource::File(p) => Some(p.display().to_string()),
                _ => None,
            },
            connection_per_request: self.connection_per_request,
            timeout_s: self.timeout.as_secs_f64(),
            warmup_s: self.warmup.as_secs_f64(),
            rate: self.rate,
            server: self.server.map(|m| m.name().to_string()),
            server_cpus: self.server_cpus.clone(),
        }
    }
}

/// Parses `512`, `64k`, `1m`, `2g`, `64KiB`, `1MiB`, `1GiB`, `100b`
/// (case-insensitive; every multiple is binary: `64k` is 65,536).
pub fn parse_size(flag: &'static str, s: &str) -> Result<u64, ConfigError> {
    let bad = || ConfigError::Invalid {
        flag,
        value: s.to_string(),
        expected: SIZE_FORMS,
    };
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(bad());
    }
    let n: u64 = t[..digits].parse().map_err(|_| bad())?;
    let shift = match t[digits..].trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => return Err(bad()),
    };
    let bytes = n.checked_mul(1u64 << shift).ok_or_else(bad)?;
    if bytes > MAX_BODY_BYTES {
        return Err(ConfigError::Invalid {
            flag,
            value: s.to_string(),
            expected: "a size of at most 1GiB",
        });
    }
    Ok(bytes)
}

/// Parses a humantime duration (`10s`, `500ms`, `2m`, `1h 30m`); `0` alone is
/// accepted where `allow_zero` (e.g. `--warmup 0`).
pub fn parse_duration(
    flag: &'static str,
    s: &str,
    allow_zero: bool,
) -> Result<Duration, ConfigError> {
    let bad = || ConfigError::Invalid {
        flag,
        value: s.to_string(),
        expected: DURATION_FORMS,
    };
    let t = s.trim();
    let d = if allow_zero && t == "0" {
        Duration::ZERO
    } else {
        humantime::parse_duration(t).map_err(|_| bad())?
    };
    if d.is_zero() && !allow_zero {
        return Err(ConfigError::Invalid {
            flag,
            value: s.to_string(),
            expected: "a duration above zero, such as 10s, 500ms or 2m",
        });
    }
    if d > Duration::from_secs(365 * 24 * 3600) {
        return Err(ConfigError::Invalid {
            flag,
            value: s.to_string(),
            expected: "a duration of at most a year",
        });
    }
    Ok(d)
}

/// A body of `n` printable bytes (a repeating alphabet, so captures stay readable).
fn payload_bytes(n: u64) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

fn read_body(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let io = |source| ConfigError::BodyFile {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_BODY_BYTES {
        return Err(ConfigError::BodyTooLarge {
            path: path.to_path_buf(),
            bytes: len,
            limit: MAX_BODY_BYTES,
        });
    }
    std::fs::read(path).map_err(io)
}

/// RFC 9110 `token`: what a method or a header name may be made of.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec!["bench-client"];
        argv.extend_from_slice(args);
        Config::from_args(&Cli::try_parse_from(argv).expect("clap accepts").run)
    }

    #[test]
    fn server_cpu_lists() {
        assert_eq!(parse_cpu_list("0").unwrap(), vec![0]);
        assert_eq!(parse_cpu_list("3,1-2,2").unwrap(), vec![1, 2, 3]);
        for bad in ["", "a", "1-", "-1", "3-1", "1024", "0,,1", "+1"] {
            let err = parse_cpu_list(bad).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "invalid value '{bad}' for --server-cpus: expected a CPU list such as 0, 0,2 or 1-3 (CPU numbers from 0 to 1023)"
                )
            );
        }
    }

    #[test]
    fn sizes() {
        let table: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("512", Some(512)),
            ("64k", Some(65_536)),
            ("64K", Some(65_536)),
            ("1m", Some(1 << 20)),
            ("64KiB", Some(65_536)),
            ("1MiB", Some(1 << 20)),
            ("1GiB", Some(1 << 30)),
            ("100b", Some(100)),
            (" 8 k", Some(8192)),
            ("2GiB", None),
            ("", None),
            ("k", None),
            ("64x", None),
            ("1.5k", None),
            ("-1", None),
            ("64kb", None),
            ("99999999999999999999", None),
        ];
        for &(input, want) in table {
            let got = parse_size("--payload", input).ok();
            assert_eq!(got, want, "parse_size({input:?})");
        }
    }

    #[test]
    fn durations() {
        let table: &[(&str, bool, Option<Duration>)] = &[
            ("10s", false, Some(Duration::from_secs(10))),
            ("500ms", false, Some(Duration::from_millis(500))),
            ("2m", false, Some(Duration::from_secs(120))),
            ("1h 30m", false, Some(Duration::from_secs(5400))),
            ("0", true, Some(Duration::ZERO)),
            ("0s", true, Some(Duration::ZERO)),
            ("0s", false, None),
            ("0", false, None),
            ("10", false, None),
            ("10q", false, None),
            ("", false, None),
            ("fast", false, None),
        ];
        for &(input, allow_zero, want) in table {
            let got = parse_duration("--duration", input, allow_zero).ok();
            assert_eq!(got, want, "parse_duration({input:?}, {allow_zero})");
        }
    }

    #[test]
    fn urls() {
        let ok: &[(&str, &str, u16, &str)] = &[
            ("http://127.0.0.1:8888/", "127.0.0.1", 8888, "/"),
            ("http://localhost", "localhost", 80, "/"),
            ("HTTP://h:1/a/b?c=d#frag", "h", 1, "/a/b?c=d"),
            ("http://h:2?q", "h", 2, "/?q"),
            ("http://[::1]:9/x", "::1", 9, "/x"),
        ];
        for &(input, host, port, path) in ok {
            let u = HttpUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (u.host.as_str(), u.port, u.path.as_str()),
                (host, port, path)
            );
        }
        for bad in [
            "ftp://x/",
            "127.0.0.1:8080",
            "http://",
            "http://h:99999/",
            "http://[::1/",
        ] {
            assert!(
                matches!(HttpUrl::parse(bad), Err(ConfigError::Url { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            HttpUrl::parse("https://x/"),
            Err(ConfigError::Https(_))
        ));
    }

    #[test]
    fn error_messages_name_flag_value_and_forms() {
        let e = config(&["--payload", "64x"]).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value '64x' for --payload: expected a size in bytes such as 512, 64k (= 65536), 1m, 64KiB or 1MiB"
        );
        let e = config(&["-d", "ten"]).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value 'ten' for --duration: expected a duration such as 10s, 500ms or 2m"
        );
        let e = config(&["https://example.com/"]).unwrap_err().to_string();
        assert_eq!(
            e,
            "https is not supported yet: https://example.com/ (use an http:// URL)"
        );
        let e = config(&["-H", "NoColon"]).unwrap_err().to_string();
        assert!(e.starts_with("invalid value 'NoColon' for --header"), "{e}");
        let e = config(&["--max-conns", "0"]).unwrap_err().to_string();
        assert!(e.starts_with("invalid value '0' for --max-conns"), "{e}");
        let e = config(&["-R", "0"]).unwrap_err().to_string();
        assert!(e.starts_with("invalid value '0' for --rate"), "{e}");
    }

    #[test]
    fn defaults_and_implied_method() {
        let c = config(&[]).unwrap();
        assert_eq!(c.stop, Stop::Duration(Duration::from_secs(10)));
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.method, "GET");
        assert_eq!(c.connections(), 1);
        assert_eq!(c.effective_threads(), 1);
        assert_eq!(c.output, Output::Dir(PathBuf::from("results")));
        let c = config(&[
            "--payload",
            "1k",
            "--max-clients",
            "3",
            "--max-conns",
            "4",
            "-n",
            "7",
        ])
        .unwrap();
        assert_eq!(c.method, "POST");
        assert_eq!(c.body.len(), 1024);
        assert_eq!(c.connections(), 12);
        assert_eq!(c.stop, Stop::Requests(7));
        let c = config(&["--payload", "1k", "-m", "PUT", "--no-save", "-t", "64"]).unwrap();
        assert_eq!(c.method, "PUT");
        assert_eq!(c.output, Output::None);
        assert_eq!(
            c.effective_threads(),
            1,
            "threads are capped at the connections"
        );
    }

    /// Review finding: `-H 'Content-Length: 5' --payload 64k` sent the user's
    /// length with 65,536 body bytes, so the server read the rest of the body
    /// as the next requests (the comment in `build_request` claimed the
    /// opposite). Framing headers are now refused.
    #[test]
    fn framing_headers_are_refused() {
        for h in [
            "Content-Length: 5",
            "content-length:0",
            "Transfer-Encoding: chunked",
        ] {
            let e = config(&["--payload", "64k", "-H", h])
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!(
                    "invalid value '{h}' for --header: expected a header other than Content-Length"
                )),
                "{e}"
            );
        }
        assert!(config(&["-H", "Content-Type: text/plain", "--payload", "1k"]).is_ok());
    }

    #[test]
    fn missing_body_file_names_the_path() {
        let e = config(&["--body-file", "/nonexistent/body.bin"])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "cannot read --body-file '/nonexistent/body.bin'");
    }
}

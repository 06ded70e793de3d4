//! The line a server prints once it accepts connections, which whoever
//! started it (bench-client's supervisor, the tests, the scripts) waits for
//! to learn the port:
//!
//! ```text
//! listening on SCHEME://IP:PORT[ KEY=VALUE]...
//! ```
//!
//! `SCHEME` is `http` or `https`; `IP:PORT` is a socket address as Rust
//! prints it (IPv6 in brackets, `[::1]:8890`); each field is one
//! `key=value` word, such as `cert=PATH` for an https server. Keys and
//! values contain no whitespace, and keys no `=`. The servers print it
//! through [`ListeningLine`]'s `Display`, and bench-client and the tests
//! read it with [`ListeningLine::parse`], so they cannot disagree. The
//! scripts, which cannot call Rust, read it in one shell function
//! (`listen_addr` in `scripts/lib.sh`) that must change with this form.

use std::fmt;
use std::net::SocketAddr;

/// What every listening line starts with.
pub const PREFIX: &str = "listening on ";

/// How a client must talk to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Where a server listens, and anything else a client needs to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListeningLine {
    pub scheme: Scheme,
    pub addr: SocketAddr,
    /// `key=value` fields after the address, in the order printed.
    pub fields: Vec<(String, String)>,
}

/// Why a line is not a listening line; the message completes
/// "not a listening line: REASON".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListeningError {
    #[error("it does not start with `listening on `")]
    Prefix,
    #[error("expected http:// or https:// after `listening on `")]
    Scheme,
    #[error("expected IP:PORT after the scheme, found `{0}`")]
    Addr(String),
    #[error("expected key=value after the address, found `{0}`")]
    Field(String),
}

impl ListeningLine {
    /// A plain-HTTP server's line, without fields.
    pub fn http(addr: SocketAddr) -> ListeningLine {
        ListeningLine {
            scheme: Scheme::Http,
            addr,
            fields: Vec::new(),
        }
    }

    /// An HTTPS server's line, `listening on https://IP:PORT cert=PATH`,
    /// naming the PEM file a client trusts to reach it. A path the line
    /// cannot carry as one word (whitespace, not UTF-8) is left out: a line
    /// without `cert` still tells a client where to connect.
    pub fn https(addr: SocketAddr, cert: &std::path::Path) -> ListeningLine {
        let fields = cert
            .to_str()
            .filter(|path| !path.is_empty() && !path.contains(char::is_whitespace))
            .map(|path| vec![("cert".to_string(), path.to_string())])
            .unwrap_or_default();
        ListeningLine {
            scheme: Scheme::Https,
            addr,
            fields,
        }
    }

    /// The value of field `key`, if the line has it.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Reads a line as printed. Surrounding whitespace (a `\r\n`) is
    /// ignored, and so is one `/` after the port, as a URL would have it.
    pub fn parse(line: &str) -> Result<ListeningLine, ListeningError> {
        let rest = line
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(ListeningError::Prefix)?;
        let (scheme, rest) = if let Some(rest) = rest.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if let Some(rest) = rest.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else {
            return Err(ListeningError::Scheme);
        };
        let mut words = rest.split_ascii_whitespace();
        let addr = words.next().unwrap_or_default();
        let addr = addr
            .strip_suffix('/')
            .unwrap_or(addr)
            .parse()
            .map_err(|_| ListeningError::Addr(addr.to_string()))?;
        let fields = words
            .map(|word| match word.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(ListeningError::Field(word.to_string())),
            })
            .collect::<Result<_, _>>()?;
        Ok(ListeningLine {
            scheme,
            addr,
            fields,
        })
    }
}

/// The line as printed, without a trailing newline.
impl fmt::Display for ListeningLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}://{}", self.scheme.as_str(), self.addr)?;
        for (key, value) in &self.fields {
            write!(f, " {key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_https_line_names_the_certificate_when_it_can() {
        let line = ListeningLine::https(addr("127.0.0.1:8443"), "/tmp/r-1/cert.pem".as_ref());
        assert_eq!(
            line.to_string(),
            "listening on https://127.0.0.1:8443 cert=/tmp/r-1/cert.pem"
        );
        assert_eq!(ListeningLine::parse(&line.to_string()), Ok(line));
        let spaced = ListeningLine::https(addr("[::1]:1"), "/tmp/my certs/c.pem".as_ref());
        assert_eq!(spaced.to_string(), "listening on https://[::1]:1");
    }

    #[test]
    fn prints_the_documented_form() {
        assert_eq!(
            ListeningLine::http(addr("127.0.0.1:8890")).to_string(),
            "listening on http://127.0.0.1:8890"
        );
        assert_eq!(
            ListeningLine::http(addr("[::1]:80")).to_string(),
            "listening on http://[::1]:80"
        );
        let tls = ListeningLine {
            scheme: Scheme::Https,
            addr: addr("127.0.0.1:1"),
            fields: vec![("cert".into(), "/tmp/c.pem".into())],
        };
        assert_eq!(
            tls.to_string(),
            "listening on https://127.0.0.1:1 cert=/tmp/c.pem"
        );
    }

    #[test]
    fn reads_back_what_it_prints() {
        let lines = [
            ListeningLine::http(addr("127.0.0.1:8890")),
            ListeningLine::http(addr("[::1]:0")),
            ListeningLine {
                scheme: Scheme::Https,
                addr: addr("[fe80::1]:443"),
                fields: vec![
                    ("cert".into(), "/tmp/c.pem".into()),
                    ("alpn".into(), "h2,http/1.1".into()),
                    ("empty".into(), String::new()),
                ],
            },
        ];
        for line in lines {
            let text = line.to_string();
            assert_eq!(ListeningLine::parse(&text), Ok(line), "{text}");
        }
    }

    #[test]
    fn reads_what_servers_have_always_printed() {
        let ok: &[(&str, Scheme, &str)] = &[
            (
                "listening on http://127.0.0.1:8888\n",
                Scheme::Http,
                "127.0.0.1:8888",
            ),
            ("listening on http://[::1]:80/", Scheme::Http, "[::1]:80"),
            (
                "listening on https://127.0.0.1:1\r\n",
                Scheme::Https,
                "127.0.0.1:1",
            ),
        ];
        for &(text, scheme, want) in ok {
            let line = ListeningLine::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!((line.scheme, line.addr), (scheme, addr(want)), "{text:?}");
            assert!(line.fields.is_empty(), "{text:?}");
        }
    }

    #[test]
    fn fields_are_found_by_key() {
        let line =
            ListeningLine::parse("listening on https://127.0.0.1:1  cert=a=b  key=k").unwrap();
        assert_eq!(line.field("cert"), Some("a=b"));
        assert_eq!(line.field("key"), Some("k"));
        assert_eq!(line.field("alpn"), None);
    }

    #[test]
    fn garbage_is_refused_with_the_reason() {
        let bad: &[(&str, ListeningError)] = &[
            ("starting", ListeningError::Prefix),
            ("", ListeningError::Prefix),
            ("Listening on http://127.0.0.1:1", ListeningError::Prefix),
            ("listening on ftp://127.0.0.1:1", ListeningError::Scheme),
            ("listening on 127.0.0.1:1", ListeningError::Scheme),
            ("listening on http://", ListeningError::Addr(String::new())),
            (
                "listening on http://localhost:1",
                ListeningError::Addr("localhost:1".into()),
            ),
            (
                "listening on http://127.0.0.1",
                ListeningError::Addr("127.0.0.1".into()),
            ),
            (
                "listening on http://::1:80",
                ListeningError::Addr("::1:80".into()),
            ),
            (
                "listening on http://127.0.0.1:99999",
                ListeningError::Addr("127.0.0.1:99999".into()),
            ),
            (
                "listening on http://127.0.0.1:1 cert",
                ListeningError::Field("cert".into()),
            ),
            (
                "listening on http://127.0.0.1:1 =x",
                ListeningError::Field("=x".into()),
            ),
        ];
        for (text, want) in bad {
            assert_eq!(ListeningLine::parse(text).as_ref(), Err(want), "{text:?}");
        }
    }
}

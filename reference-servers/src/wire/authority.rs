//! `host[:port]` as it appears in a URL and in `--addr`: one reading for the
//! client's URLs and the servers' listen addresses, so that whatever names a
//! server in one place names it in the other (`localhost:8890`,
//! `[::1]:8890`, `:8890`).

/// The host an empty one stands for (`:8890`): loopback, never every
/// interface, since a benchmark target should not be reachable from outside
/// by accident.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// A split `host[:port]`; IPv6 hosts are kept without their brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub host: String,
    /// `None` when no port was written (or only a colon, as in `host:`).
    pub port: Option<u16>,
}

/// Why an authority was refused; the message completes "... : REASON".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    #[error("user information (user@) is not supported")]
    UserInfo,
    #[error("unclosed '[' in host")]
    UnclosedBracket,
    #[error("expected ':PORT' after ']'")]
    AfterBracket,
    #[error("port must be a number from 0 to 65535")]
    Port,
}

impl Authority {
    /// Splits `host[:port]`; an empty host is [`DEFAULT_HOST`].
    pub fn parse(text: &str) -> Result<Authority, AuthorityError> {
        if text.contains('@') {
            return Err(AuthorityError::UserInfo);
        }
        let (host, port) = if let Some(v6) = text.strip_prefix('[') {
            let end = v6.find(']').ok_or(AuthorityError::UnclosedBracket)?;
            match &v6[end + 1..] {
                "" => (&v6[..end], None),
                rest => match rest.strip_prefix(':') {
                    Some(p) => (&v6[..end], Some(p)),
                    None => return Err(AuthorityError::AfterBracket),
                },
            }
        } else {
            match text.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (text, None),
            }
        };
        let port = match port {
            None | Some("") => None,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse::<u16>().map_err(|_| AuthorityError::Port)?)
            }
            Some(_) => return Err(AuthorityError::Port),
        };
        let host = if host.is_empty() { DEFAULT_HOST } else { host };
        Ok(Authority {
            host: host.to_string(),
            port,
        })
    }
}

/// `host:port` for a `Host` header and for `ToSocketAddrs`, with brackets
/// around an IPv6 host.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        let ok: &[(&str, &str, Option<u16>)] = &[
            ("localhost:8890", "localhost", Some(8890)),
            ("127.0.0.1:0", "127.0.0.1", Some(0)),
            ("[::1]:8890", "::1", Some(8890)),
            ("[::1]", "::1", None),
            (":8890", DEFAULT_HOST, Some(8890)),
            ("example.com", "example.com", None),
            ("example.com:", "example.com", None),
            ("", DEFAULT_HOST, None),
        ];
        for &(input, host, port) in ok {
            let a = Authority::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((a.host.as_str(), a.port), (host, port), "{input}");
        }
        let bad: &[(&str, AuthorityError)] = &[
            ("u@h:1", AuthorityError::UserInfo),
            ("[::1", AuthorityError::UnclosedBracket),
            ("[::1]8890", AuthorityError::AfterBracket),
            ("h:99999", AuthorityError::Port),
            ("h:-1", AuthorityError::Port),
            ("h:+1", AuthorityError::Port),
            ("h:http", AuthorityError::Port),
        ];
        for &(input, want) in bad {
            assert_eq!(Authority::parse(input), Err(want), "{input}");
        }
    }

    #[test]
    fn host_port_brackets_ipv6() {
        assert_eq!(host_port("::1", 80), "[::1]:80");
        assert_eq!(host_port("localhost", 8888), "localhost:8888");
    }
}

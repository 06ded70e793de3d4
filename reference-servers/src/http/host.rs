//! The `Host` field's grammar (RFC 9112 3.2: `Host = uri-host [ ":" port ]`,
//! with RFC 3986's `IP-literal / IPv4address / reg-name` and `port = *DIGIT`).
//! RFC 9112 3.2 says a server must answer 400 to a Host field with an
//! invalid value; a lenient server lets two hops disagree on which host a
//! request is for.
//!
//! An empty value is valid: RFC 9112 3.3 lets a server with an empty
//! authority apply a configured default, and these servers have exactly one
//! site. (An absolute-form target names its own host, and RFC 9112 3.2.3 says
//! the Host field is then ignored; it must still be well-formed.)

use super::HttpError;

/// The 400 to answer if `value` (trimmed of OWS) is not a valid Host.
pub(super) fn check(value: &[u8]) -> Result<(), HttpError> {
    let (host, port) = if let Some(literal) = value.strip_prefix(b"[") {
        let Some(end) = literal.iter().position(|&b| b == b']') else {
            return Err(bad("invalid Host: an IP literal without its closing ']'"));
        };
        if !ip_literal(&literal[..end]) {
            return Err(bad(
                "invalid Host: a malformed IP literal (IPv6 or IPvFuture) in [ ]",
            ));
        }
        let rest = &literal[end + 1..];
        match rest.split_first() {
            None => (&[][..], None),
            Some((b':', port)) => (&[][..], Some(port)),
            Some(_) => return Err(bad("invalid Host: something other than ':PORT' after ']'")),
        }
    } else {
        // A reg-name holds no ':', so the first one starts the port.
        match value.iter().position(|&b| b == b':') {
            Some(colon) => (&value[..colon], Some(&value[colon + 1..])),
            None => (value, None),
        }
    };
    if !reg_name(host) {
        return Err(bad(
            "invalid Host: a character a host name cannot hold (letters, digits, -._~!$&'()*+,;= and %XX only)",
        ));
    }
    if port.is_some_and(|p| !p.iter().all(u8::is_ascii_digit)) {
        return Err(bad("invalid Host: a port that is not digits"));
    }
    Ok(())
}

fn bad(reason: &'static str) -> HttpError {
    HttpError::new(400, reason)
}

/// `reg-name = *( unreserved / pct-encoded / sub-delims )`; an IPv4 address
/// is one too, as far as the grammar goes.
fn reg_name(name: &[u8]) -> bool {
    let mut i = 0;
    while i < name.len() {
        match name[i] {
            b'%' => {
                let hex = name.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
                continue;
            }
            b if unreserved(b) || sub_delim(b) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// `IP-literal = "[" ( IPv6address / IPvFuture ) "]"`, brackets removed.
fn ip_literal(inside: &[u8]) -> bool {
    if let Some(future) = inside.strip_prefix(b"v").or(inside.strip_prefix(b"V")) {
        // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
        let Some(dot) = future.iter().position(|&b| b == b'.') else {
            return false;
        };
        let (version, rest) = (&future[..dot], &future[dot + 1..]);
        return !version.is_empty()
            && version.iter().all(u8::is_ascii_hexdigit)
            && !rest.is_empty()
            && rest
                .iter()
                .all(|&b| unreserved(b) || sub_delim(b) || b == b':');
    }
    std::str::from_utf8(inside).is_ok_and(|text| text.parse::<std::net::Ipv6Addr>().is_ok())
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_hosts() {
        for host in [
            "",
            "t",
            "example.com",
            "example.com:80",
            "example.com:",
            "127.0.0.1:8888",
            "999.1.1.1",
            "[::1]",
            "[::1]:8888",
            "[2001:db8::ffff:192.0.2.1]:1",
            "[v1.fe80::a+en1]",
            "ex%41mple",
            "a-b_c~d!$&'()*+,;=",
            "x:99999",
        ] {
            assert_eq!(check(host.as_bytes()), Ok(()), "{host:?}");
        }
    }

    /// Adversarial finding: these were answered 200.
    #[test]
    fn invalid_hosts() {
        for host in [
            "a b",
            "x/y?z",
            "exa@mple:80",
            "x:port",
            "x:80:80",
            "[::1",
            "[::1]x",
            "[::1]:8a",
            "[not-v6]",
            "[v.x]",
            "[v1.]",
            "::1",
            "ex%4",
            "ex%zz",
            "a\"b",
            "é",
        ] {
            assert!(check(host.as_bytes()).is_err(), "{host:?}");
        }
    }
}

//! The request a run sends: head and body built once, as one shared byte
//! string that every connection writes from its own offset.

use std::sync::Arc;

/// What goes into the request head besides the method and path.
#[derive(Debug, Clone)]
pub struct RequestSpec<'a> {
    pub method: &'a str,
    /// Path and query, starting with `/`.
    pub path: &'a str,
    /// `Host` header value.
    pub host: &'a str,
    /// `-H` lines, `Name: value`.
    pub headers: &'a [String],
    pub body: &'a [u8],
    /// Ask the server to close after the response (`--connection-per-request`).
    pub connection_close: bool,
}

/// The complete request, head and body, as one shared byte string.
pub fn build_request(spec: &RequestSpec<'_>) -> Arc<[u8]> {
    let has = |name: &str| {
        spec.headers.iter().any(|h| {
            h.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        })
    };
    let mut head = format!("{} {} HTTP/1.1\r\n", spec.method, spec.path);
    if !has("host") {
        head.push_str(&format!("Host: {}\r\n", spec.host));
    }
    if !has("user-agent") {
        head.push_str(&format!(
            "User-Agent: bench-client/{}\r\n",
            env!("CARGO_PKG_VERSION")
        ));
    }
    // A body is always framed by us: the config refuses a user's
    // Content-Length or Transfer-Encoding, which could lie.
    let wants_length = !spec.body.is_empty() || matches!(spec.method, "POST" | "PUT" | "PATCH");
    if wants_length {
        head.push_str(&format!("Content-Length: {}\r\n", spec.body.len()));
    }
    if spec.connection_close && !has("connection") {
        head.push_str("Connection: close\r\n");
    }
    for h in spec.headers {
        let (name, value) = h.split_once(':').unwrap_or((h, ""));
        head.push_str(&format!("{}: {}\r\n", name.trim(), value.trim()));
    }
    head.push_str("\r\n");
    let mut bytes = Vec::with_capacity(head.len() + spec.body.len());
    bytes.extend_from_slice(head.as_bytes());
    bytes.extend_from_slice(spec.body);
    bytes.into()
}

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

/// Headers that HTTP/2 forbids (RFC 9113 8.2.2): they describe the
/// HTTP/1.1 connection, which HTTP/2 replaces. `TE` is allowed only as
/// `trailers`.
const CONNECTION_SPECIFIC: [&str; 5] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

fn is_connection_specific(name: &str, value: &str) -> bool {
    let name = name.trim();
    CONNECTION_SPECIFIC
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name))
        || (name.eq_ignore_ascii_case("te") && !value.trim().eq_ignore_ascii_case("trailers"))
}

/// The `-H` names an HTTP/2 request drops, as given, for the notice.
pub fn h2_dropped_headers(headers: &[String]) -> Vec<String> {
    headers
        .iter()
        .filter_map(|h| {
            let (name, value) = h.split_once(':').unwrap_or((h, ""));
            is_connection_specific(name, value).then(|| name.trim().to_string())
        })
        .collect()
}

/// The request as HTTP/2 sends it, built once: the head is cloned into
/// each stream's request, the body is shared.
#[derive(Debug, Clone)]
pub struct H2Request {
    pub method: http::Method,
    /// `scheme://authority/path`: the `:scheme`, `:authority` and `:path`
    /// pseudo-headers.
    pub uri: http::Uri,
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
}

impl H2Request {
    /// One stream's request head.
    pub fn head(&self) -> http::Request<()> {
        let mut req = http::Request::new(());
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        req
    }
}

/// The HTTP/2 form of `spec`: the same defaults as [`build_request`],
/// names lower-cased (HTTP/2 requires it), `Host` carried as
/// `:authority`, and the connection-specific headers dropped
/// ([`h2_dropped_headers`] names them for the notice).
pub fn build_h2_request(spec: &RequestSpec<'_>, https: bool) -> Result<H2Request, String> {
    let mut authority = spec.host.to_string();
    let mut headers = http::HeaderMap::new();
    let mut user_agent = false;
    for h in spec.headers {
        let (name, value) = h.split_once(':').unwrap_or((h, ""));
        let (name, value) = (name.trim(), value.trim());
        if is_connection_specific(name, value) {
            continue;
        }
        if name.eq_ignore_ascii_case("host") {
            authority = value.to_string();
            continue;
        }
        user_agent |= name.eq_ignore_ascii_case("user-agent");
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("-H {h:?}: not a valid HTTP/2 header name"))?;
        let value = http::HeaderValue::from_str(value)
            .map_err(|_| format!("-H {h:?}: not a valid HTTP/2 header value"))?;
        headers.append(name, value);
    }
    if !user_agent {
        headers.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_static(concat!("bench-client/", env!("CARGO_PKG_VERSION"))),
        );
    }
    if !spec.body.is_empty() || matches!(spec.method, "POST" | "PUT" | "PATCH") {
        headers.insert(http::header::CONTENT_LENGTH, spec.body.len().into());
    }
    let scheme = if https { "https" } else { "http" };
    let uri = http::Uri::builder()
        .scheme(scheme)
        .authority(authority.as_str())
        .path_and_query(spec.path)
        .build()
        .map_err(|e| {
            format!(
                "cannot make an HTTP/2 request of {scheme}://{authority}{}: {e}",
                spec.path
            )
        })?;
    let method = http::Method::from_bytes(spec.method.as_bytes())
        .map_err(|_| format!("-m {}: not a valid method", spec.method))?;
    Ok(H2Request {
        method,
        uri,
        headers,
        body: bytes::Bytes::copy_from_slice(spec.body),
    })
}

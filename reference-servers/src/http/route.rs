//! The routes: which response each request gets, and when.

use std::time::Duration;

use super::response::Connection;
use super::{clamp_usize, Request, Response};
use crate::wire::url::UrlParts;

/// Largest `/bytes/N` response body.
pub const MAX_BYTES_BODY: u64 = 64 * 1024 * 1024;

/// Longest `/delay/MS` accepted, in milliseconds.
pub const MAX_DELAY_MS: u64 = 60_000;

/// The body of `/` and of `/delay/MS`.
pub const HELLO: &[u8] = b"Hello, World!\n";
/// What to send for a request, and when.
#[derive(Debug, PartialEq, Eq)]
pub enum Routed {
    Now(Response),
    /// `/delay/MS`: the blocking servers sleep, the selector arms a timer.
    After(Duration, Response),
}

/// The content type of `/`, `/delay/MS` and every error body.
pub const TEXT: &str = "text/plain; charset=utf-8";
/// The content type of `/echo` and `/bytes/N`.
pub const BINARY: &str = "application/octet-stream";
/// The body of a 404.
pub const NOT_FOUND: &[u8] = b"not found\n";

/// What a request asks for, decided from its method and target alone, so
/// that every server (the HTTP/1.1 models through [`route`], the HTTP/2 test
/// target directly) applies the same routing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// 200 [`HELLO`], now.
    Hello,
    /// 200 with the request body.
    Echo,
    /// 200 with this many [`fill_byte`](super::fill_byte) pattern bytes.
    Bytes(u64),
    /// 200 [`HELLO`] after this long.
    Delay(Duration),
    /// 400 with this reason (and a newline) as the body.
    BadRequest(&'static str),
    /// 404 [`NOT_FOUND`].
    NotFound,
}

impl Plan {
    /// The status code the response carries.
    pub fn status(self) -> u16 {
        match self {
            Plan::Hello | Plan::Echo | Plan::Bytes(_) | Plan::Delay(_) => 200,
            Plan::BadRequest(_) => 400,
            Plan::NotFound => 404,
        }
    }

    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Plan::Echo | Plan::Bytes(_) => BINARY,
            Plan::Hello | Plan::Delay(_) | Plan::BadRequest(_) | Plan::NotFound => TEXT,
        }
    }
}

/// Routes: any method on `/` → 200 `Hello, World!\n`; `POST /echo` → the
/// body back; `GET /bytes/N` → N bytes of the [`fill_byte`](super::fill_byte) pattern
/// (N ≤ 64 MiB, else 400); `GET /delay/MS` → hello after MS ms (MS ≤ 60000,
/// else 400); anything else → 404. HEAD is routed as GET (the server then
/// sends the head only). `target` may carry a query and be in absolute form.
pub fn plan(method: &str, target: &str) -> Plan {
    let path = origin_path(target);
    if keeps_body(method, path) {
        return Plan::Echo;
    }
    let readable = method == "GET" || method == "HEAD";
    if path == "/" {
        return Plan::Hello;
    }
    if let (Some(count), true) = (path.strip_prefix("/bytes/"), readable) {
        return match parse_decimal(count) {
            Some(n) if n <= MAX_BYTES_BODY => Plan::Bytes(n),
            _ => Plan::BadRequest("/bytes/N needs a whole number N of at most 67108864 (64 MiB)"),
        };
    }
    if let (Some(ms), true) = (path.strip_prefix("/delay/"), readable) {
        return match parse_decimal(ms) {
            Some(ms) if ms <= MAX_DELAY_MS => Plan::Delay(Duration::from_millis(ms)),
            _ => {
                Plan::BadRequest("/delay/MS needs a whole number MS of at most 60000 milliseconds")
            }
        };
    }
    Plan::NotFound
}

/// The HTTP/1.1 response to `req`, by [`plan`]'s rules.
/// `allow_keep_alive == false` forces `Connection: close` (the sync
/// server's default).
///
/// `/echo` moves the request's body (and the budget it holds) into the
/// response instead of copying it; the rest of `req` is left as it was.
pub fn route(req: &mut Request, allow_keep_alive: bool) -> Routed {
    let connection = if !(allow_keep_alive && req.keep_alive) {
        Connection::Close
    } else if req.minor_version == 0 {
        Connection::KeepAlive10
    } else {
        Connection::KeepAlive11
    };
    let plan = plan(&req.method, &req.path);
    let head_only = req.method == "HEAD";
    let respond = |body: &[u8], fill: usize| {
        Response::build(
            plan.status(),
            plan.content_type(),
            body,
            fill,
            connection,
            head_only,
        )
    };
    match plan {
        Plan::Echo => Routed::Now(Response::owning(
            plan.content_type(),
            std::mem::take(&mut req.body),
            req.hold.take(),
            connection,
        )),
        Plan::Hello => Routed::Now(respond(HELLO, 0)),
        Plan::Bytes(n) => Routed::Now(respond(&[], clamp_usize(n))),
        Plan::Delay(delay) => Routed::After(delay, respond(HELLO, 0)),
        Plan::BadRequest(why) => Routed::Now(respond(format!("{why}\n").as_bytes(), 0)),
        Plan::NotFound => Routed::Now(respond(NOT_FOUND, 0)),
    }
}

/// `req`'s response at once and with `Connection: close`: what a server
/// shutting down sends instead of finishing a `/delay` (both server kinds).
pub fn route_closing(req: &mut Request) -> Response {
    match route(req, false) {
        Routed::Now(response) | Routed::After(_, response) => response,
    }
}

/// The path of a request target without its query: origin-form as is, and
/// absolute-form (`http://host/path`), which RFC 9112 3.2.2 says a server
/// must accept, reduced to its path (`/` when it has none).
pub(crate) fn origin_path(target: &str) -> &str {
    let parts = UrlParts::split(target);
    let path = match parts.scheme {
        // Absolute form: the path of the URL, split the way the client
        // splits the URLs it is given.
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {
            parts.target
        }
        // Origin form (a `://` inside a query is not a scheme), or another
        // scheme, which no route matches.
        _ => target,
    };
    match path.split(['?', '#']).next().unwrap_or_default() {
        "" => "/",
        path => path,
    }
}

/// Whether the route for `method` and `target` uses the request body: only
/// `POST /echo` does, and the reader discards every other body as it
/// arrives (see [`budget`](super::budget)).
pub(super) fn keeps_body(method: &str, target: &str) -> bool {
    method == "POST" && origin_path(target) == "/echo"
}

/// A path segment's whole number: ASCII digits only (`u64::from_str` would
/// also take a sign, so `/bytes/+3` would be a valid route).
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
#[cfg(test)]
mod tests {
    use super::super::fill_byte;
    use super::super::response::testing::{text, text_dated, wire};
    use super::*;

    fn request(method: &str, path: &str, minor_version: u8, keep_alive: bool) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            minor_version,
            keep_alive,
            body: Vec::new(),
            body_len: 0,
            hold: None,
        }
    }

    fn now(routed: Routed) -> Response {
        match routed {
            Routed::Now(response) => response,
            Routed::After(..) => panic!("expected an immediate response"),
        }
    }
    #[test]
    fn hello_any_method() {
        let response = now(route(&mut request("DELETE", "/", 1, true), true));
        assert_eq!(
            text_dated(&response),
            "HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Length: 14\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, World!\n"
        );
        assert!(!response.close());
    }

    #[test]
    fn keep_alive_disallowed_forces_close() {
        let response = now(route(&mut request("GET", "/", 1, true), false));
        assert!(response.close());
        assert!(text(&response).contains("\r\nConnection: close\r\n"));
    }

    #[test]
    fn http10_keep_alive_is_announced() {
        let response = now(route(&mut request("GET", "/", 0, true), true));
        assert!(!response.close());
        assert!(text(&response).contains("\r\nConnection: keep-alive\r\n"));
    }

    #[test]
    fn echo_returns_body() {
        let mut req = request("POST", "/echo", 1, true);
        req.body = b"abc\0def".to_vec();
        assert!(wire(&now(route(&mut req, true))).ends_with(b"\r\n\r\nabc\0def"));
    }

    #[test]
    fn bytes_body_has_length_and_pattern() {
        let n = 200_000;
        let response = now(route(
            &mut request("GET", "/bytes/200000?x=1", 1, true),
            true,
        ));
        let out = wire(&response);
        let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = std::str::from_utf8(&out[..head_end]).unwrap();
        assert!(head.contains("Content-Length: 200000\r\n"), "{head}");
        let body = &out[head_end..];
        assert_eq!(body.len(), n);
        assert!(body
            .iter()
            .enumerate()
            .all(|(i, &b)| b == fill_byte(i as u64)));
    }

    #[test]
    fn bytes_slices_start_anywhere() {
        let response = now(route(&mut request("GET", "/bytes/100000", 1, true), true));
        let head_len = response.len() - 100_000;
        let slice = response.bytes_at(head_len + 70_000);
        assert_eq!(slice[0], fill_byte(70_000));
        assert!(slice.len() <= 30_000);
    }

    #[test]
    fn bytes_zero() {
        let response = now(route(&mut request("GET", "/bytes/0", 1, true), true));
        assert!(text(&response)
            .ends_with("Content-Length: 0\r\nContent-Type: application/octet-stream\r\n\r\n"));
    }

    #[test]
    fn bytes_over_limit_is_400() {
        let response = now(route(&mut request("GET", "/bytes/67108865", 1, true), true));
        assert_eq!(response.status(), 400);
    }

    #[test]
    fn bytes_not_a_number_is_400() {
        assert_eq!(
            now(route(&mut request("GET", "/bytes/x", 1, true), true)).status(),
            400
        );
    }

    #[test]
    fn head_sends_no_body() {
        let response = now(route(&mut request("HEAD", "/bytes/10", 1, true), true));
        assert!(text(&response)
            .ends_with("Content-Length: 10\r\nContent-Type: application/octet-stream\r\n\r\n"));
    }

    #[test]
    fn delay_is_deferred() {
        match route(&mut request("GET", "/delay/250", 1, true), true) {
            Routed::After(delay, response) => {
                assert_eq!(delay, Duration::from_millis(250));
                assert!(wire(&response).ends_with(HELLO));
            }
            Routed::Now(_) => panic!("expected a delayed response"),
        }
    }

    #[test]
    fn delay_over_cap_is_400() {
        assert_eq!(
            now(route(&mut request("GET", "/delay/60001", 1, true), true)).status(),
            400
        );
    }

    #[test]
    fn unknown_path_is_404() {
        assert_eq!(
            now(route(&mut request("GET", "/nope", 1, true), true)).status(),
            404
        );
    }

    #[test]
    fn echo_needs_post() {
        assert_eq!(
            now(route(&mut request("GET", "/echo", 1, true), true)).status(),
            404
        );
    }

    /// Review finding: absolute-form targets (`GET http://host/path`), which
    /// RFC 9112 3.2.2 says a server must accept, were answered 404.
    #[test]
    fn absolute_form_target_is_routed_by_its_path() {
        let response = now(route(
            &mut request("GET", "http://127.0.0.1:8888/", 1, true),
            true,
        ));
        assert_eq!(response.status(), 200);
        assert!(wire(&response).ends_with(HELLO));
        let bytes = now(route(
            &mut request("GET", "HTTP://x/bytes/3?q", 1, true),
            true,
        ));
        assert!(wire(&bytes).ends_with(b"\r\n\r\nabc"));
        let no_path = now(route(&mut request("GET", "http://x", 1, true), true));
        assert_eq!(no_path.status(), 200);
        assert_eq!(
            now(route(&mut request("GET", "ftp://x/", 1, true), true)).status(),
            404
        );
    }

    /// Review finding: `u64::from_str` takes a leading `+`, so `/bytes/+3`
    /// was a valid route.
    #[test]
    fn signed_numbers_in_routes_are_400() {
        for path in ["/bytes/+3", "/delay/+3", "/bytes/", "/delay/-1"] {
            assert_eq!(
                now(route(&mut request("GET", path, 1, true), true)).status(),
                400,
                "{path}"
            );
        }
    }

    /// The plan is the routing table the HTTP/2 target shares with the
    /// models: method and target in, what to send out.
    #[test]
    fn plan_maps_method_and_target() {
        let ms = Duration::from_millis;
        let cases = [
            ("PUT", "/?q=1", Plan::Hello),
            ("POST", "/echo", Plan::Echo),
            ("POST", "http://h/echo?x", Plan::Echo),
            ("GET", "/echo", Plan::NotFound),
            ("HEAD", "/bytes/7", Plan::Bytes(7)),
            ("POST", "/bytes/7", Plan::NotFound),
            ("GET", "/delay/50", Plan::Delay(ms(50))),
            ("GET", "/nope", Plan::NotFound),
        ];
        for (method, target, want) in cases {
            assert_eq!(plan(method, target), want, "{method} {target}");
        }
        let bad = plan("GET", "/bytes/67108865");
        assert!(matches!(bad, Plan::BadRequest(why) if why.starts_with("/bytes/N")));
        assert_eq!((bad.status(), bad.content_type()), (400, TEXT));
        assert_eq!(
            (Plan::Bytes(1).status(), Plan::Bytes(1).content_type()),
            (200, BINARY)
        );
        assert_eq!(Plan::NotFound.status(), 404);
    }
}

//! HTTP/1.1 as all three servers speak it: request framing over `httparse`
//! (Content-Length and chunked bodies, limits, keep-alive rules of RFC 9112,
//! pipelining), the routes, and serialized responses.
//!
//! Nothing here touches a socket: a server feeds the bytes it read into a
//! [`RequestReader`], asks it for complete requests, passes each to [`route`]
//! and writes [`Response::bytes_at`] slices until the response is out. That
//! keeps the blocking and the event-loop servers on exactly the same protocol.
//!
//! One file per concern: the reader (`request`, with the Host grammar in
//! `host`), the routes (`route`), serialized responses (`response`, with the
//! once-a-second `Date` in `date`), and the bound on the request bodies held
//! in total ([`budget`]). The rules every model must apply alike live here
//! too: the limits (16 KiB head → 431, 8 KiB target → 414, `--max-body` →
//! 413, `--max-buffered` → 503) and what a connection whose deadline passed
//! gets ([`RequestReader::at_deadline`], after `--read-timeout` or
//! [`SHUTDOWN_GRACE`]).

pub mod budget;
mod date;
mod host;
mod request;
mod response;
mod route;

use std::time::Duration;

pub use budget::{BodyBudget, Reservation};
pub use request::{Limits, Request, RequestReader, MAX_HEAD_BYTES, MAX_TARGET_BYTES};
pub use response::{error_response, fill_byte, fill_slice, Response};
pub(crate) use route::origin_path;
pub use route::{
    plan, route, route_closing, Plan, Routed, BINARY, HELLO, MAX_BYTES_BODY, MAX_DELAY_MS,
    NOT_FOUND, TEXT,
};

use response::{reason_phrase, Connection};

/// After SIGINT/SIGTERM, how long a connection may still take to deliver
/// the request it is sending, in every model; then
/// [`RequestReader::at_deadline`] decides.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The interim response a client that sent `Expect: 100-continue` waits for
/// before it sends the body (curl waits a whole second without it).
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// A request the server refuses; the connection closes after the error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status}: {reason}")]
pub struct HttpError {
    pub status: u16,
    pub reason: &'static str,
}

impl HttpError {
    /// No complete request arrived within `--read-timeout`.
    pub const REQUEST_TIMEOUT: HttpError =
        HttpError::new(408, "no complete request within --read-timeout");

    /// The body passed `--max-body`.
    pub const BODY_TOO_LARGE: HttpError =
        HttpError::new(413, "request body larger than --max-body");

    /// Holding the body (`/echo`) would pass `--max-buffered`.
    pub const BUDGET_FULL: HttpError = budget::BUDGET_FULL;

    pub(crate) const fn new(status: u16, reason: &'static str) -> Self {
        HttpError { status, reason }
    }

    /// The error body: `413 Payload Too Large: request body larger than
    /// --max-body` and a newline, the same in every server.
    pub fn body(&self) -> String {
        format!(
            "{} {}: {}\n",
            self.status,
            reason_phrase(self.status),
            self.reason
        )
    }

    /// The response to send before closing: the status, and a body that names
    /// what was wrong so a person with curl can fix the request.
    pub fn response(&self) -> Response {
        let body = self.body();
        Response::build(
            self.status,
            "text/plain; charset=utf-8",
            body.as_bytes(),
            0,
            Connection::Close,
            false,
        )
    }
}
pub(crate) fn clamp_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::response::testing::text;
    use super::*;

    static UNBOUNDED: BodyBudget = BodyBudget::new(u64::MAX);

    const LIMITS: Limits = Limits {
        max_body: 1024,
        budget: &UNBOUNDED,
    };

    /// Review finding: error bodies said only `400 Bad Request`, hiding the
    /// reason the reader had found.
    #[test]
    fn error_response_names_what_was_wrong() {
        let mut reader = RequestReader::new(LIMITS);
        reader.feed(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 12a\r\n\r\n");
        let error = reader.next_request().unwrap_err();
        let out = text(&error.response());
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
        assert!(out.contains("\r\nConnection: close\r\n"), "{out}");
        assert!(
            out.ends_with("\r\n\r\n400 Bad Request: malformed Content-Length\n"),
            "{out}"
        );
        let timeout = text(&HttpError::REQUEST_TIMEOUT.response());
        assert!(
            timeout.contains("408 Request Timeout: no complete request within --read-timeout\n")
        );
    }

    #[test]
    fn error_response_closes() {
        let response = error_response(431);
        assert!(response.close());
        let out = text(&response);
        assert!(
            out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{out}"
        );
        assert!(out.contains("\r\nConnection: close\r\n"));
    }
}

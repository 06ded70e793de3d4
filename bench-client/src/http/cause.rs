//! Why a response could not be framed, each reason with a short, stable id
//! (the key after `invalid_response:` in `summary.errors_by_cause`) and a
//! sentence for people.

/// Why a response could not be framed: an `invalid_response` (but for
/// [`Eof`](FrameError::Eof), a `read` error), counted under the short, stable
/// id of [`cause_id`](FrameError::cause_id).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the response starts with a TLS record")]
    Tls,
    #[error("the response is HTTP/2")]
    Http2,
    #[error("malformed response head: {0}")]
    Head(httparse::Error),
    #[error("response head too long")]
    HeadTooLarge,
    #[error("bad Content-Length")]
    ContentLength,
    #[error("Content-Length and Transfer-Encoding together")]
    LengthAndTransferEncoding,
    #[error("bad chunk size line")]
    ChunkSize,
    #[error("missing CRLF after chunk data")]
    ChunkEnd,
    #[error("chunk size line too long")]
    ChunkLineTooLong,
    #[error("too many interim (1xx) responses")]
    TooManyInterim,
    #[error("trailer section too long")]
    TrailersTooLarge,
    #[error("unsupported status 101 (protocol switch)")]
    Switching,
    #[error("connection closed before the response was complete")]
    Eof,
}

impl FrameError {
    /// The key under `invalid_response:` in `summary.errors_by_cause`: short,
    /// stable, `[a-z0-9_]`; [`describe_cause`] says it in a sentence.
    pub fn cause_id(&self) -> &'static str {
        match self {
            FrameError::Tls => "looks_like_tls",
            FrameError::Http2 => "http2_preface",
            FrameError::Head(httparse::Error::Version) => "not_http1_status_line",
            FrameError::Head(httparse::Error::Status) => "bad_status_line",
            FrameError::Head(httparse::Error::TooManyHeaders) => "too_many_headers",
            FrameError::Head(_) => "bad_header",
            FrameError::HeadTooLarge => "head_too_large",
            FrameError::ContentLength => "bad_content_length",
            FrameError::LengthAndTransferEncoding => "cl_and_te",
            FrameError::ChunkSize => "bad_chunk_size",
            FrameError::ChunkEnd => "bad_chunk_end",
            FrameError::ChunkLineTooLong => "chunk_line_too_long",
            FrameError::TooManyInterim => "too_many_interim",
            FrameError::TrailersTooLarge => "trailers_too_large",
            FrameError::Switching => "switching_protocols",
            FrameError::Eof => "eof",
        }
    }
}

/// Every cause id [`FrameError::cause_id`] returns, with its sentence.
pub(super) const CAUSES: &[(&str, &str)] = &[
    (
        "looks_like_tls",
        "the server answered with a TLS record: it speaks TLS, try https://",
    ),
    (
        "http2_preface",
        "the server answered with an HTTP/2 preface",
    ),
    ("not_http1_status_line", "status line not HTTP/1.x"),
    (
        "bad_status_line",
        "malformed status code in the status line",
    ),
    ("too_many_headers", "more than 64 header fields"),
    ("bad_header", "malformed header field or line ending"),
    ("head_too_large", "response head over 64 KiB"),
    (
        "bad_content_length",
        "Content-Length not a decimal number, or two that differ",
    ),
    ("cl_and_te", "Content-Length and Transfer-Encoding together"),
    ("bad_chunk_size", "chunk size not a hexadecimal number"),
    ("bad_chunk_end", "chunk data not followed by a line ending"),
    ("chunk_line_too_long", "chunk-size line over 4 KiB"),
    (
        "too_many_interim",
        "more than 16 interim (1xx) responses to one request",
    ),
    ("trailers_too_large", "trailers over 16 KiB"),
    (
        "switching_protocols",
        "101 Switching Protocols (protocol upgrades are not supported)",
    ),
    (
        "eof",
        "the connection closed before the response was complete",
    ),
];

/// The sentence for a cause id of [`FrameError::cause_id`] (the part after
/// `invalid_response:` in `errors_by_cause`), for reports; `None` for ids it
/// does not know (OS error names, ids of a newer version).
pub fn describe_cause(id: &str) -> Option<&'static str> {
    CAUSES
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, sentence)| *sentence)
}

//! One HTTP/2 request and its response on a stream, and what its errors
//! mean in the run's failure kinds.

use std::time::Instant;

use bytes::Bytes;
use h2::client::ResponseFuture;
use h2::Reason;
use h2::SendStream;

use crate::stats::{Cause, Failure};

/// What a stream came to.
#[derive(Debug)]
pub enum Ending {
    /// The whole response: its status, when its head came, and the body's
    /// bytes.
    Response {
        status: u16,
        first_byte: Instant,
        body_bytes: u64,
    },
    /// The server did not process it (above a GOAWAY's last stream id, or
    /// reset with REFUSED_STREAM): it may be sent again elsewhere.
    /// `goaway`: a GOAWAY said so (not a reset).
    Refused { goaway: bool },
    /// It failed.
    Failed(Failure, Cause),
    /// No response within `--timeout`; dropping the stream resets it
    /// (RST_STREAM CANCEL).
    TimedOut,
}

/// Sends `body` (flow control is `h2`'s: it sends as the windows open) and
/// reads the response to its end, returning each DATA frame's window.
pub async fn exchange(
    response: ResponseFuture,
    mut tx: Option<SendStream<Bytes>>,
    body: Bytes,
) -> Ending {
    if let Some(tx) = tx.as_mut() {
        if let Err(e) = tx.send_data(body, true) {
            return ending_of(&e);
        }
    }
    let response = match response.await {
        Ok(r) => r,
        Err(e) => return ending_of(&e),
    };
    let first_byte = Instant::now();
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut body_bytes = 0u64;
    while let Some(chunk) = body.data().await {
        match chunk {
            Ok(chunk) => {
                body_bytes += chunk.len() as u64;
                // Reading it is consuming it: the window reopens at once.
                let _ = body.flow_control().release_capacity(chunk.len());
            }
            Err(e) => return ending_of(&e),
        }
    }
    // The request's own stream is done once its response is; a send side
    // still open would be reset by the drop.
    drop(tx);
    Ending::Response {
        status,
        first_byte,
        body_bytes,
    }
}

fn ending_of(e: &h2::Error) -> Ending {
    if refused(e) {
        Ending::Refused {
            goaway: e.is_go_away(),
        }
    } else {
        let (kind, cause) = classify(e);
        Ending::Failed(kind, cause)
    }
}

/// Whether the server promised it did not process the stream: a GOAWAY
/// that the stream was above (RFC 9113 6.8: whatever its error code; `h2`
/// gives the GOAWAY's own error only to those streams), or REFUSED_STREAM
/// (8.7).
fn refused(e: &h2::Error) -> bool {
    e.reason() == Some(Reason::REFUSED_STREAM) || (e.is_go_away() && e.is_remote())
}

/// An `h2` error in the run's failure kinds: the socket's errors as over
/// HTTP/1.1, a reset from the server as `stream_reset`, anything else at
/// the protocol level as `http2`, each with its reason's name.
pub fn classify(e: &h2::Error) -> (Failure, Cause) {
    if let Some(io) = e.get_io() {
        // h2 tells its streams of the peer's FIN with a BrokenPipe of its
        // own making (no OS error behind it): the server closed before the
        // response was complete, a read failure as over HTTP/1.1.
        let eof = io.kind() == std::io::ErrorKind::UnexpectedEof
            || (io.kind() == std::io::ErrorKind::BrokenPipe && io.raw_os_error().is_none());
        if eof {
            return (Failure::Read, Cause::Eof);
        }
        return (
            crate::engine::conn::io_kind(io, Failure::Read),
            Cause::from_io(io),
        );
    }
    let cause = Cause::Protocol(e.reason().map_or("h2_error", reason_name));
    if e.is_reset() && e.is_remote() {
        (Failure::StreamReset, cause)
    } else {
        (Failure::Http2, cause)
    }
}

/// RFC 9113 7's name of an error code (unknown codes are `UNKNOWN_CODE`).
pub fn reason_name(r: Reason) -> &'static str {
    match u32::from(r) {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => "UNKNOWN_CODE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_have_their_rfc_names() {
        assert_eq!(reason_name(Reason::NO_ERROR), "NO_ERROR");
        assert_eq!(reason_name(Reason::REFUSED_STREAM), "REFUSED_STREAM");
        assert_eq!(reason_name(Reason::HTTP_1_1_REQUIRED), "HTTP_1_1_REQUIRED");
        assert_eq!(reason_name(Reason::from(0xff)), "UNKNOWN_CODE");
    }

    #[test]
    fn a_refused_stream_is_sent_again_and_other_resets_are_failures() {
        let refused_reset = h2::Error::from(Reason::REFUSED_STREAM);
        assert!(refused(&refused_reset));
        let internal = h2::Error::from(Reason::INTERNAL_ERROR);
        assert!(!refused(&internal));
        let (kind, cause) = classify(&internal);
        assert_eq!(
            kind,
            Failure::Http2,
            "a reason made locally is not the server's reset"
        );
        assert_eq!(cause, Cause::Protocol("INTERNAL_ERROR"));
    }
}

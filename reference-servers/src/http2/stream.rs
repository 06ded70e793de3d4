//! One HTTP/2 stream: read the request body (releasing flow-control
//! capacity as it arrives), decide the response by the shared routes, and
//! send it in pieces the peer's window allows.

use std::future::poll_fn;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request, Response};
use tokio::time::timeout;

use super::{Config, OpenStream};
use crate::http::{fill_slice, origin_path, plan, HttpError, Plan, Reservation, HELLO, NOT_FOUND};

/// Most bytes asked of the peer's window at once: enough to fill a few
/// default-sized frames per wake-up, small enough that a stream never holds
/// more than this beyond what h2 already buffers.
const SEND_CHUNK: usize = 256 * 1024;

/// What a response's body is made of.
#[derive(Debug)]
enum Body {
    /// Bytes in hand: hello, an echoed body, an error text.
    Bytes(Bytes),
    /// `n` bytes of the `/bytes/N` pattern, made as they are sent.
    Fill(u64),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::Fill(n) => *n,
        }
    }

    /// At most `max` bytes from `offset` (at least one while any are left).
    fn slice(&self, offset: u64, max: usize) -> Bytes {
        match self {
            Body::Bytes(bytes) => {
                let start = offset as usize;
                bytes.slice(start..bytes.len().min(start + max))
            }
            Body::Fill(n) => {
                let left = usize::try_from(n - offset).unwrap_or(usize::MAX);
                Bytes::from_static(fill_slice(offset, max.min(left)))
            }
        }
    }
}

/// Why no ordinary response follows the request body.
#[derive(Debug)]
enum BodyFailed {
    /// An HTTP error to answer with (413, 503, 408), and the bytes received.
    Answer(HttpError, u64),
    /// The stream or connection is gone: nothing to answer.
    Gone,
}

/// Serves one stream; `_open` marks the connection busy until this returns.
pub(super) async fn serve(
    request: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    config: Rc<Config>,
    _open: OpenStream,
) {
    let (head, body) = request.into_parts();
    let target = head.uri.path_and_query().map_or("/", |p| p.as_str());
    if config.reset_path.as_deref() == Some(origin_path(target)) {
        respond.send_reset(Reason::INTERNAL_ERROR);
        return;
    }
    let plan = plan(head.method.as_str(), target);
    // An echoed body's share of --max-buffered, held until its response is
    // out (or the stream is gone).
    let mut _hold = None;
    let (status, content_type, response_body, received) =
        match read_body(body, plan == Plan::Echo, &config).await {
            Ok((kept, received)) => {
                let kept = kept.map(|(bytes, hold)| {
                    _hold = Some(hold);
                    bytes
                });
                let body = match plan {
                    Plan::Echo => Body::Bytes(kept.unwrap_or_default()),
                    Plan::Hello | Plan::Delay(_) => Body::Bytes(Bytes::from_static(HELLO)),
                    Plan::Bytes(n) => Body::Fill(n),
                    Plan::BadRequest(why) => Body::Bytes(format!("{why}\n").into()),
                    Plan::NotFound => Body::Bytes(Bytes::from_static(NOT_FOUND)),
                };
                (plan.status(), plan.content_type(), body, received)
            }
            Err(BodyFailed::Gone) => return,
            Err(BodyFailed::Answer(error, received)) => (
                error.status,
                crate::http::TEXT,
                Body::Bytes(error.body().into()),
                received,
            ),
        };
    if let (Plan::Delay(delay), 200) = (plan, status) {
        if !delayed(delay, &mut respond, &config).await {
            return;
        }
    }
    let head_only = head.method == Method::HEAD;
    let response = Response::builder()
        .status(status)
        .header(CONTENT_TYPE, content_type)
        .header(CONTENT_LENGTH, response_body.len())
        .body(())
        .expect("a status from the routes and two well-formed headers");
    let end_now = head_only || response_body.len() == 0;
    let Ok(mut send) = respond.send_response(response, end_now) else {
        return;
    };
    if end_now || send_body(&mut send, &response_body, config.read_timeout).await {
        config.totals.add_request(received);
    }
}

/// Waits out `/delay/MS`; false if the peer reset the stream meanwhile. On
/// SIGINT/SIGTERM the hello goes out at once, as in every model.
async fn delayed(delay: Duration, respond: &mut SendResponse<Bytes>, config: &Config) -> bool {
    let mut stopping = config.stopping.clone();
    let already = *stopping.borrow_and_update();
    if already {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        _ = stopping.changed() => true,
        _ = poll_fn(|cx| respond.poll_reset(cx)) => false,
    }
}

/// A kept body, with the budget it holds while the response is sent.
type Kept = Option<(Bytes, Reservation)>;

/// Reads the request body to its end: kept (for `/echo`, within
/// `--max-buffered`) or discarded, never past `--max-body`, and each
/// chunk's flow-control capacity given back at once, so the window the
/// peer sees is never held by this server.
async fn read_body(
    mut body: RecvStream,
    keep: bool,
    config: &Config,
) -> Result<(Kept, u64), BodyFailed> {
    let mut received = 0u64;
    let mut kept = if keep {
        let hold = config
            .budget
            .reserve(0)
            .ok_or(BodyFailed::Answer(HttpError::BUDGET_FULL, 0))?;
        Some((BytesMut::new(), hold))
    } else {
        None
    };
    while !body.is_end_stream() {
        let chunk = match timeout(config.read_timeout, body.data()).await {
            Err(_) => return Err(BodyFailed::Answer(HttpError::REQUEST_TIMEOUT, received)),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(BodyFailed::Gone),
            Ok(Some(Ok(chunk))) => chunk,
        };
        let _ = body.flow_control().release_capacity(chunk.len());
        received += chunk.len() as u64;
        if received > config.max_body {
            return Err(BodyFailed::Answer(HttpError::BODY_TOO_LARGE, received));
        }
        if let Some((bytes, hold)) = &mut kept {
            if !hold.grow(chunk.len() as u64) {
                return Err(BodyFailed::Answer(HttpError::BUDGET_FULL, received));
            }
            if bytes.is_empty() {
                // The usual one-frame body moves in without a copy.
                *bytes = BytesMut::from(chunk);
            } else {
                bytes.extend_from_slice(&chunk);
            }
        }
    }
    Ok((kept.map(|(bytes, hold)| (bytes.freeze(), hold)), received))
}

/// Sends `body` as the peer's window allows; true once END_STREAM is
/// handed to the connection. A peer that grants no window for
/// `--read-timeout` gets RST_STREAM CANCEL.
async fn send_body(send: &mut SendStream<Bytes>, body: &Body, wait: Duration) -> bool {
    let len = body.len();
    let mut sent = 0u64;
    while sent < len {
        let want = usize::try_from(len - sent).map_or(SEND_CHUNK, |left| left.min(SEND_CHUNK));
        send.reserve_capacity(want);
        // poll_capacity reports increases only: capacity already assigned
        // is read directly.
        let mut capacity = send.capacity();
        if capacity == 0 {
            capacity = match timeout(wait, poll_fn(|cx| send.poll_capacity(cx))).await {
                Err(_) => {
                    send.send_reset(Reason::CANCEL);
                    return false;
                }
                Ok(None | Some(Err(_))) => return false,
                Ok(Some(Ok(capacity))) => capacity,
            };
        }
        if capacity == 0 {
            continue;
        }
        let chunk = body.slice(sent, capacity.min(want));
        sent += chunk.len() as u64;
        if send.send_data(chunk, sent == len).is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::fill_byte;

    #[test]
    fn body_slices_cover_the_body_exactly() {
        for body in [
            Body::Bytes(Bytes::from_static(b"0123456789")),
            Body::Fill(200_000),
        ] {
            let mut out = Vec::new();
            while (out.len() as u64) < body.len() {
                let chunk = body.slice(out.len() as u64, 7_777);
                assert!(!chunk.is_empty() && chunk.len() <= 7_777);
                out.extend_from_slice(&chunk);
            }
            assert_eq!(out.len() as u64, body.len());
            if let Body::Fill(_) = body {
                assert!(out
                    .iter()
                    .enumerate()
                    .all(|(i, &b)| b == fill_byte(i as u64)));
            } else {
                assert_eq!(out, b"0123456789");
            }
        }
    }
}

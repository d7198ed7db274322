//! A request body must arrive whole within `server.body_read_timeout_ms` of its head: a
//! client trickling a body (or stopping halfway) would otherwise hold its connection — one
//! that counts as being served and is never evicted — for as long as it likes.

use axum::body::{Bytes, HttpBody};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyReadError {
    /// The connection failed or the body was malformed.
    #[error(transparent)]
    Http(#[from] hyper::Error),
    /// The body was not complete in time.
    #[error("the request body did not arrive within {0:?}")]
    TimedOut(Duration),
}

/// A request body with a deadline for its last byte.
pub(super) struct DeadlineBody {
    body: Incoming,
    /// `None` for a request without a body: nothing to wait for.
    deadline: Option<Pin<Box<Sleep>>>,
    timeout: Duration,
}

impl DeadlineBody {
    /// `body`, due within `timeout` from now.
    pub(super) fn new(body: Incoming, timeout: Duration) -> DeadlineBody {
        let deadline = (!body.is_end_stream()).then(|| Box::pin(tokio::time::sleep(timeout)));
        DeadlineBody {
            body,
            deadline,
            timeout,
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = BodyReadError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyReadError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(BodyReadError::from)));
        }
        let timed_out = this
            .deadline
            .as_mut()
            .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
        if timed_out {
            return Poll::Ready(Some(Err(BodyReadError::TimedOut(this.timeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

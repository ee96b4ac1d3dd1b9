//! Helpers a plugin uses to keep panics from crossing the boundary.
//!
//! A panic that unwinds into the host through an `extern "C"` function aborts the whole process,
//! and the host cannot catch it. A plugin therefore wraps the synchronous part of every entry point
//! in [`catch_panic`] and every future it returns in [`guarded`], which turn a panic into a
//! [`PluginError`] of kind [`ErrorKind::PANICKED`].

use std::{
    any::Any,
    future::Future,
    panic::{catch_unwind, AssertUnwindSafe},
    pin::Pin,
    task::{Context, Poll},
};

use abi_stable::std_types::RResult;
use async_ffi::FutureExt;

use crate::{
    error::{ErrorKind, PluginError},
    service::{PluginResult, ServiceFuture},
};

/// Runs `f`, turning a panic into an [`ErrorKind::PANICKED`] error that names `operation`.
pub fn catch_panic<T>(operation: &str, f: impl FnOnce() -> PluginResult<T>) -> PluginResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => RResult::RErr(panicked(operation, payload.as_ref())),
    }
}

/// Wraps a future so that a panic while polling it becomes an [`ErrorKind::PANICKED`] error, and
/// converts it into the FFI-safe [`ServiceFuture`].
pub fn guarded<T, F>(operation: &'static str, future: F) -> ServiceFuture<T>
where
    F: Future<Output = PluginResult<T>> + Send + 'static,
    T: 'static,
{
    CatchPanicFuture {
        operation,
        inner: Box::pin(future),
    }
    .into_ffi()
}

/// The error for a caught panic, with the panic's message where it was a string.
pub fn panicked(operation: &str, payload: &(dyn Any + Send)) -> PluginError {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_string());
    PluginError::new(
        ErrorKind::PANICKED,
        format!("the plugin panicked in {operation}: {detail}"),
    )
}

struct CatchPanicFuture<T> {
    operation: &'static str,
    inner: Pin<Box<dyn Future<Output = PluginResult<T>> + Send>>,
}

impl<T> Future for CatchPanicFuture<T> {
    type Output = PluginResult<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let operation = self.operation;
        match catch_unwind(AssertUnwindSafe(|| self.inner.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => Poll::Ready(RResult::RErr(panicked(operation, payload.as_ref()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_panic_turns_a_panic_into_an_error() {
        let result: PluginResult<()> = catch_panic("get_ticket", || panic!("boom"));
        let err = result.unwrap_err();
        assert_eq!(err.kind, ErrorKind::PANICKED);
        assert_eq!(
            err.message.as_str(),
            "the plugin panicked in get_ticket: boom"
        );
    }

    #[test]
    fn guarded_future_turns_a_panic_into_an_error() {
        let fut = guarded::<u32, _>("find_tickets", async { panic!("bad {}", 42) });
        let result = futures_lite_block_on(fut);
        let err = result.unwrap_err();
        assert_eq!(err.kind, ErrorKind::PANICKED);
        assert_eq!(
            err.message.as_str(),
            "the plugin panicked in find_tickets: bad 42"
        );
    }

    #[test]
    fn guarded_future_passes_values_through() {
        let fut = guarded("find_tickets", async { RResult::ROk(7u32) });
        assert_eq!(futures_lite_block_on(fut).unwrap(), 7);
    }

    /// A minimal executor for futures that never wait: enough for these tests, no dependency.
    fn futures_lite_block_on<F: Future>(fut: F) -> F::Output {
        use std::task::{RawWaker, RawWakerVTable, Waker};
        fn noop(_: *const ()) {}
        fn clone(p: *const ()) -> RawWaker {
            RawWaker::new(p, &VTABLE)
        }
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        // SAFETY: the vtable's functions do nothing with the (null) data pointer.
        let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
        let mut cx = Context::from_waker(&waker);
        let mut fut = Box::pin(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}

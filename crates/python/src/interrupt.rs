//! Long calls that Ctrl-C can stop and a notebook can watch.
//!
//! Python handles a signal only on its main thread, and only while it holds the GIL; a search
//! runs on the rayon pool with the GIL released. So the work runs on a thread of its own while
//! the calling (main) thread waits with the GIL released, waking every tenth of a second to
//! let Python run its signal handlers — a `KeyboardInterrupt` raises the work's cancel flag —
//! and to report progress.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pyo3::prelude::*;

/// What the work sees: the cancel flag to pass to the library, and the counters to advance.
pub(crate) struct Watch {
    /// Raised by Ctrl-C.
    pub cancel: AtomicBool,
    /// Steps done.
    pub done: AtomicUsize,
    /// Steps in all (0 while unknown).
    pub total: AtomicUsize,
}

/// Runs `work`, reporting `(done, total)` to `progress` (a Python callable) as it goes
/// (`total` as known before the work starts, 0 when it is not);
/// Ctrl-C stops it and raises `KeyboardInterrupt` here.
pub(crate) fn interruptible<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    total: usize,
    work: impl FnOnce(&Watch) -> PyResult<T> + Send,
) -> PyResult<T> {
    let watch = Watch {
        cancel: AtomicBool::new(false),
        done: AtomicUsize::new(0),
        total: AtomicUsize::new(total),
    };
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        let watched = &watch;
        scope.spawn(move || {
            // The receiver outlives the scope: the send cannot fail while it waits.
            let _ = tx.send(work(watched));
        });
        let mut interrupted = None;
        let mut shown = usize::MAX;
        let mut rx = rx;
        loop {
            // The receiver goes into the wait and comes back (it is Send, not Sync).
            let (waited, back) = py.detach(move || {
                let waited = rx.recv_timeout(Duration::from_millis(100));
                (waited, rx)
            });
            rx = back;
            let report = |shown: &mut usize| -> PyResult<()> {
                let done = watch.done.load(Ordering::Relaxed);
                if let Some(cb) = progress
                    && done != *shown
                {
                    cb.call1((done, watch.total.load(Ordering::Relaxed)))?;
                    *shown = done;
                }
                Ok(())
            };
            match waited {
                Ok(out) => {
                    if interrupted.is_none() {
                        report(&mut shown)?;
                    }
                    return match interrupted {
                        Some(e) => Err(e),
                        None => out,
                    };
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(crate::errors::other(
                        "the worker thread ended without a result",
                    ));
                }
            }
            if interrupted.is_none() {
                let checked = py.check_signals().and_then(|()| report(&mut shown));
                if let Err(e) = checked {
                    // Ctrl-C, or the progress callback failed: stop the work, wait for it.
                    watch.cancel.store(true, Ordering::Relaxed);
                    interrupted = Some(e);
                }
            }
        }
    })
}

impl qts_research::Progress for Watch {
    fn at(&self, done: usize, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }

    fn step(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

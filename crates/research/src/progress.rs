//! How a long call reports its progress and learns that it should stop: the CLI draws a bar,
//! a notebook calls a Python callable and raises Ctrl-C, a Ray task reports nothing. The work
//! calls these from any thread.

/// What a long call hears and asks. Every method has a default that does nothing, so `&()`
/// is a silent, uncancellable progress.
pub trait Progress: Sync {
    /// `done` of `total` steps finished (`total` 0 while unknown).
    fn at(&self, _done: usize, _total: usize) {}
    /// One more step finished.
    fn step(&self) {}
    /// The call entered stage `n` of `of` (1-based): what it is doing now.
    fn stage(&self, _n: usize, _of: usize, _what: &str) {}
    /// Runs `f` with any display out of the way (for a log line beside a progress bar).
    fn suspend(&self, f: &mut dyn FnMut()) {
        f()
    }
    /// Whether the caller asked the call to stop (checked between steps).
    fn cancelled(&self) -> bool {
        false
    }
}

impl Progress for () {}

/// Only the stop request of another progress: an inner search inside a walk, whose trials are
/// not the walk's steps, still stops when the caller asks.
pub struct StopOnly<'a>(pub &'a dyn Progress);

impl Progress for StopOnly<'_> {
    fn cancelled(&self) -> bool {
        self.0.cancelled()
    }
}

//! SIGINT / SIGTERM: the first asks the running loop to stop at the next step boundary
//! (the state, the summary and the images are written, status `interrupted`); a second
//! ends the process at once (exit 130).

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// A stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// `Error::Interrupted` (with `where_` describing where) when a stop was asked for.
pub fn check(where_: impl FnOnce() -> String) -> crate::error::Result<()> {
    match requested() {
        true => Err(crate::error::Error::Interrupted(where_())),
        false => Ok(()),
    }
}

/// Ask for a stop, as a signal does (tests use it).
pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}

#[cfg(unix)]
extern "C" fn on_signal(_signal: libc::c_int) {
    // only async-signal-safe work here: an atomic swap, and _exit on the second signal
    if REQUESTED.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe and ends the process without unwinding.
        unsafe { libc::_exit(130) }
    }
}

/// Route SIGINT and SIGTERM to `requested` (a no-op off unix).
pub fn install() {
    #[cfg(unix)]
    // SAFETY: the handler only touches an atomic and calls _exit.
    unsafe {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

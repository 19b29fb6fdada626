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

/// Forget a stop asked for (a library caller runs one computation after another).
pub fn clear() {
    REQUESTED.store(false, Ordering::Relaxed);
}

#[cfg(unix)]
extern "C" fn on_signal_in_library(_signal: libc::c_int) {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// The handlers a host process had before `install_for_library`.
pub struct PreviousHandlers {
    #[cfg(unix)]
    saved: Vec<(libc::c_int, libc::sigaction)>,
}

/// Route SIGINT and SIGTERM to `requested` while a host process (a Python interpreter)
/// waits on a computation: every signal only asks for the stop at the next step boundary,
/// and `restore` gives the host its own handlers back afterwards.
pub fn install_for_library() -> PreviousHandlers {
    #[cfg(unix)]
    {
        let mut saved = Vec::new();
        for signal in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: sigaction with a zeroed struct and a handler that only touches an atomic.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction =
                    on_signal_in_library as extern "C" fn(libc::c_int) as libc::sighandler_t;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut old) == 0 {
                    saved.push((signal, old));
                }
            }
        }
        PreviousHandlers { saved }
    }
    #[cfg(not(unix))]
    PreviousHandlers {}
}

impl PreviousHandlers {
    /// Put the host's handlers back.
    pub fn restore(self) {
        #[cfg(unix)]
        for (signal, old) in self.saved {
            // SAFETY: reinstalls the action sigaction returned.
            unsafe {
                libc::sigaction(signal, &old, std::ptr::null_mut());
            }
        }
    }
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

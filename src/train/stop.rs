//! Stop requests from the OS: SIGINT (Ctrl-C) and SIGTERM (what `scancel` and a Slurm time limit
//! send first). [`install`] turns them into a flag that training reads after every env step: the
//! seeds stop at the step they are on, discard their unfinished epoch, write `paused` with the
//! reason into `status.toml` and leave their last checkpoint to resume from. Without [`install`]
//! (a library user's program) the signals keep their default effect.
//!
//! A long stage (a model fit takes up to a minute on the hopper) finishes before the flag is
//! read; a cluster's grace period (Slurm's `KillWait`, 30 s by default) may end first, and the
//! task is then killed outright, which also resumes from the last checkpoint.

use std::sync::Once;
use std::sync::atomic::{AtomicI32, Ordering};

/// The first stop signal received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Handles SIGINT and SIGTERM by recording them (once per process; later calls do nothing).
pub fn install() -> anyhow::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| result = register());
    result
}

#[cfg(unix)]
fn register() -> anyhow::Result<()> {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the action only stores into an atomic, which is async-signal-safe.
        unsafe { signal_hook_registry::register(signal, move || SIGNAL.store(signal, Ordering::SeqCst)) }
            .map_err(|e| anyhow::anyhow!("installing a handler for {}: {e}", name(signal)))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn register() -> anyhow::Result<()> {
    Ok(())
}

/// The name of the stop signal received so far, if any.
pub fn requested() -> Option<&'static str> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(name(s)),
    }
}

fn name(signal: i32) -> &'static str {
    #[cfg(unix)]
    {
        if signal == libc::SIGINT {
            return "SIGINT";
        }
        if signal == libc::SIGTERM {
            return "SIGTERM";
        }
    }
    let _ = signal;
    "a stop signal"
}

//! The `vagram` command line: simulate environments headless (and, as the project grows,
//! train, plot and view). Errors are printed as one readable line.

mod cli;

use clap::Parser;

fn main() {
    exit_quietly_on_closed_pipe();
    vagram::allocator::keep_freed_memory();
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(cli::exit_status(&e));
    }
}

/// Output piped into a reader that stops early (`vagram evaluate RUN | head -1`) ends the process
/// quietly, as other Unix tools do, instead of panicking in `println!`. A training run stopped
/// this way keeps its last checkpoint (checkpoints are written atomically).
fn exit_quietly_on_closed_pipe() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called first in `main`, before any other thread exists; `SIG_DFL` is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

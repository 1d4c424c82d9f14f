//! The `vagram` command line: simulate environments headless (and, as the project grows,
//! train, plot and view). Errors are printed as one readable line.

mod cli;

use clap::Parser;

fn main() {
    vagram::allocator::keep_freed_memory();
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

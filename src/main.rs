//! The `fpgen` command line: parse and dispatch (the commands are in `cli/`).

mod cli;

use clap::Parser;

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`fpgen info | head`) would
    // panic; die quietly instead, as command-line tools do.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    fpgen::run::interrupt::install();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_target(false)
        .init();
    if let Err(e) = cli::dispatch(cli::Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(cli::exit_code(&e));
    }
}

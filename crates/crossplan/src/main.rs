//! `crossplan`: decide per target whether to build cross, emulated or purego,
//! from what the Nix binary caches hold. The logic lives in the library crates
//! (`crossplan-*`); this binary parses arguments, runs one command, and maps
//! errors to documented exit codes (see [`exit`]).

mod cli;
mod commands;
mod engine;
mod exit;
mod render;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: a status run allocates and frees
/// hundreds of thousands of small strings and vectors (store paths, narinfo
/// fields), and glibc's allocator was 15–20% of a warm run's CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr.
            let code = if err.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let outcome = runtime.block_on(async {
        // Listen before any work starts, so a signal never takes the default
        // action (dying with the nix children left running).
        let mut signals = match engine::cancel::listen() {
            Ok(signals) => signals,
            Err(err) => {
                let err = anyhow::Error::from(err).context("listening for signals");
                return Outcome::Finished(Ok(Err(err)));
            }
        };
        // The command runs as a task on the worker threads, not on this one:
        // driven from here, every answered lookup had to wake this thread
        // (a futex call and a context switch each, ~24,000 in a cold status
        // run of 18,000 derivations); on a worker it is mostly already awake.
        let mut command = tokio::spawn(commands::run(cli));
        tokio::select! {
            joined = &mut command => Outcome::Finished(joined),
            signal = signals.recv() => {
                // No child process starts from here on; the command stops at
                // its next await. Waited for (a while: it may be in blocking
                // code) so that it does not run on beside the shutdown.
                engine::cancel::begin(signal);
                command.abort();
                match tokio::time::timeout(STOP_WAIT, &mut command).await {
                    // It finished before it could be stopped: its answer stands.
                    Ok(Ok(result)) => Outcome::Finished(Ok(result)),
                    _ => Outcome::Interrupted(engine::cancel::shutdown(signal).await),
                }
            }
        }
    });
    // Threads still blocked in a cancelled command must not hold the exit up
    // (nor a panic's: it goes on only after this).
    runtime.shutdown_background();
    let result = match outcome {
        Outcome::Interrupted(code) => return ExitCode::from(code),
        Outcome::Finished(Ok(result)) => result,
        Outcome::Finished(Err(error)) if error.is_panic() => {
            std::panic::resume_unwind(error.into_panic())
        }
        Outcome::Finished(Err(error)) => {
            Err(anyhow::Error::from(error).context("the command's task ended"))
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if exit::is_broken_pipe(&err) {
                return ExitCode::from(exit::OK);
            }
            eprintln!("error: {}", exit::message_of(&err));
            if let Some(hint) = exit::hint_of(&err) {
                eprintln!("\nhint: {hint}");
            }
            ExitCode::from(exit::code_of(&err))
        }
    }
}

/// How long a signal waits for the command to stop before the shutdown goes on
/// without it (it stops at its next await; blocking code runs to its end).
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// How the command's task ended.
enum Outcome {
    /// It returned (or panicked, or could not run).
    Finished(Result<anyhow::Result<u8>, tokio::task::JoinError>),
    /// A signal stopped it; the exit code.
    Interrupted(u8),
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CROSSPLAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a terminal (and never with NO_COLOR set).
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .without_time()
        .try_init();
}

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
        let signalled = engine::cancel::signalled();
        tokio::pin!(signalled);
        // The command runs as a task on the worker threads, not on this one:
        // driven from here, every answered lookup had to wake this thread
        // (a futex call and a context switch each, ~24,000 in a cold status
        // run of 18,000 derivations); on a worker it is mostly already awake.
        let mut command = tokio::spawn(commands::run(cli));
        tokio::select! {
            joined = &mut command => Ok(finished(joined)),
            signal = &mut signalled => {
                // Stop the command before shutting down, so it starts nothing
                // (no child process) after the shutdown has looked for them.
                command.abort();
                let _ = (&mut command).await;
                match signal {
                    Ok(signal) => Err(engine::cancel::shutdown(signal).await),
                    Err(err) => Ok(Err(anyhow::Error::from(err).context("listening for signals"))),
                }
            }
        }
    });
    // Threads still blocked in a cancelled command must not hold the exit up.
    runtime.shutdown_background();
    match outcome {
        Err(code) => ExitCode::from(code),
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(err)) => {
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

/// The command task's result; its panic goes on as this thread's, as it did
/// when the command ran here.
fn finished(joined: Result<anyhow::Result<u8>, tokio::task::JoinError>) -> anyhow::Result<u8> {
    match joined {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(anyhow::Error::from(error).context("the command's task ended")),
    }
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

//! `crossplan-cachesrv`: serve a binary-cache directory on 127.0.0.1 with injected faults.
//!
//! ```text
//! crossplan-cachesrv --dir D [--port P] [--latency-ms N] [--error-rate p] [--reset-rate p]
//!                    [--truncate-rate p] [--seed S] [--always-fail NAME]...
//!                    [--status NAME=CODE]... [--retry-after SECONDS] [--http2-streams N]
//! ```
//!
//! `--http2-streams N` also speaks HTTP/2 over cleartext (prior knowledge) with N streams
//! per connection; without it, only HTTP/1.1.
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first line and serves until killed.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crossplan_testkit::server::{CacheServer, FaultConfig};

const USAGE: &str =
    "usage: crossplan-cachesrv --dir D [--port P] [--latency-ms N] [--error-rate p] \
[--reset-rate p] [--truncate-rate p] [--seed S] [--always-fail NAME]... [--status NAME=CODE]... \
[--retry-after SECONDS] [--http2-streams N]

Serves the binary-cache directory D on 127.0.0.1 (HTTP/1.1) and prints
'listening on http://127.0.0.1:PORT' first.

  --dir D                the cache directory (nix-cache-info, *.narinfo, nar/)
  --port P               the port (default: a free one)
  --latency-ms N         delay before every answer
  --error-rate p         probability of answering 500
  --reset-rate p         probability of resetting the connection (HTTP/2: the stream)
  --truncate-rate p      probability of sending half of the body
  --seed S               seed of those random choices
  --always-fail NAME     always answer 500 for a file or hash part (repeatable)
  --status NAME=CODE     always answer CODE for a file or hash part (repeatable)
  --retry-after SECONDS  Retry-After sent with 429 and 503
  --http2-streams N      also speak HTTP/2 over cleartext (h2c, prior knowledge),
                         at most N concurrent streams per connection";

/// The flags, all of which take a value.
const FLAGS: &[&str] = &[
    "--dir",
    "--port",
    "--latency-ms",
    "--error-rate",
    "--reset-rate",
    "--truncate-rate",
    "--seed",
    "--always-fail",
    "--status",
    "--retry-after",
    "--http2-streams",
];

fn parse_args() -> Result<(PathBuf, u16, FaultConfig), String> {
    let mut dir = None;
    let mut port = 0_u16;
    let mut faults = FaultConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        if !FLAGS.contains(&flag.as_str()) {
            return Err(format!("unknown option '{flag}'"));
        }
        let value = args
            .next()
            .ok_or_else(|| format!("'{flag}' needs a value"))?;
        let bad = |what: &str| format!("invalid {what} '{value}' for '{flag}'");
        let rate = |value: &str| -> Result<f64, String> {
            value
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| bad("probability"))
        };
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(&value)),
            "--port" => port = value.parse().map_err(|_| bad("port"))?,
            "--latency-ms" => {
                faults.latency = Duration::from_millis(value.parse().map_err(|_| bad("number"))?);
            }
            "--error-rate" => faults.error_rate = rate(&value)?,
            "--reset-rate" => faults.reset_rate = rate(&value)?,
            "--truncate-rate" => faults.truncate_rate = rate(&value)?,
            "--seed" => faults.seed = value.parse().map_err(|_| bad("number"))?,
            "--always-fail" => faults.always_fail.push(value),
            "--status" => {
                let (name, code) = value.split_once('=').ok_or_else(|| bad("NAME=CODE"))?;
                let code = code.parse().map_err(|_| bad("NAME=CODE"))?;
                faults.status_override.push((name.to_owned(), code));
            }
            "--retry-after" => {
                faults.retry_after = Some(value.parse().map_err(|_| bad("number"))?);
            }
            "--http2-streams" => {
                let streams: u32 = value.parse().map_err(|_| bad("number"))?;
                if streams == 0 {
                    return Err(bad("stream count (at least 1)"));
                }
                faults.http2_streams = Some(streams);
            }
            _ => return Err(format!("unknown option '{flag}'")),
        }
    }
    let dir = dir.ok_or_else(|| "'--dir' is required".to_owned())?;
    Ok((dir, port, faults))
}

fn main() -> ExitCode {
    let (dir, port, faults) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !dir.is_dir() {
        eprintln!("error: '{}' is not a directory", dir.display());
        return ExitCode::from(2);
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let server = match CacheServer::start_on(dir, faults, addr) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: cannot listen on {addr}: {error}");
            return ExitCode::from(1);
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on {}", server.url());
    let _ = stdout.flush();
    drop(stdout);
    server.wait();
    ExitCode::SUCCESS
}

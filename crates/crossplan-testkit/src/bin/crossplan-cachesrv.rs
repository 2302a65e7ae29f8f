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
/// The options of `args` (without the program name): the directory, the port
/// and the faults; `Err("")` for `--help`.
fn parse_args(
    args: impl IntoIterator<Item = String>,
) -> Result<(PathBuf, u16, FaultConfig), String> {
    let mut dir = None;
    let mut port = 0_u16;
    let mut faults = FaultConfig::default();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        // Taken only by an option that is known, so an unknown one is said
        // to be unknown, not to need a value.
        let mut value = || args.next().ok_or_else(|| format!("'{flag}' needs a value"));
        let bad = |what: &str, value: &str| format!("invalid {what} '{value}' for '{flag}'");
        let rate = |value: String| -> Result<f64, String> {
            value
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| bad("probability", &value))
        };
        let number = |value: String| -> Result<u64, String> {
            value.parse().map_err(|_| bad("number", &value))
        };
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--port" => {
                let v = value()?;
                port = v.parse().map_err(|_| bad("port", &v))?;
            }
            "--latency-ms" => faults.latency = Duration::from_millis(number(value()?)?),
            "--error-rate" => faults.error_rate = rate(value()?)?,
            "--reset-rate" => faults.reset_rate = rate(value()?)?,
            "--truncate-rate" => faults.truncate_rate = rate(value()?)?,
            "--seed" => faults.seed = number(value()?)?,
            "--always-fail" => faults.always_fail.push(value()?),
            "--status" => {
                let v = value()?;
                let (name, code) = v.split_once('=').ok_or_else(|| bad("NAME=CODE", &v))?;
                let code = code.parse().map_err(|_| bad("NAME=CODE", &v))?;
                faults.status_override.push((name.to_owned(), code));
            }
            "--retry-after" => faults.retry_after = Some(number(value()?)?),
            "--http2-streams" => {
                let v = value()?;
                let streams: u32 = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("stream count (at least 1)", &v))?;
                faults.http2_streams = Some(streams);
            }
            _ => return Err(format!("unknown option '{flag}'")),
        }
    }
    let dir = dir.ok_or_else(|| "'--dir' is required".to_owned())?;
    Ok((dir, port, faults))
}

fn main() -> ExitCode {
    let (dir, port, faults) = match parse_args(std::env::args().skip(1)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(PathBuf, u16, FaultConfig), String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn options_are_read_and_bad_ones_named() {
        let (dir, port, faults) = parse(&[
            "--dir",
            "/d",
            "--port",
            "8080",
            "--latency-ms",
            "20",
            "--error-rate",
            "0.5",
            "--seed",
            "7",
            "--status",
            "abc=404",
            "--http2-streams",
            "4",
        ])
        .expect("valid");
        assert_eq!((dir, port), (PathBuf::from("/d"), 8080));
        assert_eq!(faults.latency, Duration::from_millis(20));
        assert_eq!((faults.error_rate, faults.seed), (0.5, 7));
        assert_eq!(faults.status_override, vec![("abc".to_owned(), 404)]);
        assert_eq!(faults.http2_streams, Some(4));

        for (args, error) in [
            (&["--dir", "/d", "--bogus"][..], "unknown option '--bogus'"),
            (&["--dir"][..], "'--dir' needs a value"),
            (
                &["--dir", "/d", "--error-rate", "2"][..],
                "invalid probability '2' for '--error-rate'",
            ),
            (
                &["--dir", "/d", "--http2-streams", "0"][..],
                "invalid stream count (at least 1) '0' for '--http2-streams'",
            ),
            (
                &["--dir", "/d", "--status", "x"][..],
                "invalid NAME=CODE 'x' for '--status'",
            ),
            (&["--port", "1"][..], "'--dir' is required"),
        ] {
            assert_eq!(parse(args).map(|_| ()), Err(error.to_owned()), "{args:?}");
        }
        assert_eq!(parse(&["--help"]).map(|_| ()), Err(String::new()));
    }
}

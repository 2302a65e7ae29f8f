//! Cancellation: SIGINT and SIGTERM stop what crossplan started, keep what is
//! worth keeping, and say what was left undone.
//!
//! Child `nix` processes run in a process group of their own (so a terminal's
//! ^C does not reach them before crossplan decides what to do, and so the
//! signal reaches their own children too). On a signal crossplan forwards it
//! to every such group, waits for the children to exit (SIGKILL after
//! [`GRACE`]), saves the narinfo lookups already answered to the disk cache,
//! prints one line saying what was left undone, and exits 128 + the signal
//! (130 for SIGINT, 143 for SIGTERM), as a shell reports a killed command.

use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crossplan_cache::Substituters;
use rustix::process::{Pid, Signal, kill_process_group};

/// How long children get to exit after the forwarded signal.
const GRACE: Duration = Duration::from_secs(10);

type Undone = Box<dyn Fn() -> String + Send + Sync>;

#[derive(Default)]
struct State {
    /// Process groups of running children.
    groups: Mutex<Vec<Pid>>,
    /// Caches whose answers are saved on cancel.
    savers: Mutex<Vec<Substituters>>,
    /// Describes the work not done, when asked at cancel time.
    undone: Mutex<Option<Undone>>,
    /// The signal that cancelled the run (0: none).
    signal: AtomicI32,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(State::default)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Save these caches' answers if the run is cancelled.
pub fn save_on_cancel(substituters: Substituters) {
    lock(&state().savers).push(substituters);
}

/// Say what is left undone if the run is cancelled now (asked at that moment).
pub fn set_undone(describe: impl Fn() -> String + Send + Sync + 'static) {
    *lock(&state().undone) = Some(Box::new(describe));
}

/// Whether a signal has cancelled the run.
pub fn cancelled() -> bool {
    state().signal.load(Ordering::SeqCst) != 0
}

/// A child process in a process group of its own, known to [`shutdown`]
/// until it has been waited for.
pub struct GroupChild {
    pub child: Child,
    pgid: Pid,
}

impl GroupChild {
    /// Spawn `cmd` as the leader of a new process group; refused (`Interrupted`)
    /// once a signal has cancelled the run. The check, the spawn and the
    /// registration happen under the lock [`begin`] and [`shutdown`] take, so no
    /// child can start after they have looked.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<Self> {
        use std::os::unix::process::CommandExt as _;
        let mut groups = lock(&state().groups);
        if cancelled() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "not started: the run was interrupted by a signal",
            ));
        }
        let child = cmd.process_group(0).spawn()?;
        let pgid = Pid::from_child(&child);
        groups.push(pgid);
        Ok(Self { child, pgid })
    }

    /// Run `cmd` in a group of its own to the end and collect its output, as
    /// [`Command::output`] does (stdin closed); a cancel stops it.
    pub fn output(cmd: &mut Command) -> std::io::Result<std::process::Output> {
        use std::io::Read as _;
        use std::process::Stdio;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut me = Self::spawn(cmd)?;
        let mut err_pipe = me.child.stderr.take();
        let errors = std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(e) = err_pipe.as_mut() {
                let _ = e.read_to_end(&mut buf);
            }
            buf
        });
        let mut stdout = Vec::new();
        if let Some(o) = me.child.stdout.as_mut() {
            o.read_to_end(&mut stdout)?;
        }
        let status = me.wait()?;
        Ok(std::process::Output {
            status,
            stdout,
            stderr: errors.join().unwrap_or_default(),
        })
    }

    /// Wait for the child to exit; then it is no longer waited for on cancel.
    pub fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        let status = self.child.wait();
        self.forget();
        status
    }

    fn forget(&self) {
        lock(&state().groups).retain(|p| *p != self.pgid);
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        // A child dropped before it exited (an error while reading its output)
        // is stopped rather than left behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = kill_process_group(self.pgid, Signal::TERM);
            let _ = self.child.wait();
        }
        self.forget();
    }
}

/// SIGINT and SIGTERM, caught from the moment [`listen`] returns (so neither
/// takes its default action, dying with the nix children left running).
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

/// Catch SIGINT and SIGTERM from now on. Call it inside the runtime, before any
/// work starts.
pub fn listen() -> std::io::Result<Signals> {
    use tokio::signal::unix::{SignalKind, signal};
    Ok(Signals {
        int: signal(SignalKind::interrupt())?,
        term: signal(SignalKind::terminate())?,
    })
}

impl Signals {
    /// Wait for the next SIGINT or SIGTERM; returns the signal number.
    pub async fn recv(&mut self) -> i32 {
        tokio::select! {
            _ = self.int.recv() => 2,
            _ = self.term.recv() => 15,
        }
    }
}

/// Mark the run cancelled by `signal`: from now on no child process starts
/// (see [`GroupChild::spawn`]). [`shutdown`] does it too; call this first when
/// the command must be stopped before the shutdown begins.
pub fn begin(signal: i32) {
    let st = state();
    let _groups = lock(&st.groups);
    st.signal.store(signal, Ordering::SeqCst);
}

/// Stop the children, save the answered lookups, print what was left undone;
/// returns the exit code (128 + `signal`).
pub async fn shutdown(signal: i32) -> u8 {
    let st = state();
    let (sig, name, code) = if signal == 15 {
        (Signal::TERM, "SIGTERM", crate::exit::TERMINATED)
    } else {
        (Signal::INT, "SIGINT", crate::exit::INTERRUPTED)
    };
    let groups: Vec<Pid> = {
        // Under the lock a spawn holds: every child started before is in the list,
        // and none starts after (the flag is set).
        let groups = lock(&st.groups);
        st.signal.store(signal, Ordering::SeqCst);
        groups.clone()
    };
    for pgid in &groups {
        let _ = kill_process_group(*pgid, sig);
    }
    let start = Instant::now();
    let mut killed = false;
    while !lock(&st.groups).is_empty() {
        if !killed && start.elapsed() > GRACE {
            for pgid in lock(&st.groups).iter() {
                let _ = kill_process_group(*pgid, Signal::KILL);
            }
            killed = true;
        }
        if start.elapsed() > GRACE * 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let savers: Vec<Substituters> = lock(&st.savers).clone();
    let mut saved = true;
    for s in &savers {
        if let Err(e) = s.flush().await {
            tracing::warn!("could not save the narinfo cache: {e}");
            saved = false;
        }
    }
    let undone = lock(&st.undone)
        .as_ref()
        .map(|f| f())
        .unwrap_or_else(|| "the command did not finish".into());
    let stopped = match groups.len() {
        0 => String::new(),
        1 => "; stopped its nix process".into(),
        n => format!("; stopped its {n} nix processes"),
    };
    let kept = if !savers.is_empty() && saved {
        "; lookups already answered are saved"
    } else {
        ""
    };
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprint!("\r\x1b[K");
    }
    eprintln!("crossplan: interrupted by {name}: {undone}{stopped}{kept}");
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Once a signal has cancelled the run, no child starts. (The state is the
    /// process's own: nextest runs each test in a process of its own.)
    #[test]
    fn no_child_starts_after_a_signal() {
        let mut before = GroupChild::spawn(&mut Command::new("true")).expect("spawn before");
        assert!(before.wait().expect("wait").success());
        begin(2);
        let refused = GroupChild::spawn(&mut Command::new("true"))
            .err()
            .expect("a spawn after the signal is refused");
        assert_eq!(refused.kind(), std::io::ErrorKind::Interrupted);
        assert!(lock(&state().groups).is_empty());
        state().signal.store(0, Ordering::SeqCst);
    }
}

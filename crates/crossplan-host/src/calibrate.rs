//! Measure this host's emulation factor for a system: run the same workload
//! natively and under QEMU, and compare.
//!
//! The built-in workload is a small Go program ([`WORKLOAD_GO`]) that
//! imitates what compilers do — a symbol table in a hash map, sorting,
//! string building, compressing and hashing the "object" — cross-compiled
//! with the host's `go` (`CGO_ENABLED=0`, any `GOARCH`, no C cross compiler
//! needed). It runs in two modes:
//!
//! * `cpu`: the compile-like loop, one process;
//! * `tiny`: start, print, exit — repeated [`SPAWNS`] times, because
//!   configure scripts and build drivers start thousands of short processes,
//!   and that is where QEMU user mode is worst (cache-semantics.md §3).
//!
//! The factor is `0.9 × cpu ratio + 0.1 × spawn ratio`: a build that spends
//! 90 % of its native time computing and 10 % starting processes. (Starting
//! a Go binary under QEMU costs ~150 ms against ~3 ms natively, a 50-70×
//! ratio; a heavier spawn weight overshoots the published 8-15× figures for
//! whole builds, cache-semantics.md §3.) A user
//! workload (`--workload SYSTEM=BINARY`, e.g. `out/cup-riscv64 selftest`)
//! is timed as one run per repeat, and its ratio is the factor.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::binfmt::Binfmt;
use crate::error::HostError;
use crate::history::median;
use crate::qemu::{find_qemu, go_arch, qemu_arch};

/// Short process starts per `tiny` measurement.
pub const SPAWNS: usize = 20;
/// Weight of the compute part in the combined factor (the rest is process starts).
pub const CPU_WEIGHT: f64 = 0.9;

/// The built-in workload's source.
pub const WORKLOAD_GO: &str = r#"// crossplan calibration workload: compile-like work (see crossplan-host/src/calibrate.rs).
package main

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

func work(rounds int) uint64 {
	var acc uint64
	for r := 0; r < rounds; r++ {
		syms := make(map[string]int, 1<<14)
		names := make([]string, 0, 1<<14)
		for i := 0; i < 1<<14; i++ {
			s := "sym_" + strconv.Itoa(i*7919%100003) + "_" + strconv.Itoa(r)
			if _, ok := syms[s]; !ok {
				syms[s] = i
				names = append(names, s)
			}
		}
		sort.Strings(names)
		var b strings.Builder
		for _, n := range names {
			b.WriteString(n)
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(syms[n]))
			b.WriteByte('\n')
		}
		var z bytes.Buffer
		w, _ := flate.NewWriter(&z, 6)
		w.Write([]byte(b.String()))
		w.Close()
		sum := sha256.Sum256(z.Bytes())
		acc += uint64(sum[0]) + uint64(len(names)) + uint64(z.Len())
	}
	return acc
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tiny" {
		fmt.Println("ok")
		return
	}
	n := 10
	if len(os.Args) > 2 {
		if v, err := strconv.Atoi(os.Args[2]); err == nil {
			n = v
		}
	}
	fmt.Println(work(n))
}
"#;

/// How a binary of a system is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// Directly: the host's own system, or a binfmt_misc registration.
    Direct { via_binfmt: bool },
    /// Through a QEMU user-mode binary found on PATH.
    Qemu(PathBuf),
}

impl Runner {
    /// Describe for output.
    pub fn describe(&self) -> String {
        match self {
            Runner::Direct { via_binfmt: false } => "natively".into(),
            Runner::Direct { via_binfmt: true } => "through binfmt_misc".into(),
            Runner::Qemu(p) => format!("with {}", p.display()),
        }
    }

    fn command(&self, binary: &Path) -> Command {
        match self {
            Runner::Direct { .. } => Command::new(binary),
            Runner::Qemu(q) => {
                let mut c = Command::new(q);
                c.arg(binary);
                c
            }
        }
    }
}

/// Pick the runner for `system`'s binaries: binfmt (enabled registration
/// whose interpreter exists) first, then `qemu-<arch>-static` / `qemu-<arch>`.
pub fn runner_for(system: &str, host_system: &str, binfmt: &Binfmt) -> Result<Runner, HostError> {
    if system == host_system {
        return Ok(Runner::Direct { via_binfmt: false });
    }
    if binfmt.mounted
        && binfmt
            .for_system(system)
            .iter()
            .any(|r| r.enabled && r.interpreter.exists())
    {
        return Ok(Runner::Direct { via_binfmt: true });
    }
    let arch = qemu_arch(system).ok_or_else(|| HostError::Calibrate {
        system: system.into(),
        reason: "no QEMU user-mode emulator is known for this system".into(),
    })?;
    find_qemu(arch, std::env::var_os("PATH").as_deref())
        .map(Runner::Qemu)
        .ok_or_else(|| HostError::Calibrate {
            system: system.into(),
            reason: format!(
                "no binfmt_misc registration and neither qemu-{arch}-static nor qemu-{arch} on PATH"
            ),
        })
}

/// Cross-compile the built-in workload for `system` with `go` into `dir`.
pub fn build_go_workload(go: &Path, system: &str, dir: &Path) -> Result<PathBuf, HostError> {
    let (goarch, goarm) = go_arch(system).ok_or_else(|| HostError::Calibrate {
        system: system.into(),
        reason: "Go has no GOARCH for this system".into(),
    })?;
    std::fs::create_dir_all(dir).map_err(|source| HostError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let src = dir.join("workload.go");
    if std::fs::read_to_string(&src).ok().as_deref() != Some(WORKLOAD_GO) {
        std::fs::write(&src, WORKLOAD_GO).map_err(|source| HostError::Read {
            path: src.clone(),
            source,
        })?;
    }
    let out = dir.join(format!("workload-{system}"));
    let mut cmd = Command::new(go);
    cmd.current_dir(dir)
        .args(["build", "-trimpath", "-o"])
        .arg(&out)
        .arg("workload.go")
        .env("GOOS", "linux")
        .env("GOARCH", goarch)
        .env("CGO_ENABLED", "0")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .env("GO111MODULE", "off");
    if !goarm.is_empty() {
        cmd.env("GOARM", goarm);
    }
    let o = cmd.output().map_err(|e| HostError::Command {
        command: format!("{} build", go.display()),
        reason: e.to_string(),
    })?;
    if !o.status.success() {
        return Err(HostError::Command {
            command: format!("GOARCH={goarch} go build workload.go"),
            reason: String::from_utf8_lossy(&o.stderr).trim().to_string(),
        });
    }
    Ok(out)
}

/// Seconds of one run of `binary args` via `runner`; its stdout is returned
/// too (so native and emulated results can be compared).
pub fn time_once(
    runner: &Runner,
    binary: &Path,
    args: &[String],
) -> Result<(f64, String), HostError> {
    let start = Instant::now();
    let o = runner
        .command(binary)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| HostError::Command {
            command: format!("{} {}", binary.display(), args.join(" ")),
            reason: e.to_string(),
        })?;
    let secs = start.elapsed().as_secs_f64();
    if !o.status.success() {
        return Err(HostError::Command {
            command: format!(
                "{} {} ({})",
                binary.display(),
                args.join(" "),
                runner.describe()
            ),
            reason: format!(
                "{}: {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ),
        });
    }
    Ok((secs, String::from_utf8_lossy(&o.stdout).into_owned()))
}

/// One side's measurement (medians over the repeats).
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Seconds of the compute run.
    pub cpu_seconds: f64,
    /// Seconds of [`SPAWNS`] process starts (0 for user workloads).
    pub spawn_seconds: f64,
    /// What the compute run printed.
    pub output: String,
}

/// Time the built-in workload: `repeats` × (one `cpu ROUNDS` run, [`SPAWNS`] `tiny` runs).
pub fn time_builtin(
    runner: &Runner,
    binary: &Path,
    rounds: u32,
    repeats: usize,
) -> Result<Timing, HostError> {
    let mut cpu = Vec::new();
    let mut spawn = Vec::new();
    let mut output = String::new();
    let cpu_args = vec!["cpu".to_string(), rounds.to_string()];
    let tiny = vec!["tiny".to_string()];
    for _ in 0..repeats.max(1) {
        let (s, out) = time_once(runner, binary, &cpu_args)?;
        cpu.push(s);
        output = out;
        let mut total = 0.0;
        for _ in 0..SPAWNS {
            total += time_once(runner, binary, &tiny)?.0;
        }
        spawn.push(total);
    }
    Ok(Timing {
        cpu_seconds: median(cpu),
        spawn_seconds: median(spawn),
        output,
    })
}

/// Time a user workload: `repeats` single runs.
pub fn time_user(
    runner: &Runner,
    binary: &Path,
    args: &[String],
    repeats: usize,
) -> Result<Timing, HostError> {
    let mut cpu = Vec::new();
    let mut output = String::new();
    for _ in 0..repeats.max(1) {
        let (s, out) = time_once(runner, binary, args)?;
        cpu.push(s);
        output = out;
    }
    Ok(Timing {
        cpu_seconds: median(cpu),
        spawn_seconds: 0.0,
        output,
    })
}

/// The combined factor of an emulated vs a native timing.
pub fn factor(native: &Timing, emulated: &Timing) -> f64 {
    let ratio = |e: f64, n: f64| if n > 0.0 { e / n } else { 1.0 };
    let cpu = ratio(emulated.cpu_seconds, native.cpu_seconds);
    if native.spawn_seconds <= 0.0 {
        return cpu;
    }
    let spawn = ratio(emulated.spawn_seconds, native.spawn_seconds);
    CPU_WEIGHT * cpu + (1.0 - CPU_WEIGHT) * spawn
}

/// Find `go` on PATH.
pub fn find_go() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("go"))
        .find(|p| p.is_file())
}

//! The local SQLite database (`$XDG_STATE_HOME/crossplan/history.sqlite`):
//! every derivation `crossplan build` saw built (name, system, emulated or
//! not, seconds), and the emulation factors `crossplan calibrate` measured.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crossplan_plan::{HistoryTable, parse_drv_name};
use rusqlite::{Connection, params};

use crate::error::HostError;

/// How many of the latest builds of one package make its typical time (median).
pub const RECENT: usize = 5;

/// One calibration result.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub system: String,
    pub factor: f64,
    pub native_seconds: f64,
    pub emulated_seconds: f64,
    pub workload: String,
    pub measured_at: i64,
}

/// The open database.
pub struct HistoryDb {
    conn: Connection,
    path: PathBuf,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl HistoryDb {
    /// Open (creating the file, its directory and the tables if needed).
    pub fn open(path: &Path) -> Result<Self, HostError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| HostError::Read {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let db = |source| HostError::Db {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(db)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS builds (
                 id INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 pname TEXT NOT NULL,
                 system TEXT NOT NULL,
                 emulated INTEGER NOT NULL,
                 seconds REAL NOT NULL,
                 recorded_at INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS builds_key ON builds (pname, system, emulated);
             CREATE TABLE IF NOT EXISTS calibration (
                 system TEXT PRIMARY KEY,
                 factor REAL NOT NULL,
                 native_seconds REAL NOT NULL,
                 emulated_seconds REAL NOT NULL,
                 workload TEXT NOT NULL,
                 measured_at INTEGER NOT NULL
             );",
        )
        .map_err(db)?;
        Ok(HistoryDb {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn err(&self, source: rusqlite::Error) -> HostError {
        HostError::Db {
            path: self.path.clone(),
            source,
        }
    }

    /// Record one build (`name` with version, e.g. `gcc-14.2.0`).
    pub fn record(
        &self,
        name: &str,
        system: &str,
        emulated: bool,
        seconds: f64,
    ) -> Result<(), HostError> {
        let (pname, _) = parse_drv_name(name);
        self.conn
            .execute(
                "INSERT INTO builds (name, pname, system, emulated, seconds, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![name, pname, system, emulated, seconds, now()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The typical time per (package, system, emulated): the median of the
    /// latest [`RECENT`] builds.
    pub fn table(&self) -> Result<HistoryTable, HostError> {
        let mut stmt = self
            .conn
            .prepare("SELECT pname, system, emulated, seconds FROM builds ORDER BY recorded_at DESC, id DESC")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, f64>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut samples: HashMap<(String, String, bool), Vec<f64>> = HashMap::new();
        for row in rows {
            let (p, s, e, secs) = row.map_err(|e| self.err(e))?;
            let v = samples.entry((p, s, e)).or_default();
            if v.len() < RECENT {
                v.push(secs);
            }
        }
        let mut t = HistoryTable::default();
        for ((p, s, e), v) in samples {
            t.insert(&p, &s, e, median(v));
        }
        Ok(t)
    }

    /// Number of recorded builds.
    pub fn count(&self) -> Result<u64, HostError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM builds", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Store a calibration (replacing the system's previous one).
    pub fn set_calibration(&self, c: &Calibration) -> Result<(), HostError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO calibration (system, factor, native_seconds, emulated_seconds, workload, measured_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![c.system, c.factor, c.native_seconds, c.emulated_seconds, c.workload, c.measured_at],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// All calibrations, by system.
    pub fn calibrations(&self) -> Result<BTreeMap<String, Calibration>, HostError> {
        let mut stmt = self
            .conn
            .prepare("SELECT system, factor, native_seconds, emulated_seconds, workload, measured_at FROM calibration")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Calibration {
                    system: r.get(0)?,
                    factor: r.get(1)?,
                    native_seconds: r.get(2)?,
                    emulated_seconds: r.get(3)?,
                    workload: r.get(4)?,
                    measured_at: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let c = row.map_err(|e| self.err(e))?;
            out.insert(c.system.clone(), c);
        }
        Ok(out)
    }
}

/// Median of a non-empty list (0 for an empty one).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Seconds since the Unix epoch (for calibration records).
pub fn unix_now() -> i64 {
    now()
}

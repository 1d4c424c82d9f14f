//! Who may write to a run directory: advisory file locks, released by the OS when the holder
//! exits (even when killed), so a crashed run never leaves a stale lock behind.
//!
//! - `RUN/.lock`: held exclusively by a process that creates the run or trains all its seeds,
//!   shared by processes that train one seed each (`--only-seed`, as Slurm tasks do), so the
//!   tasks of one run can run side by side while a whole-run writer excludes them all.
//! - `RUN/seed-N/.lock`: held exclusively by whoever trains seed N; it holds that process's pid.
//!
//! A second writer is refused with the holder's pid instead of sharing the run's files (two
//! writers once left a directory with one run's config and another's checkpoint).

use std::fs::{self, File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::run_dir::seed_dir;

/// The lock file's name, in the run directory and in each seed directory.
pub const LOCK_FILE: &str = ".lock";

/// How a process holds the run-level lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAccess {
    /// The whole run: creating it, or training every seed.
    Whole,
    /// Some seeds only, beside other such processes.
    Seeds,
}

/// Held locks on a run directory and the seeds being trained; dropping it releases them.
#[derive(Debug)]
pub struct RunLock {
    _run: File,
    _seeds: Vec<File>,
}

impl RunLock {
    /// Takes the run lock (`access`), creating the directory and lock file as needed; fails
    /// without waiting, naming the holders' pids.
    pub fn run(run: &Path, access: RunAccess) -> anyhow::Result<Self> {
        fs::create_dir_all(run).with_context(|| format!("creating {}", run.display()))?;
        let path = run.join(LOCK_FILE);
        let file = open(&path)?;
        let taken = match access {
            RunAccess::Whole => file.try_lock(),
            RunAccess::Seeds => file.try_lock_shared(),
        };
        match taken {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                bail!("{} is being written by another vagram process ({}); wait for it or stop it", run.display(), holders(run, &path))
            }
            Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("locking {}", path.display())),
        }
        if access == RunAccess::Whole {
            write_pid(&file, &path)?;
        }
        Ok(Self { _run: file, _seeds: Vec::new() })
    }

    /// Also takes an exclusive lock on each of `seeds` (creating their directories), writing
    /// this process's pid into each; fails naming the pid of a seed's holder.
    pub fn seeds(mut self, run: &Path, seeds: &[u64]) -> anyhow::Result<Self> {
        for &seed in seeds {
            let dir = seed_dir(run, seed);
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join(LOCK_FILE);
            let file = open(&path)?;
            match file.try_lock() {
                Ok(()) => write_pid(&file, &path)?,
                Err(TryLockError::WouldBlock) => {
                    bail!("seed {seed} of {} is being trained by another vagram process ({})", run.display(), pid_note(&path))
                }
                Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("locking {}", path.display())),
            }
            self._seeds.push(file);
        }
        Ok(self)
    }
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::options().read(true).write(true).create(true).truncate(false).open(path).with_context(|| format!("opening {}", path.display()))
}

/// Replaces the lock file's content with this process's pid.
fn write_pid(mut file: &File, path: &Path) -> anyhow::Result<()> {
    file.set_len(0).and_then(|()| write!(file, "{}", std::process::id())).with_context(|| format!("writing {}", path.display()))
}

/// `pid N` from a lock file, or a note that it names none.
fn pid_note(path: &Path) -> String {
    match fs::read_to_string(path).ok().and_then(|t| t.trim().parse::<u32>().ok()) {
        Some(pid) => format!("pid {pid}"),
        None => "pid unknown".into(),
    }
}

/// Who holds a run: the seeds whose locks are taken, with their pids, else the run lock's pid.
fn holders(run: &Path, run_lock: &Path) -> String {
    let mut busy: Vec<(u64, PathBuf)> = fs::read_dir(run)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let seed = e.file_name().to_string_lossy().strip_prefix("seed-")?.parse::<u64>().ok()?;
            let path = e.path().join(LOCK_FILE);
            let file = File::open(&path).ok()?;
            // Taken when a shared lock cannot be had; released at once otherwise.
            matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock)).then_some((seed, path))
        })
        .collect();
    busy.sort();
    if busy.is_empty() {
        return pid_note(run_lock);
    }
    busy.iter().map(|(seed, path)| format!("seed {seed}: {}", pid_note(path))).collect::<Vec<_>>().join(", ")
}

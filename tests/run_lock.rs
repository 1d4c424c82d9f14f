//! One writer per run directory, or one per seed: a second `vagram train` into a run someone
//! holds is refused naming the holder's pid and changes nothing, while processes training
//! different seeds (`--only-seed`, as Slurm tasks do) run side by side. The holder here is this
//! test process itself, through the library's lock, so the timing is exact.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::TINY;
use vagram::train::lock::{RunAccess, RunLock};

fn vagram(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vagram")).args(args).output().expect("run vagram");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

fn temp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("vagram-lock-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    p
}

/// A two-seed pendulum run, created and not trained (`--export-slurm`).
fn exported_run(name: &str) -> PathBuf {
    let run = temp(name);
    let script = temp(&format!("{name}.sh"));
    let mut args = vec!["train", "--env", "pendulum", "--seeds", "2", "--quiet"];
    for s in TINY {
        args.extend(["--set", s]);
    }
    let (out, sh) = (run.display().to_string(), script.display().to_string());
    args.extend(["--out", &out, "--export-slurm", &sh]);
    let (code, err) = vagram(&args);
    assert_eq!(code, 0, "{err}");
    run
}

fn resume(run: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["train", "--resume", run.to_str().unwrap(), "--quiet"];
    args.extend(extra);
    vagram(&args)
}

#[test]
fn a_held_run_refuses_other_writers_naming_the_holder() {
    let run = exported_run("whole");
    let pid = format!("pid {}", std::process::id());
    let held = RunLock::run(&run, RunAccess::Whole).unwrap();
    for extra in [&[][..], &["--only-seed", "1"]] {
        let (code, err) = resume(&run, extra);
        assert_eq!(code, 1, "{extra:?}: held by another process is a runtime failure");
        assert!(err.contains("being written by another vagram process") && err.contains(&pid), "{extra:?}: {err}");
    }
    assert!(!run.join("seed-0").join("metrics.csv").exists(), "nothing was trained");
    // Two new runs into one fresh directory: the second (here, the one after the holder) is
    // refused and writes nothing.
    let fresh = temp("fresh");
    let first = RunLock::run(&fresh, RunAccess::Whole).unwrap();
    let (code, err) = vagram(&["train", "--env", "cartpole", "--out", fresh.to_str().unwrap(), "--quiet"]);
    assert_ne!(code, 0);
    assert!(err.contains(&pid), "{err}");
    assert!(!fresh.join("config.toml").exists() && !fresh.join("run.toml").exists(), "nothing of the refused run is written");
    drop(first);
    drop(held);
    let (code, err) = resume(&run, &["--only-seed", "1"]);
    assert_eq!(code, 0, "free again: {err}");
}

#[test]
fn seeds_are_trained_side_by_side_but_never_twice_at_once() {
    let run = exported_run("seeds");
    let pid = format!("pid {}", std::process::id());
    let held = RunLock::run(&run, RunAccess::Seeds).unwrap().seeds(&run, &[0]).unwrap();
    let (code, err) = resume(&run, &["--only-seed", "1"]);
    assert_eq!(code, 0, "another seed trains beside the holder: {err}");
    assert!(run.join("seed-1").join("metrics.csv").exists());
    let (code, err) = resume(&run, &["--only-seed", "0"]);
    assert_ne!(code, 0);
    assert!(err.contains("seed 0 of") && err.contains(&pid), "{err}");
    let (code, err) = resume(&run, &[]);
    assert_ne!(code, 0);
    assert!(err.contains(&format!("seed 0: {pid}")), "the whole-run writer names the seed holding it: {err}");
    drop(held);
    let (code, err) = resume(&run, &["--only-seed", "0"]);
    assert_eq!(code, 0, "{err}");
}

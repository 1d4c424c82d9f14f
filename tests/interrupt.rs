//! SIGTERM (what `scancel` and a Slurm time limit send) or Ctrl-C pauses a training run at the
//! step it is on: the process exits non-zero naming the signal, `status.toml` says `paused` and
//! why, the unfinished epoch is discarded, and `--resume` ends with exactly the numbers of a run
//! that was never interrupted.

#![cfg(unix)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// TINY, but 60 epochs (about 3 s), so that the signal lands mid-run.
fn args(out: &Path) -> Vec<String> {
    let mut a: Vec<String> = ["train", "--env", "pendulum", "--quiet", "--threads", "1", "--out"].map(String::from).to_vec();
    a.push(out.display().to_string());
    for s in common::TINY.iter().map(|s| if s.starts_with("run.env_steps=") { "run.env_steps=6000" } else { s }) {
        a.extend(["--set".into(), s.to_string()]);
    }
    a
}

fn temp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("vagram-interrupt-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    p
}

fn vagram(args: &[String]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vagram")).args(args).output().expect("run vagram");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn sigterm_pauses_the_run_honestly_and_a_resume_matches_the_uninterrupted_run() {
    let reference = temp("reference");
    let (code, err) = vagram(&args(&reference));
    assert_eq!(code, 0, "{err}");

    let run = temp("run");
    let child = Command::new(env!("CARGO_BIN_EXE_vagram")).args(args(&run)).stderr(Stdio::piped()).spawn().expect("start vagram");
    let metrics = run.join("seed-0").join("metrics.csv");
    let started = Instant::now();
    while fs::read_to_string(&metrics).map_or(0, |t| t.lines().count()) < 3 {
        assert!(started.elapsed() < Duration::from_secs(60), "two epochs within a minute");
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill");
    assert!(kill.success());
    let out = child.wait_with_output().expect("vagram ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a runtime failure, exited by itself rather than dying of the signal: {err}");
    assert!(err.contains("interrupted by SIGTERM") && err.contains("--resume"), "{err}");
    let status = fs::read_to_string(run.join("seed-0").join("status.toml")).unwrap();
    assert!(status.contains("state = \"paused\"") && status.contains("SIGTERM"), "{status}");
    let logged = fs::read_to_string(&metrics).unwrap().lines().count() - 1;
    assert!(logged < 60, "stopped before the end ({logged} epochs)");

    let (code, err) = vagram(&["train".into(), "--resume".into(), run.display().to_string(), "--quiet".into()]);
    assert_eq!(code, 0, "{err}");
    let read = |d: &Path| fs::read_to_string(d.join("seed-0").join("metrics.csv")).unwrap();
    assert_eq!(read(&run), read(&reference), "the resumed run's metrics equal the uninterrupted run's");
}

//! SIGTERM (what `scancel` and a Slurm time limit send) or Ctrl-C pauses a training run at the
//! step it is on: the process exits non-zero naming the signal, `status.toml` says `paused` and
//! why, the unfinished epoch is discarded, and `--resume` ends with exactly the numbers of a run
//! that was never interrupted. A model-learning study (Fig. 2) stops the same way between model steps.

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

#[test]
fn sigterm_stops_a_model_learning_study_and_a_rerun_finishes_it() {
    use std::io::{BufRead, BufReader};
    let dir = temp("fig2");
    let out = dir.display().to_string();
    let run = ["study", "run", "fig2", "--scale", "smoke", "--threads", "1", "--out", &out];
    let mut child = Command::new(env!("CARGO_BIN_EXE_vagram")).args(run).stderr(Stdio::piped()).spawn().expect("start vagram");
    // Signal once the first cell reports progress: five of its six cells are still to train.
    let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.expect("stderr is text");
        seen += &line;
        seen.push('\n');
        if line.contains("value function 1/3 done") {
            break;
        }
    }
    assert!(seen.contains("value function 1/3 done"), "{seen}");
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("run kill");
    assert!(kill.success());
    let rest: Vec<String> = lines.map(|l| l.expect("stderr is text")).collect();
    let status = child.wait().expect("vagram ends");
    let err = seen + &rest.join("\n");
    assert_eq!(status.code(), Some(1), "stopped by itself, not killed by the signal: {err}");
    assert!(err.contains("interrupted by SIGTERM") && err.contains("rerun the same command"), "{err}");
    let finished = fs::read_dir(&dir).unwrap().filter(|e| e.as_ref().unwrap().path().join("seed-0").join("status.toml").exists()).count();
    assert!(finished < 6, "the study stopped before its last cell ({finished} finished): {err}");
    let (code, err) = vagram(&run.map(String::from));
    assert_eq!(code, 0, "{err}");
    let summary = fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 7, "every cell finished on the rerun: {summary}");
}

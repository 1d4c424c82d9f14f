//! A resume checks the seed's CSV logs against its checkpoint: epochs the checkpoint has passed
//! cannot be rebuilt, so a shortened, deleted or reordered log is refused, naming the file, and
//! left as it was (it used to resume silently and finish without those epochs).

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use common::TINY;

fn vagram(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vagram")).args(args).output().expect("run vagram");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

/// A tiny pendulum run paused after 2 of its 4 epochs.
fn paused_run(name: &str) -> PathBuf {
    let run = std::env::temp_dir().join(format!("vagram-logs-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&run);
    let out = run.display().to_string();
    let mut args = vec!["train", "--env", "pendulum", "--quiet", "--out", &out, "--stop-after-epochs", "2"];
    for s in TINY {
        args.extend(["--set", s]);
    }
    let (code, err) = vagram(&args);
    assert_eq!(code, 0, "{err}");
    run
}

#[test]
fn a_log_that_lost_checkpointed_epochs_is_refused_and_kept() {
    let edits: [(&str, &str, fn(&str) -> Option<String>); 4] = [
        ("shortened", "metrics.csv", |t| Some(t.lines().take(2).map(|l| format!("{l}\n")).collect())),
        ("deleted", "timings.csv", |_| None),
        ("reordered", "metrics.csv", |t| {
            let mut l: Vec<&str> = t.lines().collect();
            l.swap(1, 2);
            Some(l.iter().map(|l| format!("{l}\n")).collect())
        }),
        ("reheadered", "timings.csv", |t| Some(t.replacen("epoch,", "step,", 1))),
    ];
    for (name, file, edit) in edits {
        let run = paused_run(name);
        let path = run.join("seed-0").join(file);
        match edit(&fs::read_to_string(&path).unwrap()) {
            Some(text) => fs::write(&path, text).unwrap(),
            None => fs::remove_file(&path).unwrap(),
        }
        let before = fs::read(&path).ok();
        let (code, err) = vagram(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
        assert_ne!(code, 0, "{name}");
        assert!(err.contains(file) && err.contains("checkpoint is after 2 epochs"), "{name}: {err}");
        assert_eq!(fs::read(&path).ok(), before, "{name}: the log is left as it was");
        assert!(run.join("seed-0").join("checkpoint.toml").exists(), "{name}: the checkpoint stays");
    }
    // Untouched logs resume to the end.
    let run = paused_run("intact");
    let (code, err) = vagram(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read_to_string(run.join("seed-0").join("metrics.csv")).unwrap().lines().count(), 1 + 4);
}

#[test]
fn an_empty_log_before_the_first_checkpoint_gets_its_header() {
    // Nothing was checkpointed, so nothing is lost: the run starts over with a proper header.
    let run = std::env::temp_dir().join(format!("vagram-logs-{}-empty", std::process::id()));
    let _ = fs::remove_dir_all(&run);
    let (out, script) = (run.display().to_string(), format!("{}.sh", run.display()));
    let mut args = vec!["train", "--env", "pendulum", "--quiet", "--out", &out, "--export-slurm", &script];
    for s in TINY {
        args.extend(["--set", s]);
    }
    assert_eq!(vagram(&args).0, 0);
    fs::create_dir_all(run.join("seed-0")).unwrap();
    fs::write(run.join("seed-0").join("metrics.csv"), "").unwrap();
    let (code, err) = vagram(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let text = fs::read_to_string(run.join("seed-0").join("metrics.csv")).unwrap();
    assert!(text.starts_with("epoch,env_steps,"), "{text}");
    assert_eq!(text.lines().count(), 1 + 4);
}

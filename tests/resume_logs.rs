//! A resume checks the seed's CSV logs against its checkpoint: epochs the checkpoint has passed
//! cannot be rebuilt, so a shortened, deleted or reordered log is refused, naming the file, and
//! left as it was (it used to resume silently and finish without those epochs). A seed whose
//! checkpoint is gone stands as it is when finished and starts over when not.

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
    type Edit = fn(&str) -> Option<String>;
    let edits: [(&str, &str, Edit); 4] = [
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

#[test]
fn timings_log_each_epochs_cpu_time_and_a_log_from_before_it_resumes_with_the_column_empty() {
    // A fresh run logs the CPU time of its threads per epoch: a number, at most the epoch's wall
    // time on every core (the seed's pool has one thread per core here), plus slack.
    let run = paused_run("cpu");
    let path = run.join("seed-0").join("timings.csv");
    let text = fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(header.last(), Some(&"cpu_s"), "{text}");
    let (total, cpu) = (header.iter().position(|h| *h == "total_s").unwrap(), header.len() - 1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    for row in text.lines().skip(1) {
        let cells: Vec<f64> = row.split(',').map(|c| c.parse().unwrap()).collect();
        assert!(cells[cpu] >= 0.0 && cells[cpu] <= cells[total] * cores + 0.05, "cpu vs wall on {cores} cores: {row}");
    }
    // The same log as a build before `cpu_s` wrote it: the resume adds the column, empty in the
    // old rows, and logs the new epochs' CPU time.
    let old: String = text.lines().map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0)).collect();
    fs::write(&path, &old).unwrap();
    let (code, err) = vagram(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let resumed = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = resumed.lines().collect();
    assert_eq!(lines.len(), 1 + 4, "{resumed}");
    assert!(lines[0].ends_with(",total_s,cpu_s"), "{resumed}");
    assert!(lines[1].ends_with(',') && lines[2].ends_with(','), "old rows get an empty cpu_s: {resumed}");
    assert!(lines[3..].iter().all(|l| l.rsplit_once(',').unwrap().1.parse::<f64>().is_ok()), "{resumed}");
}

#[test]
fn metrics_log_each_epochs_fit_epochs_and_a_log_from_before_them_resumes_with_the_column_empty() {
    // TINY fits once per epoch after the exploration epoch, each capped at 3 epochs (patience 5
    // would allow 6), so the fits of epochs 0..4 ran 0, 3, 3, 3 epochs.
    let run = paused_run("fit-epochs");
    let path = run.join("seed-0").join("metrics.csv");
    let column = |text: &str| -> Vec<String> { text.lines().skip(1).map(|l| l.rsplit_once(',').unwrap().1.to_string()).collect() };
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",model_buffer,model_fit_epochs"), "{text}");
    assert_eq!(column(&text), ["0", "3"], "{text}");
    // The same log as a build before `model_fit_epochs` wrote it: the resume adds the column,
    // empty in the old rows, and logs the new epochs' counts.
    let old: String = text.lines().map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0)).collect();
    fs::write(&path, &old).unwrap();
    let (code, err) = vagram(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let resumed = fs::read_to_string(&path).unwrap();
    assert!(resumed.starts_with(text.lines().next().unwrap()), "{resumed}");
    assert_eq!(column(&resumed), ["", "", "3", "3"], "{resumed}");
}

/// Removes a seed's checkpoint (its manifest and tensor files), as `results/archive.sh` leaves it.
fn remove_checkpoint(seed: &std::path::Path) {
    for entry in fs::read_dir(seed).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name == "checkpoint.toml" || name.ends_with(".safetensors") {
            fs::remove_file(entry.path()).unwrap();
        }
    }
}

#[test]
fn a_finished_seed_without_its_checkpoint_stands_and_an_unfinished_one_starts_over() {
    // Finished, then archived without its checkpoint: a resume leaves it exactly as it was (it
    // used to start the seed afresh and overwrite its logs).
    let run = paused_run("archived");
    let (code, err) = vagram(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let seed = run.join("seed-0");
    remove_checkpoint(&seed);
    // Every file but the lock (which holds the last process's id), with its text.
    let files = || -> Vec<(String, String)> {
        let mut v: Vec<_> = fs::read_dir(&seed)
            .unwrap()
            .flatten()
            .map(|e| (e.file_name().to_string_lossy().to_string(), fs::read_to_string(e.path()).unwrap()))
            .filter(|(name, _)| name != ".lock")
            .collect();
        v.sort();
        v
    };
    let before = files();
    let (code, err) = vagram(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(), before, "a finished seed without a checkpoint is left as it was");
    assert!(fs::read_to_string(seed.join("metrics.csv")).unwrap().lines().count() == 1 + 4);

    // Paused after 2 epochs, its checkpoint lost: nothing covers the logged epochs, so the seed
    // starts over and ends with the numbers of the uninterrupted run above.
    let finished = fs::read_to_string(seed.join("metrics.csv")).unwrap();
    let run = paused_run("lost");
    let lost = run.join("seed-0");
    remove_checkpoint(&lost);
    let (code, err) = vagram(&["train", "--resume", run.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read_to_string(lost.join("metrics.csv")).unwrap(), finished);
}

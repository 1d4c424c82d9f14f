//! Faults from the machine rather than the user (the fault-injection suite; concurrent
//! writers are in `run_lock.rs`, damaged CSV logs in `resume_logs.rs`, signals in
//! `interrupt.rs`, a flipped checkpoint byte in `train.rs`): a write that fails (here a file-size limit,
//! `ulimit -f`, makes the checkpoint write fail with EFBIG) stops the seed with an honest
//! `status.toml` (`stopped`, naming the error) instead of leaving it `running`, exits 1, keeps
//! the logs and the last committed checkpoint, and resumes once the disk takes writes again;
//! `kill -9` at fixed points resumes to the uninterrupted numbers; damaged run files are
//! refused, named and left in place.

#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::process::Command;

#[test]
fn a_failed_checkpoint_write_leaves_an_honest_status_and_the_logs() {
    let run = std::env::temp_dir().join(format!("vagram-faults-{}", std::process::id()));
    let _ = fs::remove_dir_all(&run);
    let mut sets = String::new();
    for s in common::TINY.iter().map(|s| if s.starts_with("run.env_steps=") { "run.env_steps=6000" } else { s }) {
        sets.push_str(&format!(" --set '{s}'"));
    }
    // 6,000 steps make the env buffer (and so each checkpoint) ~220 KB, above the 128 KiB
    // limit; the CSVs and status files stay far below it. SIGXFSZ ignored: writes fail instead.
    let script = format!(
        "trap '' XFSZ; ulimit -f 128; exec '{}' train --env pendulum --quiet --threads 1 --out '{}'{sets}",
        env!("CARGO_BIN_EXE_vagram"),
        run.display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().expect("run bash");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a runtime failure: {err}");
    assert!(err.contains("seed 0") && err.contains("File too large"), "{err}");
    let status = fs::read_to_string(run.join("seed-0").join("status.toml")).unwrap();
    assert!(status.contains("state = \"stopped\"") && status.contains("File too large"), "{status}");
    let rows = fs::read_to_string(run.join("seed-0").join("metrics.csv")).unwrap().lines().count() - 1;
    assert!(rows >= 1 && status.contains(&format!("epochs = {rows}")), "the status counts the {rows} logged epochs: {status}");
    // The checkpoint that failed was the one after the last logged epoch; the one before stays.
    let manifest = fs::read_to_string(run.join("seed-0").join("checkpoint.toml")).unwrap_or_default();
    if rows > 1 {
        assert!(manifest.contains(&format!("epoch = {}", rows - 1)), "{manifest}");
    }
    let leftovers: Vec<_> =
        fs::read_dir(run.join("seed-0")).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "the failed write's temporary file is removed");
    // Without the limit the run resumes and finishes.
    let out = Command::new(env!("CARGO_BIN_EXE_vagram")).args(["train", "--resume", run.to_str().unwrap(), "--quiet"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fs::read_to_string(run.join("seed-0").join("metrics.csv")).unwrap().lines().count(), 1 + 60);
}

/// TINY with 60 epochs (about 3 s), into `run`.
fn long_args(run: &std::path::Path) -> Vec<String> {
    let mut a: Vec<String> = ["train", "--env", "pendulum", "--quiet", "--threads", "1", "--out"].map(String::from).to_vec();
    a.push(run.display().to_string());
    for s in common::TINY.iter().map(|s| if s.starts_with("run.env_steps=") { "run.env_steps=6000" } else { s }) {
        a.extend(["--set".into(), s.to_string()]);
    }
    a
}

fn temp(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("vagram-faults-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    p
}

#[test]
fn kill_9_at_fixed_points_resumes_to_the_uninterrupted_numbers() {
    let bin = env!("CARGO_BIN_EXE_vagram");
    let reference = temp("reference");
    assert!(Command::new(bin).args(long_args(&reference)).stderr(std::process::Stdio::null()).status().unwrap().success());
    let metrics = |d: &std::path::Path| fs::read_to_string(d.join("seed-0").join("metrics.csv")).unwrap_or_default();
    for rows in [2usize, 5, 11] {
        let run = temp(&format!("kill-{rows}"));
        let mut child = Command::new(bin).args(long_args(&run)).stderr(std::process::Stdio::null()).spawn().unwrap();
        let started = std::time::Instant::now();
        while metrics(&run).lines().count() < 1 + rows {
            assert!(started.elapsed().as_secs() < 60, "{rows} epochs within a minute");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.kill().unwrap(); // SIGKILL: no handler runs, whatever was being written stays half done.
        child.wait().unwrap();
        let out = Command::new(bin).args(["train", "--resume", run.to_str().unwrap(), "--quiet"]).output().unwrap();
        assert!(out.status.success(), "killed after {rows} rows: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(metrics(&run), metrics(&reference), "killed after {rows} rows, resumed");
    }
}

#[test]
fn damaged_run_files_are_refused_naming_them_and_left_in_place() {
    let bin = env!("CARGO_BIN_EXE_vagram");
    for (file, garbage) in
        [("config.toml", "[model\nloss = "), ("run.toml", "seeds = \"many\""), ("seed-0/checkpoint.toml", "format = 1\nepoch = \"two\"")]
    {
        let run = temp(&format!("damaged-{}", file.replace('/', "-")));
        let mut args = long_args(&run);
        args.extend(["--stop-after-epochs".into(), "2".into()]);
        assert!(Command::new(bin).args(&args).stderr(std::process::Stdio::null()).status().unwrap().success());
        fs::write(run.join(file), garbage).unwrap();
        let out = Command::new(bin).args(["train", "--resume", run.to_str().unwrap(), "--quiet"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file}: {err}");
        let name = file.rsplit('/').next().unwrap();
        assert!(err.contains(name), "{file}: the message names it: {err}");
        assert_eq!(fs::read_to_string(run.join(file)).unwrap(), garbage, "{file} is left as it was");
        assert!(run.join("seed-0").join("checkpoint-000002.safetensors").exists(), "{file}: the tensors stay");
    }
}

#[test]
fn a_damaged_status_file_is_rebuilt_by_the_resume() {
    // status.toml is derived (the checkpoint and logs are the truth): a garbled one does not
    // block the resume, which writes it anew.
    let bin = env!("CARGO_BIN_EXE_vagram");
    let run = temp("status");
    let mut args = long_args(&run);
    args.extend(["--stop-after-epochs".into(), "2".into()]);
    assert!(Command::new(bin).args(&args).stderr(std::process::Stdio::null()).status().unwrap().success());
    let status = run.join("seed-0").join("status.toml");
    fs::write(&status, "state = ").unwrap();
    let out = Command::new(bin).args(["train", "--resume", run.to_str().unwrap(), "--quiet"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = fs::read_to_string(&status).unwrap();
    assert!(text.contains("state = \"finished\"") && text.contains("epochs = 60"), "{text}");
}

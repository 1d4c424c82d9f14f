//! Faults from the machine rather than the user: a write that fails (here a file-size limit,
//! `ulimit -f`, makes the checkpoint write fail with EFBIG) stops the seed with an honest
//! `status.toml` (`stopped`, naming the error) instead of leaving it `running`, exits 1, keeps
//! the logs and the last committed checkpoint, and resumes once the disk takes writes again.

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

//! `vagram train --export-slurm`: the script names everything by absolute path (so it can be
//! submitted from anywhere), a path `#SBATCH` cannot carry is refused before anything is
//! written, and a failed export leaves no run directory that would block the retry.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

fn vagram(args: &[&str], cwd: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vagram")).args(args).current_dir(cwd).output().expect("run vagram");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

fn temp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("vagram-slurm-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn the_script_uses_absolute_paths_and_failed_exports_leave_nothing() {
    let base = temp("base");
    let export =
        |out: &str, script: &str| vagram(&["train", "--env", "pendulum", "--seeds", "3", "--out", out, "--export-slurm", script], &base);

    // Relative paths given, absolute paths written, --chdir set.
    let (code, err) = export("runs/rel", "job.sh");
    assert_eq!(code, 0, "{err}");
    let text = fs::read_to_string(base.join("job.sh")).unwrap();
    let run = base.join("runs/rel").display().to_string();
    assert!(text.contains(&format!("#SBATCH --chdir={run}\n")) && text.contains(&format!("#SBATCH --output={run}/slurm-%a.out")), "{text}");
    assert!(text.contains(&format!("--resume \"{run}\"")) && text.contains("#SBATCH --array=0-2\n"), "{text}");
    assert!(text.contains("SEEDS=(0 1 2)\n") && text.contains("--only-seed \"${SEEDS[$SLURM_ARRAY_TASK_ID]}\""), "{text}");

    // Seed numbers beyond any MaxArraySize: the array is indexed by position, the seeds listed.
    let (code, err) = vagram(
        &["train", "--env", "pendulum", "--seeds", "2", "--first-seed", "5000", "--out", "runs/high", "--export-slurm", "high.sh"],
        &base,
    );
    assert_eq!(code, 0, "{err}");
    let text = fs::read_to_string(base.join("high.sh")).unwrap();
    assert!(text.contains("#SBATCH --array=0-1\n") && text.contains("SEEDS=(5000 5001)\n"), "{text}");

    // A script in a folder that does not exist: the write fails, the run made for it goes.
    let (code, err) = export("runs/retry", "missing/job.sh");
    assert_ne!(code, 0);
    assert!(err.contains("missing/job.sh") || err.contains("job.sh"), "{err}");
    assert!(!base.join("runs/retry").exists(), "no half-made run is left");
    let (code, err) = export("runs/retry", "retry.sh");
    assert_eq!(code, 0, "the retry is not blocked: {err}");

    // Paths #SBATCH cannot carry are refused up front.
    for (out, script) in [("runs/with space", "a.sh"), ("runs/ok", "job 2.sh"), ("runs/50%", "b.sh")] {
        let (code, err) = export(out, script);
        assert_ne!(code, 0, "{out} {script}");
        assert!(err.contains("#SBATCH lines cannot carry"), "{err}");
        assert!(!base.join(out).exists(), "{out}: nothing written");
    }
}

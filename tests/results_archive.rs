//! `results/archive.sh`: a study's finished seeds are archived without their checkpoints
//! (unfinished seeds left out, nothing but an earlier archive ever replaced), and the archive,
//! copied back, is a study directory again: it plots, and `study run` with more seeds keeps the
//! archived seeds as they are and trains the new ones to the same numbers as the original study.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::TINY;

fn vagram(args: &[&str], cwd: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vagram")).args(args).current_dir(cwd).output().expect("run vagram");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

fn archive(src: &Path, dest: &Path) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/archive.sh");
    let out = Command::new("bash").arg(script).arg(src).arg(dest).output().expect("run archive.sh");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Every file under `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), root, out);
            } else {
                out.push(e.path().strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files(from) {
        fs::create_dir_all(to.join(&f).parent().unwrap()).unwrap();
        fs::copy(from.join(&f), to.join(&f)).unwrap();
    }
}

fn metrics(study: &Path, seed: u64) -> String {
    fs::read_to_string(study.join(format!("w8-vagram/seed-{seed}/metrics.csv"))).unwrap()
}

/// One cell (a VaGraM pendulum model of width 8) with TINY budgets and 2 seeds at smoke scale.
fn tiny_study() -> String {
    let smoke: Vec<String> = TINY.iter().map(|s| format!("{s:?}")).collect();
    let smoke = smoke.join(", ");
    format!(
        "name = \"tiny\"\ntitle = \"a tiny study\"\npaper = \"nothing\"\npreset = \"pendulum\"\n\n\
         [[setting]]\nname = \"w8\"\nset = [\"model.hidden=[8]\"]\n\n[[line]]\nname = \"vagram\"\nloss = \"vagram\"\n\n\
         [scale.smoke]\nseeds = 2\nset = [{smoke}]\n\n[scale.cpu]\nseeds = 2\nset = [{smoke}]\n\n[scale.paper]\nseeds = 2\nset = [{smoke}]\n"
    )
}

#[test]
fn an_archived_study_keeps_its_finished_seeds_and_grows_again() {
    let base = std::env::temp_dir().join(format!("vagram-archive-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(&base).unwrap();
    fs::write(base.join("tiny.toml"), tiny_study()).unwrap();
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec!["study", "run", "tiny.toml", "--scale", "smoke", "--out", out, "--threads", "2", "--quiet"];
        args.extend(extra);
        let (code, err) = vagram(&args, &base);
        assert_eq!(code, 0, "{err}");
    };
    // Seeds 0 and 1 finished, seed 2 paused after its first epoch.
    run("st", &[]);
    run("st", &["--seeds", "3", "--stop-after-epochs", "1"]);
    let st = base.join("st");

    let arch = base.join("arch");
    let (code, out) = archive(&st, &arch);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("archived 2 finished seed run(s)") && out.contains("1 unfinished left out"), "{out}");
    let archived = files(&arch);
    let names: Vec<String> = archived.iter().map(|p| p.display().to_string()).collect();
    for expected in [
        "ARCHIVE",
        "study.toml",
        "definition.toml",
        "w8-vagram/config.toml",
        "w8-vagram/seed-1/metrics.csv",
        "w8-vagram/seed-1/status.toml",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.ends_with(".safetensors") || n.contains("checkpoint") || n.contains("seed-2")), "{names:?}");
    assert_eq!(metrics(&arch, 0), metrics(&st, 0));

    // Nothing but an earlier archive is replaced: not the study itself, not another folder.
    let before = files(&st);
    let (code, out) = archive(&st, &st);
    assert_ne!(code, 0);
    assert!(out.contains("not an archive"), "{out}");
    assert_eq!(files(&st), before);
    let (code, out) = archive(&st, &arch);
    assert_eq!(code, 0, "archiving again replaces the archive: {out}");

    // Copied back and grown to 3 seeds: seeds 0 and 1 stay as archived (no checkpoint appears),
    // seed 2 trains from scratch to the numbers of the original study's seed 2.
    let grown = base.join("grown");
    copy_dir(&arch, &grown);
    run("grown", &["--seeds", "3"]);
    run("st", &[]);
    for seed in [0, 1] {
        assert_eq!(metrics(&grown, seed), metrics(&arch, seed), "seed {seed}");
        assert!(!grown.join(format!("w8-vagram/seed-{seed}/checkpoint.toml")).exists());
    }
    assert_eq!(metrics(&grown, 2), metrics(&st, 2), "the new seed matches the original run's");
    let (code, err) = vagram(&["study", "plot", "grown"], &base);
    assert_eq!(code, 0, "{err}");
    let summary = fs::read_to_string(grown.join("summary.csv")).unwrap();
    let row = summary.lines().nth(1).expect("a summary row");
    assert_eq!(row.split(',').nth(3), Some("3"), "three seeds in the summary: {summary}");
}

//! `vagram study`: a study's grid runs as ordinary run directories, a rerun resumes a
//! half-finished study (finished cells untouched, paused seeds continued to the same numbers as
//! an uninterrupted run), more seeds grow it, a study started under another config, scale or a
//! smaller seed count is refused naming what differs, the summary's numbers follow from the
//! logs, and the Slurm export lists every cell × seed by absolute path.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::TINY;
use vagram::study::summary::{Score, Summary, median, seed_scores, summarise, table, welch};
use vagram::study::{StudyDef, StudyDir};
use vagram::train::run_dir::{Status, write_status};

fn vagram(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vagram")).args(args).current_dir(cwd).output().expect("run vagram");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn temp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("vagram-study-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    fs::create_dir_all(&p).unwrap();
    p
}

/// A tiny study: 2 settings (model widths) × 2 lines (VaGraM, MSE) on the pendulum, TINY budgets.
fn tiny_study(width: usize) -> String {
    let smoke: Vec<String> = TINY.iter().map(|s| format!("{s:?}")).collect();
    format!(
        r#"name = "tiny"
title = "a tiny study"
paper = "nothing"
preset = "pendulum"
compare = ["vagram", "mse"]

[[setting]]
name = "w8"
set = ["model.hidden=[8]"]

[[setting]]
name = "w{width}"
set = ["model.hidden=[{width}]"]

[[line]]
name = "vagram"
loss = "vagram"

[[line]]
name = "mse"
loss = "mse"

[scale.smoke]
seeds = 2
set = [{smoke}]

[scale.cpu]
seeds = 2
set = [{smoke}]

[scale.paper]
seeds = 3
set = [{smoke}]
"#,
        smoke = smoke.join(", ")
    )
}

fn metrics(dir: &Path, cell: &str, seed: u64) -> String {
    fs::read_to_string(dir.join(cell).join(format!("seed-{seed}/metrics.csv"))).unwrap()
}

#[test]
fn a_rerun_resumes_the_study_skips_finished_cells_and_refuses_another_config() {
    let base = temp("resume");
    let file = base.join("tiny.toml");
    fs::write(&file, tiny_study(16)).unwrap();
    let study = file.display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec!["study", "run", &study, "--out", "st", "--scale", "smoke", "--threads", "2", "--quiet"];
        args.extend(extra);
        vagram(&args, &base)
    };

    // One cell to the end, the others paused after 2 of 4 epochs.
    let (code, _, err) = run(&["--only", "w8-vagram"]);
    assert_eq!(code, 0, "{err}");
    let dir = base.join("st");
    let finished = metrics(&dir, "w8-vagram", 0);
    assert_eq!(finished.lines().count(), 5, "header + 4 epochs");
    let (code, _, err) = run(&["--stop-after-epochs", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("paused"), "{err}");
    assert_eq!(metrics(&dir, "w16-mse", 1).lines().count(), 3, "paused after 2 epochs");

    // Another config, scale or seed count is refused, naming what differs; nothing is written.
    fs::write(&file, tiny_study(16).replace("model.hidden=[8]", "model.hidden=[12]")).unwrap();
    let (code, _, err) = run(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("another config") && err.contains("model.hidden") && err.contains("w8-vagram"), "{err}");
    fs::write(&file, tiny_study(32)).unwrap();
    let (code, _, err) = run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("other cells") && err.contains("w32-vagram") && err.contains("w16-vagram"), "{err}");
    fs::write(&file, tiny_study(16)).unwrap();
    let (code, _, err) = vagram(&["study", "run", &study, "--out", "st", "--scale", "cpu", "--quiet"], &base);
    assert_eq!(code, 2);
    assert!(err.contains("started at scale smoke, not cpu"), "{err}");
    let (code, _, err) = run(&["--seeds", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("2 seeds per cell, not 1"), "{err}");
    assert_eq!(metrics(&dir, "w16-mse", 1).lines().count(), 3, "refusals leave the runs as they were");

    // The rerun finishes everything; the finished cell is left alone.
    let (code, out, err) = run(&[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(metrics(&dir, "w8-vagram", 0), finished, "a finished cell is not retrained");
    for cell in ["w8-vagram", "w8-mse", "w16-vagram", "w16-mse"] {
        for seed in [0, 1] {
            assert_eq!(metrics(&dir, cell, seed).lines().count(), 5, "{cell} seed {seed}");
        }
    }
    assert!(out.contains("w8: vagram - mse = ") && out.contains("w16: vagram - mse = ") && out.contains("95% CI"), "{out}");
    for f in ["summary.csv", "seeds.csv", "differences.csv", "figure.png", "figure.svg", "study.toml", "definition.toml"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let summary = fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().next(), Some("study,setting,loss,seeds,final_mean,final_se,auc_mean"));
    assert_eq!(summary.lines().count(), 5, "{summary}");
    let seeds = fs::read_to_string(dir.join("seeds.csv")).unwrap();
    assert_eq!(seeds.lines().next(), Some("study,setting,loss,seed,final,auc,best,solved_at,minutes"));
    assert_eq!(seeds.lines().count(), 9, "a row per cell and seed: {seeds}");

    // A resumed cell ends with the numbers of the same cell trained in one go.
    let (code, _, err) = vagram(&["train", "--config", "st/w16-mse/config.toml", "--seeds", "2", "--out", "alone", "--quiet"], &base);
    assert_eq!(code, 0, "{err}");
    for seed in [0, 1] {
        assert_eq!(metrics(&dir, "w16-mse", seed), fs::read_to_string(base.join(format!("alone/seed-{seed}/metrics.csv"))).unwrap());
    }

    // More seeds grow the study: every cell trains seed 2, seeds 0 and 1 stay as they were, and
    // the new seed has the numbers of that seed trained on its own.
    let before = metrics(&dir, "w16-mse", 1);
    let (code, _, err) = run(&["--seeds", "3"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(metrics(&dir, "w16-mse", 1), before, "a trained seed is not retrained");
    assert_eq!(metrics(&dir, "w8-vagram", 0), finished);
    for cell in ["w8-vagram", "w8-mse", "w16-vagram", "w16-mse"] {
        assert_eq!(metrics(&dir, cell, 2).lines().count(), 5, "{cell} seed 2");
        assert!(fs::read_to_string(dir.join(cell).join("run.toml")).unwrap().contains("seeds = [0, 1, 2]"), "{cell}");
    }
    assert!(fs::read_to_string(dir.join("study.toml")).unwrap().contains("seeds = [0, 1, 2]"));
    let summary = fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(summary.lines().skip(1).all(|l| l.split(',').nth(3) == Some("3")), "{summary}");
    let (code, _, err) =
        vagram(&["train", "--config", "st/w16-mse/config.toml", "--first-seed", "2", "--seeds", "1", "--out", "alone2", "--quiet"], &base);
    assert_eq!(code, 0, "{err}");
    assert_eq!(metrics(&dir, "w16-mse", 2), fs::read_to_string(base.join("alone2/seed-2/metrics.csv")).unwrap());

    // Each cell is an ordinary run: evaluate works on it.
    let (code, _, err) = vagram(&["evaluate", "st/w8-mse", "--episodes", "1"], &base);
    assert_eq!(code, 0, "{err}");
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn the_summary_follows_from_the_logs_by_hand() {
    let base = temp("summary");
    let def = StudyDef::from_toml(&tiny_study(16), "tiny").unwrap();
    let envs = ["pendulum", "cartpole", "hopper"];
    let dir = base.join("st");
    let study = StudyDir::create_or_check(&dir, &def, &tiny_study(16), None, None, &envs).unwrap();
    // Ten evaluations per seed: the final score is the last one (10% of 10).
    let curves: [(&str, u64, [f64; 10], bool); 5] = [
        ("w8-vagram", 0, [0., 1., 2., 3., 4., 5., 6., 7., 8., 10.], true),
        ("w8-vagram", 1, [0., 0., 0., 0., 0., 0., 0., 0., 0., 20.], true),
        ("w8-mse", 0, [1.; 10], true),
        ("w8-mse", 1, [3.; 10], true),
        // Not finished: left out of the summary.
        ("w16-vagram", 0, [9.; 10], false),
    ];
    for (cell, seed, values, finished) in curves {
        let seed_dir = dir.join(cell).join(format!("seed-{seed}"));
        fs::create_dir_all(&seed_dir).unwrap();
        let mut text = String::from("epoch,env_steps,eval_return\n");
        for (i, v) in values.iter().enumerate() {
            text += &format!("{i},{},{v}\n", (i + 1) * 100);
        }
        fs::write(seed_dir.join("metrics.csv"), text).unwrap();
        // VaGraM's seeds log their compute time; an epoch rerun after an interruption counts
        // twice. Seed 0's log predates `cpu_s` (wall time counts); seed 1's has it but for an
        // epoch logged before it existed (empty: that epoch's wall time counts).
        if cell == "w8-vagram" {
            let text = if seed == 0 {
                "epoch,env_s,model_s,rollout_s,sac_s,eval_s,total_s\n0,0,0,0,0,0,1.5\n1,0,0,0,0,0,2.5\n1,0,0,0,0,0,2.5\n"
            } else {
                "epoch,env_s,model_s,rollout_s,sac_s,eval_s,total_s,cpu_s\n0,0,0,0,0,0,60.0,\n1,0,0,0,0,0,10.0,4.0\n"
            };
            fs::write(seed_dir.join("timings.csv"), text).unwrap();
        }
        let state = if finished { "finished" } else { "running" };
        write_status(&seed_dir, &Status { state: state.into(), epochs: 10, message: None }).unwrap();
    }
    let summary = summarise(&study, Some(5.0)).unwrap();
    let (rows, diffs) = (summary.rows.clone(), summary.diffs.clone());
    assert_eq!(rows.len(), 2, "{rows:?}");
    let v = &rows[0];
    assert_eq!((v.setting.as_str(), v.loss.as_str(), v.seeds), ("w8", "vagram", 2));
    assert_eq!(v.final_mean, 15.0);
    assert_eq!(v.final_se, 5.0, "sd of (10, 20) = 7.07, / sqrt 2");
    assert!((v.auc_mean - (4.6 + 2.0) / 2.0).abs() < 1e-12, "{}", v.auc_mean);
    let m = &rows[1];
    assert_eq!((m.final_mean, m.final_se, m.auc_mean), (2.0, 1.0, 2.0));
    // Per seed: VaGraM's first reach 5 at their 6th and 10th evaluations (600 and 1,000 steps);
    // MSE's (all 1, all 3) never do; the unfinished seed is left out. Compute time: per seed the
    // sum of its epochs' CPU times, wall times where none was logged; none without timings.
    let seeds: Vec<(&str, u64, f64, f64, Option<f64>, Option<f64>)> =
        summary.seeds.iter().map(|s| (s.loss.as_str(), s.seed, s.final_score, s.best, s.solved_at, s.minutes)).collect();
    assert_eq!(
        seeds,
        [
            ("vagram", 0, 10.0, 10.0, Some(600.0), Some(6.5 / 60.0)),
            ("vagram", 1, 20.0, 20.0, Some(1000.0), Some(64.0 / 60.0)),
            ("mse", 0, 1.0, 1.0, None, None),
            ("mse", 1, 3.0, 3.0, None, None),
        ]
    );
    assert!((summary.seeds[0].auc - 4.6).abs() < 1e-12);
    assert_eq!(summary.cell_scores("w8", "mse", Score::Final), [1.0, 3.0]);
    assert_eq!(summary.cell_scores("w8", "vagram", Score::Auc).len(), 2);
    assert!(summary.cell_scores("w16", "vagram", Score::Final).is_empty(), "the unfinished seed has no scores");
    let unsolved = summarise(&study, None).unwrap();
    assert!(unsolved.seeds.iter().all(|s| s.solved_at.is_none()), "the tiny study names no solved score");
    assert_eq!(unsolved.rows, summary.rows, "the solved score changes nothing else");
    assert_eq!((summary.solved, unsolved.solved), (Some(5.0), None));
    let printed = table(&summary);
    assert!(printed.lines().next().unwrap().contains("solved (≥ 5)"), "{printed}");
    assert!(printed.lines().nth(1).unwrap().ends_with("2/2") && printed.lines().nth(2).unwrap().ends_with("0/2"), "{printed}");
    assert!(!table(&unsolved).contains("solved"));
    // (6.5 + 64) s = 70.5 s = 0.020 h; median of two seeds: 35.25 s = 0.6 min.
    assert!(
        printed.contains("cost: 0.02 hours") && printed.contains("2 finished seed runs") && printed.contains("median 0.6 min"),
        "{printed}"
    );
    // A line name longer than the loss column widens it: every row's seeds column still lines up.
    let mut long = Summary { diffs: Vec::new(), solved: None, ..summary.clone() };
    long.rows[1].loss = "value_weighted_authors_code".into();
    let printed = table(&long);
    let lines: Vec<&str> = printed.lines().take(3).collect();
    let seeds_end = |line: &str| line.find("seeds").map(|i| i + 5).unwrap_or_else(|| line.len());
    let end = seeds_end(lines[0]);
    for line in &lines[1..] {
        assert!(line.is_char_boundary(end) && line[..end].ends_with('2'), "the seeds column ends at byte {end}:\n{printed}");
    }
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[]), None);
    assert_eq!(seed_scores(&[0., 1., 2., 3., 4., 5., 6., 7., 8., 10.]), Some((10.0, 4.6)));
    // VaGraM − MSE in w8 only (w16 has no finished seed), in both scores: finals (10, 20)
    // against (1, 3), then means over the run (4.6, 2.0) against (1, 3).
    assert_eq!(diffs.len(), 2, "{diffs:?}");
    let d = &diffs[0];
    assert_eq!((d.setting.as_str(), d.compared.as_str(), d.score, d.diff), ("w8", "vagram - mse", Score::Final, 13.0));
    // se² = 50/2 + 2/2 = 26; df = 26² / (25²/1 + 1²/1) = 676/626.
    let df = d.df.unwrap();
    assert!((df - 676.0 / 626.0).abs() < 1e-12, "{df}");
    let w = welch(&[10.0, 20.0], &[1.0, 3.0]).unwrap();
    assert_eq!((d.ci_low, d.ci_high), (Some(w.low), Some(w.high)));
    // With about one degree of freedom the t quantile is near 12.7: the interval is wide.
    assert!(w.low < -40.0 && w.high > 60.0, "{w:?}");
    let auc = &diffs[1];
    assert_eq!((auc.setting.as_str(), auc.score), ("w8", Score::Auc));
    assert!((auc.diff - 1.3).abs() < 1e-12, "(4.6 + 2.0)/2 − (1 + 3)/2: {}", auc.diff);
    // var/n: 2 · 1.3² / 1 / 2 = 1.69 and 2 / 2 = 1; df = 2.69² / (1.69² + 1²).
    let df = auc.df.unwrap();
    assert!((df - 2.69f64.powi(2) / (1.69f64.powi(2) + 1.0)).abs() < 1e-9, "{df}");
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn the_slurm_export_has_one_task_per_cell_and_seed_by_absolute_path() {
    let base = temp("slurm");
    let file = base.join("tiny.toml");
    fs::write(&file, tiny_study(16)).unwrap();
    let (code, _, err) = vagram(&["study", "export-slurm", "st"], &base);
    assert_eq!(code, 2);
    assert!(err.contains("holds no study yet") && err.contains("--study"), "{err}");
    let study = file.display().to_string();
    let (code, _, err) = vagram(&["study", "export-slurm", "st", "--study", &study, "--scale", "paper"], &base);
    assert_eq!(code, 0, "{err}");
    let dir = base.join("st").display().to_string();
    let text = fs::read_to_string(base.join("st/slurm.sh")).unwrap();
    assert!(text.contains("#SBATCH --array=0-11\n"), "4 cells × 3 seeds: {text}");
    assert!(text.contains(&format!("#SBATCH --chdir={dir}\n")) && text.contains(&format!("#SBATCH --output={dir}/slurm/%a.out")), "{text}");
    assert!(text.contains("CELLS=(w8-vagram w8-vagram w8-vagram w8-mse"), "{text}");
    assert!(text.contains("SEEDS=(0 1 2 0 1 2"), "{text}");
    assert!(text.contains(&format!("--resume \"{dir}/${{CELLS[$i]}}\"")), "{text}");
    assert!(text.contains("#SBATCH --mem=2G\n") && text.contains("#SBATCH --time=0-00:10:00\n"), "calibrated: {text}");
    // More tasks than the cluster's MaxArraySize: several scripts, each within it.
    let (code, _, err) =
        vagram(&["study", "export-slurm", "st", "--max-array-size", "5", "--time", "1:00:00", "--cpus-per-task", "2"], &base);
    assert_eq!(code, 0, "{err}");
    let parts: Vec<String> = (0..3).map(|k| fs::read_to_string(base.join(format!("st/slurm-{k}.sh"))).unwrap()).collect();
    assert!(parts[0].contains("#SBATCH --array=0-4\n") && parts[2].contains("#SBATCH --array=0-1\n"), "5 + 5 + 2 tasks");
    assert!(
        parts[1].contains("CELLS=(w8-mse w16-vagram w16-vagram w16-vagram w16-mse)") && parts[1].contains("SEEDS=(2 0 1 2 0)"),
        "{}",
        parts[1]
    );
    assert!(
        parts[2].contains("#SBATCH --time=1:00:00\n")
            && parts[2].contains("#SBATCH --cpus-per-task=2\n")
            && parts[2].contains("RAYON_NUM_THREADS=2")
    );
    assert!(parts[0].contains(&format!("#SBATCH --output={dir}/slurm/0-%a.out")), "logs of the scripts apart: {}", parts[0]);
    for cell in ["w8-vagram", "w8-mse", "w16-vagram", "w16-mse"] {
        assert!(base.join("st").join(cell).join("config.toml").is_file(), "{cell}: its run exists for --resume");
    }
    // The task command works as written: a task resumes its cell's run.
    let (code, _, err) = vagram(&["train", "--resume", &format!("{dir}/w16-mse"), "--only-seed", "2", "--threads", "1", "--quiet"], &base);
    assert_eq!(code, 0, "{err}");
    assert_eq!(metrics(&base.join("st"), "w16-mse", 2).lines().count(), 5);
    // A grown study exports the new seeds, and their tasks are accepted by the cells' runs.
    let (code, _, err) = vagram(&["study", "export-slurm", "st", "--seeds", "4", "--time", "1:00:00"], &base);
    assert_eq!(code, 0, "{err}");
    let text = fs::read_to_string(base.join("st/slurm.sh")).unwrap();
    assert!(text.contains("#SBATCH --array=0-15\n") && text.contains("SEEDS=(0 1 2 3 0 1 2 3"), "4 cells × 4 seeds: {text}");
    let (code, _, err) = vagram(&["train", "--resume", &format!("{dir}/w8-mse"), "--only-seed", "3", "--threads", "1", "--quiet"], &base);
    assert_eq!(code, 0, "{err}");
    assert_eq!(metrics(&base.join("st"), "w8-mse", 3).lines().count(), 5);
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn a_built_in_study_runs_end_to_end_at_smoke_scale() {
    let base = temp("smoke");
    let (code, out, _) = vagram(&["study", "list"], &base);
    assert_eq!(code, 0);
    for name in [
        "fig2",
        "fig3-capacity",
        "fig4-distractors",
        "fig5-pendulum",
        "fig5-cartpole",
        "fig7-det-vs-prob",
        "capacity-cartpole",
        "capacity-pendulum",
        "distractors-cartpole",
    ] {
        assert!(out.contains(name), "{name} listed: {out}");
    }
    let (code, _, err) = vagram(&["study", "run", "fig3-capacity", "--scale", "smoke", "--out", "st", "--only", "2x32-vagram"], &base);
    assert_eq!(code, 2);
    assert!(err.contains("no such cell") && err.contains("2x64-vagram"), "{err}");
    let (code, out, err) = vagram(&["study", "run", "fig3-capacity", "--scale", "smoke", "--out", "st", "--quiet"], &base);
    assert_eq!(code, 0, "{err}");
    let summary = fs::read_to_string(base.join("st/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 7, "3 model sizes × 2 losses: {summary}");
    let diffs = fs::read_to_string(base.join("st/differences.csv")).unwrap();
    assert_eq!(diffs.lines().count(), 7, "VaGraM − MLE per model size, final and AUC: {diffs}");
    assert!(diffs.lines().next().unwrap().contains(",score,"), "{diffs}");
    assert!(out.contains("2x64: vagram - mle") && out.contains("(AUC)"), "{out}");
    let svg = fs::read_to_string(base.join("st/figure.svg")).unwrap();
    assert!(svg.contains("2 × 64") && svg.contains("4 × 200 (full)") && svg.contains("env steps"), "panels titled, axes named");
    assert!(!svg.contains("300.0") && svg.contains(">\n300\n<"), "integer env-step ticks");
    assert!(fs::metadata(base.join("st/figure.png")).unwrap().len() > 10_000);
    // Plotting again from the directory alone gives the same summary.
    let (code, _, err) = vagram(&["study", "plot", "st"], &base);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read_to_string(base.join("st/summary.csv")).unwrap(), summary);
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn costs_are_estimated_from_a_calibration_and_nothing_is_written() {
    let base = temp("cost");
    let (code, out, err) = vagram(&["study", "show", "fig5-pendulum", "--cost", "smoke"], &base);
    assert_eq!(code, 0, "{err}");
    for cell in ["pendulum-vagram", "pendulum-mle", "pendulum-itervaml", "pendulum-value_weighted"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(cell) && l.contains("per seed on one core")), "{cell}: {out}");
    }
    assert!(out.contains("in all:") && out.contains("8 seed runs"), "{out}");
    let (code, out, err) = vagram(&["train", "--env", "cartpole", "--estimate", "--seeds", "3", "--out", "never"], &base);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("estimate: ") && out.contains("SAC ") && out.contains("3 seed(s)"), "{out}");
    assert!(!base.join("never").exists() && !base.join("runs").exists(), "an estimate writes no run");
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn fig2_runs_at_smoke_scale_with_its_value_function_sequence() {
    let base = temp("fig2");
    // `show` describes its budget in model steps, not MBPO env steps; `--cost` is refused.
    let (code, out, err) = vagram(&["study", "show", "fig2"], &base);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("each model 150 SGD steps on 500 uniform transitions (3 × 50") && !out.contains("SAC updates"), "{out}");
    let (code, _, err) = vagram(&["study", "show", "fig2", "--cost", "cpu"], &base);
    assert_eq!(code, 2);
    assert!(err.contains("model-learning study"), "{err}");
    let (code, _, err) = vagram(&["study", "run", "fig2", "--scale", "smoke", "--out", "st", "--only", "nn-mle"], &base);
    assert_eq!(code, 2, "an unknown cell is refused, as for MBPO studies");
    assert!(err.contains("no such cell") && err.contains("nn-mse"), "{err}");
    let (code, out, err) = vagram(&["study", "run", "fig2", "--scale", "smoke", "--out", "st", "--threads", "2"], &base);
    assert_eq!(code, 0, "{err}");
    let summary = fs::read_to_string(base.join("st/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 7, "2 architectures × 3 losses: {summary}");
    // A line per value function of every cell while it trains.
    for k in 1..=3 {
        assert!(err.contains(&format!("nn-vaml: value function {k}/3 done · {} model steps", 50 * k)), "{err}");
    }
    assert!(out.contains("linear: vagram - mse") && out.contains("nn: vagram - mse"), "{out}");
    // Each model's curve: a measurement before training and every 25 of 3 × 50 steps, with
    // value functions 0, 1, 2 in turn; errors finite and non-negative.
    let text = metrics(&base.join("st"), "nn-vaml", 1);
    let rows: Vec<Vec<f64>> = text.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    assert_eq!(text.lines().next(), Some("model_steps,value_function,vaml_error,state_mse,dead_units"));
    // The 16 ReLU units: a whole count of dead ones; a linear model has none to count.
    assert!(rows.iter().all(|r| r[4].fract() == 0.0 && (0.0..=16.0).contains(&r[4])), "{text}");
    let linear = metrics(&base.join("st"), "linear-vaml", 1);
    assert!(linear.lines().skip(1).all(|l| l.ends_with(",NaN")), "{linear}");
    assert_eq!(rows.iter().map(|r| r[0] as usize).collect::<Vec<_>>(), [0, 25, 50, 75, 100, 125, 150]);
    assert_eq!(rows.iter().map(|r| r[1] as usize).collect::<Vec<_>>(), [0, 0, 0, 1, 1, 2, 2]);
    assert!(rows.iter().all(|r| r[2].is_finite() && r[2] >= 0.0 && r[3].is_finite() && r[3] > 0.0), "{text}");
    // The losses train different models from the same start: same first error, different last.
    let first_last = |cell: &str| {
        let t = metrics(&base.join("st"), cell, 0);
        let v: Vec<f64> = t.lines().skip(1).map(|l| l.split(',').nth(2).unwrap().parse().unwrap()).collect();
        (v[0], *v.last().unwrap())
    };
    let (vagram_first, vagram_last) = first_last("linear-vagram");
    let (mse_first, mse_last) = first_last("linear-mse");
    assert_eq!(vagram_first, mse_first, "the same initial models and value function");
    assert_ne!(vagram_last, mse_last);
    // A rerun skips the finished cells; the Slurm export is refused for this kind of study.
    let (code, _, err) = vagram(&["study", "run", "fig2", "--scale", "smoke", "--out", "st"], &base);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("training the value-function sequence"), "nothing retrained: {err}");
    let (code, _, err) = vagram(&["study", "export-slurm", "st"], &base);
    assert_eq!(code, 2);
    assert!(err.contains("model-learning study"), "{err}");
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn a_diverging_model_learning_cell_keeps_its_curve_as_stopped_seeds() {
    let base = temp("diverge");
    // Fig. 2 with plain SGD at a step (0.99) its MSE fits do not survive.
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/fig2.toml")).unwrap();
    let text = text.replace("\"model.lr=0.001\"", "\"model.lr=0.99\", 'model.optimizer=\"sgd\"'");
    assert!(text.contains("model.lr=0.99"), "the fig2 study still sets model.lr");
    fs::write(base.join("diverge.toml"), text).unwrap();
    let (code, out, err) = vagram(&["study", "run", "diverge.toml", "--scale", "smoke", "--out", "st", "--only", "nn-mse"], &base);
    assert_eq!(code, 1, "a runtime failure: {out}{err}");
    assert!(err.contains("nn-mse") && err.contains("non-finite"), "{err}");
    for seed in [0, 1] {
        let status = fs::read_to_string(base.join(format!("st/nn-mse/seed-{seed}/status.toml"))).unwrap();
        assert!(status.contains("state = \"stopped\"") && status.contains("non-finite"), "{status}");
        let curve = metrics(&base.join("st"), "nn-mse", seed);
        assert!(curve.lines().count() >= 2, "the header and the measurement before training at least: {curve}");
    }
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn a_study_trains_its_seeds_seed_major_so_that_a_stopped_study_is_even() {
    let base = temp("order");
    let file = base.join("tiny.toml");
    fs::write(&file, tiny_study(16)).unwrap();
    let study = file.display().to_string();
    let args = ["study", "run", &study, "--out", "st", "--scale", "smoke", "--threads", "1", "--stop-after-epochs", "1", "--quiet"];
    let (code, out, err) = vagram(&args, &base);
    assert_eq!(code, 0, "{err}");
    // One seed at a time: the order of the first epochs is the order of the queue.
    let started: Vec<String> =
        format!("{out}{err}").lines().filter(|l| l.contains(" epoch 1/")).map(|l| l.split(" epoch").next().unwrap().to_string()).collect();
    let expected: Vec<String> =
        [0, 1].iter().flat_map(|seed| ["w8-vagram", "w8-mse", "w16-vagram", "w16-mse"].map(|cell| format!("{cell} seed {seed}"))).collect();
    assert_eq!(started, expected, "{out}{err}");
    let _ = fs::remove_dir_all(&base);
}

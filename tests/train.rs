//! `vagram train` end to end on tiny configs: logs and checkpoints are written, a run stopped
//! after epoch k and resumed writes the same metrics as an uninterrupted run bit for bit, a
//! resume under another config or from a damaged checkpoint is refused with the checkpoint left
//! in place, and the NaN guard stops one seed cleanly while the others finish.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use vagram::learn::snapshot::TensorStore;
use vagram::learn::{Bf16Path, Matmul};
use vagram::train::config::RunConfig;
use vagram::train::run_dir::seed_dir;
use vagram::train::{SeedJob, SeedOutcome, checkpoint, run_seeds};

mod common;
use common::TINY;

fn vagram(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vagram")).args(args).output().expect("run vagram");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

fn temp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("vagram-train-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    p
}

fn train_args<'a>(env: &'a str, loss: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = ["train", "--env", env, "--loss", loss, "--quiet"].iter().map(|s| s.to_string()).collect();
    for s in TINY.iter().chain(extra) {
        args.push("--set".into());
        args.push(s.to_string());
    }
    args
}

fn run_cli(args: &[String]) -> (i32, String) {
    vagram(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Trains a tiny run of `env` with `loss` (TINY and `sets`) into `run`, with further CLI
/// `flags`, and asserts that it succeeded.
fn train_tiny(run: &Path, env: &str, loss: &str, sets: &[&str], flags: &[&str]) {
    let mut args = train_args(env, loss, sets);
    args.extend(["--out", &run.display().to_string()].map(String::from));
    args.extend(flags.iter().map(|f| f.to_string()));
    let (code, err) = run_cli(&args);
    assert_eq!(code, 0, "{err}");
}

fn metrics(run: &Path, seed: u64) -> String {
    fs::read_to_string(seed_dir(run, seed).join("metrics.csv")).expect("metrics.csv")
}

#[test]
fn a_resumed_run_matches_the_uninterrupted_run_bit_for_bit() {
    // The hopper has contacts: its solver state is rebuilt at every epoch's end, so it resumes
    // bit for bit too.
    for (env, loss, extra) in [("pendulum", "mle", vec!["env.distractors=2"]), ("cartpole", "vagram", vec![]), ("hopper", "vagram", vec![])]
    {
        let (full, parted) = (temp(&format!("full-{env}")), temp(&format!("parted-{env}")));
        let mut args = train_args(env, loss, &extra);
        args.extend(["--seeds".into(), "2".into(), "--out".into(), full.display().to_string()]);
        let (code, err) = run_cli(&args);
        assert_eq!(code, 0, "{err}");

        let mut args = train_args(env, loss, &extra);
        args.extend(["--seeds", "2", "--out", &parted.display().to_string(), "--stop-after-epochs", "2"].map(String::from));
        let (code, err) = run_cli(&args);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("paused after 2 epochs"), "{err}");
        assert_eq!(metrics(&parted, 0).lines().count(), 3, "header + 2 epochs before the stop");
        let (code, err) = vagram(&["train", "--resume", &parted.display().to_string(), "--quiet"]);
        assert_eq!(code, 0, "{err}");

        for seed in [0, 1] {
            let (a, b) = (metrics(&full, seed), metrics(&parted, seed));
            assert_eq!(a.lines().count(), 5, "{env}: header + 4 epochs");
            assert_eq!(a, b, "{env} seed {seed}: resumed metrics differ from the uninterrupted run");
            let timings = fs::read_to_string(seed_dir(&parted, seed).join("timings.csv")).unwrap();
            assert_eq!(timings.lines().count(), 5);
        }
        assert_ne!(metrics(&full, 0), metrics(&full, 1), "seeds differ");
        let last = metrics(&full, 0).lines().last().unwrap().to_string();
        let cells: Vec<&str> = last.split(',').collect();
        assert_eq!((cells[0], cells[1]), ("3", "400"), "epoch and env steps: {last}");
        assert!(cells.iter().skip(2).all(|c| *c != "NaN" && *c != "inf"), "every metric is set by the last epoch: {last}");
        assert!(full.join("learning_curve.png").is_file());
        let status = fs::read_to_string(seed_dir(&full, 1).join("status.toml")).unwrap();
        assert!(status.contains("state = \"finished\""), "{status}");
    }
}

#[test]
fn resume_refuses_another_config_and_damaged_checkpoints_and_keeps_them() {
    let run = temp("refuse");
    let mut args = train_args("pendulum", "vagram", &[]);
    args.extend(["--out", &run.display().to_string(), "--stop-after-epochs", "1"].map(String::from));
    assert_eq!(run_cli(&args).0, 0);
    let dir = seed_dir(&run, 0);
    let files = |d: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| (e.file_name().to_string_lossy().to_string(), fs::read(e.path()).unwrap()))
            .collect();
        v.sort();
        v
    };
    let before = files(&dir);
    assert!(before.iter().any(|(n, _)| n == "checkpoint-000001.safetensors"), "{:?}", before.iter().map(|f| &f.0).collect::<Vec<_>>());

    let (code, err) = vagram(&["train", "--resume", &run.display().to_string(), "--set", "model.lr=0.01", "--quiet"]);
    assert_eq!(code, 2);
    assert!(err.contains("these keys differ: model.lr"), "{err}");
    let (code, err) = vagram(&["train", "--resume", &run.display().to_string(), "--loss", "mse", "--quiet"]);
    assert_eq!(code, 2);
    assert!(err.contains("model.loss"), "{err}");
    // Options that change the numbers or the seeds are refused too (they were ignored): a
    // precision the stored config does not write (f32 is its default), and other seeds.
    for (extra, named) in [
        (&["--matmul", "bf16"][..], "model.matmul"),
        (&["--set", "agent.matmul=bf16"], "agent.matmul"),
        (&["--seeds", "5"], "--seeds 5"),
        (&["--first-seed", "3"], "--first-seed 3"),
    ] {
        let mut resume = vec!["train", "--resume", run.to_str().unwrap(), "--quiet"];
        resume.extend(extra);
        let (code, err) = vagram(&resume);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(named), "{extra:?}: {err}");
    }
    assert_eq!(files(&dir), before, "a refused resume changes nothing");
    let (code, err) = run_cli(&args);
    assert_eq!(code, 2);
    assert!(err.contains("already holds a run"), "{err}");

    // A flipped byte in the tensors: refused by the CRC, and the files stay.
    let tensors = dir.join("checkpoint-000001.safetensors");
    let mut bytes = fs::read(&tensors).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    fs::write(&tensors, &bytes).unwrap();
    let (code, err) = vagram(&["train", "--resume", &run.display().to_string(), "--quiet"]);
    assert_ne!(code, 0);
    assert!(err.contains("CRC-32 mismatch"), "{err}");
    assert!(tensors.is_file() && checkpoint::exists(&dir), "the damaged checkpoint is left for inspection");
    // A truncated file names the length.
    fs::write(&tensors, &bytes[..mid]).unwrap();
    let (_, err) = vagram(&["train", "--resume", &run.display().to_string(), "--quiet"]);
    assert!(err.contains("truncated or damaged"), "{err}");
    assert_eq!(fs::read_to_string(dir.join("metrics.csv")).unwrap().lines().count(), 2, "the logged epoch is kept");
}

#[test]
fn the_nan_guard_stops_one_seed_cleanly_and_the_others_finish() {
    let run = temp("nan");
    let mut config = RunConfig::preset("pendulum", "vagram").unwrap();
    for s in TINY {
        config.set(s).unwrap();
    }
    let text = config.to_toml();
    fs::create_dir_all(&run).unwrap();
    let registry = vagram::envs::builtin_registry();
    let job = SeedJob {
        config: &config,
        config_text: &text,
        registry: &registry,
        run_dir: &run,
        seed: 0,
        resume: true,
        checkpoint_every: 1,
        stop_after: Some(2),
        watch: None,
    };
    let first = run_seeds(&job, &[0, 1], 2, &|_| {});
    assert!(first.iter().all(|(_, o)| matches!(o, Ok(SeedOutcome::Paused { epochs: 2 }))), "{first:?}");

    // Poison seed 0's policy in its checkpoint, as a diverged update would.
    let dir = seed_dir(&run, 0);
    let (manifest, store) = checkpoint::load(&dir, &text).unwrap();
    let mut poisoned = TensorStore::from_bytes(&store.to_bytes(None)).unwrap();
    let shape = [1, 2]; // the actor's output bias: [mean, log std] of the one action
    let mut b = poisoned.get_f32("agent.actor.2.bias", &shape).unwrap();
    b[0] = f32::NAN;
    poisoned.put_f32("agent.actor.2.bias", &shape, &b);
    checkpoint::save(&dir, &poisoned, manifest.epoch, manifest.env_steps, &text).unwrap();
    let checkpoint_before = fs::read(dir.join(&manifest.tensors)).unwrap();

    let resumed = run_seeds(&SeedJob { stop_after: None, ..job }, &[0, 1], 2, &|_| {});
    match &resumed[0].1 {
        Ok(SeedOutcome::Stopped { epochs: 2, message }) => {
            assert!(message.contains("epoch 2") && message.contains("NaN") && message.contains("action"), "{message}")
        }
        other => panic!("seed 0 must stop on the NaN: {other:?}"),
    }
    assert!(matches!(resumed[1].1, Ok(SeedOutcome::Finished { epochs: 4, .. })), "{:?}", resumed[1].1);
    assert_eq!(metrics(&run, 0).lines().count(), 3, "seed 0 keeps its 2 logged epochs");
    assert_eq!(metrics(&run, 1).lines().count(), 5);
    assert_eq!(fs::read(dir.join(&manifest.tensors)).unwrap(), checkpoint_before, "its last checkpoint is untouched");
    let status = fs::read_to_string(dir.join("status.toml")).unwrap();
    assert!(status.contains("stopped") && status.contains("NaN"), "{status}");
}

#[test]
fn hopper_trains_with_distractors_and_a_small_model() {
    let run = temp("hopper");
    train_tiny(&run, "hopper", "mle", &["run.env_steps=200", "env.distractors=5", "model.hidden=[64, 64]"], &[]);
    let m = metrics(&run, 0);
    assert_eq!(m.lines().count(), 3, "{m}");
    assert!(checkpoint::exists(&seed_dir(&run, 0)));
}

#[test]
fn plot_overlays_runs_and_reports_missing_columns() {
    let run = temp("plot");
    train_tiny(&run, "pendulum", "mse", &["run.env_steps=200"], &[]);
    let out = run.join("cmp.png");
    let (code, err) =
        vagram(&["plot", &run.display().to_string(), &run.display().to_string(), "--labels", "a,b", "--out", &out.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(fs::metadata(&out).unwrap().len() > 5000, "a drawn PNG");
    let out_eval =
        Command::new(env!("CARGO_BIN_EXE_vagram")).args(["evaluate", &run.display().to_string(), "--episodes", "2"]).output().unwrap();
    let text = String::from_utf8_lossy(&out_eval.stdout);
    assert!(out_eval.status.success() && text.contains("seed 0: 200 env steps · eval return") && text.contains("2 episodes"), "{text}");
    let (code, err) = vagram(&["plot", &run.display().to_string(), "--metric", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("no column 'nonsense'"), "{err}");
    let script = run.join("job.sh");
    let other = temp("slurm");
    let mut args = train_args("pendulum", "mse", &[]);
    args.extend(["--seeds", "3", "--out", &other.display().to_string(), "--export-slurm", &script.display().to_string()].map(String::from));
    let (code, err) = run_cli(&args);
    assert_eq!(code, 0, "{err}");
    let text = fs::read_to_string(&script).unwrap();
    assert!(text.contains("#SBATCH --array=0-2") && text.contains("--only-seed \"${SEEDS[$SLURM_ARRAY_TASK_ID]}\""), "{text}");
    assert!(other.join("config.toml").is_file() && !seed_dir(&other, 0).exists(), "export writes the run, trains nothing");
}

#[test]
fn the_hopper_preset_and_the_papers_variants_build_and_step() {
    let registry = vagram::envs::builtin_registry();
    let variants: [&[&str]; 6] = [
        &[],
        &["model.hidden=[64, 64]"],
        &["model.hidden=[64, 64, 64]"],
        &["env.distractors=5"],
        &["env.distractors=10", "env.distractor_variant=reference"],
        &["env.distractors=15", "mixing.mode=per-batch"],
    ];
    for overrides in variants {
        let mut config = RunConfig::preset("hopper", "mle").unwrap();
        for s in overrides {
            config.set(s).unwrap();
        }
        config.validate(&registry.names()).unwrap();
        let mut run = vagram::train::SeedApp::build(&config, &registry, 0).unwrap();
        run.app.run(20).unwrap();
        let obs = &run.app.world.get::<vagram::prelude::Observation>(run.env).unwrap().0;
        assert_eq!(obs.len(), 11 + config.env.distractors, "{overrides:?}");
        let buffer = &run.app.world.resource::<vagram::systems::learning::EnvBuffer>().0;
        assert_eq!(buffer.len(), 20, "{overrides:?}");
    }
}

/// Counts what a watcher is shown; it watches every 7 steps, which does not divide the epoch.
struct Counting {
    chunks: std::sync::atomic::AtomicU64,
    epochs: std::sync::atomic::AtomicU64,
}

impl vagram::train::Watch for Counting {
    fn every(&self) -> u64 {
        7
    }
    fn steps(&self, _: &vagram::train::SeedApp) {
        self.chunks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn epoch(&self, _: &vagram::train::SeedApp, _: &vagram::train::EpochReport) {
        self.epochs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn ended(&self, _: u64, outcome: &anyhow::Result<SeedOutcome>) {
        assert!(matches!(outcome, Ok(SeedOutcome::Finished { .. })));
    }
}

#[test]
fn a_watched_run_gives_the_same_numbers_as_an_unwatched_one() {
    let mut config = RunConfig::preset("pendulum", "vagram").unwrap();
    for s in TINY {
        config.set(s).unwrap();
    }
    let text = config.to_toml();
    let registry = vagram::envs::builtin_registry();
    let (plain, watched) = (temp("unwatched"), temp("watched"));
    let watch = Counting { chunks: 0.into(), epochs: 0.into() };
    for (dir, w) in [(&plain, None), (&watched, Some(&watch as &dyn vagram::train::Watch))] {
        fs::create_dir_all(dir).unwrap();
        let job = SeedJob {
            config: &config,
            config_text: &text,
            registry: &registry,
            run_dir: dir,
            seed: 3,
            resume: false,
            checkpoint_every: 1,
            stop_after: None,
            watch: w,
        };
        let out = run_seeds(&job, &[3], 1, &|_| {});
        assert!(matches!(out[0].1, Ok(SeedOutcome::Finished { epochs: 4, .. })), "{:?}", out[0].1);
    }
    assert_eq!(metrics(&plain, 3), metrics(&watched, 3));
    // 100-step epochs in chunks of 7: 14 full chunks and a rest of 2, per epoch.
    assert_eq!(watch.chunks.into_inner(), 4 * 15);
    assert_eq!(watch.epochs.into_inner(), 4);
}

#[test]
fn evaluate_records_each_seeds_first_episode_up_to_its_end() {
    let run = temp("record");
    train_tiny(&run, "cartpole", "mse", &["run.env_steps=200"], &[]);
    let dir = run.join("traces");
    let out = Command::new(env!("CARGO_BIN_EXE_vagram"))
        .args(["evaluate", &run.display().to_string(), "--episodes", "3", "--record", &dir.display().to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // "  first episode: L steps, return R → PATH"
    let line = text.lines().find(|l| l.contains("first episode:")).unwrap_or_else(|| panic!("{text}"));
    let length: usize = line.split("first episode: ").nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
    let ret: f64 = line.split("return ").nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
    let csv = fs::read_to_string(dir.join("seed-0.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("step,obs_0,obs_1,obs_2,obs_3,reward,terminated,truncated"));
    let rows: Vec<Vec<f64>> = lines.map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    assert_eq!(rows.len(), length + 1, "the initial observation and one row per step of the episode");
    assert!(rows.iter().enumerate().all(|(i, r)| r[0] == i as f64), "consecutive steps");
    let ended = |r: &Vec<f64>| r[6] + r[7];
    assert_eq!(ended(&rows[length]), 1.0, "the last row ends the episode");
    assert!(rows[..length].iter().all(|r| ended(r) == 0.0), "no row before the last ends it");
    let rewards: f64 = rows[1..].iter().map(|r| r[5]).sum();
    assert!((rewards - ret).abs() < 0.05 + 1e-4 * ret.abs(), "rewards sum to the printed return: {rewards} vs {ret}");
}

#[test]
fn matmul_flag_sets_both_precisions_and_a_resume_must_agree() {
    let script = temp("matmul-job.sh");
    // Exports a run made with `--matmul bf16` and `sets` (nothing trains) and returns its
    // directory and the (model, agent) precisions its config.toml holds.
    let export = |name: &str, sets: &[&str]| {
        let run = temp(name);
        let mut args = train_args("pendulum", "mse", sets);
        args.extend(
            ["--matmul", "bf16", "--out", &run.display().to_string(), "--export-slurm", &script.display().to_string()].map(String::from),
        );
        let (code, err) = run_cli(&args);
        assert_eq!(code, 0, "{err}");
        let config = RunConfig::from_toml(&fs::read_to_string(run.join("config.toml")).unwrap(), "config.toml").unwrap();
        (run, (config.model.matmul, config.agent.matmul))
    };
    let (run, precisions) = export("matmul", &[]);
    assert_eq!(precisions, (Matmul::Bf16, Matmul::Bf16));
    // A --set wins over the flag, key by key.
    assert_eq!(export("matmul-set", &["agent.matmul=f32"]).1, (Matmul::Bf16, Matmul::F32));
    let (code, err) = vagram(&["train", "--resume", &run.display().to_string(), "--matmul", "f32", "--quiet"]);
    assert_ne!(code, 0);
    assert!(err.contains("model.matmul") && err.contains("agent.matmul"), "{err}");
    let (code, err) = vagram(&["train", "--env", "pendulum", "--matmul", "f16", "--export-slurm", &script.display().to_string()]);
    assert_eq!(code, 2, "clap rejects an unknown precision");
    assert!(err.contains("--matmul") && err.contains("bf16"), "{err}");
}

#[test]
fn a_bf16_run_says_how_its_matmuls_run_here() {
    let train = |matmul: &str, path: Option<&str>| {
        let run = temp(&format!("matmul-says-{matmul}-{}", path.unwrap_or("fastest")));
        let mut args = train_args("pendulum", "mse", &["run.env_steps=200"]);
        args.extend(["--matmul", matmul, "--out", &run.display().to_string()].map(String::from));
        let mut command = Command::new(env!("CARGO_BIN_EXE_vagram"));
        command.args(&args).env_remove(Bf16Path::VAR);
        if let Some(path) = path {
            command.env(Bf16Path::VAR, path);
        }
        let out = command.output().expect("run vagram");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned(), run)
    };
    let says = |path: Bf16Path| match path {
        _ if cfg!(feature = "cuda") => "model.matmul and agent.matmul = bf16 is ignored by the cuda build",
        Bf16Path::Amx => "model.matmul and agent.matmul: bf16 on this CPU's AMX tiles",
        Bf16Path::Avx512Bf16 => "model.matmul and agent.matmul: bf16 on this CPU's AVX512_BF16 dot products",
        Bf16Path::Emulated => "warning: model.matmul and agent.matmul = bf16 is emulated on this CPU",
    };
    let (code, err, _) = train("bf16", None);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(says(Bf16Path::fastest())), "{err}");
    let (code, err, _) = train("f32", None);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(".matmul"), "an f32 run says nothing of its matmuls: {err}");
    if cfg!(feature = "cuda") {
        return;
    }
    // Forced onto the emulation, the run says so and why.
    let (code, err, _) = train("bf16", Some("emulated"));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(says(Bf16Path::Emulated)) && err.contains("VAGRAM_BF16_PATH is set"), "{err}");
    // A path that does not exist, or that this machine lacks, is refused before the run
    // directory is made.
    let missing = [Bf16Path::Amx, Bf16Path::Avx512Bf16].into_iter().find(|p| !p.runs_here());
    for (path, names) in [("avx512", "is not one of amx, avx512-bf16, emulated")]
        .into_iter()
        .chain(missing.map(|p| (p.name(), "which this machine cannot run")))
    {
        let (code, err, run) = train("bf16", Some(path));
        assert_ne!(code, 0, "{path}: {err}");
        assert!(err.contains("VAGRAM_BF16_PATH") && err.contains(names), "{path}: {err}");
        assert!(!run.exists(), "{path}: a refused run left {}", run.display());
    }
}

#[test]
fn evaluate_fails_naming_the_seeds_it_could_not_evaluate() {
    let run = temp("evaluate-missing");
    train_tiny(&run, "pendulum", "mse", &["run.env_steps=200"], &["--seeds", "2"]);
    let (code, err) = vagram(&["evaluate", &run.display().to_string(), "--episodes", "1"]);
    assert_eq!(code, 0, "{err}");
    fs::remove_dir_all(seed_dir(&run, 1)).unwrap();
    let (code, err) = vagram(&["evaluate", &run.display().to_string(), "--episodes", "1"]);
    assert_eq!(code, 1, "a seed listed in run.toml is missing");
    assert!(err.contains("seed 1 (no directory") && err.contains("1 of the run's seeds evaluated"), "{err}");
    let _ = fs::remove_dir_all(&run);
}

#[test]
fn a_first_seed_near_the_end_of_u64_is_refused_before_anything_is_written() {
    let run = temp("seed-overflow");
    let mut args = train_args("pendulum", "mse", &[]);
    args.extend(["--seeds", "2", "--first-seed", "18446744073709551615", "--out", &run.display().to_string()].map(String::from));
    let (code, err) = run_cli(&args);
    assert_ne!(code, 0);
    assert!(err.contains("--first-seed 18446744073709551615") && !err.contains("panicked"), "{err}");
    assert!(!run.exists(), "no run directory is left behind");
}

#[test]
fn a_fresh_run_prints_its_estimate_before_training_and_a_resume_does_not() {
    let run = temp("estimate-first");
    let mut args = train_args("pendulum", "mse", &[]);
    args.retain(|a| a != "--quiet");
    args.extend(["--out", &run.display().to_string(), "--stop-after-epochs", "1"].map(String::from));
    let (code, err) = run_cli(&args);
    assert_eq!(code, 0, "{err}");
    let estimate = err.find("estimate: ").unwrap_or_else(|| panic!("no estimate printed: {err}"));
    let epoch = err.find("epoch 1/").unwrap_or_else(|| panic!("no epoch line: {err}"));
    assert!(estimate < epoch, "the estimate comes before the training: {err}");
    assert!(err.contains("of wall time on this machine") && err.contains("per seed on ") && err.contains(" (SAC "), "{err}");
    let (code, err) = vagram(&["train", "--resume", &run.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("estimate: "), "a resume does not estimate the whole run again: {err}");
    let (code, err) = run_cli(
        &train_args("pendulum", "mse", &[])
            .into_iter()
            .chain(["--out".into(), temp("estimate-quiet").display().to_string()])
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("estimate: "), "--quiet prints no estimate: {err}");
}

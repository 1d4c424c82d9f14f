//! `vagram train`: MBPO runs with a chosen model loss, seeds in parallel, logs, checkpoints,
//! resume, learning curves, and Slurm job-array export.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use vagram::engine::env::EnvRegistry;
use vagram::learn::losses::LossKind;
use vagram::learn::{Bf16Path, Matmul};
use vagram::plot::curves::{draw_curves, read_curve};
use vagram::systems::learning::StageSeconds;
use vagram::train::config::memory::check_memory;
use vagram::train::config::{PRESETS, RunConfig};
use vagram::train::lock::{RunAccess, RunLock};
use vagram::train::run_dir::RunInfo;
use vagram::train::{SeedJob, SeedOutcome, Watch, run_seeds};

use super::runtime;
use super::slurm::{export_slurm, slurm_path};

/// Arguments of `vagram train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Environment (selects the preset when no --config is given).
    #[arg(long)]
    env: Option<String>,
    /// Model loss: vagram, mle, mse, itervaml, itervaml-mse, value-weighted, taylor.
    #[arg(long, value_parser = LossKind::NAMES.to_vec())]
    loss: Option<String>,
    /// Number of seeds (seeds are numbered from --first-seed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: Option<u64>,
    /// First seed number (default 0).
    #[arg(long)]
    first_seed: Option<u64>,
    /// Run directory (default: runs/ENV-LOSS).
    #[arg(long)]
    out: Option<PathBuf>,
    /// A TOML config replacing the preset (see `vagram config`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override a config key, e.g. --set model.hidden=[64,64] (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Matmul arithmetic of the model and the agent both (model.matmul and agent.matmul): f32,
    /// or bf16 (operands rounded to bfloat16, f32 sums; fast on CPUs with AMX tiles or
    /// AVX512_BF16, emulated elsewhere; VAGRAM_BF16_PATH forces a slower path).
    #[arg(long, value_parser = Matmul::NAMES)]
    matmul: Option<String>,
    /// Continue the run in this directory from its checkpoints.
    #[arg(long, conflicts_with = "out")]
    resume: Option<PathBuf>,
    /// Run only this seed of the run (e.g. one Slurm array task).
    #[arg(long)]
    only_seed: Option<u64>,
    #[command(flatten)]
    run: super::seed_options::SeedOptions,
    /// Write the run directory and a Slurm job-array script here instead of training.
    #[arg(long, value_name = "SCRIPT")]
    pub(crate) export_slurm: Option<PathBuf>,
    /// Print the run's estimated wall time on this machine (from a short calibration of its
    /// SAC updates, model fit, rollouts and env steps) and exit without training.
    #[arg(long, conflicts_with_all = ["resume", "export_slurm"])]
    estimate: bool,
}

fn config_from_args(args: &TrainArgs, base: Option<RunConfig>) -> anyhow::Result<RunConfig> {
    let mut config = match (&args.config, base) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            RunConfig::from_toml(&text, &path.display().to_string())?
        }
        (None, Some(stored)) => stored,
        (None, None) => {
            let env = args.env.as_deref().unwrap_or("pendulum");
            let loss = args.loss.as_deref().unwrap_or("vagram");
            // The loss is one of LossKind::NAMES (clap checked it), so None means the env.
            RunConfig::preset(env, loss).with_context(|| format!("--env {env}: no preset (presets: {})", PRESETS.join(", ")))?
        }
    };
    if let (Some(path), Some(env)) = (&args.config, &args.env)
        && *env != config.env.name
    {
        bail!(
            "--env {env} with --config {}, which is for env.name = {}: its hyperparameters are not the {env} preset's; \
             use --set env.name={env} to train them on {env} anyway, or leave out --config",
            path.display(),
            config.env.name
        );
    }
    if args.config.is_some() || args.resume.is_some() {
        if let Some(env) = &args.env {
            config.set(&format!("env.name={env}"))?;
        }
        if let Some(loss) = &args.loss {
            config.set(&format!("model.loss={loss}"))?;
        }
    }
    if let Some(matmul) = &args.matmul {
        for key in config.matmuls().map(|(key, _)| key) {
            config.set(&format!("{key}=\"{matmul}\""))?;
        }
    }
    for assignment in &args.set {
        config.set(assignment)?;
    }
    Ok(config)
}

/// What a bf16 matmul setting means on this build and machine (nothing for f32): the path its
/// products take here (AMX tiles, AVX512_BF16 dot products, or an emulation at less than f32's
/// speed), or that the CUDA build ignores it and multiplies in f32.
///
/// # Errors
/// If `VAGRAM_BF16_PATH` names no path or one this machine cannot run.
fn matmul_note(config: &RunConfig) -> anyhow::Result<Option<String>> {
    let keys: Vec<&str> = config.matmuls().into_iter().filter_map(|(key, value)| (value == Matmul::Bf16).then_some(key)).collect();
    if keys.is_empty() {
        return Ok(None);
    }
    let keys = keys.join(" and ");
    if cfg!(feature = "cuda") {
        return Ok(Some(format!("note: {keys} = bf16 is ignored by the cuda build, which multiplies in f32")));
    }
    let path = Bf16Path::here()?;
    let forced = if std::env::var_os(Bf16Path::VAR).is_some_and(|v| !v.is_empty()) {
        format!(" ({} is set; the fastest here is {})", Bf16Path::VAR, Bf16Path::fastest())
    } else {
        String::new()
    };
    Ok(Some(match path {
        Bf16Path::Amx => format!("{keys}: bf16 on this CPU's AMX tiles{forced}"),
        Bf16Path::Avx512Bf16 => format!("{keys}: bf16 on this CPU's AVX512_BF16 dot products{forced}"),
        Bf16Path::Emulated => format!(
            "warning: {keys} = bf16 is emulated on this CPU (f32 gemm on bf16-rounded operands): bf16's rounding at less than f32's speed{forced}"
        ),
    }))
}

fn validate(config: &RunConfig, registry: &EnvRegistry) -> anyhow::Result<()> {
    config.validate(&registry.names())?;
    // A bf16 path forced by the environment that this machine cannot run is refused before the
    // run directory is made.
    if !cfg!(feature = "cuda") && config.matmuls().into_iter().any(|(_, value)| value == Matmul::Bf16) {
        Bf16Path::here()?;
    }
    Ok(())
}

/// Seeds trained side by side: `--threads` or the core count, at most `seeds`.
fn seeds_at_once(args: &TrainArgs, seeds: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    args.run.threads.unwrap_or(cores).clamp(1, seeds.max(1))
}

/// A run ready to train: its directory, config and seeds (created or read back).
pub struct Prepared {
    /// The run directory.
    pub dir: PathBuf,
    /// The resolved, validated config.
    pub config: RunConfig,
    /// Its TOML text as stored in the run directory.
    pub config_text: String,
    /// The seeds to train now.
    pub seeds: Vec<u64>,
    /// Continue from checkpoints.
    pub resume: bool,
    /// Seeds trained side by side (worker threads, each running a seed on its own compute pool).
    pub threads: usize,
    /// The locks on the run and the seeds trained, held until training ends (never read: it
    /// works by being dropped last).
    #[allow(dead_code)]
    pub lock: RunLock,
}

/// Runs `vagram train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    if args.estimate {
        return estimate(&args);
    }
    match prepare(&args)? {
        Some(prepared) => {
            if !prepared.resume && !args.run.quiet {
                print_estimate(&prepared.config, prepared.seeds.len(), prepared.threads);
            }
            execute(&prepared, &args, None)
        }
        None => Ok(()),
    }
}

/// The estimated wall time of a fresh run, printed before it trains (a calibration of 5–15 s
/// on a seed's share of the cores; `--quiet` and resumes skip it). A calibration that
/// fails only says so: the run goes on.
fn print_estimate(config: &RunConfig, seeds: usize, at_once: usize) {
    let registry = vagram::envs::builtin_registry();
    match vagram::train::cost::estimate(config, &registry, seed_threads(seeds, at_once)) {
        Ok(per_seed) => eprintln!("estimate: {} of wall time on this machine: {per_seed}", wall_time(&per_seed, seeds, at_once)),
        Err(e) => eprintln!("note: no time estimate for this run ({e:#})"),
    }
}

/// `vagram train --estimate`: the calibrated cost of the config, nothing written.
fn estimate(args: &TrainArgs) -> anyhow::Result<()> {
    let registry = vagram::envs::builtin_registry();
    let config = config_from_args(args, None)?;
    validate(&config, &registry)?;
    let seeds = args.seeds.unwrap_or(1) as usize;
    let at_once = seeds_at_once(args, seeds);
    let threads = seed_threads(seeds, at_once);
    eprintln!("calibrating {} with the {} loss on {threads} thread(s), a seed's share of the cores…", config.env.name, config.model.loss);
    let per_seed = vagram::train::cost::estimate(&config, &registry, threads)?;
    println!("estimate: {per_seed}");
    println!("{seeds} seed(s), {at_once} at once: {} of wall time on this machine", wall_time(&per_seed, seeds, at_once));
    Ok(())
}

/// The compute threads each seed gets when `at_once` of `seeds` seeds train side by side.
fn seed_threads(seeds: usize, at_once: usize) -> usize {
    vagram::train::parallel::compute_threads(at_once, seeds)
}

/// The wall time of `seeds` seeds costing `per_seed` each, `at_once` of them side by side.
fn wall_time(per_seed: &vagram::train::cost::CostEstimate, seeds: usize, at_once: usize) -> String {
    per_seed.times(seeds.div_ceil(at_once.max(1)) as f64).summary()
}

/// Resolves the config, creates (or checks, on resume) the run directory and picks the seeds;
/// `None` when the command only exported a Slurm script.
pub fn prepare(args: &TrainArgs) -> anyhow::Result<Option<Prepared>> {
    let registry = vagram::envs::builtin_registry();
    // The seeds this command trains, out of the run's `seeds` (checked before anything is written).
    let trained = |seeds: &[u64]| -> anyhow::Result<Vec<u64>> {
        match args.only_seed {
            Some(s) if !seeds.contains(&s) => bail!("--only-seed {s}: the run's seeds are {seeds:?}"),
            Some(s) => Ok(vec![s]),
            None => Ok(seeds.to_vec()),
        }
    };
    let access = if args.only_seed.is_some() { RunAccess::Seeds } else { RunAccess::Whole };
    if let Some(script) = &args.export_slurm {
        // Checked before a run directory is made, so a refusal leaves nothing behind.
        slurm_path(script, "script")?;
        if let Some(dir) = args.resume.as_ref().or(args.out.as_ref()) {
            slurm_path(dir, "run directory")?;
        }
    }
    let mut created = None;
    let (dir, config, seeds, resume, lock) = match &args.resume {
        Some(dir) => {
            let path = dir.join("config.toml");
            let text = std::fs::read_to_string(&path).with_context(|| format!("--resume {}: no config.toml there", dir.display()))?;
            let stored = RunConfig::from_toml(&text, &path.display().to_string())?;
            let requested = config_from_args(args, Some(stored.clone()))?;
            let diff = stored.differing_keys(&requested);
            if !diff.is_empty() {
                bail!("--resume {}: the run was started with another config; these keys differ: {}", dir.display(), diff.join(", "));
            }
            let info = RunInfo::read(dir)?;
            let first = info.seeds.first().copied();
            for (flag, given, stored) in [("--seeds", args.seeds, Some(info.seeds.len() as u64)), ("--first-seed", args.first_seed, first)]
            {
                if let Some(v) = given.filter(|v| Some(*v) != stored) {
                    bail!(
                        "--resume {}: {flag} {v} does not match the run, whose seeds are {:?} (leave it out, or use --only-seed)",
                        dir.display(),
                        info.seeds
                    );
                }
            }
            let seeds = trained(&info.seeds)?;
            if args.export_slurm.is_none() {
                check_memory(&stored, &registry, seeds_at_once(args, seeds.len()))?;
            }
            let lock = runtime(RunLock::run(dir, access))?;
            (dir.clone(), stored, seeds, true, lock)
        }
        None => {
            let config = config_from_args(args, None)?;
            validate(&config, &registry)?;
            let dir = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("runs/{}-{}", config.env.name, config.model.loss)));
            // Refused before the lock too, so that a held run is not reported as a lock failure.
            RunInfo::refuse_existing(&dir)?;
            let n = args.seeds.unwrap_or(1);
            let first_seed = args.first_seed.unwrap_or(0);
            let end = first_seed
                .checked_add(n)
                .with_context(|| format!("--first-seed {first_seed} with --seeds {n}: seed numbers would pass {}", u64::MAX))?;
            let all: Vec<u64> = (first_seed..end).collect();
            let seeds = trained(&all)?;
            if args.export_slurm.is_none() {
                check_memory(&config, &registry, seeds_at_once(args, seeds.len()))?;
            }
            // Created under the whole-run lock: of two processes creating one run, one wins.
            let existed = dir.exists();
            let lock = runtime(RunLock::run(&dir, RunAccess::Whole))?;
            if !existed {
                created = Some(dir.clone());
            }
            RunInfo::create(&dir, &config, &all)?;
            (dir, config, seeds, false, lock)
        }
    };
    validate(&config, &registry)?;
    if let Some(script) = &args.export_slurm {
        if let Err(e) = export_slurm(script, &dir, &seeds) {
            // A run made only for this export goes again, so that a retry is not blocked by it.
            if let Some(made) = created {
                drop(lock);
                let _ = std::fs::remove_dir_all(made);
            }
            return Err(e);
        }
        return Ok(None);
    }
    let lock = runtime(lock.seeds(&dir, &seeds))?;
    let config_text = std::fs::read_to_string(dir.join("config.toml"))?;
    let threads = seeds_at_once(args, seeds.len());
    Ok(Some(Prepared { dir, config, config_text, seeds, resume, threads, lock }))
}

/// Trains a prepared run (with `watch` looking on, if given): progress bars, per-stage time
/// report, learning curve; an error lists the seeds that did not finish.
pub fn execute(prepared: &Prepared, args: &TrainArgs, watch: Option<&dyn Watch>) -> anyhow::Result<()> {
    let Prepared { dir, config, config_text, seeds, resume, threads, .. } = prepared;
    // SIGINT/SIGTERM pause every seed at its current step, status and checkpoint honest.
    vagram::train::stop::install()?;
    let registry = vagram::envs::builtin_registry();
    let job = SeedJob {
        config,
        config_text,
        registry: &registry,
        run_dir: dir,
        seed: 0,
        resume: *resume,
        checkpoint_every: args.run.checkpoint_every,
        stop_after: args.run.stop_after_epochs,
        watch,
    };
    let epochs = config.run.env_steps / config.run.epoch_length;
    eprintln!(
        "training {} with the {} loss: {} seed(s), {threads} at a time on {} compute thread(s) each, {} env steps each ({epochs} epochs) → {}",
        config.env.name,
        config.model.loss,
        seeds.len(),
        seed_threads(seeds.len(), *threads),
        config.run.env_steps,
        dir.display()
    );
    if let Some(note) = matmul_note(config)? {
        eprintln!("{note}");
    }
    let multi =
        if args.run.quiet { MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden()) } else { MultiProgress::new() };
    let style = ProgressStyle::with_template("seed {prefix:>3} [{bar:30}] epoch {pos}/{len} {msg} (ETA {eta})")
        .expect("valid template")
        .progress_chars("=> ");
    let bars: Vec<ProgressBar> = seeds
        .iter()
        .map(|s| {
            let bar = multi.add(ProgressBar::new(epochs).with_style(style.clone()).with_prefix(s.to_string()));
            bar.set_message("starting");
            bar
        })
        .collect();
    let started = Instant::now();
    let last_returns = Mutex::new(vec![f64::NAN; seeds.len()]);
    let on_epoch = |r: &vagram::train::EpochReport| {
        let i = seeds.iter().position(|s| *s == r.seed).expect("a seed of this run");
        bars[i].set_position(r.epochs_done);
        bars[i].set_message(format!("· {} steps · eval return {:.1}", r.row.env_steps, r.row.eval_return));
        last_returns.lock().expect("not poisoned")[i] = r.row.eval_return;
        if args.run.quiet || multi.is_hidden() {
            eprintln!(
                "seed {} epoch {}/{} · {} steps · eval return {:.1}",
                r.seed, r.epochs_done, r.epochs_total, r.row.env_steps, r.row.eval_return
            );
        }
    };
    let results = run_seeds(&job, seeds, *threads, &on_epoch);
    for b in &bars {
        b.abandon();
    }
    report(&results, started.elapsed().as_secs_f64())?;
    draw_run_curve(dir, config);
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(s, o)| match o {
            Ok(SeedOutcome::Stopped { message, .. }) => Some(format!("seed {s}: {message}")),
            Err(e) => Some(format!("seed {s}: {e:#}")),
            _ => None,
        })
        .collect();
    if !failed.is_empty() {
        return runtime(Err(anyhow::anyhow!(
            "{} of {} seeds did not finish (logs and last checkpoints kept):\n  {}",
            failed.len(),
            results.len(),
            failed.join("\n  ")
        )));
    }
    if let Some(signal) = vagram::train::stop::requested() {
        return runtime(Err(anyhow::anyhow!(
            "interrupted by {signal}: every unfinished seed is paused at its last checkpoint; continue with --resume {}",
            dir.display()
        )));
    }
    Ok(())
}

fn report(results: &[(u64, anyhow::Result<SeedOutcome>)], wall: f64) -> anyhow::Result<()> {
    let mut total = StageSeconds::default();
    let mut steps = 0u64;
    for (seed, outcome) in results {
        match outcome {
            Ok(SeedOutcome::Finished { epochs, seconds, .. }) => {
                eprintln!("seed {seed}: finished {epochs} epochs");
                total.add(seconds);
                steps += 1;
            }
            Ok(SeedOutcome::Paused { epochs }) => eprintln!("seed {seed}: paused after {epochs} epochs (continue with --resume)"),
            Ok(SeedOutcome::Stopped { epochs, message }) => eprintln!("seed {seed}: STOPPED after {epochs} epochs: {message}"),
            Ok(SeedOutcome::Interrupted { epochs, resumes_at, signal }) => {
                eprintln!("seed {seed}: interrupted by {signal} after {epochs} epochs (--resume continues from epoch {resumes_at})")
            }
            Err(e) => eprintln!("seed {seed}: could not run: {e:#}"),
        }
    }
    if steps > 0 && total.total() > 0.0 {
        let t = total.total();
        let pct = |x: f64| 100.0 * x / t;
        eprintln!(
            "time per stage (all seeds): env {:.0}% · model training {:.0}% · rollouts {:.0}% · SAC {:.0}% · evaluation {:.0}% · {:.1} s wall",
            pct(total.env),
            pct(total.model),
            pct(total.rollout),
            pct(total.sac),
            pct(total.eval),
            wall
        );
    }
    Ok(())
}

fn draw_run_curve(dir: &Path, config: &RunConfig) {
    let label = format!("{} · {}", config.env.name, config.model.loss);
    let Ok(curve) = read_curve(dir, "eval_return", &label) else { return };
    let path = dir.join("learning_curve.png");
    // A run with nothing to draw (no epoch yet, or no evaluations) trained fine: say so, exit 0.
    match draw_curves(&[curve], &path, &format!("{label}: evaluation return (mean ± SE over seeds)"), "eval return") {
        Ok(()) => eprintln!("learning curve: {}", path.display()),
        Err(e) => eprintln!("no learning curve drawn: {e:#}"),
    }
}

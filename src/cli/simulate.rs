//! `vagram simulate`: headless batch simulation with random, zero or CSV actions; optional
//! single-env trajectory recording for comparison with other simulators.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use vagram::engine::SimApp;
use vagram::engine::batch::{BatchConfig, BatchReport, EnvGroup, run_batch_with_progress};
use vagram::engine::env::components::{EndReason, EpisodeLog};
use vagram::engine::env::{ActionSource, ActionTable, DistractorConfig, DistractorVariant, SpawnOptions};
use vagram::systems::TrajectoryRecorder;

/// Arguments of `vagram simulate`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Env kinds, comma separated (e.g. `pendulum,cartpole`); see `vagram envs`.
    #[arg(long, default_value = "pendulum", value_delimiter = ',')]
    env: Vec<String>,
    /// Instances of each env kind.
    #[arg(long, default_value_t = 1)]
    envs: usize,
    /// Environment steps per env (default: 1000, or the number of rows of --actions).
    #[arg(long)]
    steps: Option<u64>,
    /// Worker threads (default: the machine's cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Master seed: same seed and arguments give bitwise-identical results.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Distracting dimensions appended to every observation.
    #[arg(long, default_value_t = 0)]
    distractors: usize,
    /// Distractor dynamics: `paper` (eq. 18) or `reference` (the authors' code).
    #[arg(long, default_value = "paper")]
    distractor_variant: DistractorVariant,
    /// Action source when no --actions file is given: `random` or `zero`.
    #[arg(long, value_enum, default_value_t = Policy::Random)]
    policy: Policy,
    /// CSV of actions, one row per step (a non-numeric first row is a header).
    #[arg(long)]
    actions: Option<PathBuf>,
    /// Initial generalized coordinates (positions, optionally followed by velocities), e.g.
    /// `--init-state 3.0,0.5` for the pendulum's θ and θ̇.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    init_state: Option<Vec<f64>>,
    /// Factor on the env's reset noise (0 = start exactly at the nominal state).
    #[arg(long, default_value_t = 1.0)]
    reset_noise: f64,
    /// Override the episode step limit (0 = no limit).
    #[arg(long)]
    max_episode_steps: Option<u32>,
    /// Envs per physics world (1–64): bigger blocks amortise Rapier's per-step cost, smaller
    /// ones spread few envs over more threads. Results do not depend on it.
    #[arg(long, default_value_t = 32)]
    block_size: usize,
    /// Write the trajectory (step, obs…, reward, terminated, truncated) to this CSV; one env only.
    #[arg(long)]
    record: Option<PathBuf>,
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let registry = vagram::envs::builtin_registry();
    let mut template = SpawnOptions::new(0);
    template.reset_noise = args.reset_noise;
    template.max_episode_steps = args.max_episode_steps;
    if args.distractors > 0 {
        if args.distractors > 4096 {
            bail!("--distractors = {} is invalid: at most 4096 extra dimensions", args.distractors);
        }
        template.distractors = Some(DistractorConfig { dims: args.distractors, variant: args.distractor_variant });
    }
    let mut steps = args.steps;
    template.action_source = match (&args.actions, args.policy) {
        (Some(path), _) => {
            let dims: Vec<usize> = args.env.iter().map(|k| registry.get(k).map(|f| f.spec().action_dim())).collect::<Result<_, _>>()?;
            if dims.iter().any(|d| *d != dims[0]) {
                bail!("--actions needs env kinds with one action dimension, got {:?} for {:?}", dims, args.env);
            }
            let table = ActionTable::from_csv(path, dims[0])?;
            steps.get_or_insert(table.len() as u64);
            ActionSource::Table(Arc::new(table))
        }
        (None, Policy::Random) => ActionSource::Random,
        (None, Policy::Zero) => ActionSource::Zero,
    };
    if let Some(values) = &args.init_state {
        for kind in &args.env {
            let spec = registry.get(kind)?.spec();
            template.init_state = Some(spec.parse_init_state(values)?);
        }
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let config = BatchConfig {
        seed: args.seed,
        groups: args.env.iter().map(|k| EnvGroup { kind: k.clone(), count: args.envs }).collect(),
        threads,
        steps: steps.unwrap_or(1000),
        template,
        block_size: args.block_size,
    };
    config.validate(&registry)?;
    let report = match &args.record {
        Some(path) => record_single(&registry, &config, path)?,
        None => {
            let total: u64 = config.groups.iter().map(|g| g.count as u64).sum::<u64>() * config.steps;
            let bar = indicatif::ProgressBar::new(total).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {human_pos}/{human_len} env steps · ETA {eta}").expect("valid template"),
            );
            let report = run_batch_with_progress(&registry, &config, &|done| bar.set_position(done));
            bar.finish_and_clear();
            report?
        }
    };
    print_summary(&config, &report);
    Ok(())
}

/// One env, stepped in this thread with a trajectory recorder attached.
fn record_single(registry: &vagram::engine::env::EnvRegistry, config: &BatchConfig, path: &std::path::Path) -> anyhow::Result<BatchReport> {
    let total: usize = config.groups.iter().map(|g| g.count).sum();
    if total != 1 {
        bail!("--record writes one trajectory: use it with one env (got {total} envs)");
    }
    let mut app = SimApp::new(config.seed);
    let entity = registry.get(&config.groups[0].kind)?.spawn(&mut app, &config.template)?;
    let obs = app.world.get::<vagram::engine::env::components::Observation>(entity).expect("spawned env").0.clone();
    let recorder = TrajectoryRecorder::create(path, &obs)?;
    app.world.entity_mut(entity).insert(recorder);
    let start = std::time::Instant::now();
    app.run(config.steps).with_context(|| format!("while recording to {}", path.display()))?;
    let wall = start.elapsed();
    app.world.get_mut::<TrajectoryRecorder>(entity).expect("recorder").flush()?;
    println!("recorded {} steps to {}", config.steps, path.display());
    Ok(BatchReport {
        env_steps: config.steps,
        wall,
        threads: 1,
        episodes: std::mem::take(&mut app.world.resource_mut::<EpisodeLog>().0),
        last: vagram::engine::batch::StepBatch::collect(&mut app),
    })
}

/// Prints the run summary; a closed stdout (e.g. piped into `head`) is not an error.
fn print_summary(config: &BatchConfig, report: &BatchReport) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(summary(config, report).as_bytes());
}

fn summary(config: &BatchConfig, report: &BatchReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let kinds: Vec<String> = config.groups.iter().map(|g| format!("{} {}", g.count, g.kind)).collect();
    let _ = writeln!(
        out,
        "simulated {} env steps ({} × {} steps) on {} thread(s) in {:.3} s: {:.0} env steps/s",
        report.env_steps,
        kinds.join(" + "),
        config.steps,
        report.threads,
        report.wall.as_secs_f64(),
        report.throughput()
    );
    if report.episodes.is_empty() {
        let _ = writeln!(out, "no episode finished (episodes run longer than {} steps)", config.steps);
        return out;
    }
    for group in &config.groups {
        let eps: Vec<_> = report.episodes.iter().filter(|e| e.kind == group.kind).collect();
        if eps.is_empty() {
            let _ = writeln!(out, "{}: no episode finished", group.kind);
            continue;
        }
        let count = |f: &dyn Fn(&EndReason) -> bool| eps.iter().filter(|e| f(&e.reason)).count();
        let n = eps.len() as f64;
        let mean = eps.iter().map(|e| e.ret).sum::<f64>() / n;
        let sd = (eps.iter().map(|e| (e.ret - mean).powi(2)).sum::<f64>() / n).sqrt();
        let (min, max) = eps.iter().fold((f64::MAX, f64::MIN), |(a, b), e| (a.min(e.ret), b.max(e.ret)));
        let mean_len = eps.iter().map(|e| e.length as f64).sum::<f64>() / n;
        let _ = writeln!(
            out,
            "{}: {} episodes finished ({} terminated, {} truncated, {} ended by non-finite physics); return mean {mean:.2} ± {sd:.2} (sd), min {min:.2}, max {max:.2}; mean length {mean_len:.1} steps",
            group.kind,
            eps.len(),
            count(&|r| matches!(r, EndReason::Terminated)),
            count(&|r| matches!(r, EndReason::TimeLimit)),
            count(&|r| matches!(r, EndReason::NonFinitePhysics { .. })),
        );
        if let Some(e) = eps.iter().find(|e| matches!(e.reason, EndReason::NonFinitePhysics { .. })) {
            let _ = writeln!(out, "  first non-finite: env {} episode {}: {:?}", e.env, e.index, e.reason);
        }
    }
    out
}

/// What drives the envs without `--actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Policy {
    /// Uniformly random actions in each env's action box.
    Random,
    /// Zero actions.
    Zero,
}

//! Command-line definitions and dispatch.

mod evaluate;
mod landscape;
mod plot;
mod seed_options;
mod simulate;
mod slurm;
mod study;
mod train;
mod view;

use clap::{Parser, Subcommand};

/// An error that happened while running (exit status 1): the work was attempted and did not
/// complete — seeds that did not finish, a stop signal, a run held by another process, seeds
/// that could not be evaluated. Every other error is about what was asked (arguments, configs,
/// a request that conflicts with a stored run) and exits 2, clap's usage status.
#[derive(Debug)]
pub struct RuntimeFailure(anyhow::Error);

impl std::fmt::Display for RuntimeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for RuntimeFailure {}

/// The process exit status for an error: 1 for a [`RuntimeFailure`], 2 otherwise.
pub fn exit_status(e: &anyhow::Error) -> i32 {
    if e.chain().any(|c| c.is::<RuntimeFailure>()) { 1 } else { 2 }
}

/// `result`, its error marked as a [`RuntimeFailure`].
pub fn runtime<T>(result: anyhow::Result<T>) -> anyhow::Result<T> {
    result.map_err(|e| anyhow::Error::new(RuntimeFailure(e)))
}

/// vagram: value-gradient weighted model-based RL as an ECS simulation engine.
#[derive(Parser, Debug)]
#[command(name = "vagram", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Step environments headless, in parallel, and report throughput and episodes.
    Simulate(Box<simulate::SimulateArgs>),
    /// List the registered environments with their spaces.
    Envs,
    /// Train a pendulum value function and draw paper Fig. 1 (value, VAML, MSE, VaGraM landscapes).
    Landscape(Box<landscape::LandscapeArgs>),
    /// Train MBPO with a model loss (VaGraM, MLE, …) over seeds in parallel; logs, checkpoints, curves.
    Train(Box<train::TrainArgs>),
    /// Re-evaluate a run's checkpointed policies over many episodes (mean ± SE per seed and over seeds).
    Evaluate(Box<evaluate::EvaluateArgs>),
    /// The paper's experiments as studies: list, show, run (resumable), plot, export-slurm.
    Study(Box<study::StudyArgs>),
    /// Overlay learning curves of runs (mean ± standard error over seeds) in one PNG.
    Plot(Box<plot::PlotArgs>),
    /// Open the egui viewer: a live side view of envs, with pause, step, speed and manual actions.
    View(Box<view::ViewArgs>),
    /// Print a preset's full config as TOML (a starting point for --config).
    Config {
        /// Preset (pendulum, cartpole, hopper).
        #[arg(long, default_value = "pendulum")]
        env: String,
        /// Model loss.
        #[arg(long, default_value = "vagram")]
        loss: String,
    },
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Simulate(args) => simulate::run(*args),
        Command::Landscape(args) => landscape::run(*args),
        Command::Train(args) => train::run(*args),
        Command::Study(args) => study::run(*args),
        Command::Plot(args) => plot::run(*args),
        Command::Evaluate(args) => evaluate::run(*args),
        Command::View(args) => view::run(*args),
        Command::Config { env, loss } => {
            let config = vagram::train::config::RunConfig::preset(&env, &loss)
                .ok_or_else(|| anyhow::anyhow!("--env {env}: no preset (presets: {})", vagram::train::config::PRESETS.join(", ")))?;
            print!("{}", config.to_toml());
            Ok(())
        }
        Command::Envs => {
            let registry = vagram::envs::builtin_registry();
            for name in registry.names() {
                let spec = registry.get(name)?.spec();
                println!(
                    "{name:<10} obs {} · action {} in [{:?}, {:?}] · state ({}) · dt {} s · {} steps per episode",
                    spec.obs_dim,
                    spec.action_dim(),
                    spec.action_space.low,
                    spec.action_space.high,
                    spec.state_names.join(", "),
                    spec.env_dt(),
                    spec.max_episode_steps
                );
            }
            Ok(())
        }
    }
}

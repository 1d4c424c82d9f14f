//! Command-line definitions and dispatch.

mod landscape;
mod simulate;

use clap::{Parser, Subcommand};

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
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Simulate(args) => simulate::run(*args),
        Command::Landscape(args) => landscape::run(*args),
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

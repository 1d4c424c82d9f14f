//! `vagram evaluate`: re-evaluates the policies of a run's checkpoints with many deterministic
//! episodes (the per-epoch evaluation in metrics.csv uses few, so it is noisy), per seed and
//! as mean ± standard error over seeds.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use vagram::plot::curves::mean_se;
use vagram::systems::learning::{AgentResource, Evaluation};
use vagram::train::config::RunConfig;
use vagram::train::run_dir::{seed_dir, seeds_listed};
use vagram::train::{SeedApp, checkpoint, state};

/// Arguments of `vagram evaluate`.
#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Run directory.
    run: PathBuf,
    /// Episodes per seed.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    episodes: u32,
    /// Write each seed's first evaluation episode to DIR/seed-N.csv (step, observations,
    /// reward, terminated, truncated; row 0 is the initial observation), to see how a policy
    /// fails.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
}

/// Runs `vagram evaluate`.
pub fn run(args: EvaluateArgs) -> anyhow::Result<()> {
    let registry = vagram::envs::builtin_registry();
    let path = args.run.join("config.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}: not a run directory (no config.toml)", args.run.display()))?;
    let config = RunConfig::from_toml(&text, &path.display().to_string())?;
    if let Some(dir) = &args.record {
        std::fs::create_dir_all(dir).with_context(|| format!("--record: creating {}", dir.display()))?;
    }
    let (mut means, mut skipped) = (Vec::new(), Vec::new());
    let seeds = seeds_listed(&args.run)?;
    if seeds.is_empty() {
        anyhow::bail!("{}: the run lists no seeds (no run.toml and no seed-N directory)", args.run.display());
    }
    for seed in seeds {
        let dir = seed_dir(&args.run, seed);
        if !dir.is_dir() {
            skipped.push(format!("seed {seed} (no directory {})", dir.display()));
            continue;
        }
        if !checkpoint::exists(&dir) {
            skipped.push(format!("seed {seed} (no checkpoint yet)"));
            continue;
        }
        let (manifest, store) = checkpoint::load(&dir, &text).with_context(|| format!("seed {seed}"))?;
        let mut run = SeedApp::build(&config, &registry, seed)?;
        state::load(&mut run, &store, &registry, &config.env.name).with_context(|| format!("seed {seed}: {}", manifest.tensors))?;
        let record = args.record.as_ref().map(|dir| dir.join(format!("seed-{seed}.csv")));
        let world = &mut run.app.world;
        let result = world.resource_scope(|world, evaluation: bevy_ecs::world::Mut<Evaluation>| {
            let mut agent = world.non_send_mut::<AgentResource>();
            let evaluation = Evaluation { episodes: args.episodes, last: None, ..evaluation.clone_settings() };
            // Start states apart from every training-time evaluation (epoch indices stay below 2^30).
            evaluation.run_recording(&mut agent.sac, 1 << 30, record.as_deref())
        })?;
        let (m, se) = mean_se(&result.returns).expect("at least one episode");
        println!("seed {seed}: {} env steps · eval return {m:.1} ± {se:.1} (SE over {} episodes)", manifest.env_steps, args.episodes);
        if let Some(path) = &record {
            println!("  first episode: {} steps, return {:.1} → {}", result.lengths[0], result.returns[0], path.display());
        }
        means.push(m);
    }
    if let Some((m, se)) = mean_se(&means) {
        println!("{} seeds: eval return {m:.1} ± {se:.1} (mean ± SE over seeds)", means.len());
    }
    if !skipped.is_empty() {
        return super::runtime(Err(anyhow::anyhow!(
            "not evaluated: {} ({} of the run's seeds evaluated)",
            skipped.join(", "),
            means.len()
        )));
    }
    Ok(())
}

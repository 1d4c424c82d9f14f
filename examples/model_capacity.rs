//! How well models of several sizes fit one run's real data: loads a seed's checkpoint (its env
//! buffer and its agent), fits a fresh ensemble of each given hidden-layer shape on that data
//! with the run's own model loss and trainer settings, and prints each fit's validation loss
//! (the trainer's held-out split, the run's validation loss) and its VAML error under the
//! checkpoint's value functions. Used to choose the model sizes of `capacity-cartpole`: a size
//! whose held-out error is far above the full model's is one where the model runs short.
//!
//! Run: `cargo run --release --example model_capacity -- RUN_DIR SEED [--loss NAME] SHAPE...`,
//! e.g. `cargo run --release --example model_capacity -- runs/cartpole-mle 0 "[]" "[16]" "[200,200,200,200]"`
//! (a shape is a TOML list of hidden widths; `[]` is a linear model). `--loss vagram` fits with
//! another loss than the run's (its validation loss and member reduction follow, as in a run).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use vagram::learn::AutoDevice;
use vagram::learn::dynamics::{DynamicsConfig, DynamicsModel};
use vagram::learn::trainer::{Dataset, fit};
use vagram::systems::learning::{AgentResource, EnvBuffer, MbpoEnv};
use vagram::train::build::{mbpo_config, model_loss_config};
use vagram::train::config::RunConfig;
use vagram::train::run_dir::seed_dir;
use vagram::train::{SeedApp, checkpoint, state};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        bail!("usage: model_capacity RUN_DIR SEED SHAPE... (a shape is a TOML list of hidden widths, e.g. \"[16]\")");
    }
    let run = PathBuf::from(&args[0]);
    let seed: u64 = args[1].parse().with_context(|| format!("seed '{}' is not a number", args[1]))?;
    let mut rest = &args[2..];
    let mut loss_override = None;
    if rest.first().map(String::as_str) == Some("--loss") {
        let name = rest.get(1).context("--loss needs a loss name")?;
        loss_override = Some(name.parse::<vagram::learn::losses::LossKind>().map_err(|e| anyhow::anyhow!("--loss: {e}"))?);
        rest = &rest[2..];
    }
    let shapes: Vec<Vec<usize>> = rest
        .iter()
        .map(|s| {
            toml::from_str::<toml::Table>(&format!("h = {s}"))
                .ok()
                .and_then(|t| t["h"].clone().try_into::<Vec<usize>>().ok())
                .with_context(|| format!("shape '{s}' is not a list of widths like [16] or [64, 64]"))
        })
        .collect::<anyhow::Result<_>>()?;

    let config_path = run.join("config.toml");
    let config_text = std::fs::read_to_string(&config_path).with_context(|| format!("reading {}", config_path.display()))?;
    let config = RunConfig::from_toml(&config_text, &config_path.display().to_string())?;
    // The data and value functions come from the run as it was; the fits use the chosen loss.
    let mut fit_config = config.clone();
    if let Some(kind) = loss_override {
        fit_config.model.use_loss(kind);
    }
    let registry = vagram::envs::builtin_registry();
    let mut app = SeedApp::build(&config, &registry, seed)?;
    let (manifest, store) = checkpoint::load(&seed_dir(&run, seed), &config_text)?;
    state::load(&mut app, &store, &registry, &config.env.name)?;
    let world = &app.app.world;
    let data = world.resource::<EnvBuffer>().0.contents();
    let dataset = Dataset { states: &data.obs, actions: &data.actions, next_states: &data.next_obs, rewards: &data.rewards };
    let oracle = world.non_send::<AgentResource>().sac.value_oracle();
    let factory = registry.get(&config.env.name)?.clone();
    let mbpo = mbpo_config(&fit_config, MbpoEnv::of(&app.app, app.env, factory, config.env.distractor_config()), seed);
    let losses = model_loss_config(&fit_config.model);
    let (loss, validation) = (losses.training(), losses.validation());
    println!(
        "{}: seed {seed}, checkpoint after epoch {} ({} transitions), {} loss, {} members, validation by {}",
        run.display(),
        manifest.epoch,
        dataset.len(),
        fit_config.model.loss,
        mbpo.dynamics.members,
        validation.name()
    );
    println!("{:<22} {:>8} {:>12} {:>12} {:>12} {:>8}", "hidden", "epochs", "train loss", "val loss", "VAML error", "seconds");
    for hidden in shapes {
        let dynamics = DynamicsConfig { hidden: hidden.clone(), ..mbpo.dynamics.clone() };
        let mut model = DynamicsModel::new(&AutoDevice::seed_from_u64(dynamics.seed), mbpo.env.obs_dim, mbpo.env.act_dim, &dynamics)?;
        let started = Instant::now();
        let report = fit(&mut model, &dataset, loss.as_ref(), validation.as_ref(), Some(&oracle), &mbpo.trainer, mbpo.fit_seed)?;
        println!(
            "{:<22} {:>8} {:>12.5} {:>12.5} {:>12.5} {:>8.1}",
            format!("{hidden:?}"),
            report.epochs,
            report.train_loss,
            report.validation_loss,
            report.vaml_error.unwrap_or(f64::NAN),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

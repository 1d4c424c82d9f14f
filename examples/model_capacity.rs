//! How well models of several sizes fit one run's real data: loads a seed's checkpoint (its env
//! buffer and its agent), fits a fresh ensemble of each given hidden-layer shape on that data
//! with the run's own model loss and trainer settings, and prints each fit's validation loss
//! (the trainer's held-out split, the run's validation loss) and its VAML error under the
//! checkpoint's value functions. Used to choose the model sizes of `capacity-cartpole`: a size
//! whose held-out error is far above the full model's is one where the model runs short.
//!
//! Run: `cargo run --release --example model_capacity -- RUN_DIR SEED [--loss NAME] [--max-epochs N] SHAPE...`,
//! e.g. `cargo run --release --example model_capacity -- runs/cartpole-mle 0 "[]" "[16]" "[200,200,200,200]"`
//! (a shape is a TOML list of hidden widths; `[]` is a linear model). `--loss vagram` fits with
//! another loss than the run's (its validation loss and member reduction follow, as in a run).
//! `--max-epochs N` replaces the run's cap on epochs per fit (`--max-epochs none`: early stopping
//! alone): a run warm-starts every fit from the last one, so after many fits its model has
//! trained far longer than one capped fresh fit, and a small model's capped fit may not have
//! converged.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use vagram::learn::AutoDevice;
use vagram::learn::dynamics::{DynamicsConfig, DynamicsModel};
use vagram::learn::trainer::{Dataset, fit};
use vagram::systems::learning::{AgentResource, EnvBuffer, MbpoEnv, ModelResource};
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
    let mut max_epochs_override = None;
    while let Some(flag) = rest.first().filter(|f| f.starts_with("--")) {
        let value = rest.get(1).with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--loss" => loss_override = Some(value.parse::<vagram::learn::losses::LossKind>().map_err(|e| anyhow::anyhow!("--loss: {e}"))?),
            "--max-epochs" => {
                max_epochs_override = Some(match value.as_str() {
                    "none" => None,
                    n => Some(n.parse::<usize>().with_context(|| format!("--max-epochs '{n}' is neither a count nor 'none'"))?),
                })
            }
            other => bail!("unknown option {other} (known: --loss NAME, --max-epochs N|none)"),
        }
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
    if let Some(max_epochs) = max_epochs_override {
        fit_config.model.max_epochs = max_epochs;
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
    let (loss, validation) = (losses.training(mbpo.dynamics.members), losses.validation(mbpo.dynamics.members));
    println!(
        "{}: seed {seed}, checkpoint after epoch {} ({} transitions), {} loss, {} members, validation by {}",
        run.display(),
        manifest.epoch,
        dataset.len(),
        fit_config.model.loss,
        mbpo.dynamics.members,
        validation.name()
    );
    // The run's own model as the checkpoint holds it (every fit warm-started from the last).
    let own = world.non_send::<ModelResource>();
    let all: Vec<usize> = (0..own.model.members()).collect();
    if let Some(line) = noise_against_error(&own.model, &dataset, &all)? {
        println!("the run's own model, all members:\n{line}");
    }
    println!("{:<22} {:>8} {:>12} {:>12} {:>12} {:>8}", "hidden", "epochs", "train loss", "val loss", "VAML error", "seconds");
    for hidden in shapes {
        let dynamics = DynamicsConfig { hidden: hidden.clone(), ..mbpo.dynamics.clone() };
        let mut model = DynamicsModel::new(&AutoDevice::seed_from_u64(dynamics.seed), mbpo.env.obs_dim, mbpo.env.act_dim, &dynamics)?;
        let started = Instant::now();
        let report = fit(&mut model, &dataset, loss.as_ref(), validation.as_ref(), Some(&oracle), &mbpo.trainer, mbpo.fit_seed)?;
        println!(
            "{:<22} {:>8} {:>12.5} {:>12.3e} {:>12.3e} {:>8.1}",
            format!("{hidden:?}"),
            report.epochs,
            report.train_loss,
            report.validation_loss,
            report.vaml_error.unwrap_or(f64::NAN),
            started.elapsed().as_secs_f64()
        );
        if let Some(line) = noise_against_error(&model, &dataset, &report.elites)? {
            println!("{line}");
        }
    }
    Ok(())
}

/// For a Gaussian ensemble, per state dimension over the whole data set and the elites: the
/// predicted standard deviation (root mean of `exp(logvar)`, its median in brackets), the mean's error and the size of
/// the real step `s' − s` (root mean squares). Rollouts sample `mean + σ·ε`, so a σ far above the
/// error is noise the model adds to every imagined step. `None` for a deterministic model.
fn noise_against_error(model: &DynamicsModel<AutoDevice>, data: &Dataset, elites: &[usize]) -> anyhow::Result<Option<String>> {
    let (s, n) = (model.state_dim, data.len());
    let batch_states: Vec<&[f32]> = vec![data.states; model.members()];
    let batch_actions: Vec<&[f32]> = vec![data.actions; model.members()];
    let pred = model.predict(&batch_states, &batch_actions)?;
    let Some(logvar) = pred.logvar.as_deref() else { return Ok(None) };
    let rms = |f: &dyn Fn(usize, usize, usize) -> f64, d: usize| {
        (elites.iter().flat_map(|&m| (0..n).map(move |i| (m, i))).map(|(m, i)| f(m, i, d)).sum::<f64>() / (elites.len() * n) as f64).sqrt()
    };
    let at = |m: usize, i: usize, d: usize| (m * n + i) * s + d;
    let cols: Vec<String> = (0..s)
        .map(|d| {
            let sigma = rms(&|m, i, d| (logvar[at(m, i, d)] as f64).exp(), d);
            let mut sigmas: Vec<f64> = elites.iter().flat_map(|&m| (0..n).map(move |i| (logvar[at(m, i, d)] as f64 / 2.0).exp())).collect();
            sigmas.sort_by(f64::total_cmp);
            let median = sigmas[sigmas.len() / 2];
            let error = rms(&|m, i, d| ((pred.next_states[at(m, i, d)] - data.next_states[i * s + d]) as f64).powi(2), d);
            let step = rms(&|_, i, d| ((data.next_states[i * s + d] - data.states[i * s + d]) as f64).powi(2), d);
            format!("{sigma:.1e} ({median:.1e})/{error:.1e}/{step:.1e}")
        })
        .collect();
    Ok(Some(format!("  per state dim, predicted σ rms (median) / mean's error / real step (rms): {}", cols.join("  "))))
}

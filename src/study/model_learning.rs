//! Runs a model-learning study (Fig. 2): one SAC value-function sequence and one set of data
//! samples for the whole study, then per cell (architecture × loss) all its models at once,
//! each model's VAML-error curve written as `CELL/seed-K/metrics.csv` (`model_steps`,
//! `value_function`, `vaml_error`, `state_mse`, `dead_units`) with a `finished` status, so the summary and the figure read
//! them like MBPO runs. Finished cells are skipped; a cell takes minutes, so an interrupted one
//! (SIGINT, SIGTERM: checked before every model step) starts over.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;

use super::study_dir::StudyDir;
use crate::engine::env::EnvRegistry;
use crate::learn::dynamics::DynamicsConfig;
use crate::learn::{AdamConfig, compute_pool::run_on_pool};
use crate::model_learning::data::{Transitions, uniform_pendulum};
use crate::model_learning::fit::{VamlPoint, fit_against_values};
use crate::model_learning::values::value_sequence;
use crate::train::checkpoint::write_atomic;
use crate::train::lock::{RunAccess, RunLock};
use crate::train::run_dir::{METRICS, Status, seed_dir, write_status};

/// The seed of the held-out set (the models' samples use the study's seeds).
const HELD_OUT_SEED: u64 = 1 << 40;

/// Trains every unfinished cell of a model-learning study on `threads` threads; `report` gets
/// each finished cell's name and its models' final VAML errors. The caller holds the study's lock.
pub fn run_model_learning(
    study: &StudyDir,
    registry: &EnvRegistry,
    only: &[String],
    threads: usize,
    report: &(dyn Fn(&str, &[f64]) + Sync),
) -> anyhow::Result<()> {
    let budget = study.def.model_learning(study.manifest.scale).context("not a model-learning study")?;
    let todo: Vec<_> = study.chosen(only)?.into_iter().filter(|c| !study.unfinished_seeds(c).is_empty()).collect();
    if todo.is_empty() {
        return Ok(());
    }
    let env = &todo[0].config.env.name;
    if env != "pendulum" {
        anyhow::bail!("model-learning studies sample the pendulum's state space; env.name = {env}");
    }
    let mut locks = Vec::new();
    for cell in &todo {
        locks.push(RunLock::run(&study.cell_dir(&cell.name), RunAccess::Whole)?);
    }
    eprintln!("training the value-function sequence: SAC for {} epochs of {} steps…", budget.value_functions, budget.epoch_length);
    let values = run_on_pool(threads.max(1), || value_sequence(registry, env, budget, study.manifest.seeds[0]))??;
    interrupted()?;
    let n = budget.held_out + budget.samples * study.manifest.seeds.len();
    eprintln!("sampling {n} transitions uniformly over the pendulum's state space…");
    let held_out = uniform_pendulum(registry, budget.held_out, HELD_OUT_SEED)?;
    let samples: Vec<Transitions> =
        study.manifest.seeds.iter().map(|s| uniform_pendulum(registry, budget.samples, *s)).collect::<anyhow::Result<_>>()?;
    eprintln!("training {} cell(s) of {} models, {} steps each…", todo.len(), samples.len(), values.len() * budget.swap_every);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = threads.clamp(1, todo.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(cell) = todo.get(next.fetch_add(1, Ordering::SeqCst)) {
                    if crate::train::stop::requested().is_some() {
                        break;
                    }
                    let result = run_on_pool(1, || train_cell(study, cell, &values, &samples, &held_out, budget))
                        .map_err(anyhow::Error::from)
                        .and_then(|r| r);
                    match result {
                        Ok(finals) => report(&cell.name, &finals),
                        Err(e) => failures.lock().expect("not poisoned").push(format!("{}: {e:#}", cell.name)),
                    }
                }
            });
        }
    });
    drop(locks);
    interrupted()?;
    let failures = failures.into_inner().expect("not poisoned");
    if !failures.is_empty() {
        anyhow::bail!("{} cell(s) failed:\n  {}", failures.len(), failures.join("\n  "));
    }
    Ok(())
}

/// An error if a stop signal came: the finished cells are kept, an interrupted one starts over.
fn interrupted() -> anyhow::Result<()> {
    match crate::train::stop::requested() {
        Some(signal) => {
            anyhow::bail!(
                "interrupted by {signal}: the study is paused; rerun the same command to continue it (a cell stopped part-way starts over)"
            )
        }
        None => Ok(()),
    }
}

fn train_cell(
    study: &StudyDir,
    cell: &super::CellPlan,
    values: &[crate::learn::sac::Sac<crate::learn::AutoDevice>],
    samples: &[Transitions],
    held_out: &Transitions,
    budget: &crate::model_learning::ModelLearningConfig,
) -> anyhow::Result<Vec<f64>> {
    let m = &cell.config.model;
    let model = DynamicsConfig {
        hidden: m.hidden.clone(),
        activation: m.activation,
        probabilistic: false,
        adam: AdamConfig { lr: m.lr, weight_decay: m.weight_decay, ..AdamConfig::default() },
        optimizer: m.optimizer,
        matmul: m.matmul,
        ..DynamicsConfig::default()
    };
    let loss = crate::train::build::model_loss_config(m).training(m.members);
    // The same initialisations for every loss: the seed depends on the study's seeds only.
    let progress = |p: &VamlPoint| {
        let mean = p.errors.iter().sum::<f64>() / p.errors.len().max(1) as f64;
        eprintln!(
            "{}: value function {}/{} done · {} model steps · held-out VAML error {mean:.4} (mean of {} models)",
            cell.name,
            p.value_function + 1,
            values.len(),
            p.step,
            p.errors.len()
        );
    };
    let seed = 7 + study.manifest.seeds[0];
    let mut curve = Vec::new();
    let fit = fit_against_values(&model, m.batch_size, loss.as_ref(), values, samples, held_out, budget, seed, &progress, &mut curve);
    // A fit that failed (a non-finite prediction: a divergence is a result) keeps its curve so
    // far, as `stopped` seeds with the reason; an interrupted one leaves nothing, to start over.
    let (state, failure) = match fit {
        Ok(()) => ("finished", None),
        Err(e) if crate::train::stop::requested().is_some() || curve.is_empty() => return Err(e),
        Err(e) => ("stopped", Some(e)),
    };
    let message = failure.as_ref().map(|e| format!("{e:#}"));
    let dir = study.cell_dir(&cell.name);
    for (k, seed) in study.manifest.seeds.iter().enumerate() {
        let seed_dir = seed_dir(&dir, *seed);
        std::fs::create_dir_all(&seed_dir).with_context(|| format!("creating {}", seed_dir.display()))?;
        write_atomic(&seed_dir.join(METRICS), csv_of(&curve, k).as_bytes())?;
        write_status(&seed_dir, &Status { state: state.into(), epochs: curve.len() as u64, message: message.clone() })?;
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(curve.last().map(|p| p.errors.clone()).unwrap_or_default()),
    }
}

fn csv_of(curve: &[VamlPoint], model: usize) -> String {
    let mut text = String::from("model_steps,value_function,vaml_error,state_mse,dead_units\n");
    for p in curve {
        text += &format!("{},{},{},{},{}\n", p.step, p.value_function, p.errors[model], p.mse[model], p.dead_units[model]);
    }
    text
}

//! Opens a run directory for the viewer: every seed's metrics and status, and one seed's
//! checkpointed agent (its policy drives the viewed envs, its critics feed the landscape panel).
//! What cannot be read is returned as messages for the viewer to show, not as an error: only a
//! directory without a readable `config.toml` cannot be opened at all.

use std::path::Path;

use anyhow::Context;
use vagram_viz::RunHistory;

use crate::learn::HostDevice;
use crate::learn::sac::Sac;
use crate::systems::learning::{AgentResource, EpochRow};
use crate::train::config::RunConfig;
use crate::train::run_dir::{Metrics, read_status, seed_dir, seeds_in};
use crate::train::{SeedApp, checkpoint, state};

/// A run as opened for viewing.
pub struct OpenedRun {
    /// Its config.
    pub config: RunConfig,
    /// Curves and status of every seed.
    pub history: RunHistory,
    /// The seed whose agent was loaded, and the agent.
    pub agent: Option<(u64, Box<Sac<HostDevice>>)>,
    /// What could not be read, one line each.
    pub messages: Vec<String>,
}

/// A seed's metrics rows in the order of [`EpochRow::header`] (NaN for columns it lacks).
fn rows_of(metrics: &Metrics) -> Vec<Vec<f64>> {
    let columns: Vec<Option<usize>> = EpochRow::header().iter().map(|h| metrics.header.iter().position(|c| c == h)).collect();
    metrics.rows.iter().map(|r| columns.iter().map(|c| c.and_then(|i| r.get(i).copied()).unwrap_or(f64::NAN)).collect()).collect()
}

/// Loads `seed`'s checkpointed agent.
pub fn load_agent(dir: &Path, config: &RunConfig, config_text: &str, seed: u64) -> anyhow::Result<Box<Sac<HostDevice>>> {
    let registry = crate::envs::builtin_registry();
    let seed_path = seed_dir(dir, seed);
    if !checkpoint::exists(&seed_path) {
        anyhow::bail!("seed {seed} has no checkpoint in {}", seed_path.display());
    }
    let mut run = SeedApp::build(config, &registry, seed)?;
    let (_, store) = checkpoint::load(&seed_path, config_text)?;
    state::load(&mut run, &store, &registry, &config.env.name)
        .with_context(|| format!("seed {seed}: the checkpoint does not match the run's config"))?;
    let agent = run.app.world.remove_non_send::<AgentResource>().expect("a built seed app has an agent");
    super::copy_agent(&agent.sac)
}

/// Opens `dir`; `seed` picks whose agent to load (default: the first seed with a checkpoint).
pub fn open_run(dir: &Path, seed: Option<u64>) -> anyhow::Result<OpenedRun> {
    let path = dir.join("config.toml");
    let config_text =
        std::fs::read_to_string(&path).with_context(|| format!("{} is not a run directory: no readable config.toml", dir.display()))?;
    let config = RunConfig::from_toml(&config_text, &path.display().to_string())?;
    let mut history = RunHistory::new(EpochRow::header());
    let mut messages = Vec::new();
    let seeds = seeds_in(dir)?;
    if seeds.is_empty() {
        messages.push(format!("{}: no seed directories (seed-N): nothing has been trained yet", dir.display()));
    }
    for s in &seeds {
        let sd = seed_dir(dir, *s);
        let stored = read_status(&sd);
        if let Some(message) = stored.as_ref().and_then(|st| st.message.as_ref()) {
            messages.push(format!("seed {s} stopped: {message}"));
        }
        let status = stored.map_or_else(|| "unknown".to_string(), |st| st.state);
        let rows = match Metrics::read(&sd.join("metrics.csv")) {
            Ok(m) => rows_of(&m),
            Err(e) => {
                messages.push(format!("seed {s}: no curves: {e:#}"));
                Vec::new()
            }
        };
        history.add_loaded(*s, rows, &status);
    }
    let chosen = match seed {
        Some(s) if !seeds.contains(&s) => {
            messages.push(format!("--seed {s}: the run's seeds are {seeds:?}"));
            None
        }
        Some(s) => Some(s),
        None => seeds.iter().copied().find(|s| checkpoint::exists(&seed_dir(dir, *s))).or(seeds.first().copied()),
    };
    let agent = chosen.and_then(|s| match load_agent(dir, &config, &config_text, s) {
        Ok(a) => Some((s, a)),
        Err(e) => {
            messages.push(format!("policy not loaded (the envs act randomly): {e:#}"));
            None
        }
    });
    Ok(OpenedRun { config, history, agent, messages })
}

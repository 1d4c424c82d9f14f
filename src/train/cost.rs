//! What a run costs before it runs: a short calibration on this machine measures the unit
//! costs of the config's own parts — an env step, one SAC update, one model-training epoch per
//! transition, one rollout prediction per row, one policy action — on one core, with the very
//! objects a seed builds ([`SeedApp`]); [`CostEstimate::of`] multiplies them by the counts the
//! config implies (env steps, SAC updates, fits over a growing data set, rollout rows at the
//! scheduled lengths, evaluation episodes).
//!
//! The one count a config does not fix is how many epochs an early-stopped fit runs: at least
//! `model.patience + 1` (a fit that never improves), at most `model.max_epochs` (none without a
//! cap), so the model part — and the total — is a range, or a lower bound for uncapped fits.

use std::time::Instant;

use rand::SeedableRng;

use super::build::SeedApp;
use super::config::RunConfig;
use crate::engine::env::EnvRegistry;
use crate::learn::compute_pool::run_on_pool;
use crate::learn::trainer::{Dataset, TrainerConfig, fit};
use crate::systems::learning::{AgentResource, EnvBuffer, ModelEnv, ModelResource, RolloutSettings};

/// Seconds per unit of work, measured on one core.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitCosts {
    /// One env step in the exploration phase (physics, acting, recording).
    pub env_step: f64,
    /// One SAC update.
    pub sac_update: f64,
    /// One epoch of model training, per transition in the data set.
    pub fit_per_transition: f64,
    /// One rollout step, per row: the policy's action and one elite's prediction.
    pub rollout_row: f64,
    /// One deterministic policy action (evaluation).
    pub act: f64,
}

/// An estimated run time per seed, by stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostEstimate {
    /// Env stepping.
    pub env: f64,
    /// SAC updates.
    pub sac: f64,
    /// Model fits, each running `model.patience + 1` epochs (the fewest; capped by `max_epochs`).
    pub model: f64,
    /// Model fits, each running `model.max_epochs` epochs (`None` without a cap).
    pub model_most: Option<f64>,
    /// Rollouts.
    pub rollout: f64,
    /// Evaluation.
    pub eval: f64,
}

/// Times `work` until it has run `at_least` seconds or `most` times (at least once); seconds per call.
fn per_call(at_least: f64, most: usize, mut work: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut calls = 0;
    while calls < most.max(1) && (calls == 0 || started.elapsed().as_secs_f64() < at_least) {
        work();
        calls += 1;
    }
    started.elapsed().as_secs_f64() / calls as f64
}

/// Measures `config`'s unit costs on one core of this machine (a few seconds; more for large
/// networks). The calibration app explores for a few hundred steps, then its SAC agent, model
/// and buffers are timed directly; nothing is written.
pub fn calibrate(config: &RunConfig, registry: &EnvRegistry) -> anyhow::Result<UnitCosts> {
    let steps = (2 * config.agent.batch_size.max(config.model.batch_size)).clamp(256, 1024) as u64;
    let mut cal = config.clone();
    cal.run.initial_random_steps = steps;
    cal.run.epoch_length = 2 * steps;
    cal.run.env_steps = 2 * steps;
    run_on_pool(1, || measure(&cal, registry, steps))?
}

/// The estimated cost of one seed of `config` on this machine: [`calibrate`], then
/// [`CostEstimate::of`] with the env's episode limit.
pub fn estimate(config: &RunConfig, registry: &EnvRegistry) -> anyhow::Result<CostEstimate> {
    let costs = calibrate(config, registry)?;
    let episode = u64::from(registry.get(&config.env.name)?.spec().max_episode_steps);
    Ok(CostEstimate::of(config, &costs, episode))
}

fn measure(cal: &RunConfig, registry: &EnvRegistry, steps: u64) -> anyhow::Result<UnitCosts> {
    let mut run = SeedApp::build(cal, registry, 0)?;
    let started = Instant::now();
    run.app.run(steps)?;
    let env_step = started.elapsed().as_secs_f64() / steps as f64;
    let world = &mut run.app.world;
    let data = world.resource::<EnvBuffer>().0.contents();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let batch = world.resource::<EnvBuffer>().0.sample(cal.agent.batch_size, &mut rng);
    let mut agent = world.remove_non_send::<AgentResource>().expect("built with an agent");
    agent.sac.update(&batch); // first-call allocations
    let sac_update = per_call(0.5, 20, || {
        agent.sac.update(&batch);
    });
    let obs_dim = data.obs.len() / data.rewards.len();
    let first = data.obs[..obs_dim].to_vec();
    let act = per_call(0.1, 200, || {
        agent.sac.act(&first, true);
    });
    let mut model = world.remove_non_send::<ModelResource>().expect("built with a model");
    let dataset = Dataset { states: &data.obs, actions: &data.actions, next_states: &data.next_obs, rewards: &data.rewards };
    let oracle = agent.sac.value_oracle();
    let one_epoch = TrainerConfig { max_epochs: Some(1), patience: 1, ..model.trainer.clone() };
    let m = &mut model;
    let seconds = per_call(0.5, 3, || {
        fit(&mut m.model, &dataset, m.loss.as_ref(), m.validation_loss.as_ref(), Some(&oracle), &one_epoch, 0).expect("a calibration fit");
    });
    let fit_per_transition = seconds / data.rewards.len() as f64;
    // One rollout step of every collected state, as the rollout stage takes it: the policy's
    // batched actions, then each state predicted by a random elite (the config's count of them).
    let elites: Vec<usize> = (0..cal.model.elites.min(model.model.members())).collect();
    let settings = world.resource::<RolloutSettings>();
    let env = ModelEnv { model: &model.model, elites: &elites, is_terminal: settings.is_terminal.as_ref() };
    let rows = data.rewards.len();
    let step = per_call(0.3, 50, || {
        let actions = agent.sac.act(&data.obs, false);
        env.step(&data.obs, &actions, &mut rng).expect("a calibration rollout step");
    });
    let rollout_row = step / rows.max(1) as f64;
    Ok(UnitCosts { env_step, sac_update, fit_per_transition, rollout_row, act })
}

impl CostEstimate {
    /// The estimate for one seed of `config` (`episode_steps`: the env's episode limit).
    pub fn of(config: &RunConfig, costs: &UnitCosts, episode_steps: u64) -> Self {
        let (r, m, ro) = (&config.run, &config.model, &config.rollout);
        let learning = r.env_steps.saturating_sub(r.initial_random_steps);
        let every = m.train_every.max(1);
        let fits = learning / every;
        let fewest = (m.patience + 1).min(m.max_epochs.unwrap_or(usize::MAX)) as f64;
        let (mut transitions, mut rollout_rows) = (0.0, 0.0);
        for j in 1..=fits {
            transitions += (r.initial_random_steps + j * every) as f64;
            // Schedules count epochs from the start of learning, the first learning epoch as 1.
            let epoch = (j * every) / r.epoch_length.max(1) + 1;
            rollout_rows += (ro.per_step as u64 * every) as f64 * ro.length.at(epoch as f64).max(1.0).floor();
        }
        let epochs = r.env_steps / r.epoch_length.max(1);
        Self {
            env: r.env_steps as f64 * costs.env_step,
            sac: (learning * config.agent.updates_per_step as u64) as f64 * costs.sac_update,
            model: transitions * fewest * costs.fit_per_transition,
            model_most: m.max_epochs.map(|most| transitions * most as f64 * costs.fit_per_transition),
            rollout: rollout_rows * costs.rollout_row,
            eval: (epochs * u64::from(r.eval_episodes) * episode_steps) as f64 * (costs.env_step + costs.act),
        }
    }

    /// The sum over stages with the fewest fit epochs, in seconds.
    pub fn total(&self) -> f64 {
        self.env + self.sac + self.model + self.rollout + self.eval
    }

    /// The sum with every fit running to its epoch cap (`None` without a cap).
    pub fn total_most(&self) -> Option<f64> {
        self.model_most.map(|most| self.total() - self.model + most)
    }

    /// `low–high`, or `at least low` without an upper end.
    pub fn range(low: f64, high: Option<f64>) -> String {
        match high {
            Some(h) if duration(h) != duration(low) => format!("{}–{}", duration(low), duration(h)),
            Some(_) => duration(low),
            None => format!("at least {}", duration(low)),
        }
    }
}

/// `seconds` as `1 h 05 min`, `12 min`, or `45 s`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=99 => format!("{s} s"),
        100..=3599 => format!("{} min", (s + 30) / 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600 + 30) / 60),
    }
}

impl std::fmt::Display for CostEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} per seed on one core (SAC {}, model fits {}, rollouts {}, env {}, evaluation {})",
            Self::range(self.total(), self.total_most()),
            duration(self.sac),
            Self::range(self.model, self.model_most),
            duration(self.rollout),
            duration(self.env),
            duration(self.eval)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_counts_updates_fits_and_rollout_rows_of_the_config() {
        let mut c = RunConfig::preset("cartpole", "vagram").unwrap();
        // 200 exploration + 600 learning steps, fits every 200 (3 fits on 400, 600, 800 rows),
        // 10 rollouts per step of length 1 then 3 (epoch ≥ 2), 2 model epochs per fit.
        c.run.env_steps = 800;
        c.run.initial_random_steps = 200;
        c.run.epoch_length = 200;
        c.model.train_every = 200;
        c.model.max_epochs = Some(2);
        c.rollout.per_step = 10;
        c.rollout.length = crate::train::config::Schedule(1.0, 2.0, 1.0, 3.0);
        c.agent.updates_per_step = 20;
        c.run.eval_episodes = 2;
        let unit = UnitCosts { env_step: 1e-3, sac_update: 1e-2, fit_per_transition: 1e-4, rollout_row: 1e-5, act: 1e-3 };
        let e = CostEstimate::of(&c, &unit, 200);
        assert!((e.env - 0.8).abs() < 1e-12);
        assert!((e.sac - 600.0 * 20.0 * 1e-2).abs() < 1e-9);
        // Fewest epochs: patience + 1 = 6, capped at max_epochs = 2; most: 2.
        assert!((e.model - (400.0 + 600.0 + 800.0) * 2.0 * 1e-4).abs() < 1e-12);
        assert_eq!(e.model_most, Some(e.model));
        // Fit j at learning step 200j: epochs 2, 3, 4 → lengths 3, 3, 3 (epoch 1 would be 1).
        assert!((e.rollout - 3.0 * 2000.0 * 3.0 * 1e-5).abs() < 1e-12, "{}", e.rollout);
        assert!((e.eval - 4.0 * 2.0 * 200.0 * 2e-3).abs() < 1e-12);
        c.model.max_epochs = Some(50);
        c.model.patience = 4;
        let e = CostEstimate::of(&c, &unit, 200);
        assert!((e.model - 1800.0 * 5.0 * 1e-4).abs() < 1e-12 && (e.model_most.unwrap() - 1800.0 * 50.0 * 1e-4).abs() < 1e-12);
        assert!((e.total_most().unwrap() - e.total() - 1800.0 * 45.0 * 1e-4).abs() < 1e-9);
        c.model.max_epochs = None;
        let e = CostEstimate::of(&c, &unit, 200);
        assert_eq!(e.model_most, None);
        assert!(e.to_string().starts_with("at least "), "{e}");
        assert_eq!(duration(45.0), "45 s");
        assert_eq!(duration(725.0), "12 min");
        assert_eq!(duration(3900.0), "1 h 05 min");
    }
}

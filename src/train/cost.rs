//! What a run costs before it runs: a short calibration on this machine measures the unit
//! costs of the config's own parts — an env step, one SAC update, one model-training epoch per
//! transition, one rollout prediction per row, one policy action — on as many threads as a seed
//! gets, with the very objects and stages a seed runs ([`SeedApp`]); [`CostEstimate::of`]
//! multiplies them by the counts the config implies (env steps, SAC updates, fits over a
//! growing data set, rollout rows at the scheduled lengths, evaluation episodes).
//!
//! The one count a config does not fix is how many epochs an early-stopped fit runs: at least
//! `model.patience` (a fit that never improves), at most `model.max_epochs` (none without a
//! cap). The calibration runs one whole fit of the config, early stopping and all, from the
//! model's initial weights on the data it explored; the epochs that fit ran are the estimate's
//! count per fit, and the two bounds give the range around it.

use std::time::Instant;

use rand::SeedableRng;

use super::build::SeedApp;
use super::config::RunConfig;
use crate::engine::env::EnvRegistry;
use crate::learn::compute_pool::run_on_pool;
use crate::systems::learning::{AgentResource, EnvBuffer, EpochStats, ModelEnv, ModelResource, RolloutSettings};

/// Seconds per unit of work, measured on `threads` compute threads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitCosts {
    /// The compute threads the calibration ran on (a seed's rayon pool).
    pub threads: usize,
    /// One env step in the exploration phase (physics, acting, recording).
    pub env_step: f64,
    /// One SAC update.
    pub sac_update: f64,
    /// One epoch of model training, per transition in the data set (a fit's fixed work, the
    /// value cache and scoring, spread over its epochs).
    pub fit_per_transition: f64,
    /// Epochs the calibration's fit ran before early stopping ended it.
    pub fit_epochs: f64,
    /// Whether that fit was cut at [`CALIBRATION_EPOCHS`] (a config without `model.max_epochs`
    /// whose fit was still improving): then `fit_epochs` is a lower bound.
    pub fit_epochs_cut: bool,
    /// One rollout step, per row: the policy's action and one elite's prediction.
    pub rollout_row: f64,
    /// One deterministic policy action (evaluation).
    pub act: f64,
}

/// An estimated run time per seed, by stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostEstimate {
    /// The compute threads of the seed the estimate is for.
    pub threads: usize,
    /// Env stepping.
    pub env: f64,
    /// SAC updates.
    pub sac: f64,
    /// Model fits, each running the calibration fit's epochs (a lower bound when that fit was cut).
    pub model: f64,
    /// Whether `model` is a lower bound (the calibration fit was cut).
    pub model_at_least: bool,
    /// Model fits, each running `model.patience` epochs (the fewest; capped by `max_epochs`).
    pub model_fewest: f64,
    /// Model fits, each running `model.max_epochs` epochs (`None` without a cap).
    pub model_most: Option<f64>,
    /// Rollouts.
    pub rollout: f64,
    /// Evaluation.
    pub eval: f64,
}

/// The most epochs the calibration fit runs for a config without `model.max_epochs`.
pub const CALIBRATION_EPOCHS: usize = 100;

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

/// Learning steps the calibration runs at most to time SAC updates in place.
const CALIBRATION_STEPS: u64 = 200;
/// Seconds of SAC updates the calibration times (one second gave ±20% from one calibration to
/// the next on a 2-core VM; two, ±10%).
const SAC_SECONDS: f64 = 2.0;

/// Measures `config`'s unit costs on `threads` compute threads of this machine, a seed's share
/// of its cores (5–15 s). The calibration app explores for 1,024–2,048 steps, then runs its
/// first learning steps as a run does — one whole early-stopped model fit, its rollouts, then
/// SAC updates among env steps for two seconds — and times the stages; the policy and the
/// fitted model are then timed on the collected states. Nothing is written.
pub fn calibrate(config: &RunConfig, registry: &EnvRegistry, threads: usize) -> anyhow::Result<UnitCosts> {
    // Enough transitions for a fit's fixed work to weigh about as little per transition as in a
    // run's fits (a fit on 512 overstated an epoch's cost by a third).
    let steps = (8 * config.agent.batch_size.max(config.model.batch_size)).clamp(1024, 2048) as u64;
    let every = config.model.train_every.max(1);
    let mut cal = config.clone();
    // Explore, then learn until the first fit lands on step `steps` (or `every` learning steps
    // later when a fit comes less often), then time SAC; no epoch ends, so nothing evaluates.
    cal.run.initial_random_steps = steps.saturating_sub(every).max(steps / 4);
    let horizon = cal.run.initial_random_steps + every + CALIBRATION_STEPS;
    cal.run.epoch_length = horizon + 1;
    cal.run.env_steps = horizon + 1;
    cal.model.max_epochs = Some(config.model.max_epochs.unwrap_or(CALIBRATION_EPOCHS));
    let threads = threads.max(1);
    let uncapped = config.model.max_epochs.is_none();
    run_on_pool(threads, || measure(&cal, registry, threads, uncapped))?
}

/// The estimated cost of one seed of `config` on `threads` compute threads of this machine:
/// [`calibrate`], then [`CostEstimate::of`] with the env's episode limit.
pub fn estimate(config: &RunConfig, registry: &EnvRegistry, threads: usize) -> anyhow::Result<CostEstimate> {
    let costs = calibrate(config, registry, threads)?;
    let episode = u64::from(registry.get(&config.env.name)?.spec().max_episode_steps);
    Ok(CostEstimate::of(config, &costs, episode))
}

/// The calibration proper (see [`calibrate`]); `uncapped`: the config's fits have no epoch cap,
/// so one that reaches [`CALIBRATION_EPOCHS`] was cut there.
fn measure(cal: &RunConfig, registry: &EnvRegistry, threads: usize, uncapped: bool) -> anyhow::Result<UnitCosts> {
    let mut run = SeedApp::build(cal, registry, 0)?;
    // The later fits' loss, not the first learning epoch's warm-up loss (VaGraM's MSE).
    run.app.world.non_send_mut::<ModelResource>().warmup = None;
    let explore = cal.run.initial_random_steps;
    let started = Instant::now();
    run.app.run(explore)?;
    let env_step = started.elapsed().as_secs_f64() / explore as f64;
    // Learning up to and with the first fit: its rollouts and the step's first SAC updates
    // (their first-call allocations left out of the timing below).
    run.app.run(cal.model.train_every.max(1))?;
    let stats = run.app.world.resource::<EpochStats>().clone();
    let fitted = run.app.world.resource::<EnvBuffer>().0.len();
    if stats.fit_epochs == 0 {
        anyhow::bail!("the calibration's first learning steps did not fit the model");
    }
    let fit_epochs = stats.fit_epochs as f64;
    let fit_epochs_cut = uncapped && stats.fit_epochs as usize >= CALIBRATION_EPOCHS;
    let fit_per_transition = stats.seconds.model / fit_epochs / fitted as f64;
    // SAC updates among env steps, as the run makes them, for SAC_SECONDS.
    for _ in 0..CALIBRATION_STEPS {
        run.app.run(1)?;
        if run.app.world.resource::<EpochStats>().seconds.sac - stats.seconds.sac >= SAC_SECONDS {
            break;
        }
    }
    let now = run.app.world.resource::<EpochStats>();
    let updates = now.sac_updates.saturating_sub(stats.sac_updates);
    if updates == 0 {
        anyhow::bail!("the calibration's learning steps made no SAC update");
    }
    let sac_update = (now.seconds.sac - stats.seconds.sac) / updates as f64;
    let data = run.app.world.resource::<EnvBuffer>().0.contents();
    let world = &mut run.app.world;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut agent = world.remove_non_send::<AgentResource>().expect("built with an agent");
    let obs_dim = data.obs.len() / data.rewards.len();
    let first = data.obs[..obs_dim].to_vec();
    let act = per_call(0.1, 200, || {
        agent.sac.act(&first, true);
    });
    let model = world.remove_non_send::<ModelResource>().expect("built with a model");
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
    Ok(UnitCosts { threads, env_step, sac_update, fit_per_transition, fit_epochs, fit_epochs_cut, rollout_row, act })
}

impl CostEstimate {
    /// The estimate for one seed of `config` (`episode_steps`: the env's episode limit).
    pub fn of(config: &RunConfig, costs: &UnitCosts, episode_steps: u64) -> Self {
        let (r, m, ro) = (&config.run, &config.model, &config.rollout);
        let learning = r.env_steps.saturating_sub(r.initial_random_steps);
        let every = m.train_every.max(1);
        let fits = learning / every;
        let cap = m.max_epochs.unwrap_or(usize::MAX) as f64;
        let fewest = (m.patience.max(1) as f64).min(cap);
        let likely = costs.fit_epochs.clamp(fewest, cap);
        let (mut transitions, mut rollout_rows) = (0.0, 0.0);
        for j in 1..=fits {
            transitions += (r.initial_random_steps + j * every) as f64;
            // Schedules count epochs from the start of learning, the first learning epoch as 1.
            let epoch = (j * every) / r.epoch_length.max(1) + 1;
            rollout_rows += (ro.per_step as u64 * every) as f64 * ro.length.at(epoch as f64).max(1.0).floor();
        }
        let epochs = r.env_steps / r.epoch_length.max(1);
        Self {
            threads: costs.threads,
            env: r.env_steps as f64 * costs.env_step,
            sac: (learning * config.agent.updates_per_step as u64) as f64 * costs.sac_update,
            model: transitions * likely * costs.fit_per_transition,
            model_at_least: costs.fit_epochs_cut,
            model_fewest: transitions * fewest * costs.fit_per_transition,
            model_most: m.max_epochs.map(|most| transitions * most as f64 * costs.fit_per_transition),
            rollout: rollout_rows * costs.rollout_row,
            eval: (epochs * u64::from(r.eval_episodes) * episode_steps) as f64 * (costs.env_step + costs.act),
        }
    }

    /// The sum over stages, in seconds, with every fit running the calibration fit's epochs.
    pub fn total(&self) -> f64 {
        self.total_with(self.model)
    }

    /// The sum with every fit stopping as early as early stopping allows.
    pub fn total_fewest(&self) -> f64 {
        self.total_with(self.model_fewest)
    }

    /// The sum with every fit running to its epoch cap (`None` without a cap).
    pub fn total_most(&self) -> Option<f64> {
        self.model_most.map(|most| self.total_with(most))
    }

    /// The sum over stages with `model` seconds of fits.
    fn total_with(&self, model: f64) -> f64 {
        self.env + self.sac + model + self.rollout + self.eval
    }

    /// `≈ point (low–high)`, or `at least point (…)` when the point is a lower bound.
    pub fn summary(&self) -> String {
        let point = if self.model_at_least { "at least" } else { "≈" };
        format!("{point} {} ({})", duration(self.total()), Self::range(self.total_fewest(), self.total_most()))
    }

    /// Every part multiplied by `factor` (seeds, say).
    pub fn times(&self, factor: f64) -> Self {
        Self {
            threads: self.threads,
            env: self.env * factor,
            sac: self.sac * factor,
            model: self.model * factor,
            model_at_least: self.model_at_least,
            model_fewest: self.model_fewest * factor,
            model_most: self.model_most.map(|m| m * factor),
            rollout: self.rollout * factor,
            eval: self.eval * factor,
        }
    }

    /// The parts of two estimates added (cells of a study): a lower bound or an open range in
    /// either makes the sum one.
    pub fn plus(&self, other: &Self) -> Self {
        Self {
            threads: self.threads.max(other.threads),
            env: self.env + other.env,
            sac: self.sac + other.sac,
            model: self.model + other.model,
            model_at_least: self.model_at_least || other.model_at_least,
            model_fewest: self.model_fewest + other.model_fewest,
            model_most: self.model_most.zip(other.model_most).map(|(a, b)| a + b),
            rollout: self.rollout + other.rollout,
            eval: self.eval + other.eval,
        }
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

/// `seconds` as `1 h 05 min`, `12 min`, `3.4 min` or `45 s`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=99 => format!("{s} s"),
        100..=569 => format!("{:.1} min", s as f64 / 60.0),
        570..=3599 => format!("{} min", (s + 30) / 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600 + 30) / 60),
    }
}

impl std::fmt::Display for CostEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let model = if self.model_at_least { format!("at least {}", duration(self.model)) } else { duration(self.model) };
        write!(
            f,
            "{} per seed on {} (SAC {}, model fits {model} within {}, rollouts {}, env {}, evaluation {})",
            self.summary(),
            if self.threads == 1 { "one core".to_string() } else { format!("{} threads", self.threads) },
            duration(self.sac),
            Self::range(self.model_fewest, self.model_most),
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
        let unit = UnitCosts {
            threads: 1,
            env_step: 1e-3,
            sac_update: 1e-2,
            fit_per_transition: 1e-4,
            fit_epochs: 20.0,
            fit_epochs_cut: false,
            rollout_row: 1e-5,
            act: 1e-3,
        };
        let e = CostEstimate::of(&c, &unit, 200);
        assert!((e.env - 0.8).abs() < 1e-12);
        assert!((e.sac - 600.0 * 20.0 * 1e-2).abs() < 1e-9);
        // Every count of epochs is capped at max_epochs = 2: the calibration's 20, the fewest
        // (patience = 5) and the most.
        assert!((e.model - (400.0 + 600.0 + 800.0) * 2.0 * 1e-4).abs() < 1e-12);
        assert_eq!((e.model_fewest, e.model_most), (e.model, Some(e.model)));
        // Fit j at learning step 200j: epochs 2, 3, 4 → lengths 3, 3, 3 (epoch 1 would be 1).
        assert!((e.rollout - 3.0 * 2000.0 * 3.0 * 1e-5).abs() < 1e-12, "{}", e.rollout);
        assert!((e.eval - 4.0 * 2.0 * 200.0 * 2e-3).abs() < 1e-12);
        c.model.max_epochs = Some(50);
        c.model.patience = 4;
        let e = CostEstimate::of(&c, &unit, 200);
        // The point takes the calibration fit's 20 epochs per fit, the range 4 to 50.
        assert!((e.model - 1800.0 * 20.0 * 1e-4).abs() < 1e-12, "{}", e.model);
        assert!((e.model_fewest - 1800.0 * 4.0 * 1e-4).abs() < 1e-12 && (e.model_most.unwrap() - 1800.0 * 50.0 * 1e-4).abs() < 1e-12);
        assert!((e.total_most().unwrap() - e.total() - 1800.0 * 30.0 * 1e-4).abs() < 1e-9);
        assert!((e.total() - e.total_fewest() - 1800.0 * 16.0 * 1e-4).abs() < 1e-9);
        assert!(e.to_string().starts_with(&format!("≈ {} (", duration(e.total()))), "{e}");
        // A calibration fit beyond the cap counts as the cap.
        let e = CostEstimate::of(&c, &UnitCosts { fit_epochs: 80.0, ..unit }, 200);
        assert_eq!(Some(e.model), e.model_most);
        c.model.max_epochs = None;
        let e = CostEstimate::of(&c, &UnitCosts { fit_epochs: 100.0, fit_epochs_cut: true, ..unit }, 200);
        assert_eq!(e.model_most, None);
        assert!((e.model - 1800.0 * 100.0 * 1e-4).abs() < 1e-12);
        assert!(e.to_string().starts_with("at least ") && e.to_string().contains("(at least "), "{e}");
        assert_eq!(duration(45.0), "45 s");
        assert_eq!(duration(725.0), "12 min");
        assert_eq!(duration(204.0), "3.4 min");
        assert_eq!(duration(3900.0), "1 h 05 min");
    }

    /// A small pendulum config: calibrations of it take well under a second.
    fn small() -> RunConfig {
        let mut c = RunConfig::preset("pendulum", "mle").unwrap();
        c.model.members = 3;
        c.model.elites = 2;
        c.model.hidden = vec![16];
        c.model.batch_size = 64;
        c.agent.hidden = vec![16, 16];
        c.agent.batch_size = 64;
        c.model.train_every = 50;
        c
    }

    #[test]
    fn the_calibration_runs_one_whole_fit_and_times_sac_among_env_steps() {
        let registry = crate::envs::builtin_registry();
        // Capped below patience: the fit runs exactly to the cap.
        let mut c = small();
        (c.model.max_epochs, c.model.patience) = (Some(3), 5);
        let u = calibrate(&c, &registry, 1).unwrap();
        assert_eq!((u.fit_epochs, u.fit_epochs_cut), (3.0, false));
        for (name, v) in [
            ("env step", u.env_step),
            ("SAC update", u.sac_update),
            ("fit", u.fit_per_transition),
            ("rollout", u.rollout_row),
            ("act", u.act),
        ] {
            assert!(v.is_finite() && v > 0.0, "{name}: {v}");
        }
        // Without a cap and with patience beyond the calibration's limit: cut there, and the
        // estimate says "at least".
        (c.model.max_epochs, c.model.patience) = (None, 1_000);
        let u = calibrate(&c, &registry, 1).unwrap();
        assert_eq!((u.fit_epochs, u.fit_epochs_cut), (CALIBRATION_EPOCHS as f64, true));
        let e = CostEstimate::of(&c, &u, 200);
        assert!(e.model_at_least && e.to_string().starts_with("at least "), "{e}");
        // The same fit under a cap of its own at that count is whole: not a lower bound.
        c.model.max_epochs = Some(CALIBRATION_EPOCHS);
        let u = calibrate(&c, &registry, 1).unwrap();
        assert_eq!((u.fit_epochs, u.fit_epochs_cut), (CALIBRATION_EPOCHS as f64, false));
        // The count is the first fit's alone when fits come every env step (the timed steps fit
        // again, 2 epochs each).
        (c.model.max_epochs, c.model.patience, c.model.train_every) = (Some(2), 5, 1);
        let u = calibrate(&c, &registry, 1).unwrap();
        assert_eq!(u.fit_epochs, 2.0);
    }
}

//! Soft Actor-Critic (Haarnoja et al. 2018), CleanRL-style: a tanh-squashed Gaussian actor,
//! twin critics with Polyak-averaged targets, and an automatically tuned entropy temperature α
//! (target entropy −|A|) or a fixed one. Actions live in [−1, 1]^A; scaling to an env's box is
//! the caller's job.
//!
//! The update reads like the equations: [`Sac::update`] = critic step, actor step, α step,
//! target step; the tensor plumbing (tape splitting for values used twice) lives in helpers.

use dfdx::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::adam::{Adam, AdamConfig};
use super::ensemble::EnsembleMlp;
use super::kernels::{MlpKernels, Wants};
use super::losses::ValueOracle;
use super::replay::Batch;
use super::value_grad::{ValueGradients, critic_value_gradients, input_gradient};
use super::{Activation, Matmul};

/// Bounds of the actor's log standard deviation (CleanRL's).
const LOG_STD_MIN: f32 = -5.0;
const LOG_STD_MAX: f32 = 2.0;

/// SAC hyperparameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SacConfig {
    /// Hidden widths of actor and critics.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Discount γ.
    pub gamma: f32,
    /// Polyak factor τ of the target critics.
    pub tau: f32,
    /// Updates between target-critic updates.
    pub target_update_interval: u64,
    /// Actor learning rate.
    pub actor_lr: f32,
    /// Critic learning rate.
    pub critic_lr: f32,
    /// Temperature learning rate.
    pub alpha_lr: f32,
    /// A fixed α instead of the automatic tuning.
    pub fixed_alpha: Option<f32>,
    /// The α automatic tuning starts from (1.0 as CleanRL; the authors' MBPO uses 0.1).
    pub init_alpha: f32,
    /// Target entropy (`None`: −|A|).
    pub target_entropy: Option<f32>,
    /// How the CPU multiplies in the actor and critics ([`Matmul`]).
    pub matmul: Matmul,
    /// Seed of initialisation and sampling noise.
    pub seed: u64,
}

impl Default for SacConfig {
    fn default() -> Self {
        Self {
            hidden: vec![256, 256],
            activation: Activation::Relu,
            gamma: 0.99,
            tau: 0.005,
            target_update_interval: 1,
            actor_lr: 3e-4,
            critic_lr: 3e-4,
            alpha_lr: 3e-4,
            fixed_alpha: None,
            init_alpha: 1.0,
            target_entropy: None,
            seed: 0,
            matmul: Matmul::F32,
        }
    }
}

/// Losses and temperature after an update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SacStats {
    /// Sum of both critics' mean squared TD errors.
    pub critic_loss: f32,
    /// Actor loss `E[α log π − min Q]`.
    pub actor_loss: f32,
    /// Current α.
    pub alpha: f32,
    /// Mean entropy estimate `−E[log π]`.
    pub entropy: f32,
}

/// A SAC agent.
pub struct Sac<D: Device<f32>> {
    /// Actor: obs → [mean, raw log std] (one-member ensemble).
    pub actor: EnsembleMlp<D>,
    /// Twin critics: [obs, action] → Q (two-member ensemble).
    pub critics: EnsembleMlp<D>,
    /// Polyak-averaged copies of the critics.
    pub target_critics: EnsembleMlp<D>,
    /// log α.
    pub log_alpha: f32,
    /// Hyperparameters.
    pub config: SacConfig,
    /// Observation width.
    pub obs_dim: usize,
    /// Action width.
    pub action_dim: usize,
    /// Updates done.
    pub updates: u64,
    pub(crate) actor_adam: Adam<D>,
    pub(crate) critic_adam: Adam<D>,
    pub(crate) alpha_moments: (f32, f32),
    pub(crate) rng: rand_chacha::ChaCha8Rng,
}

/// Host-side policy outputs for a batch.
struct PolicySample {
    actions: Vec<f32>,
    log_probs: Vec<f32>,
}

impl<D: MlpKernels> Sac<D> {
    /// A fresh agent.
    pub fn new(dev: &D, obs_dim: usize, action_dim: usize, config: SacConfig) -> Self {
        let actor =
            EnsembleMlp::new(dev, 1, obs_dim, &config.hidden, 2 * action_dim, config.activation, config.seed).with_matmul(config.matmul);
        let critics = EnsembleMlp::new(dev, 2, obs_dim + action_dim, &config.hidden, 1, config.activation, config.seed.wrapping_add(1))
            .with_matmul(config.matmul);
        let actor_adam = Adam::new(&actor, AdamConfig { lr: config.actor_lr, ..AdamConfig::default() });
        let critic_adam = Adam::new(&critics, AdamConfig { lr: config.critic_lr, ..AdamConfig::default() });
        let log_alpha = config.fixed_alpha.unwrap_or(config.init_alpha).ln();
        Self {
            target_critics: critics.clone(),
            actor,
            critics,
            log_alpha,
            obs_dim,
            action_dim,
            updates: 0,
            actor_adam,
            critic_adam,
            alpha_moments: (0.0, 0.0),
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(2)),
            config,
        }
    }

    /// Current temperature α.
    pub fn alpha(&self) -> f32 {
        self.log_alpha.exp()
    }

    fn noise(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| StandardNormal.sample(&mut self.rng)).collect()
    }

    /// Actor outputs `(mean, log std)` on the host for `obs` (`N × obs_dim`).
    fn actor_host(&self, obs: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let out = self.actor.infer(obs);
        let a = self.action_dim;
        let mut mean = Vec::with_capacity(out.len() / 2);
        let mut log_std = Vec::with_capacity(out.len() / 2);
        for row in out.chunks(2 * a) {
            mean.extend_from_slice(&row[..a]);
            log_std.extend(row[a..].iter().map(|&r| bounded_log_std(r)));
        }
        (mean, log_std)
    }

    /// Samples actions and their log-probabilities (no gradient).
    fn sample_host(&mut self, obs: &[f32]) -> PolicySample {
        let (mean, log_std) = self.actor_host(obs);
        let eps = self.noise(mean.len());
        let a = self.action_dim;
        let mut actions = Vec::with_capacity(mean.len());
        let mut log_probs = Vec::with_capacity(mean.len() / a);
        for i in 0..mean.len() / a {
            let mut lp = 0.0f32;
            for j in i * a..(i + 1) * a {
                let act = (mean[j] + log_std[j].exp() * eps[j]).tanh();
                lp += log_prob_term(eps[j], log_std[j], act);
                actions.push(act);
            }
            log_probs.push(lp);
        }
        PolicySample { actions, log_probs }
    }

    /// Actions in [−1, 1] for `obs` (`N × obs_dim`): sampled, or `tanh(mean)` when deterministic.
    pub fn act(&mut self, obs: &[f32], deterministic: bool) -> Vec<f32> {
        if deterministic { self.actor_host(obs).0.iter().map(|m| m.tanh()).collect() } else { self.sample_host(obs).actions }
    }

    /// `[obs, action]` rows repeated for both critic members: `[2, N, obs + act]`.
    fn critic_input(&self, obs: &[f32], actions: &[f32]) -> Vec<f32> {
        let n = obs.len() / self.obs_dim;
        let (o, a) = (self.obs_dim, self.action_dim);
        let row: Vec<f32> = (0..n).flat_map(|i| obs[i * o..(i + 1) * o].iter().chain(&actions[i * a..(i + 1) * a]).copied()).collect();
        [row.clone(), row].concat()
    }

    /// One SAC update on `batch` (actions in [−1, 1]).
    pub fn update(&mut self, batch: &Batch) -> SacStats {
        let n = batch.rewards.len();
        // Critic: regress both Q's on r + γ(1 − d)(min Q_target(s', a') − α log π(a'|s')).
        let next = self.sample_host(&batch.next_obs);
        let q_next = self.target_critics.infer(&self.critic_input(&batch.next_obs, &next.actions));
        let alpha = self.alpha();
        let y: Vec<f32> = (0..n)
            .map(|i| {
                let soft = q_next[i].min(q_next[n + i]) - alpha * next.log_probs[i];
                batch.rewards[i] + self.config.gamma * (1.0 - batch.terminated[i]) * soft
            })
            .collect();
        // Loss Σ_k Σ_i (Q_k,i − y_i)² / n over both critics.
        let mut critic_loss = 0.0f32;
        let x = self.critic_input(&batch.obs, &batch.actions);
        let passes = self.critics.forward_backward_with(&x, Wants::PARAMS, |q| {
            critic_loss = q.iter().enumerate().map(|(j, q)| (q - y[j % n]).powi(2)).sum::<f32>() / n as f32;
            q.iter().enumerate().map(|(j, q)| 2.0 * (q - y[j % n]) / n as f32).collect()
        });
        let mut grads = passes.params.expect("parameter gradients were asked for");
        self.critic_adam.step(&mut self.critics, &mut grads);

        // Actor: minimise E[α log π(a|s) − min_k Q_k(s, a)], a = tanh(μ + σ ε) reparameterised.
        let (actor_loss, log_pi, mut grads) = self.actor_gradients(&batch.obs, alpha);
        // The actor's Adam step and the target critics' averaging touch different nets; a
        // device may run them side by side.
        self.updates += 1;
        let average_targets = self.updates.is_multiple_of(self.config.target_update_interval.max(1));
        let tau = self.config.tau;
        let targets = average_targets.then_some((&mut self.target_critics, &self.critics, tau));
        D::step_beside_polyak(&mut self.actor_adam, &mut self.actor, &mut grads, targets);

        // Temperature: d/dlogα of −α·E[log π + H̄] is −α·E[log π + H̄].
        let mean_log_pi = log_pi.iter().sum::<f32>() / n as f32;
        if self.config.fixed_alpha.is_none() {
            let target_entropy = self.config.target_entropy.unwrap_or(-(self.action_dim as f32));
            let g = -alpha * (mean_log_pi + target_entropy);
            self.log_alpha -= adam_scalar(&mut self.alpha_moments, g, self.config.alpha_lr, self.updates);
        }
        SacStats { critic_loss, actor_loss, alpha: self.alpha(), entropy: -mean_log_pi }
    }

    /// The actor loss `mean(α log π(a|s) − min_k Q_k(s, a))` with fresh reparameterisation
    /// noise, the sampled log-probabilities, and the actor's parameter gradients.
    ///
    /// The chain rule through the squashed Gaussian is written out on the host: with
    /// `u = μ + σ ε`, `a = tanh u`, `log σ = b(r)` (the bounded raw output r) and
    /// `log π = Σ [−ε²/2 − log σ − log √(2π) − ln(1 − a² + 1e−6)]`,
    /// `∂L/∂a = (α · 2a / (1 − a² + 1e−6) − ∂Q_min/∂a) / n`, `∂L/∂μ = ∂L/∂a · (1 − a²)`,
    /// `∂L/∂log σ = ∂L/∂μ · σ ε − α / n`, `∂L/∂r = ∂L/∂log σ · b'(r)`. ∂Q_min/∂a is the input
    /// gradient of the smaller critic at `[s, a]`; the critics' parameters get no gradient.
    fn actor_gradients(&mut self, obs: &[f32], alpha: f32) -> (f32, Vec<f32>, Gradients<f32, D>) {
        let (o, a) = (self.obs_dim, self.action_dim);
        let n = obs.len() / o;
        let eps = self.noise(n * a);
        let mut loss = 0.0f32;
        let mut log_pi = vec![0.0f32; n];
        let passes = self.actor.forward_backward_with(obs, Wants::PARAMS, |out| {
            let mut actions = Vec::with_capacity(n * a);
            let mut log_std = Vec::with_capacity(n * a);
            for (i, row) in out.chunks(2 * a).enumerate() {
                for j in 0..a {
                    let ls = bounded_log_std(row[a + j]);
                    let act = (row[j] + ls.exp() * eps[i * a + j]).tanh();
                    log_pi[i] += log_prob_term(eps[i * a + j], ls, act);
                    actions.push(act);
                    log_std.push(ls);
                }
            }
            // The smaller critic per sample takes the gradient (as min's backward does). Each
            // critic's input gradient of a row does not depend on the other rows, so both are
            // computed and the smaller one's is read.
            let x = self.critic_input(obs, &actions);
            let (q_values, dq) = input_gradient(&self.critics, &x);
            let smaller: Vec<usize> = (0..n).map(|i| usize::from(q_values[n + i] < q_values[i])).collect();
            let inv_n = 1.0 / n as f32;
            let mut d_out = vec![0.0f32; n * 2 * a];
            for i in 0..n {
                let k = smaller[i];
                loss += (alpha * log_pi[i] - q_values[k * n + i]) * inv_n;
                let row = &out[i * 2 * a..(i + 1) * 2 * a];
                for j in 0..a {
                    let act = actions[i * a + j];
                    let dq_da = dq[(k * n + i) * (o + a) + o + j];
                    let d_act = (alpha * 2.0 * act / (1.0 - act * act + 1e-6) - dq_da) * inv_n;
                    let d_mean = d_act * (1.0 - act * act);
                    let d_log_std = d_mean * log_std[i * a + j].exp() * eps[i * a + j] - alpha * inv_n;
                    let t = row[a + j].tanh();
                    d_out[i * 2 * a + j] = d_mean;
                    d_out[i * 2 * a + a + j] = d_log_std * 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (1.0 - t * t);
                }
            }
            d_out
        });
        let grads = passes.params.expect("parameter gradients were asked for");
        (loss, log_pi, grads)
    }

    /// The value functions VaGraM reads: both critics and both target critics, each at the
    /// actor's deterministic action `tanh(μ(s))` (held fixed).
    pub fn value_oracle(&self) -> SacValues<'_, D> {
        SacValues { sac: self }
    }
}

/// One Adam step on a scalar (β 0.9 / 0.999); returns the update to subtract.
fn adam_scalar(m: &mut (f32, f32), g: f32, lr: f32, t: u64) -> f32 {
    m.0 = 0.9 * m.0 + 0.1 * g;
    m.1 = 0.999 * m.1 + 0.001 * g * g;
    let (c1, c2) = (1.0 - 0.9f32.powi(t as i32), 1.0 - 0.999f32.powi(t as i32));
    lr * (m.0 / c1) / ((m.1 / c2).sqrt() + 1e-8)
}

/// The actor's raw log-std output mapped into [LOG_STD_MIN, LOG_STD_MAX] (CleanRL's tanh bound).
fn bounded_log_std(raw: f32) -> f32 {
    LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (raw.tanh() + 1.0)
}

/// One action dimension's term of log π for a tanh-squashed Gaussian sample `act = tanh(μ + σε)`.
fn log_prob_term(eps: f32, log_std: f32, act: f32) -> f32 {
    -0.5 * eps * eps - log_std - 0.5 * (2.0 * std::f32::consts::PI).ln() - (1.0 - act * act + 1e-6).ln()
}

/// SAC's four value functions as a [`ValueOracle`].
pub struct SacValues<'a, D: Device<f32>> {
    sac: &'a Sac<D>,
}

impl<D: MlpKernels> ValueOracle for SacValues<'_, D> {
    fn evaluate(&self, states: &[f32]) -> ValueGradients {
        let actions: Vec<f32> = self.sac.actor_host(states).0.iter().map(|m| m.tanh()).collect();
        let (o, a) = (self.sac.obs_dim, self.sac.action_dim);
        let mut out = critic_value_gradients(&self.sac.critics, states, &actions, o, a);
        let targets = critic_value_gradients(&self.sac.target_critics, states, &actions, o, a);
        out.values.extend(targets.values);
        out.grads.extend(targets.grads);
        out
    }
}

#[cfg(test)]
mod tests;

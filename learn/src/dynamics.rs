//! The learned dynamics model: an ensemble mapping z-scored `[s, a]` to `[Δs, r]` (plus
//! log-variances of Δs and r for the probabilistic, MBPO-style ensemble), trained with any
//! [`ModelLoss`] on the state part and plain MSE on the reward. A likelihood loss
//! ([`ModelLoss::fits_reward`]) fits the reward too, with its log-variance, and the objective is
//! then its mean over all `state_dim + 1` outputs, as in MBRL-Lib's Gaussian ensemble.
//!
//! Predictions are turned into next states `ŝ' = s + Δ̂` before the loss sees them, so every
//! loss is written in terms of next states (VaGraM's `ŝ' − s'` equals `Δ̂ − Δ`). Each member
//! trains on its own batch (bootstrap samples are chosen by the caller).

use dfdx::prelude::*;
use rayon::prelude::*;

use super::adam::{Adam, AdamConfig, Optimizer};
use super::ensemble::EnsembleMlp;
use super::error::LearnError;
use super::kernels::{MlpKernels, Wants};
use super::logvar_bounds::LogvarBounds;
use super::losses::{LossEval, LossInputs, ModelLoss, ValueOracle};
use super::normalizer::Normalizer;
use super::{Activation, Matmul};

/// Architecture and optimiser settings of a dynamics model.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicsConfig {
    /// Ensemble members (7 in MBPO and the paper).
    pub members: usize,
    /// Hidden widths (4 × 200 in the paper; 2 × 64 and 3 × 64 in its capacity study; empty = linear).
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Gaussian (mean + log-variance) ensemble instead of a deterministic one.
    pub probabilistic: bool,
    /// Learning rate and weight decay (lr 1e-3, weight decay 5e-5 in the authors' presets), and
    /// Adam's moment settings.
    pub adam: AdamConfig,
    /// Adam (the default) or plain SGD.
    pub optimizer: Optimizer,
    /// Weight of the log-variance bound regulariser (0.01 in MBPO).
    pub logvar_reg: f32,
    /// Learn the log-variance bounds (MBPO's `learn_logvar_bounds`; `false` keeps them at
    /// [−10, 0.5], as the authors' configs do).
    pub learn_logvar_bounds: bool,
    /// How the members' losses combine into the one the optimiser steps on.
    pub member_reduction: MemberReduction,
    /// How a probabilistic ensemble fits its reward.
    pub reward_fit: RewardFit,
    /// How the CPU multiplies in the ensemble ([`Matmul`]).
    pub matmul: Matmul,
    /// Seed of the weight initialisation.
    pub seed: u64,
}

impl Default for DynamicsConfig {
    fn default() -> Self {
        Self {
            members: 7,
            hidden: vec![200; 4],
            activation: Activation::Silu,
            probabilistic: false,
            adam: AdamConfig { lr: 1e-3, weight_decay: 5e-5, ..AdamConfig::default() },
            optimizer: Optimizer::Adam,
            logvar_reg: 0.01,
            learn_logvar_bounds: true,
            member_reduction: MemberReduction::Mean,
            reward_fit: RewardFit::Likelihood,
            seed: 0,
            matmul: Matmul::F32,
        }
    }
}

/// How an ensemble's per-member losses combine. Each member's parameters see only its own
/// loss, so the choice scales every member's gradient by 1 (sum) or 1/E (mean); with Adam's
/// coupled L2 weight decay that sets the decay's strength relative to the loss: E times weaker
/// under the sum. The authors' Gaussian ensemble (the `mle` and `mse` baselines) sums, their
/// VaGraM ensemble averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberReduction {
    /// Mean over members.
    Mean,
    /// Sum over members.
    Sum,
}

/// How a probabilistic ensemble fits its reward (`model.reward_fit`); deterministic models
/// always regress it by MSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewardFit {
    /// The ensemble predicts the reward's log-variance too; a likelihood loss fits the reward
    /// with it and rollouts sample the reward (MBRL-Lib's Gaussian ensemble: the authors' code).
    #[default]
    Likelihood,
    /// The reward's mean by MSE, used as is in rollouts (the paper's footnote 1: "learned by
    /// mean squared error minimization").
    Mse,
}

crate::choice_names!(RewardFit, ["likelihood", "mse"]);

/// Returns an error naming `tensor` if `values` holds a NaN or infinity.
pub fn check_finite(tensor: &str, values: &[f32], step: u64) -> Result<(), LearnError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(LearnError::NonFinite { tensor: tensor.into(), step, index, value: values[index] }),
        None => Ok(()),
    }
}

/// One member's training batch (row-major, `B` rows).
#[derive(Debug, Clone, Copy)]
pub struct MemberBatch<'a> {
    /// States `s`, `B × state_dim`.
    pub states: &'a [f32],
    /// Actions, `B × action_dim`.
    pub actions: &'a [f32],
    /// Environment next states `s'`.
    pub next_states: &'a [f32],
    /// Rewards, `B`.
    pub rewards: &'a [f32],
}

/// What the model predicts for a batch, per member (`[E, B, …]` row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Predicted next states (means), `E × B × state_dim`.
    pub next_states: Vec<f32>,
    /// Predicted rewards, `E × B`.
    pub rewards: Vec<f32>,
    /// Bounded log-variances of the next states (probabilistic models), `E × B × state_dim`.
    pub logvar: Option<Vec<f32>>,
    /// Bounded log-variances of the rewards (probabilistic models), `E × B`.
    pub reward_logvar: Option<Vec<f32>>,
}

/// Losses of one training step, averaged over members.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainStats {
    /// The chosen state loss.
    pub state_loss: f64,
    /// Reward MSE.
    pub reward_loss: f64,
}

/// An ensemble dynamics model with its normaliser and optimiser.
pub struct DynamicsModel<D: Device<f32>> {
    /// The ensemble.
    pub net: EnsembleMlp<D>,
    /// Input normalisation (refit from the data before each training round).
    pub normalizer: Normalizer,
    /// State dimension.
    pub state_dim: usize,
    /// Action dimension.
    pub action_dim: usize,
    /// Log-variance bounds (probabilistic models).
    pub bounds: Option<LogvarBounds>,
    /// Optimiser state.
    pub adam: Adam<D>,
    /// Which step the fits take with it.
    pub optimizer: Optimizer,
    /// Training steps taken.
    pub steps: u64,
    /// Whether training steps move the log-variance bounds.
    pub learn_logvar_bounds: bool,
    /// How member losses combine into the optimised one.
    pub member_reduction: MemberReduction,
}

impl<D: MlpKernels> DynamicsModel<D> {
    /// A fresh model for `state_dim`/`action_dim`.
    pub fn new(dev: &D, state_dim: usize, action_dim: usize, config: &DynamicsConfig) -> Result<Self, LearnError> {
        for (what, v) in [("state dimension", state_dim), ("action dimension", action_dim), ("ensemble members", config.members)] {
            if v == 0 {
                return Err(LearnError::Shape { what: what.into(), expected: 1, got: 0 });
            }
        }
        // [Δs, r] and, for the Gaussian ensemble, the log-variances of Δs (and of r).
        let logvars = match (config.probabilistic, config.reward_fit) {
            (false, _) => 0,
            (true, RewardFit::Likelihood) => state_dim + 1,
            (true, RewardFit::Mse) => state_dim,
        };
        let out = state_dim + 1 + logvars;
        let net = EnsembleMlp::new(dev, config.members, state_dim + action_dim, &config.hidden, out, config.activation, config.seed)
            .with_matmul(config.matmul);
        let adam = Adam::new(&net, config.adam);
        let bounds = config.probabilistic.then(|| LogvarBounds::new(logvars, -10.0, 0.5, config.logvar_reg));
        Ok(Self {
            net,
            normalizer: Normalizer::identity(state_dim + action_dim),
            state_dim,
            action_dim,
            bounds,
            adam,
            optimizer: config.optimizer,
            steps: 0,
            learn_logvar_bounds: config.learn_logvar_bounds,
            member_reduction: config.member_reduction,
        })
    }

    /// Members of the ensemble.
    pub fn members(&self) -> usize {
        self.net.members()
    }

    /// Whether predictions carry log-variances: `(of the next state, of the reward)`.
    pub fn predicts_logvar(&self) -> (bool, bool) {
        let lv = self.logvar_dim();
        (lv > 0, lv > self.state_dim)
    }

    fn out_dim(&self) -> usize {
        self.net.output_dim()
    }

    /// Log-variances per sample: 0 (deterministic), `state_dim`, or `state_dim + 1` with the reward's.
    fn logvar_dim(&self) -> usize {
        self.bounds.as_ref().map_or(0, |b| b.max.len())
    }

    /// Normalised `[s, a]` inputs for every member, `[E, B, S + A]`.
    fn inputs(&self, states: &[&[f32]], actions: &[&[f32]]) -> Result<Vec<f32>, LearnError> {
        let (s, a, e) = (self.state_dim, self.action_dim, self.members());
        if states.len() != e || actions.len() != e {
            return Err(LearnError::Shape { what: "member batches".into(), expected: e, got: states.len() });
        }
        let b = states[0].len() / s;
        let mut x = Vec::with_capacity(e * b * (s + a));
        for m in 0..e {
            for (what, len, want) in [("states", states[m].len(), b * s), ("actions", actions[m].len(), b * a)] {
                if len != want {
                    return Err(LearnError::Shape { what: format!("member {m} {what}"), expected: want, got: len });
                }
            }
            for i in 0..b {
                x.extend_from_slice(&states[m][i * s..(i + 1) * s]);
                x.extend_from_slice(&actions[m][i * a..(i + 1) * a]);
            }
        }
        check_finite("model inputs", &x, self.steps)?;
        self.normalizer.apply(&mut x);
        Ok(x)
    }

    /// Splits raw outputs into a [`Prediction`] (and the bound derivatives for training).
    fn split(&self, states: &[&[f32]], raw: &[f32]) -> (Prediction, Option<super::logvar_bounds::BoundedLogvar>) {
        let (s, out) = (self.state_dim, self.out_dim());
        let rows = raw.len() / out;
        let b = rows / self.members();
        let mut next = Vec::with_capacity(rows * s);
        let mut rewards = Vec::with_capacity(rows);
        let mut raw_lv = Vec::new();
        for (r, o) in raw.chunks(out).enumerate() {
            let st = &states[r / b][(r % b) * s..(r % b + 1) * s];
            next.extend(st.iter().zip(&o[..s]).map(|(x, d)| x + d));
            rewards.push(o[s]);
            raw_lv.extend_from_slice(&o[s + 1..]);
        }
        let bounded = self.bounds.as_ref().map(|bd| bd.apply(&raw_lv));
        // Rows of the bounded log-variances are `[state dims…]` or `[state dims…, reward]`.
        let lv_dim = self.logvar_dim();
        let logvar = bounded.as_ref().map(|bl| bl.logvar.chunks(lv_dim).flat_map(|row| &row[..s]).copied().collect());
        let reward_logvar = bounded.as_ref().filter(|_| lv_dim > s).map(|bl| bl.logvar.chunks(lv_dim).map(|row| row[s]).collect());
        (Prediction { next_states: next, rewards, logvar, reward_logvar }, bounded)
    }

    /// Predictions of every member on its own batch.
    pub fn predict(&self, states: &[&[f32]], actions: &[&[f32]]) -> Result<Prediction, LearnError> {
        let x = self.inputs(states, actions)?;
        let raw = self.net.infer(&x);
        check_finite("model predictions", &raw, self.steps)?;
        Ok(self.split(states, &raw).0)
    }

    /// The state loss and reward MSE of every member on its batch (no update): validation.
    pub fn member_losses(
        &self,
        batches: &[MemberBatch],
        loss: &dyn ModelLoss,
        values: Option<&dyn ValueOracle>,
    ) -> Result<Vec<TrainStats>, LearnError> {
        Ok(self.member_losses_of(batches, &[(loss, values)])?.remove(0))
    }

    /// [`Self::member_losses`] under several losses from one prediction: per loss, every
    /// member's state loss and reward MSE.
    pub fn member_losses_of(
        &self,
        batches: &[MemberBatch],
        losses: &[(&dyn ModelLoss, Option<&dyn ValueOracle>)],
    ) -> Result<Vec<Vec<TrainStats>>, LearnError> {
        let states: Vec<&[f32]> = batches.iter().map(|b| b.states).collect();
        let actions: Vec<&[f32]> = batches.iter().map(|b| b.actions).collect();
        let pred = self.predict(&states, &actions)?;
        let (s, b) = (self.state_dim, batches[0].rewards.len());
        let reward_losses: Vec<f64> = batches
            .iter()
            .enumerate()
            .map(|(m, batch)| {
                let r = &pred.rewards[m * b..(m + 1) * b];
                r.iter().zip(batch.rewards).map(|(p, t)| ((p - t) as f64).powi(2)).sum::<f64>() / b as f64
            })
            .collect();
        losses
            .iter()
            .map(|&(loss, values)| {
                batches
                    .iter()
                    .enumerate()
                    .map(|(m, batch)| {
                        let inputs = LossInputs {
                            state: batch.states,
                            pred: &pred.next_states[m * b * s..(m + 1) * b * s],
                            target: batch.next_states,
                            logvar: pred.logvar.as_ref().map(|lv| &lv[m * b * s..(m + 1) * b * s]),
                            dim: s,
                            values,
                        };
                        Ok(TrainStats { state_loss: loss.evaluate(&inputs)?.value, reward_loss: reward_losses[m] })
                    })
                    .collect()
            })
            .collect()
    }

    /// ∂loss/∂outputs for raw outputs `raw` (`[E, B, out]`), with the losses and the gradients
    /// of the log-variance bounds.
    #[allow(clippy::type_complexity)]
    fn output_gradient(
        &self,
        batches: &[MemberBatch],
        states: &[&[f32]],
        raw: &[f32],
        loss: &dyn ModelLoss,
        values: Option<&dyn ValueOracle>,
    ) -> Result<(Vec<f32>, TrainStats, Vec<f32>, Vec<f32>), LearnError> {
        let (s, e, out) = (self.state_dim, self.members(), self.out_dim());
        let b = batches[0].rewards.len();
        check_finite("model predictions", raw, self.steps)?;
        let (pred, bounded) = self.split(states, raw);
        let mut stats = TrainStats { state_loss: 0.0, reward_loss: 0.0 };
        let lv_dim = self.logvar_dim();
        let (mut d_max, mut d_min) = (vec![0.0f32; lv_dim], vec![0.0f32; lv_dim]);
        let mut d_out = vec![0.0f32; raw.len()];
        let inputs = |m: usize| {
            let span = m * b * s..(m + 1) * b * s;
            LossInputs {
                state: batches[m].states,
                pred: &pred.next_states[span.clone()],
                target: batches[m].next_states,
                logvar: pred.logvar.as_ref().map(|lv| &lv[span]),
                dim: s,
                values: None,
            }
        };
        // Each member's loss on its own batch. Without value functions (which may not be shared
        // between threads) the members run side by side: the likelihood's exponentials are a
        // tenth of a 7 × 4×200 training step on one thread.
        let evals: Vec<LossEval> = match values {
            // Collected whole, then checked in member order: the same error as one by one.
            None if e > 1 => {
                (0..e).into_par_iter().map(|m| loss.evaluate(&inputs(m))).collect::<Vec<_>>().into_iter().collect::<Result<_, _>>()?
            }
            _ => (0..e).map(|m| loss.evaluate(&LossInputs { values, ..inputs(m) })).collect::<Result<_, _>>()?,
        };
        // The gradient's share of each member: 1/E for the mean, 1 for the sum (the reported
        // losses are means either way).
        let members = match self.member_reduction {
            MemberReduction::Mean => e,
            MemberReduction::Sum => 1,
        };
        // A likelihood loss on a probabilistic model fits the reward with its log-variance too, and
        // the objective is the mean over the `s + 1` outputs (MBRL-Lib): the state part weighs
        // s/(s+1), the reward 1/(s+1). Otherwise the reward's squared error is added.
        let joint = loss.fits_reward() && pred.reward_logvar.is_some();
        let (w_state, w_reward) = if joint { (s as f32 / (s + 1) as f32, 1.0 / (s + 1) as f32) } else { (1.0, 1.0) };
        let no_start_states = vec![0.0f32; if joint { b } else { 0 }];
        for (m, (batch, eval)) in batches.iter().zip(evals).enumerate() {
            stats.state_loss += eval.value / e as f64;
            let rows = m * b..(m + 1) * b;
            let reward_eval = match joint {
                true => Some(loss.evaluate(&LossInputs {
                    state: &no_start_states,
                    pred: &pred.rewards[rows.clone()],
                    target: batch.rewards,
                    logvar: pred.reward_logvar.as_ref().map(|lv| &lv[rows]),
                    dim: 1,
                    values: None,
                })?),
                false => None,
            };
            for i in 0..b {
                let row = (m * b + i) * out;
                // This sample's row of the bounded log-variances.
                let lv_row = (m * b + i) * lv_dim;
                for d in 0..s {
                    let j = i * s + d;
                    d_out[row + d] = w_state * eval.d_pred[j] / members as f32;
                    if let (Some(d_lv), Some(bl)) = (&eval.d_logvar, &bounded) {
                        let g = w_state * d_lv[j] / members as f32;
                        d_out[row + s + 1 + d] = g * bl.d_raw[lv_row + d];
                        d_max[d] += g * bl.d_max[lv_row + d];
                        d_min[d] += g * bl.d_min[lv_row + d];
                    }
                }
                let err = pred.rewards[m * b + i] - batch.rewards[i];
                stats.reward_loss += (err as f64).powi(2) / (b * e) as f64;
                match &reward_eval {
                    Some(r) => {
                        d_out[row + s] = w_reward * r.d_pred[i] / members as f32;
                        if let (Some(d_lv), Some(bl)) = (&r.d_logvar, &bounded) {
                            let g = w_reward * d_lv[i] / members as f32;
                            d_out[row + 2 * s + 1] = g * bl.d_raw[lv_row + s];
                            d_max[s] += g * bl.d_max[lv_row + s];
                            d_min[s] += g * bl.d_min[lv_row + s];
                        }
                    }
                    None => d_out[row + s] = 2.0 * err / (b * members) as f32,
                }
            }
        }
        if !stats.state_loss.is_finite() {
            return Err(LearnError::NonFinite {
                tensor: format!("{} loss", loss.name()),
                step: self.steps,
                index: 0,
                value: stats.state_loss as f32,
            });
        }
        Ok((d_out, stats, d_max, d_min))
    }

    /// One gradient step of every member on its batch: `loss` on the next states, MSE on the
    /// reward (or `loss` on it too, for a likelihood loss), the bound regulariser for
    /// probabilistic models. Members' losses combine by the model's [`MemberReduction`].
    pub fn train_step(
        &mut self,
        batches: &[MemberBatch],
        loss: &dyn ModelLoss,
        values: Option<&dyn ValueOracle>,
    ) -> Result<TrainStats, LearnError> {
        let s = self.state_dim;
        let b = batches.first().map_or(0, |x| x.rewards.len());
        for (m, batch) in batches.iter().enumerate() {
            check_finite(&format!("member {m} next states"), batch.next_states, self.steps)?;
            check_finite(&format!("member {m} rewards"), batch.rewards, self.steps)?;
            if batch.next_states.len() != b * s || batch.rewards.len() != b {
                return Err(LearnError::Shape { what: format!("member {m} targets"), expected: b * s, got: batch.next_states.len() });
            }
        }
        let states: Vec<&[f32]> = batches.iter().map(|x| x.states).collect();
        let actions: Vec<&[f32]> = batches.iter().map(|x| x.actions).collect();
        let x = self.inputs(&states, &actions)?;
        let mut extra = None;
        let passes = self.net.forward_backward(&x, Wants::PARAMS, |raw| {
            let (d_out, stats, d_max, d_min) = self.output_gradient(batches, &states, raw, loss, values)?;
            extra = Some((stats, d_max, d_min));
            Ok::<_, LearnError>(d_out)
        })?;
        let mut grads = passes.params.expect("parameter gradients were asked for");
        let (stats, d_max, d_min) = extra.expect("set by the loss closure");
        match self.optimizer {
            Optimizer::Adam => self.adam.step(&mut self.net, &mut grads),
            Optimizer::Sgd => self.adam.sgd_step(&mut self.net, &mut grads),
        }
        if let Some(bounds) = self.bounds.as_mut().filter(|_| self.learn_logvar_bounds) {
            bounds.step(&d_max, &d_min, self.adam.config.lr);
        }
        self.steps += 1;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests;

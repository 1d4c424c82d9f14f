//! The learned model as an environment (MBRL-Lib's `ModelEnv`), outside the ECS: one step of a
//! batch of states and actions through randomly chosen elite members, the next state and reward
//! sampled from a probabilistic member's Gaussian, and the env's own termination function on the
//! result. The rollout stage ([`super::rollout_model`]) drives it; it needs no World, so it can
//! be used and tested on its own.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};
use vagram_learn::LearnError;
use vagram_learn::dynamics::DynamicsModel;
use vagram_learn::kernels::MlpKernels;

/// A fitted model, the members to draw from, and the env's termination function.
pub struct ModelEnv<'a, D: MlpKernels> {
    /// The dynamics ensemble.
    pub model: &'a DynamicsModel<D>,
    /// Members each sample's step is drawn from, uniformly (the elites of the last fit).
    pub elites: &'a [usize],
    /// Whether a (predicted) next state ends the rollout.
    pub is_terminal: &'a (dyn Fn(&[f32]) -> bool + Send + Sync),
}

/// One model step of a batch (row-major, one row per sample).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelStep {
    /// Next states, `N × state_dim`.
    pub next_states: Vec<f32>,
    /// Rewards, `N`.
    pub rewards: Vec<f32>,
    /// Whether each next state is terminal.
    pub terminal: Vec<bool>,
}

impl<D: MlpKernels> ModelEnv<'_, D> {
    /// Steps `states` (`N × state_dim`) with `actions` (`N × action_dim`). Per sample, in this
    /// order from `rng`: the member, then the next state's noise (one draw per dimension) and
    /// the reward's, when the model predicts their log-variances. Each member predicts only the
    /// samples drawn for it (MBRL-Lib's `random_model` propagation), not the whole batch.
    pub fn step(&self, states: &[f32], actions: &[f32], rng: &mut impl Rng) -> Result<ModelStep, LearnError> {
        let (dim, a_dim) = (self.model.state_dim, self.model.action_dim);
        let n = states.len() / dim.max(1);
        if n == 0 {
            return Ok(ModelStep { next_states: Vec::new(), rewards: Vec::new(), terminal: Vec::new() });
        }
        let (state_noise, reward_noise) = self.model.predicts_logvar();
        // The draws first (they do not depend on the predictions), in the documented order.
        let noise_per_sample = if state_noise { dim } else { 0 } + usize::from(reward_noise);
        let mut chosen = Vec::with_capacity(n);
        let mut noise: Vec<f32> = Vec::with_capacity(n * noise_per_sample);
        for _ in 0..n {
            chosen.push(self.elites[rng.random_range(0..self.elites.len())]);
            noise.extend((0..noise_per_sample).map(|_| -> f32 { StandardNormal.sample(rng) }));
        }
        let grouped = MemberGroups::new(&chosen, self.model.members());
        let (member_states, member_actions) = (grouped.gather(states, dim), grouped.gather(actions, a_dim));
        let s_refs: Vec<&[f32]> = member_states.iter().map(Vec::as_slice).collect();
        let a_refs: Vec<&[f32]> = member_actions.iter().map(Vec::as_slice).collect();
        let pred = self.model.predict(&s_refs, &a_refs)?;
        let mut out =
            ModelStep { next_states: Vec::with_capacity(n * dim), rewards: Vec::with_capacity(n), terminal: Vec::with_capacity(n) };
        for i in 0..n {
            let (r, eps) = (grouped.row(i), &noise[i * noise_per_sample..(i + 1) * noise_per_sample]);
            let mut next: Vec<f32> = pred.next_states[r * dim..(r + 1) * dim].to_vec();
            if let Some(lv) = &pred.logvar {
                for (d, v) in next.iter_mut().enumerate() {
                    *v += (0.5 * lv[r * dim + d]).exp() * eps[d];
                }
            }
            let mut reward = pred.rewards[r];
            if let Some(lv) = &pred.reward_logvar {
                reward += (0.5 * lv[r]).exp() * eps[noise_per_sample - 1];
            }
            out.terminal.push((self.is_terminal)(&next));
            out.next_states.extend_from_slice(&next);
            out.rewards.push(reward);
        }
        Ok(out)
    }
}

/// Samples sorted by the member that predicts them: every member gets a batch of the same
/// length (the ensemble's forward pass takes `[E, B, …]`), its samples first, the rest padding
/// that is predicted and ignored.
struct MemberGroups {
    /// Rows per member batch: the largest member's share (at least 1).
    per_member: usize,
    /// Per member, the samples it predicts, in sample order.
    samples: Vec<Vec<usize>>,
    /// Per sample, its row in the `[E, B]` prediction.
    rows: Vec<usize>,
}

impl MemberGroups {
    fn new(chosen: &[usize], members: usize) -> Self {
        let mut samples = vec![Vec::new(); members];
        let mut rows = Vec::with_capacity(chosen.len());
        for (i, &m) in chosen.iter().enumerate() {
            samples[m].push(i);
        }
        let per_member = samples.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut slot = vec![0; members];
        for &m in chosen {
            rows.push(m * per_member + slot[m]);
            slot[m] += 1;
        }
        Self { per_member, samples, rows }
    }

    /// Each member's batch of `data` (`N × width`): its samples' rows, padded with the first
    /// sample's row (any finite row would do).
    fn gather(&self, data: &[f32], width: usize) -> Vec<Vec<f32>> {
        let pad = &data[..width.min(data.len())];
        self.samples
            .iter()
            .map(|own| {
                let mut batch = Vec::with_capacity(self.per_member * width);
                for &i in own {
                    batch.extend_from_slice(&data[i * width..(i + 1) * width]);
                }
                for _ in own.len()..self.per_member {
                    batch.extend_from_slice(pad);
                }
                batch
            })
            .collect()
    }

    /// Sample `i`'s row in the prediction.
    fn row(&self, i: usize) -> usize {
        self.rows[i]
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use vagram_learn::TestDevice;
    use vagram_learn::dynamics::DynamicsConfig;

    use super::*;

    fn model(probabilistic: bool) -> DynamicsModel<TestDevice> {
        let config = DynamicsConfig { members: 3, hidden: vec![8], probabilistic, ..DynamicsConfig::default() };
        DynamicsModel::new(&TestDevice::seed_from_u64(0), 2, 1, &config).unwrap()
    }

    #[test]
    fn a_deterministic_step_is_an_elites_prediction_with_the_envs_termination() {
        let m = model(false);
        let (states, actions) = (vec![0.1, -0.2, 0.5, 0.3, -0.4, 0.9], vec![0.5, -1.0, 0.2]);
        let pred = m.predict(&[&states[..]; 3], &[&actions[..]; 3]).unwrap();
        let ends = |s: &[f32]| s[0] > 0.2;
        let env = ModelEnv { model: &m, elites: &[2], is_terminal: &ends };
        let step = env.step(&states, &actions, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1)).unwrap();
        // Member 2's rows, and its rewards: the only elite.
        assert_eq!(step.next_states, pred.next_states[2 * 6..3 * 6].to_vec());
        assert_eq!(step.rewards, pred.rewards[2 * 3..3 * 3].to_vec());
        let expect: Vec<bool> = step.next_states.chunks(2).map(ends).collect();
        assert_eq!(step.terminal, expect);
        assert_ne!(pred.next_states[..6], pred.next_states[2 * 6..3 * 6], "the members differ, so the elite mattered");
    }

    /// The step as the whole ensemble would take it: every member predicts every sample, and
    /// each sample keeps its member's row (the same draws in the same order).
    fn step_with_every_member(m: &DynamicsModel<TestDevice>, elites: &[usize], states: &[f32], actions: &[f32], seed: u64) -> ModelStep {
        let (dim, n, e) = (m.state_dim, states.len() / m.state_dim, m.members());
        let pred = m.predict(&vec![states; e], &vec![actions; e]).unwrap();
        let rng = &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut out = ModelStep { next_states: vec![], rewards: vec![], terminal: vec![] };
        for i in 0..n {
            let k = elites[rng.random_range(0..elites.len())];
            let row = k * n + i;
            for d in 0..dim {
                let lv = pred.logvar.as_ref().map(|lv| lv[row * dim + d]);
                let eps: f32 = if lv.is_some() { StandardNormal.sample(rng) } else { 0.0 };
                out.next_states.push(pred.next_states[row * dim + d] + lv.map_or(0.0, |lv| (0.5 * lv).exp() * eps));
            }
            let eps: f32 = if pred.reward_logvar.is_some() { StandardNormal.sample(rng) } else { 0.0 };
            out.rewards.push(pred.rewards[row] + pred.reward_logvar.as_ref().map_or(0.0, |lv| (0.5 * lv[row]).exp() * eps));
            out.terminal.push(false);
        }
        out
    }

    #[test]
    fn each_member_predicts_only_its_own_samples_with_the_whole_ensembles_numbers() {
        let never = |_: &[f32]| false;
        for probabilistic in [false, true] {
            let m = model(probabilistic);
            let n = 37;
            let states: Vec<f32> = (0..2 * n).map(|k| ((k * 7 % 11) as f32 - 5.0) * 0.1).collect();
            let actions: Vec<f32> = (0..n).map(|k| ((k * 3 % 5) as f32 - 2.0) * 0.4).collect();
            let elites = [0, 2];
            let env = ModelEnv { model: &m, elites: &elites, is_terminal: &never };
            let step = env.step(&states, &actions, &mut rand_chacha::ChaCha8Rng::seed_from_u64(5)).unwrap();
            let whole = step_with_every_member(&m, &elites, &states, &actions, 5);
            for (got, want) in step.next_states.iter().zip(&whole.next_states).chain(step.rewards.iter().zip(&whole.rewards)) {
                assert!((got - want).abs() <= 1e-6 * want.abs().max(1.0), "probabilistic {probabilistic}: {got} vs {want}");
            }
            assert_eq!((step.next_states.len(), step.rewards.len()), (2 * n, n));
        }
    }

    #[test]
    fn a_probabilistic_step_samples_around_the_mean_and_is_reproducible() {
        let m = model(true);
        let (states, actions) = (vec![0.1, -0.2], vec![0.5]);
        let never = |_: &[f32]| false;
        let env = ModelEnv { model: &m, elites: &[0], is_terminal: &never };
        let pred = m.predict(&[&states[..]; 3], &[&actions[..]; 3]).unwrap();
        let draw = |seed| env.step(&states, &actions, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed)).unwrap();
        assert_eq!(draw(7), draw(7), "same stream, same step");
        assert_ne!(draw(7).next_states, pred.next_states[..2].to_vec(), "a sample, not the mean");
        // The sample mean over many draws approaches the predicted mean (σ ≤ e^(0.5·0.5)).
        let k = 4000;
        let mean: f32 = (0..k).map(|s| draw(100 + s).rewards[0]).sum::<f32>() / k as f32;
        let sd = (0.5 * pred.reward_logvar.as_ref().unwrap()[0]).exp();
        assert!((mean - pred.rewards[0]).abs() < 4.0 * sd / (k as f32).sqrt(), "reward sample mean {mean} vs {}", pred.rewards[0]);
    }
}

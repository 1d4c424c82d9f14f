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
    /// the reward's, when the model predicts their log-variances.
    pub fn step(&self, states: &[f32], actions: &[f32], rng: &mut impl Rng) -> Result<ModelStep, LearnError> {
        let dim = self.model.state_dim;
        let n = states.len() / dim.max(1);
        let members = self.model.members();
        let pred = self.model.predict(&vec![states; members], &vec![actions; members])?;
        let mut out =
            ModelStep { next_states: Vec::with_capacity(n * dim), rewards: Vec::with_capacity(n), terminal: Vec::with_capacity(n) };
        for i in 0..n {
            let m = self.elites[rng.random_range(0..self.elites.len())];
            let row = (m * n + i) * dim;
            let mut next: Vec<f32> = pred.next_states[row..row + dim].to_vec();
            if let Some(lv) = &pred.logvar {
                for (d, v) in next.iter_mut().enumerate() {
                    let eps: f32 = StandardNormal.sample(rng);
                    *v += (0.5 * lv[row + d]).exp() * eps;
                }
            }
            let mut reward = pred.rewards[m * n + i];
            if let Some(lv) = &pred.reward_logvar {
                let eps: f32 = StandardNormal.sample(rng);
                reward += (0.5 * lv[m * n + i]).exp() * eps;
            }
            out.terminal.push((self.is_terminal)(&next));
            out.next_states.extend_from_slice(&next);
            out.rewards.push(reward);
        }
        Ok(out)
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

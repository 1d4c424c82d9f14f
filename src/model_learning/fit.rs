//! Training models on one loss against the changing value functions, logging the held-out
//! VAML error `(1/K) Σ_k (V_k(s') − V_k(ŝ'))²` (SAC's K = 4 value functions) with the value
//! function of the moment, and the held-out next-state MSE, for every model at once (one
//! ensemble member per model).

use rand::{RngExt, SeedableRng};

use super::ModelLearningConfig;
use super::data::Transitions;
use crate::learn::AutoDevice;
use crate::learn::dynamics::{DynamicsConfig, DynamicsModel, MemberBatch, MemberReduction};
use crate::learn::losses::{IterVaml, ModelLoss, Mse};
use crate::learn::normalizer::Normalizer;
use crate::learn::sac::Sac;
use crate::learn::value_cache::ValueCache;

/// One measurement: after `step` gradient steps, the VAML error of every model.
#[derive(Debug, Clone, PartialEq)]
pub struct VamlPoint {
    /// Gradient steps done.
    pub step: usize,
    /// Index of the value function in use.
    pub value_function: usize,
    /// Held-out VAML error per model.
    pub errors: Vec<f64>,
    /// Held-out next-state MSE per model (what MSE training minimises), to tell the losses'
    /// trade-offs apart.
    pub mse: Vec<f64>,
}

/// Trains `samples.len()` models (architecture and optimiser from `model`, one member each,
/// member k on `samples[k]`) on `loss` for `values.len() × swap_every` steps and returns the
/// VAML-error curve on `held_out` (measured before the first step too).
#[allow(clippy::too_many_arguments)]
pub fn fit_against_values(
    model: &DynamicsConfig,
    batch_size: usize,
    loss: &dyn ModelLoss,
    values: &[Sac<AutoDevice>],
    samples: &[Transitions],
    held_out: &Transitions,
    config: &ModelLearningConfig,
    seed: u64,
) -> anyhow::Result<Vec<VamlPoint>> {
    let members = samples.len();
    let (s, a) = (held_out.states.len() / held_out.rewards.len(), held_out.actions.len() / held_out.rewards.len());
    let dev = AutoDevice::seed_from_u64(seed);
    let config_m = DynamicsConfig { members, member_reduction: MemberReduction::Mean, seed, ..model.clone() };
    let mut net = DynamicsModel::new(&dev, s, a, &config_m)?;
    let inputs: Vec<f32> = samples
        .iter()
        .flat_map(|t| {
            (0..t.rewards.len()).flat_map(move |i| t.states[i * s..(i + 1) * s].iter().chain(&t.actions[i * a..(i + 1) * a]).copied())
        })
        .collect();
    net.normalizer = Normalizer::fit(&inputs, s + a);
    let held = MemberBatch {
        states: &held_out.states,
        actions: &held_out.actions,
        next_states: &held_out.next_states,
        rewards: &held_out.rewards,
    };
    let held_batches = vec![held; members];
    let vaml = IterVaml { mse_weight: 0.0 };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    // After `step` steps with value function `k` (the cache's).
    let measure_with = |net: &DynamicsModel<AutoDevice>, oracle: &ValueCache, k: usize, step: usize| -> anyhow::Result<VamlPoint> {
        let both = net.member_losses_of(&held_batches, &[(&vaml, Some(oracle)), (&Mse, None)])?;
        let [errors, mse] = [&both[0], &both[1]].map(|stats| stats.iter().map(|t| t.state_loss).collect());
        Ok(VamlPoint { step, value_function: k, errors, mse })
    };
    // The value functions answer at the data's next states (every loss's targets, and the
    // held-out ones) from a cache built once per value function; predictions (IterVAML, the
    // VAML error) still go to the critics.
    let mut targets: Vec<f32> = samples.iter().flat_map(|t| t.next_states.iter().copied()).collect();
    targets.extend_from_slice(&held_out.next_states);
    let oracles: Vec<_> = values.iter().map(|v| v.value_oracle()).collect();
    let mut cache = ValueCache::precompute(&oracles[0], &targets, s);
    let mut cached = 0;
    let mut curve = vec![measure_with(&net, &cache, 0, 0)?];
    let total = values.len() * config.swap_every;
    let mut gathered: Vec<Transitions> = vec![Transitions::default(); members];
    for step in 0..total {
        let k = step / config.swap_every;
        for (g, t) in gathered.iter_mut().zip(samples) {
            let n = t.rewards.len();
            *g = Transitions::default();
            for _ in 0..batch_size.min(n) {
                let i = rng.random_range(0..n);
                g.states.extend_from_slice(&t.states[i * s..(i + 1) * s]);
                g.actions.extend_from_slice(&t.actions[i * a..(i + 1) * a]);
                g.next_states.extend_from_slice(&t.next_states[i * s..(i + 1) * s]);
                g.rewards.push(t.rewards[i]);
            }
        }
        let batches: Vec<MemberBatch> = gathered
            .iter()
            .map(|g| MemberBatch { states: &g.states, actions: &g.actions, next_states: &g.next_states, rewards: &g.rewards })
            .collect();
        if k != cached {
            cache = ValueCache::precompute(&oracles[k], &targets, s);
            cached = k;
        }
        let stats = net.train_step(&batches, loss, Some(&cache))?;
        if !stats.state_loss.is_finite() {
            anyhow::bail!("model step {}: the loss went non-finite ({}) with value function {k}", step + 1, stats.state_loss);
        }
        let done = step + 1;
        if done % config.log_every.max(1) == 0 || done == total {
            // After the last step of a value function, the error is measured with it; the next
            // measurement uses the one that follows.
            curve.push(measure_with(&net, &cache, k, done)?);
        }
    }
    Ok(curve)
}

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
    /// Per model, the units of its first ReLU hidden layer that no held-out input activates
    /// ("dead": they pass no gradient, so training cannot revive them); NaN for a model without
    /// a ReLU hidden layer.
    pub dead_units: Vec<f64>,
}

/// The dead first-layer ReLU units of every member of `net` on the normalised inputs `x`
/// (`N × (S + A)` rows): units whose pre-activation is ≤ 0 on every row.
fn dead_units(net: &DynamicsModel<AutoDevice>, x: &[f32]) -> Vec<f64> {
    let members = net.members();
    let layers = net.net.layers();
    if net.net.activation != crate::learn::Activation::Relu || layers.len() < 2 {
        return vec![f64::NAN; members];
    }
    let (width_in, units) = layers[0].dims();
    let (w, b) = (layers[0].weight.as_vec(), layers[0].bias.as_vec());
    (0..members)
        .map(|m| {
            let alive = |j: usize| {
                x.chunks(width_in).any(|row| {
                    let pre: f32 = row.iter().enumerate().map(|(i, xi)| xi * w[(m * width_in + i) * units + j]).sum();
                    pre + b[m * units + j] > 0.0
                })
            };
            (0..units).filter(|&j| !alive(j)).count() as f64
        })
        .collect()
}

/// Trains `samples.len()` models (architecture and optimiser from `model`, one member each,
/// member k on `samples[k]`) on `loss` for `values.len() × swap_every` steps and returns the
/// VAML-error curve on `held_out` (measured before the first step too) into `curve`, which keeps
/// what was measured when the fit stops early (a non-finite prediction, a stop signal). `progress`
/// gets the latest measurement each time a value function's steps are done (a cell takes
/// minutes). A stop signal ([`crate::train::stop`]) ends it with an error before the next step.
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
    progress: &dyn Fn(&VamlPoint),
    curve: &mut Vec<VamlPoint>,
) -> anyhow::Result<()> {
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
    let mut held_inputs: Vec<f32> = (0..held_out.rewards.len())
        .flat_map(|i| held_out.states[i * s..(i + 1) * s].iter().chain(&held_out.actions[i * a..(i + 1) * a]).copied())
        .collect();
    net.normalizer.apply(&mut held_inputs);
    let vaml = IterVaml { mse_weight: 0.0 };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    // After `step` steps with value function `k` (the cache's).
    let measure_with = |net: &DynamicsModel<AutoDevice>, oracle: &ValueCache, k: usize, step: usize| -> anyhow::Result<VamlPoint> {
        let both = net.member_losses_of(&held_batches, &[(&vaml, Some(oracle)), (&Mse, None)])?;
        let [errors, mse] = [&both[0], &both[1]].map(|stats| stats.iter().map(|t| t.state_loss).collect());
        Ok(VamlPoint { step, value_function: k, errors, mse, dead_units: dead_units(net, &held_inputs) })
    };
    // The value functions answer at the data's next states (every loss's targets, and the
    // held-out ones) from a cache built once per value function; predictions (IterVAML, the
    // VAML error) still go to the critics.
    let mut targets: Vec<f32> = samples.iter().flat_map(|t| t.next_states.iter().copied()).collect();
    targets.extend_from_slice(&held_out.next_states);
    let oracles: Vec<_> = values.iter().map(|v| v.value_oracle()).collect();
    let mut cache = ValueCache::precompute(&oracles[0], &targets, s);
    let mut cached = 0;
    curve.clear();
    curve.push(measure_with(&net, &cache, 0, 0)?);
    let total = values.len() * config.swap_every;
    let mut gathered: Vec<Transitions> = vec![Transitions::default(); members];
    for step in 0..total {
        if let Some(signal) = crate::train::stop::requested() {
            anyhow::bail!("interrupted by {signal} at model step {step}");
        }
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
        if done % config.swap_every.max(1) == 0 {
            progress(curve.last().expect("measured before the first step"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::Activation;
    use crate::learn::dfdx::prelude::TensorFromVec;

    #[test]
    fn a_unit_no_input_activates_is_dead_and_only_relu_nets_have_them() {
        let dev = AutoDevice::seed_from_u64(0);
        let config = DynamicsConfig { members: 2, hidden: vec![4], activation: Activation::Relu, ..DynamicsConfig::default() };
        let mut net = DynamicsModel::new(&dev, 2, 1, &config).unwrap();
        // Member 1's units 0 and 3: zero weights and a negative bias, so never positive.
        let layer = &mut net.net.layers_mut()[0];
        let (mut w, mut b) = (layer.weight.as_vec(), layer.bias.as_vec());
        for j in [0, 3] {
            for i in 0..3 {
                w[(3 + i) * 4 + j] = 0.0;
            }
            b[4 + j] = -0.5;
        }
        // Every other unit gets a positive bias, so some input activates it.
        for (k, v) in b.iter_mut().enumerate() {
            if k != 4 && k != 7 {
                *v = 10.0;
            }
        }
        layer.weight = dev.tensor_from_vec(w, (2, 3, 4));
        layer.bias = dev.tensor_from_vec(b, (2, 4));
        let x: Vec<f32> = (0..30).map(|k| (k as f32 * 0.37).sin()).collect();
        assert_eq!(dead_units(&net, &x), [0.0, 2.0]);
        let silu = DynamicsConfig { activation: Activation::Silu, ..config.clone() };
        assert!(dead_units(&DynamicsModel::new(&dev, 2, 1, &silu).unwrap(), &x).iter().all(|d| d.is_nan()));
        let linear = DynamicsConfig { hidden: vec![], ..config };
        assert!(dead_units(&DynamicsModel::new(&dev, 2, 1, &linear).unwrap(), &x).iter().all(|d| d.is_nan()));
    }
}

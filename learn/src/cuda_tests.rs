//! The CUDA device against the CPU (built only with the `cuda` feature, run on a GPU machine;
//! the CPU side runs its fast path, the GPU dfdx's autodiff graph):
//! the same seeds give the same networks on both devices, so every learning primitive must give
//! the same numbers up to float rounding — the batched ensemble forward and backward pass, the
//! input gradients VaGraM reads, a dynamics-model fit with VaGraM and with the Gaussian NLL, and
//! SAC updates (whose noise is drawn on the host).

use dfdx::prelude::*;
use rand::{RngExt, SeedableRng};

use super::dynamics::{DynamicsConfig, DynamicsModel, MemberBatch};
use super::losses::{GaussianNll, ModelLoss, Vagram};
use super::replay::ReplayBuffer;
use super::sac::{Sac, SacConfig};
use super::value_grad::critic_value_gradients;
use super::{Activation, EnsembleMlp};

fn close(what: &str, a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let scale = 1.0f32.max(x.abs()).max(y.abs());
        assert!((x - y).abs() <= tol * scale, "{what}[{i}]: cpu {x} vs cuda {y}");
    }
}

fn random(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

#[test]
fn ensemble_forward_and_gradients_match_the_cpu() {
    let (cpu, gpu) = (Cpu::seed_from_u64(0), Cuda::seed_from_u64(0));
    let (e, b, i, o) = (7, 256, 14, 12);
    let a = EnsembleMlp::new(&cpu, e, i, &[200; 4], o, Activation::Silu, 3);
    let g = EnsembleMlp::new(&gpu, e, i, &[200; 4], o, Activation::Silu, 3);
    let x = random(e * b * i, 1);
    // The CPU runs its fast path, the GPU dfdx's graph.
    close("outputs", &a.infer(&x), &g.infer(&x), 1e-4);
    let d_out = random(e * b * o, 2);
    let ga = a.backprop_output_gradient(&x, &d_out);
    let gg = g.backprop_output_gradient(&x, &d_out);
    for (l, (la, lg)) in a.layers().iter().zip(g.layers()).enumerate() {
        close(&format!("layer {l} weight gradient"), &ga.get(&la.weight).as_vec(), &gg.get(&lg.weight).as_vec(), 1e-3);
        close(&format!("layer {l} bias gradient"), &ga.get(&la.bias).as_vec(), &gg.get(&lg.bias).as_vec(), 1e-3);
    }
}

#[test]
fn value_gradients_match_the_cpu() {
    let (cpu, gpu) = (Cpu::seed_from_u64(0), Cuda::seed_from_u64(0));
    let (obs, act, n) = (11, 3, 256);
    let a = EnsembleMlp::new(&cpu, 2, obs + act, &[256, 256], 1, Activation::Relu, 5);
    let g = EnsembleMlp::new(&gpu, 2, obs + act, &[256, 256], 1, Activation::Relu, 5);
    let (s, u) = (random(n * obs, 6), random(n * act, 7));
    let va = critic_value_gradients(&a, &s, &u, obs, act);
    let vg = critic_value_gradients(&g, &s, &u, obs, act);
    for k in 0..2 {
        close(&format!("V_{k}"), &va.values[k], &vg.values[k], 1e-4);
        close(&format!("dV_{k}/ds"), &va.grads[k], &vg.grads[k], 1e-3);
    }
}

fn transitions(n: usize, s: usize, a: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let (states, actions) = (random(n * s, 10), random(n * a, 11));
    let next: Vec<f32> = states.iter().enumerate().map(|(i, x)| x + 0.1 * actions[(i / s) * a + i % a].sin()).collect();
    let rewards = (0..n).map(|i| -states[i * s].powi(2)).collect();
    (states, actions, next, rewards)
}

fn fit_losses<D: super::MlpKernels>(dev: &D, loss: &dyn ModelLoss, probabilistic: bool, sac: Option<&Sac<D>>) -> Vec<f64> {
    let (s, a, n) = (11, 3, 256);
    let config = DynamicsConfig { members: 7, hidden: vec![200; 4], probabilistic, seed: 4, ..DynamicsConfig::default() };
    let mut model = DynamicsModel::new(dev, s, a, &config).expect("valid model");
    let (states, actions, next, rewards) = transitions(n, s, a);
    let batch = MemberBatch { states: &states, actions: &actions, next_states: &next, rewards: &rewards };
    let batches = vec![batch; 7];
    let oracle = sac.map(|x| x.value_oracle());
    (0..20)
        .map(|_| {
            let stats = model.train_step(&batches, loss, oracle.as_ref().map(|o| o as &dyn super::losses::ValueOracle)).expect("finite");
            stats.state_loss + stats.reward_loss
        })
        .collect()
}

fn sac_config() -> SacConfig {
    SacConfig { hidden: vec![256, 256], ..SacConfig::default() }
}

#[test]
fn model_fits_with_vagram_and_nll_match_the_cpu() {
    let (cpu, gpu) = (Cpu::seed_from_u64(0), Cuda::seed_from_u64(0));
    let (sa, sg) = (Sac::new(&cpu, 11, 3, sac_config()), Sac::new(&gpu, 11, 3, sac_config()));
    let vagram = Vagram::default();
    let (la, lg) = (fit_losses(&cpu, &vagram, false, Some(&sa)), fit_losses(&gpu, &vagram, false, Some(&sg)));
    let to32 = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<_>>();
    close("VaGraM fit losses", &to32(&la), &to32(&lg), 2e-3);
    assert!(la[19] < la[0], "the VaGraM fit makes progress: {la:?}");
    let (na, ng) = (fit_losses(&cpu, &GaussianNll, true, None), fit_losses(&gpu, &GaussianNll, true, None));
    close("NLL fit losses", &to32(&na), &to32(&ng), 2e-3);
}

#[test]
fn sac_updates_match_the_cpu() {
    let (cpu, gpu) = (Cpu::seed_from_u64(0), Cuda::seed_from_u64(0));
    let (mut a, mut g) = (Sac::new(&cpu, 11, 3, sac_config()), Sac::new(&gpu, 11, 3, sac_config()));
    let (states, actions, next, rewards) = transitions(1024, 11, 3);
    let mut buffer = ReplayBuffer::new(1024, 11, 3);
    for i in 0..1024 {
        buffer.push(&states[i * 11..][..11], &actions[i * 3..][..3], rewards[i], &next[i * 11..][..11], false);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for step in 0..30 {
        let batch = buffer.sample(256, &mut rng);
        let (x, y) = (a.update(&batch), g.update(&batch));
        let what = format!("update {step}: critic, actor loss, alpha");
        close(
            &what,
            &[x.critic_loss as f32, x.actor_loss as f32, a.alpha()],
            &[y.critic_loss as f32, y.actor_loss as f32, g.alpha()],
            5e-3,
        );
    }
    let obs = &states[..11 * 8];
    close("deterministic actions after 30 updates", &a.act(obs, true), &g.act(obs, true), 5e-3);
}

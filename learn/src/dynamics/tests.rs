//! The dynamics model learns known systems with MSE, VaGraM and NLL, and rejects bad batches.

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

use super::*;
use crate::TestDevice;
use crate::losses::{Vagram, loss_by_name};
use crate::value_grad::ValueGradients;

const S: usize = 3;
const A: usize = 1;

/// Transitions of s' = s + 0.1·(M s + b a) + noise, r = s0 − 0.5 a² + 3·noise.
fn data(n: usize, noise: f32, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let gauss = Normal::new(0.0f32, noise.max(1e-12)).unwrap();
    let (mut s, mut a, mut s2, mut r) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let x: [f32; S] = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        let u: f32 = rng.random_range(-1.0..1.0);
        let next = [x[0] + 0.1 * (x[1] + u), x[1] + 0.1 * (-x[0] + 0.5 * x[2]), x[2] + 0.1 * (-0.3 * x[2] - u)];
        s.extend(x);
        a.push(u);
        s2.extend(next.iter().map(|v| v + if noise > 0.0 { gauss.sample(&mut rng) } else { 0.0 }));
        r.push(x[0] - 0.5 * u * u + if noise > 0.0 { 3.0 * gauss.sample(&mut rng) } else { 0.0 });
    }
    (s, a, s2, r)
}

fn model(members: usize, probabilistic: bool) -> DynamicsModel<TestDevice> {
    let config = DynamicsConfig {
        members,
        hidden: vec![32, 32],
        probabilistic,
        adam: AdamConfig { lr: 3e-3, ..AdamConfig::default() },
        ..DynamicsConfig::default()
    };
    DynamicsModel::new(&TestDevice::seed_from_u64(0), S, A, &config).unwrap()
}

/// Trains on minibatches of 64 (every member on the same batch) and returns the final stats
/// on the whole data set.
fn fit(
    model: &mut DynamicsModel<TestDevice>,
    loss: &dyn ModelLoss,
    values: Option<&dyn ValueOracle>,
    steps: usize,
    noise: f32,
) -> Vec<TrainStats> {
    let (s, a, s2, r) = data(512, noise, 1);
    model.normalizer = Normalizer::fit(
        &s.chunks(S).zip(a.chunks(A)).flat_map(|(x, u)| x.iter().chain(u).copied().collect::<Vec<_>>()).collect::<Vec<_>>(),
        S + A,
    );
    let e = model.members();
    for t in 0..steps {
        let lo = (t * 64) % 512;
        let batch = MemberBatch {
            states: &s[lo * S..(lo + 64) * S],
            actions: &a[lo..lo + 64],
            next_states: &s2[lo * S..(lo + 64) * S],
            rewards: &r[lo..lo + 64],
        };
        model.train_step(&vec![batch; e], loss, values).unwrap();
    }
    let whole = MemberBatch { states: &s, actions: &a, next_states: &s2, rewards: &r };
    model.member_losses(&vec![whole; e], &Mse, None).unwrap()
}

use crate::losses::Mse;

#[test]
fn a_model_on_plain_sgd_learns_and_leaves_adam_untouched() {
    // A linear model: plain SGD converges on it at a learning rate Adam would also take.
    let config = DynamicsConfig {
        members: 2,
        hidden: vec![],
        optimizer: Optimizer::Sgd,
        adam: AdamConfig { lr: 0.05, ..AdamConfig::default() },
        ..DynamicsConfig::default()
    };
    let mut m = DynamicsModel::new(&TestDevice::seed_from_u64(0), S, A, &config).unwrap();
    let before = fit(&mut m, &Mse, None, 0, 0.0);
    let after = fit(&mut m, &Mse, None, 1500, 0.0);
    for (b, a) in before.iter().zip(&after) {
        assert!(a.state_loss < b.state_loss / 20.0, "state mse {} → {}", b.state_loss, a.state_loss);
    }
    assert_eq!(m.adam.t, 0, "no Adam step was taken");
    assert_eq!(m.steps, 1500);
}

#[test]
fn deterministic_model_learns_a_linear_system_with_mse() {
    let mut m = model(3, false);
    let before = fit(&mut m, &Mse, None, 0, 0.0);
    let after = fit(&mut m, &Mse, None, 1500, 0.0);
    for (b, a) in before.iter().zip(&after) {
        assert!(a.state_loss < 2e-5 && a.state_loss < b.state_loss / 100.0, "state mse {} → {}", b.state_loss, a.state_loss);
        assert!(a.reward_loss < 1e-3, "reward mse {}", a.reward_loss);
    }
}

/// V(s) = w·s.
struct Linear([f32; S]);

impl ValueOracle for Linear {
    fn evaluate(&self, states: &[f32]) -> ValueGradients {
        ValueGradients {
            values: vec![states.chunks(S).map(|x| x.iter().zip(&self.0).map(|(a, b)| a * b).sum()).collect()],
            grads: vec![states.chunks(S).flat_map(|_| self.0).collect()],
        }
    }
}

#[test]
fn vagram_spends_accuracy_where_the_value_gradient_is_large() {
    // A 2-unit hidden layer cannot represent all three state changes, so the dimensions compete
    // for it: VaGraM must spend it on the dimension the value function cares about. (A linear
    // model would not show this: each output has its own weights and Adam is invariant to a
    // per-output gradient scale.)
    let values = Linear([3.0, 0.05, 0.05]);
    let per_dim = |loss: &dyn ModelLoss| {
        let mut m = model(1, false);
        m.net = EnsembleMlp::new(&TestDevice::default(), 1, S + A, &[2], S + 1, Activation::Silu, 5);
        m.adam = Adam::new(&m.net, AdamConfig { lr: 3e-3, ..AdamConfig::default() });
        fit(&mut m, loss, Some(&values), 1500, 0.0);
        let (s, a, s2, _) = data(512, 0.0, 1);
        let p = m.predict(&[&s], &[&a]).unwrap().next_states;
        (0..S).map(|d| (0..512).map(|i| ((p[i * S + d] - s2[i * S + d]) as f64).powi(2)).sum::<f64>() / 512.0).collect::<Vec<_>>()
    };
    let mse = per_dim(&Mse);
    let vagram = per_dim(&Vagram { clip_percentile: 100.0, ..Vagram::default() });
    eprintln!("per-dimension squared error: mse {mse:?}, vagram {vagram:?}");
    assert!(vagram[0] < 0.5 * mse[0], "dim 0 error: vagram {} vs mse {}", vagram[0], mse[0]);
}

#[test]
fn probabilistic_model_learns_the_noise_variance() {
    let mut m = model(2, true);
    let nll = loss_by_name("mle").unwrap();
    fit(&mut m, nll.as_ref(), None, 2500, 0.1);
    let (s, a, _, _) = data(256, 0.1, 7);
    let lv = m.predict(&[&s, &s], &[&a, &a]).unwrap().logvar.unwrap();
    let mean = lv.iter().sum::<f32>() / lv.len() as f32;
    // Noise std 0.1: log variance ln(0.01) = -4.6.
    assert!((mean - (-4.6)).abs() < 0.5, "mean predicted log variance {mean}");
    let bounds = m.bounds.as_ref().unwrap();
    assert!(lv.iter().all(|v| *v >= bounds.min[0] - 1e-3), "within the learned bounds");
}

#[test]
fn probabilistic_model_learns_the_reward_noise_variance() {
    let mut m = model(2, true);
    let nll = loss_by_name("mle").unwrap();
    fit(&mut m, nll.as_ref(), None, 2500, 0.1);
    let (s, a, _, _) = data(256, 0.1, 7);
    let lv = m.predict(&[&s, &s], &[&a, &a]).unwrap().reward_logvar.unwrap();
    assert_eq!(lv.len(), 2 * 256);
    let mean = lv.iter().sum::<f32>() / lv.len() as f32;
    // Reward noise std 0.3: log variance ln(0.09) = -2.4 (the states' is -4.6).
    assert!((mean - (-2.4)).abs() < 0.5, "mean predicted reward log variance {mean}");
}

#[test]
fn likelihood_gradient_is_the_mean_nll_over_states_and_reward() {
    // Finite differences of the authors' objective, written out here on its own: per member the
    // Gaussian NLL `(μ − y)² e^(−lv) + lv` averaged over every output (state dims and reward),
    // then averaged over the members (this model's reduction).
    let (e, b) = (2, 4);
    let mut m = model(e, true);
    let nll = loss_by_name("mle").unwrap();
    fit(&mut m, nll.as_ref(), None, 50, 0.1);
    let (s, a, s2, r) = data(b, 0.1, 3);
    let batch = MemberBatch { states: &s, actions: &a, next_states: &s2, rewards: &r };
    let batches = vec![batch; e];
    let (states, actions) = (vec![&s[..]; e], vec![&a[..]; e]);
    let raw = m.net.infer(&m.inputs(&states, &actions).unwrap());
    let objective = |raw: &[f32]| -> f64 {
        let (p, _) = m.split(&states, raw);
        let (lv, rlv) = (p.logvar.unwrap(), p.reward_logvar.unwrap());
        let nll = |mu: f32, y: f32, lv: f32| ((mu - y) as f64).powi(2) * (-lv as f64).exp() + lv as f64;
        let mut total = 0.0;
        for k in 0..e {
            for i in 0..b {
                for d in 0..S {
                    let j = (k * b + i) * S + d;
                    total += nll(p.next_states[j], s2[i * S + d], lv[j]);
                }
                total += nll(p.rewards[k * b + i], r[i], rlv[k * b + i]);
            }
        }
        total / (b * (S + 1) * e) as f64
    };
    let (d_out, ..) = m.output_gradient(&batches, &states, &raw, nll.as_ref(), None).unwrap();
    let out = 2 * (S + 1);
    for row in [0, 3, b + 1, 2 * b - 1] {
        for col in [0, S - 1, S, S + 1, 2 * S, 2 * S + 1] {
            let k = row * out + col;
            let h = 1e-2;
            let (mut up, mut down) = (raw.clone(), raw.clone());
            up[k] += h;
            down[k] -= h;
            let fd = (objective(&up) - objective(&down)) / (2.0 * h as f64);
            let tol = 1e-3 * fd.abs().max(0.1);
            assert!((d_out[k] as f64 - fd).abs() < tol, "row {row} col {col}: analytic {} vs fd {fd}", d_out[k]);
        }
    }
}

#[test]
fn non_finite_batches_are_reported_with_tensor_and_step() {
    let mut m = model(2, false);
    let (s, a, s2, r) = data(8, 0.0, 2);
    let ok = MemberBatch { states: &s, actions: &a, next_states: &s2, rewards: &r };
    m.train_step(&[ok, ok], &Mse, None).unwrap();
    let mut s2_bad = s2.clone();
    s2_bad[5] = f32::NAN;
    let bad = MemberBatch { states: &s, actions: &a, next_states: &s2_bad, rewards: &r };
    let err = m.train_step(&[ok, bad], &Mse, None).unwrap_err().to_string();
    assert!(err.contains("member 1 next states") && err.contains("NaN") && err.contains("step 1"), "{err}");
    let mut a2 = a.clone();
    a2[0] = f32::INFINITY;
    let err = m.predict(&[&s, &s], &[&a2, &a2]).unwrap_err().to_string();
    assert!(err.contains("model inputs") && err.contains("inf"), "{err}");
}

#[test]
fn mis_sized_batches_and_models_are_rejected() {
    let m = model(2, false);
    let (s, a, _, _) = data(8, 0.0, 3);
    let err = m.predict(&[&s], &[&a]).unwrap_err().to_string();
    assert!(err.contains("member batches: expected 2, got 1"), "{err}");
    let err = m.predict(&[&s, &s[..6]], &[&a, &a]).unwrap_err().to_string();
    assert!(err.contains("member 1 states"), "{err}");
    let err = DynamicsModel::new(&TestDevice::default(), 0, 1, &DynamicsConfig::default()).err().unwrap().to_string();
    assert!(err.contains("state dimension"), "{err}");
}

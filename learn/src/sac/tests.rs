//! SAC on one-step problems with known answers (γ = 0, so Q is the reward).

use rand::{RngExt, SeedableRng};

use super::*;
use crate::TestDevice;
use crate::replay::ReplayBuffer;

fn agent(fixed_alpha: Option<f32>) -> Sac<TestDevice> {
    let config = SacConfig {
        hidden: vec![64, 64],
        gamma: 0.0,
        fixed_alpha,
        actor_lr: 1e-3,
        critic_lr: 1e-3,
        alpha_lr: 1e-2,
        ..SacConfig::default()
    };
    Sac::new(&TestDevice::seed_from_u64(0), 2, 1, config)
}

/// Bandit-like data: reward −(a − 0.5)² whatever the state.
fn bandit(n: usize) -> ReplayBuffer {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut buf = ReplayBuffer::new(n, 2, 1);
    for _ in 0..n {
        let s = [rng.random_range(-1.0f32..1.0), rng.random_range(-1.0f32..1.0)];
        let a: f32 = rng.random_range(-1.0..1.0);
        buf.push(&s, &[a], -(a - 0.5) * (a - 0.5), &s, false);
    }
    buf
}

#[test]
fn critics_learn_q_and_actor_climbs_it() {
    let mut sac = agent(Some(0.01));
    let buf = bandit(2048);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let mut last = None;
    for _ in 0..1500 {
        last = Some(sac.update(&buf.sample(128, &mut rng)));
    }
    let stats = last.unwrap();
    assert!(stats.critic_loss < 2e-3, "critic loss {}", stats.critic_loss);
    let obs = [0.3f32, -0.2, -0.7, 0.9];
    for a in sac.act(&obs, true) {
        assert!((a - 0.5).abs() < 0.1, "deterministic action {a}, optimum 0.5");
    }
    // Q at the optimum beats Q far from it.
    let q = sac.critics.infer(&sac.critic_input(&[0.3, -0.2, 0.3, -0.2], &[0.5, -0.8]));
    assert!(q[0] > q[1] + 0.5 && q[2] > q[3] + 0.5, "{q:?}");
}

/// Zero reward everywhere.
fn flat_rewards() -> ReplayBuffer {
    let mut buf = ReplayBuffer::new(256, 2, 1);
    for i in 0..256 {
        let s = [i as f32 / 256.0, 0.0];
        buf.push(&s, &[0.0], 0.0, &s, false);
    }
    buf
}

#[test]
fn with_a_flat_reward_the_actor_maximises_entropy() {
    let mut sac = agent(Some(1.0));
    let buf = flat_rewards();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let first = sac.update(&buf.sample(64, &mut rng)).entropy;
    let mut last = first;
    for _ in 0..300 {
        last = sac.update(&buf.sample(64, &mut rng)).entropy;
    }
    // The widest tanh-squashed Gaussian on [-1, 1] has entropy a little below ln 2 ≈ 0.69.
    assert!(last > first + 0.3 && last < 0.7, "entropy {first} → {last}");
}

#[test]
fn temperature_falls_while_entropy_exceeds_its_target() {
    let mut sac = agent(None);
    let buf = flat_rewards();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for _ in 0..30 {
        let stats = sac.update(&buf.sample(64, &mut rng));
        assert!(stats.entropy > -1.0, "the initial policy is wider than the target entropy -|A|");
    }
    assert!(sac.alpha() < 0.8, "α should have fallen from 1, is {}", sac.alpha());
}

#[test]
fn sac_is_deterministic_for_a_seed_and_exposes_four_value_functions() {
    let buf = bandit(256);
    let run = || {
        let mut sac = agent(None);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for _ in 0..20 {
            sac.update(&buf.sample(32, &mut rng));
        }
        sac
    };
    let (a, b) = (run(), run());
    assert_eq!(a.actor.layers()[0].weight.as_vec(), b.actor.layers()[0].weight.as_vec());
    assert_eq!(a.target_critics.layers()[1].weight.as_vec(), b.target_critics.layers()[1].weight.as_vec());
    assert_ne!(a.target_critics.layers()[1].weight.as_vec(), a.critics.layers()[1].weight.as_vec(), "targets lag");
    let vg = a.value_oracle().evaluate(&[0.1, 0.2, -0.3, 0.4]);
    assert_eq!(vg.values.len(), 4, "two critics and two target critics");
    assert!(vg.grads.iter().all(|g| g.len() == 4 && g.iter().all(|v| v.is_finite())));
}

#[test]
fn value_oracle_answers_each_state_independently_of_its_batch() {
    // `ValueCache` relies on this: a state's values and gradients do not depend on the other
    // rows of its batch, alone, in a small batch or in a large one (blocks cut differently).
    // The gemm kernel sums in a different order for some shapes (a single row, tiny products),
    // so the answers agree to float rounding, not to the bit; a row that leaked into another
    // would be off by far more.
    let sac = Sac::new(&TestDevice::seed_from_u64(3), 5, 2, SacConfig { hidden: vec![96, 96], seed: 2, ..SacConfig::default() });
    let states: Vec<f32> = (0..5 * 300).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect();
    let all = sac.value_oracle().evaluate(&states);
    let close = |a: &[f32], b: &[f32], what: &str| {
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-5 * scale, "{what}, element {i}: {x} alone vs {y} in the full batch");
        }
    };
    for (start, rows) in [(0, 1), (7, 3), (100, 129), (171, 129)] {
        let part = sac.value_oracle().evaluate(&states[start * 5..(start + rows) * 5]);
        for k in 0..4 {
            close(&part.values[k], &all.values[k][start..start + rows], &format!("values of function {k}, rows {start}.."));
            close(&part.grads[k], &all.grads[k][start * 5..(start + rows) * 5], &format!("gradients of function {k}, rows {start}.."));
        }
    }
}

/// The actor loss built as dfdx's autodiff graph (how it was first written): the reference the
/// host-side chain rule in `Sac::actor_gradients` is checked against.
fn graph_actor_loss(sac: &Sac<TestDevice>, obs: &[f32], noise: Vec<f32>, alpha: f32) -> (f32, Gradients<f32, TestDevice>) {
    use crate::ensemble::Tensor3;
    let dev = TestDevice::seed_from_u64(9);
    let (n, a, o) = (obs.len() / sac.obs_dim, sac.action_dim, sac.obs_dim);
    let eps: Tensor3<TestDevice> = dev.tensor_from_vec(noise, (1, n, a));
    let x: Tensor3<TestDevice> = dev.tensor_from_vec(obs.to_vec(), (1, n, o));
    let (out, tape) = sac.actor.forward(x.traced(Gradients::leaky())).split_tape();
    let (mean, tape) = out.clone().put_tape(tape).slice((.., .., 0..a)).split_tape();
    let half = 0.5 * (LOG_STD_MAX - LOG_STD_MIN);
    let log_std = out.put_tape(tape).slice((.., .., a..2 * a)).tanh() * half + (LOG_STD_MIN + half);
    let (log_std, tape) = log_std.split_tape();
    let u = log_std.clone().put_tape(tape).exp() * eps.clone() + mean;
    let (action, tape) = u.tanh().split_tape();
    let squash = (action.clone().put_tape(tape).square().negate() + (1.0 + 1e-6)).ln();
    let gauss_const: Tensor3<TestDevice> = (eps.square() * -0.5) - 0.5 * (2.0 * std::f32::consts::PI).ln();
    let log_pi = (squash.negate() - log_std + gauss_const).sum::<(usize, usize), Axis<2>>().reshape_like(&(n,));
    let (log_pi, tape) = log_pi.split_tape();
    let (entropy_term, tape) = (log_pi.put_tape(tape) * alpha).split_tape();
    let action = action.put_tape(tape).reshape_like(&(n, a));
    let state: Tensor<(usize, usize), f32, TestDevice> = dev.tensor_from_vec(obs.to_vec(), (n, o));
    let sa = (state.retaped::<OwnedTape<f32, TestDevice>>(), action).concat_along(Axis::<1>);
    let sa = sa.broadcast_like::<_, Axis<0>>(&(2, n, o + a)).contiguous();
    let q = sac.critics.forward(sa).min::<(usize, usize), Axis<0>>().reshape_like(&(n,));
    let loss = (q.negate() + entropy_term).mean::<Rank0, _>();
    let value = loss.as_vec()[0];
    (value, loss.backward())
}

#[test]
fn actor_gradients_equal_the_autodiff_graph() {
    let mut sac = Sac::new(&TestDevice::seed_from_u64(0), 3, 2, SacConfig { hidden: vec![32, 32], seed: 5, ..SacConfig::default() });
    let obs: Vec<f32> = (0..3 * 40).map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.15).collect();
    for alpha in [0.2f32, 0.01] {
        let noise: Vec<f32> = {
            let mut rng = sac.rng.clone();
            (0..40 * 2).map(|_| StandardNormal.sample(&mut rng)).collect()
        };
        let (want_loss, want) = graph_actor_loss(&sac, &obs, noise, alpha);
        let (loss, _, got) = sac.actor_gradients(&obs, alpha);
        assert!((loss - want_loss).abs() < 1e-4 * (1.0 + want_loss.abs()), "loss {loss} vs graph {want_loss}");
        for (l, layer) in sac.actor.layers().iter().enumerate() {
            for (what, g, w) in [
                ("weight", got.get(&layer.weight).as_vec(), want.get(&layer.weight).as_vec()),
                ("bias", got.get(&layer.bias).as_vec(), want.get(&layer.bias).as_vec()),
            ] {
                let scale = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                for (i, (g, w)) in g.iter().zip(&w).enumerate() {
                    assert!((g - w).abs() <= 1e-4 * scale + 1e-7, "α {alpha} layer {l} {what}[{i}]: {g} vs graph {w}");
                }
            }
        }
    }
}

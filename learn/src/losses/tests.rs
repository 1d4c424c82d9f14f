//! Properties of the model losses: gradients against finite differences, VaGraM = MSE under
//! unit value gradients, VaGraM's unique minimum at s', the Taylor loss's flat directions, NLL
//! against the Gaussian density, the percentile clip, the value weights by hand.

use super::*;
use crate::value_grad::ValueGradients;

/// Two smooth value functions with analytic gradients.
struct Analytic;

impl ValueOracle for Analytic {
    fn evaluate(&self, states: &[f32]) -> ValueGradients {
        let dim = 3;
        let (a, b) = ([1.3f32, -0.7, 2.1], [0.5f32, 1.5, -0.8]);
        let mut values = vec![Vec::new(), Vec::new()];
        let mut grads = vec![Vec::new(), Vec::new()];
        for s in states.chunks(dim) {
            let sum: f32 = s.iter().sum();
            values[0].push((0..dim).map(|d| (a[d] * s[d]).sin()).sum::<f32>() + 0.3 * sum * sum);
            grads[0].extend((0..dim).map(|d| a[d] * (a[d] * s[d]).cos() + 0.6 * sum));
            values[1].push((0..dim).map(|d| b[d] * s[d] * s[d]).sum());
            grads[1].extend((0..dim).map(|d| 2.0 * b[d] * s[d]));
        }
        ValueGradients { values, grads }
    }
}

/// V(s) = w · s: constant gradient `w`.
struct Linear(Vec<f32>);

impl ValueOracle for Linear {
    fn evaluate(&self, states: &[f32]) -> ValueGradients {
        let d = self.0.len();
        let values = states.chunks(d).map(|s| s.iter().zip(&self.0).map(|(x, w)| x * w).sum()).collect();
        let grads = states.chunks(d).flat_map(|_| self.0.iter().copied()).collect();
        ValueGradients { values: vec![values], grads: vec![grads] }
    }
}

fn batch(n: usize, seed: u32) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let f = |i: usize, k: u32| (((i as u32 * 2654435761u32).wrapping_add(k * 97 + seed * 13)) % 1000) as f32 / 500.0 - 1.0;
    let state: Vec<f32> = (0..n * 3).map(|i| f(i, 1)).collect();
    let target: Vec<f32> = (0..n * 3).map(|i| state[i] + 0.3 * f(i, 2)).collect();
    let pred: Vec<f32> = (0..n * 3).map(|i| target[i] + 0.2 * f(i, 3)).collect();
    let logvar: Vec<f32> = (0..n * 3).map(|i| -1.0 + f(i, 4)).collect();
    (state, pred, target, logvar)
}

fn eval(loss: &dyn ModelLoss, state: &[f32], pred: &[f32], target: &[f32], logvar: &[f32], oracle: &dyn ValueOracle) -> LossEval {
    let inputs = LossInputs { state, pred, target, logvar: Some(logvar), dim: 3, values: Some(oracle) };
    loss.evaluate(&inputs).unwrap()
}

#[test]
fn every_loss_gradient_matches_finite_differences() {
    let (state, pred, target, logvar) = batch(16, 1);
    for &name in LOSS_NAMES {
        let loss = loss_by_name(name).unwrap();
        let base = eval(loss.as_ref(), &state, &pred, &target, &logvar, &Analytic);
        // Every loss but the NLL (negative when log-variances are) is positive off the data.
        assert!(base.value.is_finite() && (name == "mle" || base.value > 0.0), "{name}: {}", base.value);
        let scale = base.d_pred.iter().fold(0.0f32, |m, g| m.max(g.abs()));
        let eps = 1e-3f32;
        for j in 0..pred.len() {
            let (mut p, mut m) = (pred.clone(), pred.clone());
            p[j] += eps;
            m[j] -= eps;
            let fd = (eval(loss.as_ref(), &state, &p, &target, &logvar, &Analytic).value
                - eval(loss.as_ref(), &state, &m, &target, &logvar, &Analytic).value)
                / (p[j] - m[j]) as f64;
            let err = (fd - base.d_pred[j] as f64).abs();
            assert!(err < 2e-3 * scale as f64 + 1e-7, "{name}: d/dpred[{j}] = {} vs FD {fd}", base.d_pred[j]);
        }
        if let Some(d_lv) = &base.d_logvar {
            for j in 0..logvar.len() {
                let (mut p, mut m) = (logvar.clone(), logvar.clone());
                p[j] += eps;
                m[j] -= eps;
                let fd = (eval(loss.as_ref(), &state, &pred, &target, &p, &Analytic).value
                    - eval(loss.as_ref(), &state, &pred, &target, &m, &Analytic).value)
                    / (p[j] - m[j]) as f64;
                assert!((fd - d_lv[j] as f64).abs() < 1e-4, "{name}: d/dlogvar[{j}] = {} vs FD {fd}", d_lv[j]);
            }
        }
    }
}

#[test]
fn vagram_equals_mse_when_every_value_gradient_component_is_one() {
    let (state, pred, target, logvar) = batch(32, 2);
    let ones = Linear(vec![1.0; 3]);
    let v = eval(&Vagram::default(), &state, &pred, &target, &logvar, &ones);
    let m = eval(&Mse, &state, &pred, &target, &logvar, &ones);
    assert!((v.value - m.value).abs() < 1e-9 * m.value.max(1.0), "{} vs {}", v.value, m.value);
    for (a, b) in v.d_pred.iter().zip(&m.d_pred) {
        assert!((a - b).abs() < 1e-7);
    }
}

#[test]
fn vagram_minimum_is_the_environment_sample_and_unique_without_zero_gradients() {
    let (state, _, target, logvar) = batch(8, 3);
    let loss = Vagram::default();
    let at_target = eval(&loss, &state, &target, &target, &logvar, &Analytic);
    assert_eq!(at_target.value, 0.0);
    assert!(at_target.d_pred.iter().all(|g| *g == 0.0), "stationary at s'");
    // Any move away from s' along any single dimension raises the loss (Analytic's gradients
    // have no zero component at these states), so the minimum is unique.
    for j in 0..target.len() {
        for delta in [-0.1f32, 0.05] {
            let mut p = target.clone();
            p[j] += delta;
            assert!(eval(&loss, &state, &p, &target, &logvar, &Analytic).value > 0.0, "flat along {j}");
        }
    }
    // With a zero gradient component the loss is flat along it: the minimum is not unique.
    let flat = Linear(vec![1.0, 0.0, 2.0]);
    let mut p = target.clone();
    p[1] += 0.5;
    assert_eq!(eval(&Vagram { clip_percentile: 100.0, ..Vagram::default() }, &state, &p, &target, &logvar, &flat).value, 0.0);
}

#[test]
fn taylor_loss_is_zero_orthogonal_to_the_value_gradient() {
    let (state, _, target, logvar) = batch(8, 4);
    let w = vec![0.5f32, -1.0, 2.0];
    let oracle = Linear(w.clone());
    // (2, 1, 0) · (0.5, -1, 2) = 0: a direction the value function does not see.
    let p: Vec<f32> = target.iter().enumerate().map(|(j, t)| t + 0.3 * [2.0, 1.0, 0.0][j % 3]).collect();
    assert!(eval(&TaylorVaml, &state, &p, &target, &logvar, &oracle).value < 1e-12);
    assert!(eval(&Vagram::default(), &state, &p, &target, &logvar, &oracle).value > 1e-3, "VaGraM still sees it");
    let q: Vec<f32> = target.iter().enumerate().map(|(j, t)| t + 0.3 * w[j % 3]).collect();
    assert!(eval(&TaylorVaml, &state, &q, &target, &logvar, &oracle).value > 1e-3);
}

#[test]
fn nll_is_twice_the_gaussian_negative_log_density_minus_its_constant() {
    let (state, pred, target, logvar) = batch(10, 5);
    let got = eval(&GaussianNll, &state, &pred, &target, &logvar, &Analytic).value;
    let n = pred.len() as f64;
    let want: f64 = (0..pred.len())
        .map(|i| {
            let var = (logvar[i] as f64).exp();
            let e = (target[i] - pred[i]) as f64;
            let log_density = -0.5 * (e * e / var + var.ln() + (2.0 * std::f64::consts::PI).ln());
            -2.0 * log_density - (2.0 * std::f64::consts::PI).ln()
        })
        .sum::<f64>()
        / n;
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
}

#[test]
fn percentile_clip_caps_only_the_largest_norms() {
    assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0, 5.0], 50.0), 3.0);
    assert!((percentile(&[1.0, 2.0, 3.0, 4.0, 5.0], 95.0) - 4.8).abs() < 1e-6);
    // 20 rows of norm 1..20 along different directions.
    let mut grads: Vec<f32> = (1..=20).flat_map(|k| [0.6 * k as f32, 0.8 * k as f32]).collect();
    let before = grads.clone();
    let t = clip_norms_at_percentile(&mut grads, 2, 95.0);
    assert!((t - 19.05).abs() < 1e-4, "threshold {t}");
    for (r, (g, b)) in grads.chunks(2).zip(before.chunks(2)).enumerate() {
        let norm = (g[0] * g[0] + g[1] * g[1]).sqrt();
        if r < 19 {
            assert_eq!(g, b, "row {r} below the percentile is untouched");
        } else {
            assert!((norm - t).abs() < 1e-4, "row {r} clipped to {norm}");
            assert!((g[0] / g[1] - 0.75).abs() < 1e-6, "direction kept");
        }
    }
}

#[test]
fn value_aware_losses_without_values_say_so() {
    let (state, pred, target, _) = batch(4, 6);
    let inputs = LossInputs { state: &state, pred: &pred, target: &target, logvar: None, dim: 3, values: None };
    let err = Vagram::default().evaluate(&inputs).unwrap_err().to_string();
    assert!(err.contains("vagram") && err.contains("value functions"), "{err}");
    assert!(GaussianNll.evaluate(&inputs).unwrap_err().to_string().contains("log-variances"));
    assert!(Mse.evaluate(&inputs).is_ok());
}

#[test]
fn vagram_with_its_warmup_mse_term_adds_exactly_mse() {
    let (state, pred, target, logvar) = batch(16, 5);
    let plain = eval(&Vagram::default(), &state, &pred, &target, &logvar, &Analytic);
    let warm = eval(&Vagram { mse_weight: 1.0, ..Vagram::default() }, &state, &pred, &target, &logvar, &Analytic);
    let mse = eval(&Mse, &state, &pred, &target, &logvar, &Analytic);
    assert!((warm.value - plain.value - mse.value).abs() < 1e-12 * warm.value.abs().max(1.0));
    for j in 0..pred.len() {
        assert!((warm.d_pred[j] - plain.d_pred[j] - mse.d_pred[j]).abs() < 1e-6, "d/dpred[{j}]");
    }
}

#[test]
fn vagram_takes_the_gradient_at_the_next_state_or_at_the_delta_as_configured() {
    let (state, pred, target, logvar) = batch(16, 6);
    let delta: Vec<f32> = target.iter().zip(&state).map(|(t, s)| t - s).collect();
    let weighted = |at: &[f32]| {
        // The loss by hand: mean over samples and dims of (1/K) Σ_k g_k² e² with K = 2.
        let g = Analytic.evaluate(at);
        let e: Vec<f64> = pred.iter().zip(&target).map(|(p, t)| (p - t) as f64).collect();
        (0..e.len()).map(|i| (0..2).map(|k| 0.5 * (g.grads[k][i] as f64).powi(2)).sum::<f64>() * e[i] * e[i]).sum::<f64>() / e.len() as f64
    };
    let unclipped = |grad_at| Vagram { clip_percentile: 100.0, mse_weight: 0.0, grad_at };
    let at_next = eval(&unclipped(GradAt::NextState), &state, &pred, &target, &logvar, &Analytic).value;
    let at_delta = eval(&unclipped(GradAt::Delta), &state, &pred, &target, &logvar, &Analytic).value;
    assert!((at_next - weighted(&target)).abs() < 1e-6 * at_next, "{at_next} vs {}", weighted(&target));
    assert!((at_delta - weighted(&delta)).abs() < 1e-6 * at_delta, "{at_delta} vs {}", weighted(&delta));
    assert!((at_next - at_delta).abs() > 1e-3 * at_next, "the two points give different weights");
}

#[test]
fn a_clip_percentile_of_100_leaves_every_gradient_norm_alone() {
    let (state, pred, target, logvar) = batch(32, 7);
    let loss = |q| Vagram { clip_percentile: q, ..Vagram::default() };
    let off = eval(&loss(100.0), &state, &pred, &target, &logvar, &Analytic).value;
    let clipped = eval(&loss(95.0), &state, &pred, &target, &logvar, &Analytic).value;
    let mut g = Analytic.evaluate(&target).grads[0].clone();
    let before = g.clone();
    clip_norms_at_percentile(&mut g, 3, 100.0);
    assert_eq!(g, before, "the 100th percentile is the largest norm: nothing above it");
    assert!(clipped < off, "the 95th percentile clips the sharpest samples ({clipped} vs {off})");
}

#[test]
fn value_weights_follow_the_paper_at_the_start_state_or_the_authors_code_at_the_next_state() {
    // V(s) = s₀ + s₁ + s₂. Two samples with unit squared error on one coordinate each.
    let value = Linear(vec![1.0, 1.0, 1.0]);
    let state = [1.0f32, 0.0, 0.0, 3.0, 0.0, 0.0]; // V = 1, 3
    let target = [2.0f32, 0.0, 0.0, 2.0, 2.0, 0.0]; // V = 2, 4; Δs = (1, 0, 0), (−1, 2, 0): V = 1, 1
    let pred = [3.0f32, 0.0, 0.0, 2.0, 2.0, 1.0]; // errors 1 (sample 0), 1 (sample 1)
    let at = |loss: ValueWeighted| eval(&loss, &state, &pred, &target, &[0.0; 6], &value);
    // The paper's: weights 1/1, 1/3 → mean 2/3 → 1.5, 0.5; loss = (1.5 + 0.5) / 6 coordinates.
    let start = at(ValueWeighted::default());
    assert!((start.value - 2.0 / 6.0).abs() < 1e-12, "{}", start.value);
    assert!((start.d_pred[0] - 2.0 * 1.5 / 6.0).abs() < 1e-6 && (start.d_pred[5] - 2.0 * 0.5 / 6.0).abs() < 1e-6);
    // The authors': |V(s')| = 2, 4 over the sum over K = 1 value function, E members and the
    // batch: 2/(6E), 4/(6E); the second sample counts twice as much, and all of it E times less
    // with E members.
    for members in [1usize, 7] {
        let e = members as f64;
        let next = at(ValueWeighted::authors(GradAt::NextState, members));
        assert!((next.value - (2.0 + 4.0) / (6.0 * e) / 6.0).abs() < 1e-12, "{}", next.value);
        assert!((next.d_pred[0] as f64 - 2.0 * (2.0 / (6.0 * e)) / 6.0).abs() < 1e-7, "{:?}", next.d_pred);
        assert!((next.d_pred[5] as f64 - 2.0 * (4.0 / (6.0 * e)) / 6.0).abs() < 1e-7, "{:?}", next.d_pred);
    }
    // The control normalises the same |V(s')| to mean 1 whatever E: 2/3, 4/3.
    let mean_one = at(ValueWeighted { norm: ValueWeightNorm::MeanOne, ..ValueWeighted::authors(GradAt::NextState, 7) });
    assert!((mean_one.d_pred[0] as f64 - 2.0 * (2.0 / 3.0) / 6.0).abs() < 1e-7, "{:?}", mean_one.d_pred);
    assert!((mean_one.d_pred[5] as f64 - 2.0 * (4.0 / 3.0) / 6.0).abs() < 1e-7, "{:?}", mean_one.d_pred);
    // At Δs (the code behind the paper's figures) both values are 1: equal weights 1/2.
    let delta = at(ValueWeighted::authors(GradAt::Delta, 1));
    assert!(
        (delta.d_pred[0] - delta.d_pred[5]).abs() < 1e-7 && (delta.d_pred[0] as f64 - 2.0 * 0.5 / 6.0).abs() < 1e-7,
        "{:?}",
        delta.d_pred
    );
    assert_eq!(ValueWeighted::authors(GradAt::Delta, 1).grad_at(), GradAt::Delta, "the trainer caches the values at Δs");
    // The authors' first-epoch warm-up adds plain MSE at weight 1, exactly.
    let (state, pred, target, logvar) = batch(16, 8);
    let plain = eval(&ValueWeighted::authors(GradAt::NextState, 7), &state, &pred, &target, &logvar, &Analytic);
    let warm = eval(
        &ValueWeighted { mse_weight: 1.0, ..ValueWeighted::authors(GradAt::NextState, 7) },
        &state,
        &pred,
        &target,
        &logvar,
        &Analytic,
    );
    let mse = eval(&Mse, &state, &pred, &target, &logvar, &Analytic);
    assert!((warm.value - plain.value - mse.value).abs() < 1e-12);
    for j in 0..pred.len() {
        assert!((warm.d_pred[j] - plain.d_pred[j] - mse.d_pred[j]).abs() < 1e-6, "d/dpred[{j}]");
    }
    assert_eq!(loss_by_name("value-weighted-next").unwrap().name(), "value-weighted-next");
}

//! Input gradients through an ensemble: dV/ds for VaGraM, IterVAML and the Taylor loss.
//!
//! For SAC value functions `V_k(s) = Q_k(s, a)` with `a = tanh(μ(s))` held fixed (no gradient
//! into the actor, as the paper's code), the gradient is the partial derivative of the critic
//! with respect to its state input.

use super::ensemble::EnsembleMlp;
use super::kernels::MlpKernels;

/// Outputs and d(output of member m)/d(input) for every member and row (`[E, B]` and
/// `[E, B, in]`) of a single-output net on `x` (`[E, B, in]`). Parameter gradients are not
/// computed.
pub fn input_gradient<D: MlpKernels>(net: &EnsembleMlp<D>, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    assert_eq!(net.output_dim(), 1, "input_gradient needs a scalar-output net");
    // Each member's output depends only on its own input row, so one backward of the total
    // gives every per-member, per-sample gradient.
    D::input_gradient(net, x)
}

/// Values and state gradients of critic-based value functions.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueGradients {
    /// `values[k][i] = V_k(s_i)`.
    pub values: Vec<Vec<f32>>,
    /// `grads[k][i * state_dim + d] = ∂V_k/∂s_d (s_i)`.
    pub grads: Vec<Vec<f32>>,
}

/// `V_k(s_i) = Q_k(s_i, a_i)` for every member k of `critics` (inputs `[state, action]`), and
/// the gradients with respect to the state part only (actions are held fixed).
pub fn critic_value_gradients<D: MlpKernels>(
    critics: &EnsembleMlp<D>,
    states: &[f32],
    actions: &[f32],
    state_dim: usize,
    action_dim: usize,
) -> ValueGradients {
    let n = states.len() / state_dim;
    assert_eq!(actions.len(), n * action_dim, "one action per state");
    assert_eq!(critics.input_dim(), state_dim + action_dim, "critic input is [state, action]");
    let k = critics.members();
    let width = state_dim + action_dim;
    let mut row = Vec::with_capacity(n * width);
    for i in 0..n {
        row.extend_from_slice(&states[i * state_dim..(i + 1) * state_dim]);
        row.extend_from_slice(&actions[i * action_dim..(i + 1) * action_dim]);
    }
    let mut input = Vec::with_capacity(k * row.len());
    for _ in 0..k {
        input.extend_from_slice(&row);
    }
    let (values, full) = input_gradient(critics, &input);
    let grads = (0..k)
        .map(|m| {
            (0..n)
                .flat_map(|i| {
                    let start = (m * n + i) * width;
                    full[start..start + state_dim].iter().copied()
                })
                .collect()
        })
        .collect();
    ValueGradients { values: values.chunks(n).map(|c| c.to_vec()).collect(), grads }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, TestDevice};

    #[test]
    fn value_gradient_matches_central_differences() {
        let dev = TestDevice::seed_from_u64(1);
        let (s, a, n) = (4, 2, 6);
        let critics = EnsembleMlp::new(&dev, 2, s + a, &[32, 32], 1, Activation::Silu, 3);
        let states: Vec<f32> = (0..n * s).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.3).collect();
        let actions: Vec<f32> = (0..n * a).map(|i| ((i * 5 % 7) as f32 - 3.0) * 0.2).collect();
        let vg = critic_value_gradients(&critics, &states, &actions, s, a);
        let eps = 1e-2f32;
        let mut worst = 0.0f32;
        for d in 0..n * s {
            let mut plus = states.clone();
            let mut minus = states.clone();
            plus[d] += eps;
            minus[d] -= eps;
            let vp = critic_value_gradients(&critics, &plus, &actions, s, a).values;
            let vm = critic_value_gradients(&critics, &minus, &actions, s, a).values;
            for k in 0..2 {
                let i = d / s;
                let fd = (vp[k][i] - vm[k][i]) / (2.0 * eps);
                let err = (fd - vg.grads[k][d]).abs();
                worst = worst.max(err);
                assert!(err < 2e-3 + 1e-2 * fd.abs(), "k {k} component {d}: autodiff {} vs FD {fd}", vg.grads[k][d]);
            }
        }
        // Perturbing one sample's state moves only that sample's value.
        let mut plus = states.clone();
        plus[0] += 0.5;
        let vp = critic_value_gradients(&critics, &plus, &actions, s, a).values;
        assert_eq!(vp[0][1..], vg.values[0][1..]);
        assert!(worst.is_finite());
    }
}

//! The first-order Taylor approximation of VAML (paper eq. 5), `mean_i (1/K) Σ_k (∇V_k(s'_i) ·
//! (ŝ'_i − s'_i))²`. NOT a usable training loss: it is zero on the whole hyperplane orthogonal
//! to ∇V, so its minimum is not unique (paper App. B). Kept for the loss landscape figure and
//! ablations.

use super::{LossError, LossEval, LossInputs, ModelLoss, mean_over};

/// The Taylor-approximated VAML loss of eq. 5.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaylorVaml;

impl ModelLoss for TaylorVaml {
    fn name(&self) -> &'static str {
        "taylor"
    }

    fn evaluate(&self, x: &LossInputs) -> Result<LossEval, LossError> {
        let vg = x.oracle("taylor")?.evaluate(x.target);
        let k = vg.grads.len();
        let n = x.len() as f64;
        let mut value = 0.0f64;
        let mut d_pred = vec![0.0f32; x.pred.len()];
        for g in &vg.grads {
            for i in 0..x.len() {
                let row = i * x.dim..(i + 1) * x.dim;
                let dot: f64 = row.clone().map(|j| g[j] as f64 * (x.pred[j] - x.target[j]) as f64).sum();
                value += mean_over(k) * dot * dot;
                for j in row {
                    d_pred[j] += (mean_over(k) * 2.0 * dot * g[j] as f64 / n) as f32;
                }
            }
        }
        Ok(LossEval { value: value / n, d_pred, d_logvar: None })
    }
}

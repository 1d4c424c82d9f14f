//! IterVAML (Farahmand 2018): `mean_i (1/K) Σ_k (V_k(s'_i) − V_k(ŝ'_i))²`, optionally plus
//! `λ · MSE` (paper App. D.1 uses λ = 0.01). Unlike VaGraM it evaluates the value function at the
//! model's prediction, where it may never have seen data.

use super::mse::mse_terms;
use super::{LossError, LossEval, LossInputs, ModelLoss, mean_over};

/// IterVAML, with an optional MSE term.
#[derive(Debug, Clone, Copy, Default)]
pub struct IterVaml {
    /// Weight λ of the added MSE term (0 = plain IterVAML).
    pub mse_weight: f64,
}

impl ModelLoss for IterVaml {
    fn name(&self) -> &'static str {
        if self.mse_weight > 0.0 { "itervaml-mse" } else { "itervaml" }
    }

    fn evaluate(&self, x: &LossInputs) -> Result<LossEval, LossError> {
        let oracle = x.oracle(self.name())?;
        let at_target = oracle.evaluate(x.target);
        let at_pred = oracle.evaluate(x.pred);
        let k = at_pred.values.len();
        let n = x.len() as f64;
        let mut value = 0.0f64;
        let mut d_pred = vec![0.0f32; x.pred.len()];
        for m in 0..k {
            for i in 0..x.len() {
                let diff = (at_target.values[m][i] - at_pred.values[m][i]) as f64;
                value += mean_over(k) * diff * diff;
                for d in 0..x.dim {
                    let j = i * x.dim + d;
                    d_pred[j] += (-2.0 * mean_over(k) * diff * at_pred.grads[m][j] as f64 / n) as f32;
                }
            }
        }
        value /= n;
        if self.mse_weight > 0.0 {
            // MSE is a mean over dims too; per-sample IterVAML terms are scalars.
            value += mse_terms(x.pred, x.target, self.mse_weight, &mut d_pred);
        }
        Ok(LossEval { value, d_pred, d_logvar: None })
    }
}

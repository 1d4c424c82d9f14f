//! Probabilistic maximum likelihood (MBPO/PETS): Gaussian negative log-likelihood with a
//! diagonal covariance, `mean [(μ − s')² e^(−log σ²) + log σ²]` (twice the NLL per dimension,
//! without the constant log 2π, as MBRL-Lib). The soft bounds on log σ² and their regulariser
//! belong to the probabilistic ensemble, which produces the log-variances.

use super::{LossError, LossEval, LossInputs, ModelLoss};

/// Gaussian negative log-likelihood (the `mle` loss).
#[derive(Debug, Clone, Copy, Default)]
pub struct GaussianNll;

impl ModelLoss for GaussianNll {
    fn name(&self) -> &'static str {
        "mle"
    }

    fn evaluate(&self, x: &LossInputs) -> Result<LossEval, LossError> {
        let logvar = x.logvar.ok_or(LossError::MissingLogvar { loss: "mle" })?;
        let n = x.pred.len() as f64;
        let mut value = 0.0f64;
        let mut d_pred = vec![0.0f32; x.pred.len()];
        let mut d_logvar = vec![0.0f32; x.pred.len()];
        for i in 0..x.pred.len() {
            let e = (x.pred[i] - x.target[i]) as f64;
            let lv = logvar[i] as f64;
            let inv_var = (-lv).exp();
            value += e * e * inv_var + lv;
            d_pred[i] = (2.0 * e * inv_var / n) as f32;
            d_logvar[i] = ((1.0 - e * e * inv_var) / n) as f32;
        }
        Ok(LossEval { value: value / n, d_pred, d_logvar: Some(d_logvar) })
    }

    fn fits_reward(&self) -> bool {
        true
    }
}

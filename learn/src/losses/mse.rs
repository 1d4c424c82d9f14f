//! Deterministic maximum likelihood: mean squared error `mean ‖ŝ' − s'‖²`.

use super::{LossError, LossEval, LossInputs, ModelLoss};

/// Mean squared error over samples and dimensions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mse;

/// `mean (pred − target)²` and its gradient, scaled by `weight`; shared by the losses that add
/// an MSE term.
pub(super) fn mse_terms(pred: &[f32], target: &[f32], weight: f64, d_pred: &mut [f32]) -> f64 {
    let n = pred.len() as f64;
    let mut sum = 0.0f64;
    for ((p, t), g) in pred.iter().zip(target).zip(d_pred.iter_mut()) {
        let e = (*p - *t) as f64;
        sum += e * e;
        *g += (weight * 2.0 * e / n) as f32;
    }
    weight * sum / n
}

impl ModelLoss for Mse {
    fn name(&self) -> &'static str {
        "mse"
    }

    fn evaluate(&self, x: &LossInputs) -> Result<LossEval, LossError> {
        let mut d_pred = vec![0.0; x.pred.len()];
        let value = mse_terms(x.pred, x.target, 1.0, &mut d_pred);
        Ok(LossEval { value, d_pred, d_logvar: None })
    }
}

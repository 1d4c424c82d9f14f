//! Value-weighted MSE: `mean_{i,d} w_i (ŝ'_{i,d} − s'_{i,d})²`, weights normalised to mean 1.
//!
//! The paper (App. D.1) weights by `1/V(s_i)` (Nair et al. 2020 style); with negative returns
//! (pendulum) that would flip signs, so we use `1/|V̄(s_i)|`, V̄ the mean over value functions.
//! The authors' code weights by `|V̄(s'_i)| / Σ_j |V̄(s'_j)|`; normalising to mean 1 instead of
//! sum 1 only rescales the loss by the batch size.

use super::{LossError, LossEval, LossInputs, ModelLoss};

/// Which weights: the paper's or the authors' code's (`value-weighted`, `value-weighted-next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueWeighting {
    /// `1/|V̄(s)|` at the start state (the paper's description; default).
    #[default]
    InverseStartValue,
    /// `|V̄(s')|` at the next state (the authors' code).
    NextStateValue,
}

/// Value-weighted MSE.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValueWeighted {
    /// Which weights.
    pub weighting: ValueWeighting,
}

impl ModelLoss for ValueWeighted {
    fn name(&self) -> &'static str {
        match self.weighting {
            ValueWeighting::InverseStartValue => "value-weighted",
            ValueWeighting::NextStateValue => "value-weighted-next",
        }
    }

    fn evaluate(&self, x: &LossInputs) -> Result<LossEval, LossError> {
        let oracle = x.oracle("value-weighted")?;
        let at = match self.weighting {
            ValueWeighting::InverseStartValue => x.state,
            ValueWeighting::NextStateValue => x.target,
        };
        let vg = oracle.evaluate(at);
        let k = vg.values.len() as f64;
        let mut w: Vec<f64> = (0..x.len())
            .map(|i| {
                let v = (vg.values.iter().map(|vk| vk[i] as f64).sum::<f64>() / k).abs();
                match self.weighting {
                    ValueWeighting::InverseStartValue => 1.0 / v.max(1e-6),
                    ValueWeighting::NextStateValue => v,
                }
            })
            .collect();
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        w.iter_mut().for_each(|v| *v /= mean.max(1e-12));
        let n = x.pred.len() as f64;
        let mut value = 0.0;
        let mut d_pred = vec![0.0f32; x.pred.len()];
        for (j, g) in d_pred.iter_mut().enumerate() {
            let e = (x.pred[j] - x.target[j]) as f64;
            let wi = w[j / x.dim];
            value += wi * e * e;
            *g = (2.0 * wi * e / n) as f32;
        }
        Ok(LossEval { value: value / n, d_pred, d_logvar: None })
    }
}

//! VaGraM (paper eq. 7): the squared error rescaled per sample and dimension by the squared value
//! gradient at the ENVIRONMENT next state, `mean_{i,d} (1/K) Σ_k (∂V_k/∂s_d (s'_i))² (ŝ'_{i,d} − s'_{i,d})²`.
//!
//! The gradient is taken at `s'`, never at the prediction, so the loss never reads the value
//! function outside the data; each value function's per-sample gradient norms are clipped at
//! the batch's 95th percentile first. The loss is convex in `ŝ'`, with its minimum at `s'`
//! (unique unless a gradient component is exactly 0).
//!
//! On a probabilistic ensemble the loss applies to the predicted MEAN: the log-variance head then
//! gets no gradient from the state loss (train it with `mle` or freeze it); App. F of the paper
//! compares exactly that against the probabilistic MLE model.

use serde::{Deserialize, Serialize};

use super::mse::mse_terms;
use super::{LossError, LossEval, LossInputs, ModelLoss, clip_norms_at_percentile, mean_over};

/// Where VaGraM evaluates the value gradient (`model.grad_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GradAt {
    /// At the environment next state `s'` (the paper's text, eq. 7; the authors' code since
    /// 2022-04).
    #[default]
    NextState,
    /// At the state difference `Δs = s' − s` read as a state (the authors' code that produced
    /// the paper's figures, a slip fixed in 2022-04).
    Delta,
}

crate::choice_names!(GradAt, ["next-state", "delta"]);

impl GradAt {
    /// The rows at which the gradient is taken for start states `state` and next states `target`.
    pub fn points<'a>(self, state: &[f32], target: &'a [f32]) -> std::borrow::Cow<'a, [f32]> {
        match self {
            GradAt::NextState => std::borrow::Cow::Borrowed(target),
            GradAt::Delta => std::borrow::Cow::Owned(target.iter().zip(state).map(|(t, s)| t - s).collect()),
        }
    }
}

/// The VaGraM loss.
#[derive(Debug, Clone, Copy)]
pub struct Vagram {
    /// Percentile at which value-gradient norms are clipped (95 in the paper; 100 disables).
    pub clip_percentile: f64,
    /// Weight of an added plain MSE term: 1 while the value function is still untrained (the
    /// authors' code adds it in the first epoch), 0 otherwise.
    pub mse_weight: f64,
    /// Where the value gradient is taken.
    pub grad_at: GradAt,
}

impl Default for Vagram {
    fn default() -> Self {
        Self { clip_percentile: 95.0, mse_weight: 0.0, grad_at: GradAt::NextState }
    }
}

impl ModelLoss for Vagram {
    fn name(&self) -> &'static str {
        "vagram"
    }

    fn grad_at(&self) -> GradAt {
        self.grad_at
    }

    fn evaluate(&self, x: &LossInputs) -> Result<LossEval, LossError> {
        let vg = x.oracle("vagram")?.evaluate(&self.grad_at.points(x.state, x.target));
        let k = vg.grads.len();
        let n = x.pred.len() as f64;
        let mut value = 0.0f64;
        let mut d_pred = vec![0.0f32; x.pred.len()];
        for mut g in vg.grads {
            clip_norms_at_percentile(&mut g, x.dim, self.clip_percentile);
            for (i, gi) in g.iter().enumerate() {
                let e = (x.pred[i] - x.target[i]) as f64;
                let w = (*gi as f64) * (*gi as f64) * mean_over(k);
                value += w * e * e;
                d_pred[i] += (2.0 * w * e / n) as f32;
            }
        }
        let mut value = value / n;
        if self.mse_weight > 0.0 {
            value += mse_terms(x.pred, x.target, self.mse_weight, &mut d_pred);
        }
        Ok(LossEval { value, d_pred, d_logvar: None })
    }
}

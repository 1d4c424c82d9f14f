//! Value-weighted MSE: `mean_{i,d} w_i (ŝ'_{i,d} − s'_{i,d})²`, in two versions.
//!
//! - `value-weighted`, the paper's description (App. D.1): weights `1/V(s_i)` (Nair et al. 2020
//!   style); with negative returns (pendulum) that would flip signs, so we use `1/|V̄(s_i)|`,
//!   V̄ the mean over value functions, normalised to mean 1 over the batch.
//! - `value-weighted-next`, the authors' code (`ValueWeightedModel._vaml_loss` in
//!   pairlab/vagram's `mbrl/models/vaml_mlp.py`): weights `mean_k |V_k(x_i)| / Σ_{k,e,j} |V_k(x_j)|`,
//!   the sum running over the K value functions and every member's batch, so that the weights
//!   have mean `1/(E·K·B)` rather than 1. The state part of their loss is that many times weaker
//!   than the (unweighted) reward's squared error and the weight decay beside it; this is kept,
//!   the member sum taken as E times this member's (every member sees a batch of the same
//!   distribution). The point x is `s'` or, as in the code that produced the paper's figures,
//!   `Δs` (`model.grad_at`, shared with VaGraM). In the first learning epoch their loss has plain
//!   MSE added at weight 1, as VaGraM's (`mse_weight`, set by the warm-up).

use super::vagram::GradAt;
use super::{LossError, LossEval, LossInputs, ModelLoss, mse::mse_terms};

/// Which weights: the paper's or the authors' code's (`value-weighted`, `value-weighted-next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueWeighting {
    /// `1/|V̄(s)|` at the start state, normalised to mean 1 (the paper's description; default).
    #[default]
    InverseStartValue,
    /// `mean_k |V_k|` at the next state (or Δs), normalised by the sum over value functions,
    /// members and samples (the authors' code).
    NextStateValue,
}

/// How the authors' weights are normalised (`model.value_weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueWeightNorm {
    /// By the sum over value functions, members and samples: mean `1/(E·K·B)` (the authors'
    /// code; default).
    #[default]
    Sum,
    /// To mean 1 over the batch, as the paper's weighting: the control that tells the weights'
    /// shape from their scale.
    MeanOne,
}

crate::choice_names!(ValueWeightNorm, ["sum", "mean-one"]);

/// Value-weighted MSE.
#[derive(Debug, Clone, Copy)]
pub struct ValueWeighted {
    /// Which weights.
    pub weighting: ValueWeighting,
    /// Where the authors' weighting evaluates the values (`s'` or `Δs`); unused by the paper's.
    pub at: GradAt,
    /// Ensemble members E in the authors' normalisation; unused by the paper's.
    pub members: usize,
    /// The authors' weights' normalisation; the paper's are always normalised to mean 1.
    pub norm: ValueWeightNorm,
    /// Weight of plain MSE added (the authors' first-epoch `add_mse`: 1; otherwise 0).
    pub mse_weight: f64,
}

impl Default for ValueWeighted {
    fn default() -> Self {
        Self {
            weighting: ValueWeighting::InverseStartValue,
            at: GradAt::NextState,
            members: 1,
            norm: ValueWeightNorm::Sum,
            mse_weight: 0.0,
        }
    }
}

impl ValueWeighted {
    /// The authors' version for an ensemble of `members`, its values taken at `at`.
    pub fn authors(at: GradAt, members: usize) -> Self {
        Self { weighting: ValueWeighting::NextStateValue, at, members: members.max(1), norm: ValueWeightNorm::Sum, mse_weight: 0.0 }
    }

    /// Per-sample weights for `x`.
    fn weights(&self, x: &LossInputs, oracle: &dyn super::ValueOracle) -> Vec<f64> {
        match self.weighting {
            ValueWeighting::InverseStartValue => {
                let vg = oracle.evaluate(x.state);
                let k = vg.values.len() as f64;
                mean_one((0..x.len()).map(|i| 1.0 / (vg.values.iter().map(|vk| vk[i] as f64).sum::<f64>() / k).abs().max(1e-6)).collect())
            }
            ValueWeighting::NextStateValue => {
                let vg = oracle.evaluate(&self.at.points(x.state, x.target));
                let k = vg.values.len() as f64;
                let mean_abs: Vec<f64> = (0..x.len()).map(|i| vg.values.iter().map(|vk| (vk[i] as f64).abs()).sum::<f64>() / k).collect();
                match self.norm {
                    // Σ over value functions, members and samples of |V_k|: E · K · Σ_i mean_k |V_k|.
                    ValueWeightNorm::Sum => {
                        let total = self.members as f64 * k * mean_abs.iter().sum::<f64>();
                        mean_abs.iter().map(|v| v / total.max(1e-12)).collect()
                    }
                    ValueWeightNorm::MeanOne => mean_one(mean_abs),
                }
            }
        }
    }
}

/// `w` divided by its mean (weights of mean 1 over the batch).
fn mean_one(mut w: Vec<f64>) -> Vec<f64> {
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    w.iter_mut().for_each(|v| *v /= mean.max(1e-12));
    w
}

impl ModelLoss for ValueWeighted {
    fn name(&self) -> &'static str {
        match self.weighting {
            ValueWeighting::InverseStartValue => "value-weighted",
            ValueWeighting::NextStateValue => "value-weighted-next",
        }
    }

    fn evaluate(&self, x: &LossInputs) -> Result<LossEval, LossError> {
        let oracle = x.oracle(self.name())?;
        let w = self.weights(x, oracle);
        let n = x.pred.len() as f64;
        let mut value = 0.0;
        let mut d_pred = vec![0.0f32; x.pred.len()];
        for (j, g) in d_pred.iter_mut().enumerate() {
            let e = (x.pred[j] - x.target[j]) as f64;
            let wi = w[j / x.dim];
            value += wi * e * e;
            *g = (2.0 * wi * e / n) as f32;
        }
        let mut value = value / n;
        if self.mse_weight > 0.0 {
            value += mse_terms(x.pred, x.target, self.mse_weight, &mut d_pred);
        }
        Ok(LossEval { value, d_pred, d_logvar: None })
    }

    fn grad_at(&self) -> GradAt {
        match self.weighting {
            ValueWeighting::InverseStartValue => GradAt::NextState,
            ValueWeighting::NextStateValue => self.at,
        }
    }
}

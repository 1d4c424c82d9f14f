//! The model losses of the paper (SPEC §2), one file each behind [`ModelLoss`].
//!
//! A loss sees a batch of predicted next states `ŝ'` (= `s + Δ̂`), environment next states `s'`,
//! the start states `s`, optionally predicted log-variances, and, for the value-aware losses, a
//! [`ValueOracle`] giving `V_k` and `∂V_k/∂s` for each value function k (SAC's two critics and
//! two target critics). It returns the loss and its gradient with respect to the predictions;
//! model training backpropagates that gradient through the network (see `ensemble`).
//! Reductions are means over samples and state dimensions, so every loss has MSE's scale.
//! The reward is trained outside these losses by plain MSE, except for likelihood losses
//! ([`ModelLoss::fits_reward`]), which also fit it with its own predicted log-variance, as
//! MBRL-Lib's Gaussian ensemble does.

mod itervaml;
mod mse;
mod nll;
mod percentile;
mod taylor;
mod vagram;
mod value_weighted;

pub use itervaml::IterVaml;
pub use mse::Mse;
pub use nll::GaussianNll;
pub use percentile::{clip_norms_at_percentile, percentile};
pub use taylor::TaylorVaml;
pub use vagram::{GradAt, Vagram};
pub use value_weighted::{ValueWeightNorm, ValueWeighted, ValueWeighting};

use super::value_grad::ValueGradients;
pub use crate::error::LossError;

/// Values and state gradients of the value functions a loss is aware of.
pub trait ValueOracle {
    /// `V_k(s_i)` and `∂V_k/∂s (s_i)` for every value function k at the rows of `states`.
    fn evaluate(&self, states: &[f32]) -> ValueGradients;
}

/// One batch for a model loss; all arrays are row-major `N × dim`.
pub struct LossInputs<'a> {
    /// Start states `s`.
    pub state: &'a [f32],
    /// Predicted next states `ŝ'` (the predicted mean for probabilistic models).
    pub pred: &'a [f32],
    /// Environment next states `s'`.
    pub target: &'a [f32],
    /// Predicted log-variances of `ŝ'` (probabilistic models only).
    pub logvar: Option<&'a [f32]>,
    /// State dimension.
    pub dim: usize,
    /// The value functions, for value-aware losses.
    pub values: Option<&'a dyn ValueOracle>,
}

impl LossInputs<'_> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.pred.len() / self.dim
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.pred.is_empty()
    }

    /// The value oracle, or an error naming the loss that needs it.
    pub fn oracle(&self, loss: &'static str) -> Result<&dyn ValueOracle, LossError> {
        self.values.ok_or(LossError::MissingValues { loss })
    }
}

/// A loss value and its gradients.
#[derive(Debug, Clone, PartialEq)]
pub struct LossEval {
    /// The loss.
    pub value: f64,
    /// ∂loss/∂pred, `N × dim`.
    pub d_pred: Vec<f32>,
    /// ∂loss/∂logvar, for losses that read log-variances.
    pub d_logvar: Option<Vec<f32>>,
}

/// A model loss: the value and gradient of one batch.
pub trait ModelLoss: Send + Sync {
    /// Name, as used in configs (`vagram`, `mse`, …).
    fn name(&self) -> &'static str;
    /// Evaluates the loss and its gradient with respect to the predictions.
    fn evaluate(&self, inputs: &LossInputs) -> Result<LossEval, LossError>;
    /// Where a value-aware loss asks the value functions for their gradients (the trainer
    /// evaluates them there once per fit).
    fn grad_at(&self) -> GradAt {
        GradAt::NextState
    }
    /// Whether a probabilistic model fits its reward with this loss too (evaluated on the reward
    /// column with its log-variance, `dim = 1`, start states zero) instead of plain MSE. True for
    /// likelihood losses: MBRL-Lib's Gaussian ensemble, which the authors' MLE baseline is,
    /// predicts a mean and a log-variance for every output, the reward included.
    fn fits_reward(&self) -> bool {
        false
    }
}

/// The model losses by name (`model.loss` in configs, `--loss` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// VaGraM (eq. 7).
    Vagram,
    /// Plain MSE on the next state.
    Mse,
    /// Gaussian NLL of a probabilistic ensemble (MBPO's model).
    Mle,
    /// IterVAML.
    Itervaml,
    /// IterVAML plus 0.01 × MSE.
    ItervamlMse,
    /// MSE weighted by the value's magnitude: `1/|V̄(s)|` at the start state (the paper's
    /// description, App. D.1).
    ValueWeighted,
    /// MSE weighted by `mean_k |V_k(s')|` at the next state, normalised as the authors' code
    /// does (by the sum over value functions, members and samples).
    ValueWeightedNext,
    /// The first-order Taylor VAML loss (eq. 5; figures and ablations).
    Taylor,
}

crate::choice_names!(LossKind, ["vagram", "mse", "mle", "itervaml", "itervaml-mse", "value-weighted", "value-weighted-next", "taylor"]);

impl LossKind {
    /// The name configs use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Vagram => "vagram",
            Self::Mse => "mse",
            Self::Mle => "mle",
            Self::Itervaml => "itervaml",
            Self::ItervamlMse => "itervaml-mse",
            Self::ValueWeighted => "value-weighted",
            Self::ValueWeightedNext => "value-weighted-next",
            Self::Taylor => "taylor",
        }
    }

    /// The loss with the paper's defaults.
    pub fn build(self) -> Box<dyn ModelLoss> {
        match self {
            Self::Vagram => Box::new(Vagram::default()),
            Self::Mse => Box::new(Mse),
            Self::Mle => Box::new(GaussianNll),
            Self::Itervaml => Box::new(IterVaml { mse_weight: 0.0 }),
            Self::ItervamlMse => Box::new(IterVaml { mse_weight: 0.01 }),
            Self::ValueWeighted => Box::new(ValueWeighted::default()),
            Self::ValueWeightedNext => Box::new(ValueWeighted::authors(GradAt::NextState, 1)),
            Self::Taylor => Box::new(TaylorVaml),
        }
    }
}

impl std::fmt::Display for LossKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every loss name [`loss_by_name`] accepts.
pub const LOSS_NAMES: &[&str] = LossKind::NAMES;

/// The loss called `name` with the paper's defaults.
pub fn loss_by_name(name: &str) -> Option<Box<dyn ModelLoss>> {
    name.parse::<LossKind>().ok().map(LossKind::build)
}

/// Mean over value functions of per-value-function quantities.
fn mean_over(k: usize) -> f64 {
    1.0 / k.max(1) as f64
}

#[cfg(test)]
mod tests;

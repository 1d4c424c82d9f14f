//! The learning crate's errors: [`LearnError`], what any learning step can fail with, and the
//! two narrower errors it wraps as sources — [`LossError`] (a loss called without its inputs) and
//! [`SnapshotError`] (a checkpoint that cannot be read or does not match). They live at the
//! bottom of the crate's layers and import nothing from it.

/// Why learning failed: the crate's error (a loss's and a snapshot's own errors are its
/// sources, kept whole).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearnError {
    /// A NaN or infinity in a tensor.
    #[error("{tensor} has a non-finite value ({value}) at index {index}, training step {step}")]
    NonFinite {
        /// Which tensor (e.g. `model inputs`, `predictions`, `loss`).
        tensor: String,
        /// Model training step.
        step: u64,
        /// First offending index.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// Sizes that do not fit the model.
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        /// What was mis-sized.
        what: String,
        /// Expected size.
        expected: usize,
        /// Given size.
        got: usize,
    },
    /// A SAC update produced a non-finite loss (the NaN guard of the agent update).
    #[error("non-finite SAC loss (critic {critic}, actor {actor})")]
    NonFiniteSacLoss {
        /// The critic loss of the update.
        critic: f32,
        /// The actor loss of the update.
        actor: f32,
    },
    /// The loss could not be evaluated.
    #[error(transparent)]
    Loss(#[from] LossError),
    /// A snapshot could not be read or applied.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// Why a loss could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LossError {
    /// A value-aware loss was called without value functions.
    #[error("the {loss} loss needs value functions, none were given")]
    MissingValues {
        /// Loss name.
        loss: &'static str,
    },
    /// A probabilistic loss was called on a deterministic prediction.
    #[error("the {loss} loss needs predicted log-variances (a probabilistic ensemble)")]
    MissingLogvar {
        /// Loss name.
        loss: &'static str,
    },
}

/// Why a snapshot could not be read or applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes are not a valid safetensors file.
    #[error("not a readable safetensors file: {0}")]
    Format(String),
    /// A tensor the loader needs is not in the file.
    #[error("tensor '{0}' is missing from the checkpoint")]
    Missing(String),
    /// A tensor has another dtype or shape than the running configuration expects.
    #[error("tensor '{name}' has {found} in the checkpoint but the configuration expects {expected}")]
    Mismatch {
        /// Tensor name.
        name: String,
        /// What the checkpoint holds (dtype and shape).
        found: String,
        /// What the loader expected.
        expected: String,
    },
}

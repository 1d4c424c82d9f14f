//! The engine's error type: one variant per way input can be wrong, each carrying the offending
//! value and where it came from, so the CLI can print one readable line.

use std::path::PathBuf;

/// Result alias used across the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Everything that can go wrong while configuring or stepping a simulation.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An environment name that is not in the registry.
    #[error("unknown environment '{name}' (known: {known})")]
    UnknownEnv {
        /// The name asked for.
        name: String,
        /// The registered names, comma separated.
        known: String,
    },
    /// An action vector of the wrong length.
    #[error("env {env} ({kind}) at step {step}: action has {got} dimensions, expected {expected}")]
    ActionDim {
        /// Global index of the env.
        env: u64,
        /// Env kind name.
        kind: String,
        /// Simulation step at which it was applied.
        step: u64,
        /// The action dimension of the env.
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// An action component that is NaN or infinite.
    #[error("env {env} ({kind}) at step {step}: action[{index}] is {value}, actions must be finite")]
    NonFiniteAction {
        /// Global index of the env.
        env: u64,
        /// Env kind name.
        kind: String,
        /// Simulation step.
        step: u64,
        /// Offending component.
        index: usize,
        /// Offending value.
        value: f32,
    },
    /// An initial state with the wrong number of generalized coordinates.
    #[error("{kind}: initial state has {got} values, expected {nq} positions ({names}) optionally followed by {nq} velocities")]
    InitStateDim {
        /// Env kind name.
        kind: String,
        /// Number of values given.
        got: usize,
        /// Number of generalized coordinates.
        nq: usize,
        /// Names of the coordinates.
        names: String,
    },
    /// A non-finite or huge value in a user-given initial state.
    #[error("{kind}: initial state value {index} is {value}, it must be finite and within ±1e6")]
    NonFiniteInitState {
        /// Env kind name.
        kind: String,
        /// Offending component.
        index: usize,
        /// Offending value.
        value: f64,
    },
    /// A count or size outside what makes sense.
    #[error("{what} = {value} is invalid: {reason}")]
    InvalidCount {
        /// What was counted (e.g. `--envs`).
        what: String,
        /// The value given.
        value: i64,
        /// Why it is rejected.
        reason: String,
    },
    /// A parameter outside its valid range.
    #[error("{what} = {value} is invalid: {reason}")]
    InvalidValue {
        /// Which parameter.
        what: String,
        /// The value given, printed.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A CSV file whose content cannot be used.
    #[error("{path}:{line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when unknown).
        line: u64,
        /// What is wrong there.
        message: String,
    },
    /// A file that cannot be read or written. The OS error is part of the message and not a
    /// chained source, so that `{:#}` (anyhow's chain) prints it once.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// A learning stage failed (non-finite values, bad shapes, a loss without its inputs). The
    /// learning crate's error is the source, kept whole: `{:#}` (anyhow's chain) prints
    /// `model training at env step 400: model predictions has a non-finite value …`.
    #[error("{stage} at env step {step}")]
    Learning {
        /// Which stage (e.g. `model training`).
        stage: &'static str,
        /// Env step at which it happened.
        step: u64,
        /// What went wrong (names the tensor and training step).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A worker thread of the batch runner panicked (a bug, reported instead of propagated).
    #[error("batch worker {worker} panicked: {message}")]
    WorkerPanic {
        /// Worker index.
        worker: usize,
        /// The panic payload, if it was a string.
        message: String,
    },
}

//! Learning primitives on dfdx tensors: ensembles of MLPs, input gradients (dV/ds), the model
//! losses of the paper, and an Adam optimiser for runtime-shaped parameters.
//!
//! Everything is generic over the dfdx device `D` (CPU by default, CUDA behind the `cuda`
//! feature: [`AutoDevice`]); the scalar type is f32. No Rapier types here.

pub mod activation;
pub mod adam;
pub mod compute_pool;

pub mod dynamics;
pub mod ensemble;
pub mod host;
pub mod kernels;
pub mod landscape;
pub mod logvar_bounds;
pub mod losses;
pub mod matmul;
pub mod normalizer;
pub mod replay;
pub mod sac;
pub mod thread_bound;
pub mod trainer;
pub mod value_cache;
pub mod value_grad;

#[cfg(all(test, feature = "cuda"))]
mod cuda_tests;

pub use activation::Activation;
pub use adam::{Adam, AdamConfig};

pub use ensemble::{EnsembleLinear, EnsembleMlp, Tensor3};
pub use host::HostIo;
pub use kernels::{MlpKernels, Passes, Wants};
pub use matmul::Matmul;
pub use thread_bound::ThreadBound;

/// The device learning code runs on: dfdx's `Cpu`, or `Cuda` with the `cuda` feature.
pub type AutoDevice = dfdx::tensor::AutoDevice;

/// The device tests compare against: always the CPU.
pub type TestDevice = dfdx::tensor::Cpu;

/// The CPU, for copies of learning state that other threads read (the viewer's policies and
/// value functions), whatever device training runs on.
pub type HostDevice = dfdx::tensor::Cpu;

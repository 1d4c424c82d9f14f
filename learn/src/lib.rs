//! vagram's learning core (`vagram-learn`): ensembles of MLPs on dfdx tensors and their CPU
//! kernels, input gradients (dV/ds), the model losses of the paper, the dynamics model and its
//! trainer, SAC, replay buffers, an Adam optimiser for runtime-shaped parameters, and
//! named-tensor [`snapshot`]s of all of it for checkpoints.
//!
//! Everything is generic over the dfdx device `D` (CPU by default, CUDA behind the `cuda`
//! feature: [`AutoDevice`]); the scalar type is f32. This crate depends on no ECS, physics or
//! environment code (Cargo enforces it: none is among its dependencies), so the learning math
//! can be used and tested on its own.
//!
//! Features: `cuda` (dfdx's CUDA device), `bf16-kernels` (default: the x86-64 kernels of the bf16
//! matmul path, AMX tiles or AVX512_BF16 dot products as the CPU has them; without it bf16 is
//! emulated).
#![warn(missing_docs)]

pub mod activation;
pub mod adam;
pub mod choice;
pub mod compute_pool;
pub mod dynamics;
pub mod ensemble;
pub mod error;
pub mod host;
pub mod kernels;
pub mod landscape;
pub mod logvar_bounds;
pub mod losses;
pub mod matmul;
pub mod normalizer;
pub mod replay;
pub mod sac;
pub mod snapshot;
pub mod trainer;
pub mod value_cache;
pub mod value_grad;

#[cfg(all(test, feature = "cuda"))]
mod cuda_tests;

pub use activation::Activation;
pub use adam::{Adam, AdamConfig, Optimizer};
pub use ensemble::{EnsembleLinear, EnsembleMlp, Tensor3};
pub use error::{LearnError, LossError, SnapshotError};
pub use host::HostIo;
pub use kernels::{MlpKernels, Passes, Wants};
pub use matmul::{Bf16Path, Bf16PathError, Matmul};

/// Re-export of the tensor library the learning code is written in.
pub use dfdx;

/// The device learning code runs on: dfdx's `Cpu`, or `Cuda` with the `cuda` feature.
pub type AutoDevice = dfdx::tensor::AutoDevice;

/// The device tests compare against: always the CPU.
pub type TestDevice = dfdx::tensor::Cpu;

/// The CPU, for copies of learning state that other threads read (the viewer's policies and
/// value functions), whatever device training runs on.
pub type HostDevice = dfdx::tensor::Cpu;

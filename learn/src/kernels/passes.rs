//! The learners' entry points into the kernels, as methods of the plain data types: the
//! ensemble's passes, Adam's step, and what the bf16 products run on. The data types
//! (`ensemble`, `adam`, `matmul`) sit below the kernels and do not call into them; these
//! methods, dispatched to the device's [`MlpKernels`], are the one place they meet.

use dfdx::prelude::*;

use super::denormals::FlushDenormals;
use super::{MlpKernels, Passes, Wants};
use crate::adam::Adam;
use crate::ensemble::EnsembleMlp;
use crate::matmul::{Bf16Path, Bf16PathError};

/// The passes learners use, on host data: each device runs them its own way ([`MlpKernels`]).
impl<D: MlpKernels> EnsembleMlp<D> {
    /// Outputs `[E, B, out]` of member `m` on row block `m` of `x` (`[E, B, in]`, row-major).
    pub fn infer(&self, x: &[f32]) -> Vec<f32> {
        D::infer(self, x)
    }

    /// One forward pass on `x` (`[E, B, in]`); `loss_gradient` sees the outputs and returns
    /// ∂loss/∂outputs, which is backpropagated into the gradients `wants` asks for. A single
    /// forward serves both the loss and the backward pass.
    pub fn forward_backward<Err>(
        &self,
        x: &[f32],
        wants: Wants,
        loss_gradient: impl FnOnce(&[f32]) -> Result<Vec<f32>, Err>,
    ) -> Result<Passes<D>, Err> {
        D::forward_backward(self, x, wants, loss_gradient)
    }

    /// [`Self::forward_backward`] for a loss gradient that cannot fail.
    pub fn forward_backward_with(&self, x: &[f32], wants: Wants, loss_gradient: impl FnOnce(&[f32]) -> Vec<f32>) -> Passes<D> {
        match self.forward_backward(x, wants, |y| Ok::<_, std::convert::Infallible>(loss_gradient(y))) {
            Ok(passes) => passes,
        }
    }

    /// Polyak averaging towards `source`: `θ ← τ·θ_source + (1 − τ)·θ` (target networks).
    pub fn polyak_from(&mut self, source: &EnsembleMlp<D>, tau: f32) {
        D::polyak(self, source, tau)
    }

    /// Parameter gradients for a loss whose gradient with respect to the outputs `infer(x)` is
    /// `d_out` (`[E, B, out]`).
    pub fn backprop_output_gradient(&self, x: &[f32], d_out: &[f32]) -> Gradients<f32, D> {
        self.forward_backward_with(x, Wants::PARAMS, |_| d_out.to_vec()).params.expect("parameter gradients were asked for")
    }
}

impl<D: MlpKernels> Adam<D> {
    /// One update of every parameter of `net` from `grads` (a parameter without a gradient gets
    /// a zero one, i.e. only weight decay and momentum move it).
    pub fn step(&mut self, net: &mut EnsembleMlp<D>, grads: &mut Gradients<f32, D>) {
        // Decayed weights and moments turn subnormal; on the CPU they would crawl.
        let _flush = FlushDenormals::new();
        self.t += 1;
        D::adam_step(&self.config.kernel(), self.t as i32, &mut self.moments, net, grads);
    }
}

impl Bf16Path {
    /// Whether this machine (and this build) can run bf16 products on `self`.
    pub fn runs_here(self) -> bool {
        super::bf16_supports(self)
    }

    /// The fastest path this machine runs: AMX tiles, else AVX512_BF16, else the emulation.
    pub fn fastest() -> Self {
        [Self::Amx, Self::Avx512Bf16].into_iter().find(|p| p.runs_here()).unwrap_or(Self::Emulated)
    }

    /// The path bf16 products take in this process: the one [`Self::VAR`] names if it is set,
    /// else [`Self::fastest`]. Decided once per process.
    ///
    /// # Errors
    /// If the variable names no path, or one this machine cannot run.
    pub fn here() -> Result<Self, Bf16PathError> {
        static HERE: std::sync::OnceLock<Result<Bf16Path, Bf16PathError>> = std::sync::OnceLock::new();
        HERE.get_or_init(|| Self::from_setting(std::env::var(Self::VAR).ok().as_deref())).clone()
    }

    /// The path a value of [`Self::VAR`] asks for (`None`, or empty: the fastest).
    ///
    /// # Errors
    /// If `setting` names no path, or one this machine cannot run.
    pub fn from_setting(setting: Option<&str>) -> Result<Self, Bf16PathError> {
        let Some(name) = setting.filter(|s| !s.is_empty()) else {
            return Ok(Self::fastest());
        };
        let path: Self = name.parse().map_err(Bf16PathError::Unknown)?;
        if !path.runs_here() {
            let can: Vec<&str> = Self::NAMES.iter().copied().filter(|n| n.parse::<Self>().is_ok_and(Self::runs_here)).collect();
            return Err(Bf16PathError::Unsupported { path, can: can.join(", ") });
        }
        Ok(path)
    }
}

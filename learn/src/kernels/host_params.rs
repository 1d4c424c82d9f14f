//! The CPU path's host copy of a net's parameters, kept between passes while the parameters
//! stay the same (dfdx keeps them behind its tensor type, so a pass would otherwise copy them
//! every time), with the weights packed for the bf16 kernels on first use.

use std::sync::Arc;
#[cfg(all(target_arch = "x86_64", feature = "bf16-kernels"))]
use std::sync::OnceLock;

use dfdx::prelude::*;

use super::scratch;
use crate::ensemble::EnsembleMlp;
use crate::{Activation, Bf16Path, Matmul};

/// One pass's view of a net: its host parameters (shared between passes while the parameters
/// stay the same) and how it computes.
pub(super) struct HostNet {
    params: Arc<HostParams>,
    pub(super) activation: Activation,
    /// Where bf16 products run, or `None` for f32 products.
    pub(super) bf16: Option<Bf16Path>,
}

/// A host copy of the parameters (dfdx keeps them behind its tensor type), made once per
/// parameter version and kept in the net's [`Derived`](crate::ensemble::Derived) data:
/// copying a 512-wide critic for every pass was 7% of a SAC update.
pub(super) struct HostParams {
    pub(super) layers: Vec<HostLayer>,
    pub(super) members: usize,
}

/// One layer of a [`HostParams`], all members.
pub(super) struct HostLayer {
    /// `[E, in, out]`.
    pub(super) weight: Vec<f32>,
    /// `[E, out]`.
    pub(super) bias: Vec<f32>,
    pub(super) inputs: usize,
    pub(super) outputs: usize,
    /// Per member, the weights packed for the bf16 kernels as the left operand of the forward product
    /// (`Wᵀ`, `out × in`) and of the backward one (`W`, `in × out`); packed on first use.
    #[cfg(all(target_arch = "x86_64", feature = "bf16-kernels"))]
    pub(super) packed: Vec<[OnceLock<super::packed::PackedLhs>; 2]>,
}

impl std::ops::Deref for HostNet {
    type Target = HostParams;

    fn deref(&self) -> &HostParams {
        &self.params
    }
}

impl HostNet {
    /// `net` for one pass: its kept host copy (made now if there is none) and its settings.
    pub(super) fn of(net: &EnsembleMlp<Cpu>) -> Self {
        let params = net.derived().get_or_make(|| HostParams::copy(net));
        let bf16 = match net.matmul {
            Matmul::F32 => None,
            Matmul::Bf16 => Some(net.bf16_path.unwrap_or_else(|| Bf16Path::here().unwrap_or_else(|e| panic!("{e}")))),
        };
        Self { params, activation: net.activation, bf16 }
    }
}

impl HostParams {
    /// Inputs of the first layer.
    pub(super) fn input_dim(&self) -> usize {
        self.layers[0].inputs
    }

    /// Outputs of the last layer.
    pub(super) fn output_dim(&self) -> usize {
        self.layers.last().expect("at least one layer").outputs
    }

    /// `net`'s kept host copy, taken out to be changed and handed back with [`Self::keep_in`];
    /// a fresh copy when none is kept (or a pass still holds it).
    pub(super) fn take_or_copy(net: &mut EnsembleMlp<Cpu>) -> Self {
        match net.derived_mut().take::<Self>().map(Arc::try_unwrap) {
            Some(Ok(host)) => host,
            _ => Self::copy(net),
        }
    }

    /// Keeps `self`, which must hold `net`'s current parameters, as its host copy; the packed
    /// weights are made again on first use.
    pub(super) fn keep_in(mut self, net: &mut EnsembleMlp<Cpu>) {
        self.layers.iter_mut().for_each(HostLayer::forget_packed);
        net.derived_mut().put(self);
    }

    fn copy(net: &EnsembleMlp<Cpu>) -> Self {
        let members = net.members();
        let layers = net
            .layers()
            .iter()
            .map(|l| {
                let (inputs, outputs) = l.dims();
                let mut weight = scratch::take(l.weight.shape().num_elements());
                l.weight.copy_into(&mut weight);
                let mut bias = scratch::take(l.bias.shape().num_elements());
                l.bias.copy_into(&mut bias);
                HostLayer {
                    weight,
                    bias,
                    inputs,
                    outputs,
                    #[cfg(all(target_arch = "x86_64", feature = "bf16-kernels"))]
                    packed: (0..members).map(|_| Default::default()).collect(),
                }
            })
            .collect();
        Self { layers, members }
    }
}

impl HostLayer {
    /// Drops the packed weights (the weights changed).
    fn forget_packed(&mut self) {
        #[cfg(all(target_arch = "x86_64", feature = "bf16-kernels"))]
        self.packed.iter_mut().for_each(|p| *p = Default::default());
    }
}

impl Drop for HostParams {
    fn drop(&mut self) {
        for layer in self.layers.drain(..) {
            scratch::give_all([layer.weight, layer.bias]);
        }
    }
}

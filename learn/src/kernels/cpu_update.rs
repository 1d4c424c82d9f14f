//! Parameter updates on the CPU: Adam steps and Polyak averaging.
//!
//! Both are bound by memory, and in a large net most of the work sits in one or two tensors
//! (a 2 × 512 × 512 critic layer, the 200 × 200 hidden layers of a 7-member ensemble). So a
//! large net's Adam step runs on the host copy of its parameters that the passes keep
//! ([`HostParams`]), cut into chunks that rayon spreads over the cores, and then copies the new
//! values into dfdx's tensors; the host copy stays valid for the next pass. The arithmetic is
//! dfdx's Adam kernel's, value for value, so the result equals dfdx's step bit for bit.

use dfdx::prelude::*;
use dfdx::tensor_ops::WeightDecay;
use rayon::prelude::*;

use super::denormals::FlushDenormals;
use super::elementwise::dispatched;
use super::host_params::HostParams;
use crate::adam::{KernelConfig, Moments};
use crate::ensemble::{EnsembleLinear, EnsembleMlp};

/// Parameters below which updates run on the calling thread: handing the work to rayon costs
/// more than it saves on small nets (measured: the 256-wide critic, 69k parameters, and the
/// 64-wide ensembles ran 1–6% slower in parallel; the 7 × 4×200 ensemble, 0.9M, 6–18% faster).
const PARALLEL_MIN_PARAMS: usize = 100_000;

/// Values per Adam chunk (a rayon task).
const ADAM_CHUNK: usize = 16 * 1024;

/// Whether per-parameter work on `net` (an update, the gradient gather) is worth spreading over
/// rayon's threads: at least [`PARALLEL_MIN_PARAMS`] weights and biases.
pub(super) fn runs_in_parallel(net: &EnsembleMlp<Cpu>) -> bool {
    let parameters: usize = net.layers().iter().map(|l| l.weight.shape().num_elements() + l.bias.shape().num_elements()).sum();
    parameters >= PARALLEL_MIN_PARAMS
}

/// `dst ← τ·src + (1 − τ)·dst` in place (dfdx's `axpy`: no host copies), the layers of a large
/// net in parallel. Each value is the same arithmetic in any order, so the thread count does not
/// change the result.
pub fn polyak(dst: &mut EnsembleMlp<Cpu>, src: &EnsembleMlp<Cpu>, tau: f32) {
    let mix = |(d, s): (&mut EnsembleLinear<Cpu>, &EnsembleLinear<Cpu>)| {
        let _flush = FlushDenormals::new();
        d.weight.axpy(1.0 - tau, &s.weight, tau);
        d.bias.axpy(1.0 - tau, &s.bias, tau);
    };
    if runs_in_parallel(dst) {
        dst.layers_mut().par_iter_mut().zip(src.layers()).for_each(mix);
    } else {
        dst.layers_mut().iter_mut().zip(src.layers()).for_each(mix);
    }
}

/// [`super::MlpKernels::adam_step`]: a small net one tensor after another with dfdx's kernel; a
/// large one in chunks across the cores on its host copy (module doc).
pub fn adam_step(config: &KernelConfig, t: i32, moments: &mut [Moments<Cpu>], net: &mut EnsembleMlp<Cpu>, grads: &mut Gradients<f32, Cpu>) {
    if !runs_in_parallel(net) {
        return super::adam_step_in_order(config, t, moments, net, grads);
    }
    assert_eq!(moments.len(), 2 * net.layers().len(), "one moment pair per tensor");
    let owned = super::cpu::take_gradients(net, grads);
    let mut host = HostParams::take_or_copy(net);
    let mut chunks = Vec::new();
    for ((layer, pair), [gw, gb]) in host.layers.iter_mut().zip(moments.chunks_exact_mut(2)).zip(&owned) {
        let [(mw, vw), (mb, vb)] = pair else { unreachable!("chunks of two") };
        for (p, g, m, v) in [(&mut layer.weight, gw, mw, vw), (&mut layer.bias, gb, mb, vb)] {
            assert_eq!((p.len(), g.len(), m.len()), (v.len(), v.len(), v.len()), "Adam tensors of one parameter differ in size");
            let parts = p.chunks_mut(ADAM_CHUNK).zip(g.chunks(ADAM_CHUNK)).zip(m.chunks_mut(ADAM_CHUNK).zip(v.chunks_mut(ADAM_CHUNK)));
            chunks.extend(parts.map(|((p, g), (m, v))| (p, g, m, v)));
        }
    }
    chunks.into_par_iter().for_each(|(p, g, m, v)| {
        let _flush = FlushDenormals::new();
        adam_chunk(config, t, p, g, m, v);
    });
    net.layers_mut().par_iter_mut().zip(&host.layers).for_each(|(layer, new)| {
        layer.weight.copy_from(&new.weight);
        layer.bias.copy_from(&new.bias);
    });
    host.keep_in(net);
}

dispatched! {
    /// dfdx 0.13's CPU Adam kernel (`AdamKernel for Cpu`, f32) on one chunk, operation for
    /// operation: coupled L2 weight decay added to the gradient, bias-corrected moments,
    /// decoupled decay after the step. Compiled per vector width like the elementwise passes
    /// (no fused multiply-add, so every copy gives the same bits).
    fn adam_chunk => adam_chunk_body(config: &KernelConfig, t: i32, params: &mut [f32], grads: &[f32], m1: &mut [f32], m2: &mut [f32])
}

#[inline(always)]
fn adam_chunk_body(config: &KernelConfig, t: i32, params: &mut [f32], grads: &[f32], m1: &mut [f32], m2: &mut [f32]) {
    let [b1, b2] = config.betas.map(|b| b as f32);
    let (eps, lr) = (config.eps as f32, config.lr as f32);
    let (c1, c2) = ((1.0 - b1.powi(t)).recip(), (1.0 - b2.powi(t)).recip());
    for ((p, &g), (m, v)) in params.iter_mut().zip(grads).zip(m1.iter_mut().zip(m2.iter_mut())) {
        let mut g = g;
        if let Some(WeightDecay::L2(wd)) = config.weight_decay {
            g += wd as f32 * *p;
        }
        *m = *m * b1 + g * (1.0 - b1);
        *v = *v * b2 + g.powi(2) * (1.0 - b2);
        let (m_hat, v_hat) = (*m * c1, *v * c2);
        g = lr * m_hat / (v_hat.sqrt() + eps);
        if let Some(WeightDecay::Decoupled(wd)) = config.weight_decay {
            g += (wd * config.lr) as f32 * *p;
        }
        *p -= g;
    }
}

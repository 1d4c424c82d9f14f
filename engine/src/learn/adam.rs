//! Adam (PyTorch semantics, coupled L2 weight decay as MBPO's `weight_decay`) for ensembles.
//!
//! dfdx 0.13's own `Adam` only visits const-shaped modules (`TensorCollection` is implemented
//! for `ConstShape` tensors), and our ensembles are sized by the config at run time, hence this
//! optimiser. It updates parameters on the host: exact and device-independent; a device-side
//! kernel is the obvious next step when the training-throughput targets are worked on.

use dfdx::prelude::*;

use super::ensemble::EnsembleMlp;

/// Adam's hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator epsilon.
    pub eps: f32,
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`).
    pub weight_decay: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

/// Adam's state for one ensemble: first and second moments per parameter tensor.
#[derive(Debug, Clone)]
pub struct Adam {
    /// Hyperparameters.
    pub config: AdamConfig,
    /// Steps taken.
    pub t: u64,
    moments: Vec<(Vec<f32>, Vec<f32>)>,
}

impl Adam {
    /// Fresh state for `net`.
    pub fn new<D: Device<f32>>(net: &EnsembleMlp<D>, config: AdamConfig) -> Self {
        let moments = net
            .layers
            .iter()
            .flat_map(|l| [l.weight.shape().num_elements(), l.bias.shape().num_elements()])
            .map(|n| (vec![0.0; n], vec![0.0; n]))
            .collect();
        Self { config, t: 0, moments }
    }

    /// One update of every parameter of `net` from `grads`, which must hold a gradient for each
    /// (any backward pass through the whole net does).
    pub fn step<D: Device<f32>>(&mut self, net: &mut EnsembleMlp<D>, grads: &Gradients<f32, D>) {
        self.t += 1;
        let c = self.config;
        let bias1 = 1.0 - c.beta1.powi(self.t as i32);
        let bias2 = 1.0 - c.beta2.powi(self.t as i32);
        let mut slot = 0;
        for layer in net.layers.iter_mut() {
            for param in [Param::W(&mut layer.weight), Param::B(&mut layer.bias)] {
                let (mut p, g) = match &param {
                    Param::W(t) => (t.as_vec(), grads.get(&**t).as_vec()),
                    Param::B(t) => (t.as_vec(), grads.get(&**t).as_vec()),
                };
                let (m, v) = &mut self.moments[slot];
                for i in 0..p.len() {
                    let gi = g[i] + c.weight_decay * p[i];
                    m[i] = c.beta1 * m[i] + (1.0 - c.beta1) * gi;
                    v[i] = c.beta2 * v[i] + (1.0 - c.beta2) * gi * gi;
                    p[i] -= c.lr * (m[i] / bias1) / ((v[i] / bias2).sqrt() + c.eps);
                }
                match param {
                    Param::W(t) => t.copy_from(&p),
                    Param::B(t) => t.copy_from(&p),
                }
                slot += 1;
            }
        }
    }
}

enum Param<'a, D: Device<f32>> {
    W(&'a mut Tensor<(usize, usize, usize), f32, D>),
    B(&'a mut Tensor<(usize, usize), f32, D>),
}

//! Adam (PyTorch semantics, coupled L2 weight decay as MBPO's `weight_decay`) for ensembles.
//!
//! dfdx 0.13's `Adam` optimiser only visits const-shaped modules, and our ensembles are sized by
//! the config at run time. So this wraps dfdx's Adam *kernel* (`AdamConfig::try_update`)
//! directly: moments live on the device next to the parameters, updates run there (CPU loop or
//! CUDA kernel), nothing is copied to the host. How the tensors are visited is the device's
//! choice (`MlpKernels::adam_step`, called by `Adam::step` in the kernel layer): on the CPU, the layers of a large net in parallel.

use dfdx::prelude::*;
pub(crate) use dfdx::tensor_ops::AdamConfig as KernelConfig;
use dfdx::tensor_ops::{SgdConfig, WeightDecay};

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

impl AdamConfig {
    /// The same hyperparameters as dfdx's Adam kernel takes them.
    pub(crate) fn kernel(&self) -> KernelConfig {
        KernelConfig {
            lr: self.lr as f64,
            betas: [self.beta1 as f64, self.beta2 as f64],
            eps: self.eps as f64,
            weight_decay: (self.weight_decay > 0.0).then_some(WeightDecay::L2(self.weight_decay as f64)),
        }
    }
}

/// First and second moments of one parameter tensor, on the device.
pub(crate) type Moments<D> = (<D as Storage<f32>>::Vec, <D as Storage<f32>>::Vec);

/// Adam's state for one ensemble: first and second moments per parameter tensor, on the device.
pub struct Adam<D: Device<f32>> {
    /// Hyperparameters.
    pub config: AdamConfig,
    /// Steps taken.
    pub t: u64,
    pub(crate) moments: Vec<Moments<D>>,
    pub(crate) device: D,
}

impl<D: Device<f32>> Adam<D> {
    /// Fresh state for `net`.
    pub fn new(net: &EnsembleMlp<D>, config: AdamConfig) -> Self {
        let dev = net.layers()[0].weight.device().clone();
        let alloc = |n: usize| Storage::<f32>::try_alloc_len(&dev, n).expect("allocating Adam moments");
        let moments = net
            .layers()
            .iter()
            .flat_map(|l| [l.weight.shape().num_elements(), l.bias.shape().num_elements()])
            .map(|n| (alloc(n), alloc(n)))
            .collect();
        Self { config, t: 0, moments, device: dev }
    }

    /// One plain stochastic-gradient step `θ ← θ − lr·(g + weight_decay·θ)` (no momentum) with
    /// this optimiser's learning rate and weight decay, through dfdx's SGD kernel, for a model
    /// whose [`Optimizer`] is [`Optimizer::Sgd`]. Adam's step count and moments are left as they
    /// are (the kernel's velocity argument, unused without momentum, is a first-moment buffer),
    /// so a checkpoint has the same layout whichever optimiser ran.
    pub fn sgd_step(&mut self, net: &mut EnsembleMlp<D>, grads: &mut Gradients<f32, D>) {
        let config = SgdConfig {
            lr: self.config.lr as f64,
            momentum: None,
            weight_decay: (self.config.weight_decay > 0.0).then_some(WeightDecay::L2(self.config.weight_decay as f64)),
        };
        assert_eq!(self.moments.len(), 2 * net.layers().len(), "one moment pair per tensor");
        for (layer, pair) in net.layers_mut().iter_mut().zip(self.moments.chunks_exact_mut(2)) {
            let [(vw, _), (vb, _)] = pair else { unreachable!("chunks of two") };
            let g = grads.get_or_alloc_mut(&layer.weight).expect("allocating a gradient");
            config.try_update(&mut layer.weight, vw, g).expect("SGD update");
            let g = grads.get_or_alloc_mut(&layer.bias).expect("allocating a gradient");
            config.try_update(&mut layer.bias, vb, g).expect("SGD update");
        }
    }
}

/// The update rule of a dynamics model's fits (`model.optimizer`); both take the model's
/// learning rate and L2 weight decay from [`AdamConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    /// Adam: MBPO's and the authors' model optimiser.
    #[default]
    Adam,
    /// Plain stochastic gradient descent without momentum ([`Adam::sgd_step`]): what the
    /// paper's §4 names for Fig. 2 ("optimized the models using stochastic gradient descent").
    Sgd,
}

crate::choice_names!(Optimizer, ["adam", "sgd"]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, TestDevice};

    #[test]
    fn first_steps_match_adams_formula() {
        // With a constant gradient g, Adam's bias-corrected step is lr·g/(|g| + eps) every time.
        let dev = TestDevice::seed_from_u64(0);
        let mut net = EnsembleMlp::new(&dev, 1, 2, &[], 1, Activation::Silu, 0);
        let before = net.layers()[0].weight.as_vec();
        let mut adam = Adam::new(&net, AdamConfig { lr: 0.1, ..AdamConfig::default() });
        let x = dev.tensor_from_vec(vec![1.0f32, -2.0], (1, 1, 2));
        for step in 1..=3 {
            // d(output)/dW = x, so the gradient is constant.
            let mut grads = net.backprop_output_gradient(&x.as_vec(), &[1.0]);
            adam.step(&mut net, &mut grads);
            let w = net.layers()[0].weight.as_vec();
            let expect = [before[0] - 0.1 * step as f32, before[1] + 0.1 * step as f32];
            assert!((w[0] - expect[0]).abs() < 1e-5 && (w[1] - expect[1]).abs() < 1e-5, "step {step}: {w:?} vs {expect:?}");
        }
    }

    #[test]
    fn an_sgd_step_moves_each_weight_by_lr_times_its_gradient_plus_decay() {
        let dev = TestDevice::seed_from_u64(0);
        let mut net = EnsembleMlp::new(&dev, 1, 2, &[], 1, Activation::Silu, 0);
        let before = net.layers()[0].weight.as_vec();
        let bias = net.layers()[0].bias.as_vec();
        let mut adam = Adam::new(&net, AdamConfig { lr: 0.1, weight_decay: 0.5, ..AdamConfig::default() });
        // d(output)/dW = x and d(output)/db = 1 for an output gradient of 1.
        let x = [1.0f32, -2.0];
        for _ in 0..2 {
            let before = net.layers()[0].weight.as_vec();
            let bias = net.layers()[0].bias.as_vec();
            let mut grads = net.backprop_output_gradient(&x, &[1.0]);
            adam.sgd_step(&mut net, &mut grads);
            let (w, b) = (net.layers()[0].weight.as_vec(), net.layers()[0].bias.as_vec());
            for i in 0..2 {
                let expect = before[i] - 0.1 * (x[i] + 0.5 * before[i]);
                assert!((w[i] - expect).abs() < 1e-6, "weight {i}: {} vs {expect}", w[i]);
            }
            let expect = bias[0] - 0.1 * (1.0 + 0.5 * bias[0]);
            assert!((b[0] - expect).abs() < 1e-6, "bias: {} vs {expect}", b[0]);
        }
        assert_ne!(net.layers()[0].weight.as_vec(), before);
        assert_ne!(net.layers()[0].bias.as_vec(), bias);
        assert_eq!(adam.t, 0, "SGD leaves Adam's step count alone");
    }

    #[test]
    fn the_parallel_cpu_step_equals_the_in_order_step_bit_for_bit() {
        // A net above the parallel threshold (3 × ~43k parameters), weight decay on, three steps.
        let dev = TestDevice::seed_from_u64(0);
        let make = || EnsembleMlp::new(&dev, 3, 10, &[200, 200], 5, Activation::Silu, 4);
        let (mut parallel, mut in_order) = (make(), make());
        let config = AdamConfig { lr: 3e-3, weight_decay: 5e-5, ..AdamConfig::default() };
        let (mut adam_p, mut adam_o) = (Adam::new(&parallel, config), Adam::new(&in_order, config));
        for step in 0..3u32 {
            let x: Vec<f32> = (0..3 * 32 * 10).map(|i| ((i as u32 * 37 + step) % 23) as f32 / 11.0 - 1.0).collect();
            let d: Vec<f32> = (0..3 * 32 * 5).map(|i| ((i as u32 * 13 + step) % 7) as f32 / 3.0 - 1.0).collect();
            let mut g_p = parallel.backprop_output_gradient(&x, &d);
            let mut g_o = in_order.backprop_output_gradient(&x, &d);
            adam_p.step(&mut parallel, &mut g_p);
            adam_o.t += 1;
            crate::kernels::adam_step_in_order(&config.kernel(), adam_o.t as i32, &mut adam_o.moments, &mut in_order, &mut g_o);
        }
        for (l, (p, o)) in parallel.layers().iter().zip(in_order.layers()).enumerate() {
            assert_eq!(p.weight.as_vec(), o.weight.as_vec(), "layer {l} weights");
            assert_eq!(p.bias.as_vec(), o.bias.as_vec(), "layer {l} biases");
        }
        assert_ne!(parallel.layers()[1].weight.as_vec(), make().layers()[1].weight.as_vec(), "the weights moved");
    }
}

//! The CPU path's elementwise passes: bias + activation fused into one sweep over a layer's
//! output, the activation derivatives of the backward pass, and a vectorisable `exp` for SiLU's
//! sigmoid (libm's `expf` is a scalar call per element, which made SiLU cost as much as the
//! matrix products around it).
//!
//! The hot loops are compiled three times — for the baseline target, with AVX2 and with AVX-512
//! — and picked at run time ([`dispatched!`]). No fused multiply-add is used, so every version
//! gives identical results.

use crate::learn::Activation;

/// Defines `$name`, which runs `$body` compiled for AVX-512, for AVX2 or for the baseline target,
/// the best the CPU supports (checked at run time). `$body` must be `#[inline(always)]`, so that
/// each copy is vectorised for its own target.
macro_rules! dispatched {
    ($(#[$doc:meta])* $vis:vis fn $name:ident => $body:ident ($($arg:ident : $ty:ty),*)) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F, checked just above.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

/// `exp(x)` to within a few ulp for every finite `x` (Cephes' `expf`: range reduction by
/// ln 2 and a degree-6 polynomial), clamped to f32's normal range; written without branches
/// or libm calls so that loops over it vectorise.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5·2²³: adding it rounds to an integer in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    // n as an integer, read from t's mantissa (an `as i32` cast saturates and does not vectorise).
    let ni = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits((ni.wrapping_add(127) << 23) as u32)
}

dispatched! {
    /// Adds `bias[f]` to feature `f` of `z` (feature-major: `bias.len()` runs of `rows` values)
    /// and applies `act` in place; for SiLU, `sigmoid` (same shape) receives σ(z), which the
    /// backward pass reuses.
    pub(crate) fn bias_activation => bias_activation_body(z: &mut [f32], bias: &[f32], rows: usize, act: Option<Activation>, sigmoid: Option<&mut [f32]>)
}

#[inline(always)]
fn bias_activation_body(z: &mut [f32], bias: &[f32], rows: usize, act: Option<Activation>, sigmoid: Option<&mut [f32]>) {
    if rows == 0 {
        return;
    }
    debug_assert_eq!(z.len(), rows * bias.len());
    let features = z.chunks_exact_mut(rows).zip(bias);
    match (act, sigmoid) {
        (None, _) => {
            for (feature, b) in features {
                for v in feature {
                    *v += b;
                }
            }
        }
        (Some(Activation::Relu), _) => {
            for (feature, b) in features {
                for v in feature {
                    *v = (*v + b).max(0.0);
                }
            }
        }
        (Some(Activation::Silu), Some(sig)) => {
            for ((feature, b), sf) in features.zip(sig.chunks_exact_mut(rows)) {
                for (v, s) in feature.iter_mut().zip(sf) {
                    let x = *v + b;
                    let sg = 1.0 / (1.0 + exp(-x));
                    *s = sg;
                    *v = x * sg;
                }
            }
        }
        (Some(Activation::Silu), None) => {
            for (feature, b) in features {
                for v in feature {
                    let x = *v + b;
                    *v = x / (1.0 + exp(-x));
                }
            }
        }
    }
}

dispatched! {
    /// Multiplies the gradient `d` with respect to an activation's output `h` by the
    /// activation's derivative: ReLU's step (from `h > 0`), or SiLU's σ + h·(1 − σ) from the
    /// stored σ.
    pub(crate) fn activation_backward => activation_backward_body(d: &mut [f32], h: &[f32], act: Activation, sigmoid: &[f32])
}

#[inline(always)]
fn activation_backward_body(d: &mut [f32], h: &[f32], act: Activation, sigmoid: &[f32]) {
    match act {
        Activation::Relu => {
            // A select, not a conditional store, so that the loop vectorises.
            for (g, h) in d.iter_mut().zip(h) {
                *g = if *h <= 0.0 { 0.0 } else { *g };
            }
        }
        Activation::Silu => {
            for ((g, h), s) in d.iter_mut().zip(h).zip(sigmoid) {
                *g *= s + h * (1.0 - s);
            }
        }
    }
}

/// `sums[f] += Σ_r d[f, r]` for feature-major `d` (`sums.len()` runs of `rows` values): a bias
/// gradient. Each run is summed in 16 interleaved partial sums, so that the loop vectorises.
pub(crate) fn add_feature_sums(sums: &mut [f32], d: &[f32], rows: usize) {
    const LANES: usize = 16;
    if rows == 0 {
        return;
    }
    for (s, feature) in sums.iter_mut().zip(d.chunks_exact(rows)) {
        let mut lanes = [0.0f32; LANES];
        let chunks = feature.chunks_exact(LANES);
        let tail: f32 = chunks.remainder().iter().sum();
        for c in chunks {
            for l in 0..LANES {
                lanes[l] += c[l];
            }
        }
        *s += lanes.iter().sum::<f32>() + tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run-time dispatched copies (AVX-512 or AVX2 on x86-64) must give the same bits as the
    /// baseline build of the same loops: runs are reproducible across CPUs of one architecture.
    #[test]
    fn dispatched_versions_equal_the_baseline_bit_for_bit() {
        let (rows, features) = (37, 5);
        let z0: Vec<f32> = (0..rows * features).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 61.0).collect();
        let bias: Vec<f32> = (0..features).map(|f| f as f32 * 0.3 - 0.7).collect();
        for act in [None, Some(Activation::Relu), Some(Activation::Silu)] {
            let (mut fast, mut base) = (z0.clone(), z0.clone());
            let (mut sig_fast, mut sig_base) = (vec![0.0; z0.len()], vec![0.0; z0.len()]);
            let keep = act == Some(Activation::Silu);
            bias_activation(&mut fast, &bias, rows, act, keep.then_some(&mut sig_fast[..]));
            bias_activation_body(&mut base, &bias, rows, act, keep.then_some(&mut sig_base[..]));
            assert_eq!(
                fast.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                base.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{act:?}"
            );
            assert_eq!(sig_fast, sig_base, "{act:?} sigmoid");
            if let Some(act) = act {
                let d0: Vec<f32> = (0..z0.len()).map(|i| (i as f32 * 0.37).sin()).collect();
                let (mut d_fast, mut d_base) = (d0.clone(), d0);
                activation_backward(&mut d_fast, &fast, act, &sig_fast);
                activation_backward_body(&mut d_base, &base, act, &sig_base);
                assert_eq!(d_fast, d_base, "{act:?} backward");
            }
        }
    }
}

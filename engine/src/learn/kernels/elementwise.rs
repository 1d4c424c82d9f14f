//! The CPU path's elementwise passes: bias + activation fused into one sweep over a layer's
//! output, the activation derivatives of the backward pass, and a vectorisable `exp` for SiLU's
//! sigmoid (libm's `expf` is a scalar call per element, which made SiLU cost as much as the
//! matrix products around it).
//!
//! The hot loops are compiled twice — for the baseline target and with AVX2 — and picked at run
//! time. No fused multiply-add is used, so both versions give identical results.

use crate::learn::Activation;

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

/// Adds `bias[f]` to feature `f` of `z` (feature-major: `bias.len()` runs of `rows` values) and
/// applies `act` in place; for SiLU, `sigmoid` (same shape) receives σ(z), which the backward
/// pass reuses.
pub(crate) fn bias_activation(z: &mut [f32], bias: &[f32], rows: usize, act: Option<Activation>, sigmoid: Option<&mut [f32]>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { bias_activation_avx2(z, bias, rows, act, sigmoid) };
    }
    bias_activation_body(z, bias, rows, act, sigmoid)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn bias_activation_avx2(z: &mut [f32], bias: &[f32], rows: usize, act: Option<Activation>, sigmoid: Option<&mut [f32]>) {
    bias_activation_body(z, bias, rows, act, sigmoid)
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

/// Multiplies the gradient `d` with respect to an activation's output `h` by the activation's
/// derivative: ReLU's step (from `h > 0`), or SiLU's σ + h·(1 − σ) from the stored σ.
pub(crate) fn activation_backward(d: &mut [f32], h: &[f32], act: Activation, sigmoid: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { activation_backward_avx2(d, h, act, sigmoid) };
    }
    activation_backward_body(d, h, act, sigmoid)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn activation_backward_avx2(d: &mut [f32], h: &[f32], act: Activation, sigmoid: &[f32]) {
    activation_backward_body(d, h, act, sigmoid)
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

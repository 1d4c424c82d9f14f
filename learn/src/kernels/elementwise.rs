//! The CPU path's elementwise passes: bias + activation fused into one sweep over a layer's
//! output, the activation derivatives of the backward pass, and a vectorisable `exp` for SiLU's
//! sigmoid (libm's `expf` is a scalar call per element, which made SiLU cost as much as the
//! matrix products around it).
//!
//! The hot loops are compiled three times — for the baseline target, with AVX2 and with AVX-512
//! — and picked at run time ([`dispatched!`]). No fused multiply-add is used, so every version
//! gives identical results.

use crate::Activation;

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
pub(crate) use dispatched;

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

/// `ln(1 + x)` for `x ≥ 0` to within a few ulp (Cephes' `logf` on `u = 1 + x`, plus the
/// classic correction `(x − (u − 1)) / u` for the rounding of `u`); without branches or libm
/// calls, so that loops over it vectorise.
#[inline(always)]
pub(crate) fn ln_1p(x: f32) -> f32 {
    let u = 1.0 + x;
    let bits = u.to_bits() as i32;
    // u = m · 2^e with m in [1, 2), then m in [√½, √2).
    let mut e = ((bits >> 23) - 127) as f32;
    let mut m = f32::from_bits(((bits & 0x007f_ffff) | 0x3f80_0000) as u32);
    let big = m > std::f32::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e = if big { e + 1.0 } else { e };
    let f = m - 1.0;
    let z = f * f;
    let mut p = 7.037_683_6e-2f32;
    p = p * f - 1.151_461e-1;
    p = p * f + 1.167_699_9e-1;
    p = p * f - 1.242_014_1e-1;
    p = p * f + 1.424_932_3e-1;
    p = p * f - 1.666_805_8e-1;
    p = p * f + 2.000_071_5e-1;
    p = p * f - 2.499_999_4e-1;
    p = p * f + 3.333_333e-1;
    let y = f * z * p - 2.121_944_4e-4 * e - 0.5 * z;
    let ln_u = f + y + 0.693_359_4 * e;
    ln_u + (x - (u - 1.0)) / u
}

/// `(softplus(x), sigmoid(x))`: the softplus and its slope from one exponential. Above 20 the
/// softplus is `x` and the slope rounds to 1.
#[inline(always)]
fn softplus_and_slope(x: f32) -> (f32, f32) {
    let e = exp(x.min(20.0));
    let big = x > 20.0;
    (if big { x } else { ln_1p(e) }, if big { 1.0 } else { e / (1.0 + e) })
}

dispatched! {
    /// Soft bounds on log-variances ([`crate::logvar_bounds`]), one value at a time with
    /// that value's upper and lower bound (`hi`, `lo`, same length as `raw`):
    /// `logvar = lo + softplus(upper − lo)` with `upper = hi − softplus(hi − raw)`, and its
    /// derivatives with respect to `raw`, `hi` and `lo`.
    pub(crate) fn soft_bounds => soft_bounds_body(raw: &[f32], hi: &[f32], lo: &[f32], logvar: &mut [f32], d_raw: &mut [f32], d_max: &mut [f32], d_min: &mut [f32])
}

#[inline(always)]
fn soft_bounds_body(raw: &[f32], hi: &[f32], lo: &[f32], logvar: &mut [f32], d_raw: &mut [f32], d_max: &mut [f32], d_min: &mut [f32]) {
    let n = raw.len();
    let (hi, lo, logvar, d_raw, d_max, d_min) = (&hi[..n], &lo[..n], &mut logvar[..n], &mut d_raw[..n], &mut d_max[..n], &mut d_min[..n]);
    for i in 0..n {
        let (soft_hi, s_hi) = softplus_and_slope(hi[i] - raw[i]);
        let upper = hi[i] - soft_hi;
        let (soft_lo, s_lo) = softplus_and_slope(upper - lo[i]);
        logvar[i] = lo[i] + soft_lo;
        d_raw[i] = s_hi * s_lo;
        d_max[i] = (1.0 - s_hi) * s_lo;
        d_min[i] = 1.0 - s_lo;
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

    #[test]
    fn ln_1p_matches_libm_within_a_few_ulp() {
        let mut worst = 0.0f64;
        // From subnormal-adjacent tiny values through 1 to e^20 (the softplus range), densely.
        let mut x = 1e-12f32;
        while x < 5e8 {
            for v in [x, x * 1.000_123, x * 1.37] {
                let want = f64::from(v).ln_1p();
                let got = f64::from(ln_1p(v));
                worst = worst.max(((got - want) / want).abs());
            }
            x *= 1.01;
        }
        assert_eq!(ln_1p(0.0), 0.0);
        assert!(worst < 4e-7, "worst relative error {worst}");
    }

    #[test]
    fn soft_bounds_match_the_libm_formulas_and_the_dispatched_copies_agree() {
        let n = 1000;
        let raw: Vec<f32> = (0..n).map(|i| (i as f32 - 500.0) / 20.0).collect();
        let hi: Vec<f32> = (0..n).map(|i| 0.5 - (i % 3) as f32 * 0.2).collect();
        let lo: Vec<f32> = (0..n).map(|i| -10.0 + (i % 5) as f32).collect();
        let mut fast = vec![vec![0.0f32; n]; 4];
        let mut base = vec![vec![0.0f32; n]; 4];
        let [a, b, c, d] = &mut fast[..] else { unreachable!() };
        soft_bounds(&raw, &hi, &lo, a, b, c, d);
        let [a, b, c, d] = &mut base[..] else { unreachable!() };
        soft_bounds_body(&raw, &hi, &lo, a, b, c, d);
        assert_eq!(fast, base, "dispatched copy vs baseline");
        let softplus = |x: f64| if x > 20.0 { x } else { x.exp().ln_1p() };
        let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
        for i in 0..n {
            let (r, h, l) = (f64::from(raw[i]), f64::from(hi[i]), f64::from(lo[i]));
            let upper = h - softplus(h - r);
            let (s_hi, s_lo) = (sigmoid(h - r), sigmoid(upper - l));
            let want = [l + softplus(upper - l), s_hi * s_lo, (1.0 - s_hi) * s_lo, 1.0 - s_lo];
            for (k, w) in want.iter().enumerate() {
                let got = f64::from(fast[k][i]);
                assert!((got - w).abs() <= 2e-6 * (1.0 + w.abs()), "output {k} at raw {r}: {got} vs {w}");
            }
        }
    }
}

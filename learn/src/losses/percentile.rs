//! The percentile clip of value-gradient norms (paper App. E): empirical value gradients can be
//! very sharp, so per value function the per-sample L2 norms above the batch's 95th percentile
//! are scaled down to it (directions kept).

/// The `q`-th percentile (0–100) of `values`, linearly interpolated between order statistics
/// (numpy's and torch's default).
pub fn percentile(values: &[f32], q: f64) -> f32 {
    assert!(!values.is_empty(), "percentile of an empty batch");
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    let pos = (q / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = (pos - lo as f64) as f32;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Scales the rows (`dim` wide) of `grads` whose L2 norm exceeds the `q`-th percentile of the
/// batch's norms down to that percentile. Returns the threshold.
pub fn clip_norms_at_percentile(grads: &mut [f32], dim: usize, q: f64) -> f32 {
    let norms: Vec<f32> = grads.chunks(dim).map(|r| r.iter().map(|v| v * v).sum::<f32>().sqrt()).collect();
    let threshold = percentile(&norms, q);
    for (row, norm) in grads.chunks_mut(dim).zip(&norms) {
        if *norm > threshold && *norm > 0.0 {
            let scale = threshold / norm;
            row.iter_mut().for_each(|v| *v *= scale);
        }
    }
    threshold
}

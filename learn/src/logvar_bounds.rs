//! Soft bounds on predicted log-variances (PETS, MBPO): `lv = max − softplus(max − raw)`, then
//! `lv = min + softplus(lv − min)`, with `max` and `min` learned per output dimension and the
//! regulariser `reg · (Σ max − Σ min)` keeping the band tight. MBPO initialises them at 0.5 and
//! −10. The bounds are soft: `min` holds exactly, `max` up to `ln(1 + e^−(max−min))`.

use rayon::prelude::*;

use super::kernels::soft_bounds;

/// Learned per-dimension log-variance bounds with their Adam state.
#[derive(Debug, Clone, PartialEq)]
pub struct LogvarBounds {
    /// Upper bounds.
    pub max: Vec<f32>,
    /// Lower bounds.
    pub min: Vec<f32>,
    /// Weight of `Σ max − Σ min` in the loss.
    pub reg: f32,
    pub(crate) moments: Vec<(f32, f32)>,
    pub(crate) t: i32,
}

/// Bounded log-variances of a batch with the derivatives needed to backpropagate through them.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundedLogvar {
    /// Bounded log-variances, same layout as the raw outputs.
    pub logvar: Vec<f32>,
    /// ∂logvar/∂raw.
    pub d_raw: Vec<f32>,
    /// ∂logvar/∂max (per element; sum over rows for the bound's gradient).
    pub d_max: Vec<f32>,
    /// ∂logvar/∂min (per element).
    pub d_min: Vec<f32>,
}

impl LogvarBounds {
    /// Bounds for `dim` outputs, initialised at `[min, max]`.
    pub fn new(dim: usize, min: f32, max: f32, reg: f32) -> Self {
        Self { max: vec![max; dim], min: vec![min; dim], reg, moments: vec![(0.0, 0.0); 2 * dim], t: 0 }
    }

    /// Bounds raw log-variance outputs (rows of `max.len()`). Each value is computed on its own,
    /// an exponential and a logarithm per softplus, in a vectorised pass (with libm's scalar
    /// calls this was a tenth of a 7 × 4×200 training step); large batches are cut into row
    /// blocks spread over rayon's threads. The result does not depend on the cut.
    pub fn apply(&self, raw: &[f32]) -> BoundedLogvar {
        /// Values per parallel block (whole rows).
        const BLOCK_VALUES: usize = 4096;
        let dim = self.max.len().max(1);
        let n = raw.len();
        let mut out = BoundedLogvar { logvar: vec![0.0; n], d_raw: vec![0.0; n], d_max: vec![0.0; n], d_min: vec![0.0; n] };
        let block = BLOCK_VALUES.div_ceil(dim) * dim;
        if n <= BLOCK_VALUES {
            self.bound_block(raw, &mut out.logvar, &mut out.d_raw, &mut out.d_max, &mut out.d_min);
        } else {
            raw.par_chunks(block)
                .zip(out.logvar.par_chunks_mut(block))
                .zip(out.d_raw.par_chunks_mut(block))
                .zip(out.d_max.par_chunks_mut(block).zip(out.d_min.par_chunks_mut(block)))
                .for_each(|(((r, lv), dr), (dx, dn))| self.bound_block(r, lv, dr, dx, dn));
        }
        out
    }

    /// [`Self::apply`] on a block of whole rows.
    fn bound_block(&self, raw: &[f32], logvar: &mut [f32], d_raw: &mut [f32], d_max: &mut [f32], d_min: &mut [f32]) {
        // Each value's bounds laid out beside it, for the vectorised pass.
        let rows = raw.len() / self.max.len().max(1);
        let (hi, lo) = (self.max.repeat(rows), self.min.repeat(rows));
        soft_bounds(raw, &hi, &lo, logvar, d_raw, d_max, d_min);
    }

    /// The regulariser `reg · (Σ max − Σ min)`.
    pub fn regulariser(&self) -> f64 {
        self.reg as f64 * (self.max.iter().sum::<f32>() - self.min.iter().sum::<f32>()) as f64
    }

    /// One Adam step on the bounds given the loss gradients with respect to them (the
    /// regulariser's gradient is added here).
    pub fn step(&mut self, d_max: &[f32], d_min: &[f32], lr: f32) {
        self.t += 1;
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        let dim = self.max.len();
        for j in 0..2 * dim {
            let (param, g) =
                if j < dim { (&mut self.max[j], d_max[j] + self.reg) } else { (&mut self.min[j - dim], d_min[j - dim] - self.reg) };
            let (m, v) = &mut self.moments[j];
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *param -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_logvar_stays_within_its_bounds() {
        let b = LogvarBounds::new(2, -10.0, 0.5, 0.01);
        let raw = [-1e4f32, 1e4, -50.0, 50.0, 0.0, -3.0, f32::MAX / 2.0, -f32::MAX / 2.0];
        let out = b.apply(&raw);
        // The bounds are soft: the lower one holds exactly, the upper one up to the softplus tail
        // ln(1 + e^-(max - min)) of the second bounding step (2.8e-5 here).
        let slack = (-(0.5f32 + 10.0)).exp().ln_1p();
        for (r, lv) in raw.iter().zip(&out.logvar) {
            assert!(*lv >= -10.0 && *lv <= 0.5 + slack * 1.01, "raw {r} → {lv}");
        }
        // Inside the band the bound is close to the identity.
        assert!((out.logvar[5] - -3.0).abs() < 0.05);
    }

    #[test]
    fn bound_derivatives_match_finite_differences() {
        let b = LogvarBounds::new(1, -4.0, 1.0, 0.01);
        for raw in [-6.0f32, -3.5, 0.0, 0.8, 2.5] {
            let out = b.apply(&[raw]);
            let h = 1e-3;
            let fd_raw = (b.apply(&[raw + h]).logvar[0] - b.apply(&[raw - h]).logvar[0]) / (2.0 * h);
            let mut hi = b.clone();
            hi.max[0] += h;
            let mut lo = b.clone();
            lo.max[0] -= h;
            let fd_max = (hi.apply(&[raw]).logvar[0] - lo.apply(&[raw]).logvar[0]) / (2.0 * h);
            let mut hi = b.clone();
            hi.min[0] += h;
            let mut lo = b.clone();
            lo.min[0] -= h;
            let fd_min = (hi.apply(&[raw]).logvar[0] - lo.apply(&[raw]).logvar[0]) / (2.0 * h);
            assert!((fd_raw - out.d_raw[0]).abs() < 1e-3, "raw {raw}: {} vs {fd_raw}", out.d_raw[0]);
            assert!((fd_max - out.d_max[0]).abs() < 1e-3, "raw {raw}: {} vs {fd_max}", out.d_max[0]);
            assert!((fd_min - out.d_min[0]).abs() < 1e-3, "raw {raw}: {} vs {fd_min}", out.d_min[0]);
        }
    }

    #[test]
    fn a_large_batch_cut_into_parallel_blocks_equals_row_by_row() {
        let mut b = LogvarBounds::new(11, -10.0, 0.5, 0.01);
        b.max[3] = 0.2;
        b.min[7] = -4.0;
        // 7 members × 256 rows × 11 outputs: several blocks, one of them partial.
        let raw: Vec<f32> = (0..7 * 256 * 11).map(|i| ((i * 7919 % 2000) as f32 / 100.0) - 15.0).collect();
        let whole = b.apply(&raw);
        for (r, row) in raw.chunks(11).enumerate() {
            let one = b.apply(row);
            let at = r * 11..(r + 1) * 11;
            assert_eq!(&whole.logvar[at.clone()], &one.logvar[..], "row {r}");
            assert_eq!(&whole.d_raw[at.clone()], &one.d_raw[..], "row {r}");
            assert_eq!(&whole.d_max[at.clone()], &one.d_max[..], "row {r}");
            assert_eq!(&whole.d_min[at], &one.d_min[..], "row {r}");
        }
    }
}

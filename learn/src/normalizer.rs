//! Input normalisation from data statistics (MBRL-Lib's `Normalizer`): z-scores per column.

/// Per-column mean and standard deviation.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalizer {
    /// Column means.
    pub mean: Vec<f32>,
    /// Column standard deviations (1 where a column is constant).
    pub std: Vec<f32>,
}

impl Normalizer {
    /// The identity normalisation for `dim` columns.
    pub fn identity(dim: usize) -> Self {
        Self { mean: vec![0.0; dim], std: vec![1.0; dim] }
    }

    /// Statistics of the rows (`dim` wide) of `data`.
    pub fn fit(data: &[f32], dim: usize) -> Self {
        let n = (data.len() / dim).max(1) as f64;
        let mut mean = vec![0.0f64; dim];
        for row in data.chunks(dim) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += *v as f64 / n;
            }
        }
        let mut var = vec![0.0f64; dim];
        for row in data.chunks(dim) {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (*v as f64 - m).powi(2) / n;
            }
        }
        let std = var.iter().map(|v| if v.sqrt() < 1e-12 { 1.0 } else { v.sqrt() as f32 }).collect();
        Self { mean: mean.into_iter().map(|m| m as f32).collect(), std }
    }

    /// Normalises rows in place.
    pub fn apply(&self, data: &mut [f32]) {
        let dim = self.mean.len();
        for row in data.chunks_mut(dim) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_columns_have_zero_mean_and_unit_std() {
        let data: Vec<f32> = (0..300).map(|i| if i % 3 == 2 { 5.0 } else { (i as f32 * 0.37).sin() * 10.0 + i as f32 }).collect();
        let n = Normalizer::fit(&data, 3);
        assert_eq!(n.std[2], 1.0, "constant column keeps scale 1");
        let mut z = data.clone();
        n.apply(&mut z);
        let stats = Normalizer::fit(&z, 3);
        for d in 0..2 {
            assert!(stats.mean[d].abs() < 1e-4 && (stats.std[d] - 1.0).abs() < 1e-4, "{stats:?}");
        }
    }
}

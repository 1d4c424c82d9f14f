//! Loss landscapes around one transition (paper Fig. 1): for every candidate prediction `ŝ` on a
//! grid over two state coordinates, the VAML, MSE and VaGraM losses against the reference next
//! state `s'`, plus the value function itself.
//!
//! Losses are written in the plotted coordinates `x` (e.g. the pendulum's (θ, θ̇)), with
//! observations `obs(x)` fed to the value functions: MSE = ‖x̂ − x'‖², VAML = (V(x') − V(x̂))²,
//! VaGraM = Σ_d (∂V/∂x_d (x'))² (x̂_d − x'_d)², with ∂V/∂x from the observation gradient by the
//! chain rule. V is the mean of the oracle's value functions.

use super::losses::ValueOracle;

/// Four grids (row-major, `n × n`, rows along the second coordinate) and their axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Landscape {
    /// Grid coordinates along the first axis.
    pub xs: Vec<f64>,
    /// Grid coordinates along the second axis.
    pub ys: Vec<f64>,
    /// The reference next state `x'`.
    pub reference: [f64; 2],
    /// `V(x)`.
    pub value: Vec<f64>,
    /// `(V(x') − V(x̂))²`.
    pub vaml: Vec<f64>,
    /// `‖x̂ − x'‖²`.
    pub mse: Vec<f64>,
    /// `Σ_d (∂V/∂x_d(x'))² (x̂_d − x'_d)²`.
    pub vagram: Vec<f64>,
    /// `∂V/∂x (x')`, the gradient VaGraM's scaling comes from.
    pub gradient: [f64; 2],
}

/// How plotted coordinates map to observations: `obs(x)` and the Jacobian `∂obs/∂x` (row per
/// observation dimension).
pub trait Coordinates {
    /// Observation of the state with coordinates `x`.
    fn obs(&self, x: [f64; 2]) -> Vec<f32>;
    /// `∂obs_i/∂x_j` at `x`, as `[∂obs_i/∂x_0, ∂obs_i/∂x_1]` per observation dimension.
    fn jacobian(&self, x: [f64; 2]) -> Vec<[f64; 2]>;
}

/// The pendulum's (θ, θ̇) → (cos θ, sin θ, θ̇).
pub struct PendulumCoordinates;

impl Coordinates for PendulumCoordinates {
    fn obs(&self, x: [f64; 2]) -> Vec<f32> {
        vec![x[0].cos() as f32, x[0].sin() as f32, x[1] as f32]
    }

    fn jacobian(&self, x: [f64; 2]) -> Vec<[f64; 2]> {
        vec![[-x[0].sin(), 0.0], [x[0].cos(), 0.0], [0.0, 1.0]]
    }
}

fn mean_value(values: &[Vec<f32>], i: usize) -> f64 {
    values.iter().map(|v| v[i] as f64).sum::<f64>() / values.len() as f64
}

/// The landscapes on an `n × n` grid spanning `x_range × y_range` around `reference`.
pub fn landscape(
    oracle: &dyn ValueOracle,
    coords: &dyn Coordinates,
    reference: [f64; 2],
    x_range: [f64; 2],
    y_range: [f64; 2],
    n: usize,
) -> Landscape {
    let axis = |r: [f64; 2]| (0..n).map(|i| r[0] + (r[1] - r[0]) * i as f64 / (n - 1).max(1) as f64).collect::<Vec<_>>();
    let (xs, ys) = (axis(x_range), axis(y_range));
    let grid: Vec<[f64; 2]> = ys.iter().flat_map(|y| xs.iter().map(move |x| [*x, *y])).collect();
    let obs: Vec<f32> = grid.iter().flat_map(|p| coords.obs(*p)).collect();
    let at_grid = oracle.evaluate(&obs);
    let at_ref = oracle.evaluate(&coords.obs(reference));
    let v_ref = mean_value(&at_ref.values, 0);
    let obs_dim = at_ref.grads[0].len();
    let k = at_ref.grads.len() as f64;
    let jac = coords.jacobian(reference);
    let mut gradient = [0.0f64; 2];
    for g in &at_ref.grads {
        for (i, row) in jac.iter().enumerate().take(obs_dim) {
            for (j, gj) in gradient.iter_mut().enumerate() {
                *gj += g[i] as f64 * row[j] / k;
            }
        }
    }
    let mut out = Landscape { xs, ys, reference, value: vec![], vaml: vec![], mse: vec![], vagram: vec![], gradient };
    for (i, p) in grid.iter().enumerate() {
        let v = mean_value(&at_grid.values, i);
        let d = [p[0] - reference[0], p[1] - reference[1]];
        out.value.push(v);
        out.vaml.push((v_ref - v).powi(2));
        out.mse.push(d[0] * d[0] + d[1] * d[1]);
        out.vagram.push((gradient[0] * d[0]).powi(2) + (gradient[1] * d[1]).powi(2));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value_grad::ValueGradients;

    /// V(obs) = 3·cos θ − 0.2·θ̇² in pendulum observations.
    struct Quadratic;

    impl ValueOracle for Quadratic {
        fn evaluate(&self, states: &[f32]) -> ValueGradients {
            let values = states.chunks(3).map(|o| 3.0 * o[0] - 0.2 * o[2] * o[2]).collect();
            let grads = states.chunks(3).flat_map(|o| [3.0, 0.0, -0.4 * o[2]]).collect();
            ValueGradients { values: vec![values], grads: vec![grads] }
        }
    }

    #[test]
    fn landscapes_have_the_shapes_of_the_paper() {
        let r = [1.0, -2.0];
        let l = landscape(&Quadratic, &PendulumCoordinates, r, [r[0] - 1.0, r[0] + 1.0], [r[1] - 1.0, r[1] + 1.0], 41);
        // Chain rule: ∂V/∂θ = -3 sin θ, ∂V/∂θ̇ = -0.4 θ̇.
        assert!((l.gradient[0] - -3.0 * 1f64.sin()).abs() < 1e-5 && (l.gradient[1] - 0.8).abs() < 1e-5, "{:?}", l.gradient);
        let centre = 20 * 41 + 20;
        assert!(l.mse[centre] < 1e-12 && l.vagram[centre] < 1e-12 && l.vaml[centre] < 1e-9, "all vanish at s'");
        // MSE is round: equal at equal distances along both axes.
        let (right, up) = (20 * 41 + 30, 30 * 41 + 20);
        assert!((l.mse[right] - l.mse[up]).abs() < 1e-12);
        // VaGraM is stretched: steeper along θ, whose value gradient is larger (|-2.52| > |0.8|).
        assert!(l.vagram[right] > 5.0 * l.vagram[up], "{} vs {}", l.vagram[right], l.vagram[up]);
        // VAML vanishes along the value isoline through s', where MSE and VaGraM do not.
        let (i, v) = l.vaml.iter().enumerate().filter(|(i, _)| l.mse[*i] > 0.2).min_by(|a, b| a.1.total_cmp(b.1)).unwrap();
        assert!(*v < 1e-3 && l.vagram[i] > 1e-2, "vaml {v} at a point where vagram is {}", l.vagram[i]);
    }
}

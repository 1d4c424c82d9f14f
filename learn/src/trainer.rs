//! Fitting a dynamics model to a data set the way MBRL-Lib's `ModelTrainer` does: a held-out
//! validation split, a bootstrap sample per member, epochs of minibatch steps, early stopping
//! when no member's validation score improves by more than a relative threshold for `patience`
//! epochs, the best weights restored, and the `elites` best members selected.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use super::dynamics::{DynamicsModel, MemberBatch};
use super::error::LearnError;
use super::kernels::MlpKernels;
use super::losses::{GradAt, IterVaml, ModelLoss, ValueOracle};
use super::normalizer::Normalizer;
use super::value_cache::ValueCache;

/// How to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainerConfig {
    /// Minibatch size per member.
    pub batch_size: usize,
    /// Share of the data held out for validation.
    pub validation_ratio: f64,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Relative validation improvement that counts (0.01 in MBRL-Lib).
    pub improvement_threshold: f64,
    /// Hard cap on epochs (`None`: until patience runs out).
    pub max_epochs: Option<usize>,
    /// Number of elite members used for rollouts.
    pub elites: usize,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        Self { batch_size: 256, validation_ratio: 0.2, patience: 5, improvement_threshold: 0.01, max_epochs: None, elites: 5 }
    }
}

/// Transitions to fit, row-major.
#[derive(Debug, Clone, Copy)]
pub struct Dataset<'a> {
    /// States, `N × state_dim`.
    pub states: &'a [f32],
    /// Actions, `N × action_dim`.
    pub actions: &'a [f32],
    /// Next states.
    pub next_states: &'a [f32],
    /// Rewards, `N`.
    pub rewards: &'a [f32],
}

impl Dataset<'_> {
    /// Number of transitions.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }
}

/// What a fit did.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// Epochs run.
    pub epochs: usize,
    /// Mean training state loss of the last epoch.
    pub train_loss: f64,
    /// Validation score (state + reward loss) per member, of the restored best weights.
    pub validation: Vec<f64>,
    /// Indices of the elite members, best first.
    pub elites: Vec<usize>,
    /// Mean validation score of the elites.
    pub validation_loss: f64,
    /// VAML error on the held-out split, mean over the elites: `(1/K) Σ_k (V_k(s') − V_k(ŝ'))²`
    /// with SAC's four value functions (`None` without value functions).
    pub vaml_error: Option<f64>,
}

/// Gathered rows of a data set.
struct Gathered {
    states: Vec<f32>,
    actions: Vec<f32>,
    next_states: Vec<f32>,
    rewards: Vec<f32>,
}

fn gather(data: &Dataset, rows: &[usize], s: usize, a: usize) -> Gathered {
    let pick = |src: &[f32], w: usize| rows.iter().flat_map(|&i| src[i * w..(i + 1) * w].iter().copied()).collect();
    Gathered {
        states: pick(data.states, s),
        actions: pick(data.actions, a),
        next_states: pick(data.next_states, s),
        rewards: pick(data.rewards, 1),
    }
}

impl Gathered {
    fn batch(&self) -> MemberBatch<'_> {
        MemberBatch { states: &self.states, actions: &self.actions, next_states: &self.next_states, rewards: &self.rewards }
    }
}

/// Fits `model` to `data` with `loss` (validation scored with `validation_loss`), seeded by `seed`.
pub fn fit<D: MlpKernels>(
    model: &mut DynamicsModel<D>,
    data: &Dataset,
    loss: &dyn ModelLoss,
    validation_loss: &dyn ModelLoss,
    values: Option<&dyn ValueOracle>,
    config: &TrainerConfig,
    seed: u64,
) -> Result<FitReport, LearnError> {
    let (s, a, e, n) = (model.state_dim, model.action_dim, model.members(), data.len());
    if n < 2 {
        return Err(LearnError::Shape { what: "transitions to fit (need a validation split)".into(), expected: 2, got: n });
    }
    if config.elites == 0 || config.elites > e {
        return Err(LearnError::Shape { what: "elites (1 to the ensemble size)".into(), expected: e, got: config.elites });
    }
    // The value functions do not change during a fit: evaluate them once per transition, at
    // every point the losses take gradients at.
    let cache = values.map(|oracle| {
        let mut points = data.next_states.to_vec();
        if [loss.grad_at(), validation_loss.grad_at()].contains(&GradAt::Delta) {
            points.extend_from_slice(&GradAt::Delta.points(data.states, data.next_states));
        }
        ValueCache::precompute(oracle, &points, s)
    });
    let values = cache.as_ref().map(|c| c as &dyn ValueOracle);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let n_val = ((n as f64 * config.validation_ratio).round() as usize).clamp(1, n - 1);
    let (val_rows, train_rows) = order.split_at(n_val);
    // The normaliser sees all the data, the validation split too (MBRL-Lib's MBPO updates it
    // from the whole replay buffer before each fit).
    let inputs: Vec<f32> =
        (0..n).flat_map(|i| data.states[i * s..(i + 1) * s].iter().chain(&data.actions[i * a..(i + 1) * a]).copied()).collect();
    model.normalizer = Normalizer::fit(&inputs, s + a);
    let validation = gather(data, val_rows, s, a);
    let val_batches = vec![validation.batch(); e];
    let score = |model: &DynamicsModel<D>| -> Result<Vec<f64>, LearnError> {
        Ok(model.member_losses(&val_batches, validation_loss, values)?.iter().map(|t| t.state_loss + t.reward_loss).collect())
    };

    let mut bootstraps: Vec<Vec<usize>> =
        (0..e).map(|_| (0..train_rows.len()).map(|_| train_rows[rng.random_range(0..train_rows.len())]).collect()).collect();
    let mut best = score(model)?;
    let mut best_net = model.net.clone();
    let (mut epochs, mut since_improvement, mut train_loss) = (0, 0, f64::NAN);
    let batch = config.batch_size.min(train_rows.len()).max(1);
    while config.max_epochs.is_none_or(|m| epochs < m) && since_improvement < config.patience {
        for b in bootstraps.iter_mut() {
            b.shuffle(&mut rng);
        }
        let (mut sum, mut count) = (0.0, 0);
        for start in (0..train_rows.len()).step_by(batch) {
            // The last, shorter minibatch is kept, as MBRL-Lib's bootstrap iterator does.
            let end = (start + batch).min(train_rows.len());
            let gathered: Vec<Gathered> = bootstraps.iter().map(|b| gather(data, &b[start..end], s, a)).collect();
            let batches: Vec<MemberBatch> = gathered.iter().map(Gathered::batch).collect();
            sum += model.train_step(&batches, loss, values)?.state_loss;
            count += 1;
        }
        train_loss = sum / count.max(1) as f64;
        epochs += 1;
        if record_improvement(&mut best, &score(model)?, config.improvement_threshold) {
            best_net = model.net.clone();
            since_improvement = 0;
        } else {
            since_improvement += 1;
        }
    }
    model.net = best_net;
    let validation = score(model)?;
    let mut ranked: Vec<usize> = (0..e).collect();
    ranked.sort_by(|x, y| validation[*x].total_cmp(&validation[*y]));
    ranked.truncate(config.elites);
    let validation_loss = ranked.iter().map(|m| validation[*m]).sum::<f64>() / ranked.len() as f64;
    let vaml_error = match values {
        Some(oracle) => {
            let errors = model.member_losses(&val_batches, &IterVaml { mse_weight: 0.0 }, Some(oracle))?;
            Some(ranked.iter().map(|m| errors[*m].state_loss).sum::<f64>() / ranked.len() as f64)
        }
        None => None,
    };
    Ok(FitReport { epochs, train_loss, validation, elites: ranked, validation_loss, vaml_error })
}

/// MBRL-Lib's early-stopping rule for one epoch's validation scores `current`: the epoch
/// improves on `best` when some member's score fell by more than `threshold` of its best so far;
/// then every member's best becomes the lower of the two (`torch.minimum` in MBRL-Lib's
/// `ModelTrainer.train`), so a member creeping down by less than the threshold each epoch does
/// not keep the fit going by comparing against a stale best.
fn record_improvement(best: &mut [f64], current: &[f64], threshold: f64) -> bool {
    let improved = best.iter().zip(current).any(|(b, c)| (b - c) / b.abs().max(1e-12) > threshold);
    if improved {
        for (b, c) in best.iter_mut().zip(current) {
            *b = b.min(*c);
        }
    }
    improved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::DynamicsConfig;
    use crate::losses::Mse;
    use crate::{AdamConfig, TestDevice};

    fn data(n: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let s: Vec<f32> = (0..2 * n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let a: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let s2: Vec<f32> = (0..n).flat_map(|i| [s[2 * i] + 0.1 * s[2 * i + 1], s[2 * i + 1] + 0.1 * (a[i] - s[2 * i].sin())]).collect();
        let r: Vec<f32> = (0..n).map(|i| -s[2 * i] * s[2 * i]).collect();
        (s, a, s2, r)
    }

    fn model() -> DynamicsModel<TestDevice> {
        let config = DynamicsConfig {
            members: 4,
            hidden: vec![16, 16],
            adam: AdamConfig { lr: 3e-3, ..AdamConfig::default() },
            ..DynamicsConfig::default()
        };
        DynamicsModel::new(&TestDevice::seed_from_u64(0), 2, 1, &config).unwrap()
    }

    #[test]
    fn fit_improves_validation_stops_on_patience_and_ranks_elites() {
        let (s, a, s2, r) = data(600);
        let d = Dataset { states: &s, actions: &a, next_states: &s2, rewards: &r };
        let mut m = model();
        let cfg = TrainerConfig { batch_size: 64, patience: 3, max_epochs: Some(400), elites: 2, ..TrainerConfig::default() };
        let before = {
            let (vs, va, vs2, vr) = data(600);
            let b = MemberBatch { states: &vs, actions: &va, next_states: &vs2, rewards: &vr };
            m.member_losses(&vec![b; 4], &Mse, None).unwrap()[0].state_loss
        };
        let report = fit(&mut m, &d, &Mse, &Mse, None, &cfg, 1).unwrap();
        assert!(report.epochs < 400, "patience must stop the fit before the cap ({} epochs)", report.epochs);
        assert!(report.epochs > 3);
        assert_eq!(report.elites.len(), 2);
        let best = report.validation.iter().cloned().fold(f64::MAX, f64::min);
        assert_eq!(report.validation[report.elites[0]], best, "the first elite is the best member");
        assert!(report.validation.iter().all(|v| *v < before / 20.0), "validation {:?} vs initial {before}", report.validation);
    }

    #[test]
    fn an_improving_epoch_lowers_every_members_best_as_mbrl_lib_does() {
        let mut best = vec![1.0, 1.0];
        // Member 1 improves by 10%: the epoch counts, and member 0's 0.5% is kept as its best.
        assert!(record_improvement(&mut best, &[0.995, 0.9], 0.01));
        assert_eq!(best, [0.995, 0.9]);
        // Member 0 is now 1.2% below its first score but only 0.7% below its best: no improvement.
        assert!(!record_improvement(&mut best, &[0.988, 0.95], 0.01));
        assert_eq!(best, [0.995, 0.9], "a non-improving epoch leaves the bests alone");
        assert!(record_improvement(&mut best, &[0.98, 0.95], 0.01));
        assert_eq!(best, [0.98, 0.9], "a member that got worse keeps its best");
    }

    #[test]
    fn fit_is_deterministic_for_a_seed() {
        let (s, a, s2, r) = data(200);
        let d = Dataset { states: &s, actions: &a, next_states: &s2, rewards: &r };
        let cfg = TrainerConfig { batch_size: 32, max_epochs: Some(5), elites: 2, ..TrainerConfig::default() };
        let run = |seed| {
            let mut m = model();
            let rep = fit(&mut m, &d, &Mse, &Mse, None, &cfg, seed).unwrap();
            (rep.validation, m.net.layers()[0].weight.as_vec())
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3).1, run(4).1);
    }

    /// V(s) = s₀ + 2 s₁, counting the states it is asked about.
    struct CountingLinear(std::cell::Cell<usize>);

    impl ValueOracle for CountingLinear {
        fn evaluate(&self, states: &[f32]) -> crate::value_grad::ValueGradients {
            self.0.set(self.0.get() + states.len() / 2);
            crate::value_grad::ValueGradients {
                values: vec![states.chunks(2).map(|x| x[0] + 2.0 * x[1]).collect()],
                grads: vec![states.chunks(2).flat_map(|_| [1.0, 2.0]).collect()],
            }
        }
    }

    #[test]
    fn a_value_aware_fit_evaluates_the_value_functions_once_per_transition() {
        let (s, a, s2, r) = data(200);
        let d = Dataset { states: &s, actions: &a, next_states: &s2, rewards: &r };
        let cfg = TrainerConfig { batch_size: 32, max_epochs: Some(3), elites: 2, ..TrainerConfig::default() };
        let oracle = CountingLinear(std::cell::Cell::new(0));
        let vagram = crate::losses::Vagram::default();
        let report = fit(&mut model(), &d, &vagram, &vagram, Some(&oracle), &cfg, 5).unwrap();
        assert_eq!(report.epochs, 3);
        assert!(report.vaml_error.is_some_and(f64::is_finite));
        // Every next state once, then the VAML error's predicted next states (4 members × 40
        // validation rows); 3 epochs of 4-member minibatches and 5 validation scorings hit the cache.
        assert_eq!(oracle.0.get(), 200 + 4 * 40);
    }

    #[test]
    fn too_little_data_or_too_many_elites_is_an_error() {
        let (s, a, s2, r) = data(1);
        let d = Dataset { states: &s, actions: &a, next_states: &s2, rewards: &r };
        let err = fit(&mut model(), &d, &Mse, &Mse, None, &TrainerConfig::default(), 0).unwrap_err().to_string();
        assert!(err.contains("validation split"), "{err}");
        let (s, a, s2, r) = data(10);
        let d = Dataset { states: &s, actions: &a, next_states: &s2, rewards: &r };
        let cfg = TrainerConfig { elites: 9, ..TrainerConfig::default() };
        let err = fit(&mut model(), &d, &Mse, &Mse, None, &cfg, 0).unwrap_err().to_string();
        assert!(err.contains("elites"), "{err}");
    }
}

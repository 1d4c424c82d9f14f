//! Value gradients at a fixed set of states, computed once per model fit.
//!
//! A value-aware loss (VaGraM, the Taylor loss, value-weighted MSE, IterVAML at the target)
//! asks for `V_k(s')` and `∂V_k/∂s (s')` at the environment next states of every minibatch.
//! During one fit the value functions do not change, so those answers do not either, yet the
//! minibatches visit every transition once per member and epoch: 7 members × tens of epochs.
//! With Hopper's 1024-wide critics that was about 240 GFLOP per minibatch on the CPU.
//! [`ValueCache`] evaluates the wrapped oracle once for every distinct state of the data set
//! and answers from memory after that. States it was not built with (IterVAML's predicted next
//! states) go to the wrapped oracle, and are not stored, so memory stays at the data set's size.
//!
//! Answers are the oracle's own: a state is looked up by the exact bits of its row, and the
//! oracles here compute each row independently of the others in its batch, so a fit gives the
//! same numbers with and without the cache up to float rounding (the CPU gemm kernel sums in
//! another order for a few shapes, e.g. a single row). A fit with the cache is deterministic:
//! the same data set gives the same cache.

use std::collections::HashMap;

use super::losses::ValueOracle;
use super::value_grad::ValueGradients;

/// Rows per call to the wrapped oracle while precomputing (bounds the temporary memory).
const CHUNK_ROWS: usize = 4096;

/// A [`ValueOracle`] that answers from values and gradients precomputed at given states.
pub struct ValueCache<'a> {
    inner: &'a dyn ValueOracle,
    dim: usize,
    /// Row bits → index into the stored answers.
    index: HashMap<Box<[u32]>, usize>,
    /// `values[k][row]`.
    values: Vec<Vec<f32>>,
    /// `grads[k][row * dim + d]`.
    grads: Vec<Vec<f32>>,
}

fn key(row: &[f32]) -> Box<[u32]> {
    row.iter().map(|v| v.to_bits()).collect()
}

impl<'a> ValueCache<'a> {
    /// Evaluates `inner` at every distinct row of `states` (`N × dim`) and keeps the answers.
    pub fn precompute(inner: &'a dyn ValueOracle, states: &[f32], dim: usize) -> Self {
        assert!(dim > 0 && states.len().is_multiple_of(dim), "states must be rows of {dim} values");
        let mut index = HashMap::new();
        let mut distinct: Vec<f32> = Vec::new();
        for row in states.chunks(dim) {
            let next = index.len();
            index.entry(key(row)).or_insert_with(|| {
                distinct.extend_from_slice(row);
                next
            });
        }
        let (mut values, mut grads): (Vec<Vec<f32>>, Vec<Vec<f32>>) = (Vec::new(), Vec::new());
        for chunk in distinct.chunks(CHUNK_ROWS * dim) {
            let answer = inner.evaluate(chunk);
            if values.is_empty() {
                values = vec![Vec::with_capacity(index.len()); answer.values.len()];
                grads = vec![Vec::with_capacity(index.len() * dim); answer.grads.len()];
            }
            for (all, part) in values.iter_mut().zip(answer.values) {
                all.extend(part);
            }
            for (all, part) in grads.iter_mut().zip(answer.grads) {
                all.extend(part);
            }
        }
        Self { inner, dim, index, values, grads }
    }

    /// Number of distinct states held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no state is held.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

impl ValueOracle for ValueCache<'_> {
    fn evaluate(&self, states: &[f32]) -> ValueGradients {
        let dim = self.dim;
        let found: Vec<Option<usize>> = states.chunks(dim).map(|row| self.index.get(&key(row)).copied()).collect();
        let missing: Vec<f32> =
            states.chunks(dim).zip(&found).filter(|(_, hit)| hit.is_none()).flat_map(|(row, _)| row.iter().copied()).collect();
        if self.values.is_empty() || missing.len() == states.len() {
            return self.inner.evaluate(states);
        }
        let fresh = (!missing.is_empty()).then(|| self.inner.evaluate(&missing));
        let functions = self.values.len();
        let mut out = ValueGradients {
            values: vec![Vec::with_capacity(found.len()); functions],
            grads: vec![Vec::with_capacity(states.len()); functions],
        };
        let mut next_fresh = 0;
        for hit in &found {
            for k in 0..functions {
                let (value, grad) = match (hit, &fresh) {
                    (Some(i), _) => (self.values[k][*i], &self.grads[k][i * dim..(i + 1) * dim]),
                    (None, Some(f)) => (f.values[k][next_fresh], &f.grads[k][next_fresh * dim..(next_fresh + 1) * dim]),
                    (None, None) => unreachable!("a missing row was evaluated"),
                };
                out.values[k].push(value);
                out.grads[k].extend_from_slice(grad);
            }
            if hit.is_none() {
                next_fresh += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// Two value functions, V₀ = Σ sin(s_d)·(d+1) and V₁ = s₀·s₁, counting the rows it evaluates.
    struct Counting {
        rows: Cell<usize>,
    }

    impl ValueOracle for Counting {
        fn evaluate(&self, states: &[f32]) -> ValueGradients {
            self.rows.set(self.rows.get() + states.len() / 2);
            let rows = || states.chunks(2);
            ValueGradients {
                values: vec![rows().map(|s| s[0].sin() + 2.0 * s[1].sin()).collect(), rows().map(|s| s[0] * s[1]).collect()],
                grads: vec![rows().flat_map(|s| [s[0].cos(), 2.0 * s[1].cos()]).collect(), rows().flat_map(|s| [s[1], s[0]]).collect()],
            }
        }
    }

    #[test]
    fn answers_equal_the_oracle_and_each_distinct_state_is_evaluated_once() {
        let oracle = Counting { rows: Cell::new(0) };
        // 5000 rows (more than one precompute chunk), every state twice.
        let states: Vec<f32> = (0..2500).flat_map(|i| [i as f32 * 0.01, (i as f32 * 0.37).cos()]).collect();
        let doubled: Vec<f32> = states.iter().chain(&states).copied().collect();
        let cache = ValueCache::precompute(&oracle, &doubled, 2);
        assert_eq!(cache.len(), 2500);
        assert_eq!(oracle.rows.get(), 2500, "precompute evaluates each distinct state once");

        // A batch of known states in another order, with repeats and two unknown states.
        let mut batch: Vec<f32> = Vec::new();
        for i in [17usize, 3, 2499, 17, 0] {
            batch.extend_from_slice(&states[2 * i..2 * i + 2]);
        }
        batch.extend_from_slice(&[9.5, -1.25]);
        batch.extend_from_slice(&states[8..10]);
        batch.extend_from_slice(&[0.5, 7.0]);
        let before = oracle.rows.get();
        let got = cache.evaluate(&batch);
        assert_eq!(oracle.rows.get() - before, 2, "only the two unknown states reach the oracle");
        assert_eq!(got, oracle.evaluate(&batch), "the cache answers exactly what the oracle would");
    }

    #[test]
    fn unknown_states_pass_through_and_are_not_stored() {
        let oracle = Counting { rows: Cell::new(0) };
        let cache = ValueCache::precompute(&oracle, &[0.1, 0.2, 0.3, 0.4], 2);
        let unknown = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(cache.evaluate(&unknown), oracle.evaluate(&unknown));
        assert_eq!(cache.evaluate(&unknown), oracle.evaluate(&unknown));
        assert_eq!(cache.len(), 2, "unknown states are not added");
        // −0.0 and 0.0 are different rows to the cache, and both still get the oracle's answer.
        let signed = [-0.0, 0.2];
        assert_eq!(cache.evaluate(&signed), oracle.evaluate(&signed));
    }
}

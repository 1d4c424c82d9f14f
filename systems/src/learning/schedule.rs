//! MBPO's linear schedules `[epoch_a, epoch_b, value_a, value_b]`: linear in the epoch between a
//! and b, clamped outside (rollout length, model-data share).

use serde::{Deserialize, Serialize};

/// A schedule `[a, b, y_a, y_b]`, written in TOML as a 4-element array.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Schedule(pub f64, pub f64, pub f64, pub f64);

impl Schedule {
    /// A constant schedule.
    pub fn constant(v: f64) -> Self {
        Self(0.0, 1.0, v, v)
    }

    /// The value at `epoch`.
    pub fn at(&self, epoch: f64) -> f64 {
        let Schedule(a, b, ya, yb) = *self;
        if epoch <= a || b <= a {
            return if epoch <= a { ya } else { yb };
        }
        if epoch >= b {
            return yb;
        }
        ya + (yb - ya) * (epoch - a) / (b - a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_linear_between_their_epochs_and_clamped_outside() {
        let s = Schedule(0.0, 40.0, 0.0, 0.95);
        assert_eq!(s.at(-3.0), 0.0);
        assert!((s.at(20.0) - 0.475).abs() < 1e-12);
        assert_eq!(s.at(40.0), 0.95);
        assert_eq!(s.at(400.0), 0.95);
        assert_eq!(Schedule(20.0, 150.0, 1.0, 5.0).at(85.0), 3.0);
        assert_eq!(Schedule::constant(2.0).at(7.0), 2.0);
    }
}

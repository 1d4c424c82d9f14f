//! Seeding: one master seed per app, and from it one independent ChaCha8 stream per
//! (env, purpose).
//!
//! A stream is identified by the env's *global* index and a [`StreamPurpose`], never by the
//! thread or block that happens to simulate the env; that is what makes trajectories bitwise
//! identical whatever the thread count. Separate purposes mean that, for example, switching
//! the action source from random to CSV does not change the reset noise an env sees.

use bevy_ecs::prelude::*;
use rand::SeedableRng;
pub use rand_chacha::ChaCha8Rng;

/// What a random stream is used for; each purpose gets its own stream per env.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum StreamPurpose {
    /// Reset distribution (initial states).
    Reset = 0,
    /// Random actions of the batch runner.
    Actions = 1,
    /// Parameters and resets of distracting dimensions.
    Distractors = 2,
    /// Anything an env model draws for itself (e.g. per-instance parameters).
    Model = 3,
}

/// Number of purposes reserved per env in the stream space.
const PURPOSES_PER_ENV: u64 = 16;

/// The ChaCha8 stream for `(seed, env, purpose)`: same inputs, same numbers, on any thread.
pub fn stream(seed: u64, env: u64, purpose: StreamPurpose) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(env.wrapping_mul(PURPOSES_PER_ENV).wrapping_add(purpose as u64));
    rng
}

/// The random streams one env entity owns.
#[derive(Component, Debug, Clone)]
pub struct EnvRngs {
    /// Initial states at reset.
    pub reset: ChaCha8Rng,
    /// Random actions.
    pub actions: ChaCha8Rng,
    /// Distracting dimensions (parameters, reference-variant resets).
    pub distractors: ChaCha8Rng,
}

impl EnvRngs {
    /// The streams of env `env` under master seed `seed`.
    pub fn new(seed: u64, env: u64) -> Self {
        Self {
            reset: stream(seed, env, StreamPurpose::Reset),
            actions: stream(seed, env, StreamPurpose::Actions),
            distractors: stream(seed, env, StreamPurpose::Distractors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |mut r: ChaCha8Rng| (0..4).map(|_| r.random::<u64>()).collect::<Vec<_>>();
        assert_eq!(draw(stream(1, 5, StreamPurpose::Reset)), draw(stream(1, 5, StreamPurpose::Reset)));
        assert_ne!(draw(stream(1, 5, StreamPurpose::Reset)), draw(stream(1, 6, StreamPurpose::Reset)));
        assert_ne!(draw(stream(1, 5, StreamPurpose::Reset)), draw(stream(1, 5, StreamPurpose::Actions)));
        assert_ne!(draw(stream(1, 5, StreamPurpose::Reset)), draw(stream(2, 5, StreamPurpose::Reset)));
    }
}

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
    /// The seed of one random part of a learner (agent, model, fits, rollouts, …; see
    /// [`part_seed`]), indexed by the part instead of an env.
    Learning = 4,
}

/// Number of purposes reserved per env in the stream space.
const PURPOSES_PER_ENV: u64 = 16;

/// The ChaCha8 stream for `(seed, env, purpose)`: same inputs, same numbers, on any thread.
pub fn stream(seed: u64, env: u64, purpose: StreamPurpose) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(env.wrapping_mul(PURPOSES_PER_ENV).wrapping_add(purpose as u64));
    rng
}

/// The seed of random part `part` of a run with master seed `seed` (the agent's networks, the
/// model's, the fits' splits, the rollouts, …): the first draw of the ChaCha8 stream
/// `(seed, part, Learning)`, so learning state is seeded by the same streams as the envs, never
/// by one of theirs.
pub fn part_seed(seed: u64, part: u64) -> u64 {
    use rand::Rng;
    stream(seed, part, StreamPurpose::Learning).next_u64()
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

    #[test]
    fn part_seeds_are_reproducible_distinct_and_apart_from_the_env_streams() {
        let parts: Vec<u64> = (0..8).map(|p| part_seed(3, p)).collect();
        assert_eq!(parts, (0..8).map(|p| part_seed(3, p)).collect::<Vec<_>>());
        let distinct: std::collections::BTreeSet<u64> = parts.iter().copied().collect();
        assert_eq!(distinct.len(), parts.len(), "{parts:?}");
        assert_ne!(part_seed(3, 1), part_seed(4, 1), "another run seed, other parts");
        for purpose in [StreamPurpose::Reset, StreamPurpose::Actions, StreamPurpose::Distractors, StreamPurpose::Model] {
            assert_ne!(part_seed(3, 1), stream(3, 1, purpose).random::<u64>(), "not env 1's {purpose:?} stream");
        }
    }
}

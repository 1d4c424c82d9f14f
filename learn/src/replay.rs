//! A ring replay buffer with uniform sampling: the newest `capacity` transitions.

use rand::RngExt;

/// Transitions stored row-major in flat arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayBuffer {
    /// Most transitions kept.
    pub capacity: usize,
    /// Observation width.
    pub obs_dim: usize,
    /// Action width.
    pub action_dim: usize,
    pub(crate) obs: Vec<f32>,
    pub(crate) actions: Vec<f32>,
    pub(crate) rewards: Vec<f32>,
    pub(crate) next_obs: Vec<f32>,
    pub(crate) terminated: Vec<f32>,
    pub(crate) len: usize,
    pub(crate) next: usize,
}

/// A sampled minibatch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// Observations, `B × obs_dim`.
    pub obs: Vec<f32>,
    /// Actions, `B × action_dim`.
    pub actions: Vec<f32>,
    /// Rewards, `B`.
    pub rewards: Vec<f32>,
    /// Next observations.
    pub next_obs: Vec<f32>,
    /// 1 where the episode terminated (no bootstrapping), 0 otherwise (truncation bootstraps).
    pub terminated: Vec<f32>,
}

impl ReplayBuffer {
    /// An empty buffer.
    pub fn new(capacity: usize, obs_dim: usize, action_dim: usize) -> Self {
        let c = capacity.max(1);
        Self {
            capacity: c,
            obs_dim,
            action_dim,
            obs: vec![0.0; c * obs_dim],
            actions: vec![0.0; c * action_dim],
            rewards: vec![0.0; c],
            next_obs: vec![0.0; c * obs_dim],
            terminated: vec![0.0; c],
            len: 0,
            next: 0,
        }
    }

    /// Transitions stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores one transition, overwriting the oldest when full.
    pub fn push(&mut self, obs: &[f32], action: &[f32], reward: f32, next_obs: &[f32], terminated: bool) {
        let (i, o, a) = (self.next, self.obs_dim, self.action_dim);
        self.obs[i * o..(i + 1) * o].copy_from_slice(obs);
        self.actions[i * a..(i + 1) * a].copy_from_slice(action);
        self.rewards[i] = reward;
        self.next_obs[i * o..(i + 1) * o].copy_from_slice(next_obs);
        self.terminated[i] = terminated as u8 as f32;
        self.next = (i + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// The `i`-th oldest stored transition: `(obs, action, reward, next_obs, terminated)`.
    pub fn transition(&self, i: usize) -> (&[f32], &[f32], f32, &[f32], bool) {
        assert!(i < self.len, "transition {i} of {}", self.len);
        let oldest = if self.len < self.capacity { 0 } else { self.next };
        let j = (oldest + i) % self.capacity;
        let (o, a) = (self.obs_dim, self.action_dim);
        (
            &self.obs[j * o..(j + 1) * o],
            &self.actions[j * a..(j + 1) * a],
            self.rewards[j],
            &self.next_obs[j * o..(j + 1) * o],
            self.terminated[j] > 0.5,
        )
    }

    /// Every stored transition, oldest first (a model-fitting data set).
    pub fn contents(&self) -> Batch {
        let mut b = Batch::default();
        for i in 0..self.len {
            let (o, a, r, n, t) = self.transition(i);
            b.obs.extend_from_slice(o);
            b.actions.extend_from_slice(a);
            b.rewards.push(r);
            b.next_obs.extend_from_slice(n);
            b.terminated.push(t as u8 as f32);
        }
        b
    }

    /// A buffer of `capacity` holding this one's newest transitions, oldest first (MBRL-Lib's
    /// `maybe_replace_sac_buffer`, which copies the old contents into the new buffer).
    pub fn resized(&self, capacity: usize) -> Self {
        let mut out = Self::new(capacity, self.obs_dim, self.action_dim);
        for i in self.len.saturating_sub(out.capacity)..self.len {
            let (o, a, r, n, t) = self.transition(i);
            out.push(o, a, r, n, t);
        }
        out
    }

    /// `size` transitions drawn uniformly with replacement.
    pub fn sample(&self, size: usize, rng: &mut impl rand::Rng) -> Batch {
        assert!(self.len > 0, "sampling an empty replay buffer");
        let (o, a) = (self.obs_dim, self.action_dim);
        let mut b = Batch::default();
        for _ in 0..size {
            let i = rng.random_range(0..self.len);
            b.obs.extend_from_slice(&self.obs[i * o..(i + 1) * o]);
            b.actions.extend_from_slice(&self.actions[i * a..(i + 1) * a]);
            b.rewards.push(self.rewards[i]);
            b.next_obs.extend_from_slice(&self.next_obs[i * o..(i + 1) * o]);
            b.terminated.push(self.terminated[i]);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ring_keeps_the_newest_and_samples_uniformly() {
        let mut buf = ReplayBuffer::new(4, 1, 1);
        for t in 0..10 {
            buf.push(&[t as f32], &[0.0], t as f32, &[t as f32 + 1.0], t == 9);
        }
        assert_eq!(buf.len(), 4);
        assert_eq!(buf.transition(0).2, 6.0, "oldest kept is step 6");
        assert_eq!(buf.transition(3).2, 9.0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let b = buf.sample(4000, &mut rng);
        let mut counts = [0usize; 10];
        for r in &b.rewards {
            counts[*r as usize] += 1;
        }
        assert_eq!(&counts[..6], &[0; 6], "old transitions are gone");
        assert!(counts[6..].iter().all(|c| (800..1200).contains(c)), "{counts:?}");
        for (o, n) in b.obs.iter().zip(&b.next_obs) {
            assert_eq!(*n, o + 1.0, "fields of one transition stay together");
        }
        assert!(b.terminated.iter().zip(&b.rewards).all(|(d, r)| (*d == 1.0) == (*r == 9.0)));
    }
}

#[cfg(test)]
mod resize_tests {
    use super::*;

    #[test]
    fn resizing_keeps_the_newest_transitions_in_order() {
        // A wrapped ring of 5 holding 3..8, grown to 10 and shrunk to 2.
        let mut ring = ReplayBuffer::new(5, 1, 1);
        for i in 0..8 {
            ring.push(&[i as f32], &[0.0], i as f32, &[i as f32 + 1.0], i % 3 == 0);
        }
        let grown = ring.resized(10);
        assert_eq!((grown.capacity, grown.len()), (10, 5));
        assert_eq!((0..5).map(|i| grown.transition(i).2).collect::<Vec<_>>(), [3.0, 4.0, 5.0, 6.0, 7.0]);
        assert!(grown.transition(3).4, "flags travel with their transitions (6 is a multiple of 3)");
        let shrunk = ring.resized(2);
        assert_eq!((0..2).map(|i| shrunk.transition(i).2).collect::<Vec<_>>(), [6.0, 7.0]);
        let mut more = grown;
        more.push(&[9.0], &[0.0], 9.0, &[10.0], false);
        assert_eq!((more.len(), more.transition(5).2), (6, 9.0), "the grown buffer appends after its copy");
    }
}

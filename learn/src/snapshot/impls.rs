//! [`Snapshot`] for the learning types: ensembles, Adam moments, log-variance bounds, the
//! normaliser, the dynamics model, SAC and replay buffers.

use dfdx::prelude::*;

use super::{Snapshot, SnapshotError, TensorStore};
use crate::adam::Adam;
use crate::dynamics::DynamicsModel;
use crate::ensemble::EnsembleMlp;
use crate::host::HostIo;
use crate::kernels::MlpKernels;
use crate::logvar_bounds::LogvarBounds;
use crate::normalizer::Normalizer;
use crate::replay::ReplayBuffer;
use crate::sac::Sac;

fn n(prefix: &str, name: &str) -> String {
    format!("{prefix}.{name}")
}

impl<D: Device<f32>> Snapshot for EnsembleMlp<D> {
    fn save(&self, prefix: &str, store: &mut TensorStore) {
        for (i, layer) in self.layers().iter().enumerate() {
            let (e, a, b) = *layer.weight.shape();
            store.put_f32(&n(prefix, &format!("{i}.weight")), &[e, a, b], &layer.weight.as_vec());
            let (e, b) = *layer.bias.shape();
            store.put_f32(&n(prefix, &format!("{i}.bias")), &[e, b], &layer.bias.as_vec());
        }
    }

    fn load(&mut self, prefix: &str, store: &TensorStore) -> Result<(), SnapshotError> {
        let extra = format!("{prefix}.{}.weight", self.layers().len());
        if store.contains(&extra) {
            return Err(SnapshotError::Mismatch {
                name: extra,
                found: "an extra layer".into(),
                expected: format!("{} layers", self.layers().len()),
            });
        }
        for (i, layer) in self.layers_mut().iter_mut().enumerate() {
            let (e, a, b) = *layer.weight.shape();
            let w = store.get_f32(&n(prefix, &format!("{i}.weight")), &[e, a, b])?;
            let (e, b) = *layer.bias.shape();
            let bias = store.get_f32(&n(prefix, &format!("{i}.bias")), &[e, b])?;
            layer.weight.copy_from(&w);
            layer.bias.copy_from(&bias);
        }
        Ok(())
    }
}

impl<D: HostIo> Snapshot for Adam<D> {
    fn save(&self, prefix: &str, store: &mut TensorStore) {
        store.put_u64(&n(prefix, "t"), &[self.t]);
        for (i, (m, v)) in self.moments.iter().enumerate() {
            let (m, v) = (self.device.read_storage(m), self.device.read_storage(v));
            store.put_f32(&n(prefix, &format!("{i}.m")), &[m.len()], &m);
            store.put_f32(&n(prefix, &format!("{i}.v")), &[v.len()], &v);
        }
    }

    fn load(&mut self, prefix: &str, store: &TensorStore) -> Result<(), SnapshotError> {
        self.t = store.get_scalar_u64(&n(prefix, "t"))?;
        let dev = self.device.clone();
        for (i, (m, v)) in self.moments.iter_mut().enumerate() {
            let len = Storage::<f32>::len(&dev, m);
            dev.write_storage(m, &store.get_f32(&n(prefix, &format!("{i}.m")), &[len])?);
            dev.write_storage(v, &store.get_f32(&n(prefix, &format!("{i}.v")), &[len])?);
        }
        Ok(())
    }
}

impl Snapshot for LogvarBounds {
    fn save(&self, prefix: &str, store: &mut TensorStore) {
        store.put_f32(&n(prefix, "max"), &[self.max.len()], &self.max);
        store.put_f32(&n(prefix, "min"), &[self.min.len()], &self.min);
        let flat: Vec<f32> = self.moments.iter().flat_map(|(m, v)| [*m, *v]).collect();
        store.put_f32(&n(prefix, "moments"), &[flat.len()], &flat);
        store.put_u64(&n(prefix, "t"), &[self.t as u64]);
    }

    fn load(&mut self, prefix: &str, store: &TensorStore) -> Result<(), SnapshotError> {
        self.max = store.get_f32(&n(prefix, "max"), &[self.max.len()])?;
        self.min = store.get_f32(&n(prefix, "min"), &[self.min.len()])?;
        let flat = store.get_f32(&n(prefix, "moments"), &[2 * self.moments.len()])?;
        self.moments = flat.chunks_exact(2).map(|c| (c[0], c[1])).collect();
        self.t = store.get_scalar_u64(&n(prefix, "t"))? as i32;
        Ok(())
    }
}

impl Snapshot for Normalizer {
    fn save(&self, prefix: &str, store: &mut TensorStore) {
        store.put_f32(&n(prefix, "mean"), &[self.mean.len()], &self.mean);
        store.put_f32(&n(prefix, "std"), &[self.std.len()], &self.std);
    }

    fn load(&mut self, prefix: &str, store: &TensorStore) -> Result<(), SnapshotError> {
        self.mean = store.get_f32(&n(prefix, "mean"), &[self.mean.len()])?;
        self.std = store.get_f32(&n(prefix, "std"), &[self.std.len()])?;
        Ok(())
    }
}

impl<D: MlpKernels> Snapshot for DynamicsModel<D> {
    fn save(&self, prefix: &str, store: &mut TensorStore) {
        self.net.save(&n(prefix, "net"), store);
        self.adam.save(&n(prefix, "adam"), store);
        self.normalizer.save(&n(prefix, "normalizer"), store);
        if let Some(b) = &self.bounds {
            b.save(&n(prefix, "logvar_bounds"), store);
        }
        store.put_u64(&n(prefix, "steps"), &[self.steps]);
    }

    fn load(&mut self, prefix: &str, store: &TensorStore) -> Result<(), SnapshotError> {
        self.net.load(&n(prefix, "net"), store)?;
        self.adam.load(&n(prefix, "adam"), store)?;
        self.normalizer.load(&n(prefix, "normalizer"), store)?;
        if let Some(b) = &mut self.bounds {
            b.load(&n(prefix, "logvar_bounds"), store)?;
        }
        self.steps = store.get_scalar_u64(&n(prefix, "steps"))?;
        Ok(())
    }
}

impl<D: MlpKernels> Snapshot for Sac<D> {
    fn save(&self, prefix: &str, store: &mut TensorStore) {
        self.actor.save(&n(prefix, "actor"), store);
        self.critics.save(&n(prefix, "critics"), store);
        self.target_critics.save(&n(prefix, "target_critics"), store);
        self.actor_adam.save(&n(prefix, "actor_adam"), store);
        self.critic_adam.save(&n(prefix, "critic_adam"), store);
        store.put_f32(&n(prefix, "alpha"), &[3], &[self.log_alpha, self.alpha_moments.0, self.alpha_moments.1]);
        store.put_u64(&n(prefix, "updates"), &[self.updates]);
        self.rng.save(&n(prefix, "rng"), store);
    }

    fn load(&mut self, prefix: &str, store: &TensorStore) -> Result<(), SnapshotError> {
        self.actor.load(&n(prefix, "actor"), store)?;
        self.critics.load(&n(prefix, "critics"), store)?;
        self.target_critics.load(&n(prefix, "target_critics"), store)?;
        self.actor_adam.load(&n(prefix, "actor_adam"), store)?;
        self.critic_adam.load(&n(prefix, "critic_adam"), store)?;
        let alpha = store.get_f32(&n(prefix, "alpha"), &[3])?;
        (self.log_alpha, self.alpha_moments) = (alpha[0], (alpha[1], alpha[2]));
        self.updates = store.get_scalar_u64(&n(prefix, "updates"))?;
        self.rng.load(&n(prefix, "rng"), store)
    }
}

impl<D: MlpKernels> Sac<D> {
    /// An independent copy of the agent on device `dev` (networks, targets, α, optimiser state,
    /// random stream), through a snapshot: e.g. a CPU copy of a CUDA agent for the viewer.
    pub fn copy_to<D2: MlpKernels>(&self, dev: &D2) -> Result<Sac<D2>, SnapshotError> {
        let mut store = TensorStore::new();
        self.save("agent", &mut store);
        let mut copy = Sac::new(dev, self.obs_dim, self.action_dim, self.config.clone());
        copy.load("agent", &store)?;
        Ok(copy)
    }
}

impl ReplayBuffer {
    /// Loads a buffer saved under `prefix` at the capacity it was saved with (a buffer whose
    /// capacity follows a schedule, as the model buffer's does), refusing one above
    /// `max_capacity`.
    pub fn load_with_stored_capacity(&mut self, prefix: &str, store: &TensorStore, max_capacity: usize) -> Result<(), SnapshotError> {
        let capacity = store.get_u64(&n(prefix, "ring"), 3)?[0] as usize;
        if capacity == 0 || capacity > max_capacity {
            return Err(SnapshotError::Mismatch {
                name: n(prefix, "ring"),
                found: format!("capacity {capacity}"),
                expected: format!("a capacity between 1 and {max_capacity}"),
            });
        }
        if capacity != self.capacity {
            *self = ReplayBuffer::new(capacity, self.obs_dim, self.action_dim);
        }
        self.load(prefix, store)
    }
}

impl Snapshot for ReplayBuffer {
    fn save(&self, prefix: &str, store: &mut TensorStore) {
        // Only the filled part of the ring is written.
        let (o, a, len) = (self.obs_dim, self.action_dim, self.len);
        store.put_u64(&n(prefix, "ring"), &[self.capacity as u64, len as u64, self.next as u64]);
        store.put_f32(&n(prefix, "obs"), &[len, o], &self.obs[..len * o]);
        store.put_f32(&n(prefix, "actions"), &[len, a], &self.actions[..len * a]);
        store.put_f32(&n(prefix, "rewards"), &[len], &self.rewards[..len]);
        store.put_f32(&n(prefix, "next_obs"), &[len, o], &self.next_obs[..len * o]);
        store.put_f32(&n(prefix, "terminated"), &[len], &self.terminated[..len]);
    }

    fn load(&mut self, prefix: &str, store: &TensorStore) -> Result<(), SnapshotError> {
        let ring = store.get_u64(&n(prefix, "ring"), 3)?;
        let (capacity, len, next) = (ring[0] as usize, ring[1] as usize, ring[2] as usize);
        if capacity != self.capacity || len > capacity || next >= capacity.max(1) {
            return Err(SnapshotError::Mismatch {
                name: n(prefix, "ring"),
                found: format!("capacity {capacity}, {len} stored, next {next}"),
                expected: format!("capacity {}", self.capacity),
            });
        }
        let (o, a) = (self.obs_dim, self.action_dim);
        self.obs[..len * o].copy_from_slice(&store.get_f32(&n(prefix, "obs"), &[len, o])?);
        self.actions[..len * a].copy_from_slice(&store.get_f32(&n(prefix, "actions"), &[len, a])?);
        self.rewards[..len].copy_from_slice(&store.get_f32(&n(prefix, "rewards"), &[len])?);
        self.next_obs[..len * o].copy_from_slice(&store.get_f32(&n(prefix, "next_obs"), &[len, o])?);
        self.terminated[..len].copy_from_slice(&store.get_f32(&n(prefix, "terminated"), &[len])?);
        (self.len, self.next) = (len, next);
        Ok(())
    }
}

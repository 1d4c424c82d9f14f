//! Snapshots of learning state for checkpoints: named tensors in one safetensors file.
//!
//! A [`TensorStore`] is a flat map from dotted names (`agent.critics.0.weight`) to typed, shaped
//! tensors; [`Snapshot`] is implemented by every stateful learning type (ensembles, optimiser
//! moments, replay buffers, SAC, the dynamics model) and by random streams, so a checkpoint is
//! `save` into one store and a resume is `load` from it into freshly constructed objects of the
//! same configuration. Loading checks every name, dtype and shape and says which tensor did not
//! match, so a checkpoint from another configuration is rejected rather than half-loaded.

mod impls;

use std::collections::{BTreeMap, HashMap};

pub use crate::error::SnapshotError;
use rand_chacha::ChaCha8Rng;
use safetensors::{Dtype, tensor::TensorView};

/// One stored tensor: little-endian bytes with dtype and shape.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// Named tensors, written to and read from safetensors bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TensorStore {
    tensors: BTreeMap<String, Stored>,
}

impl TensorStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether the store holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Whether `name` is stored.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// Stores `values` (f32) with `shape`.
    pub fn put_f32(&mut self, name: &str, shape: &[usize], values: &[f32]) {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "tensor '{name}': shape {shape:?} vs {} values", values.len());
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensors.insert(name.into(), Stored { dtype: Dtype::F32, shape: shape.to_vec(), bytes });
    }

    /// Stores `values` (f64) as a vector.
    pub fn put_f64(&mut self, name: &str, values: &[f64]) {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensors.insert(name.into(), Stored { dtype: Dtype::F64, shape: vec![values.len()], bytes });
    }

    /// Stores `values` (u64) as a vector.
    pub fn put_u64(&mut self, name: &str, values: &[u64]) {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensors.insert(name.into(), Stored { dtype: Dtype::U64, shape: vec![values.len()], bytes });
    }

    /// Stores raw bytes as a u8 vector.
    pub fn put_bytes(&mut self, name: &str, bytes: &[u8]) {
        self.tensors.insert(name.into(), Stored { dtype: Dtype::U8, shape: vec![bytes.len()], bytes: bytes.to_vec() });
    }

    fn get(&self, name: &str, dtype: Dtype, shape: Option<&[usize]>) -> Result<&Stored, SnapshotError> {
        let t = self.tensors.get(name).ok_or_else(|| SnapshotError::Missing(name.into()))?;
        if t.dtype != dtype || shape.is_some_and(|s| s != t.shape.as_slice()) {
            let expected = match shape {
                Some(s) => format!("{dtype:?} {s:?}"),
                None => format!("{dtype:?}"),
            };
            return Err(SnapshotError::Mismatch { name: name.into(), found: format!("{:?} {:?}", t.dtype, t.shape), expected });
        }
        Ok(t)
    }

    /// The f32 tensor `name`, which must have exactly `shape`.
    pub fn get_f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, SnapshotError> {
        let t = self.get(name, Dtype::F32, Some(shape))?;
        Ok(t.bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect())
    }

    /// The f64 vector `name` of length `len`.
    pub fn get_f64(&self, name: &str, len: usize) -> Result<Vec<f64>, SnapshotError> {
        let t = self.get(name, Dtype::F64, Some(&[len]))?;
        Ok(t.bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }

    /// The u64 vector `name` of length `len`.
    pub fn get_u64(&self, name: &str, len: usize) -> Result<Vec<u64>, SnapshotError> {
        let t = self.get(name, Dtype::U64, Some(&[len]))?;
        Ok(t.bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }

    /// The u64 vector `name`, whatever its length.
    pub fn get_u64_any(&self, name: &str) -> Result<Vec<u64>, SnapshotError> {
        let t = self.get(name, Dtype::U64, None)?;
        Ok(t.bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }

    /// The f64 vector `name`, whatever its length.
    pub fn get_f64_any(&self, name: &str) -> Result<Vec<f64>, SnapshotError> {
        let t = self.get(name, Dtype::F64, None)?;
        Ok(t.bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }

    /// The raw bytes `name`.
    pub fn get_bytes(&self, name: &str) -> Result<&[u8], SnapshotError> {
        Ok(&self.get(name, Dtype::U8, None)?.bytes)
    }

    /// One u64 scalar stored with [`put_u64`](Self::put_u64).
    pub fn get_scalar_u64(&self, name: &str) -> Result<u64, SnapshotError> {
        Ok(self.get_u64(name, 1)?[0])
    }

    /// The store as safetensors bytes, with `metadata` in the header.
    pub fn to_bytes(&self, metadata: Option<HashMap<String, String>>) -> Vec<u8> {
        let views: Vec<(&str, TensorView)> = self
            .tensors
            .iter()
            .map(|(name, t)| (name.as_str(), TensorView::new(t.dtype, t.shape.clone(), &t.bytes).expect("consistent by construction")))
            .collect();
        safetensors::serialize(views, metadata).expect("serialising in-memory tensors")
    }

    /// Reads safetensors bytes (F32, F64, U64 and U8 tensors).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SnapshotError> {
        let file = safetensors::SafeTensors::deserialize(bytes).map_err(|e| SnapshotError::Format(e.to_string()))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in file.tensors() {
            tensors.insert(name, Stored { dtype: view.dtype(), shape: view.shape().to_vec(), bytes: view.data().to_vec() });
        }
        Ok(Self { tensors })
    }
}

/// State that can be written to and restored from a [`TensorStore`] under a name prefix.
pub trait Snapshot {
    /// Writes the state under `prefix`.
    fn save(&self, prefix: &str, store: &mut TensorStore);
    /// Restores the state from `prefix`; `self` must have been built with the same configuration
    /// (shapes are checked against it).
    fn load(&mut self, prefix: &str, store: &TensorStore) -> Result<(), SnapshotError>;
}

impl Snapshot for ChaCha8Rng {
    fn save(&self, prefix: &str, store: &mut TensorStore) {
        store.put_bytes(&format!("{prefix}.seed"), &self.get_seed());
        let pos = self.get_word_pos();
        store.put_u64(&format!("{prefix}.stream_pos"), &[self.get_stream(), pos as u64, (pos >> 64) as u64]);
    }

    fn load(&mut self, prefix: &str, store: &TensorStore) -> Result<(), SnapshotError> {
        let name = format!("{prefix}.seed");
        let seed: [u8; 32] = store.get_bytes(&name)?.try_into().map_err(|_| SnapshotError::Mismatch {
            name: name.clone(),
            found: "another length".into(),
            expected: "32 bytes".into(),
        })?;
        let v = store.get_u64(&format!("{prefix}.stream_pos"), 3)?;
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::from_seed(seed);
        rng.set_stream(v[0]);
        rng.set_word_pos(v[1] as u128 | (v[2] as u128) << 64);
        *self = rng;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

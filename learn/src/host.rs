//! Host access to a device's raw parameter storage (optimiser moments live there): what
//! checkpoints need to read and restore state that is not held in a tensor.

use dfdx::prelude::*;

/// A device whose raw `f32` storage can be copied to and from host memory.
pub trait HostIo: Device<f32> {
    /// The values of `v` on the host.
    fn read_storage(&self, v: &<Self as Storage<f32>>::Vec) -> Vec<f32>;
    /// Overwrites `v` with `data` (same length).
    fn write_storage(&self, v: &mut <Self as Storage<f32>>::Vec, data: &[f32]);
}

impl HostIo for Cpu {
    fn read_storage(&self, v: &<Self as Storage<f32>>::Vec) -> Vec<f32> {
        v.to_vec()
    }

    fn write_storage(&self, v: &mut <Self as Storage<f32>>::Vec, data: &[f32]) {
        v.copy_from_slice(data);
    }
}

// dfdx's Cuda storage is a cache-aware wrapper that derefs to cudarc's `CudaSlice` (neither
// type is exported by name); the copies go through the slice's own device.
#[cfg(feature = "cuda")]
impl HostIo for Cuda {
    fn read_storage(&self, v: &<Self as Storage<f32>>::Vec) -> Vec<f32> {
        let slice = &**v;
        slice.device().dtoh_sync_copy(slice).expect("copying optimiser state to the host")
    }

    fn write_storage(&self, v: &mut <Self as Storage<f32>>::Vec, data: &[f32]) {
        let slice = &mut **v;
        slice.device().htod_sync_copy_into(data, slice).expect("copying optimiser state to the device");
    }
}

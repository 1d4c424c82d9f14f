//! Recycled `f32` buffers for the CPU path, so that a pass does not zero megabytes it is about to
//! overwrite.
//!
//! Every training step of a 7 × 4×200 ensemble fills about 20 MB of fresh buffers (layer
//! outputs, stored sigmoids, weight gradients, host copies of the weights), and a fresh
//! `vec![0.0; n]` clears each one first: `memset` was 6.5% of the step (`perf`, BENCHMARKS.md).
//! The shapes repeat exactly from step to step, so buffers are pooled by length: [`take`]
//! returns a buffer of that length with stale (but initialised) contents when one was given
//! back, and a zeroed one otherwise; [`give`] returns a buffer to the pool. Callers of [`take`]
//! overwrite every element before reading any.
//!
//! The pool is global (units take buffers on rayon's threads; the calling thread drops them) and
//! bounded: past [`MAX_POOLED_BYTES`], given-back buffers are freed.

use std::collections::HashMap;
use std::sync::Mutex;

/// The most memory the pool keeps (bytes); more is freed when given back.
pub const MAX_POOLED_BYTES: usize = 256 << 20;

struct Pool {
    by_len: HashMap<usize, Vec<Vec<f32>>>,
    bytes: usize,
}

static POOL: Mutex<Option<Pool>> = Mutex::new(None);

/// A buffer of `len` values whose contents are unspecified (the caller overwrites all of them).
pub(crate) fn take(len: usize) -> Vec<f32> {
    if len == 0 {
        return Vec::new();
    }
    let recycled = {
        let mut guard = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.as_mut().and_then(|pool| {
            let v = pool.by_len.get_mut(&len)?.pop()?;
            pool.bytes -= v.capacity() * size_of::<f32>();
            Some(v)
        })
    };
    recycled.unwrap_or_else(|| vec![0.0; len])
}

/// Returns `buffer` to the pool for a later [`take`] of its length (or frees it when the pool is
/// full).
pub(crate) fn give(buffer: Vec<f32>) {
    let bytes = buffer.capacity() * size_of::<f32>();
    if buffer.is_empty() || bytes > MAX_POOLED_BYTES {
        return;
    }
    let mut guard = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pool = guard.get_or_insert_with(|| Pool { by_len: HashMap::new(), bytes: 0 });
    if pool.bytes + bytes <= MAX_POOLED_BYTES {
        pool.bytes += bytes;
        pool.by_len.entry(buffer.len()).or_default().push(buffer);
    }
}

/// [`give`] for every buffer in `buffers`.
pub(crate) fn give_all(buffers: impl IntoIterator<Item = Vec<f32>>) {
    for b in buffers {
        give(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_comes_back_for_its_length_only() {
        // A length no other test uses, so that tests running in parallel cannot interfere.
        let len = 12_345;
        let mut a = take(len);
        assert_eq!(a.len(), len);
        a[0] = 7.0;
        let ptr = a.as_ptr();
        give(a);
        let other = take(len + 1);
        assert_ne!(other.as_ptr(), ptr, "another length gets another buffer");
        assert!(other.iter().all(|v| *v == 0.0), "a fresh buffer is zeroed");
        let again = take(len);
        assert_eq!(again.as_ptr(), ptr, "the given buffer is reused");
        assert_eq!((again.len(), again[0]), (len, 7.0), "with its length and stale contents");
    }

    #[test]
    fn buffers_beyond_the_bound_are_freed() {
        let len = MAX_POOLED_BYTES / size_of::<f32>() + 1;
        let big = vec![0.0f32; len];
        give(big);
        let guard = POOL.lock().unwrap();
        assert!(guard.as_ref().is_none_or(|p| p.by_len.get(&len).is_none_or(|v| v.is_empty())));
        assert!(guard.as_ref().is_none_or(|p| p.bytes <= MAX_POOLED_BYTES));
    }
}

//! Learning state pinned to the thread that created it. dfdx's CUDA device holds raw CUDA stream
//! pointers, so networks on it are neither `Send` nor `Sync`, while bevy resources must be both.
//! A seed's app is built, stepped and dropped on one worker thread, so its networks never need
//! to cross threads: [`ThreadBound`] makes that a checked rule instead of a type error. Every
//! access from another thread panics (a programmer error), and a value dropped elsewhere is
//! leaked rather than freed on the wrong thread. On the CPU the check costs a thread-id compare.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::thread::ThreadId;

/// A value usable only on the thread that created it (see the module doc).
pub struct ThreadBound<T> {
    value: ManuallyDrop<T>,
    owner: ThreadId,
}

// SAFETY: the value is only ever reached through `deref`, `deref_mut` and `into_inner`, which
// panic on any thread but the owner, and `drop` frees it only on the owner; so the inner value
// is used by exactly one thread, which is all a non-Send, non-Sync type requires.
unsafe impl<T> Send for ThreadBound<T> {}
// SAFETY: as above: shared references from other threads cannot reach the value.
unsafe impl<T> Sync for ThreadBound<T> {}

impl<T> ThreadBound<T> {
    /// Binds `value` to the current thread.
    pub fn new(value: T) -> Self {
        Self { value: ManuallyDrop::new(value), owner: std::thread::current().id() }
    }

    fn check(&self) {
        let here = std::thread::current().id();
        assert!(here == self.owner, "learning state created on thread {:?} was used on thread {here:?}", self.owner);
    }

    /// The value, on its owner thread.
    pub fn into_inner(mut self) -> T {
        self.check();
        // SAFETY: `self` is forgotten right after, so the value is taken exactly once.
        let value = unsafe { ManuallyDrop::take(&mut self.value) };
        std::mem::forget(self);
        value
    }
}

impl<T> Deref for ThreadBound<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.check();
        &self.value
    }
}

impl<T> DerefMut for ThreadBound<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.check();
        &mut self.value
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if std::thread::current().id() == self.owner {
            // SAFETY: dropped once, here, on the owner thread.
            unsafe { ManuallyDrop::drop(&mut self.value) };
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for ThreadBound<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ThreadBound").field(&**self).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_thread_uses_it_and_others_panic() {
        let mut b = ThreadBound::new(vec![1, 2]);
        b.push(3);
        assert_eq!(*b, vec![1, 2, 3]);
        let moved = std::thread::spawn(move || std::panic::catch_unwind(|| b.len()).is_err()).join().unwrap();
        assert!(moved, "another thread's access panics");
        assert_eq!(ThreadBound::new(5).into_inner(), 5);
    }
}

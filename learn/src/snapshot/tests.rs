//! Snapshots round-trip through safetensors bytes and restore behaviour exactly; a snapshot of
//! another configuration or a damaged file is rejected with the tensor named.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::TestDevice;
use crate::dynamics::{DynamicsConfig, DynamicsModel, MemberBatch};
use crate::losses::loss_by_name;
use crate::replay::ReplayBuffer;
use crate::sac::{Sac, SacConfig};

fn filled_buffer(n: usize) -> ReplayBuffer {
    let mut buffer = ReplayBuffer::new(64, 3, 1);
    for i in 0..n {
        let x = i as f32 * 0.1;
        buffer.push(&[x.sin(), x.cos(), x], &[(x * 3.0).sin()], -x, &[x.cos(), x.sin(), x + 0.1], i % 17 == 0);
    }
    buffer
}

fn sac(seed: u64) -> Sac<TestDevice> {
    Sac::new(&TestDevice::seed_from_u64(seed), 3, 1, SacConfig { hidden: vec![16, 16], seed, ..SacConfig::default() })
}

#[test]
fn sac_and_buffer_resume_bit_for_bit_through_bytes() {
    let buffer = filled_buffer(100); // wrapped around a 64-slot ring
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut agent = sac(0);
    for _ in 0..5 {
        agent.update(&buffer.sample(32, &mut rng));
    }
    let mut store = TensorStore::new();
    agent.save("agent", &mut store);
    buffer.save("buffer", &mut store);
    rng.save("rng", &mut store);
    let bytes = store.to_bytes(None);

    let loaded = TensorStore::from_bytes(&bytes).unwrap();
    assert_eq!(loaded, store);
    let mut resumed = sac(7); // other initial weights: everything must come from the snapshot
    let mut resumed_buffer = ReplayBuffer::new(64, 3, 1);
    let mut resumed_rng = ChaCha8Rng::seed_from_u64(99);
    resumed.load("agent", &loaded).unwrap();
    resumed_buffer.load("buffer", &loaded).unwrap();
    resumed_rng.load("rng", &loaded).unwrap();
    assert_eq!(resumed_buffer.contents().obs, buffer.contents().obs);
    for _ in 0..5 {
        let a = agent.update(&buffer.sample(32, &mut rng));
        let b = resumed.update(&resumed_buffer.sample(32, &mut resumed_rng));
        assert_eq!(
            (a.critic_loss.to_bits(), a.actor_loss.to_bits(), a.alpha.to_bits()),
            (b.critic_loss.to_bits(), b.actor_loss.to_bits(), b.alpha.to_bits())
        );
    }
    let obs = [0.1, 0.2, 0.3];
    assert_eq!(agent.act(&obs, false), resumed.act(&obs, false), "policy noise stream restored");
}

#[test]
fn dynamics_model_resumes_training_exactly() {
    let config = DynamicsConfig { members: 3, hidden: vec![8], probabilistic: true, ..DynamicsConfig::default() };
    let dev = TestDevice::seed_from_u64(0);
    let mut model = DynamicsModel::new(&dev, 3, 1, &config).unwrap();
    let data = filled_buffer(40).contents();
    let batch = MemberBatch { states: &data.obs, actions: &data.actions, next_states: &data.next_obs, rewards: &data.rewards };
    let loss = loss_by_name("mle").unwrap();
    for _ in 0..3 {
        model.train_step(&[batch; 3], loss.as_ref(), None).unwrap();
    }
    let mut store = TensorStore::new();
    model.save("model", &mut store);
    let store = TensorStore::from_bytes(&store.to_bytes(None)).unwrap();
    let mut resumed = DynamicsModel::new(&dev, 3, 1, &DynamicsConfig { seed: 5, ..config.clone() }).unwrap();
    resumed.load("model", &store).unwrap();
    for _ in 0..3 {
        let a = model.train_step(&[batch; 3], loss.as_ref(), None).unwrap();
        let b = resumed.train_step(&[batch; 3], loss.as_ref(), None).unwrap();
        assert_eq!(a.state_loss.to_bits(), b.state_loss.to_bits());
    }
}

#[test]
fn another_configuration_is_rejected_with_the_tensor_named() {
    let mut store = TensorStore::new();
    sac(0).save("agent", &mut store);
    let mut wider = Sac::new(&TestDevice::seed_from_u64(0), 3, 1, SacConfig { hidden: vec![32, 16], ..SacConfig::default() });
    let err = wider.load("agent", &store).unwrap_err();
    assert!(matches!(&err, SnapshotError::Mismatch { name, .. } if name == "agent.actor.0.weight"), "{err}");
    let mut deeper = Sac::new(&TestDevice::seed_from_u64(0), 3, 1, SacConfig { hidden: vec![16], ..SacConfig::default() });
    assert!(deeper.load("agent", &store).is_err(), "a layer count mismatch is an error");
    let mut other_buffer = ReplayBuffer::new(32, 3, 1);
    filled_buffer(10).save("buffer", &mut store);
    let err = other_buffer.load("buffer", &store).unwrap_err();
    assert!(err.to_string().contains("buffer.ring"), "{err}");
    let mut missing = sac(0);
    assert_eq!(missing.load("nothing", &store).unwrap_err(), SnapshotError::Missing("nothing.actor.0.weight".into()));
}

#[test]
fn damaged_bytes_are_a_format_error() {
    let mut store = TensorStore::new();
    sac(0).save("agent", &mut store);
    let bytes = store.to_bytes(None);
    for damaged in [&bytes[..bytes.len() / 2], &bytes[..4], &[][..]] {
        assert!(matches!(TensorStore::from_bytes(damaged), Err(SnapshotError::Format(_))));
    }
}

#[test]
fn a_copied_agent_acts_the_same_and_is_independent() {
    let buffer = filled_buffer(64);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut original = sac(4);
    for _ in 0..5 {
        original.update(&buffer.sample(16, &mut rng));
    }
    let copy = original.copy_to(&TestDevice::default()).unwrap();
    let obs = [0.3f32, -0.2, 1.5, 0.9, 0.1, -2.0];
    let mut copy = copy;
    assert_eq!(original.act(&obs, true), copy.act(&obs, true));
    let before = copy.act(&obs, true);
    for _ in 0..5 {
        original.update(&buffer.sample(16, &mut rng));
    }
    assert_eq!(copy.act(&obs, true), before, "training the original leaves the copy alone");
    assert_ne!(original.act(&obs, true), before);
}

//! The library path for a user's own environment: the acrobot of `examples/acrobot.rs`,
//! registered beside the built-in envs, trains with MBPO (VaGraM) through a run config and
//! `SeedApp::build`, exactly as `vagram train` runs the built-in ones.

#[path = "../examples/acrobot.rs"]
mod acrobot;

#[test]
fn a_user_env_trains_with_mbpo_through_the_library() {
    let rows = acrobot::train_mbpo(&[
        "run.env_steps=300",
        "run.epoch_length=100",
        "run.initial_random_steps=100",
        "run.eval_episodes=2",
        "model.train_every=100",
        "model.max_epochs=3",
        "agent.hidden=[32,32]",
        "agent.updates_per_step=2",
        "rollout.per_step=20",
    ])
    .unwrap();
    assert_eq!(rows.iter().map(|r| r.env_steps).collect::<Vec<_>>(), [100, 200, 300], "one row per epoch");
    assert_eq!(rows[0].model_fits, 0, "nothing learned while exploring");
    let last = &rows[2];
    assert!(last.model_fits >= 1 && last.sac_updates == 200 && last.model_buffer > 0, "{last:?}");
    assert!(rows.iter().all(|r| r.eval_return.is_finite() && r.eval_length > 0.0), "{rows:?}");
}

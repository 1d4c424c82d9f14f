//! Distracting dimensions as attached to env entities, for both variants: appended after the
//! env's own observation, independent of action and reward, parameters from the env's seed and
//! never resampled at reset; they attach to user-authored envs too.

use vagram::engine::env::{DistractorParams, Distractors};
use vagram::prelude::*;

#[path = "../examples/acrobot.rs"]
mod acrobot;
mod common;

const VARIANTS: [DistractorVariant; 2] = [DistractorVariant::Paper, DistractorVariant::Reference];

fn options(env: u64, dims: usize, variant: DistractorVariant, source: ActionSource) -> SpawnOptions {
    let mut o = SpawnOptions::new(env);
    o.distractors = (dims > 0).then_some(DistractorConfig { dims, variant });
    o.action_source = source;
    o
}

/// Runs `n` steps of env `env` of kind `E` and returns (own obs, distractor obs, reward) per step.
fn run<E: EnvModel + Default>(
    env: u64,
    dims: usize,
    variant: DistractorVariant,
    source: ActionSource,
    n: usize,
) -> Vec<(Vec<f32>, Vec<f32>, f32)> {
    let base = E::default().spec().obs_dim;
    let (mut app, e) = common::single(4, E::default(), options(env, dims, variant, source));
    common::trajectory(&mut app, e, n)
        .into_iter()
        .map(|(obs, r)| {
            assert_eq!(obs.len(), base + dims, "distractors are appended after the env's {base} dims");
            (obs[..base].to_vec(), obs[base..].to_vec(), r)
        })
        .collect()
}

fn check_independence<E: EnvModel + Default>() {
    for variant in VARIANTS {
        let plain = run::<E>(0, 0, variant, ActionSource::Random, 300);
        let with = run::<E>(0, 6, variant, ActionSource::Random, 300);
        let zero_actions = run::<E>(0, 6, variant, ActionSource::Zero, 300);
        for t in 0..300 {
            // The env's own dims and its reward do not see the distractors...
            assert_eq!(common::bits(&plain[t].0), common::bits(&with[t].0), "{variant:?} step {t}: own obs changed");
            assert_eq!(plain[t].2.to_bits(), with[t].2.to_bits(), "{variant:?} step {t}: reward changed");
            // ...and the distractors do not see the actions (both runs reset at the same steps:
            // pendulum and acrobot episodes here end by the time limit only).
            assert_eq!(common::bits(&with[t].1), common::bits(&zero_actions[t].1), "{variant:?} step {t}: distractors saw the action");
        }
        let moving = with.windows(2).filter(|w| w[0].1 != w[1].1).count();
        assert!(moving > 200, "{variant:?}: distractors must evolve ({moving} changes)");
    }
}

#[test]
fn distractors_leave_pendulum_obs_and_reward_alone_and_ignore_actions() {
    check_independence::<Pendulum>();
}

#[test]
fn distractors_attach_to_a_user_authored_env() {
    check_independence::<acrobot::Acrobot>();
}

#[test]
fn distractor_parameters_come_from_the_env_seed_and_survive_resets() {
    for variant in VARIANTS {
        let params = |seed: u64, env: u64| {
            let (app, e) = common::single(seed, Pendulum::default(), options(env, 5, variant, ActionSource::Random));
            app.world.get::<Distractors>(e).unwrap().params.clone()
        };
        assert_eq!(params(1, 0), params(1, 0), "same seed and env, same parameters");
        assert_ne!(params(1, 0), params(1, 1), "another env, other parameters");
        assert_ne!(params(1, 0), params(2, 0), "another seed, other parameters");

        // Cartpole episodes end every few random steps: many resets.
        let (mut app, e) = common::single(1, Cartpole::default(), options(0, 5, variant, ActionSource::Random));
        let before = app.world.get::<Distractors>(e).unwrap().params.clone();
        let mut resets = 0;
        for _ in 0..400 {
            app.step().unwrap();
            if app.world.get::<Done>(e).unwrap().is_done() {
                resets += 1;
                let d = app.world.get::<Distractors>(e).unwrap();
                let obs = &app.world.get::<Observation>(e).unwrap().0;
                assert_eq!(&obs[4..], &d.state[..], "the reset observation shows the restarted distractors");
                if let DistractorParams::Paper { x0, .. } = &d.params {
                    assert_eq!(&d.state, x0, "paper variant restarts at x0");
                }
            }
        }
        assert!(resets > 10, "only {resets} resets");
        assert_eq!(app.world.get::<Distractors>(e).unwrap().params, before, "{variant:?}: parameters resampled at reset");
    }
}

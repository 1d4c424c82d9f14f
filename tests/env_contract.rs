//! The contract every env kind must honour, checked over every registered env (the built-ins
//! and the user-authored acrobot example).

use vagram::engine::env::EnvRegistry;
use vagram::prelude::*;

#[path = "../examples/acrobot.rs"]
mod acrobot;

fn registry() -> EnvRegistry {
    let mut r = builtin_registry();
    r.register(ModelFactory::new(acrobot::Acrobot::default()));
    r
}

#[test]
fn every_env_honours_the_contract() {
    let registry = registry();
    assert!(registry.names().len() >= 3);
    for name in registry.names() {
        let factory = registry.get(name).unwrap();
        let spec = factory.spec().clone();
        assert_eq!(spec.name, name);
        assert_eq!(spec.action_space.low.len(), spec.action_space.high.len());
        assert_eq!(spec.reset.default.q.len(), spec.nq(), "{name}: default state size");

        // Reset: within the reset box; exactly nominal with zero noise.
        for noise in [1.0, 0.0] {
            let mut app = SimApp::new(1);
            for id in 0..20 {
                let mut o = SpawnOptions::new(id);
                o.reset_noise = noise;
                let e = factory.spawn(&mut app, &o).unwrap();
                let s = &app.world.get::<PhysState>(e).unwrap().current;
                for i in 0..spec.nq() {
                    let (d, lo, hi) = (spec.reset.default.q[i], spec.reset.low.q[i], spec.reset.high.q[i]);
                    assert!(
                        s.q[i] >= d + noise * lo - 1e-9 && s.q[i] <= d + noise * hi + 1e-9,
                        "{name}: q[{i}] = {} outside reset box",
                        s.q[i]
                    );
                    let (d, lo, hi) = (spec.reset.default.qd[i], spec.reset.low.qd[i], spec.reset.high.qd[i]);
                    assert!(
                        s.qd[i] >= d + noise * lo - 1e-9 && s.qd[i] <= d + noise * hi + 1e-9,
                        "{name}: qd[{i}] = {} outside reset box",
                        s.qd[i]
                    );
                }
                let obs = &app.world.get::<Observation>(e).unwrap().0;
                assert_eq!(obs.len(), spec.obs_dim, "{name}: observation length");
            }
        }

        // Random actions: finite observations, actions inside the box, episodes that end by the
        // limit exactly at it, and a fresh episode right after every end.
        let mut app = SimApp::new(3);
        let mut o = SpawnOptions::new(0);
        o.action_source = ActionSource::Random;
        let e = factory.spawn(&mut app, &o).unwrap();
        let steps = 2 * spec.max_episode_steps as usize + 50;
        for t in 0..steps {
            app.step().unwrap();
            let obs = &app.world.get::<Observation>(e).unwrap().0;
            assert!(obs.len() == spec.obs_dim && obs.iter().all(|v| v.is_finite()), "{name} step {t}: {obs:?}");
            let a = &app.world.get::<Action>(e).unwrap().0;
            assert!(a.iter().zip(&spec.action_space.low).zip(&spec.action_space.high).all(|((v, lo), hi)| v >= lo && v <= hi));
            if app.world.get::<Done>(e).unwrap().is_done() {
                assert_eq!(app.world.get::<Episode>(e).unwrap().length, 0, "{name}: episode restarts after its end");
            }
        }
        let log = &app.world.resource::<EpisodeLog>().0;
        assert!(!log.is_empty(), "{name}: no episode ended in {steps} steps");
        for ep in log {
            match ep.reason {
                EndReason::TimeLimit => assert_eq!(ep.length, spec.max_episode_steps, "{name}"),
                EndReason::Terminated => assert!(ep.length < spec.max_episode_steps, "{name}"),
                EndReason::NonFinitePhysics { .. } => panic!("{name}: physics blew up under random actions"),
            }
        }
    }
}

/// Best tip height of the acrobot example over 500 steps of `policy(t)`, from rest hanging down.
fn acrobot_best_height(policy: &dyn Fn(usize) -> f32) -> f64 {
    let mut app = SimApp::new(0);
    let mut o = SpawnOptions::new(0);
    o.action_source = ActionSource::External;
    o.reset_noise = 0.0;
    let e = spawn_env(&mut app, std::sync::Arc::new(acrobot::Acrobot::default()), &o).unwrap();
    let mut best = f64::MIN;
    for t in 0..500 {
        app.world.get_mut::<Action>(e).unwrap().0 = vec![policy(t)];
        app.step().unwrap();
        let s = &app.world.get::<PhysState>(e).unwrap().current;
        best = best.max(acrobot::tip_height(s.q[0], s.q[1]));
    }
    best
}

#[test]
fn acrobot_example_hangs_still_and_its_motor_pumps_energy_in() {
    let still = acrobot_best_height(&|_| 0.0);
    assert!((still + 2.0).abs() < 1e-9, "hanging at rest is an equilibrium, tip at {still}");
    // A square wave near the swing's resonance (12 steps = 2.4 s) lifts the tip by more than
    // half a metre (to about -1.0 here).
    let pumped = acrobot_best_height(&|t| if (t / 6) % 2 == 0 { 1.0 } else { -1.0 });
    assert!(pumped > -1.5, "resonant forcing only lifted the tip to {pumped:.2} (hanging: -2)");
}

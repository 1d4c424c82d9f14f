//! Bad input gets a clear error naming the value and where it came from; a physics blow-up ends
//! only that env's episode.
#![allow(clippy::type_complexity)]

use std::io::Write;
use std::sync::Arc;

use vagram::engine::env::ActionTable;
use vagram::engine::env::model::EnvInstance;
use vagram::engine::physics::BlockSlot;
use vagram::prelude::*;

mod common;

fn external(env: u64) -> SpawnOptions {
    let mut o = SpawnOptions::new(env);
    o.action_source = ActionSource::External;
    o
}

#[test]
fn wrong_action_dimension_names_env_and_step() {
    let (mut app, e) = common::single(0, Pendulum::default(), external(7));
    app.step().unwrap();
    app.world.get_mut::<Action>(e).unwrap().0 = vec![0.1, 0.2];
    let msg = app.step().unwrap_err().to_string();
    assert!(msg.contains("env 7") && msg.contains("step 1") && msg.contains("2 dimensions, expected 1"), "{msg}");
}

#[test]
fn non_finite_actions_are_rejected_with_index_and_value() {
    for bad in [f32::NAN, f32::INFINITY] {
        let (mut app, e) = common::single(0, Cartpole::default(), external(3));
        app.world.get_mut::<Action>(e).unwrap().0 = vec![bad];
        let msg = app.step().unwrap_err().to_string();
        assert!(msg.contains("env 3") && msg.contains("action[0]") && msg.contains(&bad.to_string()), "{msg}");
    }
}

#[test]
fn out_of_range_actions_are_clipped_like_gym() {
    let (mut app, e) = common::single(0, Pendulum::default(), external(0));
    app.world.get_mut::<Action>(e).unwrap().0 = vec![55.0];
    app.step().unwrap();
    assert_eq!(app.world.get::<Action>(e).unwrap().0, vec![2.0]);
    let (mut clipped, e2) = common::single(0, Pendulum::default(), external(0));
    clipped.world.get_mut::<Action>(e2).unwrap().0 = vec![2.0];
    clipped.step().unwrap();
    assert_eq!(app.world.get::<Observation>(e).unwrap(), clipped.world.get::<Observation>(e2).unwrap());
}

#[test]
fn unknown_env_lists_the_known_ones() {
    let msg = builtin_registry().get("hoper").err().unwrap().to_string();
    assert!(msg.contains("'hoper'") && msg.contains("cartpole, hopper, pendulum"), "{msg}");
}

#[test]
fn absurd_counts_are_rejected_before_work_starts() {
    let registry = builtin_registry();
    let base = BatchConfig {
        seed: 0,
        groups: vec![EnvGroup { kind: "pendulum".into(), count: 4 }],
        threads: 2,
        steps: 10,
        template: SpawnOptions::new(0),
        block_size: 32,
    };
    let cases: Vec<(&str, Box<dyn Fn(&mut BatchConfig)>)> = vec![
        ("envs of kind 'pendulum' = 0", Box::new(|c| c.groups[0].count = 0)),
        ("--steps = 0", Box::new(|c| c.steps = 0)),
        ("--threads = 0", Box::new(|c| c.threads = 0)),
        ("--block-size = 65", Box::new(|c| c.block_size = 65)),
        ("--envs × --steps", Box::new(|c| c.steps = u64::MAX / 2)),
        ("--envs = 20000000", Box::new(|c| c.groups[0].count = 20_000_000)),
    ];
    for (expect, mutate) in cases {
        let mut c = base.clone();
        mutate(&mut c);
        let msg = run_batch(&registry, &c).expect_err(expect).to_string();
        assert!(msg.contains(expect), "expected '{expect}' in '{msg}'");
    }
    assert!(run_batch(&registry, &base).is_ok());
}

#[test]
fn init_state_of_the_wrong_length_or_non_finite_is_rejected() {
    let spec = Cartpole::default().spec().clone();
    let msg = spec.parse_init_state(&[0.1, 0.2, 0.3]).unwrap_err().to_string();
    assert!(msg.contains("3 values") && msg.contains("x, theta"), "{msg}");
    let msg = spec.parse_init_state(&[0.1, f64::NAN]).unwrap_err().to_string();
    assert!(msg.contains("value 1 is NaN"), "{msg}");
    assert_eq!(spec.parse_init_state(&[0.1, 0.2]).unwrap().qd, vec![0.0, 0.0]);
}

fn write_temp(name: &str, content: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("vagram-test-{}-{name}", std::process::id()));
    std::fs::File::create(&path).unwrap().write_all(content.as_bytes()).unwrap();
    path
}

#[test]
fn action_csv_errors_name_file_and_line() {
    let missing = std::path::Path::new("/nonexistent/actions.csv");
    let msg = ActionTable::from_csv(missing, 1).unwrap_err().to_string();
    assert!(msg.contains("/nonexistent/actions.csv"), "{msg}");

    let bad_cell = write_temp("cell.csv", "torque\n0.5\n0.2\nabc\n");
    let msg = ActionTable::from_csv(&bad_cell, 1).unwrap_err().to_string();
    assert!(msg.contains(":4:") && msg.contains("'abc'"), "{msg}");

    let bad_width = write_temp("width.csv", "0.5\n0.1,0.2\n");
    let msg = ActionTable::from_csv(&bad_width, 1).unwrap_err().to_string();
    assert!(msg.contains(":2:") && msg.contains("2 values") && msg.contains("1 dimensions"), "{msg}");

    let nan = write_temp("nan.csv", "0.5\nNaN\n");
    let msg = ActionTable::from_csv(&nan, 1).unwrap_err().to_string();
    assert!(msg.contains(":2:") && msg.contains("finite"), "{msg}");

    let ok = write_temp("ok.csv", "torque\n0.5\n-3\n");
    let table = ActionTable::from_csv(&ok, 1).unwrap();
    assert_eq!(table.rows, vec![vec![0.5], vec![-3.0]]);

    // Running past the table's end is an error, not silent zeros.
    let mut o = SpawnOptions::new(0);
    o.action_source = ActionSource::Table(Arc::new(table));
    let (mut app, _) = common::single(0, Pendulum::default(), o);
    app.run(2).unwrap();
    let msg = app.step().unwrap_err().to_string();
    assert!(msg.contains("2 action rows") && msg.contains("step 3"), "{msg}");
}

#[test]
fn a_physics_blow_up_ends_only_that_envs_episode() {
    let run = |corrupt: bool| {
        let mut app = SimApp::new(2);
        let model = Arc::new(Pendulum::default());
        let envs: Vec<_> = (0..3)
            .map(|i| {
                let mut o = SpawnOptions::new(i);
                o.action_source = ActionSource::Random;
                spawn_env(&mut app, model.clone(), &o).unwrap()
            })
            .collect();
        if corrupt {
            let slot = *app.world.get::<BlockSlot>(envs[1]).unwrap();
            app.world.resource_scope(|world, mut blocks: bevy_ecs::prelude::Mut<PhysicsBlocks>| {
                let inst = world.get::<EnvInstance<Pendulum>>(envs[1]).unwrap();
                let bad = GeneralizedState { q: vec![0.3], qd: vec![f64::NAN] };
                inst.model.write_state(&inst.bodies, &mut blocks.blocks[slot.block].world, &bad);
            });
        }
        let mut traj = vec![Vec::new(); 3];
        let mut reasons = Vec::new();
        for step in 0..300 {
            app.step().unwrap();
            for (k, e) in envs.iter().enumerate() {
                let obs = app.world.get::<Observation>(*e).unwrap().0.clone();
                if step > 0 {
                    assert!(obs.iter().all(|v| v.is_finite()), "env {k} step {step}: {obs:?}");
                }
                traj[k].push(common::bits(&obs));
            }
            if let Some(r) = &app.world.get::<Done>(envs[1]).unwrap().reason {
                reasons.push((step, r.clone()));
            }
        }
        (traj, reasons)
    };
    let (clean, _) = run(false);
    let (hit, reasons) = run(true);
    assert_eq!(clean[0], hit[0], "env 0 must not notice env 1's blow-up");
    assert_eq!(clean[2], hit[2], "env 2 must not notice env 1's blow-up");
    let (step, reason) = &reasons[0];
    assert_eq!(*step, 0);
    assert!(matches!(reason, EndReason::NonFinitePhysics { what } if what.contains("NaN")), "{reason:?}");
}

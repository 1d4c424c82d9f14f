//! Same seed and config give bitwise-identical results, whatever the thread count or block size.
#![allow(clippy::type_complexity)]

use vagram::prelude::*;

mod common;

fn config(threads: usize, block_size: usize, seed: u64) -> BatchConfig {
    let mut template = SpawnOptions::new(0);
    template.action_source = ActionSource::Random;
    template.distractors = Some(DistractorConfig { dims: 3, variant: DistractorVariant::Reference });
    BatchConfig {
        seed,
        groups: vec![EnvGroup { kind: "pendulum".into(), count: 37 }, EnvGroup { kind: "cartpole".into(), count: 29 }],
        threads,
        steps: 450,
        template,
        block_size,
    }
}

/// Everything a run produced, as bit patterns.
fn fingerprint(report: &BatchReport) -> (Vec<u64>, Vec<Vec<u32>>, Vec<u32>, Vec<(u64, u64, u64, u32)>) {
    let last = &report.last;
    (
        last.env.clone(),
        last.obs.iter().map(|o| common::bits(o)).collect(),
        common::bits(&last.reward),
        report.episodes.iter().map(|e| (e.env, e.index, e.ret.to_bits(), e.length)).collect(),
    )
}

#[test]
fn batch_is_bitwise_identical_across_thread_counts_and_block_sizes() {
    let registry = builtin_registry();
    let reference = fingerprint(&run_batch(&registry, &config(1, 32, 5)).unwrap());
    assert!(!reference.3.is_empty(), "episodes must finish for the comparison to mean something");
    for (threads, block_size) in [(1, 32), (2, 32), (3, 7), (2, 1), (4, 64)] {
        let got = fingerprint(&run_batch(&registry, &config(threads, block_size, 5)).unwrap());
        assert!(got == reference, "threads {threads}, block size {block_size} changed the results");
    }
    let other_seed = fingerprint(&run_batch(&registry, &config(2, 32, 6)).unwrap());
    assert!(other_seed.1 != reference.1, "a different seed must give different trajectories");
}

#[test]
fn env_trajectory_does_not_depend_on_its_block_neighbours() {
    // Env 3 alone vs env 3 among 9 others in the same physics world.
    let run = |others: bool| {
        let mut app = SimApp::new(9);
        let registry = builtin_registry();
        let mut target = None;
        for id in 0..10u64 {
            if !others && id != 3 {
                continue;
            }
            let mut o = SpawnOptions::new(id);
            o.action_source = ActionSource::Random;
            let e = registry.get("pendulum").unwrap().spawn(&mut app, &o).unwrap();
            if id == 3 {
                target = Some(e);
            }
        }
        common::trajectory(&mut app, target.unwrap(), 600).into_iter().map(|(o, r)| (common::bits(&o), r.to_bits())).collect::<Vec<_>>()
    };
    assert_eq!(run(false), run(true));
}

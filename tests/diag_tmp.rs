use std::sync::Arc;
use vagram::prelude::*;
#[test]
fn diag() {
    let mut app = SimApp::new(0);
    let m = Arc::new(Pendulum::default());
    for i in 0..4 { spawn_env(&mut app, m.clone(), &SpawnOptions::new(i)).unwrap(); }
    app.run(3).unwrap();
    let blocks = app.world.resource::<PhysicsBlocks>();
    let w = &blocks.blocks[0].world;
    for (h, b) in w.bodies.iter() { eprintln!("{h:?} {:?} {:?}", b.translation(), b.body_type()); }
    eprintln!("pairs {}", w.narrow_phase.contact_pairs().count());
    for p in w.narrow_phase.contact_pairs() { eprintln!("{:?} {:?} active {}", w.colliders[p.collider1].parent(), w.colliders[p.collider2].parent(), p.has_any_active_contact()); }
}

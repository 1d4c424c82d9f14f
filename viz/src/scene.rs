//! What the viewer draws: the colliders of one env instance projected onto the x–z plane (a
//! side view; every built-in env moves in that plane and instances are laid out along y).
//! Shapes come from Rapier alone, so any env, including a user's, renders with no drawing code.

use rapier3d::prelude::*;

/// A 2D shape in world coordinates (x right, z up).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape2d {
    /// A capsule: segment end points and radius.
    Capsule {
        /// First end.
        a: [f64; 2],
        /// Second end.
        b: [f64; 2],
        /// Radius.
        radius: f64,
    },
    /// A ball.
    Circle {
        /// Centre.
        centre: [f64; 2],
        /// Radius.
        radius: f64,
    },
    /// A convex polygon (a projected box), counter-clockwise.
    Polygon {
        /// Corners.
        points: Vec<[f64; 2]>,
    },
}

/// A collider's shape and whether its body is fixed (ground, anchors).
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    /// The shape.
    pub shape: Shape2d,
    /// Its body does not move.
    pub fixed: bool,
}

fn project(p: Vector, origin: Vector) -> [f64; 2] {
    [p.x - origin.x, p.z - origin.z]
}

/// Convex hull (monotone chain) of a few points.
fn hull(mut pts: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut lower: Vec<[f64; 2]> = Vec::new();
    for p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], *p) <= 0.0 {
            lower.pop();
        }
        lower.push(*p);
    }
    let mut upper: Vec<[f64; 2]> = Vec::new();
    for p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], *p) <= 0.0 {
            upper.pop();
        }
        upper.push(*p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// The colliders of the bodies tagged for `slot` (Rapier user data `slot + 1`, as the engine
/// tags them), relative to `origin` (the slot's origin). Unsupported shapes are skipped.
pub fn slot_shapes(world: &PhysicsWorld, slot: usize, origin: Vector) -> Vec<Drawn> {
    let tag = slot as u128 + 1;
    let mut out = Vec::new();
    for (_, collider) in world.colliders.iter() {
        let Some(body) = collider.parent().and_then(|h| world.bodies.get(h)) else { continue };
        if body.user_data != tag {
            continue;
        }
        // From the body's pose, not the collider's cached one: that is only synced by the next
        // physics step, so it lags after a reset or a state write.
        let pose = collider.position_wrt_parent().map_or(*collider.position(), |local| *body.position() * *local);
        let shape = collider.shape();
        let drawn = if let Some(c) = shape.as_capsule() {
            Shape2d::Capsule {
                a: project(pose.transform_point(c.segment.a), origin),
                b: project(pose.transform_point(c.segment.b), origin),
                radius: c.radius,
            }
        } else if let Some(b) = shape.as_ball() {
            Shape2d::Circle { centre: project(pose.translation, origin), radius: b.radius }
        } else if let Some(c) = shape.as_cuboid() {
            let h = c.half_extents;
            let corners = (0..8)
                .map(|i| {
                    let s = |bit: usize| if i & bit == 0 { -1.0 } else { 1.0 };
                    project(pose.transform_point(Vector::new(s(1) * h.x, s(2) * h.y, s(4) * h.z)), origin)
                })
                .collect();
            Shape2d::Polygon { points: hull(corners) }
        } else {
            continue;
        };
        out.push(Drawn { shape: drawn, fixed: body.is_fixed() });
    }
    out
}

/// Bounding box `[min_x, min_z, max_x, max_z]` of the moving shapes (fixed ones like the
/// ground are left out), or `None` when nothing moves.
pub fn moving_bounds(shapes: &[Drawn]) -> Option<[f64; 4]> {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    let mut grow = |p: [f64; 2], r: f64| {
        b = [b[0].min(p[0] - r), b[1].min(p[1] - r), b[2].max(p[0] + r), b[3].max(p[1] + r)];
    };
    for d in shapes.iter().filter(|d| !d.fixed) {
        match &d.shape {
            Shape2d::Capsule { a, b, radius } => {
                grow(*a, *radius);
                grow(*b, *radius);
            }
            Shape2d::Circle { centre, radius } => grow(*centre, *radius),
            Shape2d::Polygon { points } => points.iter().for_each(|p| grow(*p, 0.0)),
        }
    }
    (b[0] <= b[2]).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vagram_engine::env::{EnvModel, GeneralizedState};
    use vagram_engine::physics::PhysicsBlock;

    fn built<E: EnvModel>(env: E, state: &GeneralizedState) -> (PhysicsWorld, Vec<Drawn>) {
        let mut world = PhysicsWorld::new();
        let b = env.build(&mut world, PhysicsBlock::slot_origin(0), PhysicsBlock::slot_groups(0));
        for (_, body) in world.bodies.iter_mut() {
            body.user_data = 1;
        }
        env.write_state(&b, &mut world, state);
        let shapes = slot_shapes(&world, 0, PhysicsBlock::slot_origin(0));
        (world, shapes)
    }

    #[test]
    fn a_pendulum_rod_points_along_its_angle() {
        for th in [0.0f64, 1.0, 2.5, -2.0] {
            let mut s = GeneralizedState::zeros(1);
            s.q[0] = th;
            let (_, shapes) = built(vagram_envs::Pendulum::default(), &s);
            assert_eq!(shapes.len(), 1);
            let Shape2d::Capsule { a, b, radius } = &shapes[0].shape else { panic!("rod is a capsule") };
            assert!((radius - 0.05).abs() < 1e-12);
            // θ about +y from upright: the rod's direction is (sin θ, cos θ) in (x, z).
            let (dx, dz) = (b[0] - a[0], b[1] - a[1]);
            let len = (dx * dx + dz * dz).sqrt();
            assert!((dx / len - th.sin()).abs() < 1e-9 && (dz / len - th.cos()).abs() < 1e-9, "θ {th}: {a:?} → {b:?}");
        }
    }

    #[test]
    fn the_hopper_shows_four_capsules_and_its_ground() {
        let mut s = GeneralizedState::zeros(6);
        s.q[1] = 1.25;
        let (_, shapes) = built(vagram_envs::Hopper::default(), &s);
        let capsules = shapes.iter().filter(|d| matches!(d.shape, Shape2d::Capsule { .. })).count();
        assert_eq!(capsules, 4);
        assert!(shapes.iter().any(|d| d.fixed && matches!(d.shape, Shape2d::Polygon { .. })), "the floor");
        let b = moving_bounds(&shapes).unwrap();
        // Standing: torso top at 1.45 + 0.05, foot bottom at 0.10 − 0.06; foot from −0.19 to 0.32.
        assert!((b[3] - 1.5).abs() < 1e-6 && (b[1] - 0.04).abs() < 1e-6, "{b:?}");
        assert!((b[0] + 0.19).abs() < 1e-6 && (b[2] - 0.32).abs() < 1e-6, "{b:?}");
    }

    #[test]
    fn hull_of_a_projected_box_is_a_rectangle() {
        let pts = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 2.0], [0.0, 2.0], [0.0, 0.0], [1.0, 2.0], [0.5, 1.0]];
        assert_eq!(hull(pts), vec![[0.0, 0.0], [1.0, 0.0], [1.0, 2.0], [0.0, 2.0]]);
    }
}

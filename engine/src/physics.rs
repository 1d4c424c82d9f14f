//! The Rapier worlds environments live in.
//!
//! # Why blocks
//! Stepping a Rapier world has a fixed cost (pipeline bookkeeping, broad phase, islands) that
//! dominates tiny scenes: a world holding one pendulum steps at ~3 µs. So env instances share
//! worlds: a [`PhysicsBlock`] holds up to [`PhysicsBlocks::BLOCK_CAPACITY`] instances of ONE
//! env kind (one time step and gravity), and one Rapier step advances all of them.
//!
//! Instances in a block stay independent: each sits at its own slot, [`SLOT_SPACING`] metres
//! apart along y, the axis normal to every built-in env's plane of motion, so their bodies never
//! overlap and never share a Rapier island; colliders of different slots are further filtered by
//! collision groups (slot modulo 16). One world per entity would be simpler but several times
//! slower (measured in `BENCHMARKS.md`).
//!
//! Blocks are also the unit the batch runner gives to threads, and which envs share a block
//! depends only on global env indices, never on the thread count: the same seed gives bitwise
//! identical results on 1 or N threads by construction.

use bevy_ecs::prelude::*;
use rapier3d::prelude::*;

use crate::Real;

/// Distance between neighbouring instance slots along y, in metres.
pub const SLOT_SPACING: Real = 4.0;

/// Physics settings shared by every instance of an env kind.
#[derive(Debug, Clone, PartialEq)]
pub struct PhysicsSettings {
    /// Rapier time step, in seconds.
    pub dt: Real,
    /// Rapier steps per environment step.
    pub substeps: u32,
    /// Gravity vector (z is up in every built-in env).
    pub gravity: [Real; 3],
    /// Solver iterations per Rapier step (Rapier's substeps; 1 integrates exactly one
    /// semi-implicit Euler step, enough for contact-free multibody envs).
    pub solver_iterations: usize,
}

impl PhysicsSettings {
    /// Rapier integration parameters for these settings.
    pub fn integration_parameters(&self) -> IntegrationParameters {
        IntegrationParameters { dt: self.dt, num_solver_iterations: self.solver_iterations.max(1), ..IntegrationParameters::default() }
    }
}

/// One Rapier world with the instances of one env kind that live in it.
pub struct PhysicsBlock {
    /// The Rapier world (bodies, colliders, joints, pipeline).
    pub world: PhysicsWorld,
    /// Name of the env kind every member belongs to.
    pub kind: &'static str,
    /// The settings the world was created with.
    pub settings: PhysicsSettings,
    /// Member entities, in slot order.
    pub members: Vec<Entity>,
    /// The caller's key for this block (the batch runner uses the global block index).
    pub key: u64,
}

impl PhysicsBlock {
    /// An empty block for `kind` with `settings`.
    pub fn new(kind: &'static str, settings: PhysicsSettings, key: u64) -> Self {
        let mut world = PhysicsWorld::new();
        world.gravity = Vector::new(settings.gravity[0], settings.gravity[1], settings.gravity[2]);
        world.integration_parameters = settings.integration_parameters();
        Self { world, kind, settings, members: Vec::new(), key }
    }

    /// World-space origin of slot `slot`.
    pub fn slot_origin(slot: usize) -> Vector {
        Vector::new(0.0, slot as Real * SLOT_SPACING, 0.0)
    }

    /// Collision groups for bodies of slot `slot`: they only meet their own slot's group (and
    /// the ground, which should use [`PhysicsBlock::ground_groups`]).
    pub fn slot_groups(slot: usize) -> InteractionGroups {
        let own = Group::from_bits_truncate(1 << (slot % 16));
        InteractionGroups::new(own, own | Group::GROUP_32, InteractionTestMode::And)
    }

    /// Collision groups for a ground shared by every slot.
    pub fn ground_groups() -> InteractionGroups {
        InteractionGroups::new(Group::GROUP_32, Group::ALL, InteractionTestMode::And)
    }
}

/// Where a spawned instance lives: its block and its slot in it.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSlot {
    /// Index into [`PhysicsBlocks::blocks`].
    pub block: usize,
    /// Slot within the block.
    pub slot: usize,
}

/// All physics blocks of an app.
#[derive(Resource, Default)]
pub struct PhysicsBlocks {
    /// The blocks, in creation order.
    pub blocks: Vec<PhysicsBlock>,
}

impl PhysicsBlocks {
    /// Most instances one block holds.
    pub const BLOCK_CAPACITY: usize = 64;

    /// The block to put the next instance of `kind` in: the block with `key` if given (created
    /// if missing), else the last non-full block of that kind, else a new one.
    pub fn block_for(&mut self, kind: &'static str, settings: &PhysicsSettings, key: Option<u64>) -> usize {
        let found = match key {
            Some(k) => self.blocks.iter().position(|b| b.key == k && b.kind == kind),
            None => self.blocks.iter().rposition(|b| b.kind == kind && b.members.len() < Self::BLOCK_CAPACITY && b.settings == *settings),
        };
        found.unwrap_or_else(|| {
            let key = key.unwrap_or(u64::MAX - self.blocks.len() as u64);
            self.blocks.push(PhysicsBlock::new(kind, settings.clone(), key));
            self.blocks.len() - 1
        })
    }
}

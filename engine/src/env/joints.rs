//! Helpers for reading and writing the degrees of freedom of Rapier multibody joints, the
//! building block every built-in env uses for its generalized coordinates.

use rapier3d::prelude::{MultibodyJointHandle, PhysicsWorld};

use crate::Real;

/// Axis index (0..6: x, y, z, rx, ry, rz) of the `k`-th free degree of freedom of a joint whose
/// locked-axes bits are `locked`.
fn free_axis(locked: u8, k: usize) -> usize {
    (0..6).filter(|i| locked & (1 << i) == 0).nth(k).expect("joint has fewer free dofs than asked")
}

/// Position and velocity of the `k`-th free dof of a multibody joint.
///
/// # Panics
/// If `handle` is not a multibody joint of `world` (a programming error in the env).
pub fn dof(world: &PhysicsWorld, handle: MultibodyJointHandle, k: usize) -> (Real, Real) {
    let (mb, link_id) = world.multibody_joints.get(handle).expect("multibody joint of this world");
    let link = mb.link(link_id).expect("link of its multibody");
    let joint = link.joint();
    let axis = free_axis(joint.data.locked_axes.bits(), k);
    let qd = mb.joint_velocity(link)[k];
    (joint.coords()[axis], qd)
}

/// Sets position and velocity of the `k`-th free dof of a multibody joint. Call
/// [`refresh`] once after the last write to move the rigid bodies.
pub fn set_dof(world: &mut PhysicsWorld, handle: MultibodyJointHandle, k: usize, q: Real, qd: Real) {
    let (mb, link_id) = world.multibody_joints.get_mut(handle).expect("multibody joint of this world");
    let link = mb.link_mut(link_id).expect("link of its multibody");
    let axis = free_axis(link.joint.data.locked_axes.bits(), k);
    let ndofs = link.joint.ndofs();
    let mut disp = [0.0 as Real; 6];
    disp[k] = q - link.joint.coords()[axis];
    link.joint.apply_displacement(&disp[..ndofs]);
    let first = link.assembly_id();
    mb.generalized_velocity_mut()[first + k] = qd;
}

/// Recomputes link poses after [`set_dof`] and writes them to the rigid bodies.
pub fn refresh(world: &mut PhysicsWorld, handle: MultibodyJointHandle) {
    let (mb, _) = world.multibody_joints.get_mut(handle).expect("multibody joint of this world");
    mb.forward_kinematics(&world.bodies, true);
    mb.update_rigid_bodies(&mut world.bodies, true);
}

/// Sets every joint damping of the multibody containing `handle` to `damping` (Rapier adds 0.1
/// on angular dofs by default, which gym's and MuJoCo's models do not have).
pub fn set_damping(world: &mut PhysicsWorld, handle: MultibodyJointHandle, damping: Real) {
    let (mb, _) = world.multibody_joints.get_mut(handle).expect("multibody joint of this world");
    mb.damping_mut().fill(damping);
}

/// Sets the damping and armature (reflected rotor inertia, added to the joint-space mass
/// matrix's diagonal as in MuJoCo) of every dof of the joint `handle`.
pub fn set_dof_damping_armature(world: &mut PhysicsWorld, handle: MultibodyJointHandle, damping: Real, armature: Real) {
    let (mb, link_id) = world.multibody_joints.get_mut(handle).expect("multibody joint of this world");
    let link = mb.link(link_id).expect("link of its multibody");
    let (first, n) = (link.assembly_id(), link.joint().ndofs());
    for i in first..first + n {
        mb.damping_mut()[i] = damping;
        mb.armature_mut()[i] = armature;
    }
}

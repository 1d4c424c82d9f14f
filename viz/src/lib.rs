//! vagram's viewer (`vagram view`): an eframe/egui window that shows env entities drawn from
//! their Rapier colliders, live training (scene, learning curves, loss landscapes) and opened
//! runs.
//!
//! - [`scene`]: colliders of one instance projected to the x–z plane (testable without a window);
//! - [`paint`]: shapes painted into grid cells under one shared camera;
//! - [`state`]: the viewer's controls as plain state;
//! - [`local`]: envs the viewer steps itself (random, zero, sliders or a trained policy);
//! - [`feed`]: the non-blocking channel from training threads;
//! - [`history`]: per-seed metrics, status, frames and value functions;
//! - [`curves`], [`landscape_panel`]: the side panels;
//! - [`screenshot`]: PNG output for scripts and tests;
//! - [`app`]: the eframe app composing them.
#![warn(missing_docs)]

pub mod app;
pub mod curves;
pub mod feed;
pub mod history;
pub mod landscape_panel;
pub mod local;
pub mod paint;
pub mod scene;
pub mod screenshot;
pub mod state;

pub use app::{AutoClose, Page, Viewer, run_viewer};
pub use feed::{FeedReceiver, FeedSender, Frame, SeedEnd, TrainEvent, feed};
pub use history::RunHistory;
pub use local::{LocalEnvs, LocalOptions};

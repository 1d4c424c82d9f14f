//! The plugin trait: how a feature (an env kind, distractors, a learning stage) adds its
//! resources and systems to a [`SimApp`].

use crate::app::SimApp;

/// A feature that configures a [`SimApp`]: inits resources, adds verb_noun systems into the
/// [`SimSet`](crate::app::SimSet)s. Built once per app (see [`SimApp::add_plugin`]).
pub trait Plugin: Send + Sync + 'static {
    /// Adds this feature's resources and systems to the app.
    fn build(&self, app: &mut SimApp);
}

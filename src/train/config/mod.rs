//! Run configuration: every hyperparameter of an MBPO/VaGraM run, in TOML.
//!
//! A config starts from a preset ([`RunConfig::preset`]: `pendulum`, `cartpole`, `hopper`, from
//! the authors' MBPO configs in SPEC §3), may be replaced by a file, and is adjusted by
//! `--set key=value` overrides ([`RunConfig::set`]); [`RunConfig::validate`] then rejects any
//! value out of range, naming the key, before any work starts. Unknown keys are errors too.

mod choices;
pub mod memory;
mod presets;
pub use choices::{Exploration, GradAt, RealAction, RewardFit, RolloutCadence};
pub use presets::PRESETS;
pub use vagram_systems::learning::Schedule;

use serde::{Deserialize, Serialize};

use crate::engine::env::{DistractorConfig, DistractorVariant};
use vagram_learn::losses::{LossKind, ValueWeightNorm};
use vagram_learn::{Activation, Matmul, Optimizer};
use vagram_systems::learning::Mixing;

/// Why a config was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The TOML could not be read or has unknown keys or wrong types.
    #[error("{source_name}: {message}")]
    Parse {
        /// Where the TOML came from (a path, `--set`, a preset).
        source_name: String,
        /// The parser's message (names the key and position).
        message: String,
    },
    /// A value outside its valid range.
    #[error("{key} = {value} is invalid: {reason}")]
    Invalid {
        /// Dotted key, e.g. `model.elites`.
        key: String,
        /// The value, printed.
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// An override naming no key of the config.
    #[error("--set {key}: no such key (known keys of [{section}]: {known})")]
    UnknownKey {
        /// The key given.
        key: String,
        /// Its section.
        section: String,
        /// The keys that section has.
        known: String,
    },
}

/// Length and cadence of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// Real environment steps in total.
    pub env_steps: u64,
    /// Env steps per epoch (schedules advance per epoch; evaluation runs per epoch).
    pub epoch_length: u64,
    /// Exploration steps before learning starts: no model fit, rollout or SAC update happens
    /// before them, and the schedules count epochs from their end (the authors' MBPO).
    pub initial_random_steps: u64,
    /// What acts during those steps: `policy` (the untrained SAC policy, sampled; the
    /// authors') or `uniform` (uniformly random actions).
    #[serde(default)]
    pub exploration: Exploration,
    /// Deterministic-policy episodes per evaluation.
    pub eval_episodes: u32,
}

/// The environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSection {
    /// Registry name.
    pub name: String,
    /// Distracting dimensions (paper: 5, 10, 15, 20).
    pub distractors: usize,
    /// `paper` (eq. 18) or `reference` (the authors' code).
    pub distractor_variant: DistractorVariant,
}

impl EnvSection {
    /// The distracting dimensions to attach, or `None` for none.
    pub fn distractor_config(&self) -> Option<DistractorConfig> {
        (self.distractors > 0).then_some(DistractorConfig { dims: self.distractors, variant: self.distractor_variant })
    }
}

/// The dynamics model and its training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// `vagram`, `mle`, `mse`, `itervaml`, `itervaml-mse`, `value-weighted`,
    /// `value-weighted-next` (or `taylor`).
    pub loss: LossKind,
    /// Gaussian ensemble (`true` for `mle`, MBPO's model) or deterministic.
    pub probabilistic: bool,
    /// Ensemble members.
    pub members: usize,
    /// Elite members used for rollouts.
    pub elites: usize,
    /// Hidden widths (`[64, 64]` is the paper's 2×64 study; `[]` a linear model).
    pub hidden: Vec<usize>,
    /// `silu` or `relu`.
    pub activation: Activation,
    /// Learning rate (of Adam, or of plain SGD with `optimizer = "sgd"`).
    pub lr: f32,
    /// L2 weight decay.
    pub weight_decay: f32,
    /// Minibatch size.
    pub batch_size: usize,
    /// Early-stopping patience (epochs).
    pub patience: usize,
    /// Held-out share for validation and elites.
    pub validation_ratio: f64,
    /// Env steps between model trainings.
    pub train_every: u64,
    /// VaGraM's value-gradient norm clip percentile (95 in the paper; 100 switches the clip off,
    /// as the authors' code after 2022-04 effectively does).
    pub clip_percentile: f64,
    /// Where VaGraM takes ∇V: `next-state` (s′, the paper's text) or `delta` (s′ − s, the
    /// authors' paper-era code).
    #[serde(default)]
    pub grad_at: GradAt,
    /// Learn the probabilistic ensemble's log-variance bounds (`false`: fixed at [−10, 0.5], the
    /// authors' `learn_logvar_bounds: false`).
    #[serde(default)]
    pub learn_logvar_bounds: bool,
    /// How the probabilistic ensemble fits the reward: `likelihood` (its own log-variance in the
    /// Gaussian NLL, sampled in rollouts: the authors' MBRL-Lib ensemble) or `mse` (the paper's
    /// footnote 1). Deterministic models always use MSE.
    #[serde(default)]
    pub reward_fit: RewardFit,
    /// Cap on training epochs per fit (absent: until patience runs out, as MBRL-Lib).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_epochs: Option<usize>,
    /// Matrix products on the CPU: `f32` (default) or `bf16` (bf16 operands, f32 sums; on AMX
    /// tiles or AVX512_BF16 where the CPU has them, else emulated). See [`vagram_learn::Matmul`].
    #[serde(default, skip_serializing_if = "is_default_matmul")]
    pub matmul: Matmul,
    /// The fits' update rule: `adam` (default; MBPO's and the authors') or `sgd` (plain SGD, no
    /// momentum: the optimiser the paper's §4 names for Fig. 2). Left out of a written config
    /// when `adam`, so configs and studies from before the key read and compare as they did.
    #[serde(default, skip_serializing_if = "is_default_optimizer")]
    pub optimizer: Optimizer,
    /// How `value-weighted-next` (the authors' value-weighted MSE) normalises its weights:
    /// `sum` (default; theirs: by the sum over value functions, members and batch, mean
    /// 1/(E·K·B)) or `mean-one` (mean 1, the control). Other losses ignore it. Left out of a
    /// written config when `sum`.
    #[serde(default, skip_serializing_if = "is_default_value_weights")]
    pub value_weights: ValueWeightNorm,
}

fn is_default_optimizer(o: &Optimizer) -> bool {
    *o == Optimizer::Adam
}

fn is_default_value_weights(n: &ValueWeightNorm) -> bool {
    *n == ValueWeightNorm::Sum
}

/// Model rollouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutSection {
    /// Branched rollouts started per env step.
    pub per_step: usize,
    /// Rollout length schedule `[epoch_a, epoch_b, len_a, len_b]`.
    pub length: Schedule,
    /// Epochs of model data kept in the model buffer; its capacity follows the current rollout
    /// length (rollouts per epoch × length × epochs kept) and is resized at each epoch's start.
    pub retain_epochs: u64,
    /// `per-fit` (one batch of `per_step × model.train_every` rollouts right after each fit, the
    /// authors') or `per-step` (`per_step` rollouts after every env step).
    #[serde(default)]
    pub cadence: RolloutCadence,
}

/// The SAC agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSection {
    /// SAC updates per env step.
    pub updates_per_step: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Hidden widths of actor and critics.
    pub hidden: Vec<usize>,
    /// Actor learning rate.
    pub actor_lr: f32,
    /// Critic learning rate.
    pub critic_lr: f32,
    /// Temperature learning rate.
    pub alpha_lr: f32,
    /// Target entropy (default −|A| when absent).
    pub target_entropy: Option<f32>,
    /// A fixed α instead of automatic tuning.
    pub fixed_alpha: Option<f32>,
    /// The temperature α that automatic tuning starts from (0.1: the authors' `init_temperature`).
    #[serde(default = "default_init_alpha")]
    pub init_alpha: f32,
    /// The action taken in the real env once learning starts: `mean` (the authors') or `sample`.
    #[serde(default)]
    pub act_in_env: RealAction,
    /// Discount.
    pub gamma: f32,
    /// Polyak factor.
    pub tau: f32,
    /// Updates between target-critic updates.
    pub target_update_interval: u64,
    /// Matrix products on the CPU: `f32` (default) or `bf16` (bf16 operands, f32 sums; on AMX
    /// tiles or AVX512_BF16 where the CPU has them, else emulated). See [`vagram_learn::Matmul`].
    #[serde(default, skip_serializing_if = "is_default_matmul")]
    pub matmul: Matmul,
}

/// How SAC batches mix real and model data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixingSection {
    /// Model-data share schedule `[epoch_a, epoch_b, share_a, share_b]` (paper: 0 → 0.95 over
    /// the first 40 epochs).
    pub model_share: Schedule,
    /// `per-batch` (the whole batch from one buffer, with the share as probability: the authors'
    /// code) or `per-sample` (each sample drawn by the share).
    pub mode: Mixing,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Length and cadence.
    pub run: RunSection,
    /// Environment.
    pub env: EnvSection,
    /// Dynamics model.
    pub model: ModelSection,
    /// Model rollouts.
    pub rollout: RolloutSection,
    /// SAC.
    pub agent: AgentSection,
    /// Real/model data mixing.
    pub mixing: MixingSection,
}

fn default_init_alpha() -> f32 {
    0.1
}

fn is_default_matmul(m: &Matmul) -> bool {
    *m == Matmul::F32
}

fn invalid(key: &str, value: impl std::fmt::Display, reason: &str) -> ConfigError {
    ConfigError::Invalid { key: key.into(), value: value.to_string(), reason: reason.into() }
}

impl ModelSection {
    /// Whether the presets pair `loss` with the Gaussian ensemble: for MLE (MBPO's model); every
    /// other loss trains a deterministic one.
    pub fn probabilistic_for(loss: LossKind) -> bool {
        loss == LossKind::Mle
    }

    /// Switches to `loss` with the ensemble the presets pair it with.
    pub fn use_loss(&mut self, loss: LossKind) {
        self.loss = loss;
        self.probabilistic = Self::probabilistic_for(loss);
    }
}

impl RunConfig {
    /// Parses TOML (every section and key required; unknown keys rejected).
    pub fn from_toml(text: &str, source_name: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse { source_name: source_name.into(), message: e.to_string().trim().to_string() })
    }

    /// The config as TOML (what a run directory stores).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a config always serialises")
    }

    /// Each matmul setting with its dotted key: the model's, then the agent's.
    pub fn matmuls(&self) -> [(&'static str, Matmul); 2] {
        [("model.matmul", self.model.matmul), ("agent.matmul", self.agent.matmul)]
    }

    /// The keys (dotted) whose values differ between this config and `other`, including keys
    /// written on one side only (model.matmul, agent.matmul, …).
    pub fn differing_keys(&self, other: &RunConfig) -> Vec<String> {
        let (ta, tb) = (toml::Table::try_from(self).expect("serialises"), toml::Table::try_from(other).expect("serialises"));
        let empty = toml::Table::new();
        let mut keys = Vec::new();
        let sections: std::collections::BTreeSet<&String> = ta.keys().chain(tb.keys()).collect();
        for section in sections {
            let sa = ta.get(section).and_then(|v| v.as_table()).unwrap_or(&empty);
            let sb = tb.get(section).and_then(|v| v.as_table()).unwrap_or(&empty);
            let names: std::collections::BTreeSet<&String> = sa.keys().chain(sb.keys()).collect();
            for k in names {
                if sa.get(k) != sb.get(k) {
                    keys.push(format!("{section}.{k}"));
                }
            }
        }
        keys
    }

    /// Applies `key=value` (e.g. `model.lr=3e-4`, `model.hidden=[64, 64]`, `model.loss=mle`);
    /// values are TOML, bare words are taken as strings.
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let parse_err = |message: String| ConfigError::Parse { source_name: format!("--set {assignment}"), message };
        let (key, raw) = assignment.split_once('=').ok_or_else(|| parse_err("expected key=value".into()))?;
        let key = key.trim();
        let (section, field) = key.split_once('.').ok_or_else(|| parse_err("keys are section.name, e.g. model.lr".into()))?;
        let value: toml::Value = match toml::from_str::<toml::Table>(&format!("v = {}", raw.trim())) {
            Ok(mut t) => t.remove("v").expect("parsed key"),
            Err(_) => toml::Value::String(raw.trim().to_string()),
        };
        let mut tree = toml::Table::try_from(&*self).expect("a config always serialises");
        let sections: Vec<String> = tree.keys().cloned().collect();
        let table = tree.get_mut(section).and_then(toml::Value::as_table_mut).ok_or_else(|| ConfigError::UnknownKey {
            key: key.into(),
            section: section.into(),
            known: sections.join(", "),
        })?;
        let known = RunConfig::keys_of(section);
        if !known.contains(&field) {
            return Err(ConfigError::UnknownKey { key: key.into(), section: section.into(), known: known.join(", ") });
        }
        table.insert(field.into(), value);
        *self = RunConfig::from_toml(&toml::to_string(&tree).expect("a table serialises"), &format!("--set {assignment}"))?;
        Ok(())
    }

    /// The keys of a section (including optional ones).
    fn keys_of(section: &str) -> Vec<&'static str> {
        match section {
            "run" => vec!["env_steps", "epoch_length", "initial_random_steps", "exploration", "eval_episodes"],
            "env" => vec!["name", "distractors", "distractor_variant"],
            "model" => vec![
                "loss",
                "probabilistic",
                "members",
                "elites",
                "hidden",
                "activation",
                "lr",
                "weight_decay",
                "batch_size",
                "patience",
                "validation_ratio",
                "train_every",
                "clip_percentile",
                "grad_at",
                "learn_logvar_bounds",
                "reward_fit",
                "max_epochs",
                "matmul",
                "optimizer",
                "value_weights",
            ],
            "rollout" => vec!["per_step", "length", "retain_epochs", "cadence"],
            "agent" => vec![
                "updates_per_step",
                "batch_size",
                "hidden",
                "actor_lr",
                "critic_lr",
                "alpha_lr",
                "target_entropy",
                "fixed_alpha",
                "init_alpha",
                "act_in_env",
                "gamma",
                "tau",
                "target_update_interval",
                "matmul",
            ],
            "mixing" => vec!["model_share", "mode"],
            _ => vec![],
        }
    }

    /// Rejects values out of range, naming the key; `envs` are the registered env names.
    pub fn validate(&self, envs: &[&str]) -> Result<(), ConfigError> {
        let (r, e, m, ro, a, mx) = (&self.run, &self.env, &self.model, &self.rollout, &self.agent, &self.mixing);
        if !envs.contains(&e.name.as_str()) {
            return Err(invalid("env.name", &e.name, &format!("known envs: {}", envs.join(", "))));
        }
        if e.distractors > 4096 {
            return Err(invalid("env.distractors", e.distractors, "at most 4096"));
        }
        for (key, v) in [
            ("run.env_steps", r.env_steps),
            ("run.epoch_length", r.epoch_length),
            ("model.train_every", m.train_every),
            ("agent.target_update_interval", a.target_update_interval),
        ] {
            if v == 0 {
                return Err(invalid(key, v, "must be at least 1"));
            }
        }
        if r.epoch_length > r.env_steps {
            return Err(invalid("run.epoch_length", r.epoch_length, &format!("longer than run.env_steps = {}", r.env_steps)));
        }
        if !r.env_steps.is_multiple_of(r.epoch_length) {
            return Err(invalid(
                "run.env_steps",
                r.env_steps,
                &format!("must be a whole number of epochs of run.epoch_length = {}", r.epoch_length),
            ));
        }
        if m.loss == LossKind::Mle && !m.probabilistic {
            return Err(invalid("model.probabilistic", false, "the mle loss needs a probabilistic ensemble"));
        }
        if m.members == 0 || m.elites == 0 || m.elites > m.members {
            return Err(invalid("model.elites", m.elites, &format!("must be between 1 and model.members = {}", m.members)));
        }
        for (key, v) in [("model.batch_size", m.batch_size), ("agent.batch_size", a.batch_size), ("rollout.per_step", ro.per_step)] {
            if v == 0 {
                return Err(invalid(key, v, "must be at least 1"));
            }
        }
        for (key, v) in [("model.hidden", &m.hidden), ("agent.hidden", &a.hidden)] {
            if let Some(w) = v.iter().find(|w| **w == 0 || **w > 65536) {
                return Err(invalid(key, format!("{v:?}"), &format!("width {w} outside 1..=65536")));
            }
        }
        if a.hidden.is_empty() {
            return Err(invalid("agent.hidden", "[]", "SAC networks need at least one hidden layer"));
        }
        for (key, v) in
            [("model.lr", m.lr), ("agent.actor_lr", a.actor_lr), ("agent.critic_lr", a.critic_lr), ("agent.alpha_lr", a.alpha_lr)]
        {
            if !(v > 0.0 && v.is_finite() && v < 1.0) {
                return Err(invalid(key, v, "a learning rate in (0, 1)"));
            }
        }
        if !(m.weight_decay >= 0.0 && m.weight_decay.is_finite()) {
            return Err(invalid("model.weight_decay", m.weight_decay, "must be finite and >= 0"));
        }
        if !(m.validation_ratio > 0.0 && m.validation_ratio < 1.0) {
            return Err(invalid("model.validation_ratio", m.validation_ratio, "must be in (0, 1)"));
        }
        if m.max_epochs == Some(0) {
            return Err(invalid("model.max_epochs", 0, "must be at least 1 (or absent for no cap)"));
        }
        if !(m.clip_percentile > 0.0 && m.clip_percentile <= 100.0) {
            return Err(invalid("model.clip_percentile", m.clip_percentile, "must be in (0, 100]"));
        }
        for (key, v) in [("agent.gamma", a.gamma), ("agent.tau", a.tau)] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(invalid(key, v, "must be in (0, 1]"));
            }
        }
        if !(a.init_alpha > 0.0 && a.init_alpha.is_finite()) {
            return Err(invalid("agent.init_alpha", a.init_alpha, "must be finite and > 0"));
        }
        if r.initial_random_steps >= r.env_steps {
            return Err(invalid(
                "run.initial_random_steps",
                r.initial_random_steps,
                &format!("leaves no learning steps in run.env_steps = {}", r.env_steps),
            ));
        }
        if let Some(alpha) = a.fixed_alpha
            && !(alpha >= 0.0 && alpha.is_finite())
        {
            return Err(invalid("agent.fixed_alpha", alpha, "must be finite and >= 0"));
        }
        let Schedule(la, lb, ya, yb) = ro.length;
        if la > lb || ya < 1.0 || yb < 1.0 || ya.fract() != 0.0 || yb.fract() != 0.0 {
            return Err(invalid("rollout.length", format!("{:?}", ro.length), "[epoch_a <= epoch_b, lengths >= 1, whole numbers]"));
        }
        let Schedule(sa, sb, pa, pb) = mx.model_share;
        if sa > sb || !(0.0..=1.0).contains(&pa) || !(0.0..=1.0).contains(&pb) {
            return Err(invalid("mixing.model_share", format!("{:?}", mx.model_share), "[epoch_a <= epoch_b, shares in [0, 1]]"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

//! Presets validate, round-trip through TOML, and bad configs are rejected naming the key.

use super::*;
use crate::engine::env::DistractorVariant;

const ENVS: [&str; 3] = ["pendulum", "cartpole", "hopper"];

#[test]
fn every_preset_and_loss_validates_and_round_trips() {
    for name in PRESETS {
        for loss in ["vagram", "mle", "mse", "itervaml", "itervaml-mse", "value-weighted"] {
            let c = RunConfig::preset(name, loss).unwrap();
            c.validate(&ENVS).unwrap_or_else(|e| panic!("{name}/{loss}: {e}"));
            assert_eq!(RunConfig::from_toml(&c.to_toml(), "round trip").unwrap(), c);
            assert_eq!(c.model.probabilistic, loss == "mle");
        }
    }
    let h = RunConfig::preset("hopper", "vagram").unwrap();
    assert_eq!((h.model.batch_size, h.model.patience, h.agent.actor_lr), (1024, 10, 3e-5), "SPEC §3 hopper column");
    assert!(RunConfig::preset("walker", "vagram").is_none());
}

#[test]
fn overrides_set_typed_values_and_study_variants() {
    let mut c = RunConfig::preset("hopper", "vagram").unwrap();
    c.set("model.hidden=[64, 64]").unwrap();
    c.set("env.distractors=15").unwrap();
    c.set("env.distractor_variant=reference").unwrap();
    c.set("model.loss=mle").unwrap();
    c.set("model.probabilistic=true").unwrap();
    c.set("agent.fixed_alpha=0.2").unwrap();
    c.set("mixing.model_share=[0, 20, 0, 0.95]").unwrap();
    assert_eq!(c.model.hidden, vec![64, 64]);
    assert_eq!((c.env.distractors, c.env.distractor_variant), (15, DistractorVariant::Reference));
    assert_eq!(c.agent.fixed_alpha, Some(0.2));
    assert_eq!(c.mixing.model_share, Schedule(0.0, 20.0, 0.0, 0.95));
    c.validate(&ENVS).unwrap();
}

#[test]
fn unknown_keys_and_wrong_types_are_named() {
    let mut c = RunConfig::preset("pendulum", "vagram").unwrap();
    let e = c.set("model.lrr=0.1").unwrap_err().to_string();
    assert!(e.contains("model.lrr") && e.contains("lr, weight_decay"), "{e}");
    let e = c.set("modle.lr=0.1").unwrap_err().to_string();
    assert!(e.contains("modle.lr") && e.contains("model"), "{e}");
    let e = c.set("model.members=seven").unwrap_err().to_string();
    assert!(e.contains("members") && e.contains("--set model.members=seven"), "{e}");
    let e = c.set("model.lr").unwrap_err().to_string();
    assert!(e.contains("key=value"), "{e}");

    let mut text = c.to_toml();
    text = text.replace("[model]", "[model]\nlearning_rate = 0.1");
    let e = RunConfig::from_toml(&text, "my.toml").unwrap_err().to_string();
    assert!(e.starts_with("my.toml") && e.contains("learning_rate"), "{e}");
}

#[test]
fn unknown_choices_are_refused_when_set_naming_the_key_and_the_valid_values() {
    let cases = [
        ("model.loss=nll", "vagram"),
        ("mixing.mode=per-step", "per-sample"),
        ("env.distractor_variant=fancy", "reference"),
        ("model.matmul=fp16", "bf16"),
        ("agent.matmul=tf32", "bf16"),
        ("model.activation=tanh", "relu"),
    ];
    for (assignment, valid) in cases {
        let mut c = RunConfig::preset("pendulum", "vagram").unwrap();
        let e = c.set(assignment).unwrap_err().to_string();
        let key = assignment.split('=').next().unwrap();
        assert!(e.contains(key) && e.contains(valid), "{assignment}: {e}");
        assert_eq!(c, RunConfig::preset("pendulum", "vagram").unwrap(), "{assignment} left the config as it was");
    }
    let mut text = RunConfig::preset("pendulum", "vagram").unwrap().to_toml();
    text = text.replace("loss = \"vagram\"", "loss = \"vgram\"");
    let e = RunConfig::from_toml(&text, "my.toml").unwrap_err().to_string();
    assert!(e.starts_with("my.toml") && e.contains("vgram") && e.contains("itervaml-mse"), "{e}");
}

#[test]
fn out_of_range_values_are_rejected_naming_the_key() {
    let cases = [
        ("model.elites=9", "model.elites"),
        ("model.lr=0", "model.lr"),
        ("agent.gamma=1.5", "agent.gamma"),
        ("model.hidden=[200, 0]", "model.hidden"),
        ("run.epoch_length=100000", "run.epoch_length"),
        ("rollout.length=[1, 15, 0, 1]", "rollout.length"),
        ("mixing.model_share=[0, 40, 0, 1.5]", "mixing.model_share"),
        ("env.name=walker", "env.name"),
        ("model.validation_ratio=1", "model.validation_ratio"),
    ];
    for (assignment, key) in cases {
        let mut c = RunConfig::preset("pendulum", "vagram").unwrap();
        c.set(assignment).unwrap();
        let e = c.validate(&ENVS).unwrap_err().to_string();
        assert!(e.starts_with(key), "{assignment}: {e}");
    }
    let mut c = RunConfig::preset("pendulum", "mle").unwrap();
    c.set("model.probabilistic=false").unwrap();
    assert!(c.validate(&ENVS).unwrap_err().to_string().contains("probabilistic"));
}

#[test]
fn matmul_defaults_to_f32_and_is_only_written_when_changed() {
    let mut c = RunConfig::preset("hopper", "mle").unwrap();
    assert_eq!((c.model.matmul, c.agent.matmul), (Matmul::F32, Matmul::F32));
    // Configs written before the key existed read back the same (and resume against them).
    assert!(!c.to_toml().contains("matmul"), "the default is not written");
    c.set("agent.matmul=bf16").unwrap();
    c.validate(&ENVS).unwrap();
    let text = c.to_toml();
    assert!(text.contains("matmul = \"bf16\""), "{text}");
    assert_eq!(RunConfig::from_toml(&text, "round trip").unwrap(), c);
}

#[test]
fn presets_carry_the_authors_loop_settings_and_old_configs_read_them_as_defaults() {
    let h = RunConfig::preset("hopper", "vagram").unwrap();
    assert_eq!((h.run.env_steps - h.run.initial_random_steps, h.run.initial_random_steps), (250_000, 10_000), "mbpo_hopper: num_steps");
    assert_eq!((h.run.exploration, h.agent.act_in_env, h.agent.init_alpha), (Exploration::Policy, RealAction::Mean, 0.1));
    assert_eq!((h.rollout.cadence, h.model.grad_at, h.model.learn_logvar_bounds), (RolloutCadence::PerFit, GradAt::NextState, false));
    assert_eq!(h.model.reward_fit, RewardFit::Likelihood, "MBRL-Lib's Gaussian ensemble models the reward's variance");
    let d = RunConfig::preset("hopper-distractors", "mle").unwrap();
    assert_eq!((d.env.distractors, d.env.distractor_variant, d.run.env_steps), (10, DistractorVariant::Reference, 510_000));
    assert_eq!((d.rollout.length, d.mixing.model_share), (Schedule(20.0, 150.0, 1.0, 1.0), Schedule(0.0, 50.0, 0.0, 0.95)));
    assert_eq!(d.model.batch_size, 256, "the MLE distraction script trains on 256");
    assert_eq!(RunConfig::preset("hopper-distractors", "vagram").unwrap().model.batch_size, 1024);
    let p = RunConfig::preset("pendulum-authors", "vagram").unwrap();
    assert_eq!((p.run.epoch_length, p.model.train_every, p.agent.updates_per_step, p.model.patience), (100, 50, 40, 1));
    assert_eq!((p.agent.critic_lr, p.agent.target_entropy, p.model.weight_decay), (3e-5, Some(-3.0), 2e-5));
    // A config written before these keys existed reads them as the authors' values.
    let mut text = h.to_toml();
    for key in ["exploration", "init_alpha", "act_in_env", "cadence", "grad_at", "learn_logvar_bounds", "reward_fit"] {
        text = text.lines().filter(|l| !l.starts_with(&format!("{key} ="))).collect::<Vec<_>>().join("\n");
    }
    assert!(!text.contains("init_alpha"));
    assert_eq!(RunConfig::from_toml(&text, "old").unwrap(), h);
}

#[test]
fn the_new_choices_are_set_by_name_and_bad_ones_list_the_valid_names() {
    let mut c = RunConfig::preset("pendulum", "vagram").unwrap();
    c.set("model.grad_at=delta").unwrap();
    c.set("rollout.cadence=per-step").unwrap();
    c.set("run.exploration=uniform").unwrap();
    c.set("agent.act_in_env=sample").unwrap();
    c.set("agent.init_alpha=1.0").unwrap();
    assert_eq!(
        (c.model.grad_at, c.rollout.cadence, c.run.exploration, c.agent.act_in_env),
        (GradAt::Delta, RolloutCadence::PerStep, Exploration::Uniform, RealAction::Sample)
    );
    c.validate(&ENVS).unwrap();
    let e = c.set("model.grad_at=prediction").unwrap_err().to_string();
    assert!(e.contains("next-state") && e.contains("delta"), "{e}");
    c.set("agent.init_alpha=0").unwrap();
    assert!(c.validate(&ENVS).unwrap_err().to_string().contains("agent.init_alpha"));
    let mut c = RunConfig::preset("pendulum", "vagram").unwrap();
    c.set("run.initial_random_steps=5000").unwrap();
    let e = c.validate(&ENVS).unwrap_err().to_string();
    assert!(e.contains("run.initial_random_steps") && e.contains("no learning steps"), "{e}");
}

#[test]
fn the_optimizer_is_set_by_name_and_written_only_when_not_adam() {
    let mut c = RunConfig::preset("pendulum", "vagram").unwrap();
    assert_eq!(c.model.optimizer, Optimizer::Adam);
    assert!(!c.to_toml().contains("optimizer"), "a default config reads as it did before the key existed");
    c.set("model.optimizer=sgd").unwrap();
    assert_eq!(c.model.optimizer, Optimizer::Sgd);
    let text = c.to_toml();
    assert!(text.contains("optimizer = \"sgd\""), "{text}");
    assert_eq!(RunConfig::from_toml(&text, "sgd").unwrap(), c);
    let e = c.set("model.optimizer=rmsprop").unwrap_err().to_string();
    assert!(e.contains("adam") && e.contains("sgd"), "{e}");
}

#[test]
fn the_value_weights_normalisation_is_set_by_name_and_written_only_when_not_the_authors() {
    use vagram_learn::losses::ValueWeightNorm;
    let mut c = RunConfig::preset("pendulum", "value-weighted-next").unwrap();
    assert_eq!(c.model.value_weights, ValueWeightNorm::Sum, "the authors' normalisation by default");
    assert!(!c.to_toml().contains("value_weights"), "a default config reads as it did before the key existed");
    c.set("model.value_weights=mean-one").unwrap();
    assert_eq!(c.model.value_weights, ValueWeightNorm::MeanOne);
    let text = c.to_toml();
    assert!(text.contains("value_weights = \"mean-one\""), "{text}");
    assert_eq!(RunConfig::from_toml(&text, "mean-one").unwrap(), c);
    let e = c.set("model.value_weights=max").unwrap_err().to_string();
    assert!(e.contains("sum") && e.contains("mean-one"), "{e}");
}

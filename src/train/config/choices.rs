//! The run config's closed choices as enums (TOML and `--set` spell them in kebab case), for
//! the keys that decide how faithfully a run follows the paper's text or the authors' code.

use serde::{Deserialize, Serialize};

/// Which action the agent takes in the real env once learning has started (`agent.act_in_env`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RealAction {
    /// The policy's mean `tanh(μ(s))` (the authors' MBPO: `agent.act(obs)` with `sample=False`).
    #[default]
    Mean,
    /// A sample from the policy.
    Sample,
}

pub use vagram_learn::dynamics::RewardFit;
pub use vagram_learn::losses::GradAt;
pub use vagram_systems::learning::{Exploration, RolloutCadence};

vagram_learn::choice_names!(RealAction, ["mean", "sample"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_their_names_and_reject_others_listing_the_valid_ones() {
        assert_eq!("uniform".parse::<Exploration>(), Ok(Exploration::Uniform));
        assert_eq!("per-step".parse::<RolloutCadence>(), Ok(RolloutCadence::PerStep));
        assert_eq!("delta".parse::<GradAt>(), Ok(GradAt::Delta));
        assert_eq!("sample".parse::<RealAction>(), Ok(RealAction::Sample));
        assert_eq!("mse".parse::<RewardFit>(), Ok(RewardFit::Mse));
        let e = "next_state".parse::<GradAt>().unwrap_err();
        assert!(e.contains("next-state, delta"), "{e}");
    }
}

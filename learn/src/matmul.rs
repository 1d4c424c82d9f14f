//! The arithmetic of a network's matrix products on the CPU: f32 (the default, what MBRL-Lib
//! and PyTorch run), or bf16 operands with f32 accumulation, on Intel AMX tiles where the CPU
//! has them.
//!
//! bf16 keeps f32's exponent range but only 8 significant bits, so each product's operands are
//! rounded to about 2.4 decimal digits before an exact-enough f32 sum; biases, activations,
//! losses and optimiser state stay f32. On an AMX CPU a 512-wide SAC update runs several times
//! faster (BENCHMARKS.md). Without AMX the same rounding is applied and the f32 kernel
//! multiplies, so a config gives the same kind of numbers everywhere, only slower. The CUDA
//! build always multiplies in f32.

use std::fmt;
use std::str::FromStr;

/// How a network's matrix products are computed on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Matmul {
    /// f32 operands and sums.
    #[default]
    F32,
    /// Operands rounded to bfloat16, sums in f32 (AMX tiles where available).
    Bf16,
}

impl Matmul {
    /// Every setting, as written in configs.
    pub const NAMES: [&'static str; 2] = ["f32", "bf16"];

    /// The name configs use.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        }
    }
}

impl fmt::Display for Matmul {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A matmul name that is not one of [`Matmul::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMatmul(pub String);

impl fmt::Display for UnknownMatmul {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown matmul '{}' (expected one of: {})", self.0, Matmul::NAMES.join(", "))
    }
}

impl std::error::Error for UnknownMatmul {}

impl FromStr for Matmul {
    type Err = UnknownMatmul;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "f32" => Ok(Self::F32),
            "bf16" => Ok(Self::Bf16),
            other => Err(UnknownMatmul(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for name in Matmul::NAMES {
            assert_eq!(name.parse::<Matmul>().unwrap().name(), name);
        }
        let err = "fp8".parse::<Matmul>().unwrap_err();
        assert!(err.to_string().contains("'fp8'") && err.to_string().contains("bf16"), "{err}");
    }
}

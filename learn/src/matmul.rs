//! The arithmetic of a network's matrix products on the CPU: f32 (the default, what MBRL-Lib
//! and PyTorch run), or bf16 operands with f32 accumulation, on the fastest [`Bf16Path`] the CPU
//! has: Intel AMX tiles, else AVX512_BF16 dot products, else an emulation.
//!
//! bf16 keeps f32's exponent range but only 8 significant bits, so each product's operands are
//! rounded to about 2.4 decimal digits before an exact-enough f32 sum; biases, activations,
//! losses and optimiser state stay f32. On an AMX CPU a 512-wide SAC update runs about 1.9×
//! faster, with AVX512_BF16 about 1.66× (BENCHMARKS.md). Without either the same
//! rounding is applied and the f32 kernel multiplies, so a config gives the same kind of numbers
//! everywhere, only slower. The CUDA build always multiplies in f32.

use std::fmt;
use std::str::FromStr;

/// How a network's matrix products are computed on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Matmul {
    /// f32 operands and sums.
    #[default]
    F32,
    /// Operands rounded to bfloat16, sums in f32 (on the CPU's fastest [`Bf16Path`]).
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

/// How bf16 products are computed on this CPU. Every path rounds the operands to bf16 (nearest
/// even) and sums in f32; they differ in speed and in the order of the sums, so results agree to
/// f32 rounding, not bit for bit, across paths (each path on its own is deterministic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bf16Path {
    /// Intel AMX tiles (`TDPBF16PS`, Sapphire Rapids onwards): 16 × 16 × 32 multiply-adds per
    /// instruction.
    Amx,
    /// AVX-512 BF16 dot products (`VDPBF16PS`: AMD Zen 4/5, Intel Cooper Lake onwards): pairs of
    /// bf16 products summed into f32 lanes, twice the multiply-adds of an f32 FMA.
    Avx512Bf16,
    /// The f32 gemm on operands rounded to bf16: the same numbers on any CPU, slower than f32.
    Emulated,
}

crate::choice_names!(Bf16Path, ["amx", "avx512-bf16", "emulated"]);

impl Bf16Path {
    /// The environment variable that forces a path (one of [`Self::NAMES`]) instead of the
    /// fastest this CPU has: for benchmarks and tests of a slower path on a faster machine.
    pub const VAR: &'static str = "VAGRAM_BF16_PATH";

    /// The name [`Self::VAR`] takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Amx => "amx",
            Self::Avx512Bf16 => "avx512-bf16",
            Self::Emulated => "emulated",
        }
    }

    /// What the path is, for messages ("AMX tiles", ...).
    pub fn describe(self) -> &'static str {
        match self {
            Self::Amx => "AMX tiles",
            Self::Avx512Bf16 => "AVX512_BF16 dot products",
            Self::Emulated => "emulated (f32 gemm on bf16-rounded operands)",
        }
    }
}

impl fmt::Display for Bf16Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why [`Bf16Path::VAR`] cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Bf16PathError {
    /// It names no path (the message lists [`Bf16Path::NAMES`]).
    #[error("{var}: {0}", var = Bf16Path::VAR)]
    Unknown(String),
    /// It names a path this CPU (or this build) cannot run.
    #[error("{var}={path} asks for {what}, which this machine cannot run (it can run: {can})", var = Bf16Path::VAR, what = .path.describe())]
    Unsupported {
        /// The path asked for.
        path: Bf16Path,
        /// The names of the paths this machine can run, fastest first.
        can: String,
    },
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
        for &name in Bf16Path::NAMES {
            assert_eq!(name.parse::<Bf16Path>().unwrap().name(), name);
        }
        let err = "avx512".parse::<Bf16Path>().unwrap_err();
        assert!(err.contains("'avx512'") && err.contains("avx512-bf16"), "{err}");
    }
}

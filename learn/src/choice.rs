//! Closed choices spelled in kebab case (as in TOML configs): [`choice_names!`] gives an enum
//! with serde's `Deserialize` its list of spellings and a `FromStr` whose error lists them.

use serde::Deserialize;

/// Parses a kebab-case choice as TOML would; the error lists `names`.
pub fn parse_choice<T: for<'de> Deserialize<'de>>(s: &str, names: &[&str]) -> Result<T, String> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(s))
        .map_err(|_| format!("'{s}' is not one of {}", names.join(", ")))
}

/// `choice_names!(Type, ["a", "b"])`: `Type::NAMES` (every spelling) and `FromStr` through
/// serde, for an enum deriving `Deserialize` with `rename_all = "kebab-case"`.
#[macro_export]
macro_rules! choice_names {
    ($t:ty, [$($v:expr),*]) => {
        impl $t {
            /// Every spelling the config accepts.
            pub const NAMES: &'static [&'static str] = &[$($v),*];
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $crate::choice::parse_choice(s, Self::NAMES)
            }
        }
    };
}

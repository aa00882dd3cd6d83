//! Reading back the numbers qts writes: serde_json writes a number that is not finite as
//! `null`, so a float field reads `null` as NaN (`#[serde(deserialize_with = …)]`), and a name
//! field (a method) reads and writes the enum's own name (`#[serde(with = "names")]`).

use serde::{Deserialize, Deserializer};

/// A float, `null` as NaN.
///
/// # Errors
/// The deserializer's, for anything but a number or `null`.
pub fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Floats, each `null` as NaN.
///
/// # Errors
/// As [`f64_or_nan`].
pub fn vec_f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(Vec::<Option<f64>>::deserialize(d)?
        .into_iter()
        .map(|x| x.unwrap_or(f64::NAN))
        .collect())
}

/// Rows of floats, each `null` as NaN.
///
/// # Errors
/// As [`f64_or_nan`].
pub fn vecs_f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
    Ok(Vec::<Vec<Option<f64>>>::deserialize(d)?
        .into_iter()
        .map(|row| row.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
        .collect())
}

/// An enum written and read as its name (`Display` and `FromStr`: its one name table).
pub mod names {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the name.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<T: std::fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads a name.
    ///
    /// # Errors
    /// A name the enum does not know.
    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
        D: Deserializer<'de>,
    {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

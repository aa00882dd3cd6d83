//! One registry of strategy names: what each takes, with typed defaults, and how it is built.
//! Every front end (the CLI, `qts run`, the research tools, Python) builds strategies here,
//! so a new strategy is a file in this folder and one entry in [`Registry::builtin`].

use crate::settings::RegimeFilterConfig;

use super::{BuyAndHold, RegimeFilter, SignalSeries, SignalStrategy, SmaCross, Strategy};
use crate::error::BacktestError;

/// The kind and default of one parameter (and, in [`Params`], its value); serialised as the
/// bare number or word (read back as a whole number when it is one).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A whole number.
    Int(usize),
    /// A real number (NaN refused; infinities allowed, e.g. `-inf` for "never").
    Real(f64),
    /// One of the words the parameter lists ([`Param::choices`]).
    Word(std::borrow::Cow<'static, str>),
}

impl ParamValue {
    /// The value as `--param` text (it parses back to the same value).
    pub fn text(&self) -> String {
        match self {
            ParamValue::Int(v) => v.to_string(),
            ParamValue::Real(v) => v.to_string(),
            ParamValue::Word(v) => v.to_string(),
        }
    }

    /// The value as a real number (NaN for a word).
    pub fn as_f64(&self) -> f64 {
        match self {
            ParamValue::Int(v) => *v as f64,
            ParamValue::Real(v) => *v,
            ParamValue::Word(_) => f64::NAN,
        }
    }
}

/// One parameter a strategy takes.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name, as in `--param NAME=VALUE`.
    pub name: &'static str,
    /// Kind and default.
    pub default: ParamValue,
    /// The words a word parameter takes (empty for a number).
    pub choices: &'static [&'static str],
}

impl Param {
    /// A whole-number parameter.
    pub const fn int(name: &'static str, default: usize) -> Param {
        Param {
            name,
            default: ParamValue::Int(default),
            choices: &[],
        }
    }

    /// A real parameter.
    pub const fn real(name: &'static str, default: f64) -> Param {
        Param {
            name,
            default: ParamValue::Real(default),
            choices: &[],
        }
    }

    /// A parameter that is one of `choices` (the first is the default).
    pub const fn word(name: &'static str, choices: &'static [&'static str]) -> Param {
        Param {
            name,
            default: ParamValue::Word(std::borrow::Cow::Borrowed(choices[0])),
            choices,
        }
    }
}

/// What a strategy may need besides its parameters.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Symbols traded (the signal strategy trades one).
    pub symbols: usize,
    /// Predictions aligned to the bars (for `signal`).
    pub signals: Option<SignalSeries>,
}

/// Parameter values, parsed and checked against the strategy's [`Param`] list.
#[derive(Debug, Clone)]
pub struct Params {
    strategy: &'static str,
    values: Vec<(&'static str, ParamValue)>,
}

impl Params {
    /// A whole-number parameter's value (its default when not given).
    ///
    /// # Errors
    /// [`BacktestError::Parameter`] when the strategy declares no such whole-number parameter
    /// (a registry entry out of step with its builder).
    pub fn int(&self, name: &str) -> Result<usize, BacktestError> {
        match self.get(name) {
            Some(ParamValue::Int(v)) => Ok(*v),
            _ => Err(self.undeclared(name)),
        }
    }

    /// A real parameter's value (its default when not given).
    ///
    /// # Errors
    /// As [`Params::int`].
    pub fn real(&self, name: &str) -> Result<f64, BacktestError> {
        match self.get(name) {
            Some(ParamValue::Real(v)) => Ok(*v),
            _ => Err(self.undeclared(name)),
        }
    }

    /// A word parameter's value (its default when not given).
    ///
    /// # Errors
    /// As [`Params::int`].
    pub fn word(&self, name: &str) -> Result<&str, BacktestError> {
        match self.get(name) {
            Some(ParamValue::Word(v)) => Ok(v),
            _ => Err(self.undeclared(name)),
        }
    }

    /// Every parameter with its value, in the strategy's declared order.
    pub fn values(&self) -> &[(&'static str, ParamValue)] {
        &self.values
    }

    fn get(&self, name: &str) -> Option<&ParamValue> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn undeclared(&self, name: &str) -> BacktestError {
        BacktestError::Parameter {
            strategy: self.strategy.into(),
            param: name.into(),
            reason: "not declared by the strategy".into(),
        }
    }
}

/// Builds a strategy from its parameters and inputs.
pub type Builder = fn(&Params, &mut Inputs) -> Result<Box<dyn Strategy>, BacktestError>;

/// A registered strategy.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Name, as in `--strategy NAME`.
    pub name: &'static str,
    /// The parameters it takes.
    pub params: &'static [Param],
    /// How it is built.
    pub build: Builder,
    /// Whether `backtest_config.yaml`'s risk overlays (volatility sizing, position cap, stops,
    /// breaker, rebalance schedule) apply by default. False for a strategy whose name promises
    /// a holding (`buy-and-hold`): its result is the holding's unless the overlays are asked
    /// for.
    pub overlays: bool,
    /// Whether it trades predictions (a model's forecasts, a predictions file): the `signal`
    /// strategy. A front end reads predictions only for such a strategy.
    pub needs_signals: bool,
    /// Whether its strengths are weights of equity it chose itself (`rank`): the configured
    /// sizer is skipped ([`crate::strategy::Strategy::sizes`]).
    pub sizes: bool,
}

const SMA_CROSS: &[Param] = &[Param::int("fast", 10), Param::int("slow", 20)];
const SIGNAL: &[Param] = &[
    Param::real("long_above", 0.0),
    Param::real("short_below", f64::NEG_INFINITY),
];
const RANK: &[Param] = &[
    Param::int("top", 5),
    Param::int("bottom", 0),
    Param::word("weighting", super::rank::WEIGHTINGS),
    Param::real("drop", f64::INFINITY),
    Param::real("min_forecast", f64::NEG_INFINITY),
    Param::word("interval", super::rank::INTERVAL_RULES),
    Param::int("lookback", 20),
];

/// Strategies by name.
#[derive(Debug, Clone)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    /// The strategies qts ships.
    pub fn builtin() -> Registry {
        Registry {
            entries: vec![
                Entry {
                    name: "buy-and-hold",
                    params: &[],
                    build: |_, _| Ok(Box::new(BuyAndHold::default())),
                    overlays: false,
                    needs_signals: false,
                    sizes: false,
                },
                Entry {
                    name: "sma-cross",
                    params: SMA_CROSS,
                    build: |p, _| Ok(Box::new(SmaCross::new(p.int("fast")?, p.int("slow")?)?)),
                    overlays: true,
                    needs_signals: false,
                    sizes: false,
                },
                Entry {
                    name: "signal",
                    params: SIGNAL,
                    build: build_signal,
                    overlays: true,
                    needs_signals: true,
                    sizes: false,
                },
                Entry {
                    name: "equal-weight",
                    params: &[],
                    build: |_, _| Ok(Box::new(super::EqualWeight)),
                    overlays: true,
                    needs_signals: false,
                    sizes: true,
                },
                Entry {
                    name: "rank",
                    params: RANK,
                    build: build_rank,
                    overlays: true,
                    needs_signals: true,
                    sizes: true,
                },
            ],
        }
    }

    /// This registry and one more strategy (a name already registered is replaced).
    pub fn with(mut self, entry: Entry) -> Registry {
        self.entries.retain(|e| e.name != entry.name);
        self.entries.push(entry);
        self
    }

    /// Whether the strategy `name` trades predictions ([`Entry::needs_signals`]); false for a
    /// name the registry does not hold.
    pub fn needs_signals(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.name == name && e.needs_signals)
    }

    /// Registered names, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.name).collect()
    }

    /// The entry of `name`.
    ///
    /// # Errors
    /// [`BacktestError::UnknownStrategy`] listing the known names.
    pub fn entry(&self, name: &str) -> Result<&Entry, BacktestError> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| BacktestError::UnknownStrategy {
                name: name.into(),
                known: self.names().join(", "),
            })
    }

    /// Parses `params` (`(name, text)` pairs; a later value of a name wins) against the
    /// strategy's declared parameters.
    ///
    /// # Errors
    /// [`BacktestError::UnknownStrategy`], or [`BacktestError::Parameter`] for an undeclared
    /// name or a value of the wrong kind.
    pub fn params(&self, name: &str, params: &[(String, String)]) -> Result<Params, BacktestError> {
        let entry = self.entry(name)?;
        let bad = |param: &str, reason: String| BacktestError::Parameter {
            strategy: entry.name.into(),
            param: param.into(),
            reason,
        };
        for (k, _) in params {
            if !entry.params.iter().any(|p| p.name == k) {
                let known: Vec<&str> = entry.params.iter().map(|p| p.name).collect();
                let known = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                return Err(bad(k, format!("unknown parameter (known: {known})")));
            }
        }
        let mut values = Vec::with_capacity(entry.params.len());
        for p in entry.params {
            let given = params.iter().rev().find(|(n, _)| n == p.name);
            let value = match (given, &p.default) {
                (None, d) => d.clone(),
                (Some((_, v)), ParamValue::Word(_)) => {
                    let Some(w) = p.choices.iter().find(|c| **c == v.as_str()) else {
                        return Err(bad(
                            p.name,
                            format!("`{v}` is not one of {}", p.choices.join(", ")),
                        ));
                    };
                    ParamValue::Word(std::borrow::Cow::Borrowed(w))
                }
                (Some((_, v)), ParamValue::Int(_)) => ParamValue::Int(
                    v.parse()
                        .map_err(|_| bad(p.name, format!("`{v}` is not a whole number")))?,
                ),
                (Some((_, v)), ParamValue::Real(_)) => ParamValue::Real(
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| !x.is_nan())
                        .ok_or_else(|| bad(p.name, format!("`{v}` is not a number")))?,
                ),
            };
            values.push((p.name, value));
        }
        Ok(Params {
            strategy: entry.name,
            values,
        })
    }

    /// Builds a strategy from parameters already parsed by [`Registry::params`].
    ///
    /// # Errors
    /// Whatever the strategy's own checks refuse.
    pub fn build_parsed(
        &self,
        params: &Params,
        inputs: &mut Inputs,
        regime: &RegimeFilterConfig,
    ) -> Result<Box<dyn Strategy>, BacktestError> {
        let inner = (self.entry(params.strategy)?.build)(params, inputs)?;
        Ok(if regime.enabled {
            Box::new(RegimeFilter::new(inner, regime.ma, regime.period))
        } else {
            inner
        })
    }

    /// Builds strategy `name` with `params`, wrapped in the regime filter when it is enabled.
    ///
    /// # Errors
    /// As [`Registry::params`], and whatever the strategy's own checks refuse.
    pub fn build(
        &self,
        name: &str,
        params: &[(String, String)],
        inputs: &mut Inputs,
        regime: &RegimeFilterConfig,
    ) -> Result<Box<dyn Strategy>, BacktestError> {
        let parsed = self.params(name, params)?;
        self.build_parsed(&parsed, inputs, regime)
    }
}

fn build_signal(p: &Params, inputs: &mut Inputs) -> Result<Box<dyn Strategy>, BacktestError> {
    let Some(series) = inputs.signals.take() else {
        return Err(BacktestError::MissingSignals {
            strategy: "signal".into(),
        });
    };
    if inputs.symbols != series.width() {
        return Err(BacktestError::SignalSymbols {
            symbols: inputs.symbols,
        });
    }
    Ok(Box::new(SignalStrategy::new(
        series,
        p.real("long_above")?,
        p.real("short_below")?,
    )?))
}

fn build_rank(p: &Params, inputs: &mut Inputs) -> Result<Box<dyn Strategy>, BacktestError> {
    let Some(series) = inputs.signals.take() else {
        return Err(BacktestError::MissingSignals {
            strategy: "rank".into(),
        });
    };
    if inputs.symbols != series.width() {
        return Err(BacktestError::SignalSymbols {
            symbols: inputs.symbols,
        });
    }
    Ok(Box::new(super::rank::Rank::new(
        series,
        super::rank::RankRules {
            top: p.int("top")?,
            bottom: p.int("bottom")?,
            weighting: p
                .word("weighting")?
                .parse()
                .map_err(|_| BacktestError::Parameter {
                    strategy: "rank".into(),
                    param: "weighting".into(),
                    reason: "unknown".into(),
                })?,
            drop: p.real("drop")?,
            min_forecast: p.real("min_forecast")?,
            interval: p
                .word("interval")?
                .parse()
                .map_err(|_| BacktestError::Parameter {
                    strategy: "rank".into(),
                    param: "interval".into(),
                    reason: "unknown".into(),
                })?,
            lookback: p.int("lookback")?,
        },
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_typed_values_with_defaults_and_last_wins() {
        let r = Registry::builtin();
        let p = r
            .params("sma-cross", &pairs(&[("fast", "5"), ("fast", "7")]))
            .unwrap();
        assert_eq!(p.int("fast").unwrap(), 7);
        assert_eq!(p.int("slow").unwrap(), 20);
        let p = r
            .params("signal", &pairs(&[("short_below", "-inf")]))
            .unwrap();
        assert_eq!(p.real("short_below").unwrap(), f64::NEG_INFINITY);
        assert_eq!(p.real("long_above").unwrap(), 0.0);
    }

    #[test]
    fn refuses_unknown_names_and_bad_values_naming_them() {
        let r = Registry::builtin();
        let e = r.params("sma", &[]).unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown strategy `sma`; known: buy-and-hold, sma-cross, signal, equal-weight, rank"
        );
        let e = r
            .params("buy-and-hold", &pairs(&[("x", "1")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "strategy `buy-and-hold`: parameter `x`: unknown parameter (known: none)"
        );
        let e = r
            .params("sma-cross", &pairs(&[("fast", "2.5")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "strategy `sma-cross`: parameter `fast`: `2.5` is not a whole number"
        );
        let e = r
            .params("signal", &pairs(&[("long_above", "nan")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "strategy `signal`: parameter `long_above`: `nan` is not a number"
        );
    }
}

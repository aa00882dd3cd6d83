//! Leak-free datasets for learning: chronological splits with purge gaps, normalisation fitted
//! on the training split only, sequence windows served as views into one buffer, targets, and
//! seeded shuffling.
//!
//! A sample is named by the row `t` its window ends on: inputs are rows
//! `t + 1 - lookback ..= t`, the target looks `horizon` rows ahead. Every window and its
//! target lie inside one split, and `purge_gap` rows separate the splits, so no training
//! target is ever an input of a validation or test window.

use qts_core::stats;
use std::ops::Range;

use crate::settings::{ModelDataConfig, Normalization, Target};
use chrono::NaiveDateTime;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::DataError;
use crate::io::Table;

/// Which split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The oldest rows: fitting.
    Train,
    /// Early stopping and model selection.
    Validation,
    /// Untouched until the end.
    Test,
}

/// Row ranges of the three splits (gaps between them are the purged rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splits {
    /// Training rows.
    pub train: Range<usize>,
    /// Validation rows.
    pub validation: Range<usize>,
    /// Test rows.
    pub test: Range<usize>,
}

/// Splits `n` rows by fractions of the rows left after the two purge gaps.
///
/// # Errors
/// [`DataError::Parameter`] when a split would be empty.
pub fn split_by_fraction(
    n: usize,
    train: f64,
    validation: f64,
    gap: usize,
) -> Result<Splits, DataError> {
    let usable = n.checked_sub(2 * gap).ok_or_else(|| {
        DataError::Parameter(format!("{n} rows cannot hold two purge gaps of {gap}"))
    })?;
    let a = (usable as f64 * train).floor() as usize;
    let b = (usable as f64 * validation).floor() as usize;
    let splits = Splits {
        train: 0..a,
        validation: a + gap..a + gap + b,
        test: a + 2 * gap + b..n,
    };
    check_nonempty(&splits)?;
    Ok(splits)
}

/// Splits rows by date: training up to and including `train_end`, validation up to
/// `validation_end`, test after; the first `gap` rows of validation and test are purged.
///
/// # Errors
/// [`DataError::Parameter`] when a split would be empty or the dates are out of order.
pub fn split_by_date(
    times: &[NaiveDateTime],
    train_end: NaiveDateTime,
    validation_end: NaiveDateTime,
    gap: usize,
) -> Result<Splits, DataError> {
    if validation_end <= train_end {
        return Err(DataError::Parameter(
            "the validation end must be after the training end".into(),
        ));
    }
    let a = times.partition_point(|t| *t <= train_end);
    let b = times.partition_point(|t| *t <= validation_end);
    let splits = Splits {
        train: 0..a,
        validation: (a + gap).min(b)..b,
        test: (b + gap).min(times.len())..times.len(),
    };
    check_nonempty(&splits)?;
    Ok(splits)
}

fn check_nonempty(s: &Splits) -> Result<(), DataError> {
    for (name, r) in [
        ("train", &s.train),
        ("validation", &s.validation),
        ("test", &s.test),
    ] {
        if r.is_empty() {
            return Err(DataError::Parameter(format!(
                "the {name} split is empty: use more data or a smaller purge gap"
            )));
        }
    }
    Ok(())
}

/// Per-column affine normalisation `(x - shift) / scale`, fitted on training rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalizer {
    /// Subtracted from each column.
    pub shift: Vec<f64>,
    /// Each column is divided by this (1 where the training column is constant).
    pub scale: Vec<f64>,
}

impl Normalizer {
    /// Fits on `rows` of a row-major matrix with `width` columns.
    pub fn fit(kind: Normalization, data: &[f64], width: usize, rows: Range<usize>) -> Normalizer {
        let column = |j: usize| -> Vec<f64> { rows.clone().map(|r| data[r * width + j]).collect() };
        let (mut shift, mut scale) = (vec![0.0; width], vec![1.0; width]);
        for j in 0..width {
            let mut x = column(j);
            let (s, k) = match kind {
                Normalization::None => (0.0, 1.0),
                // Population standard deviation, as scikit-learn's StandardScaler.
                Normalization::Zscore => (stats::mean(&x), stats::std(&x, 0)),
                Normalization::MinMax => {
                    let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    (lo, hi - lo)
                }
                Normalization::Robust => {
                    x.sort_by(f64::total_cmp);
                    let q = |p: f64| stats::quantile_sorted(&x, p);
                    (q(0.5), q(0.75) - q(0.25))
                }
            };
            shift[j] = s;
            scale[j] = if k > 0.0 && k.is_finite() { k } else { 1.0 };
        }
        Normalizer { shift, scale }
    }

    /// Applies the normalisation to one row.
    pub fn apply(&self, row: &[f64], out: &mut [f32]) {
        for (j, (x, o)) in row.iter().zip(out.iter_mut()).enumerate() {
            *o = ((x - self.shift[j]) / self.scale[j]) as f32;
        }
    }
}

/// Chooses the splits of the rows kept, given their timestamps and count.
type Splitter<'a> = dyn Fn(&[NaiveDateTime], usize) -> Result<Splits, DataError> + 'a;

/// One symbol's features and closes, for [`Dataset::pooled`].
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// Its name, for messages.
    pub symbol: &'a str,
    /// Its features.
    pub table: &'a Table,
    /// Its closes, row for row.
    pub close: &'a [f64],
}

/// Windows, targets and splits over a feature table.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Feature names, in column order.
    pub names: Vec<String>,
    /// Timestamps of the rows kept (warm-up rows dropped).
    pub time: Vec<NaiveDateTime>,
    /// Row-major normalised features, `time.len() × names.len()`.
    values: Vec<f32>,
    /// Target of each row (NaN where it would look past the data).
    targets: Vec<f32>,
    /// Window length.
    pub lookback: usize,
    /// Split row ranges.
    pub splits: Splits,
    /// The fitted normalisation.
    pub normalizer: Normalizer,
    samples: [Vec<usize>; 3],
}

impl Dataset {
    /// Builds a dataset from features and the close prices of the same rows.
    ///
    /// Leading rows where any feature is NaN (indicator warm-up) are dropped; a NaN after that
    /// is an error naming its row and column, since a model cannot learn from it.
    ///
    /// # Errors
    /// [`DataError::Parameter`] for NaN features, too little data or empty splits.
    pub fn build(
        table: &Table,
        close: &[f64],
        cfg: &ModelDataConfig,
    ) -> Result<Dataset, DataError> {
        Self::assemble(table, close, cfg, &|_, n| {
            split_by_fraction(
                n,
                cfg.train_fraction,
                cfg.validation_fraction,
                cfg.purge_gap,
            )
        })
    }

    /// [`Dataset::build`] with the splits chosen by `split(times, rows)` over the rows kept.
    fn assemble(
        table: &Table,
        close: &[f64],
        cfg: &ModelDataConfig,
        split: &Splitter<'_>,
    ) -> Result<Dataset, DataError> {
        let width = table.columns.len();
        let n_all = table.time.len();
        if close.len() != n_all {
            return Err(DataError::Length {
                column: "close".into(),
                got: close.len(),
                expected: n_all,
            });
        }
        if width == 0 {
            return Err(DataError::Parameter("no feature columns".into()));
        }
        let first = first_complete_row(table)?;
        let n = n_all - first;
        let mut raw = vec![0.0; n * width];
        for (j, (_, col)) in table.columns.iter().enumerate() {
            for r in 0..n {
                raw[r * width + j] = col[first + r];
            }
        }
        let splits = split(&table.time[first..], n).map_err(|e| {
            if first == 0 {
                return e;
            }
            // Say where the missing rows went: the warm-up of the slowest feature.
            let slowest = table
                .columns
                .iter()
                .max_by_key(|(_, c)| c.iter().position(|v| v.is_finite()).unwrap_or(0))
                .map_or("", |(name, _)| name.as_str());
            DataError::Parameter(format!(
                "{e} ({first} of the {n_all} rows went to the features' warm-up, `{slowest}` the \
                 longest: use more data or drop the longest features from data.features)"
            ))
        })?;
        let normalizer = Normalizer::fit(cfg.normalization, &raw, width, splits.train.clone());
        let mut values = vec![0.0f32; n * width];
        for r in 0..n {
            normalizer.apply(
                &raw[r * width..(r + 1) * width],
                &mut values[r * width..(r + 1) * width],
            );
        }
        let horizon = match cfg.target {
            Target::NextReturn | Target::Direction => 1,
            Target::HorizonReturn => cfg.horizon,
        };
        let close = &close[first..];
        let targets = (0..n)
            .map(|t| match close.get(t + horizon) {
                None => f32::NAN,
                Some(future) => {
                    let r = future / close[t] - 1.0;
                    match cfg.target {
                        Target::Direction => f32::from(u8::from(r > 0.0)),
                        _ => r as f32,
                    }
                }
            })
            .collect();
        let lookback = cfg.lookback;
        let ends = |r: &Range<usize>| -> Vec<usize> {
            let start = r.start + lookback - 1;
            (start..r.end.saturating_sub(horizon)).collect()
        };
        let samples = [
            ends(&splits.train),
            ends(&splits.validation),
            ends(&splits.test),
        ];
        for (name, s) in ["train", "validation", "test"].iter().zip(&samples) {
            if s.is_empty() {
                return Err(DataError::Parameter(format!(
                    "the {name} split is shorter than lookback + horizon ({} rows): use more data",
                    lookback + horizon
                )));
            }
        }
        Ok(Dataset {
            names: table.columns.iter().map(|(n, _)| n.clone()).collect(),
            time: table.time[first..].to_vec(),
            values,
            targets,
            lookback,
            splits,
            normalizer,
            samples,
        })
    }

    /// Every row's normalised features, row-major (`time.len() × width`).
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Every row's target (NaN where it would look past the data).
    pub fn targets(&self) -> &[f32] {
        &self.targets
    }

    /// Several symbols in one dataset. The split dates are where the union of all symbols'
    /// dates (of the rows each keeps, after its features' warm-up) reaches the configured
    /// fractions of the dates left after two purge gaps (as [`split_by_fraction`] cuts one
    /// symbol's rows: a symbol with every date is split exactly as alone), so no symbol's validation or test period
    /// precedes another's training data; each symbol is purged and windowed on its own (no
    /// window spans two symbols); the normalisation is fitted on every symbol's training rows.
    /// `time`, the values and the targets are the symbols' rows one after another; `splits`
    /// holds the first symbol's ranges (use [`Dataset::samples`]).
    ///
    /// # Errors
    /// As [`Dataset::build`], naming the symbol; different feature columns across symbols.
    pub fn pooled(parts: &[Part<'_>], cfg: &ModelDataConfig) -> Result<Dataset, DataError> {
        let [first, rest @ ..] = parts else {
            return Err(DataError::Parameter("no data to pool".into()));
        };
        if rest.is_empty() {
            return Self::build(first.table, first.close, cfg);
        }
        // The dates of the rows each symbol keeps (after its features' warm-up), as one
        // symbol's fractions are of the rows it keeps.
        let mut dates: Vec<NaiveDateTime> = Vec::new();
        for p in parts {
            let first = first_complete_row(p.table).map_err(|e| DataError::Symbol {
                symbol: p.symbol.to_string(),
                source: Box::new(e),
            })?;
            dates.extend_from_slice(&p.table.time[first..]);
        }
        dates.sort_unstable();
        dates.dedup();
        // Cut as one symbol's rows are (`split_by_fraction`): the fractions of the dates left
        // after two purge gaps, each gap after its split's end.
        let (n, gap) = (dates.len(), cfg.purge_gap);
        let usable = n.checked_sub(2 * gap).ok_or_else(|| {
            DataError::Parameter(format!(
                "{n} dates across the symbols cannot hold two purge gaps of {gap}"
            ))
        })?;
        let a = ((usable as f64 * cfg.train_fraction).floor() as usize).clamp(1, n);
        let b = (usable as f64 * cfg.validation_fraction).floor() as usize;
        let train_end = dates[a - 1];
        let validation_end = dates[(a + gap + b).clamp(1, n) - 1];
        let raw_cfg = ModelDataConfig {
            normalization: Normalization::None,
            ..cfg.clone()
        };
        let mut sets = Vec::new();
        for p in parts {
            let d = Self::assemble(p.table, p.close, &raw_cfg, &|times, _| {
                split_by_date(times, train_end, validation_end, cfg.purge_gap)
            })
            .map_err(|e| DataError::Symbol {
                symbol: p.symbol.to_string(),
                source: Box::new(e),
            })?;
            if d.names
                != sets
                    .first()
                    .map_or(&d.names, |f: &Dataset| &f.names)
                    .clone()
            {
                return Err(DataError::Parameter(format!(
                    "{}: its feature columns differ from {}'s",
                    p.symbol, first.symbol
                )));
            }
            sets.push(d);
        }
        let width = sets[0].width();
        let train_rows: Vec<f64> = sets
            .iter()
            .flat_map(|d| {
                d.values[d.splits.train.start * width..d.splits.train.end * width]
                    .iter()
                    .map(|&v| f64::from(v))
            })
            .collect();
        let n_train = train_rows.len() / width;
        let normalizer = Normalizer::fit(cfg.normalization, &train_rows, width, 0..n_train);
        let mut pooled = Dataset {
            names: sets[0].names.clone(),
            time: Vec::new(),
            values: Vec::new(),
            targets: Vec::new(),
            lookback: cfg.lookback,
            splits: sets[0].splits.clone(),
            normalizer,
            samples: [Vec::new(), Vec::new(), Vec::new()],
        };
        let mut row = vec![0.0; width];
        let mut out = vec![0.0f32; width];
        for d in sets {
            let offset = pooled.time.len();
            for r in d.values.chunks(width) {
                for (x, v) in row.iter_mut().zip(r) {
                    *x = f64::from(*v);
                }
                pooled.normalizer.apply(&row, &mut out);
                pooled.values.extend_from_slice(&out);
            }
            pooled.time.extend_from_slice(&d.time);
            pooled.targets.extend_from_slice(&d.targets);
            for (all, own) in pooled.samples.iter_mut().zip(&d.samples) {
                all.extend(own.iter().map(|&t| t + offset));
            }
        }
        Ok(pooled)
    }

    /// Number of features per row.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// The window ending at row `t`: `lookback × width` values, row-major, borrowed from the
    /// dataset's one buffer (no copy per window).
    pub fn window(&self, t: usize) -> &[f32] {
        let w = self.width();
        &self.values[(t + 1 - self.lookback) * w..(t + 1) * w]
    }

    /// The target of the window ending at row `t`.
    pub fn target(&self, t: usize) -> f32 {
        self.targets[t]
    }

    /// End rows of a split's windows, in time order.
    pub fn samples(&self, split: Split) -> &[usize] {
        &self.samples[split as usize]
    }

    /// A split's end rows in a seeded order: the same `(seed, epoch)` gives the same order.
    pub fn shuffled(&self, split: Split, seed: u64, epoch: u64) -> Vec<usize> {
        seeded_order(self.samples(split), seed, epoch)
    }
}

/// `rows` in a seeded order, the same for the same `(seed, epoch)` (ChaCha8, so the order is
/// the same on every platform): the trainer's epoch shuffle.
pub fn seeded_order(rows: &[usize], seed: u64, epoch: u64) -> Vec<usize> {
    let mut order = rows.to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    order.shuffle(&mut rng);
    order
}

/// The first row where every feature is known (indicator warm-up ends); a gap after it is an
/// error naming its row and column, since a model cannot learn from or predict with it.
fn first_complete_row(table: &Table) -> Result<usize, DataError> {
    let n_all = table.time.len();
    let complete = |r: usize| table.columns.iter().all(|(_, c)| c[r].is_finite());
    let first = (0..n_all).find(|&r| complete(r)).ok_or_else(|| {
        DataError::Parameter(
            "no row has every feature (is the series shorter than the warm-up?)".into(),
        )
    })?;
    if let Some(r) = (first..n_all).find(|&r| !complete(r)) {
        let (name, _) = table
            .columns
            .iter()
            .find(|(_, c)| !c[r].is_finite())
            .unwrap_or(&table.columns[0]);
        return Err(DataError::Parameter(format!(
            "feature `{name}` is missing or not finite at {} (row {}); fill or drop it first",
            table.time[r].date(),
            r + 1
        )));
    }
    Ok(first)
}

/// A model's inputs for new data: the rows after the warm-up, normalised with the
/// normaliser fitted when the model was trained. Returns their timestamps and the row-major
/// values.
///
/// # Errors
/// [`DataError::Parameter`] for a NaN after the warm-up or a normaliser of another width.
pub fn model_inputs(
    table: &Table,
    normalizer: &Normalizer,
) -> Result<(Vec<NaiveDateTime>, Vec<f32>), DataError> {
    let width = table.columns.len();
    if normalizer.shift.len() != width || normalizer.scale.len() != width {
        return Err(DataError::Parameter(format!(
            "the model was trained on {} features, the data has {width}",
            normalizer.shift.len()
        )));
    }
    let first = first_complete_row(table)?;
    let n = table.time.len() - first;
    let mut values = vec![0.0f32; n * width];
    let mut row = vec![0.0; width];
    for r in 0..n {
        for (j, (_, col)) in table.columns.iter().enumerate() {
            row[j] = col[first + r];
        }
        normalizer.apply(&row, &mut values[r * width..(r + 1) * width]);
    }
    Ok((table.time[first..].to_vec(), values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn table(n: usize) -> (Table, Vec<f64>) {
        let day0 = NaiveDate::from_ymd_opt(2020, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let time = (0..n)
            .map(|i| day0 + chrono::Duration::days(i as i64))
            .collect();
        let a: Vec<f64> = (0..n)
            .map(|i| if i < 3 { f64::NAN } else { i as f64 })
            .collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64).collect();
        let close = (0..n).map(|i| 100.0 + ((i * 13) % 7) as f64).collect();
        (
            Table {
                time,
                columns: vec![("a".into(), a), ("b".into(), b)],
                labels: Vec::new(),
            },
            close,
        )
    }

    fn cfg() -> ModelDataConfig {
        ModelDataConfig {
            lookback: 5,
            purge_gap: 5,
            ..ModelDataConfig::default()
        }
    }

    #[test]
    fn too_few_rows_names_the_warm_up_that_took_them() {
        let (mut t, close) = table(30);
        // `slow` starts at row 25, as an sma_200 would on a short history.
        let slow: Vec<f64> = (0..30)
            .map(|i| if i < 25 { f64::NAN } else { 1.0 })
            .collect();
        t.columns.push(("slow".into(), slow));
        let err = Dataset::build(&t, &close, &cfg()).unwrap_err().to_string();
        assert!(
            err.contains("5 rows cannot hold two purge gaps of 5 (25 of the 30 rows went to the features' warm-up, `slow` the longest"),
            "{err}"
        );
    }

    #[test]
    fn windows_and_targets_stay_inside_their_split() {
        let (t, close) = table(203);
        let d = Dataset::build(&t, &close, &cfg()).unwrap();
        assert_eq!(d.time.len(), 200, "3 warm-up rows dropped");
        for (split, range) in [
            (Split::Train, &d.splits.train),
            (Split::Validation, &d.splits.validation),
            (Split::Test, &d.splits.test),
        ] {
            for &end in d.samples(split) {
                assert!(
                    end + 1 - d.lookback >= range.start && end + 1 < range.end,
                    "{split:?} {end}"
                );
            }
        }
        assert_eq!(d.splits.validation.start - d.splits.train.end, 5);
        assert_eq!(d.splits.test.start - d.splits.validation.end, 5);
        let t0 = d.samples(Split::Train)[0];
        assert_eq!(
            d.target(t0),
            (close[3 + t0 + 1] / close[3 + t0] - 1.0) as f32
        );
    }

    #[test]
    fn windows_are_views_into_one_buffer() {
        let (t, close) = table(100);
        let d = Dataset::build(&t, &close, &cfg()).unwrap();
        let w1 = d.window(10);
        let w2 = d.window(11);
        assert_eq!(w1.len(), 5 * 2);
        assert_eq!(
            w2.as_ptr(),
            w1[2..].as_ptr(),
            "consecutive windows overlap in memory"
        );
    }

    #[test]
    fn normalisation_sees_only_the_training_rows() {
        let (t, close) = table(200);
        let d = Dataset::build(&t, &close, &cfg()).unwrap();
        let (mut t2, _) = table(200);
        for (_, col) in &mut t2.columns {
            for v in col.iter_mut().skip(150) {
                *v *= 1000.0;
            }
        }
        let d2 = Dataset::build(&t2, &close, &cfg()).unwrap();
        assert_eq!(d.normalizer, d2.normalizer);
        assert_eq!(d.window(100), d2.window(100));
    }

    /// Two symbols' parts of a pooled dataset, `A` and `B`.
    fn a_and_b<'a>(a: (&'a Table, &'a [f64]), b: (&'a Table, &'a [f64])) -> [Part<'a>; 2] {
        [
            Part {
                symbol: "A",
                table: a.0,
                close: a.1,
            },
            Part {
                symbol: "B",
                table: b.0,
                close: b.1,
            },
        ]
    }

    #[test]
    fn pooled_symbols_share_split_dates_and_windows_stay_within_a_symbol() {
        let (a, close_a) = table(200);
        let (mut b, close_b) = table(170);
        // b starts 30 days later and ends with a: the split dates come from both.
        for t in &mut b.time {
            *t += chrono::Duration::days(30);
        }
        let parts = a_and_b((&a, &close_a), (&b, &close_b));
        let d = Dataset::pooled(&parts, &cfg()).unwrap();
        assert_eq!(d.time.len(), 197 + 167);
        let train_end = d
            .samples(Split::Train)
            .iter()
            .map(|&t| d.time[t + 1])
            .max()
            .unwrap();
        let validation_start = d
            .samples(Split::Validation)
            .iter()
            .map(|&t| d.time[t + 1 - d.lookback])
            .min()
            .unwrap();
        assert!(
            train_end <= validation_start,
            "every target of training precedes validation"
        );
        for &t in d.samples(Split::Train).iter().chain(d.samples(Split::Test)) {
            let start = t + 1 - d.lookback;
            assert!(
                t < 197 || start >= 197,
                "window {start}..={t} spans both symbols"
            );
        }
        let e = Dataset::pooled(&[], &cfg()).unwrap_err().to_string();
        assert!(e.contains("no data"), "{e}");
    }

    #[test]
    fn symbols_with_the_same_dates_are_split_as_each_alone() {
        // The features' warm-up rows and the purge gaps count as they do for one symbol: a
        // short history that one symbol can be trained on can be pooled too.
        let (a, close_a) = table(200);
        let alone = Dataset::build(&a, &close_a, &cfg()).unwrap();
        let parts = a_and_b((&a, &close_a), (&a, &close_a));
        let pooled = Dataset::pooled(&parts, &cfg()).unwrap();
        assert_eq!(pooled.splits, alone.splits);
        let n = alone.time.len();
        for split in [Split::Train, Split::Validation, Split::Test] {
            let mut twice = alone.samples(split).to_vec();
            twice.extend(alone.samples(split).iter().map(|t| t + n));
            assert_eq!(pooled.samples(split), twice.as_slice(), "{split:?}");
        }
    }

    #[test]
    fn a_symbol_that_cannot_be_windowed_is_named_and_keeps_the_cause() {
        let (a, close_a) = table(200);
        let (b, close_b) = table(5);
        let parts = a_and_b((&a, &close_a), (&b, &close_b));
        let e = Dataset::pooled(&parts, &cfg()).unwrap_err();
        assert!(matches!(e, DataError::Symbol { .. }), "{e:?}");
        let cause = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(Some(e.to_string()), cause.map(|c| format!("B: {c}")));
    }

    #[test]
    fn new_data_is_normalised_as_the_training_data_was() {
        let (t, close) = table(200);
        let d = Dataset::build(&t, &close, &cfg()).unwrap();
        let (time, values) = model_inputs(&t, &d.normalizer).unwrap();
        assert_eq!(time, d.time);
        assert_eq!(values, d.values());
        let mut bad = d.normalizer.clone();
        bad.shift.pop();
        let e = model_inputs(&t, &bad).unwrap_err().to_string();

        assert!(
            e.contains("the model was trained on 1 features, the data has 2"),
            "{e}"
        );
    }

    #[test]
    fn shuffling_is_seeded() {
        let (t, close) = table(200);
        let d = Dataset::build(&t, &close, &cfg()).unwrap();
        assert_eq!(
            d.shuffled(Split::Train, 7, 0),
            d.shuffled(Split::Train, 7, 0)
        );
        assert_ne!(
            d.shuffled(Split::Train, 7, 0),
            d.shuffled(Split::Train, 7, 1)
        );
        let mut sorted = d.shuffled(Split::Train, 7, 0);
        sorted.sort_unstable();
        assert_eq!(sorted, d.samples(Split::Train));
    }

    #[test]
    fn nan_after_the_warm_up_and_short_data_are_errors() {
        let (mut t, close) = table(200);
        t.columns[1].1[120] = f64::NAN;
        let e = Dataset::build(&t, &close, &cfg()).unwrap_err().to_string();
        assert!(
            e.contains("feature `b` is missing or not finite at 2020-04-30 (row 121)"),
            "{e}"
        );
        let (t, close) = table(20);
        let e = Dataset::build(&t, &close, &cfg()).unwrap_err().to_string();

        assert!(
            e.contains(
                "the train split is shorter than lookback + horizon (6 rows): use more data"
            ),
            "{e}"
        );
    }

    #[test]
    fn date_splits_purge_after_each_boundary() {
        let (t, _) = table(100);
        let s = split_by_date(&t.time, t.time[59], t.time[79], 3).unwrap();
        assert_eq!(
            s,
            Splits {
                train: 0..60,
                validation: 63..80,
                test: 83..100
            }
        );
    }
}

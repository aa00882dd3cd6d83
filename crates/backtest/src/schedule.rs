//! The rebalancing schedule: which bars a rebalance may execute on.

use crate::settings::{Frequency, Weekday};
use chrono::{Datelike, NaiveDateTime};

use crate::engine::EngineConfig;

/// Which bars a rebalance may execute on: `time`, then the live session after it (`next`),
/// when there is one.
pub(crate) fn rebalance_flags(
    time: &[NaiveDateTime],
    next: Option<NaiveDateTime>,
    cfg: &EngineConfig,
) -> Vec<bool> {
    let target = match cfg.weekday {
        Weekday::Monday => 0,
        Weekday::Tuesday => 1,
        Weekday::Wednesday => 2,
        Weekday::Thursday => 3,
        Weekday::Friday => 4,
    };
    let mut flags = vec![false; time.len() + usize::from(next.is_some())];
    let mut last_key = None;
    for (i, t) in time.iter().chain(next.iter()).enumerate() {
        let d = t.date();
        flags[i] = match cfg.rebalance {
            // Every bar may act; the engine acts only on a changed target.
            Frequency::Daily | Frequency::Signal => true,
            // The first bar of the week on or after the chosen weekday.
            Frequency::Weekly => {
                let key = (d.iso_week().year(), d.iso_week().week());
                let ok = d.weekday().num_days_from_monday() >= target && last_key != Some(key);
                if ok {
                    last_key = Some(key);
                }
                ok
            }
            Frequency::Monthly => {
                let key = (d.year(), d.month());
                let ok = last_key != Some(key);
                if ok {
                    last_key = Some(key);
                }
                ok
            }
        };
    }
    flags
}

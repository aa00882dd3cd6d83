//! `qts features FILE --out FILE`.

use qts_core::logging::RunContext;
use qts_data::features::compute;
use qts_data::io::{read_bars_as, write_table};
use qts_data::validate::drop_duplicates;

use crate::cli::{FeaturesArgs, GlobalArgs, SectionFiles};
use crate::failure::Failure;
use crate::setup::{load_config, start_logging};

/// Computes the configured features of a bar file and writes them.
pub fn run(global: &GlobalArgs, args: &FeaturesArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let symbol = args
        .input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let span = RunContext::new("features").symbol(symbol).span();
    let _run = span.enter();
    if qts_core::fs::same_file(&args.input, &args.out) {
        return Err(Failure::Input(anyhow::anyhow!(
            "--out {} is the input file {}: write the features elsewhere",
            args.out.display(),
            args.input.display()
        )));
    }
    crate::output::reads(&args.input);
    crate::output::check_output(&args.out)?;
    let bars = read_bars_as(
        &args.input,
        &loaded.config.data.limits,
        &loaded.config.data.providers.local.layout(),
    )?;
    let (bars, removed) = drop_duplicates(&bars);
    if removed > 0 {
        tracing::warn!(
            removed,
            "dropped duplicate timestamps, keeping the last bar of each"
        );
    }
    let bars = if args.adjust {
        if bars.adj_close.is_none() {
            return Err(Failure::Input(anyhow::anyhow!(
                "{}: --adjust needs an adj_close column",
                args.input.display()
            )));
        }
        bars.adjusted()
    } else {
        // On the configured price basis, as a model trained on the file reads it.
        let events = qts_data::actions::configured_events(&loaded.config.data)?;
        qts_data::actions::prepare(
            bars,
            events.as_ref(),
            loaded.config.data.adjustment,
            &args.input.display().to_string(),
        )?
    };
    let started = std::time::Instant::now();
    let table = compute(&bars, &loaded.config.data.features)?;
    tracing::debug!(
        micros = started.elapsed().as_micros() as u64,
        "features computed"
    );
    write_table(&table, &args.out)?;
    crate::output::print(&format!(
        "wrote {} rows x {} feature columns to {}\n",
        table.time.len(),
        table.columns.len(),
        args.out.display()
    ))
}

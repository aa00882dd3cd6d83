//! `qts predict`: a registered model over a bar file (through the pipeline saved with it) or
//! over the network's raw inputs (`--inputs-as-is`).

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use chrono::NaiveDateTime;
use qts_core::config::{ConfigLoader, ModelConfig, Section};
use qts_core::logging::RunContext;
use qts_data::io::{Table, read_csv_table, write_table};
use qts_data::locate::load_for_model;
use qts_models::batches::Series;
use qts_models::infer::{PredictOptions, Predictor};
use qts_models::net::NetSpec;
use qts_models::pipeline::Pipeline;
use qts_models::{ModelRef, Registry};

use qts_cli::cli::{GlobalArgs, PredictArgs, SectionFiles};
use qts_cli::commands::setup::{environment, load_config, start_logging};
use qts_cli::failure::Failure;

fn input(e: impl std::fmt::Display) -> Failure {
    Failure::Input(anyhow!("{e}"))
}

/// The model configuration saved with a registered version.
fn saved_config(global: &GlobalArgs, dir: &Path) -> Result<ModelConfig, Failure> {
    let env = environment(global)?;
    let loaded = ConfigLoader::new()
        .file(Section::Model, dir.join("config.yaml"))
        .load(&env)?;
    Ok(loaded.config.model)
}

/// Rows of a CSV of `date` and input columns, as the network's raw inputs.
fn raw_inputs(path: &Path, width: usize) -> Result<(Vec<NaiveDateTime>, Vec<f32>), Failure> {
    let table = read_csv_table(path)?;
    if table.columns.len() != width {
        return Err(input(format!(
            "{}: the model takes {width} input columns, the file has {} after `date` ({})",
            path.display(),
            table.columns.len(),
            table.names().join(", ")
        )));
    }
    let mut values = Vec::with_capacity(table.time.len() * width);
    for r in 0..table.time.len() {
        for (name, col) in &table.columns {
            let v = col[r];
            if !v.is_finite() {
                return Err(input(format!(
                    "{}: row {} ({}) has no finite `{name}`",
                    path.display(),
                    r + 2,
                    table.time[r].date()
                )));
            }
            values.push(v as f32);
        }
    }
    Ok((table.time, values))
}

/// Runs `qts predict`.
pub fn run(global: &GlobalArgs, args: &PredictArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config;
    let registry = Registry::new(&cfg.registry.directory);
    let card = registry
        .card(&ModelRef::parse(&args.model).map_err(crate::failure)?)
        .map_err(crate::failure)?;
    let dir = registry.version_dir(&card.name, card.version);
    let span = RunContext::new("predict")
        .model_type(card.architecture.clone())
        .span();
    let _run = span.enter();
    let model = saved_config(global, &dir)?;
    let spec = NetSpec::new(&model, card.input_size).map_err(crate::failure)?;

    let (time, values) = if args.inputs_as_is {
        let path = Path::new(&args.data);
        if !path.is_file() {
            return Err(input(format!("{}: no such file", path.display())));
        }
        raw_inputs(path, card.input_size)?
    } else {
        let Some(p) = Pipeline::read(&dir).map_err(crate::failure)? else {
            return Err(input(format!(
                "{}@{} was imported without a feature pipeline: pass --inputs-as-is with a CSV of date and its {} input columns",
                card.name, card.version, card.input_size
            )));
        };
        let (bars, _) = load_for_model(
            &args.data,
            cfg,
            p.adjust || args.adjust,
            &mut sha2::Sha256::default(),
        )?;
        p.inputs(&bars).map_err(crate::failure)?
    };
    let lookback = spec.lookback;
    let in_range = |t: &NaiveDateTime| {
        args.from.is_none_or(|f| t.date() >= f) && args.to.is_none_or(|e| t.date() <= e)
    };
    let ends: Vec<usize> = (lookback.saturating_sub(1)..time.len())
        .filter(|&r| in_range(&time[r]))
        .collect();
    if ends.is_empty() {
        return Err(input(format!(
            "{}: {} usable rows, the model needs {lookback} for its first window{}",
            args.data,
            time.len(),
            if args.from.is_some() || args.to.is_some() {
                " (inside --from/--to)"
            } else {
                ""
            }
        )));
    }

    let mut member_files = vec!["weights.safetensors".to_string()];
    if args.ensemble {
        member_files = card
            .files
            .iter()
            .filter(|f| f.starts_with("member-"))
            .cloned()
            .collect();
        if member_files.is_empty() {
            return Err(input(format!(
                "{}@{} has no checkpoint ensemble (it was not trained by qts train)",
                card.name, card.version
            )));
        }
    }
    let mut members = Vec::new();
    for f in &member_files {
        let path = dir.join(f);
        let bytes = std::fs::read(&path)
            .map_err(|e| Failure::Runtime(anyhow!("{}: {e}", path.display())))?;
        members.push((path, bytes));
    }
    let refs: Vec<(&Path, &[u8])> = members
        .iter()
        .map(|(p, b)| (p.as_path(), b.as_slice()))
        .collect();
    let predictor = Predictor::new(spec, &refs, &cfg.compute).map_err(crate::failure)?;
    let series = Series {
        values: &values,
        width: card.input_size,
        lookback,
    };
    let opts = PredictOptions {
        mc_samples: args.mc_dropout,
        level: args.level,
        seed: cfg.reproducibility.seed,
        ..PredictOptions::default()
    };
    let p = predictor
        .predict(&series, &ends, &opts)
        .map_err(crate::failure)?;
    let mut out = Table {
        time: ends.iter().map(|&r| time[r]).collect(),
        columns: vec![("prediction".into(), p.mean)],
    };
    if let Some((lo, hi)) = p.interval {
        out.columns.push(("lower".into(), lo));
        out.columns.push(("upper".into(), hi));
    }
    tracing::info!(rows = out.time.len(), members = refs.len(), "predicted");
    match &args.out {
        Some(path) => {
            write_table(&out, path)?;
            eprintln!(
                "wrote {} predictions of {}@{} to {}",
                out.time.len(),
                card.name,
                card.version,
                path.display()
            );
            Ok(())
        }
        None => {
            let mut text = String::from("date");
            for (n, _) in &out.columns {
                text.push(',');
                text.push_str(n);
            }
            text.push('\n');
            for (i, t) in out.time.iter().enumerate() {
                text.push_str(&t.format("%Y-%m-%d").to_string());
                for (_, c) in &out.columns {
                    text.push_str(&format!(",{}", c[i]));
                }
                text.push('\n');
            }
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(|e| Failure::Runtime(e.into()))
        }
    }
}

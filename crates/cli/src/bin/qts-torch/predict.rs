//! `qts predict`: a registered model over a bar file (through the pipeline saved with it) or
//! over the network's raw inputs (`--inputs-as-is`).

use std::path::Path;

use anyhow::anyhow;
use qts_core::logging::RunContext;
use qts_data::io::{read_csv_table_with, write_table};
use qts_data::locate::load_all_for_model;
use qts_models::forecast::{ForecastRequest, Inputs, forecast, raw_inputs};
use qts_models::pipeline::Pipeline;

use qts_cli::cli::{GlobalArgs, PredictArgs, SectionFiles};
use qts_cli::failure::Failure;
use qts_cli::setup::{environment, load_config, start_logging};

fn input(e: impl std::fmt::Display) -> Failure {
    Failure::Input(anyhow!("{e}"))
}

/// Runs `qts predict`.
pub fn run(global: &GlobalArgs, args: &PredictArgs) -> Result<(), Failure> {
    let loaded = load_config(global, &SectionFiles::default())?;
    let _guard = start_logging(global, &loaded)?;
    let cfg = &loaded.config;
    let (registry, card) =
        qts_research_torch::registry::find(cfg, &args.model).map_err(crate::failure)?;
    let dir = registry.version_dir(&card.name, card.version);
    let span = RunContext::new("predict")
        .model_type(card.architecture.clone())
        .span();
    let _run = span.enter();
    let model = qts_research_torch::registry::saved_config(&environment(global)?, &dir)
        .map_err(crate::failure)?;
    // One input per symbol: a wide file of closes is predicted symbol by symbol, in the long
    // format (`symbol` column).
    let inputs: Vec<(String, Inputs)> = if args.inputs_as_is {
        let path = Path::new(&args.data);
        if !path.is_file() {
            return Err(input(format!("{}: no such file", path.display())));
        }
        if let Some(out) = &args.out
            && qts_core::fs::same_file(path, out)
        {
            return Err(input(format!(
                "--out {} is the input file {}: write the predictions elsewhere",
                out.display(),
                path.display()
            )));
        }
        qts_cli::output::reads(path);
        vec![(
            String::new(),
            raw_inputs(
                &read_csv_table_with(path, &cfg.data.limits)?,
                card.input_size,
                &path.display().to_string(),
            )
            .map_err(crate::failure)?,
        )]
    } else {
        let Some(p) = Pipeline::read(&dir).map_err(crate::failure)? else {
            return Err(input(format!(
                "{}@{} was imported without a feature pipeline: pass --inputs-as-is with a CSV of date and its {} input columns",
                card.name, card.version, card.input_size
            )));
        };
        if !args.adjust {
            p.check_basis(cfg.data.adjustment)
                .map_err(|m| input(format!("{}@{}: {m}", card.name, card.version)))?;
        }
        let (all, path) = load_all_for_model(
            &args.data,
            cfg,
            p.adjust || args.adjust,
            &mut sha2::Sha256::default(),
        )?;
        if let Some(out) = &args.out
            && qts_core::fs::same_file(&path, out)
        {
            return Err(input(format!(
                "--out {} is the input file {}: write the predictions elsewhere",
                out.display(),
                path.display()
            )));
        }
        qts_cli::output::reads(&path);
        let all = qts_research_torch::data::keep_symbols(all, &args.symbols, &path)
            .map_err(crate::failure)?;
        all.iter()
            .map(|bars| {
                let (time, values) = p.inputs(bars).map_err(crate::failure)?;
                Ok((bars.symbol.clone(), Inputs { time, values }))
            })
            .collect::<Result<Vec<_>, Failure>>()?
    };
    let request = ForecastRequest {
        registry: &registry,
        card: &card,
        model: &model,
        compute: &cfg.compute,
        from: args.from,
        to: args.to,
        ensemble: args.ensemble,
        mc_samples: args.mc_dropout,
        level: args.level,
        seed: cfg.reproducibility.seed,
        data_name: &args.data,
    };
    let out = if inputs.len() == 1 {
        forecast(&request, &inputs[0].1).map_err(crate::failure)?
    } else {
        let tables = inputs
            .iter()
            .map(|(symbol, i)| Ok((symbol.as_str(), forecast(&request, i)?)))
            .collect::<Result<Vec<_>, qts_models::ModelError>>()
            .map_err(crate::failure)?;
        long_format(tables)
    };
    match &args.out {
        Some(path) => {
            qts_cli::output::check_output(path)?;
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
            for n in out.names() {
                text.push(',');
                text.push_str(n);
            }
            text.push('\n');
            for (i, t) in out.time.iter().enumerate() {
                text.push_str(&t.format("%Y-%m-%d").to_string());
                for (_, c) in &out.columns {
                    text.push_str(&format!(",{}", c[i]));
                }
                for (_, c) in &out.labels {
                    text.push(',');
                    text.push_str(&c[i]);
                }
                text.push('\n');
            }
            qts_cli::output::print(&text)
        }
    }
}

/// Symbols' predictions as one table in the long format: rows by date, then symbol in the
/// universe's order, with a `symbol` column.
fn long_format(tables: Vec<(&str, qts_data::io::Table)>) -> qts_data::io::Table {
    let mut rows: Vec<(chrono::NaiveDateTime, usize, usize)> = tables
        .iter()
        .enumerate()
        .flat_map(|(s, (_, t))| {
            t.time
                .iter()
                .enumerate()
                .map(move |(i, time)| (*time, s, i))
        })
        .collect();
    rows.sort_unstable();
    let first = &tables[0].1;
    let columns = first
        .columns
        .iter()
        .enumerate()
        .map(|(c, (name, _))| {
            (
                name.clone(),
                rows.iter()
                    .map(|&(_, s, i)| tables[s].1.columns[c].1[i])
                    .collect(),
            )
        })
        .collect();
    let mut labels: Vec<(String, Vec<String>)> = first
        .labels
        .iter()
        .enumerate()
        .map(|(c, (name, _))| {
            (
                name.clone(),
                rows.iter()
                    .map(|&(_, s, i)| tables[s].1.labels[c].1[i].clone())
                    .collect(),
            )
        })
        .collect();
    labels.push((
        "symbol".into(),
        rows.iter()
            .map(|&(_, s, _)| tables[s].0.to_string())
            .collect(),
    ));
    qts_data::io::Table {
        time: rows.iter().map(|r| r.0).collect(),
        columns,
        labels,
    }
}

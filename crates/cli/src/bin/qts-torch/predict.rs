//! `qts predict`: a registered model over a bar file (through the pipeline saved with it) or
//! over the network's raw inputs (`--inputs-as-is`).

use std::path::Path;

use anyhow::anyhow;
use qts_core::logging::RunContext;
use qts_data::io::{read_csv_table_with, write_table};
use qts_data::locate::load_for_model;
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
    let inputs = if args.inputs_as_is {
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
        raw_inputs(
            &read_csv_table_with(path, &cfg.data.limits)?,
            card.input_size,
            &path.display().to_string(),
        )
        .map_err(crate::failure)?
    } else {
        let Some(p) = Pipeline::read(&dir).map_err(crate::failure)? else {
            return Err(input(format!(
                "{}@{} was imported without a feature pipeline: pass --inputs-as-is with a CSV of date and its {} input columns",
                card.name, card.version, card.input_size
            )));
        };
        let (bars, path) = load_for_model(
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
        let (time, values) = p.inputs(&bars).map_err(crate::failure)?;
        Inputs { time, values }
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
    let out = forecast(&request, &inputs).map_err(crate::failure)?;
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

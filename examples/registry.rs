//! A model registry on plain object storage, from the command line.
//!
//! ```text
//! registry --store file:///abs/dir register --name fraud --weights model.safetensors [--tag team=risk]…
//! registry --store s3://bucket/prefix alias   --name fraud --alias champion --version 3
//! registry --store URL resolve --name fraud --alias champion      # prints the version alone
//! registry --store URL history --name fraud --alias champion      # one JSON object per line
//! registry --store URL verify  --name fraud --version 3           # exit 0 when every digest checks
//! registry --store URL versions --name fraud                      # one JSON object per version
//! ```
//!
//! S3 reads its endpoint and credentials from the usual AWS environment
//! variables (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ALLOW_HTTP`). Errors go to stderr with a non-zero exit.

// A program whose output is the point: printing is its job.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use mlops_core::{ModelPackage, PackageBuilder, Registry, StoreRegistry, VersionSelector};

type BoxError = Box<dyn std::error::Error>;

/// A model registry on plain object storage. Flags may come before or after the command.
#[derive(Parser)]
#[command(name = "registry")]
struct Args {
    /// The registry's root: file:///abs/dir, s3://bucket/prefix (gs://, az:// with those features).
    #[arg(long, value_name = "URL")]
    store: String,
    /// What to do.
    command: Command,
    /// The model's name.
    #[arg(long)]
    name: Option<String>,
    /// An alias (`alias`, `resolve`, `history`).
    #[arg(long)]
    alias: Option<String>,
    /// A version number (`alias`, `resolve`, `verify`).
    #[arg(long)]
    version: Option<u64>,
    /// The safetensors weights to register.
    #[arg(long, value_name = "FILE")]
    weights: Option<String>,
    /// A tag set on the registered version (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    tags: Vec<(String, String)>,
    /// Who the change is attributed to (default: $USER).
    #[arg(long)]
    actor: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Command {
    /// Register the weights as the next version; prints the version.
    Register,
    /// Point an alias at a version.
    Alias,
    /// Print the version an alias (or --version, or the latest) names.
    Resolve,
    /// Print an alias's moves, one JSON object per line.
    History,
    /// Load a version and check every digest.
    Verify,
    /// Print every version, one JSON object per line.
    Versions,
}

fn parse_tag(kv: &str) -> Result<(String, String), String> {
    let (k, v) = kv.split_once('=').ok_or("a tag is key=value")?;
    Ok((k.to_owned(), v.to_owned()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn need<'a>(v: &'a Option<String>, flag: &str) -> Result<&'a str, BoxError> {
    v.as_deref().ok_or_else(|| format!("this command needs {flag}").into())
}

async fn run(a: Args) -> Result<ExitCode, BoxError> {
    let mut registry = StoreRegistry::from_url(&a.store)?;
    if let Some(actor) = &a.actor {
        registry = registry.with_actor(actor);
    }
    let name = need(&a.name, "--name")?;
    match a.command {
        Command::Register => {
            let weights = std::fs::read(need(&a.weights, "--weights")?)?;
            let package = PackageBuilder::new(name).weights(weights).build()?;
            let version = registry.register(&package).await?;
            for (k, v) in &a.tags {
                registry.set_tag(name, Some(version), k, Some(v)).await?;
            }
            println!("{version}");
        }
        Command::Alias => {
            let alias = need(&a.alias, "--alias")?;
            let version = a.version.ok_or("alias needs --version")?;
            registry.set_alias(name, alias, version).await?;
            println!("{version}");
        }
        Command::Resolve => {
            let selector = match (&a.alias, a.version) {
                (Some(alias), _) => VersionSelector::Alias(alias.clone()),
                (None, Some(v)) => VersionSelector::Version(v),
                (None, None) => VersionSelector::Latest,
            };
            println!("{}", registry.resolve(name, &selector).await?);
        }
        Command::History => {
            for e in registry.alias_history(name, need(&a.alias, "--alias")?).await? {
                let line = serde_json::json!({
                    "version": e.version,
                    "at": mlops_core::time::format_rfc3339(e.at_ms),
                    "actor": e.actor,
                    "seq": e.seq,
                });
                println!("{line}");
            }
        }
        Command::Verify => {
            let version = a.version.ok_or("verify needs --version")?;
            let package = registry.load(name, version).await?;
            let files: BTreeMap<_, _> = package
                .manifest()
                .files
                .iter()
                .map(|(n, e)| (n.clone(), e.sha256.to_string()))
                .collect();
            eprintln!(
                "verified {name} version {version}: {} files, package {}",
                files.len(),
                package.digest()
            );
        }
        Command::Versions => {
            for v in registry.list_versions(name).await? {
                println!("{}", serde_json::to_string(&v)?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

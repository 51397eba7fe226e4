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

use mlops_core::{ModelPackage, PackageBuilder, Registry, StoreRegistry, VersionSelector};

type BoxError = Box<dyn std::error::Error>;

fn usage() -> ExitCode {
    eprintln!(
        "usage: registry --store URL <register|alias|resolve|history|verify|versions> [--name N] [--alias A] \
         [--version V] [--weights FILE] [--tag k=v]... [--actor WHO]"
    );
    ExitCode::from(2)
}

#[derive(Default)]
struct Args {
    store: Option<String>,
    command: Option<String>,
    name: Option<String>,
    alias: Option<String>,
    version: Option<u64>,
    weights: Option<String>,
    tags: Vec<(String, String)>,
    actor: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "--store" => a.store = Some(value("--store")?),
            "--name" => a.name = Some(value("--name")?),
            "--alias" => a.alias = Some(value("--alias")?),
            "--version" => {
                a.version = Some(
                    value("--version")?
                        .parse()
                        .map_err(|_| "--version needs a number".to_owned())?,
                )
            }
            "--weights" => a.weights = Some(value("--weights")?),
            "--actor" => a.actor = Some(value("--actor")?),
            "--tag" => {
                let kv = value("--tag")?;
                let (k, v) = kv.split_once('=').ok_or("--tag needs key=value")?;
                a.tags.push((k.to_owned(), v.to_owned()));
            }
            _ if !arg.starts_with("--") && a.command.is_none() => a.command = Some(arg),
            _ => return Err(format!("unexpected argument `{arg}`")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) if a.store.is_some() && a.command.is_some() => a,
        Ok(_) => return usage(),
        Err(e) => {
            eprintln!("error: {e}");
            return usage();
        }
    };
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
    let mut registry = StoreRegistry::from_url(need(&a.store, "--store")?)?;
    if let Some(actor) = &a.actor {
        registry = registry.with_actor(actor);
    }
    let name = need(&a.name, "--name")?;
    match a.command.as_deref().unwrap_or_default() {
        "register" => {
            let weights = std::fs::read(need(&a.weights, "--weights")?)?;
            let package = PackageBuilder::new(name).weights(weights).build()?;
            let version = registry.register(&package).await?;
            for (k, v) in &a.tags {
                registry.set_tag(name, Some(version), k, Some(v)).await?;
            }
            println!("{version}");
        }
        "alias" => {
            let alias = need(&a.alias, "--alias")?;
            let version = a.version.ok_or("alias needs --version")?;
            registry.set_alias(name, alias, version).await?;
            println!("{version}");
        }
        "resolve" => {
            let selector = match (&a.alias, a.version) {
                (Some(alias), _) => VersionSelector::Alias(alias.clone()),
                (None, Some(v)) => VersionSelector::Version(v),
                (None, None) => VersionSelector::Latest,
            };
            println!("{}", registry.resolve(name, &selector).await?);
        }
        "history" => {
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
        "verify" => {
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
        "versions" => {
            for v in registry.list_versions(name).await? {
                println!("{}", serde_json::to_string(&v)?);
            }
        }
        _ => return Ok(usage()),
    }
    Ok(ExitCode::SUCCESS)
}

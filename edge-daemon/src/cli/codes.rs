//! `baytrace-edge codes …`: product code templates, generation and export, disabling, lookup.
//! Argument parsing and output only; the work is in `crate::codes`.

use super::progress;
use crate::codes::{self, CodeDirectory, CodeRejection};
use crate::config::EdgeConfig;
use crate::keys::DeviceKeys;
use crate::ledger::{Ledger, LedgerOptions};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trace_core::event::CodeRange;
use trace_core::product_code::{CodeVars, Day, Template};

#[derive(Debug, Subcommand)]
pub enum CodesCommand {
    /// Code templates (追溯码模板): add, list, preview.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Allocate N fresh codes of a template for a batch and write them to a file.
    #[command(after_help = "Examples:
  baytrace-edge codes generate --config edge.toml --template milk-250ml-unit \\
      --batch B20261122 --production-date 2026-11-22 --count 100000 --out batch.zip
  baytrace-edge codes generate --config edge.toml --template sauce-case --batch L0703 \\
      --expiry-date 2027-01-31 --count 500 --out cases.csv

The serials are recorded as allocated in the ledger before the file is written, so they are
never issued again, even if the export is interrupted. .csv = serial,code; .txt = one code
per line; .zip = the CSV, compressed. Never overwrites a file.")]
    Generate {
        #[command(flatten)]
        target: BoxArgs,
        #[arg(long)]
        template: String,
        #[command(flatten)]
        vars: VarsArgs,
        #[arg(long)]
        count: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Disable (停用) codes: one scanned code, or a serial range of a template.
    #[command(after_help = "Examples:
  baytrace-edge codes disable --config edge.toml --code https://id.example.com/01/…/21/GZ0A01… --reason 标签破损
  baytrace-edge codes disable --config edge.toml --template milk-250ml-unit --from 1000 --to 1999")]
    Disable {
        #[command(flatten)]
        sel: Selection,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Enable (启用) codes that were disabled.
    Enable {
        #[command(flatten)]
        sel: Selection,
        #[arg(long)]
        reason: Option<String>,
    },
    /// What is this code? Template, level, batch, serial, disabled or not.
    #[command(after_help = "Example:
  baytrace-edge codes lookup --config edge.toml 'https://t.example.com/c/GZ0A07…' --json

Exit status 1 with the reason when the code is malformed, foreign, unknown or disabled.")]
    Lookup {
        #[command(flatten)]
        target: BoxArgs,
        code: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Validate and save a template from a TOML file.
    #[command(after_help = "Example:
  baytrace-edge codes template add --config edge.toml --file milk-unit.toml

milk-unit.toml:
  id = \"milk-250ml-unit\"
  issuer = \"GZ0A\"            # your enterprise's 4-symbol prefix (0-9, A-Z without I L O U)
  number = 1                 # 0..1023, unique per issuer
  level = \"unit\"             # unit | case | pallet | batch
  gtin = \"6901234567892\"     # or: product_code = \"MILK-250\"
  serial_capacity = 1000000000
  code_length = 20           # symbols in the code; a refusal says the minimum
  cipher = \"aes\"             # or \"sm4\"
  output = { form = \"digital_link\", host = \"id.example.com\" }   # or { form = \"url\", base = \"https://t.example.com\" }
  fields = [
    { field = \"batch\", max_len = 10 },
    { field = \"production_date\", encrypted = true },
  ]

Nothing is saved when the template is refused.")]
    Add {
        #[command(flatten)]
        target: BoxArgs,
        #[arg(long)]
        file: PathBuf,
    },
    /// List the box's templates with how many serials each has handed out.
    List {
        #[command(flatten)]
        target: BoxArgs,
        #[arg(long)]
        json: bool,
    },
    /// Show a template's layout and its first codes for a batch (nothing is allocated).
    Preview {
        #[command(flatten)]
        target: BoxArgs,
        #[arg(long)]
        template: String,
        #[command(flatten)]
        vars: VarsArgs,
        #[arg(long, default_value_t = 3)]
        count: u64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct BoxArgs {
    /// The box's edge.toml (ledger and ticket key are read from it).
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct VarsArgs {
    #[arg(long)]
    pub batch: Option<String>,
    /// YYYY-MM-DD
    #[arg(long)]
    pub production_date: Option<String>,
    /// YYYY-MM-DD
    #[arg(long)]
    pub expiry_date: Option<String>,
}

#[derive(Debug, Args)]
pub struct Selection {
    #[command(flatten)]
    target: BoxArgs,
    /// One code as scanned (URL, Digital Link or token).
    #[arg(long, conflicts_with_all = ["template", "from", "to"])]
    code: Option<String>,
    #[arg(long, requires_all = ["from", "to"])]
    template: Option<String>,
    #[arg(long)]
    from: Option<u64>,
    #[arg(long)]
    to: Option<u64>,
}

impl VarsArgs {
    fn parse(&self) -> anyhow::Result<CodeVars> {
        let day = |s: &Option<String>, what: &str| -> anyhow::Result<Option<Day>> {
            s.as_deref()
                .map(|d| Day::parse(d).with_context(|| format!("--{what}")))
                .transpose()
        };
        Ok(CodeVars {
            batch: self.batch.clone(),
            production_date: day(&self.production_date, "production-date")?,
            expiry_date: day(&self.expiry_date, "expiry-date")?,
        })
    }
}

struct BoxCtx {
    ledger: Ledger,
    secret: [u8; 32],
}

fn open(target: &BoxArgs) -> anyhow::Result<BoxCtx> {
    let c = EdgeConfig::load(&target.config)?;
    let keys = DeviceKeys::read(&c.signing_key_path(), &c.ticket_key_path())?;
    let ledger = Ledger::open(&c.ledger_path(), &LedgerOptions::default())?;
    Ok(BoxCtx {
        ledger,
        secret: keys.ticket_key,
    })
}

pub(super) fn dispatch(cmd: CodesCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CodesCommand::Template(TemplateCommand::Add { target, file }) => add(&target, &file),
        CodesCommand::Template(TemplateCommand::List { target, json }) => list(&target, json),
        CodesCommand::Template(TemplateCommand::Preview {
            target,
            template,
            vars,
            count,
            json,
        }) => {
            let b = open(&target)?;
            let codec = codes::codec(&b.ledger, &b.secret, &template)?;
            let p = codec.preview(&vars.parse()?, count)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                println!(
                    "template {} ({:?}): {} symbols = 7 fixed + {} plain + {} encrypted; \
                     guard {} bits; serials 0..{}",
                    p.template,
                    p.level,
                    p.code_length,
                    p.plain_symbols,
                    p.encrypted_symbols,
                    p.guard_bits,
                    p.serial_capacity
                );
                for (s, code) in &p.sample {
                    println!("{s:>10}  {code}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        CodesCommand::Generate {
            target,
            template,
            vars,
            count,
            out,
            json,
        } => generate(&target, &template, &vars, count, &out, json),
        CodesCommand::Disable { sel, reason } => toggle(&sel, true, reason),
        CodesCommand::Enable { sel, reason } => toggle(&sel, false, reason),
        CodesCommand::Lookup { target, code, json } => lookup(&target, &code, json),
    }
}

fn add(target: &BoxArgs, file: &Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let t: Template =
        toml::from_str(&text).with_context(|| format!("{} is not a template", file.display()))?;
    t.validate().with_context(|| {
        format!(
            "{}: template {:?} refused, nothing saved",
            file.display(),
            t.id
        )
    })?;
    let mut b = open(target)?;
    let id = t.id.clone();
    let seq = codes::save_template(&mut b.ledger, t)?;
    println!("template {id} saved (ledger entry {seq})");
    Ok(ExitCode::SUCCESS)
}

fn list(target: &BoxArgs, json: bool) -> anyhow::Result<ExitCode> {
    let b = open(target)?;
    let ts = codes::templates(&b.ledger)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&ts)?);
    } else {
        for t in &ts {
            println!(
                "{:<24} {}{:02} {:?} {} allocated of {}",
                t.template.id,
                t.template.issuer,
                t.template.number,
                t.template.level,
                t.allocated,
                t.template.serial_capacity
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn generate(
    target: &BoxArgs,
    template: &str,
    vars: &VarsArgs,
    count: u64,
    out: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let vars = vars.parse()?;
    let mut b = open(target)?;
    // Everything that can be refused is refused before serials are allocated.
    codes::export::check_target(out)?;
    let encoder = codes::batch_encoder(&b.ledger, &b.secret, template, &vars)?;
    let alloc = codes::allocate(&mut b.ledger, template, vars.batch.as_deref(), count)?;
    let bar = progress::bar(count, "writing codes");
    let report =
        codes::export(&encoder, alloc.range, out, &|n| bar.set_position(n)).map_err(|e| {
            anyhow::anyhow!(
                "{e}; serials {}..={} are allocated (ledger entry {}) but were not exported: \
                 generate again for fresh ones",
                alloc.range.first,
                alloc.range.last,
                alloc.seq
            )
        })?;
    bar.finish_and_clear();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "template": template,
                "allocated_seq": alloc.seq,
                "first": alloc.range.first,
                "last": alloc.range.last,
                "file": report,
            })
        );
    } else {
        println!(
            "{} codes of {template} (serials {}..={}) written to {} ({} bytes)",
            report.codes,
            alloc.range.first,
            alloc.range.last,
            report.path.display(),
            report.bytes
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn toggle(sel: &Selection, disabled: bool, reason: Option<String>) -> anyhow::Result<ExitCode> {
    let mut b = open(&sel.target)?;
    let (template, range) = match (&sel.code, &sel.template, sel.from, sel.to) {
        (Some(code), ..) => {
            let dir = CodeDirectory::new(b.ledger.device().clone(), b.secret);
            let info = dir.resolve(&b.ledger, code)?;
            (
                info.template,
                CodeRange {
                    first: info.serial,
                    last: info.serial,
                },
            )
        }
        (None, Some(t), Some(first), Some(last)) => (t.clone(), CodeRange { first, last }),
        _ => anyhow::bail!("give --code CODE, or --template T --from SERIAL --to SERIAL"),
    };
    let seq = codes::set_disabled(&mut b.ledger, &template, vec![range], disabled, reason)?;
    println!(
        "{} serials {}..={} of {template} (ledger entry {seq})",
        if disabled { "disabled" } else { "enabled" },
        range.first,
        range.last
    );
    Ok(ExitCode::SUCCESS)
}

fn lookup(target: &BoxArgs, code: &str, json: bool) -> anyhow::Result<ExitCode> {
    let b = open(target)?;
    let dir = CodeDirectory::new(b.ledger.device().clone(), b.secret);
    match dir.resolve(&b.ledger, code) {
        Ok(info) => {
            if json {
                println!("{}", serde_json::to_string(&info)?);
            } else {
                println!(
                    "{} template {} {:?} serial {} batch {} {}",
                    info.token,
                    info.template,
                    info.level,
                    info.serial,
                    info.batch.as_deref().unwrap_or("-"),
                    if info.disabled {
                        "DISABLED (停用)"
                    } else {
                        "active"
                    }
                );
            }
            Ok(if info.disabled {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(e @ CodeRejection::Storage(_)) => Err(e.into()),
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"rejected": e.kind(), "reason": e.to_string()})
                );
            }
            Err(anyhow::Error::new(e).context(format!("code {code:?}")))
        }
    }
}

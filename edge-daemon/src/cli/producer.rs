//! `baytrace-edge producer …`: the producer/distributor records as the installer or support
//! reads them — whereabouts (去向查询) for a recall, and stock per batch.

use crate::ledger::{Ledger, LedgerOptions};
use crate::producer;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use trace_core::whereabouts::{Location, Query, Report};

#[derive(Debug, Subcommand)]
pub enum ProducerCommand {
    /// Where did the goods of a raw lot, a production batch or a code go (for a recall).
    #[command(after_help = "Examples:
  baytrace-edge producer whereabouts --db ledger.sqlite3 --lot RL-20261120-01
  baytrace-edge producer whereabouts --db ledger.sqlite3 --batch B20261120A --json
  baytrace-edge producer whereabouts --db ledger.sqlite3 --code https://t.baytrace.cn/p/…/C0001

Answers from this box's own entries: a producer sees where its shipments went, a distributor
what it received and sold. The cloud answers the same over every box. ID numbers and phone
numbers of customers are masked.")]
    Whereabouts {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        by: By,
        #[arg(long)]
        json: bool,
    },
    /// Stock per product and batch on this box.
    #[command(after_help = "Example:
  baytrace-edge producer stock --db ledger.sqlite3 --json")]
    Stock {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct By {
    /// A raw material lot number.
    #[arg(long)]
    lot: Option<String>,
    /// A production batch number.
    #[arg(long)]
    batch: Option<String>,
    /// A code of any level (a case brings its units).
    #[arg(long)]
    code: Option<String>,
}

impl By {
    fn query(self) -> Query {
        match (self.lot, self.batch, self.code) {
            (Some(l), _, _) => Query::Lot(l),
            (_, Some(b), _) => Query::Batch(b),
            (_, _, c) => Query::Code(c.unwrap_or_default()),
        }
    }
}

pub(super) fn dispatch(cmd: ProducerCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProducerCommand::Whereabouts { db, by, json } => {
            let l = Ledger::open(&db, &LedgerOptions::default())?;
            let r = producer::whereabouts(&l, &by.query())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_report(&r);
            }
        }
        ProducerCommand::Stock { db, json } => {
            let l = Ledger::open(&db, &LedgerOptions::default())?;
            let rows = producer::stock(&l)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for r in rows {
                    println!(
                        "{}\t{}\t{} units\t{} g",
                        r.product, r.batch, r.count, r.grams
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &Report) {
    println!(
        "{} batch(es), {} unit code(s), {} case/pallet code(s), {} destination(s)",
        r.batches.len(),
        r.units,
        r.cases,
        r.destinations.len()
    );
    for b in &r.batches {
        println!(
            "batch {} ({}, produced {}) from lots {}",
            b.batch,
            b.product,
            b.produced_on,
            b.lots.join(", ")
        );
    }
    for d in &r.destinations {
        println!(
            "hop {}  shipment {}  to {}  units {}  cases {}  ({} entry {})",
            d.hop, d.shipment_no, d.to.name, d.units, d.cases, d.at.device, d.at.seq
        );
    }
    for t in &r.codes {
        let at = match &t.location {
            Location::Delivered { to, shipment_no } => {
                format!("delivered to {} ({shipment_no})", to.name)
            }
            Location::InStock { device } => format!("in stock at {device}"),
        };
        println!("{}  {}", t.code, at);
    }
}

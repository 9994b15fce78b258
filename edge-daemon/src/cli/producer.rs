//! `baytrace-edge producer …`: the producer/distributor records as the installer or support
//! reads them — whereabouts (去向查询) for a recall, stock per batch — and the records an
//! office keys in without a screen yet: sale orders (销售单) and income/expense (收支).

use crate::ledger::{Ledger, LedgerOptions};
use crate::producer;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use trace_core::Fen;
use trace_core::event::{CashDirection, IncomeExpense, PaymentMethod, SalesOrder};
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
    /// Sale orders (销售单): record one, list them with what has shipped against each.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Income and expense (收支): record one, or the summary by category.
    #[command(subcommand)]
    Cash(CashCommand),
}

#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Record a sale order from a TOML or JSON file. Shipments name it with its order_no.
    #[command(after_help = "Example:
  baytrace-edge producer order add --db ledger.sqlite3 --file SO-20261121-001.toml

SO-20261121-001.toml:
  order_no = \"SO-20261121-001\"
  ordered_on = \"2026-11-21\"
  customer = { name = \"深圳甲分销有限公司\", kind = \"enterprise\", credit_code = \"91440106MA5A222202\" }
  lines = [{ product = \"广式腊肠 500g\", count = 240 }]

A refused order (duplicate number, no lines, a zero quantity, a bad date) records nothing.")]
    Add {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        file: PathBuf,
    },
    /// Every order: ordered and shipped per product, the shipments that fulfil it.
    List {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CashCommand {
    /// Record an income or an expense (amount in 元, e.g. 1280.50).
    #[command(after_help = "Examples:
  baytrace-edge producer cash add --db ledger.sqlite3 --direction expense --category 运费 \\
      --amount 1280.50 --payment wechat-pay --counterparty 顺丰冷运
  baytrace-edge producer cash add --db ledger.sqlite3 --direction income --category 货款 \\
      --amount 36000 --payment other --note \"SO-20261121-001 bank transfer\"")]
    Add {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        direction: Direction,
        #[arg(long)]
        category: String,
        /// 元, at most two decimals.
        #[arg(long)]
        amount: String,
        #[arg(long)]
        payment: Payment,
        #[arg(long)]
        counterparty: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Income, expense and net by category, optionally for days [from, to] (Asia/Shanghai).
    Summary {
        #[arg(long)]
        db: PathBuf,
        /// YYYY-MM-DD, first day included.
        #[arg(long)]
        from: Option<String>,
        /// YYYY-MM-DD, last day included.
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Direction {
    Income,
    Expense,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Payment {
    Cash,
    WechatPay,
    Alipay,
    Other,
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
        ProducerCommand::Order(c) => order(c)?,
        ProducerCommand::Cash(c) => cash(c)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn order(cmd: OrderCommand) -> anyhow::Result<()> {
    match cmd {
        OrderCommand::Add { db, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let o: SalesOrder = if file.extension().is_some_and(|e| e == "toml") {
                toml::from_str(&text).with_context(|| format!("{}", file.display()))?
            } else {
                serde_json::from_str(&text).with_context(|| format!("{}", file.display()))?
            };
            let mut l = Ledger::open(&db, &LedgerOptions::default())?;
            let no = o.order_no.clone();
            let e = producer::record_sales_order(&mut l, o)
                .with_context(|| format!("sale order {no} refused, nothing recorded"))?;
            println!("sale order {no} recorded (entry {})", e.seq);
        }
        OrderCommand::List { db, json } => {
            let l = Ledger::open(&db, &LedgerOptions::default())?;
            let v = producer::sales_orders(&l)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for o in v {
                    println!(
                        "{}  {}  {}  {}  shipments: {}",
                        o.order_no,
                        o.ordered_on,
                        o.customer,
                        if o.complete { "complete" } else { "open" },
                        o.shipments.join(", ")
                    );
                    for x in o.lines {
                        println!(
                            "    {}: ordered {} units {} g, shipped {} units {} g",
                            x.product,
                            x.ordered_count,
                            x.ordered_grams,
                            x.shipped_count,
                            x.shipped_grams
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// Midnight in the Greater Bay Area (UTC+8) of a YYYY-MM-DD day, in ms since the epoch.
fn gba_midnight(day: &str, what: &str) -> anyhow::Result<i64> {
    let d = trace_core::product_code::Day::parse(day)
        .map_err(|e| anyhow::anyhow!("--{what} {day:?}: {e} (write YYYY-MM-DD)"))?;
    // A Day counts from 2000-01-01, which is 10,957 days after 1970-01-01.
    let ms = (i64::from(d.0) + 10_957) * 86_400_000;
    Ok(ms - 8 * 3_600_000)
}

fn cash(cmd: CashCommand) -> anyhow::Result<()> {
    match cmd {
        CashCommand::Add {
            db,
            direction,
            category,
            amount,
            payment,
            counterparty,
            note,
        } => {
            let amount = Fen::parse_yuan(&amount)
                .map_err(|e| anyhow::anyhow!("--amount {amount:?}: {e}"))?;
            let ie = IncomeExpense {
                direction: match direction {
                    Direction::Income => CashDirection::Income,
                    Direction::Expense => CashDirection::Expense,
                },
                category: category.trim().to_owned(),
                amount,
                payment: match payment {
                    Payment::Cash => PaymentMethod::Cash,
                    Payment::WechatPay => PaymentMethod::WechatPay,
                    Payment::Alipay => PaymentMethod::Alipay,
                    Payment::Other => PaymentMethod::Other,
                },
                counterparty: counterparty.filter(|c| !c.trim().is_empty()),
                note: note.filter(|n| !n.trim().is_empty()),
                vouchers: Vec::new(),
            };
            let mut l = Ledger::open(&db, &LedgerOptions::default())?;
            let e =
                producer::record_income_expense(&mut l, ie).context("refused, nothing recorded")?;
            println!("recorded (entry {})", e.seq);
        }
        CashCommand::Summary { db, from, to, json } => {
            let from = from.map(|d| gba_midnight(&d, "from")).transpose()?;
            let to = to
                .map(|d| gba_midnight(&d, "to").map(|m| m + 86_400_000))
                .transpose()?;
            let l = Ledger::open(&db, &LedgerOptions::default())?;
            let s = producer::cash_summary(&l, from, to)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!(
                    "income {}  expense {}  net {}",
                    s.income.yuan_string(),
                    s.expense.yuan_string(),
                    s.net.yuan_string()
                );
                for c in s.by_category {
                    println!(
                        "  {:?}  {}  {} entries  {}",
                        c.direction,
                        c.category,
                        c.entries,
                        c.total.yuan_string()
                    );
                }
            }
        }
    }
    Ok(())
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

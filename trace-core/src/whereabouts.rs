//! # Whereabouts (去向查询, pre-packaged food standard §4.2.4)
//!
//! "Where did it go?" for a raw lot, a production batch or one code: every shipped unit and
//! case with the chain of hands it went through and where it is now, every destination with
//! its quantities and documents. This is what a precise recall needs.
//!
//! Why a pure walk over entries: the same question is asked by a producer's box over its own
//! ledger (where its shipments went), by a distributor's box over its own (what it received and
//! sold), and by the cloud over the entries of every box together, where the chain crosses from
//! one ledger to the next (producer ships case C to distributor D; D's box scans C in; D sells
//! single units to retailers). One function over "a set of entries, possibly from several
//! devices" serves all three, and needs no decoder keys: the entries carry the links.
//!
//! The links the walk follows:
//! - raw lot → production batch: `production_batch.raw_lots`;
//! - batch → codes: a shipment's or receipt's line names its batch and the codes scanned for it
//!   (`GoodsLine::codes`); a case's units inherit the case's batch;
//! - case → units: `aggregation` / `disaggregation`, replayed in each device's own order (a
//!   unit taken out of a case before the case shipped did not travel with it), plus the packing
//!   an upstream declared, carried in a `scan_receipt` (`contents`);
//! - hand to hand: a shipment of code X from box A, a receipt of X on box B (matched by the
//!   shipment number when the receipt names it), then B's shipment of X, and so on.
//!
//! Voided entries are left out. Ordering is by each device's `seq`, never by clocks.
//!
//! Personal data: parties are reported through [`PartyView`], which masks 身份证号 and phone
//! numbers (PIPL: a recall list is shared with third parties).

use crate::entry::Entry;
use crate::event::{BlobRef, CodeLevel, Event, GoodsLine, Party, PartyKind};
use crate::ids::mask_phone;
use crate::ids::{CreditCode, DeviceId, RegionCode};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// What to trace from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum Query {
    /// A raw material lot (原料批次 / 入库批次).
    Lot(String),
    /// A production batch (生产批次).
    Batch(String),
    /// One code of any level (a case brings its units).
    Code(String),
}

/// An entry's place: a device's ledger and its seq there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct At {
    pub device: DeviceId,
    pub seq: u64,
}

/// A counterparty as it may be shown to anyone: 身份证号 and phone masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyView {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<PartyKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<CreditCode>,
    /// Masked (`4401**********123X`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// Masked (`138****5678`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
}

impl From<&Party> for PartyView {
    fn from(p: &Party) -> PartyView {
        PartyView {
            name: p.name.clone(),
            partner_id: p.partner_id.clone(),
            kind: p.kind,
            credit_code: p.credit_code.clone(),
            id_number: p.id_number.as_ref().map(|i| i.masked()),
            phone: p.phone.as_deref().map(mask_phone),
            region: p.region.clone(),
        }
    }
}

/// A raw lot as purchased (§4.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LotInfo {
    pub lot: String,
    pub material: String,
    pub supplier: PartyView,
    pub at: At,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<BlobRef>,
}

/// A production batch and the raw lots it consumed (§4.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchInfo {
    pub batch: String,
    pub product: String,
    pub produced_on: String,
    pub lots: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    pub at: At,
    /// 检验报告, 生产记录.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<BlobRef>,
}

/// One step of a code's journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Left `at.device` in a shipment (a producer's 发货 or a distributor's sale).
    Shipped {
        at: At,
        shipment_no: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        order_no: Option<String>,
        to: PartyView,
        /// The top-level code it travelled in (itself, its case or its pallet).
        inside: String,
    },
    /// Scanned in on `at.device` (a distributor's 扫码进货).
    Received {
        at: At,
        from: PartyView,
        #[serde(skip_serializing_if = "Option::is_none")]
        shipment_no: Option<String>,
    },
}

impl Step {
    pub fn at(&self) -> &At {
        match self {
            Step::Shipped { at, .. } | Step::Received { at, .. } => at,
        }
    }
}

/// Where a code is as far as the entries know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Location {
    /// Shipped to a party whose box (if any) has not scanned it in.
    Delivered { to: PartyView, shipment_no: String },
    /// Received on a box and not shipped on from there.
    InStock { device: DeviceId },
}

/// A shipped or received code of the query with its journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeTrail {
    pub code: String,
    /// `None` when the entries never say (a code never aggregated and never packed).
    pub level: Option<CodeLevel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    pub steps: Vec<Step>,
    pub location: Location,
}

/// One shipment that carried goods of the query, with how much of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    pub at: At,
    pub shipment_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_no: Option<String>,
    pub to: PartyView,
    /// 1 for the first hand (producer → customer), 2 for the next (distributor → retailer), …
    pub hop: usize,
    /// Unit codes of the query in this shipment.
    pub units: u64,
    /// Case and pallet codes of the query in this shipment.
    pub cases: u64,
    /// Codes of the query shipped at the top level (as scanned at dispatch).
    pub codes: Vec<String>,
    /// The shipment's lines for the query's batches: declared quantities, dates (关联单据).
    pub lines: Vec<GoodsLine>,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub query: Query,
    pub lots: Vec<LotInfo>,
    pub batches: Vec<BatchInfo>,
    pub destinations: Vec<Destination>,
    pub codes: Vec<CodeTrail>,
    /// Unit codes among `codes` (their count, for the recall summary).
    pub units: u64,
    /// Case and pallet codes among `codes`.
    pub cases: u64,
}

struct ShipRec {
    at: At,
    shipment_no: String,
    order_no: Option<String>,
    customer: Party,
    lines: Vec<GoodsLine>,
}

struct RecvRec {
    at: At,
    shipment_no: Option<String>,
    supplier: Party,
}

/// The link graph built once from a set of entries; query it as often as needed.
#[derive(Default)]
pub struct Graph {
    lots: BTreeMap<String, LotInfo>,
    batches: BTreeMap<String, BatchInfo>,
    lot_batches: HashMap<String, BTreeSet<String>>,
    ships: Vec<ShipRec>,
    recvs: Vec<RecvRec>,
    /// code → (shipment index, top-level code it travelled in)
    code_ships: HashMap<String, Vec<(usize, String)>>,
    code_recvs: HashMap<String, Vec<usize>>,
    code_batch: HashMap<String, (String, String)>,
    level: HashMap<String, CodeLevel>,
    /// Every child ever packed into a parent, on any device.
    children: HashMap<String, BTreeSet<String>>,
    batch_ships: HashMap<String, BTreeSet<usize>>,
}

/// The packing one device believes in, replayed in its seq order.
#[derive(Default)]
struct Packs(HashMap<String, Vec<String>>);

impl Packs {
    fn pack(&mut self, parent: &str, children: &[String]) {
        let v = self.0.entry(parent.to_owned()).or_default();
        for c in children {
            if !v.contains(c) {
                v.push(c.clone());
            }
        }
    }

    fn unpack(&mut self, parent: &str, children: &[String]) {
        if children.is_empty() {
            self.0.remove(parent);
        } else if let Some(v) = self.0.get_mut(parent) {
            v.retain(|c| !children.contains(c));
        }
    }

    /// `code` and everything packed in it, depth first (a cycle cannot loop).
    fn expand(&self, code: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![code.to_owned()];
        while let Some(c) = stack.pop() {
            if !seen.insert(c.clone()) {
                continue;
            }
            if let Some(kids) = self.0.get(&c) {
                stack.extend(kids.iter().rev().cloned());
            }
            out.push(c);
        }
        out
    }
}

impl Graph {
    /// Build the graph from entries of one or several devices, in any order.
    pub fn build<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Graph {
        let mut all: Vec<&Entry> = entries.into_iter().collect();
        all.sort_by(|a, b| (&a.device, a.seq).cmp(&(&b.device, b.seq)));
        let voided: HashSet<(&DeviceId, u64)> = all
            .iter()
            .filter_map(|e| match &e.event {
                Event::Void(v) => Some((&e.device, v.target_seq)),
                _ => None,
            })
            .collect();
        let mut g = Graph::default();
        let mut packs: HashMap<&DeviceId, Packs> = HashMap::new();
        for e in all {
            if voided.contains(&(&e.device, e.seq)) {
                continue;
            }
            let at = At {
                device: e.device.clone(),
                seq: e.seq,
            };
            let p = packs.entry(&e.device).or_default();
            g.add(at, &e.event, p);
        }
        g
    }

    fn add(&mut self, at: At, event: &Event, packs: &mut Packs) {
        match event {
            Event::RawMaterialPurchase(r) => {
                self.lots.entry(r.lot.clone()).or_insert(LotInfo {
                    lot: r.lot.clone(),
                    material: r.material.clone(),
                    supplier: (&r.supplier).into(),
                    at,
                    documents: r.documents.clone(),
                });
            }
            Event::ProductionBatch(b) => {
                for l in &b.raw_lots {
                    self.lot_batches
                        .entry(l.lot.clone())
                        .or_default()
                        .insert(b.batch.clone());
                }
                self.batches.entry(b.batch.clone()).or_insert(BatchInfo {
                    batch: b.batch.clone(),
                    product: b.product.clone(),
                    produced_on: b.produced_on.clone(),
                    lots: b.raw_lots.iter().map(|l| l.lot.clone()).collect(),
                    count: b.count,
                    at,
                    documents: b.documents.clone(),
                });
            }
            Event::Aggregation(a) => self.aggregate(packs, &a.parent, a.parent_level, &a.children),
            Event::Disaggregation(d) => packs.unpack(&d.parent, &d.children),
            Event::Shipment(s) => {
                let idx = self.ships.len();
                let tops = s
                    .codes
                    .iter()
                    .chain(s.lines.iter().flat_map(|l| l.codes.iter()));
                let mut seen = HashSet::new();
                for top in tops {
                    for c in packs.expand(top) {
                        if seen.insert(c.clone()) {
                            self.code_ships
                                .entry(c)
                                .or_default()
                                .push((idx, top.clone()));
                        }
                    }
                }
                self.line_batches(packs, &s.lines);
                for l in &s.lines {
                    self.batch_ships
                        .entry(l.batch.clone())
                        .or_default()
                        .insert(idx);
                }
                self.ships.push(ShipRec {
                    at,
                    shipment_no: s.shipment_no.clone(),
                    order_no: s.order_no.clone(),
                    customer: s.customer.clone(),
                    lines: s.lines.clone(),
                });
            }
            Event::ScanReceipt(r) => {
                for a in &r.contents {
                    self.aggregate(packs, &a.parent, a.parent_level, &a.children);
                }
                let idx = self.recvs.len();
                let tops = r
                    .codes
                    .iter()
                    .chain(r.lines.iter().flat_map(|l| l.codes.iter()));
                let mut seen = HashSet::new();
                for top in tops {
                    for c in packs.expand(top) {
                        if seen.insert(c.clone()) {
                            self.code_recvs.entry(c).or_default().push(idx);
                        }
                    }
                }
                self.line_batches(packs, &r.lines);
                self.recvs.push(RecvRec {
                    at,
                    shipment_no: r.shipment_no.clone(),
                    supplier: r.supplier.clone(),
                });
            }
            _ => {}
        }
    }

    fn aggregate(&mut self, packs: &mut Packs, parent: &str, level: CodeLevel, kids: &[String]) {
        packs.pack(parent, kids);
        self.level.insert(parent.to_owned(), level);
        let child_level = match level {
            CodeLevel::Pallet => Some(CodeLevel::Case),
            CodeLevel::Case => Some(CodeLevel::Unit),
            CodeLevel::Unit | CodeLevel::Batch => None,
        };
        let set = self.children.entry(parent.to_owned()).or_default();
        for k in kids {
            set.insert(k.clone());
            if let Some(l) = child_level {
                self.level.entry(k.clone()).or_insert(l);
            }
        }
    }

    /// A line's codes (and what they hold) belong to the line's batch.
    fn line_batches(&mut self, packs: &Packs, lines: &[GoodsLine]) {
        for l in lines {
            for c in &l.codes {
                for d in packs.expand(c) {
                    self.code_batch
                        .entry(d)
                        .or_insert_with(|| (l.batch.clone(), l.product.clone()));
                }
            }
        }
    }

    /// `code` and every code ever packed under it, on any device.
    fn descendants(&self, code: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = vec![code.to_owned()];
        while let Some(c) = stack.pop() {
            if out.insert(c.clone())
                && let Some(kids) = self.children.get(&c)
            {
                stack.extend(kids.iter().cloned());
            }
        }
        out
    }

    fn is_unit(&self, code: &str) -> bool {
        match self.level.get(code) {
            Some(l) => *l == CodeLevel::Unit,
            None => !self.children.contains_key(code),
        }
    }

    /// Answer `q` over the entries the graph was built from.
    pub fn query(&self, q: &Query) -> Report {
        let (batches, codes): (BTreeSet<String>, BTreeSet<String>) = match q {
            Query::Lot(l) => {
                let b = self.lot_batches.get(l).cloned().unwrap_or_default();
                let c = self.codes_of(&b);
                (b, c)
            }
            Query::Batch(b) => {
                let b = BTreeSet::from([b.clone()]);
                let c = self.codes_of(&b);
                (b, c)
            }
            Query::Code(c) => {
                let codes = self.descendants(c);
                let b = codes
                    .iter()
                    .filter_map(|c| self.code_batch.get(c).map(|(b, _)| b.clone()))
                    .collect();
                (b, codes)
            }
        };
        let lots_wanted: BTreeSet<&String> = match q {
            Query::Lot(l) => BTreeSet::from([l]),
            _ => batches
                .iter()
                .filter_map(|b| self.batches.get(b))
                .flat_map(|b| b.lots.iter())
                .collect(),
        };
        let lots = lots_wanted
            .into_iter()
            .filter_map(|l| self.lots.get(l).cloned())
            .collect();
        let batch_infos = batches
            .iter()
            .filter_map(|b| self.batches.get(b).cloned())
            .collect();

        let ship_index: HashMap<&At, usize> = self
            .ships
            .iter()
            .enumerate()
            .map(|(i, s)| (&s.at, i))
            .collect();
        let mut trails = Vec::new();
        // shipment index → (hop, units, cases, top-level codes)
        let mut per_ship: BTreeMap<usize, (usize, u64, u64, BTreeSet<String>)> = BTreeMap::new();
        for code in &codes {
            let Some(trail) = self.trail(code) else {
                continue;
            };
            let unit = self.is_unit(code);
            let mut hop = 0;
            for step in &trail.steps {
                if let Step::Shipped { at, inside, .. } = step {
                    hop += 1;
                    let Some(&idx) = ship_index.get(at) else {
                        continue;
                    };
                    let e = per_ship.entry(idx).or_insert((hop, 0, 0, BTreeSet::new()));
                    e.0 = e.0.min(hop);
                    if unit {
                        e.1 += 1;
                    } else {
                        e.2 += 1;
                    }
                    if inside == code {
                        e.3.insert(code.clone());
                    }
                }
            }
            trails.push(trail);
        }
        // Shipments that named a batch of the query by hand, without codes, count too.
        for b in &batches {
            for &idx in self.batch_ships.get(b).into_iter().flatten() {
                per_ship.entry(idx).or_insert((1, 0, 0, BTreeSet::new()));
            }
        }
        let mut destinations: Vec<Destination> = per_ship
            .into_iter()
            .map(|(idx, (hop, units, cases, top))| {
                let s = &self.ships[idx];
                Destination {
                    at: s.at.clone(),
                    shipment_no: s.shipment_no.clone(),
                    order_no: s.order_no.clone(),
                    to: (&s.customer).into(),
                    hop,
                    units,
                    cases,
                    codes: top.into_iter().collect(),
                    lines: s
                        .lines
                        .iter()
                        .filter(|l| batches.contains(&l.batch))
                        .cloned()
                        .collect(),
                }
            })
            .collect();
        // First hands first, then by box and its order.
        destinations.sort_by(|a, b| (a.hop, &a.at).cmp(&(b.hop, &b.at)));
        let units = trails.iter().filter(|t| self.is_unit(&t.code)).count() as u64;
        let cases = trails.len() as u64 - units;
        Report {
            query: q.clone(),
            lots,
            batches: batch_infos,
            destinations,
            codes: trails,
            units,
            cases,
        }
    }

    fn codes_of(&self, batches: &BTreeSet<String>) -> BTreeSet<String> {
        self.code_batch
            .iter()
            .filter(|(_, (b, _))| batches.contains(b))
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// The journey of one code: from the first hand that shipped it (or the first box that
    /// received it, when the shipper's entries are not in the set), hand to hand.
    fn trail(&self, code: &str) -> Option<CodeTrail> {
        let ships: &[(usize, String)] = self.code_ships.get(code).map_or(&[], Vec::as_slice);
        let recvs: &[usize] = self.code_recvs.get(code).map_or(&[], Vec::as_slice);
        if ships.is_empty() && recvs.is_empty() {
            return None;
        }
        let received_on = |dev: &DeviceId| recvs.iter().any(|&r| &self.recvs[r].at.device == dev);
        let mut used_ships = HashSet::new();
        let mut used_recvs = HashSet::new();
        let mut steps = Vec::new();
        // Start: a shipment from a box that never received the code (its origin), else the
        // earliest receipt that no shipment in the set explains.
        let origin = ships
            .iter()
            .find(|(i, _)| !received_on(&self.ships[*i].at.device));
        let mut next_ship = match origin {
            Some(o) => Some(o.clone()),
            None => {
                let r = recvs.iter().copied().find(|&r| {
                    let no = &self.recvs[r].shipment_no;
                    !ships.iter().any(|(i, _)| {
                        let s = &self.ships[*i];
                        s.at.device != self.recvs[r].at.device
                            && no.as_ref().is_none_or(|n| n == &s.shipment_no)
                    })
                })?;
                self.push_recv(&mut steps, &mut used_recvs, r);
                self.ship_after(ships, &self.recvs[r].at, &used_ships)
            }
        };
        while let Some((i, inside)) = next_ship {
            if !used_ships.insert(i) {
                break;
            }
            let s = &self.ships[i];
            steps.push(Step::Shipped {
                at: s.at.clone(),
                shipment_no: s.shipment_no.clone(),
                order_no: s.order_no.clone(),
                to: (&s.customer).into(),
                inside: inside.clone(),
            });
            let candidates = || {
                recvs
                    .iter()
                    .copied()
                    .filter(|r| !used_recvs.contains(r) && self.recvs[*r].at.device != s.at.device)
            };
            let matched = candidates()
                .find(|&r| self.recvs[r].shipment_no.as_ref() == Some(&s.shipment_no))
                .or_else(|| candidates().find(|&r| self.recvs[r].shipment_no.is_none()));
            let Some(r) = matched else {
                break;
            };
            self.push_recv(&mut steps, &mut used_recvs, r);
            next_ship = self.ship_after(ships, &self.recvs[r].at, &used_ships);
        }
        let location = match steps.last() {
            Some(Step::Shipped {
                to, shipment_no, ..
            }) => Location::Delivered {
                to: to.clone(),
                shipment_no: shipment_no.clone(),
            },
            Some(Step::Received { at, .. }) => Location::InStock {
                device: at.device.clone(),
            },
            None => return None,
        };
        let (batch, product) = self
            .code_batch
            .get(code)
            .cloned()
            .map_or((None, None), |(b, p)| (Some(b), Some(p)));
        Some(CodeTrail {
            code: code.to_owned(),
            level: self.level.get(code).copied(),
            batch,
            product,
            steps,
            location,
        })
    }

    fn push_recv(&self, steps: &mut Vec<Step>, used: &mut HashSet<usize>, r: usize) {
        used.insert(r);
        let rec = &self.recvs[r];
        steps.push(Step::Received {
            at: rec.at.clone(),
            from: (&rec.supplier).into(),
            shipment_no: rec.shipment_no.clone(),
        });
    }

    /// The first shipment of the code from the receiving box after it was received there.
    fn ship_after(
        &self,
        ships: &[(usize, String)],
        recv: &At,
        used: &HashSet<usize>,
    ) -> Option<(usize, String)> {
        ships
            .iter()
            .filter(|(i, _)| {
                let at = &self.ships[*i].at;
                !used.contains(i) && at.device == recv.device && at.seq > recv.seq
            })
            .min_by_key(|(i, _)| self.ships[*i].at.seq)
            .cloned()
    }
}

/// Build the graph over `entries` and answer `q`: the one-shot form.
pub fn whereabouts<'a>(entries: impl IntoIterator<Item = &'a Entry>, q: &Query) -> Report {
    Graph::build(entries).query(q)
}

#[cfg(test)]
mod tests;

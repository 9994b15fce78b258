//! Product codes on PostgreSQL: the projection rows of [`crate::codes`], collected per batch
//! and written with one `UNNEST` statement per table (as the other projections), and the
//! lookups behind `/c/{token}`. Mirrors `sqlite/codes.rs` query for query.

use crate::codes::{self, BatchFacts, Candidate, CodeRow, Decoded, SerialFacts};
use crate::store::{ProductCodeView, StoreError, StoreResult};
use deadpool_postgres::{ClientWrapper, Transaction};
use std::collections::BTreeMap;
use trace_core::product_code::ScannedCode;
use trace_core::{DeviceId, Event};

/// A `production_batches` row besides its key.
struct BatchValues {
    seq: i64,
    product: String,
    gtin: Option<String>,
    product_code: Option<String>,
    produced_on: String,
    expires_on: Option<String>,
}

/// One batch's product-code rows, column by column. Upserted tables keep one row per key (the
/// highest seq, entries being added in seq order): `ON CONFLICT DO UPDATE` cannot touch one
/// row twice in a statement.
#[derive(Default)]
pub(super) struct CodeRows {
    /// id → (seq, issuer, number, body)
    templates: BTreeMap<String, (i64, String, i64, String)>,
    a_pool: Vec<String>,
    a_first: Vec<i64>,
    a_last: Vec<i64>,
    a_batch: Vec<Option<String>>,
    a_seq: Vec<i64>,
    t_pool: Vec<String>,
    t_first: Vec<i64>,
    t_last: Vec<i64>,
    t_seq: Vec<i64>,
    t_disabled: Vec<bool>,
    t_reason: Vec<Option<String>>,
    batches: BTreeMap<String, BatchValues>,
    /// product_id → (seq, name, gtin)
    products: BTreeMap<String, (i64, String, Option<String>)>,
}

impl CodeRows {
    pub(super) fn add(&mut self, seq: i64, event: &Event) {
        for row in codes::rows(event) {
            match row {
                CodeRow::Template {
                    id,
                    issuer,
                    number,
                    body,
                } => {
                    self.templates.insert(id, (seq, issuer, number, body));
                }
                CodeRow::Allocation {
                    pool,
                    first,
                    last,
                    batch,
                } => {
                    self.a_pool.push(pool);
                    self.a_first.push(first);
                    self.a_last.push(last);
                    self.a_batch.push(batch);
                    self.a_seq.push(seq);
                }
                CodeRow::Toggle {
                    pool,
                    first,
                    last,
                    disabled,
                    reason,
                } => {
                    self.t_pool.push(pool);
                    self.t_first.push(first);
                    self.t_last.push(last);
                    self.t_seq.push(seq);
                    self.t_disabled.push(disabled);
                    self.t_reason.push(reason);
                }
                CodeRow::Batch {
                    batch,
                    product,
                    gtin,
                    product_code,
                    produced_on,
                    expires_on,
                } => {
                    self.batches.insert(
                        batch,
                        BatchValues {
                            seq,
                            product,
                            gtin,
                            product_code,
                            produced_on,
                            expires_on,
                        },
                    );
                }
                CodeRow::Product {
                    product_id,
                    name,
                    gtin,
                } => {
                    self.products.insert(product_id, (seq, name, gtin));
                }
            }
        }
    }

    pub(super) async fn write(&self, tx: &Transaction<'_>, dev: i64) -> StoreResult<()> {
        if !self.templates.is_empty() {
            let mut ids = Vec::new();
            let (mut seqs, mut issuers, mut numbers, mut bodies) = (
                Vec::new(),
                Vec::<&str>::new(),
                Vec::new(),
                Vec::<&str>::new(),
            );
            for (id, (seq, issuer, number, body)) in &self.templates {
                ids.push(id.as_str());
                seqs.push(*seq);
                issuers.push(issuer);
                numbers.push(*number);
                bodies.push(body);
            }
            // Latest seq wins, whatever order the entries arrive in.
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO code_templates AS t (dev, id, issuer, number, body, seq)
                     SELECT $1, u.* FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::text[],
                         $6::bigint[]) AS u
                     ON CONFLICT (dev, id) DO UPDATE SET issuer = excluded.issuer,
                         number = excluded.number, body = excluded.body, seq = excluded.seq
                     WHERE excluded.seq > t.seq",
                )
                .await?;
            tx.execute(&stmt, &[&dev, &ids, &issuers, &numbers, &bodies, &seqs])
                .await?;
        }
        if !self.a_seq.is_empty() {
            // A serial allocated twice by one device: its first claim stands (as on SQLite).
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO code_allocations (dev, pool, first, last, batch, seq)
                     SELECT $1, u.* FROM UNNEST($2::text[], $3::bigint[], $4::bigint[],
                         $5::text[], $6::bigint[]) AS u
                     ON CONFLICT DO NOTHING",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &dev,
                    &self.a_pool,
                    &self.a_first,
                    &self.a_last,
                    &self.a_batch,
                    &self.a_seq,
                ],
            )
            .await?;
        }
        if !self.t_seq.is_empty() {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO code_toggles (dev, pool, first, last, seq, disabled, reason)
                     SELECT $1, u.* FROM UNNEST($2::text[], $3::bigint[], $4::bigint[],
                         $5::bigint[], $6::bool[], $7::text[]) AS u
                     ON CONFLICT DO NOTHING",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &dev,
                    &self.t_pool,
                    &self.t_first,
                    &self.t_last,
                    &self.t_seq,
                    &self.t_disabled,
                    &self.t_reason,
                ],
            )
            .await?;
        }
        if !self.batches.is_empty() {
            let (mut keys, mut products, mut produced, mut seqs) = (
                Vec::<&str>::new(),
                Vec::<&str>::new(),
                Vec::<&str>::new(),
                Vec::new(),
            );
            let (mut gtins, mut codes, mut expires) = (Vec::new(), Vec::new(), Vec::new());
            for (batch, b) in &self.batches {
                keys.push(batch.as_str());
                products.push(&b.product);
                gtins.push(b.gtin.as_deref());
                codes.push(b.product_code.as_deref());
                produced.push(&b.produced_on);
                expires.push(b.expires_on.as_deref());
                seqs.push(b.seq);
            }
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO production_batches AS b
                       (dev, batch, product, gtin, product_code, produced_on, expires_on, seq)
                     SELECT $1, u.* FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[],
                         $6::text[], $7::text[], $8::bigint[]) AS u
                     ON CONFLICT (dev, batch) DO UPDATE SET product = excluded.product,
                         gtin = excluded.gtin, product_code = excluded.product_code,
                         produced_on = excluded.produced_on, expires_on = excluded.expires_on,
                         seq = excluded.seq
                     WHERE excluded.seq > b.seq",
                )
                .await?;
            tx.execute(
                &stmt,
                &[
                    &dev, &keys, &products, &gtins, &codes, &produced, &expires, &seqs,
                ],
            )
            .await?;
        }
        if !self.products.is_empty() {
            let (mut ids, mut names, mut gtins, mut seqs) = (
                Vec::<&str>::new(),
                Vec::<&str>::new(),
                Vec::new(),
                Vec::new(),
            );
            for (id, (seq, name, gtin)) in &self.products {
                ids.push(id);
                names.push(name);
                gtins.push(gtin.as_deref());
                seqs.push(*seq);
            }
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO products AS p (dev, product_id, name, gtin, seq)
                     SELECT $1, u.* FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bigint[])
                         AS u
                     ON CONFLICT (dev, product_id) DO UPDATE SET name = excluded.name,
                         gtin = excluded.gtin, seq = excluded.seq
                     WHERE excluded.seq > p.seq",
                )
                .await?;
            tx.execute(&stmt, &[&dev, &ids, &names, &gtins, &seqs])
                .await?;
        }
        Ok(())
    }
}

/// See [`crate::store::CloudStore::product_code`].
pub(super) async fn product_code(
    c: &ClientWrapper,
    scanned: &ScannedCode,
) -> StoreResult<Option<ProductCodeView>> {
    let stmt = c
        .prepare_cached(
            "SELECT t.dev, d.id, d.entity, d.market, d.code_key, t.id, t.body
             FROM code_templates t JOIN devices d ON d.key = t.dev
             WHERE t.issuer = $1 AND t.number = $2 ORDER BY t.dev",
        )
        .await?;
    let number = i64::from(scanned.number);
    let mut candidates = Vec::new();
    for r in c.query(&stmt, &[&scanned.issuer, &number]).await? {
        candidates.push(Candidate {
            dev: r.get(0),
            device: DeviceId::new(r.get::<_, String>(1))
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            entity: r.get(2),
            market: r.get(3),
            code_key: r.get(4),
            template_id: r.get(5),
            body: r.get(6),
        });
    }
    for d in codes::decode_all(scanned, candidates) {
        if let Some(facts) = serial_facts(c, &d).await? {
            return codes::view(d, &scanned.token, facts).map(Some);
        }
    }
    Ok(None)
}

/// The allocation, toggle, batch and product name of a decoded serial; `None` when the serial
/// was never allocated.
async fn serial_facts(c: &ClientWrapper, d: &Decoded) -> StoreResult<Option<SerialFacts>> {
    let dev = d.candidate.dev;
    let pool = d.template.id.as_str();
    let Ok(serial) = i64::try_from(d.code.serial) else {
        return Ok(None);
    };
    // Allocations are disjoint: the one starting at or below the serial is the only candidate.
    let stmt = c
        .prepare_cached(
            "SELECT last, batch, seq FROM code_allocations
             WHERE dev = $1 AND pool = $2 AND first <= $3 ORDER BY first DESC LIMIT 1",
        )
        .await?;
    let Some(alloc) = c.query_opt(&stmt, &[&dev, &pool, &serial]).await? else {
        return Ok(None);
    };
    if alloc.get::<_, i64>(0) < serial {
        return Ok(None);
    }
    let (allocation_batch, allocated_seq): (Option<String>, i64) = (alloc.get(1), alloc.get(2));
    let stmt = c
        .prepare_cached(
            "SELECT disabled, reason, seq FROM code_toggles
             WHERE dev = $1 AND pool = $2 AND first <= $3 AND last >= $3
             ORDER BY seq DESC LIMIT 1",
        )
        .await?;
    let toggle = c
        .query_opt(&stmt, &[&dev, &pool, &serial])
        .await?
        .map(|r| (r.get(0), r.get(1), r.get(2)));
    let batch_name = d.code.vars.batch.clone().or(allocation_batch.clone());
    let batch = match &batch_name {
        Some(b) => {
            let stmt = c
                .prepare_cached(
                    "SELECT product, produced_on, expires_on FROM production_batches
                     WHERE dev = $1 AND batch = $2",
                )
                .await?;
            c.query_opt(&stmt, &[&dev, b]).await?.map(|r| BatchFacts {
                product: r.get(0),
                produced_on: r.get(1),
                expires_on: r.get(2),
            })
        }
        None => None,
    };
    let (gtin, product_code) = codes::template_product(&d.template);
    let by_id = c
        .prepare_cached("SELECT name FROM products WHERE dev = $1 AND product_id = $2")
        .await?;
    let mut name: Option<String> = None;
    for id in [batch.as_ref().map(|b| b.product.clone()), product_code]
        .into_iter()
        .flatten()
    {
        if name.is_none() {
            name = c.query_opt(&by_id, &[&dev, &id]).await?.map(|r| r.get(0));
        }
    }
    if let (None, Some(g)) = (&name, gtin) {
        let stmt = c
            .prepare_cached(
                "SELECT name FROM products WHERE dev = $1 AND gtin = $2 ORDER BY seq DESC LIMIT 1",
            )
            .await?;
        name = c.query_opt(&stmt, &[&dev, &g]).await?.map(|r| r.get(0));
    }
    Ok(Some(SerialFacts {
        allocation_batch,
        allocated_seq,
        toggle,
        batch,
        product_name: name,
    }))
}

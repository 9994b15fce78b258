//! Embedded, versioned migrations with a `schema_version` table.
//!
//! Why not a migration crate: refinery would do, but the whole job is "apply the files newer
//! than the recorded version, in one transaction, one instance at a time", which is a dozen
//! lines. Several cloud instances may start at once against one database: a transaction-scoped
//! advisory lock makes the second wait and then find nothing to do. Released files are never
//! edited; add a new one.

use crate::store::{StoreError, StoreResult};
use trace_core::Timestamp;

/// (version, name, SQL), ascending.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("migrations/0001_init.sql")),
    (
        2,
        "product_codes",
        include_str!("migrations/0002_product_codes.sql"),
    ),
];

/// Any constant shared by all instances: "baytrace" in ASCII.
const LOCK_KEY: i64 = 0x6261_7974_7261_6365;

pub(super) async fn to_latest(
    client: &mut deadpool_postgres::Object,
    schema: Option<&str>,
) -> StoreResult<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    if let Some(schema) = schema {
        // The name was checked to be a plain identifier (see `valid_schema`).
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at BIGINT NOT NULL
         )",
    )
    .await?;
    let current: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await?
        .get(0);
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > latest {
        return Err(StoreError::Corrupt(format!(
            "the database's schema version {current} is newer than this program's {latest}: \
             upgrade baytrace-cloud"
        )));
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
            &[version, name, &Timestamp::now().0],
        )
        .await?;
        tracing::info!(version, name, "postgres schema migrated");
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_ascend_from_one() {
        for (i, (v, _, sql)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v, i64::try_from(i).unwrap() + 1);
            assert!(!sql.trim().is_empty());
        }
    }
}

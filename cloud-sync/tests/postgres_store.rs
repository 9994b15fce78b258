//! The conformance suite against the PostgreSQL backend: PostgreSQL on 127.0.0.1:5432 (trust
//! auth, user postgres, database `test`; `BAYTRACE_TEST_PG` overrides), each test in a fresh
//! schema dropped afterwards. No PostgreSQL is a failure naming how to start it, never a skip.

#[macro_use]
mod common;

use common::PgBackend;
use proptest::prelude::*;

conformance_tests!(PgBackend::new());

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Any permutation and duplication of a valid chain's batches ends with exactly the chain.
    #[test]
    fn any_delivery_order_converges(
        len in 1u64..120,
        batch in 1usize..25,
        order in proptest::collection::vec(0usize..64, 0..24),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let backend = PgBackend::new();
            common::conformance::any_delivery_order_converges(&backend, len, batch, &order).await;
        });
    }
}

/// Two stores on one database (as two cloud instances sharing the subscription) ingesting the
/// same device's batches at once: the row lock serialises them, so the end state is exactly
/// the chain whatever the interleaving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_device() {
    use cloud_sync::store::CloudStore;
    use cloud_sync::testkit;
    use trace_core::HashAlg;
    let backend = PgBackend::new();
    let a = backend.open().await;
    let b = backend.open().await;
    let dev = testkit::device(1);
    a.register_device(testkit::record(&dev, 1, HashAlg::Sha256))
        .await
        .unwrap();
    let chain = testkit::stall_chain(&dev, 1, HashAlg::Sha256, 400);
    let mut tasks = Vec::new();
    for (i, batch) in chain.chunks(20).enumerate() {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (dev, batch) = (dev.clone(), batch.to_vec());
        // Every batch twice, from both instances.
        let other = if i % 2 == 0 { b.clone() } else { a.clone() };
        let (dev2, batch2) = (dev.clone(), batch.clone());
        tasks.push(tokio::spawn(async move { store.ingest(&dev, batch).await }));
        tasks.push(tokio::spawn(
            async move { other.ingest(&dev2, batch2).await },
        ));
    }
    let (mut stored, mut dups) = (0u64, 0u64);
    for t in tasks {
        let o = t.await.unwrap().unwrap();
        assert_eq!(o.quarantined, 0);
        stored += u64::from(o.stored);
        dups += u64::from(o.duplicates);
    }
    assert_eq!((stored, dups), (400, 400));
    let st = &a.list_devices().await.unwrap()[0];
    assert_eq!(
        (st.hwm, st.entries, st.head_hash),
        (400, 400, Some(chain[399].hash))
    );
    assert!(st.missing.is_empty());
    assert_eq!(b.entries(&dev, 1..=400).await.unwrap(), chain);
}

/// A database migrated by a newer program is refused, not written to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_schema_is_refused() {
    let backend = PgBackend::new();
    drop(backend.open().await);
    let (client, conn) = tokio_postgres::connect(&common::pg_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "INSERT INTO {}.schema_version VALUES (999, 'future', 0)",
            backend.schema
        ))
        .await
        .unwrap();
    let err = cloud_sync::PgStore::open(backend.config())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("newer"), "{err}");
}

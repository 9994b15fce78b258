//! The conformance suite against the SQLite backend, file-backed, plus the delivery-order
//! property test.

#[macro_use]
mod common;

use common::SqliteBackend;
use proptest::prelude::*;

conformance_tests!(SqliteBackend::new());

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any permutation and duplication of a valid chain's batches ends with exactly the chain.
    #[test]
    fn any_delivery_order_converges(
        len in 1u64..120,
        batch in 1usize..25,
        order in proptest::collection::vec(0usize..64, 0..24),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let backend = SqliteBackend::new();
            common::conformance::any_delivery_order_converges(&backend, len, batch, &order).await;
        });
    }
}

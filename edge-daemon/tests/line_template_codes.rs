//! `line run --config … --template T`: the coder prints the template's own codes for the batch
//! (encrypted, decodable by the box), not a counter. Every code in the simulator's print log
//! resolves through the codes module to this batch and to a serial the ledger recorded as
//! encoded; none is printed twice.

mod line_support;

use device_drivers::coder::CoderProtocol;
use device_drivers::coder::sim::CoderSimOptions;
use edge_daemon::codes::CodeDirectory;
use edge_daemon::config::EdgeConfig;
use edge_daemon::keys::DeviceKeys;
use edge_daemon::ledger::{Ledger, LedgerOptions};
use line_support::*;
use std::collections::HashSet;

const TEMPLATE: &str = r#"
id = "milk-unit"
issuer = "GZ0A"
number = 3
level = "unit"
gtin = "6901234567892"
serial_capacity = 1000000
code_length = 29
cipher = "aes"
output = { form = "url", base = "https://t.example.com" }
fields = [
  { field = "batch", max_len = 10, encrypted = true },
  { field = "production_date", encrypted = true },
]
"#;

#[test]
fn the_coder_prints_template_codes_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = new_box(dir.path());
    let config = db.parent().unwrap().join("edge.toml");
    let tfile = dir.path().join("t.toml");
    std::fs::write(&tfile, TEMPLATE).unwrap();
    edge_ok(&[
        "codes",
        "template",
        "add",
        "--config",
        p(&config),
        "--file",
        p(&tfile),
    ]);
    let log = dir.path().join("print.log");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let opts = CoderSimOptions {
        line_speed: 2_000,
        print_log: Some(log.clone()),
        ..CoderSimOptions::default()
    };
    let (uri, sim) = start_sim(&rt, CoderProtocol::TextTcp, opts);

    // A pool that is not the template is refused before anything is allocated.
    let wrong = edge(&[
        "line",
        "run",
        "--db",
        p(&db),
        "--job",
        "J0",
        "--batch",
        "B7",
        "--pool",
        "P1",
        "--template",
        "milk-unit",
        "--config",
        p(&config),
        "--production-date",
        "2026-11-22",
        "--count",
        "10",
        "--protocol",
        "text-tcp",
        "--coder",
        &uri,
    ]);
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("must be the template id"), "{err}");

    edge_ok(&[
        "line",
        "run",
        "--db",
        p(&db),
        "--job",
        "J1",
        "--batch",
        "B7",
        "--pool",
        "milk-unit",
        "--template",
        "milk-unit",
        "--config",
        p(&config),
        "--production-date",
        "2026-11-22",
        "--count",
        "300",
        "--protocol",
        "text-tcp",
        "--coder",
        &uri,
    ]);
    // Everything confirmed has been printed; stop the simulator before reading its log.
    drop(sim);
    drop(rt);
    let printed = read_log(&log);
    assert_eq!(printed.len(), 300, "one printed code per item");
    assert_distinct("print log", &printed);

    let c = EdgeConfig::load(&config).unwrap();
    let keys = DeviceKeys::read(&c.signing_key_path(), &c.ticket_key_path()).unwrap();
    let ledger = Ledger::open(&db, &LedgerOptions::default()).unwrap();
    let directory = CodeDirectory::new(ledger.device().clone(), keys.ticket_key);
    let encoded: HashSet<u64> = ledger_codes(&db).encoded.into_iter().collect();
    for code in &printed {
        assert!(code.starts_with("https://t.example.com/c/"), "{code}");
        let info = directory
            .accept(&ledger, code)
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(info.template, "milk-unit");
        assert_eq!(info.batch.as_deref(), Some("B7"));
        assert!(
            encoded.contains(&info.serial),
            "{code}: serial {} not encoded",
            info.serial
        );
    }
    let r = reconcile(&db, "B7");
    assert_eq!(r.encoded, 300);
    assert_eq!(r.allocated, r.encoded + r.scrapped + r.unused);
}

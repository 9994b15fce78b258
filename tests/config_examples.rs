//! Every example config in `config/` parses with the parser that will read it in production,
//! so the examples never rot. A new example without a parser here fails this test.

use std::path::Path;

#[test]
fn every_example_config_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("edge.") {
            edge_daemon::config::EdgeConfig::load(&path)
                .unwrap_or_else(|e| panic!("{name} does not load: {e}"));
        } else if name.starts_with("cloud.") {
            cloud_sync::CloudConfig::load(&path)
                .unwrap_or_else(|e| panic!("{name} does not load: {e}"));
        } else {
            panic!("{name}: no parser is known for this example; add it to this test");
        }
        checked += 1;
    }
    assert!(
        checked >= 2,
        "found the edge and cloud examples in {}",
        dir.display()
    );
}

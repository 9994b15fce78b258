//! `baytrace-edge codes …` through the real binary: templates refused with a clear error and
//! nothing recorded, generation to CSV/TXT/ZIP, serials never issued twice (also after a
//! SIGKILL mid-export), disable/enable, and lookups of foreign, forged and disabled codes.

mod common;
use common::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const DL_TEMPLATE: &str = r#"
id = "milk-250ml-unit"
issuer = "GZ0A"
number = 1
level = "unit"
gtin = "6901234567892"
serial_capacity = 1000000000
code_length = 20
cipher = "aes"
output = { form = "digital_link", host = "id.example.com" }
fields = [
  { field = "batch", max_len = 10 },
  { field = "production_date", encrypted = true },
]
"#;

const URL_TEMPLATE: &str = r#"
id = "sauce-case"
issuer = "GZ0A"
number = 7
level = "case"
product_code = "SAUCE-500"
serial_capacity = 100000
code_length = 23
cipher = "sm4"
output = { form = "url", base = "https://t.example.com" }
fields = [{ field = "batch", max_len = 8, encrypted = true }]
"#;

struct Box {
    _dir: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
}

impl Box {
    fn new(device: &str) -> Box {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("box");
        edge_ok(&["init", "--dir", p(&root), "--device", device]);
        let config = root.join("edge.toml");
        Box {
            _dir: dir,
            root,
            config,
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let f = self.root.join(name);
        std::fs::write(&f, text).unwrap();
        f
    }

    fn codes(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["codes"];
        all.extend_from_slice(&args[..1]);
        if args[0] == "template" {
            all.push(args[1]);
            all.extend_from_slice(&["--config", p(&self.config)]);
            all.extend_from_slice(&args[2..]);
        } else {
            all.extend_from_slice(&["--config", p(&self.config)]);
            all.extend_from_slice(&args[1..]);
        }
        edge(&all)
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.codes(args);
        assert!(o.status.success(), "codes {args:?}: {}", stderr(&o));
        stdout(&o)
    }

    fn head(&self) -> u64 {
        let s = edge_ok(&["status", "--config", p(&self.config), "--json"]);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        v["head_seq"].as_u64().unwrap()
    }

    fn add(&self, name: &str, text: &str) {
        let f = self.file(name, text);
        self.ok(&["template", "add", "--file", p(&f)]);
    }

    fn generate(
        &self,
        template: &str,
        extra: &[&str],
        count: u64,
        out: &Path,
    ) -> serde_json::Value {
        let n = count.to_string();
        let mut args = vec![
            "generate",
            "--template",
            template,
            "--count",
            &n,
            "--out",
            p(out),
            "--json",
        ];
        args.extend_from_slice(extra);
        serde_json::from_str(&self.ok(&args)).unwrap()
    }

    fn lookup(&self, code: &str) -> (bool, serde_json::Value, String) {
        let o = self.codes(&["lookup", code, "--json"]);
        let v = serde_json::from_str(stdout(&o).trim()).unwrap_or(serde_json::Value::Null);
        (o.status.success(), v, stderr(&o))
    }
}

fn refused(b: &Box, args: &[&str], needle: &str) {
    let before = b.head();
    let o = b.codes(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{args:?} should fail: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in: {err}"
    );
    assert_eq!(b.head(), before, "{args:?} recorded something");
}

fn csv_codes(path: &Path) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("serial,code"));
    lines
        .map(|l| {
            let (s, c) = l.split_once(',').unwrap();
            (s.parse().unwrap(), c.to_owned())
        })
        .collect()
}

#[test]
fn bad_templates_are_refused_and_nothing_is_recorded() {
    let b = Box::new("line-0001");
    let too_long = b.file(
        "too-long.toml",
        &DL_TEMPLATE.replace("code_length = 20", "code_length = 16"),
    );
    refused(
        &b,
        &["template", "add", "--file", p(&too_long)],
        "do not fit code_length 16",
    );
    let bad_gtin = b.file(
        "bad-gtin.toml",
        &DL_TEMPLATE.replace("6901234567892", "6901234567893"),
    );
    refused(
        &b,
        &["template", "add", "--file", p(&bad_gtin)],
        "GTIN 6901234567893 has check digit 3, the digits before it need 2",
    );
    let unknown_key = b.file("typo.toml", &format!("{DL_TEMPLATE}\ncolour = \"red\"\n"));
    refused(
        &b,
        &["template", "add", "--file", p(&unknown_key)],
        "colour",
    );
    assert_eq!(b.ok(&["template", "list", "--json"]).trim(), "[]");

    // A second template may not take the first one's number.
    b.add("dl.toml", DL_TEMPLATE);
    let clash = b.file(
        "clash.toml",
        &URL_TEMPLATE.replace("number = 7", "number = 1"),
    );
    refused(
        &b,
        &["template", "add", "--file", p(&clash)],
        "already belongs to template \"milk-250ml-unit\"",
    );
    // Generation refuses before allocating: missing field, bad batch, existing file.
    let out = b.root.join("x.csv");
    refused(
        &b,
        &[
            "generate",
            "--template",
            "milk-250ml-unit",
            "--batch",
            "B1",
            "--count",
            "5",
            "--out",
            p(&out),
        ],
        "needs a value for production_date",
    );
    refused(
        &b,
        &[
            "generate",
            "--template",
            "milk-250ml-unit",
            "--batch",
            "b-1",
            "--production-date",
            "2026-11-22",
            "--count",
            "5",
            "--out",
            p(&out),
        ],
        "batch \"b-1\"",
    );
    std::fs::write(&out, "keep me").unwrap();
    refused(
        &b,
        &[
            "generate",
            "--template",
            "milk-250ml-unit",
            "--batch",
            "B1",
            "--production-date",
            "2026-11-22",
            "--count",
            "5",
            "--out",
            p(&out),
        ],
        "already exists",
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    refused(
        &b,
        &[
            "generate",
            "--template",
            "nope",
            "--count",
            "5",
            "--out",
            p(&b.root.join("y.csv")),
        ],
        "no code template \"nope\"",
    );
    // Codes with allocations cannot be silently redefined.
    b.generate(
        "milk-250ml-unit",
        &["--batch", "B1", "--production-date", "2026-11-22"],
        3,
        &b.root.join("three.txt"),
    );
    let changed = b.file(
        "changed.toml",
        &DL_TEMPLATE.replace("cipher = \"aes\"", "cipher = \"sm4\""),
    );
    refused(
        &b,
        &["template", "add", "--file", p(&changed)],
        "already has codes allocated",
    );
}

#[test]
fn generate_lookup_disable_enable() {
    let b = Box::new("line-0002");
    b.add("dl.toml", DL_TEMPLATE);
    b.add("url.toml", URL_TEMPLATE);
    let list: serde_json::Value =
        serde_json::from_str(&b.ok(&["template", "list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    let vars = ["--batch", "B20261122", "--production-date", "2026-11-22"];
    let first = b.root.join("first.csv");
    let r1 = b.generate("milk-250ml-unit", &vars, 1000, &first);
    assert_eq!(
        (r1["first"].as_u64(), r1["last"].as_u64()),
        (Some(0), Some(999))
    );
    let second = b.root.join("second.csv");
    let r2 = b.generate("milk-250ml-unit", &vars, 500, &second);
    assert_eq!(
        (r2["first"].as_u64(), r2["last"].as_u64()),
        (Some(1000), Some(1499))
    );
    let mut all: Vec<(u64, String)> = csv_codes(&first);
    all.extend(csv_codes(&second));
    assert_eq!(all.len(), 1500);
    let distinct: HashSet<&String> = all.iter().map(|(_, c)| c).collect();
    assert_eq!(distinct.len(), 1500, "a code was generated twice");
    let serials: Vec<u64> = all.iter().map(|(s, _)| *s).collect();
    assert_eq!(serials, (0..1500).collect::<Vec<_>>());
    for (_, c) in &all {
        assert!(
            c.starts_with("https://id.example.com/01/06901234567892/10/B20261122/21/GZ0A01"),
            "{c}"
        );
    }

    // Lookup: decodes back to the serial, the batch and the (encrypted) production date.
    let (serial, code) = &all[1234];
    let (ok, info, err) = b.lookup(code);
    assert!(ok, "{err}");
    assert_eq!(info["serial"].as_u64(), Some(*serial));
    assert_eq!(info["batch"], "B20261122");
    assert_eq!(info["vars"]["production_date"], "2026-11-22");
    assert_eq!(info["level"], "unit");
    assert_eq!(info["template"], "milk-250ml-unit");
    assert_eq!(info["owner"], "line-0002");
    assert_eq!(info["disabled"], false);

    // Disable that code by scanning it, then a range; enable one back.
    b.ok(&["disable", "--code", code, "--reason", "标签破损"]);
    let (ok, info, err) = b.lookup(code);
    assert!(!ok, "a disabled code must not look up as active: {err}");
    assert_eq!(info["disabled"], true);
    b.ok(&[
        "disable",
        "--template",
        "milk-250ml-unit",
        "--from",
        "10",
        "--to",
        "19",
    ]);
    b.ok(&[
        "enable",
        "--template",
        "milk-250ml-unit",
        "--from",
        "15",
        "--to",
        "15",
    ]);
    for (s, c) in &all[8..22] {
        let (_, info, _) = b.lookup(c);
        let want = (10..=19).contains(s) && *s != 15;
        assert_eq!(info["disabled"], want, "serial {s}");
    }
    b.ok(&["enable", "--code", code]);
    assert!(b.lookup(code).0);
    // Serials never allocated cannot be disabled.
    refused(
        &b,
        &[
            "disable",
            "--template",
            "milk-250ml-unit",
            "--from",
            "1400",
            "--to",
            "1600",
        ],
        "never allocated",
    );

    // The SM4 public-URL template: TXT and ZIP.
    let txt = b.root.join("cases.txt");
    b.generate("sauce-case", &["--batch", "L0703"], 200, &txt);
    let lines: Vec<String> = std::fs::read_to_string(&txt)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 200);
    assert!(lines[0].starts_with("https://t.example.com/c/GZ0A07"));
    let (ok, info, err) = b.lookup(&lines[199]);
    assert!(ok, "{err}");
    assert_eq!(
        (info["serial"].as_u64(), &info["batch"]),
        (Some(199), &serde_json::json!("L0703"))
    );
    // The bare token, typed in lower case, is the same code.
    let token = lines[7].rsplit('/').next().unwrap().to_ascii_lowercase();
    assert_eq!(b.lookup(&token).1["serial"].as_u64(), Some(7));

    let zip_path = b.root.join("cases.zip");
    b.generate("sauce-case", &["--batch", "L0704"], 300, &zip_path);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    assert_eq!(z.len(), 1);
    let mut inner = String::new();
    std::io::Read::read_to_string(&mut z.by_index(0).unwrap(), &mut inner).unwrap();
    let rows: Vec<&str> = inner.lines().collect();
    assert_eq!(rows.len(), 301);
    assert!(
        rows[1].starts_with("200,https://t.example.com/c/GZ0A07"),
        "{}",
        rows[1]
    );
    assert_eq!(
        b.lookup(rows[300].split_once(',').unwrap().1).1["batch"],
        "L0704"
    );
}

#[test]
fn foreign_forged_and_malformed_codes_are_rejected() {
    let a = Box::new("line-0003");
    a.add("dl.toml", DL_TEMPLATE);
    let other = Box::new("line-0004");
    other.add("sz.toml", &DL_TEMPLATE.replace("GZ0A", "SZ01"));
    let vars = ["--batch", "B1", "--production-date", "2026-11-22"];
    let mine = a.root.join("mine.txt");
    a.generate("milk-250ml-unit", &vars, 5, &mine);
    let theirs = other.root.join("theirs.txt");
    other.generate("milk-250ml-unit", &vars, 5, &theirs);
    let their_code = std::fs::read_to_string(&theirs)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let (ok, v, err) = a.lookup(&their_code);
    assert!(!ok);
    assert_eq!(v["rejected"], "foreign", "{err}");
    assert!(err.contains("another enterprise (issuer SZ01)"), "{err}");

    // Same issuer and template on another box (other key): does not decode here.
    let twin = Box::new("line-0005");
    twin.add("dl.toml", DL_TEMPLATE);
    let twin_out = twin.root.join("twin.txt");
    twin.generate("milk-250ml-unit", &vars, 5, &twin_out);
    let twin_code = std::fs::read_to_string(&twin_out)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let (ok, v, err) = a.lookup(&twin_code);
    assert!(!ok);
    assert_eq!(v["rejected"], "unknown", "{err}");

    // A real code of ours whose serial was never issued: take serial 5 (only 0..=4 exist).
    // Not producible without the key, so instead check an issued-but-typoed code: malformed.
    let my_code = std::fs::read_to_string(&mine)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let mut typo = my_code.clone().into_bytes();
    let n = typo.len();
    typo[n - 3] = if typo[n - 3] == b'2' { b'3' } else { b'2' };
    let (ok, v, _) = a.lookup(std::str::from_utf8(&typo).unwrap());
    assert!(!ok);
    assert_eq!(v["rejected"], "malformed");
    let (ok, v, _) = a.lookup("https://weixin.qq.com/r/abc");
    assert!(!ok);
    assert_eq!(v["rejected"], "malformed");
    // A template number this issuer does not have.
    let t7 = other.root.join("t7.toml");
    std::fs::write(&t7, URL_TEMPLATE).unwrap();
    other.ok(&["template", "add", "--file", p(&t7)]);
    let t7_out = other.root.join("t7.txt");
    other.generate("sauce-case", &["--batch", "L1"], 1, &t7_out);
    let code7 = std::fs::read_to_string(&t7_out).unwrap().trim().to_owned();
    let (ok, v, _) = a.lookup(&code7);
    assert!(!ok);
    assert_eq!(v["rejected"], "unknown_template");
}

/// Serials are allocated (durably) before the file is written: a box killed mid-export never
/// hands the same serials out again.
#[test]
fn serials_are_never_reissued_after_sigkill() {
    let b = Box::new("line-0006");
    b.add("dl.toml", DL_TEMPLATE);
    let big = b.root.join("big.txt");
    let mut child = Command::new(BIN)
        .args([
            "codes",
            "generate",
            "--config",
            p(&b.config),
            "--template",
            "milk-250ml-unit",
            "--batch",
            "B1",
            "--production-date",
            "2026-11-22",
            "--count",
            "50000000",
            "--out",
            p(&big),
        ])
        .spawn()
        .unwrap();
    // Wait until the allocation is committed (the pool shows it), then kill.
    let mut allocated = 0;
    for _ in 0..600 {
        let list: serde_json::Value =
            serde_json::from_str(&b.ok(&["template", "list", "--json"])).unwrap();
        allocated = list[0]["allocated"].as_u64().unwrap();
        if allocated > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();
    assert_eq!(allocated, 50_000_000);
    assert!(
        !big.exists(),
        "a half export must not appear under the final name"
    );
    let next = b.root.join("next.csv");
    let r = b.generate(
        "milk-250ml-unit",
        &["--batch", "B1", "--production-date", "2026-11-22"],
        10,
        &next,
    );
    assert_eq!(r["first"].as_u64(), Some(50_000_000));
    edge_ok(&[
        "ledger",
        "verify",
        "--db",
        p(&b.root.join("ledger.sqlite3")),
    ]);
}

//! 电子秤标签 into the ledger: the owner pushes the PLU keys to the (simulated) Dahua TM, the
//! scale prints labels for what is on its platter, the (simulated) scanner reads them at the
//! counter, and the sale screen in real headless Chromium turns them into ticket lines. An
//! unknown item code and a corrupted label are refused on screen with nothing added; the same
//! label scanned again warns instead of adding. The printed ticket's ledger entry carries the
//! labels' weights and amounts. A second test posts tampered labels straight to the API.
//! Screenshots go to `target/ui-screenshots/`.

mod ui_support;

use device_drivers::manager::{DeviceConfig, ScannerDeviceConfig};
use device_drivers::scanner::ScannerProtocol;
use device_drivers::scanner::sim::{ScannerSimOptions, run_scanner_sim};
use device_drivers::sim::SimListen;
use serde_json::json;
use std::time::Duration;
use trace_core::event::SaleTicket;
use trace_core::label::{Label, LabelError, LabelLayout, Measure};
use trace_core::{Fen, Grams};
use ui_support::*;

/// `text` with the digit at `pos` changed (a smudge the check digit must catch).
fn corrupt(text: &str, pos: usize) -> String {
    let mut b = text.as_bytes().to_vec();
    b[pos] = if b[pos] == b'9' { b'0' } else { b[pos] + 1 };
    String::from_utf8(b).unwrap()
}

fn label(measure: Measure, item: u32, amount: u32) -> String {
    let l = LabelLayout::default();
    l.encode(&Label {
        flag: l.flag_for(measure).unwrap(),
        item,
        measure,
        amount,
    })
    .unwrap()
}

fn last_sale(stall: &StallBox) -> SaleTicket {
    let body: String = stall
        .read()
        .query_row(
            "SELECT body FROM entries WHERE kind = 'sale_ticket' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanned_scale_labels_become_one_ticket_in_the_ledger() {
    let mut stall = start_box(BoxSetup {
        dahua: true,
        ..BoxSetup::default()
    })
    .await;
    // 资料 → 下发到电子秤: the keys the labels will name.
    let owner = login_cookie(&stall.base, OWNER_PIN).await;
    let (s, v) = post_json(&stall.base, "/api/scale/push", &owner, json!({})).await;
    assert_eq!(s, 200, "{v}");
    let layout = LabelLayout::default();
    let dahua = stall.dahua.as_ref().unwrap();
    // Key 1 猪肉 (library code 0101 → item 101), 812 g, a weight label.
    dahua.update(|s| s.weight_grams = 812);
    let pork = dahua
        .print_label(1, Measure::Weight, &layout)
        .expect("a label for key 1");
    // Key 2 菜心 (no code → item 2), 1.25 kg at 9.00/kg, a price label: 11.25.
    dahua.update(|s| s.weight_grams = 1_250);
    let greens = dahua
        .print_label(2, Measure::Price, &layout)
        .expect("a label for key 2");
    assert_eq!(
        (
            layout.parse(&pork).unwrap().item,
            layout.parse(&greens).unwrap().amount
        ),
        (101, 1_125)
    );
    // Another stall's scale (item 9 is no key here), and a smudged copy of the pork label.
    let unknown = label(Measure::Weight, 9, 500);
    let smudged = corrupt(&pork, 7);
    assert_eq!(layout.parse(&smudged), Err(LabelError::CheckDigit));

    // The counter's scanner reads them in turn, over and over (a label scanned again must
    // not be added again).
    let scanner = run_scanner_sim(
        ScannerProtocol::SerialLine,
        SimListen::Tcp(([127, 0, 0, 1], 0).into()),
        ScannerSimOptions {
            codes: vec![pork.clone(), unknown, greens.clone(), smudged],
            interval: Duration::from_millis(450),
            repeat: true,
            ..ScannerSimOptions::default()
        },
    )
    .await
    .unwrap();
    stall
        .opts
        .ui
        .devices
        .push(DeviceConfig::SerialLine(ScannerDeviceConfig {
            name: "counter-scanner".into(),
            connect: scanner.uri().parse().unwrap(),
            options: Default::default(),
        }));
    stall.restart().await;

    let b = browser(1280, 800).await;
    b.login(&stall.base, OWNER_PIN).await;
    let before = stall.head();
    b.until(
        "both labels on the ticket",
        &format!(
            "document.querySelector('#lines .line[data-label=\"{pork}\"]') && \
             document.querySelector('#lines .line[data-label=\"{greens}\"]')"
        ),
    )
    .await;
    let lines = "document.querySelectorAll('#lines .line').length";
    b.until(
        "the unknown item refused",
        "document.querySelector('#label-msg').dataset.key === 'err_label_unknown'",
    )
    .await;
    assert_eq!(b.js(lines).await, 2, "an unknown label adds nothing");
    assert!(
        b.js("document.querySelector('#label-msg').textContent")
            .await
            .as_str()
            .unwrap()
            .contains("9"),
        "the refusal names the code"
    );
    b.shot("label-01-unknown-refused-zh-CN").await;
    b.until(
        "the smudged label refused",
        "document.querySelector('#label-msg').dataset.key === 'err_label_check'",
    )
    .await;
    assert_eq!(b.js(lines).await, 2, "a corrupted label adds nothing");
    b.shot("label-02-check-digit-refused-zh-CN").await;
    b.until(
        "the second scan of a label warns",
        "document.querySelector('#label-msg').dataset.key === 'label_again'",
    )
    .await;
    assert_eq!(
        b.js(lines).await,
        2,
        "a label scanned twice is not added twice"
    );
    b.shot("label-03-scanned-twice-zh-CN").await;
    assert_eq!(
        b.js("document.querySelector('#total').textContent").await,
        "38.53"
    );
    assert_eq!(stall.head(), before, "nothing is recorded before 打印");

    let mut printed = stall.printer.subscribe();
    b.click("#print").await;
    b.until(
        "the sale recorded",
        "document.querySelector('#last-sale').dataset.code",
    )
    .await;
    let url = b
        .js("document.querySelector('#last-sale').dataset.url")
        .await;
    let receipt = next_printed(&mut printed).await.expect("a printed receipt");
    let text = receipt.text.join("\n");
    for want in ["猪肉", "菜心", "27.28", "11.25", "38.53"] {
        assert!(text.contains(want), "receipt lacks {want}:\n{text}");
    }
    let png = receipt.png_path.clone().expect("a rendered receipt");
    assert_eq!(qr_texts(&png), vec![url.as_str().unwrap().to_owned()]);

    // The ledger entry: two lines, with the labels' weights and amounts.
    assert_eq!(stall.count("sale_ticket"), 1);
    let t = last_sale(&stall);
    // The scanner repeats its labels from before the page logs in, so either may come first:
    // compare in product order.
    let mut got: Vec<_> = t
        .lines
        .iter()
        .map(|l| (l.product.as_str(), l.grams, l.unit_price, l.amount))
        .collect();
    got.sort_by_key(|g| g.0);
    assert_eq!(
        got,
        vec![
            // 812 g at 16.80/斤.
            ("猪肉", Some(Grams(812)), Fen(1_680), Fen(2_728)),
            // The label's 11.25; the weight worked back from 4.50/斤.
            ("菜心", Some(Grams(1_250)), Fen(450), Fen(1_125)),
        ]
    );
    assert_eq!(t.total, Fen(3_853));
    let pork_line = t.lines.iter().find(|l| l.product == "猪肉").unwrap();
    assert_eq!(pork_line.batch.as_deref(), Some("JN-20261121-007"));
    assert_eq!(pork_line.product_code.as_deref(), Some("0101"));

    b.viewport(1024, 600).await;
    b.until(
        "a label line on the next ticket",
        "document.querySelectorAll('#lines .line.from-label').length >= 1",
    )
    .await;
    b.shot("label-04-next-ticket-1024x600").await;
    b.c.clone().close().await.unwrap();
    drop(scanner);
    stall.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_label_changes_nothing() {
    let stall = start_box(BoxSetup::default()).await;
    let cookie = login_cookie(&stall.base, STAFF_PIN).await;
    let pork = label(Measure::Weight, 101, 812);
    let before = stall.head();

    // The preview reads a good label and refuses a damaged one.
    let (s, v) = post_json(&stall.base, "/api/label", &cookie, json!({"text": pork})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["line"]["product"].as_str(),
            v["line"]["grams"].as_i64(),
            v["line"]["amount"].as_i64()
        ),
        (Some("猪肉"), Some(812), Some(2_728))
    );
    for (text, key) in [
        (corrupt(&pork, 11), "err_label_check"),
        (label(Measure::Weight, 9, 812), "err_label_unknown"),
        ("6901234567892".to_owned(), "err_label_format"),
    ] {
        let (s, v) = post_json(&stall.base, "/api/label", &cookie, json!({"text": text})).await;
        assert_eq!(s, 422, "{text}: {v}");
        assert_eq!(v["errors"][0]["field"], "label");
        assert_eq!(v["errors"][0]["key"], key, "{text}");
    }

    // Printing a ticket whose label was altered, or whose line says something else than its
    // label, is refused next to that line and records nothing.
    let sale = |lines: serde_json::Value| json!({"lines": lines, "payment": "cash"});
    for (lines, key) in [
        (
            json!([{"product": "猪肉", "grams": 812, "label": corrupt(&pork, 9)}]),
            "err_label_check",
        ),
        (
            json!([{"product": "猪肉", "grams": 1_812, "label": pork}]),
            "err_label_mismatch",
        ),
        (
            json!([{"product": "菜心", "grams": 812, "label": pork}]),
            "err_label_mismatch",
        ),
        (
            json!([{"product": "猪肉", "grams": 812, "label": pork, "unit_price": "1.00"}]),
            "err_label_mismatch",
        ),
    ] {
        let (s, v) = post_json(&stall.base, "/api/sale", &cookie, sale(lines.clone())).await;
        assert_eq!(s, 422, "{lines}: {v}");
        assert_eq!(v["errors"][0]["field"], "lines[0].label", "{v}");
        assert_eq!(v["errors"][0]["key"], key, "{lines}");
    }
    assert_eq!(stall.head(), before, "a refused label records nothing");
    assert_eq!(stall.count("sale_ticket"), 0);

    // The genuine label prints, with its own weight and amount.
    let (s, v) = post_json(
        &stall.base,
        "/api/sale",
        &cookie,
        sale(json!([{"product": "猪肉", "grams": 812, "label": pork}])),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let t = last_sale(&stall);
    assert_eq!(
        (t.lines[0].grams, t.lines[0].amount),
        (Some(Grams(812)), Fen(2_728))
    );
    stall.stop().await;
}

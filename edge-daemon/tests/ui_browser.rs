//! The stall UI in real headless Chromium: a sale by weight with the simulated scale and
//! printer (the receipt's QR decodes to the ticket's public URL), paper out and 补打, a credit
//! sale then a repayment, the language switch, and a purchase filled by scanning an upstream
//! receipt with the network unplugged (no broker, no cloud: nothing but this box runs).
//! Screenshots of every screen go to `target/ui-screenshots/`.

mod ui_support;

use device_drivers::printer::PrinterStatus;
use trace_core::fragment::{DirectoryKey, FragmentLine, KeyDirectory, TicketFragment};
use trace_core::{Fen, PriceUnit, Timestamp};
use ui_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sale_by_weight_prints_a_receipt_whose_qr_is_the_ticket_url() {
    let stall = start_box(BoxSetup::default()).await;
    stall.scale.update(|s| s.weight_grams = 812);
    let b = browser(1280, 800).await;
    b.c.goto(&stall.base).await.unwrap();
    b.find("#login .key[data-key='1']").await;
    b.shot("01-login-1280x800").await;
    b.login(&stall.base, OWNER_PIN).await;
    // The weight arrives pushed from the scale (SSE), stable.
    b.until("stable 812 g", "document.querySelector('#weight').dataset.grams === '812' && document.querySelector('#weight').dataset.ok === '1'").await;
    b.shot("02-sale-1280x800").await;

    let mut printed = stall.printer.subscribe();
    // Three taps after the weight settled: product, payment, print.
    b.click("button.product[data-product='猪肉']").await;
    b.click("button.pay[data-pay='wechat_pay']").await;
    b.click("#print").await;
    b.until(
        "the sale recorded",
        "document.querySelector('#last-sale').dataset.code",
    )
    .await;
    let code = b
        .js("document.querySelector('#last-sale').dataset.code")
        .await;
    let url = b
        .js("document.querySelector('#last-sale').dataset.url")
        .await;
    let (code, url) = (
        code.as_str().unwrap().to_owned(),
        url.as_str().unwrap().to_owned(),
    );
    assert!(
        url.starts_with(&format!("{PUBLIC_BASE}/t/{code}#")),
        "{url}"
    );
    assert_eq!(
        b.js("document.querySelector('#last-sale').dataset.printed")
            .await,
        "1"
    );
    b.shot("03-sale-done-1280x800").await;

    let receipt = next_printed(&mut printed).await.expect("a printed receipt");
    let png = receipt
        .png_path
        .clone()
        .expect("the simulator renders PNGs");
    println!("receipt: {}", png.display());
    let qrs = qr_texts(&png);
    assert_eq!(qrs, vec![url.clone()], "the QR in {}", png.display());
    let text = receipt.text.join("\n");
    for want in ["江南果菜综合市场", "陈记鲜档", "猪肉", "27.28"] {
        assert!(text.contains(want), "receipt lacks {want}:\n{text}");
    }
    // The fragment is the signed copy of the lines: the buyer's box can verify it.
    let frag = url.split_once('#').unwrap().1;
    let dir = KeyDirectory {
        keys: vec![DirectoryKey {
            device: stall.device.clone(),
            alg: "ed25519".into(),
            public_key: hex::encode(
                trace_core::wire::sign::SignKey::ed25519_from_seed(&[8u8; 32])
                    .verify_key()
                    .to_bytes(),
            ),
            device_no: Some(440_101),
            name: None,
        }],
    };
    let v = TicketFragment::verify(frag, Some(&code), &dir).unwrap();
    assert_eq!(v.ticket.lines[0].quantity, 812);
    assert_eq!(v.ticket.lines[0].batch.as_deref(), Some("JN-20261121-007"));

    // In the ledger: the sale, its code, the FIFO batch, the payment method.
    let body: String = stall
        .read()
        .query_row(
            "SELECT e.body FROM entries e JOIN ticket_codes t ON t.seq = e.seq WHERE t.ticket_code = ?1",
            [&code],
            |r| r.get(0),
        )
        .unwrap();
    let sale: trace_core::event::SaleTicket = serde_json::from_str(&body).unwrap();
    assert_eq!(sale.lines[0].grams, Some(trace_core::Grams(812)));
    assert_eq!(sale.total, Fen(2_728));
    assert_eq!(sale.payment, trace_core::event::PaymentMethod::WechatPay);

    // Paper out: the ticket is still issued, marked unprinted; 补打 prints it once paper is in.
    stall.printer.set_state(PrinterStatus {
        paper_out: true,
        ..PrinterStatus::default()
    });
    stall.scale.update(|s| s.weight_grams = 1_250);
    b.until("1250 g", "document.querySelector('#weight').dataset.grams === '1250' && document.querySelector('#weight').dataset.ok === '1'").await;
    b.click("button.product[data-product='菜心']").await;
    b.click("#print").await;
    b.until("an unprinted sale", &format!("document.querySelector('#last-sale').dataset.code && document.querySelector('#last-sale').dataset.code !== '{code}'")).await;
    assert_eq!(
        b.js("document.querySelector('#last-sale').dataset.printed")
            .await,
        "0"
    );
    b.until(
        "the printer light",
        "document.querySelector('#printer').dataset.state === 'paper_out'",
    )
    .await;
    b.shot("04-paper-out-1280x800").await;
    assert_eq!(
        stall.count("sale_ticket"),
        2,
        "the unprinted ticket is issued"
    );
    stall.printer.set_state(PrinterStatus::default());
    let mut printed = stall.printer.subscribe();
    b.click("#reprint").await;
    let again = next_printed(&mut printed).await.expect("the reprint");
    assert!(
        again.text.iter().any(|l| l.contains("补打")),
        "{:?}",
        again.text
    );
    b.until(
        "printed after 补打",
        "document.querySelector('#last-sale').dataset.printed === '1'",
    )
    .await;
    assert_eq!(stall.count("sale_ticket"), 2, "a reprint is not a new sale");

    // The small screen.
    b.viewport(1024, 600).await;
    b.shot("05-sale-1024x600").await;
    b.click("nav .tab[data-tab='ledger']").await;
    b.until(
        "the ledger lists both",
        "document.querySelectorAll('#tickets tr').length === 2",
    )
    .await;
    b.shot("06-ledger-1024x600").await;
    b.c.clone().close().await.unwrap();
    stall.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credit_sale_then_repayment_and_language_switch() {
    let stall = start_box(BoxSetup::default()).await;
    stall.scale.update(|s| s.weight_grams = 1_000);
    let b = browser(1280, 800).await;
    b.login(&stall.base, STAFF_PIN).await;
    // Staff see no report tab, and the server refuses reports to them too.
    assert_eq!(
        b.js("getComputedStyle(document.querySelector(\"nav .tab[data-tab='report']\")).display")
            .await,
        "none"
    );
    let staff = login_cookie(&stall.base, STAFF_PIN).await;
    let (s, _, _) = http(
        &stall.base,
        "GET",
        "/api/report/daily",
        Some(&staff),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(s, 403);

    // Credit without a customer is refused next to the customer field; nothing recorded.
    b.until("stable 1000 g", "document.querySelector('#weight').dataset.ok === '1' && document.querySelector('#weight').dataset.grams === '1000'").await;
    let before = stall.head();
    b.click("button.product[data-product='猪肉']").await;
    b.click("button.pay[data-pay='credit']").await;
    b.click("#print").await;
    b.until(
        "the refusal",
        "document.querySelector('.err[data-for=\"customer\"]')",
    )
    .await;
    assert_eq!(stall.head(), before, "a refused sale records nothing");
    b.shot("07-credit-needs-customer").await;

    b.find("#new-customer")
        .await
        .send_keys("李姐")
        .await
        .unwrap();
    b.click("#add-customer").await;
    b.until(
        "李姐 selected",
        "document.querySelector('#customer').selectedOptions[0].textContent === '李姐'",
    )
    .await;
    b.click("#print").await;
    b.until(
        "the credit sale",
        "document.querySelector('#last-sale').dataset.code",
    )
    .await;

    b.click("nav .tab[data-tab='credit']").await;
    b.until("李姐 owes 33.60", "document.querySelector('#balances tr[data-customer=\"李姐\"]') && document.querySelector('#balances tr[data-customer=\"李姐\"]').dataset.owed === '33.60'").await;
    b.shot("08-credit-owed").await;
    b.find("#repay-amount").await.send_keys("20").await.unwrap();
    b.click("#repay").await;
    b.until(
        "李姐 owes 13.60",
        "document.querySelector('#balances tr[data-customer=\"李姐\"]').dataset.owed === '13.60'",
    )
    .await;
    b.shot("09-credit-after-repayment").await;
    assert_eq!(stall.count("repayment"), 1);

    // Language switch: the same screen in English, then Traditional Chinese.
    b.click("header #lang-en").await;
    b.until(
        "English",
        "document.querySelector(\"nav .tab[data-tab='sale']\").textContent === 'Sale'",
    )
    .await;
    assert_eq!(
        b.js("document.querySelector('#repay').textContent").await,
        "Receive"
    );
    // The status message shown before the switch follows the language too.
    assert_eq!(
        b.js("document.querySelector('#repay-msg').textContent")
            .await,
        "Saved"
    );
    b.shot("10-lang-en").await;
    b.click("header #lang-zh-HK").await;
    b.until(
        "繁體",
        "document.querySelector(\"nav .tab[data-tab='sale']\").textContent === '開單'",
    )
    .await;
    b.click("nav .tab[data-tab='sale']").await;
    assert_eq!(
        b.js("document.querySelector('#print').textContent").await,
        "列印"
    );
    b.shot("11-lang-zh-HK-sale").await;
    b.c.clone().close().await.unwrap();
    stall.stop().await;
}

fn upstream_url(alter: bool) -> (String, String) {
    let (device, key, codec) = upstream_key();
    let code = codec.mint(31).unwrap().to_string();
    let t = TicketFragment {
        device,
        code: code.clone(),
        at: Timestamp(1_795_400_000_000),
        total: Fen(58_800),
        fees: Vec::new(),
        lines: vec![FragmentLine {
            product: "猪肉".into(),
            price_unit: PriceUnit::Kg,
            quantity: 24_500,
            unit_price: Fen(2_400),
            amount: Fen(58_800),
            batch: Some("WS-20261122-031".into()),
            origin: Some("广东省江门市台山市".into()),
        }],
    };
    let mut frag = t.sign(&key).unwrap();
    if alter {
        // Someone edits the weight in the QR: re-encode with 30 kg, keep the old signature.
        let mut forged = t.clone();
        forged.lines[0].quantity = 30_000;
        let other = forged.sign(&key).unwrap();
        let good = trace_core::fragment::b64_decode(&frag).unwrap();
        let bad = trace_core::fragment::b64_decode(&other).unwrap();
        // Signature of the original, payload of the edit.
        let mut spliced = good[..8 + 64].to_vec();
        spliced.extend_from_slice(&bad[8 + 64..]);
        frag = trace_core::fragment::b64_encode(&spliced);
    }
    (format!("https://trace.example.cn/t/{code}#{frag}"), code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchase_filled_by_scanning_an_upstream_receipt_offline() {
    let (device, key, _) = upstream_key();
    let (good, code) = upstream_url(false);
    let (altered, _) = upstream_url(true);
    let stall = start_box(BoxSetup {
        scans: vec![altered, good],
        key_directory: Some(KeyDirectory {
            keys: vec![DirectoryKey {
                device,
                alg: "ed25519".into(),
                public_key: hex::encode(key.verify_key().to_bytes()),
                device_no: Some(440_107),
                name: Some("江南批发 B-07 档".into()),
            }],
        }),
        ..BoxSetup::default()
    })
    .await;
    let b = browser(1280, 800).await;
    b.login(&stall.base, OWNER_PIN).await;
    b.click("nav .tab[data-tab='purchase']").await;
    b.shot("12-purchase-empty").await;
    b.until(
        "the altered QR refused",
        "document.querySelector('#scan-result').dataset.key === 'scan_forged'",
    )
    .await;
    b.shot("13-purchase-scan-forged").await;
    b.until(
        "the genuine QR accepted",
        "document.querySelector('#scan-result').dataset.key === 'scan_ok'",
    )
    .await;
    b.shot("14-purchase-scan-filled").await;
    assert_eq!(
        b.js("document.querySelector('[name=batch]').value").await,
        "WS-20261122-031"
    );
    assert_eq!(
        b.js("document.querySelector('[name=weight]').value").await,
        "24.500"
    );
    assert_eq!(
        b.js("document.querySelector('[name=supplier]').value")
            .await,
        "江南批发 B-07 档"
    );
    assert_eq!(
        b.js("document.querySelector('[name=upstream_code]').value")
            .await,
        code
    );

    // A malformed certificate number is refused next to its field; nothing recorded.
    let before = stall.head();
    b.find("[name=cert_compliance]")
        .await
        .send_keys("HG#12")
        .await
        .unwrap();
    b.click("#save-purchase").await;
    b.until(
        "the certificate refusal",
        "document.querySelector('.err[data-for=\"certificates[0].number\"]')",
    )
    .await;
    assert_eq!(stall.head(), before);
    b.shot("15-purchase-bad-certificate").await;
    // The next scan may refill the form; the certificate field is ours.
    b.find("[name=cert_compliance]")
        .await
        .clear()
        .await
        .unwrap();
    b.find("[name=cert_compliance]")
        .await
        .send_keys("HGZ-4401-2026-009931")
        .await
        .unwrap();
    b.click("#save-purchase").await;
    b.until(
        "saved",
        "document.querySelector('#purchase-msg').dataset.seq",
    )
    .await;
    let body: String = stall
        .read()
        .query_row(
            "SELECT body FROM entries WHERE kind = 'purchase' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let p: trace_core::event::Purchase = serde_json::from_str(&body).unwrap();
    assert_eq!(p.upstream_code.as_deref(), Some(code.as_str()));
    assert_eq!(p.grams, Some(trace_core::Grams(24_500)));
    assert_eq!(p.amount, Fen(58_800));
    assert_eq!(p.certificates[0].number, "HGZ-4401-2026-009931");
    b.c.clone().close().await.unwrap();
    stall.stop().await;
}

//! Issue 5, second part, in real headless Chromium: the 台账 filter and its CSV export, a
//! correction of a sale's source lots, 收支 entry and the daily summary, and the 抽检公示
//! board fed by a downlink document. Screenshots go to `target/ui-screenshots/`.

mod ui_support;

use serde_json::json;
use trace_core::DownlinkDoc;
use trace_core::wire::DocType;
use ui_support::*;

/// A second pork lot from another supplier, recorded after the seeded one.
async fn second_pork_lot(base: &str, owner: &str) -> u64 {
    let (s, v) = post_json(
        base,
        "/api/purchase",
        owner,
        json!({"supplier": "从化黑猪场", "product": "猪肉", "batch": "CH-20261122-01", "weight": "30",
               "amount": "600.00", "origin_code": "440117"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["seq"].as_u64().unwrap()
}

async fn sell(base: &str, cookie: &str, product: &str, grams: i64, payment: &str) -> u64 {
    let (s, v) = post_json(
        base,
        "/api/sale",
        cookie,
        json!({"lines": [{"product": product, "grams": grams}], "payment": payment}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["seq"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_filter_csv_export_and_source_correction() {
    let stall = start_box(BoxSetup::default()).await;
    let owner = login_cookie(&stall.base, OWNER_PIN).await;
    let lot2 = second_pork_lot(&stall.base, &owner).await;
    // 0.812 kg of pork: FIFO takes it from the seeded lot (seq 1, 江南批发 12 号档).
    let sale = sell(&stall.base, &owner, "猪肉", 812, "cash").await;
    sell(&stall.base, &owner, "菜心", 1_000, "wechat_pay").await;

    let b = browser(1280, 800).await;
    b.login(&stall.base, OWNER_PIN).await;
    b.click("nav .tab[data-tab='ledger']").await;
    b.until(
        "purchases and sales listed",
        "document.querySelectorAll('#ledger-rows tr[data-kind]').length === 4",
    )
    .await;
    // Filter: the seeded supplier finds its purchase and the pork sold from it, nothing else.
    b.js("(() => { const s = document.querySelector('#ledger-filter [name=supplier]'); s.value = '江南批发 12 号档'; return 1; })()").await;
    b.click("#ledger-search").await;
    b.until(
        "the supplier's purchase and the sale from it",
        "document.querySelectorAll('#ledger-rows tr[data-kind]').length === 2",
    )
    .await;
    let kinds = b
        .js("Array.from(document.querySelectorAll('#ledger-rows tr[data-kind]')).map(r => r.dataset.kind + ':' + r.dataset.product).sort()")
        .await;
    assert_eq!(kinds, json!(["purchase:猪肉", "sale:猪肉"]));
    let src = b
        .js("document.querySelector('#ledger-rows tr[data-kind=sale] td.src').textContent")
        .await;
    assert!(
        src.as_str()
            .unwrap()
            .contains("JN-20261121-007 / 江南批发 12 号档 0.812"),
        "{src}"
    );
    b.shot("20-ledger-filter-1280x800").await;

    // CSV of exactly that filter, as the page asks for it.
    b.click("#ledger-csv").await;
    b.until(
        "the CSV link",
        "document.querySelector('#ledger-csv').dataset.href",
    )
    .await;
    let href = b
        .js("document.querySelector('#ledger-csv').dataset.href")
        .await;
    let href = href.as_str().unwrap().to_owned();
    let (status, headers, body) =
        http(&stall.base, "GET", &href, Some(&owner), "text/plain", b"").await;
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-disposition" && v.contains("ledger.csv"))
    );
    assert!(body.starts_with(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel");
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "header + 2 rows:\n{text}");
    assert!(
        lines[0].starts_with("\"类型\",\"时间\",\"品名\",\"批次号\",\"供应商/客户\""),
        "{}",
        lines[0]
    );
    let sale_row = lines.iter().find(|l| l.starts_with("\"销售\"")).unwrap();
    for want in [
        "\"猪肉\"",
        "\"0.812\"",
        "\"27.28\"",
        "\"现金\"",
        "JN-20261121-007/江南批发 12 号档 0.812kg",
    ] {
        assert!(sale_row.contains(want), "{want} not in {sale_row}");
    }
    let purchase_row = lines.iter().find(|l| l.starts_with("\"进货\"")).unwrap();
    for want in [
        "\"JN-20261121-007\"",
        "\"江南批发 12 号档\"",
        "\"50.000\"",
        "\"1176.00\"",
        "HGZ-4401-2026-001200",
        "粤A·D3100",
    ] {
        assert!(purchase_row.contains(want), "{want} not in {purchase_row}");
    }

    // The owner corrects the sale: 0.5 kg came from the new lot. A new entry, not an edit.
    let head = stall.head();
    b.click("#ledger-rows tr[data-kind=sale] button.fix").await;
    b.until(
        "the lots",
        "document.querySelectorAll('#sources-lots .lot').length === 2",
    )
    .await;
    b.js(&format!(
        "(() => {{ document.querySelector('#sources-lots .lot[data-lot=\"{lot2}\"] input').value = '0.5'; \
         document.querySelector('#sources-lots .lot[data-lot=\"1\"] input').value = '0.4'; return 1; }})()"
    ))
    .await;
    b.click("#sources-save").await;
    // 0.5 + 0.4 ≠ 0.812: refused next to the shares, nothing appended.
    b.until(
        "the refusal",
        "document.querySelector('#sources-panel .err[data-key=err_shares]')",
    )
    .await;
    assert_eq!(stall.head(), head);
    b.shot("21-ledger-correction-refused-1280x800").await;
    b.js("(() => { document.querySelector('#sources-lots .lot[data-lot=\"1\"] input').value = '0.312'; return 1; })()").await;
    b.click("#sources-save").await;
    b.until(
        "the panel closed",
        "document.querySelector('#sources-panel').classList.contains('hidden')",
    )
    .await;
    assert_eq!(stall.head(), head + 1);
    assert_eq!(stall.count("sale_attribution"), 1);
    // Now the second supplier's filter finds the sale too.
    b.js("(() => { const s = document.querySelector('#ledger-filter [name=supplier]'); s.value = '从化黑猪场'; return 1; })()").await;
    b.click("#ledger-search").await;
    b.until(
        "the corrected sale under the new supplier",
        "Array.from(document.querySelectorAll('#ledger-rows tr[data-kind=sale] td.src')).some(td => td.textContent.includes('CH-20261122-01 / 从化黑猪场 0.500'))",
    )
    .await;
    let (_, v) = get_json(&stall.base, &format!("/api/ledger/sale/{sale}/0"), &owner).await;
    let shares: Vec<(u64, i64, bool)> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["lot"].as_u64().unwrap(),
                s["grams"].as_i64().unwrap(),
                s["corrected"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(shares, vec![(1, 312, true), (lot2, 500, true)]);
    b.shot("22-ledger-corrected-1280x800").await;
    b.viewport(1024, 600).await;
    b.shot("23-ledger-1024x600").await;
    b.c.clone().close().await.unwrap();
    stall.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn income_expense_entry_and_daily_summary() {
    let stall = start_box(BoxSetup::default()).await;
    let owner = login_cookie(&stall.base, OWNER_PIN).await;
    sell(&stall.base, &owner, "猪肉", 812, "cash").await; // 27.28, income 销售 automatically
    sell(&stall.base, &owner, "菜心", 1_000, "wechat_pay").await; // 9.00
    // Credit is not income until repaid.
    let (s, _) = post_json(
        &stall.base,
        "/api/sale",
        &owner,
        json!({"lines": [{"product": "菜心", "grams": 500}], "payment": "credit", "customer_name": "王姨"}),
    )
    .await;
    assert_eq!(s, 200);

    let b = browser(1280, 800).await;
    b.login(&stall.base, OWNER_PIN).await;
    b.click("nav .tab[data-tab='report']").await;
    b.until(
        "the categories",
        "document.querySelector('#cash-cats .cat[data-cat=摊位费]')",
    )
    .await;
    b.click("#cash-cats .cat[data-cat=摊位费]").await;
    b.find("#cash-form [name=amount]")
        .await
        .send_keys("50")
        .await
        .unwrap();
    b.click("#cash-save").await;
    b.until("saved", "document.querySelector('#cash-msg').dataset.seq")
        .await;
    // The owner's own category, then used.
    b.find("#new-category")
        .await
        .send_keys("冰块")
        .await
        .unwrap();
    b.click("#add-category").await;
    b.until(
        "the new category",
        "document.querySelector('#cash-cats .cat.selected[data-cat=冰块]')",
    )
    .await;
    b.find("#cash-form [name=amount]")
        .await
        .send_keys("6.5")
        .await
        .unwrap();
    b.js("(() => { document.querySelector('#cash-form [name=payment]').value = 'wechat_pay'; return 1; })()").await;
    b.click("#cash-save").await;
    b.until(
        "the summary",
        "document.querySelector('#sum-expense').textContent === '56.50'",
    )
    .await;
    assert_eq!(
        b.js("document.querySelector('#sum-income').textContent")
            .await,
        "36.28"
    );
    assert_eq!(
        b.js("document.querySelector('#sum-net').textContent").await,
        "-20.22"
    );
    let cats = b
        .js("Array.from(document.querySelectorAll('#sum-category tr')).map(r => r.dataset.dir + ':' + r.dataset.key + ':' + r.dataset.fen)")
        .await;
    assert_eq!(
        cats,
        json!([
            "income:销售:3628",
            "expense:摊位费:5000",
            "expense:冰块:650"
        ])
    );
    let pays = b
        .js("Array.from(document.querySelectorAll('#sum-payment tr')).map(r => r.dataset.dir + ':' + r.dataset.key + ':' + r.dataset.fen).sort()")
        .await;
    assert_eq!(
        pays,
        json!([
            "expense:cash:5000",
            "expense:wechat_pay:650",
            "income:cash:2728",
            "income:wechat_pay:900"
        ])
    );
    assert_eq!(stall.count("income_expense"), 2);
    assert_eq!(stall.count("cash_category"), 1);
    b.shot("30-cash-1280x800").await;
    b.viewport(1024, 600).await;
    b.shot("31-cash-1024x600").await;
    b.click("#lang-en").await;
    b.until(
        "English",
        "document.querySelector(\"nav .tab[data-tab='report']\").textContent === 'Report'",
    )
    .await;
    b.shot("32-cash-en-1024x600").await;
    // A repayment counts as income the moment it is received.
    let (s, _) = post_json(
        &stall.base,
        "/api/repayment",
        &owner,
        json!({"customer": "王姨", "amount": "4.50", "payment": "cash"}),
    )
    .await;
    assert_eq!(s, 200);
    let (_, v) = get_json(&stall.base, "/api/cash/summary", &owner).await;
    assert_eq!(v["income"], "40.78");
    b.c.clone().close().await.unwrap();
    stall.stop().await;
}

fn inspections_doc() -> DownlinkDoc {
    DownlinkDoc::new(
        DocType::Inspections,
        1,
        json!({"results": [
            {"sample_no": "JN-2026-1122-01", "product": "菜心", "result": "pass", "publish": true,
             "org": "江南市场快检室", "tested_at": 1_795_300_000_000_i64,
             "items": [{"item": "有机磷和氨基甲酸酯类农药残留", "result": "pass", "value": "抑制率 12%"}]},
            {"sample_no": "JN-2026-1122-02", "product": "猪肉", "result": "fail", "publish": true,
             "org": "江南市场快检室", "tested_at": 1_795_300_000_000_i64,
             "items": [{"item": "瘦肉精", "result": "fail"}]},
            {"sample_no": "JN-2026-1122-03", "product": "草鱼", "result": "pass",
             "items": [{"item": "孔雀石绿", "result": "pass"}]}
        ]}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspection_board_from_a_downlink_document() {
    let stall = start_box(BoxSetup {
        downlinks: vec![inspections_doc()],
        ..BoxSetup::default()
    })
    .await;
    // The document and its three results are in the ledger.
    assert_eq!(stall.count("downlink_applied"), 1);
    assert_eq!(stall.count("sampling_inspection"), 3);
    let b = browser(1280, 800).await;
    b.login(&stall.base, STAFF_PIN).await;
    b.click("#board-open").await;
    // Only the published two, big, with the verdict.
    b.until(
        "the board",
        "document.querySelectorAll('#board-rows tr').length === 2",
    )
    .await;
    let rows = b
        .js("Array.from(document.querySelectorAll('#board-rows tr')).map(r => r.dataset.sample + ':' + r.className + ':' + r.querySelector('.verdict').textContent)")
        .await;
    let mut rows: Vec<String> = serde_json::from_value(rows).unwrap();
    rows.sort();
    assert_eq!(
        rows,
        vec!["JN-2026-1122-01:pass:合格", "JN-2026-1122-02:fail:不合格"]
    );
    // No controls but the exit: nothing else on the screen can be tapped.
    let tappable = b
        .js("Array.from(document.querySelectorAll('#board button')).filter(x => x.getClientRects().length > 0).map(x => x.id)")
        .await;
    assert_eq!(tappable, json!(["board-exit"]));
    b.shot("40-board-1280x800").await;
    // A reload keeps the board up (a customer cannot leave it by refreshing).
    b.c.refresh().await.unwrap();
    b.until("the board after reload", "document.querySelectorAll('#board-rows tr').length === 2 && !document.querySelector('#board').classList.contains('hidden')").await;
    // Staff's PIN does not leave it; the owner's does.
    b.click("#board-exit").await;
    for d in STAFF_PIN.chars() {
        b.click(&format!("#board-pin .bkey[data-key='{d}']")).await;
    }
    b.click("#board-pin-ok").await;
    b.until(
        "refused",
        "document.querySelector('#board-pin-error').textContent.length > 0",
    )
    .await;
    assert_eq!(
        b.js("document.querySelector('#board').classList.contains('hidden')")
            .await,
        false
    );
    for d in OWNER_PIN.chars() {
        b.click(&format!("#board-pin .bkey[data-key='{d}']")).await;
    }
    b.click("#board-pin-ok").await;
    b.until(
        "the board closed",
        "document.querySelector('#board').classList.contains('hidden')",
    )
    .await;
    b.viewport(1024, 600).await;
    b.click("#board-open").await;
    b.until(
        "the board",
        "document.querySelectorAll('#board-rows tr').length === 2",
    )
    .await;
    b.shot("41-board-1024x600").await;
    b.c.clone().close().await.unwrap();
    stall.stop().await;
}

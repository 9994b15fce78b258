//! 资料 in real headless Chromium: a supplier and a product added on the box, then used in a
//! purchase and a sale; staff with a PIN (hashed) who can log in after a restart; the PLU
//! table pushed to a Dahua TM label scale simulator, asserted on what it received.

mod ui_support;

use device_drivers::scale::dahua::WeighMode;
use serde_json::json;
use ui_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supplier_and_product_added_in_records_then_used() {
    let mut stall = start_box(BoxSetup::default()).await;
    stall.scale.update(|s| s.weight_grams = 1_500);
    let b = browser(1280, 800).await;
    b.login(&stall.base, OWNER_PIN).await;
    b.click("nav .tab[data-tab='records']").await;
    b.until(
        "the product list",
        "document.querySelectorAll('#product-rows tr').length === 4",
    )
    .await;
    b.shot("50-records-products-1280x800").await;
    // A product from the library: 白菜 (0402), 2.50 元/斤, scale key 7.
    b.js("(() => { const f = document.querySelector('#product-form'); f.code.value = '0402'; f.code.onchange(); return 1; })()").await;
    assert_eq!(
        b.js("document.querySelector('#product-form').name.value")
            .await,
        "白菜"
    );
    b.find("#product-form [name=price]")
        .await
        .send_keys("2.5")
        .await
        .unwrap();
    b.find("#product-form [name=plu]")
        .await
        .send_keys("7")
        .await
        .unwrap();
    b.click("#product-save").await;
    b.until(
        "the new product",
        "document.querySelector('#product-rows tr[data-product=白菜]')",
    )
    .await;
    assert_eq!(stall.count("product_upsert"), 1);

    // A supplier with a phone number.
    b.click(".sub[data-sub=suppliers]").await;
    b.find(".partner-form[data-role=supplier] [name=name]")
        .await
        .send_keys("白云蔬菜合作社")
        .await
        .unwrap();
    b.find(".partner-form[data-role=supplier] [name=phone]")
        .await
        .send_keys("020-86001234")
        .await
        .unwrap();
    b.click(".partner-form[data-role=supplier] .partner-save")
        .await;
    b.until(
        "the supplier listed",
        "document.querySelector('#supplier-rows tr[data-name=白云蔬菜合作社]')",
    )
    .await;
    b.shot("51-records-suppliers-1280x800").await;

    // Used in a purchase: both are in the purchase form's lists.
    b.click("nav .tab[data-tab='purchase']").await;
    b.js("(() => { const f = document.querySelector('#purchase-form'); f.supplier.value = '白云蔬菜合作社'; f.product.value = '白菜'; f.batch.value = 'BY-1122'; f.weight.value = '40'; f.amount.value = '120'; return f.supplier.value + '/' + f.product.value; })()").await;
    b.click("#save-purchase").await;
    b.until(
        "the purchase saved",
        "document.querySelector('#purchase-msg').dataset.seq",
    )
    .await;
    // …and in a sale: the new key on the sale screen shows today's batch.
    b.click("nav .tab[data-tab='sale']").await;
    b.c.refresh().await.unwrap();
    b.until("the new product key", "document.querySelector(\"button.product[data-product='白菜']\") && document.querySelector(\"button.product[data-product='白菜']\").dataset.batch === 'BY-1122'").await;
    b.until("stable 1500 g", "document.querySelector('#weight').dataset.ok === '1' && document.querySelector('#weight').dataset.grams === '1500'").await;
    b.click("button.product[data-product='白菜']").await;
    b.click("#print").await;
    b.until(
        "the sale recorded",
        "document.querySelector('#last-sale').dataset.code",
    )
    .await;
    b.shot("52-sale-new-product-1280x800").await;
    let owner = login_cookie(&stall.base, OWNER_PIN).await;
    let (_, v) = get_json(
        &stall.base,
        "/api/ledger?product=%E7%99%BD%E8%8F%9C&kind=sale",
        &owner,
    )
    .await;
    let row = &v["rows"][0];
    assert_eq!(row["amount"], "7.50", "1.5 kg at 2.50/斤: {v}");
    assert_eq!(row["sources"][0]["supplier"], "白云蔬菜合作社");
    assert_eq!(row["sources"][0]["batch"], "BY-1122");
    b.c.clone().close().await.unwrap();

    // Records survive a restart: they are ledger entries, not memory.
    stall.restart().await;
    let owner = login_cookie(&stall.base, OWNER_PIN).await;
    let (_, v) = get_json(&stall.base, "/api/products", &owner).await;
    let p = v["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "白菜")
        .expect("白菜 after restart");
    assert_eq!(
        (
            p["price_fen"].as_i64(),
            p["plu"].as_u64(),
            p["code"].as_str()
        ),
        (Some(250), Some(7), Some("0402"))
    );
    let (_, v) = get_json(&stall.base, "/api/partners", &owner).await;
    assert!(
        v["partners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "白云蔬菜合作社" && p["phone"] == "020-86001234")
    );
    stall.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_added_on_the_box_log_in_with_a_hashed_pin_after_restart() {
    let mut stall = start_box(BoxSetup::default()).await;
    let b = browser(1024, 600).await;
    b.login(&stall.base, OWNER_PIN).await;
    b.click("nav .tab[data-tab='records']").await;
    b.click(".sub[data-sub=staff]").await;
    b.until(
        "the staff list",
        "document.querySelectorAll('#staff-rows tr').length === 2",
    )
    .await;
    b.find("#staff-form [name=name]")
        .await
        .send_keys("阿芳")
        .await
        .unwrap();
    b.find("#staff-form [name=pin]")
        .await
        .send_keys("8642")
        .await
        .unwrap();
    b.click("#staff-save").await;
    b.until(
        "listed",
        "document.querySelector('#staff-rows tr[data-name=阿芳]')",
    )
    .await;
    b.shot("53-records-staff-1024x600").await;
    b.c.clone().close().await.unwrap();
    // The PIN is stored as an argon2 hash, and only on the box: not in any ledger entry.
    let db = stall.read();
    let hash: String = db
        .query_row("SELECT pin_hash FROM stall_pins", [], |r| r.get(0))
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$") && !hash.contains("8642"),
        "{hash}"
    );
    let leaked: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM entries WHERE body LIKE '%8642%' OR body LIKE '%argon2%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leaked, 0);
    drop(db);
    stall.restart().await;
    let c = login_cookie(&stall.base, "8642").await;
    let (s, v) = get_json(&stall.base, "/api/boot", &c).await;
    assert_eq!(
        (s, v["user"].as_str(), v["role"].as_str()),
        (200, Some("阿芳"), Some("staff"))
    );
    // Staff cannot see or change the staff list.
    let (s, _) = get_json(&stall.base, "/api/staff", &c).await;
    assert_eq!(s, 403);
    stall.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plu_table_pushed_to_a_dahua_label_scale() {
    let stall = start_box(BoxSetup {
        dahua: true,
        ..BoxSetup::default()
    })
    .await;
    let b = browser(1280, 800).await;
    b.login(&stall.base, OWNER_PIN).await;
    b.click("nav .tab[data-tab='records']").await;
    b.until(
        "the product list",
        "document.querySelectorAll('#product-rows tr').length === 4",
    )
    .await;
    // 鸡蛋 (counted) gets key 3 on the scale.
    b.click("#product-rows tr[data-product=鸡蛋] button.edit")
        .await;
    b.find("#product-form [name=plu]")
        .await
        .send_keys("3")
        .await
        .unwrap();
    b.click("#product-save").await;
    b.until(
        "key 3",
        "document.querySelector('#product-rows tr[data-product=鸡蛋]').dataset.plu === '3'",
    )
    .await;
    b.click("#push-scale").await;
    b.until(
        "sent",
        "document.querySelector('#scale-msg').dataset.sent === '4'",
    )
    .await;
    b.shot("54-records-plu-pushed-1280x800").await;
    let got = stall.dahua.as_ref().unwrap().state().plus;
    let keys: Vec<(u16, &str, u32, WeighMode, u32)> = got
        .values()
        .map(|p| {
            (
                p.plu,
                p.name.as_str(),
                p.unit_price_fen,
                p.mode,
                p.item_code,
            )
        })
        .collect();
    // Per 斤 prices go to the scale per kg; the library code is the item code.
    assert_eq!(
        keys,
        vec![
            (1, "猪肉", 3_360, WeighMode::Weighed, 101),
            (2, "菜心", 900, WeighMode::Weighed, 2),
            (3, "鸡蛋", 90, WeighMode::Counted, 3),
            (4, "草鱼", 1_150, WeighMode::Weighed, 4),
        ]
    );
    b.c.clone().close().await.unwrap();
    let _ = json!({});
    stall.stop().await;
}

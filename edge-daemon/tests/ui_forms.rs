//! Forms refuse bad input with a message key next to the field and record nothing:
//! negative and absurd weights and prices, an unknown product, a malformed certificate
//! number, an oversized or non-image photo; staff cannot void; a void by the owner works.

mod ui_support;

use serde_json::json;
use ui_support::*;

fn fields(v: &serde_json::Value) -> Vec<(String, String)> {
    v["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {v}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["key"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sales_and_purchases_are_refused_and_record_nothing() {
    let stall = start_box(BoxSetup {
        max_photo_kb: Some(4),
        ..BoxSetup::default()
    })
    .await;
    let owner = login_cookie(&stall.base, OWNER_PIN).await;
    let head = stall.head();

    let cases = [
        (
            json!({"lines": [{"product": "猪肉", "grams": -200}], "payment": "cash"}),
            "lines[0].grams",
            "err_weight_range",
        ),
        (
            json!({"lines": [{"product": "猪肉", "grams": 0}], "payment": "cash"}),
            "lines[0].grams",
            "err_weight_range",
        ),
        (
            json!({"lines": [{"product": "猪肉", "grams": 2_000_000}], "payment": "cash"}),
            "lines[0].grams",
            "err_weight_range",
        ),
        (
            json!({"lines": [{"product": "龙肉", "grams": 500}], "payment": "cash"}),
            "lines[0].product",
            "err_unknown_product",
        ),
        (
            json!({"lines": [{"product": "猪肉", "grams": 500, "unit_price": "-3"}], "payment": "cash"}),
            "lines[0].unit_price",
            "err_price_format",
        ),
        (
            json!({"lines": [{"product": "猪肉", "grams": 500, "unit_price": "99999999"}], "payment": "cash"}),
            "lines[0].unit_price",
            "err_price_range",
        ),
        (
            json!({"lines": [{"product": "鸡蛋", "count": -1}], "payment": "cash"}),
            "lines[0].count",
            "err_count_range",
        ),
        (
            json!({"lines": [{"product": "鸡蛋", "count": 2}], "fees": [{"name": "优惠", "amount": "-9"}], "payment": "cash"}),
            "fees",
            "err_discount_too_big",
        ),
        (
            json!({"lines": [{"product": "鸡蛋", "count": 2}], "payment": "credit"}),
            "customer",
            "err_credit_needs_customer",
        ),
        (
            json!({"lines": [], "payment": "cash"}),
            "lines",
            "err_no_lines",
        ),
    ];
    for (body, field, key) in cases {
        let (s, v) = post_json(&stall.base, "/api/sale", &owner, body.clone()).await;
        assert_eq!(s, 422, "{body} → {v}");
        assert!(
            fields(&v).contains(&(field.to_owned(), key.to_owned())),
            "{body} → {v}"
        );
    }
    // A body that is not a sale at all is refused by the JSON extractor.
    let (s, _) = post_json(&stall.base, "/api/sale", &owner, json!({"lines": "x"})).await;
    assert!((400..500).contains(&s));

    let purchase = |over: serde_json::Value| {
        let mut p = json!({
            "supplier": "江南批发", "product": "猪肉", "batch": "B-1", "weight": "20",
            "unit_price": "24.00", "price_unit": "kg",
            "certificates": [{"kind": "compliance_certificate", "number": "HGZ-4401-2026-000001"}],
        });
        for (k, v) in over.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let pcases = [
        (json!({"weight": "-5"}), "grams", "err_weight_format"),
        (json!({"weight": "999999"}), "grams", "err_weight_range"),
        (
            json!({"unit_price": "abc"}),
            "unit_price",
            "err_price_format",
        ),
        (json!({"product": "龙肉"}), "product", "err_unknown_product"),
        (
            json!({"certificates": [{"kind": "animal_quarantine", "number": "12"}]}),
            "certificates[0].number",
            "err_certificate",
        ),
        (
            json!({"certificates": [{"kind": "animal_quarantine", "number": "ABC-DEF-GHIJ"}]}),
            "certificates[0].number",
            "err_certificate",
        ),
        (
            json!({"origin_code": "990101"}),
            "origin_code",
            "err_region",
        ),
        (json!({"supplier": " "}), "supplier", "err_required"),
        (
            json!({"photos": ["00".repeat(32)]}),
            "photos[0]",
            "err_photo_missing",
        ),
    ];
    for (over, field, key) in pcases {
        let body = purchase(over);
        let (s, v) = post_json(&stall.base, "/api/purchase", &owner, body.clone()).await;
        assert_eq!(s, 422, "{body} → {v}");
        assert!(
            fields(&v).contains(&(field.to_owned(), key.to_owned())),
            "{body} → {v}"
        );
    }

    // Photos: over the limit, or not an image.
    let mut big = b"\xff\xd8\xff\xe0".to_vec();
    big.resize(5 * 1024, 0);
    let (s, _, b) = http(
        &stall.base,
        "POST",
        "/api/photo",
        Some(&owner),
        "image/jpeg",
        &big,
    )
    .await;
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(s, 422);
    assert_eq!(
        fields(&v),
        vec![("photo".into(), "err_photo_too_big".into())]
    );
    let (s, _, _) = http(
        &stall.base,
        "POST",
        "/api/photo",
        Some(&owner),
        "image/jpeg",
        b"hello",
    )
    .await;
    assert_eq!(s, 422);
    assert!(
        !stall.dir.path().join("blobs").exists()
            || std::fs::read_dir(stall.dir.path().join("blobs"))
                .unwrap()
                .next()
                .is_none()
    );

    assert_eq!(stall.head(), head, "nothing refused reached the ledger");

    // The same good purchase with a small photo is recorded, photo pinned by digest.
    let mut small = b"\xff\xd8\xff\xe0".to_vec();
    small.resize(1024, 7);
    let (s, _, b) = http(
        &stall.base,
        "POST",
        "/api/photo",
        Some(&owner),
        "image/jpeg",
        &small,
    )
    .await;
    assert_eq!(s, 200);
    let digest = serde_json::from_slice::<serde_json::Value>(&b).unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, v) = post_json(
        &stall.base,
        "/api/purchase",
        &owner,
        purchase(json!({"photos": [digest.clone()], "origin_code": "440117"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let body: String = stall
        .read()
        .query_row(
            "SELECT body FROM entries WHERE kind = 'purchase' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let p: trace_core::event::Purchase = serde_json::from_str(&body).unwrap();
    assert_eq!(p.vouchers[0].digest.to_hex(), digest);
    assert_eq!(p.origin.as_deref(), Some("广东省-广州市-从化区"));
    assert_eq!(p.grams, Some(trace_core::Grams(20_000)));
    assert_eq!(p.amount, trace_core::Fen(48_000));
    assert_eq!(
        std::fs::read(stall.dir.path().join("blobs").join(&digest)).unwrap(),
        small
    );
    stall.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_pins_and_voids() {
    let stall = start_box(BoxSetup::default()).await;
    let (s, _, _) = http(
        &stall.base,
        "POST",
        "/api/login",
        None,
        "application/json",
        br#"{"pin":"0000"}"#,
    )
    .await;
    assert_eq!(s, 401);
    let (s, _, _) = http(&stall.base, "GET", "/api/boot", None, "text/plain", b"").await;
    assert_eq!(s, 401, "no session, no data");
    let staff = login_cookie(&stall.base, STAFF_PIN).await;
    let owner = login_cookie(&stall.base, OWNER_PIN).await;
    let (s, v) = post_json(
        &stall.base,
        "/api/sale",
        &staff,
        json!({"lines": [{"product": "鸡蛋", "count": 10}], "payment": "alipay"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["total"], "9.00");
    let seq = v["seq"].as_u64().unwrap();
    let (s, _) = post_json(
        &stall.base,
        &format!("/api/void/{seq}"),
        &staff,
        json!({"reason": "错单"}),
    )
    .await;
    assert_eq!(s, 403, "staff cannot delete");
    assert_eq!(stall.count("void"), 0);
    let (s, _) = post_json(
        &stall.base,
        &format!("/api/void/{seq}"),
        &owner,
        json!({"reason": "错单"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(stall.count("void"), 1);
    let (s, _, b) = http(
        &stall.base,
        "GET",
        "/api/report/daily",
        Some(&owner),
        "text/plain",
        b"",
    )
    .await;
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        v["by_payment"].as_array().unwrap().len(),
        0,
        "the voided sale is not counted: {v}"
    );
    stall.stop().await;
}

/// 收支, 资料 and 台账 forms: bad input is refused with the field and the key, and the
/// ledger head does not move; staff cannot write records or 收支.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_cash_and_ledger_forms_refuse_bad_input() {
    let stall = start_box(BoxSetup::default()).await;
    let owner = login_cookie(&stall.base, OWNER_PIN).await;
    let staff = login_cookie(&stall.base, STAFF_PIN).await;
    let head = stall.head();
    let cases = [
        (
            "/api/cash",
            json!({"direction": "expense", "category": "摊位费", "amount": "-50", "payment": "cash"}),
            "amount",
            "err_amount_positive",
        ),
        (
            "/api/cash",
            json!({"direction": "expense", "category": "摊位费", "amount": "0", "payment": "cash"}),
            "amount",
            "err_amount_positive",
        ),
        (
            "/api/cash",
            json!({"direction": "expense", "category": "摊位费", "amount": "99999999", "payment": "cash"}),
            "amount",
            "err_price_range",
        ),
        (
            "/api/cash",
            json!({"direction": "expense", "category": "买彩票", "amount": "5", "payment": "cash"}),
            "category",
            "err_unknown_category",
        ),
        (
            "/api/cash",
            json!({"direction": "income", "category": "摊位费", "amount": "5", "payment": "cash"}),
            "category",
            "err_unknown_category",
        ),
        (
            "/api/cash",
            json!({"direction": "expense", "category": "水电", "amount": "5", "payment": "credit"}),
            "payment",
            "err_invalid",
        ),
        (
            "/api/cash/category",
            json!({"direction": "expense", "name": "水电"}),
            "name",
            "err_duplicate",
        ),
        (
            "/api/staff",
            json!({"name": "阿强", "role": "staff", "pin": "12a4"}),
            "pin",
            "err_pin_format",
        ),
        (
            "/api/staff",
            json!({"name": "阿强", "role": "staff", "pin": "123"}),
            "pin",
            "err_pin_format",
        ),
        (
            "/api/staff",
            json!({"name": "阿强", "role": "staff"}),
            "pin",
            "err_pin_format",
        ),
        // Someone already logs in with it (a hashed owner PIN, a plain staff PIN).
        (
            "/api/staff",
            json!({"name": "阿强", "role": "staff", "pin": OWNER_PIN}),
            "pin",
            "err_pin_taken",
        ),
        (
            "/api/staff",
            json!({"name": "阿强", "role": "staff", "pin": STAFF_PIN}),
            "pin",
            "err_pin_taken",
        ),
        (
            "/api/products",
            json!({"name": "白菜", "price": "2.50", "unit": "jin", "plu": "1"}),
            "plu",
            "err_plu_taken",
        ),
        (
            "/api/products",
            json!({"name": "白菜", "price": "2.50", "unit": "jin", "plu": "4001"}),
            "plu",
            "err_plu_range",
        ),
        (
            "/api/products",
            json!({"name": "白菜", "price": "-2", "unit": "jin"}),
            "price",
            "err_price_format",
        ),
        (
            "/api/products",
            json!({"name": "猪肉", "price": "2", "unit": "jin"}),
            "name",
            "err_duplicate",
        ),
        (
            "/api/products",
            json!({"name": "白菜", "code": "9999", "price": "2", "unit": "jin"}),
            "code",
            "err_unknown_code",
        ),
        (
            "/api/suppliers",
            json!({"name": "白云", "phone": "call me"}),
            "phone",
            "err_phone",
        ),
        (
            "/api/ledger/attribution",
            json!({"sale_seq": 1, "line": 0, "shares": [{"lot": 1, "kg": "-1"}]}),
            "shares[0]",
            "err_weight_format",
        ),
    ];
    for (path, body, field, key) in cases {
        let (s, v) = post_json(&stall.base, path, &owner, body.clone()).await;
        assert_eq!(s, 422, "{path} {body} → {v}");
        assert!(
            fields(&v).contains(&(field.to_owned(), key.to_owned())),
            "{path} {body} → {v}"
        );
    }
    // A correction of an entry that is not a sale line: refused by the projection.
    let (s, v) = post_json(
        &stall.base,
        "/api/ledger/attribution",
        &owner,
        json!({"sale_seq": 1, "line": 0, "shares": [{"lot": 1, "kg": "1"}]}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(
        fields(&v),
        vec![("shares".to_owned(), "err_shares".to_owned())]
    );
    let (s, v) = get_json(&stall.base, "/api/ledger?from=2026-02-30", &owner).await;
    assert_eq!(s, 422);
    assert_eq!(fields(&v), vec![("from".to_owned(), "err_date".to_owned())]);
    assert_eq!(stall.head(), head, "nothing was recorded");
    // Staff cannot write records or 收支 (they may add suppliers and customers at the counter).
    for (path, body) in [
        (
            "/api/cash",
            json!({"direction": "expense", "category": "水电", "amount": "5", "payment": "cash"}),
        ),
        (
            "/api/products",
            json!({"name": "白菜", "price": "2.50", "unit": "jin"}),
        ),
        (
            "/api/staff",
            json!({"name": "阿强", "role": "owner", "pin": "9999"}),
        ),
        ("/api/scale/push", json!({})),
    ] {
        let (s, _) = post_json(&stall.base, path, &staff, body).await;
        assert_eq!(s, 403, "{path}");
    }
    assert_eq!(stall.head(), head);
    stall.stop().await;
}

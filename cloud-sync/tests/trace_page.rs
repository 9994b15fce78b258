//! The public trace page, `/healthz` and `/metrics` over real HTTP from an in-process cloud.

mod support;

use cloud_sync::store::CloudStore;
use support::*;
use trace_core::event::SaleTicket;
use trace_core::{Event, TicketCode, TicketCodec};

fn sale(b: &TestBox, seq: u64) -> SaleTicket {
    match &b.chain[(seq - 1) as usize].event {
        Event::SaleTicket(t) => t.clone(),
        other => panic!("seq {seq} is not a sale: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_page_languages_typos_and_unknown_codes() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let (cloud, stop) = start_cloud(dir.path(), &BrokerKind::Embedded, |_| {}).await;
    let a = TestBox::new("stall-page-a", 60);
    let b = TestBox::new("stall-page-b", 60);
    a.register(&cloud).await;
    b.register(&cloud).await;
    cloud.store.ingest(&a.id, a.chain.clone()).await.unwrap();
    cloud.store.ingest(&b.id, b.chain.clone()).await.unwrap();
    let addr = cloud.http_addr;

    // Sale 8 of stall A has three lines (1 + 8 % 3).
    let t = sale(&a, 8);
    assert_eq!(t.lines.len(), 3);
    let (status, zh) = http_get(addr, &format!("/t/{}", t.ticket_code)).await;
    assert_eq!(status, 200, "{zh}");
    assert!(zh.contains("lang=\"zh-CN\""));
    assert!(zh.contains("购物小票溯源"));
    for l in &t.lines {
        assert!(zh.contains(&l.product), "product {} missing", l.product);
        let g = l.grams.unwrap();
        assert!(
            zh.contains(&format!("{} 斤", g.jin_string())),
            "weight {} 斤 missing",
            g.jin_string()
        );
        assert!(zh.contains(&format!("{} 公斤", g.kg_string())));
        assert!(zh.contains(&format!("¥{}", l.amount.yuan_string())));
    }
    assert!(zh.contains(&format!("¥{}", t.total.yuan_string())));
    assert!(zh.contains("合计"));
    assert!(zh.contains("江南果菜批发市场"), "upstream supplier shown");
    assert!(zh.contains("广东省惠州市"), "origin shown");
    assert!(
        zh.contains("承诺达标合格证") && zh.contains("HG-4413-"),
        "certificates shown"
    );
    assert!(zh.contains(&TicketCode::parse(&t.ticket_code).unwrap().grouped()));
    assert!(zh.contains(&a.record().entity));
    assert!(zh.contains("东门市场") && zh.contains(&a.record().stall_no) && zh.contains("档口号"));
    assert!(!zh.contains(&b.record().stall_no));
    assert!(!zh.contains(&b.record().entity), "no other stall's data");
    // Time in Asia/Shanghai: testkit sale n is at 1_772_000_000_000 + n*1000 ms UTC
    // = 2026-02-25 06:13:20Z + n s → 14:13 Shanghai.
    assert!(zh.contains("2026-02-25 14:13"), "{zh}");

    let (_, en) = http_get(addr, &format!("/t/{}?lang=en", t.ticket_code)).await;
    assert!(en.contains("lang=\"en\""));
    assert!(en.contains("Total") && en.contains("jin") && en.contains("Supplier"));
    assert!(en.contains(&t.lines[0].product));
    assert!(en.contains("Compliance certificate"));
    let (_, hk) = http_get(addr, &format!("/t/{}?lang=zh-HK", t.ticket_code)).await;
    assert!(hk.contains("合計") && hk.contains("進貨來源"));
    // The switch links to the other languages of the same page.
    assert!(zh.contains(&format!("/t/{}?lang=en", t.ticket_code)));

    // A typo (last digit changed) is told as such.
    let code = t.ticket_code.clone();
    let last = code.as_bytes()[19] - b'0';
    let typo = format!("{}{}", &code[..19], (last + 1) % 10);
    let (status, page) = http_get(addr, &format!("/t/{typo}")).await;
    assert_eq!(status, 400);
    assert!(page.contains("编号有误"), "{page}");
    assert!(page.contains("<form"));

    // Unknown but well-formed codes: an unissued counter of A, a code of an unknown device,
    // and garbage all get the very same 404 page.
    let unissued = TicketCodec::new(a.device_no, &a.code_key)
        .unwrap()
        .mint(9_999)
        .unwrap();
    let foreign = TicketCodec::new(999_999, &[9; 32])
        .unwrap()
        .mint(1)
        .unwrap();
    let (s1, p1) = http_get(addr, &format!("/t/{unissued}")).await;
    let (s2, p2) = http_get(addr, &format!("/t/{foreign}")).await;
    let (s3, p3) = http_get(addr, "/t/12345").await;
    assert_eq!((s1, s2, s3), (404, 404, 404));
    assert_eq!(
        p1.replace(&unissued.to_string(), "X"),
        p2.replace(&foreign.to_string(), "X")
    );
    assert_eq!(
        p1.replace(&unissued.to_string(), "X"),
        p3.replace("12345", "X")
    );
    assert!(p1.contains("未找到该小票") && p1.contains("<form"));
    let (_, p_en) = http_get(addr, &format!("/t/{foreign}?lang=en")).await;
    assert!(p_en.contains("Ticket not found"));

    // The form redirects a typed code (with spaces) to its page.
    let spaced = TicketCode::parse(&code)
        .unwrap()
        .grouped()
        .replace(' ', "+");
    let (status, _) = http_get(addr, &format!("/t?code={spaced}&lang=en")).await;
    assert_eq!(status, 303);
    let (status, form) = http_get(addr, "/").await;
    assert_eq!(status, 200);
    assert!(form.contains("输入小票编号"));

    let (status, body) = http_get(addr, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, m) = http_get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        m.contains("baytrace_device_hwm{device=\"stall-page-a\"} 60"),
        "{m}"
    );
    assert!(m.contains("baytrace_store_entries 120"));
    assert!(m.contains("baytrace_trace_pages_total 3"), "{m}");

    let _ = stop.send(());
    cloud.wait().await.unwrap();
}

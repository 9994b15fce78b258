//! The one message catalogue: every word the stall UI shows, in zh-CN (default), zh-HK
//! (Traditional) and English. The page fetches a language as JSON and looks keys up; the
//! server never sends prose, only keys (`FieldError::key`, `error`), so a refusal reads the
//! same in whichever language the merchant picked. A test checks that every key the page and
//! the server use is here in all three languages.

use serde_json::{Map, Value};

pub const LANGS: [&str; 3] = ["zh-CN", "zh-HK", "en"];

/// key, zh-CN, zh-HK, en. `{}` is replaced by the message's argument.
pub const MESSAGES: &[(&str, &str, &str, &str)] = &[
    (
        "login_title",
        "请输入 PIN 码",
        "請輸入 PIN 碼",
        "Enter your PIN",
    ),
    ("login", "登录", "登入", "Log in"),
    ("logout", "退出", "登出", "Log out"),
    ("clear", "清除", "清除", "Clear"),
    ("tab_sale", "开单", "開單", "Sale"),
    ("tab_credit", "欠账", "賒數", "Credit"),
    ("tab_purchase", "进货", "入貨", "Purchase"),
    ("tab_ledger", "台账", "台賬", "Ledger"),
    ("tab_report", "收支", "收支", "Report"),
    ("count_items", "件数", "件數", "Items"),
    (
        "fee_name",
        "费用/优惠名称",
        "費用/優惠名稱",
        "Fee / discount",
    ),
    (
        "fee_amount",
        "金额(优惠填负数)",
        "金額(優惠填負數)",
        "Amount (− for discount)",
    ),
    ("fee_add", "加费用", "加費用", "Add fee"),
    ("total", "合计", "合計", "Total"),
    ("pay_cash", "现金", "現金", "Cash"),
    ("pay_wechat", "微信", "微信", "WeChat Pay"),
    ("pay_alipay", "支付宝", "支付寶", "Alipay"),
    ("pay_credit", "赊账", "賒數", "Credit"),
    ("new_customer", "新客户名", "新客戶名", "New customer"),
    ("new_supplier", "新供应商", "新供應商", "New supplier"),
    ("add", "添加", "新增", "Add"),
    ("print", "打印", "列印", "Print"),
    ("customer", "客户", "客戶", "Customer"),
    ("no_customer", "散客", "散客", "Walk-in"),
    ("credit_total", "赊账合计", "賒數合計", "Credit"),
    ("repaid", "已还", "已還", "Repaid"),
    ("owed", "欠款", "欠款", "Owed"),
    ("age_days", "账龄(天)", "賬齡(日)", "Age (days)"),
    ("repayment", "还款", "還款", "Repayment"),
    ("repay", "收款", "收款", "Receive"),
    ("amount_yuan", "金额(元)", "金額(元)", "Amount (yuan)"),
    (
        "scan_hint",
        "用扫码枪扫上游小票二维码可自动填写(无需联网)",
        "用掃碼槍掃上游小票二維碼可自動填寫(無需上網)",
        "Scan the supplier's receipt QR to fill this in (works offline)",
    ),
    ("supplier", "供应商", "供應商", "Supplier"),
    ("product", "品名", "品名", "Product"),
    ("batch", "批次号", "批次號", "Batch"),
    ("plate", "车牌号", "車牌號", "Plate no."),
    ("origin", "产地", "產地", "Origin"),
    ("province", "省", "省", "Province"),
    ("city", "市", "市", "City"),
    ("district", "区县", "區縣", "District"),
    ("weight_kg", "重量(公斤)", "重量(公斤)", "Weight (kg)"),
    ("count", "数量(件)", "數量(件)", "Count"),
    ("unit_price", "单价(元)", "單價(元)", "Unit price (yuan)"),
    ("per_jin", "元/斤", "元/斤", "¥/jin"),
    ("per_kg", "元/公斤", "元/公斤", "¥/kg"),
    ("per_item", "元/件", "元/件", "¥/item"),
    (
        "cert_compliance",
        "承诺达标合格证号",
        "承諾達標合格證號",
        "Compliance certificate no.",
    ),
    (
        "cert_quarantine",
        "检疫证明号",
        "檢疫證明號",
        "Quarantine certificate no.",
    ),
    (
        "voucher_photo",
        "进货凭证照片",
        "入貨憑證相片",
        "Voucher photo",
    ),
    ("save", "保存", "儲存", "Save"),
    ("saved", "已保存", "已儲存", "Saved"),
    ("time", "时间", "時間", "Time"),
    ("products", "品名", "品名", "Products"),
    ("payment", "付款方式", "付款方式", "Payment"),
    ("trace_code", "追溯码", "追溯碼", "Trace code"),
    ("tickets", "单数", "單數", "Tickets"),
    ("daily_summary", "今日汇总", "今日匯總", "Today"),
    ("jin", "斤", "斤", "jin"),
    ("scale_offline", "秤未连接", "磅未連接", "Scale offline"),
    ("printer", "打印机", "打印機", "Printer"),
    ("printer_online", "正常", "正常", "ready"),
    ("printer_paper_near_end", "纸将尽", "紙將盡", "paper low"),
    ("printer_paper_out", "缺纸", "缺紙", "out of paper"),
    ("printer_cover_open", "盖未合", "蓋未合", "cover open"),
    ("printer_offline", "离线", "離線", "offline"),
    ("printer_error", "故障", "故障", "fault"),
    ("printer_none", "未配置", "未設定", "none"),
    (
        "sale_recorded",
        "第 {} 单已记录",
        "第 {} 單已記錄",
        "Ticket {} recorded",
    ),
    ("unprinted", "未打印", "未列印", "not printed"),
    ("reprint", "补打", "補打", "Reprint"),
    ("void", "作废", "作廢", "Void"),
    ("void_reason", "作废原因", "作廢原因", "Reason for voiding"),
    (
        "scan_ok",
        "已验证:{} 的小票,请核对后保存",
        "已驗證:{} 的單據,請核對後儲存",
        "Verified receipt from {}: check and save",
    ),
    (
        "scan_forged",
        "二维码签名不符:小票被篡改或伪造,不能使用",
        "二維碼簽名不符:單據被篡改或偽造,不能使用",
        "Signature does not match: the receipt was altered or forged",
    ),
    (
        "scan_unknown_seller",
        "卖方不在密钥目录中,无法验证",
        "賣方不在密鑰目錄中,無法驗證",
        "Seller not in the key directory: cannot verify",
    ),
    (
        "scan_damaged",
        "二维码内容损坏,请重扫",
        "二維碼內容損壞,請重掃",
        "QR content damaged: scan again",
    ),
    (
        "scan_not_ticket",
        "这不是追溯小票二维码",
        "這不是追溯單據二維碼",
        "Not a trace receipt QR",
    ),
    (
        "label_hint",
        "扫电子秤标签即可加入一行",
        "掃電子磅標籤即可加入一行",
        "Scan a scale label to add a line",
    ),
    (
        "label_added",
        "已加入标签:{}",
        "已加入標籤:{}",
        "Label added: {}",
    ),
    (
        "label_again",
        "这张标签本单已扫过:{}。重复扫码?",
        "這張標籤本單已掃過:{}。重複掃碼?",
        "This label is already on the ticket: {}. Scanned twice?",
    ),
    ("label_tag", "秤签", "磅籤", "label"),
    ("label_add_anyway", "再加一件", "再加一件", "Add it again"),
    (
        "err_label_format",
        "这不是电子秤标签条码,未加入",
        "這不是電子磅標籤條碼,未加入",
        "Not a scale label barcode: nothing added",
    ),
    (
        "err_label_check",
        "标签条码校验不对(污损或被改过),未加入",
        "標籤條碼校驗不符(污損或被改過),未加入",
        "Label check digit wrong (damaged or altered): nothing added",
    ),
    (
        "err_label_flag",
        "标签前缀 {} 未设置为金额码或重量码,未加入",
        "標籤前綴 {} 未設定為金額碼或重量碼,未加入",
        "Label prefix {} is set as neither price nor weight: nothing added",
    ),
    (
        "err_label_unknown",
        "标签商品码 {} 不是本档秤上的商品,未加入",
        "標籤貨品碼 {} 不是本檔磅上的貨品,未加入",
        "Label item code {} is not a product on this stall's scale: nothing added",
    ),
    (
        "err_label_ambiguous",
        "商品码 {} 对应多个商品,请在资料中改正",
        "貨品碼 {} 對應多個貨品,請在資料中改正",
        "Item code {} belongs to several products: fix it in Records",
    ),
    (
        "err_label_weight",
        "标签重量不对(须大于 0,最多 {} 公斤),未加入",
        "標籤重量不正確(須大於 0,最多 {} 公斤),未加入",
        "Label weight must be above 0 and at most {} kg: nothing added",
    ),
    (
        "err_label_unit",
        "{} 按件卖,标签不能是重量码",
        "{} 按件賣,標籤不能是重量碼",
        "{} is sold by the item: a weight label cannot be used",
    ),
    (
        "err_label_no_price",
        "{} 没有单价,无法按标签金额算重量",
        "{} 沒有單價,無法按標籤金額計重量",
        "{} has no price: the weight cannot be worked out from the label",
    ),
    (
        "err_label_mismatch",
        "开单行与标签不符({}),请删除该行重扫",
        "開單行與標籤不符({}),請刪除該行重掃",
        "The line does not match its label ({}): delete it and scan again",
    ),
    ("err_pin", "PIN 码不对", "PIN 碼不正確", "Wrong PIN"),
    ("err_login", "请先登录", "請先登入", "Please log in"),
    (
        "err_forbidden",
        "只有店主可以操作",
        "只有店主可以操作",
        "Owner only",
    ),
    ("err_not_found", "找不到", "找不到", "Not found"),
    (
        "err_form",
        "请改正标红的项目",
        "請改正標紅的項目",
        "Please fix the marked fields",
    ),
    (
        "err_store",
        "保存失败,请重试",
        "儲存失敗,請重試",
        "Could not save; try again",
    ),
    (
        "err_no_lines",
        "请先点商品",
        "請先點貨品",
        "Tap a product first",
    ),
    (
        "err_unknown_product",
        "没有这个商品:{}",
        "沒有這個貨品:{}",
        "Unknown product: {}",
    ),
    (
        "err_weight_range",
        "重量不对(须大于 0,最多 {} 公斤)",
        "重量不正確(須大於 0,最多 {} 公斤)",
        "Weight must be above 0 and at most {} kg",
    ),
    (
        "err_weight_format",
        "重量格式不对",
        "重量格式不正確",
        "Not a weight",
    ),
    (
        "err_weight_unstable",
        "秤未稳定,请稍候",
        "磅未穩定,請稍候",
        "Scale not steady yet",
    ),
    (
        "err_count_range",
        "件数须为 1 到 {}",
        "件數須為 1 至 {}",
        "Count must be 1 to {}",
    ),
    (
        "err_price_format",
        "金额格式不对(最多两位小数)",
        "金額格式不正確(最多兩位小數)",
        "Not an amount (at most 2 decimals)",
    ),
    (
        "err_price_range",
        "单价过高(最多 {} 元)",
        "單價過高(最多 {} 元)",
        "Price too high (at most ¥{})",
    ),
    (
        "err_price_needed",
        "请填单价或金额",
        "請填單價或金額",
        "Enter a price or an amount",
    ),
    (
        "err_quantity_needed",
        "请填重量或件数",
        "請填重量或件數",
        "Enter a weight or a count",
    ),
    (
        "err_discount_too_big",
        "优惠不能超过货款",
        "優惠不能超過貨款",
        "Discount exceeds the goods",
    ),
    (
        "err_credit_needs_customer",
        "赊账要选客户",
        "賒數要選客戶",
        "Credit needs a customer",
    ),
    ("err_required", "必填", "必填", "Required"),
    ("err_invalid", "内容不对:{}", "內容不正確:{}", "Invalid: {}"),
    (
        "err_region",
        "产地代码不对",
        "產地代碼不正確",
        "Not a region code",
    ),
    (
        "err_certificate",
        "证号格式不对(6–40 位字母数字)",
        "證號格式不正確(6–40 位字母數字)",
        "Malformed certificate number (6–40 letters/digits)",
    ),
    (
        "err_plate",
        "车牌号格式不对",
        "車牌號格式不正確",
        "Malformed plate number",
    ),
    (
        "err_photo_too_big",
        "照片太大(最大 {})",
        "相片太大(最大 {})",
        "Photo too large (max {})",
    ),
    (
        "err_photo_type",
        "只收 JPEG 或 PNG 照片",
        "只收 JPEG 或 PNG 相片",
        "JPEG or PNG only",
    ),
    (
        "err_photo_missing",
        "照片没有上传成功",
        "相片未上載成功",
        "Photo not uploaded",
    ),
    ("tab_records", "资料", "資料", "Records"),
    ("tab_board", "抽检公示", "抽檢公示", "Inspections"),
    ("filter", "查询", "查詢", "Search"),
    ("date_from", "开始日期", "開始日期", "From"),
    ("date_to", "结束日期", "結束日期", "To"),
    ("all_kinds", "进货和销售", "入貨和銷售", "Purchases & sales"),
    ("kind_purchase", "进货", "入貨", "Purchase"),
    ("kind_sale", "销售", "銷售", "Sale"),
    ("any_product", "全部品名", "全部品名", "All products"),
    ("any_supplier", "全部供应商", "全部供應商", "All suppliers"),
    ("any_customer", "全部客户", "全部客戶", "All customers"),
    ("export_csv", "导出 CSV", "匯出 CSV", "Export CSV"),
    ("sources", "来源批次", "來源批次", "Source lots"),
    ("correct_sources", "更正来源", "更正來源", "Correct sources"),
    (
        "no_purchase",
        "无进货记录",
        "無入貨記錄",
        "No purchase on record",
    ),
    ("corrected", "已更正", "已更正", "corrected"),
    ("left", "剩余", "剩餘", "left"),
    ("reason", "原因", "原因", "Reason"),
    ("cancel", "取消", "取消", "Cancel"),
    ("recent_tickets", "最近小票", "最近小票", "Recent tickets"),
    (
        "ledger_empty",
        "没有符合条件的记录",
        "沒有符合條件的記錄",
        "Nothing matches",
    ),
    ("csv_kind", "类型", "類型", "Type"),
    (
        "csv_party",
        "供应商/客户",
        "供應商/客戶",
        "Supplier / customer",
    ),
    ("csv_phone", "联系方式", "聯絡方式", "Phone"),
    ("csv_certificates", "证明编号", "證明編號", "Certificates"),
    ("csv_sources", "来源批次", "來源批次", "Source lots"),
    ("csv_voided", "已作废", "已作廢", "Voided"),
    ("csv_sale", "销售", "銷售", "Sale"),
    ("csv_purchase", "进货", "入貨", "Purchase"),
    ("pay_other", "其他", "其他", "Other"),
    ("income", "收入", "收入", "Income"),
    ("expense", "支出", "支出", "Expense"),
    ("net", "结余", "結餘", "Net"),
    ("category", "类别", "類別", "Category"),
    ("new_category", "新类别", "新類別", "New category"),
    ("add_category", "加类别", "加類別", "Add category"),
    ("record_cash", "记一笔", "記一筆", "Record"),
    ("by_category", "按类别", "按類別", "By category"),
    (
        "by_payment",
        "按支付方式",
        "按支付方式",
        "By payment method",
    ),
    (
        "cash_entries",
        "今日收支记录",
        "今日收支記錄",
        "Today's entries",
    ),
    ("note", "备注", "備註", "Note"),
    ("day", "日期", "日期", "Day"),
    ("entries_n", "笔数", "筆數", "Entries"),
    ("staff", "员工", "員工", "Staff"),
    ("suppliers", "供应商", "供應商", "Suppliers"),
    ("customers", "客户", "客戶", "Customers"),
    ("main_products", "主营产品", "主營產品", "Main products"),
    ("name", "名称", "名稱", "Name"),
    ("role", "角色", "角色", "Role"),
    ("role_owner", "老板", "老闆", "Owner"),
    ("role_staff", "员工", "員工", "Staff"),
    ("pin", "PIN 码", "PIN 碼", "PIN"),
    (
        "pin_keep",
        "留空则不改",
        "留空則不改",
        "Leave empty to keep",
    ),
    ("in_config", "配置文件", "設定檔", "in edge.toml"),
    ("phone", "电话", "電話", "Phone"),
    (
        "library_code",
        "商品库分类",
        "商品庫分類",
        "Library category",
    ),
    ("price", "单价(元)", "單價(元)", "Price (yuan)"),
    ("plu_key", "秤键号", "秤鍵號", "Scale key"),
    (
        "push_scale",
        "下发到电子秤",
        "下發到電子秤",
        "Send to the scale",
    ),
    (
        "pushed_scale",
        "已下发 {} 个秤键",
        "已下發 {} 個秤鍵",
        "{} scale keys sent",
    ),
    ("edit", "修改", "修改", "Edit"),
    ("new_item", "新增", "新增", "New"),
    ("today_in", "今日进货", "今日入貨", "In today"),
    (
        "board_title",
        "农产品抽检结果公示",
        "農產品抽檢結果公示",
        "Sampling inspection results",
    ),
    ("board_exit", "退出公示", "退出公示", "Exit"),
    (
        "board_pin",
        "请老板输入 PIN 退出",
        "請老闆輸入 PIN 退出",
        "Owner PIN to exit",
    ),
    (
        "board_empty",
        "暂无抽检结果",
        "暫無抽檢結果",
        "No results yet",
    ),
    ("result_pass", "合格", "合格", "Pass"),
    ("result_fail", "不合格", "不合格", "Fail"),
    ("test_items", "检测项目", "檢測項目", "Tests"),
    ("tested_on", "检测日期", "檢測日期", "Tested"),
    ("test_org", "检测机构", "檢測機構", "Laboratory"),
    ("sample_no", "样品编号", "樣品編號", "Sample no."),
    (
        "err_date",
        "日期格式应为 年-月-日",
        "日期格式應為 年-月-日",
        "Use a date like 2026-11-22",
    ),
    (
        "err_date_order",
        "结束日期早于开始日期",
        "結束日期早於開始日期",
        "The end is before the start",
    ),
    (
        "err_unknown_category",
        "没有这个类别:{}",
        "沒有這個類別:{}",
        "No such category: {}",
    ),
    (
        "err_amount_positive",
        "金额必须大于 0",
        "金額必須大於 0",
        "The amount must be above 0",
    ),
    (
        "err_too_long",
        "太长了(最多 {} 字)",
        "太長了(最多 {} 字)",
        "Too long (at most {})",
    ),
    (
        "err_duplicate",
        "已经有了:{}",
        "已經有了:{}",
        "Already exists: {}",
    ),
    (
        "err_unknown_code",
        "商品库没有这个编码:{}",
        "商品庫沒有這個編碼:{}",
        "Not a library code: {}",
    ),
    (
        "err_plu_taken",
        "这个秤键已给了 {}",
        "這個秤鍵已給了 {}",
        "This key is already {}",
    ),
    (
        "err_plu_range",
        "秤键号应为 1–4000",
        "秤鍵號應為 1–4000",
        "Scale keys are 1–4000",
    ),
    (
        "err_pin_format",
        "PIN 码应为 4–8 位数字",
        "PIN 碼應為 4–8 位數字",
        "A PIN is 4–8 digits",
    ),
    (
        "err_pin_taken",
        "别人已在用这个 PIN",
        "別人已在用這個 PIN",
        "Someone else has this PIN",
    ),
    (
        "err_not_editable",
        "这个用户在配置文件里,请在那里修改",
        "這個用戶在設定檔裡,請在那裡修改",
        "This user is in edge.toml: change it there",
    ),
    (
        "err_phone",
        "电话号码格式不对",
        "電話號碼格式不對",
        "Not a phone number",
    ),
    (
        "err_no_plu",
        "没有产品设了秤键",
        "沒有產品設了秤鍵",
        "No product has a scale key",
    ),
    (
        "err_scale_push",
        "下发到秤失败:{}",
        "下發到秤失敗:{}",
        "The scale refused: {}",
    ),
    (
        "err_shares",
        "来源数量与售出数量不符,或批次剩余不够",
        "來源數量與售出數量不符,或批次剩餘不夠",
        "The shares do not add up to the line, or a lot has too little left",
    ),
];

/// The catalogue of one language as a JSON object, `None` for a language not offered.
pub fn catalogue(lang: &str) -> Option<Value> {
    let i = LANGS.iter().position(|l| *l == lang)?;
    let mut m = Map::with_capacity(MESSAGES.len());
    for (k, cn, hk, en) in MESSAGES {
        m.insert((*k).into(), Value::String([cn, hk, en][i].to_string()));
    }
    Some(Value::Object(m))
}

pub fn text(lang: &str, key: &str) -> Option<&'static str> {
    let i = LANGS.iter().position(|l| *l == lang)?;
    MESSAGES
        .iter()
        .find(|m| m.0 == key)
        .map(|(_, cn, hk, en)| [*cn, *hk, *en][i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys() -> BTreeSet<&'static str> {
        MESSAGES.iter().map(|m| m.0).collect()
    }

    /// Every quoted key after `marker` in `text`.
    fn used(text: &str, marker: &str, quote: char) -> Vec<String> {
        text.match_indices(marker)
            // `t('` inside `createElement('` is not a lookup.
            .filter(|(i, _)| {
                !text[..*i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
            })
            .filter_map(|(i, _)| {
                let rest = &text[i + marker.len()..];
                let end = rest.find(quote)?;
                Some(rest[..end].to_owned())
            })
            // `t('pay_' + x)` builds the key: the test lists those below.
            .filter(|k| !k.is_empty() && !k.ends_with('_'))
            .filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect()
    }

    #[test]
    fn every_key_is_unique_and_translated() {
        assert_eq!(keys().len(), MESSAGES.len(), "duplicate key");
        for (k, cn, hk, en) in MESSAGES {
            assert!(!cn.is_empty() && !hk.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(text("zh-HK", "print"), Some("列印"));
        assert!(catalogue("fr").is_none());
    }

    #[test]
    fn every_key_the_page_and_server_use_is_in_the_catalogue() {
        let html = include_str!("assets/index.html");
        let js = include_str!("assets/app.js");
        let mut need: Vec<String> = Vec::new();
        need.extend(used(html, "data-i18n=\"", '"'));
        need.extend(used(html, "data-i18n-ph=\"", '"'));
        need.extend(used(js, "t('", '\''));
        for s in [
            include_str!("../stall/sale.rs"),
            include_str!("../stall/label.rs"),
            include_str!("label.rs"),
            include_str!("../stall/purchase.rs"),
            include_str!("server.rs"),
            include_str!("sale.rs"),
            include_str!("purchase.rs"),
            include_str!("records.rs"),
            include_str!("books.rs"),
            include_str!("../stall/cash.rs"),
            include_str!("../stall/records.rs"),
            include_str!("../stall/ledger.rs"),
        ] {
            need.extend(
                used(s, "\"err_", '"')
                    .into_iter()
                    .map(|k| format!("err_{k}")),
            );
            need.extend(
                used(s, "\"scan_", '"')
                    .into_iter()
                    .map(|k| format!("scan_{k}")),
            );
        }
        // Keys the page builds from values.
        for p in [
            "online",
            "paper_near_end",
            "paper_out",
            "cover_open",
            "offline",
            "error",
            "none",
        ] {
            need.push(format!("printer_{p}"));
        }
        for u in ["jin", "kg", "item"] {
            need.push(format!("per_{u}"));
        }
        for p in ["cash", "wechat", "alipay", "credit"] {
            need.push(format!("pay_{p}"));
        }
        let have = keys();
        let missing: Vec<_> = need.iter().filter(|k| !have.contains(k.as_str())).collect();
        assert!(
            missing.is_empty(),
            "missing from the catalogue: {missing:?}"
        );
        assert!(need.len() > 60, "the scan found only {} keys", need.len());
    }
}

//! The message catalogue of the public pages: every visible word, in one place per language.
//!
//! Why a typed struct rather than strings in templates or a runtime catalogue: a missing
//! translation is a compile error, the templates stay language-free, and the three languages
//! (Simplified Chinese by default, Traditional Chinese for Hong Kong and Macao visitors, English)
//! are reviewed side by side here.

use trace_core::event::{CertificateKind, CodeLevel};

/// A page language, chosen by `?lang=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    ZhHk,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::ZhCn, Lang::ZhHk, Lang::En];

    /// `zh-CN` (default), `zh-HK`/`zh-TW`/`zh-Hant`, `en`; anything else is the default.
    pub fn from_param(p: Option<&str>) -> Lang {
        match p.map(str::to_ascii_lowercase).as_deref() {
            Some("zh-hk" | "zh-tw" | "zh-mo" | "zh-hant" | "hk") => Lang::ZhHk,
            Some(l) if l.starts_with("en") => Lang::En,
            _ => Lang::ZhCn,
        }
    }

    /// The `lang` attribute and query value.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::ZhHk => "zh-HK",
            Lang::En => "en",
        }
    }

    /// How the language names itself in the switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::ZhCn => "简体",
            Lang::ZhHk => "繁體",
            Lang::En => "English",
        }
    }

    /// Name of a certificate kind.
    pub fn certificate(self, kind: CertificateKind) -> &'static str {
        let i = match kind {
            CertificateKind::ComplianceCertificate => 0,
            CertificateKind::AnimalQuarantine => 1,
            CertificateKind::MeatInspection => 2,
            CertificateKind::EntryInspection => 3,
            CertificateKind::TestReport => 4,
            CertificateKind::Other => 5,
        };
        self.msgs().certificates[i]
    }

    /// Name of a code level (单品码, 箱码, …).
    pub fn level(self, level: CodeLevel) -> &'static str {
        let i = match level {
            CodeLevel::Unit => 0,
            CodeLevel::Case => 1,
            CodeLevel::Pallet => 2,
            CodeLevel::Batch => 3,
        };
        self.msgs().levels[i]
    }

    pub fn msgs(self) -> &'static Msgs {
        match self {
            Lang::ZhCn => &ZH_CN,
            Lang::ZhHk => &ZH_HK,
            Lang::En => &EN,
        }
    }
}

/// Every string the public pages show.
#[derive(Debug)]
pub struct Msgs {
    pub site: &'static str,
    pub trace_title: &'static str,
    pub market: &'static str,
    pub stall: &'static str,
    pub stall_no: &'static str,
    pub ticket_no: &'static str,
    pub time: &'static str,
    pub product: &'static str,
    pub origin: &'static str,
    pub weight: &'static str,
    pub jin: &'static str,
    pub kg: &'static str,
    pub unit_price: &'static str,
    pub amount: &'static str,
    pub total: &'static str,
    pub yuan: &'static str,
    pub per_jin: &'static str,
    pub per_kg: &'static str,
    pub per_item: &'static str,
    pub items: &'static str,
    pub upstream: &'static str,
    pub supplier: &'static str,
    pub batch: &'static str,
    pub upstream_code: &'static str,
    pub unknown: &'static str,
    pub voided: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub typo_title: &'static str,
    pub typo_body: &'static str,
    pub enter_code: &'static str,
    pub look_up: &'static str,
    pub code_hint: &'static str,
    pub verified_note: &'static str,
    /// Certificate kinds, in [`CertificateKind`] order.
    pub certificates: [&'static str; 6],
    // Product codes (预包装食品, `/c/{token}` and GS1 Digital Link).
    pub product_title: &'static str,
    pub product_name: &'static str,
    pub gtin: &'static str,
    pub product_code: &'static str,
    pub production_date: &'static str,
    pub expiry_date: &'static str,
    pub producer: &'static str,
    pub trace_code: &'static str,
    pub code_level: &'static str,
    /// Code levels, in [`CodeLevel`] order: unit, case, pallet, batch.
    pub levels: [&'static str; 4],
    pub code_disabled: &'static str,
    pub code_disabled_body: &'static str,
    /// Written before the reason, colon included (full-width in Chinese).
    pub disabled_reason: &'static str,
    pub code_typo_title: &'static str,
    pub code_not_found_title: &'static str,
    pub code_not_found_body: &'static str,
    pub code_typo_body: &'static str,
    pub enter_product_code: &'static str,
    pub product_code_hint: &'static str,
    pub product_verified_note: &'static str,
}

pub static ZH_CN: Msgs = Msgs {
    site: "湾区溯源",
    trace_title: "购物小票溯源",
    market: "市场",
    stall: "档口",
    stall_no: "档口号",
    ticket_no: "小票编号",
    time: "交易时间",
    product: "商品",
    origin: "产地",
    weight: "重量",
    jin: "斤",
    kg: "公斤",
    unit_price: "单价",
    amount: "金额",
    total: "合计",
    yuan: "元",
    per_jin: "元/斤",
    per_kg: "元/公斤",
    per_item: "元/件",
    items: "件",
    upstream: "进货来源",
    supplier: "供货商",
    batch: "批次",
    upstream_code: "上游追溯码",
    unknown: "未登记",
    voided: "此小票已作废",
    not_found_title: "未找到该小票",
    not_found_body: "没有查到这个编号的小票。请核对小票上的 20 位编号后重新输入；刚打印的小票可能需要稍等片刻。",
    typo_title: "编号有误",
    typo_body: "这个编号的校验位不对：可能有一位数字输错，或两位数字前后颠倒。请对照小票重新输入。",
    enter_code: "输入小票编号",
    look_up: "查询",
    code_hint: "20 位数字，可带空格",
    verified_note: "本记录由档口设备签名上传，链式校验无误。",
    certificates: [
        "承诺达标合格证",
        "动物检疫合格证明",
        "肉品品质检验合格证",
        "入境货物检验检疫证明",
        "检测报告",
        "其他证明",
    ],
    product_title: "产品追溯",
    product_name: "产品名称",
    gtin: "商品条码",
    product_code: "产品编码",
    production_date: "生产日期",
    expiry_date: "保质期至",
    producer: "生产企业",
    trace_code: "追溯码",
    code_level: "码类型",
    levels: ["单品码", "箱码", "托盘码", "批次码"],
    code_disabled: "此码已停用",
    code_disabled_body: "生产企业已停用这个追溯码。请谨慎购买或食用，可向销售者或当地市场监管部门咨询。",
    disabled_reason: "停用原因：",
    code_typo_title: "追溯码有误",
    code_not_found_title: "未找到该追溯码",
    code_not_found_body: "没有查到这个追溯码。请核对包装上的追溯码后重新输入；刚生产的产品可能需要稍等片刻。",
    code_typo_body: "这个追溯码的校验位不对：可能有一位输错，或两位前后颠倒。请对照包装重新输入。",
    enter_product_code: "输入产品追溯码",
    product_code_hint: "包装上的字母和数字，可带空格",
    product_verified_note: "本记录由生产企业设备签名上传，链式校验无误。",
};

pub static ZH_HK: Msgs = Msgs {
    site: "灣區溯源",
    trace_title: "購物小票溯源",
    market: "市場",
    stall: "檔口",
    stall_no: "檔口號",
    ticket_no: "小票編號",
    time: "交易時間",
    product: "商品",
    origin: "產地",
    weight: "重量",
    jin: "斤",
    kg: "公斤",
    unit_price: "單價",
    amount: "金額",
    total: "合計",
    yuan: "元",
    per_jin: "元/斤",
    per_kg: "元/公斤",
    per_item: "元/件",
    items: "件",
    upstream: "進貨來源",
    supplier: "供貨商",
    batch: "批次",
    upstream_code: "上游追溯碼",
    unknown: "未登記",
    voided: "此小票已作廢",
    not_found_title: "找不到該小票",
    not_found_body: "查不到這個編號的小票。請核對小票上的 20 位編號後重新輸入；剛列印的小票可能需要稍等片刻。",
    typo_title: "編號有誤",
    typo_body: "這個編號的校驗位不對：可能有一位數字輸錯，或兩位數字前後顛倒。請對照小票重新輸入。",
    enter_code: "輸入小票編號",
    look_up: "查詢",
    code_hint: "20 位數字，可帶空格",
    verified_note: "本記錄由檔口設備簽名上傳，鏈式校驗無誤。",
    certificates: [
        "承諾達標合格證",
        "動物檢疫合格證明",
        "肉品品質檢驗合格證",
        "入境貨物檢驗檢疫證明",
        "檢測報告",
        "其他證明",
    ],
    product_title: "產品追溯",
    product_name: "產品名稱",
    gtin: "商品條碼",
    product_code: "產品編碼",
    production_date: "生產日期",
    expiry_date: "保質期至",
    producer: "生產企業",
    trace_code: "追溯碼",
    code_level: "碼類型",
    levels: ["單品碼", "箱碼", "托盤碼", "批次碼"],
    code_disabled: "此碼已停用",
    code_disabled_body: "生產企業已停用這個追溯碼。請謹慎購買或食用，可向銷售者或當地市場監管部門查詢。",
    disabled_reason: "停用原因：",
    code_typo_title: "追溯碼有誤",
    code_not_found_title: "找不到該追溯碼",
    code_not_found_body: "查不到這個追溯碼。請核對包裝上的追溯碼後重新輸入；剛生產的產品可能需要稍等片刻。",
    code_typo_body: "這個追溯碼的校驗位不對：可能有一位輸錯，或兩位前後顛倒。請對照包裝重新輸入。",
    enter_product_code: "輸入產品追溯碼",
    product_code_hint: "包裝上的字母和數字，可帶空格",
    product_verified_note: "本記錄由生產企業設備簽名上傳，鏈式校驗無誤。",
};

pub static EN: Msgs = Msgs {
    site: "Bay Area Trace",
    trace_title: "Receipt trace",
    market: "Market",
    stall: "Stall",
    stall_no: "Stall no.",
    ticket_no: "Ticket no.",
    time: "Time of sale",
    product: "Product",
    origin: "Origin",
    weight: "Weight",
    jin: "jin",
    kg: "kg",
    unit_price: "Unit price",
    amount: "Amount",
    total: "Total",
    yuan: "CNY",
    per_jin: "CNY/jin",
    per_kg: "CNY/kg",
    per_item: "CNY/item",
    items: "items",
    upstream: "Where it came from",
    supplier: "Supplier",
    batch: "Batch",
    upstream_code: "Upstream trace code",
    unknown: "not recorded",
    voided: "This ticket was cancelled",
    not_found_title: "Ticket not found",
    not_found_body: "No ticket has this number. Check the 20 digits on your receipt and try again; a receipt printed just now may take a moment to appear.",
    typo_title: "Mistyped code",
    typo_body: "The check digit of this code does not match: a digit is mistyped or two digits are swapped. Please compare with your receipt and type it again.",
    enter_code: "Enter the ticket number",
    look_up: "Look up",
    code_hint: "20 digits, spaces allowed",
    verified_note: "Uploaded and signed by the stall's device; the record's hash chain verifies.",
    certificates: [
        "Compliance certificate",
        "Animal quarantine certificate",
        "Meat inspection certificate",
        "Import inspection certificate",
        "Test report",
        "Other certificate",
    ],
    product_title: "Product trace",
    product_name: "Product",
    gtin: "GTIN (barcode)",
    product_code: "Product code",
    production_date: "Production date",
    expiry_date: "Best before",
    producer: "Producer",
    trace_code: "Trace code",
    code_level: "Code type",
    levels: ["Item code", "Case code", "Pallet code", "Batch code"],
    code_disabled: "This code has been disabled",
    code_disabled_body: "The producer has disabled this trace code. Take care before buying or eating this product; the seller or the local market regulator can tell you more.",
    disabled_reason: "Reason: ",
    code_typo_title: "Mistyped code",
    code_not_found_title: "Trace code not found",
    code_not_found_body: "No product has this trace code. Check the code on the package and try again; goods produced just now may take a moment to appear.",
    code_typo_body: "The check symbol of this code does not match: a character is mistyped or two are swapped. Please compare with the package and type it again.",
    enter_product_code: "Enter the product trace code",
    product_code_hint: "Letters and digits on the package, spaces allowed",
    product_verified_note: "Uploaded and signed by the producer's device; the record's hash chain verifies.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_pick_languages() {
        assert_eq!(Lang::from_param(None), Lang::ZhCn);
        assert_eq!(Lang::from_param(Some("zh-HK")), Lang::ZhHk);
        assert_eq!(Lang::from_param(Some("zh-Hant")), Lang::ZhHk);
        assert_eq!(Lang::from_param(Some("en-GB")), Lang::En);
        assert_eq!(Lang::from_param(Some("xx")), Lang::ZhCn);
        for l in Lang::ALL {
            assert_eq!(Lang::from_param(Some(l.tag())), l);
            assert!(!l.msgs().trace_title.is_empty());
        }
        assert_ne!(ZH_CN.upstream, ZH_HK.upstream);
        assert_eq!(ZH_CN.code_disabled, "此码已停用");
        assert_eq!(Lang::ZhHk.level(CodeLevel::Case), "箱碼");
    }
}

//! The line screen's words: a sibling block of the box's one message catalogue
//! (`ui::i18n`), same shape (key, zh-CN, zh-HK, en), kept in its own file so the stall screen
//! and the line screen can grow without editing each other's lists. Words both screens use
//! (log in, log out, clear, wrong PIN) are taken from `ui::i18n`, not repeated. The server
//! sends keys, never prose; a test checks every key the page and server use is here.
//!
//! Fault messages say what happened *and what to do*, in the operator's words.

use serde_json::{Map, Value};

pub use crate::ui::i18n::LANGS;

/// Keys the line screen takes from the stall catalogue.
const SHARED: [&str; 6] = [
    "login_title",
    "login",
    "logout",
    "clear",
    "err_pin",
    "err_login",
];

/// key, zh-CN, zh-HK, en. `{}` is replaced by the message's argument.
pub const MESSAGES: &[(&str, &str, &str, &str)] = &[
    ("line_title", "生产线", "生產線", "Production line"),
    ("job", "作业", "作業", "Job"),
    ("batch", "批次", "批次", "Batch"),
    ("template", "码模板", "碼模板", "Code template"),
    ("product", "产品", "產品", "Product"),
    ("coder", "喷码机", "噴碼機", "Coder"),
    ("target", "计划数量", "計劃數量", "Planned"),
    ("progress", "进度", "進度", "Progress"),
    (
        "c_encoded",
        "已打印(已确认)",
        "已列印(已確認)",
        "Printed (confirmed)",
    ),
    ("c_scrapped", "报废码", "報廢碼", "Scrapped codes"),
    (
        "c_buffered",
        "喷码机缓存",
        "噴碼機緩存",
        "In the coder's buffer",
    ),
    (
        "c_rate",
        "速度(件/分钟)",
        "速度(件/分鐘)",
        "Speed (items/min)",
    ),
    ("st_idle", "未开始", "未開始", "Not started"),
    ("st_running", "正在打印", "正在列印", "Printing"),
    ("st_held", "故障停机", "故障停機", "Held by a fault"),
    ("st_pausing", "正在暂停…", "正在暫停…", "Pausing…"),
    ("st_paused", "已暂停", "已暫停", "Paused"),
    ("st_resuming", "正在继续…", "正在繼續…", "Resuming…"),
    ("st_stopping", "正在停止…", "正在停止…", "Stopping…"),
    ("st_stopped", "已停止", "已停止", "Stopped"),
    ("st_done", "已完成", "已完成", "Done"),
    ("st_failed", "出错停止", "出錯停止", "Stopped by an error"),
    ("btn_start", "开始", "開始", "Start"),
    ("btn_pause", "暂停", "暫停", "Pause"),
    ("btn_resume", "继续", "繼續", "Resume"),
    ("btn_stop", "停止", "停止", "Stop"),
    (
        "confirm_stop",
        "再按一次确认停止",
        "再按一次確認停止",
        "Tap again to stop",
    ),
    (
        "fault_disconnected",
        "喷码机未连接：请检查喷码机电源和网线(或串口线)。连上后自动继续；已发出但未确认打印的码会作废，绝不重复打印。",
        "噴碼機未連接：請檢查噴碼機電源和網線(或串口線)。連上後自動繼續；已發出但未確認列印的碼會作廢，絕不重複列印。",
        "The coder is not connected: check its power and network (or serial) cable. The line carries on by itself once it is back; codes sent but not confirmed are scrapped, never printed twice.",
    ),
    (
        "fault_coder",
        "喷码机报故障：{}。请按喷码机屏幕提示检查、清洁喷头；故障排除后自动继续打印。",
        "噴碼機報故障：{}。請按噴碼機螢幕提示檢查、清潔噴頭；故障排除後自動繼續列印。",
        "The coder reports a fault: {}. Check and clean the print head as its own screen says; printing resumes by itself once the fault is cleared.",
    ),
    (
        "fault_buffer_full",
        "喷码机缓存已满，暂不接收新码；打印腾出空间后自动继续。如经常出现，请联系维护人员调低高水位。",
        "噴碼機緩存已滿，暫不接收新碼；列印騰出空間後自動繼續。如經常出現，請聯絡維護人員調低高水位。",
        "The coder's buffer is full and takes no new codes; feeding resumes as it prints. If this keeps happening, ask maintenance to lower the high-water mark.",
    ),
    (
        "fault_other",
        "喷码机异常：{}。已核对已打印的码并继续；如反复出现，请按“停止”并联系维护人员。",
        "噴碼機異常：{}。已核對已列印的碼並繼續；如反覆出現，請按「停止」並聯絡維護人員。",
        "The coder misbehaved: {}. What it printed was checked and the line goes on; if this repeats, press Stop and call maintenance.",
    ),
    (
        "failed_hint",
        "作业因错误停止：{}。请联系维护人员；处理后按“开始”可接着打印本作业，不会重复打印。",
        "作業因錯誤停止：{}。請聯絡維護人員；處理後按「開始」可接著列印本作業，不會重複列印。",
        "The job stopped on an error: {}. Call maintenance; afterwards Start carries on with this job, nothing is printed twice.",
    ),
    ("rc_title", "批次对账", "批次對賬", "Batch reconciliation"),
    ("rc_allocated", "已分配", "已分配", "Allocated"),
    ("rc_encoded", "已打印", "已列印", "Printed"),
    ("rc_scrapped", "报废", "報廢", "Scrapped"),
    ("rc_unused", "未使用", "未使用", "Unused"),
    ("rc_balanced", "账平", "賬平", "Balanced"),
    ("rc_unbalanced", "账不平", "賬不平", "Does not balance"),
    (
        "err_line_state",
        "现在不能这样操作",
        "現在不能這樣操作",
        "Not possible right now",
    ),
    (
        "err_job_done",
        "本作业已全部完成；新作业请在配置中设置",
        "本作業已全部完成；新作業請在設定中設置",
        "This job is complete; set up a new job in the configuration",
    ),
    (
        "err_store",
        "本机存储出错，请联系维护人员",
        "本機儲存出錯，請聯絡維護人員",
        "The box's storage failed; call maintenance",
    ),
    (
        "conn_lost",
        "与本机的连接中断，正在重连…",
        "與本機的連接中斷，正在重連…",
        "Lost the connection to the box; reconnecting…",
    ),
];

/// The line screen's catalogue of one language, `None` for a language not offered.
pub fn catalogue(lang: &str) -> Option<Value> {
    let i = LANGS.iter().position(|l| *l == lang)?;
    let mut m = Map::with_capacity(MESSAGES.len() + SHARED.len());
    for k in SHARED {
        if let Some(t) = crate::ui::i18n::text(lang, k) {
            m.insert(k.into(), Value::String(t.into()));
        }
    }
    for (k, cn, hk, en) in MESSAGES {
        m.insert((*k).into(), Value::String([cn, hk, en][i].to_string()));
    }
    Some(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn used(text: &str, marker: &str, quote: char) -> Vec<String> {
        text.split(marker)
            .skip(1)
            .filter_map(|rest| rest.split(quote).next())
            .filter(|k| !k.is_empty() && !k.contains(' '))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_key_is_unique_translated_and_shared_keys_exist() {
        let mut seen = BTreeSet::new();
        for (k, cn, hk, en) in MESSAGES {
            assert!(seen.insert(*k), "{k} twice");
            assert!(!SHARED.contains(k), "{k} is shared; take it from ui::i18n");
            assert!(!cn.is_empty() && !hk.is_empty() && !en.is_empty(), "{k}");
            assert_eq!(cn.matches("{}").count(), en.matches("{}").count(), "{k}");
            assert_eq!(hk.matches("{}").count(), en.matches("{}").count(), "{k}");
        }
        for lang in LANGS {
            let c = catalogue(lang).unwrap();
            for k in SHARED {
                assert!(c.get(k).is_some(), "{lang}: shared key {k} is missing");
            }
        }
        assert!(catalogue("fr").is_none());
    }

    #[test]
    fn every_key_the_page_and_server_use_is_in_the_catalogue() {
        let html = include_str!("assets/index.html");
        let js = include_str!("assets/line.js");
        let mut need: Vec<String> = Vec::new();
        need.extend(used(html, "data-i18n=\"", '"'));
        // `t('key'` as a call, not the tail of another name (`setCount('#c-…'`); a key built
        // from a value (`t('st_' + v.state)`) is listed below.
        need.extend(
            js.match_indices("t('")
                .filter(|(i, _)| {
                    !js[..*i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
                })
                .filter_map(|(i, m)| js[i + m.len()..].split('\'').next())
                .filter(|k| !k.ends_with('_'))
                .map(str::to_owned),
        );
        for s in [include_str!("server.rs"), include_str!("controller.rs")] {
            need.extend(
                used(s, "\"err_", '"')
                    .into_iter()
                    .map(|k| format!("err_{k}")),
            );
        }
        // Keys the page builds from values.
        for s in [
            "idle", "running", "held", "pausing", "paused", "resuming", "stopping", "stopped",
            "done", "failed",
        ] {
            need.push(format!("st_{s}"));
        }
        for f in ["disconnected", "coder", "buffer_full", "other"] {
            need.push(format!("fault_{f}"));
        }
        let have = catalogue("en").unwrap();
        let missing: Vec<_> = need
            .iter()
            .filter(|k| have.get(k.as_str()).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "missing from the catalogue: {missing:?}"
        );
        assert!(need.len() > 30, "the scan found only {} keys", need.len());
    }
}

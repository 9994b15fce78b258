//! The origin picker's GB/T 2260 codes (province → city → district).
//!
//! Why a short embedded list: the picker must work offline, and a stall in the Greater Bay
//! Area buys from a handful of places. Every province is here; cities and districts for the
//! usual supply regions. A code not in the list can still be typed: `RegionCode` checks its
//! shape. (Not yet: the full table as a downlink document from the cloud.)

use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
}

pub const REGIONS: &[(&str, &str)] = &[
    ("110000", "北京市"),
    ("120000", "天津市"),
    ("130000", "河北省"),
    ("140000", "山西省"),
    ("150000", "内蒙古自治区"),
    ("210000", "辽宁省"),
    ("220000", "吉林省"),
    ("230000", "黑龙江省"),
    ("310000", "上海市"),
    ("320000", "江苏省"),
    ("330000", "浙江省"),
    ("340000", "安徽省"),
    ("350000", "福建省"),
    ("360000", "江西省"),
    ("370000", "山东省"),
    ("410000", "河南省"),
    ("420000", "湖北省"),
    ("430000", "湖南省"),
    ("440000", "广东省"),
    ("440100", "广州市"),
    ("440103", "荔湾区"),
    ("440104", "越秀区"),
    ("440105", "海珠区"),
    ("440106", "天河区"),
    ("440111", "白云区"),
    ("440112", "黄埔区"),
    ("440113", "番禺区"),
    ("440114", "花都区"),
    ("440115", "南沙区"),
    ("440117", "从化区"),
    ("440118", "增城区"),
    ("440300", "深圳市"),
    ("440400", "珠海市"),
    ("440500", "汕头市"),
    ("440600", "佛山市"),
    ("440604", "禅城区"),
    ("440605", "南海区"),
    ("440606", "顺德区"),
    ("440607", "三水区"),
    ("440608", "高明区"),
    ("440700", "江门市"),
    ("440800", "湛江市"),
    ("441200", "肇庆市"),
    ("441300", "惠州市"),
    ("441900", "东莞市"),
    ("442000", "中山市"),
    ("450000", "广西壮族自治区"),
    ("450100", "南宁市"),
    ("450200", "柳州市"),
    ("450300", "桂林市"),
    ("460000", "海南省"),
    ("500000", "重庆市"),
    ("510000", "四川省"),
    ("520000", "贵州省"),
    ("530000", "云南省"),
    ("540000", "西藏自治区"),
    ("610000", "陕西省"),
    ("620000", "甘肃省"),
    ("630000", "青海省"),
    ("640000", "宁夏回族自治区"),
    ("650000", "新疆维吾尔自治区"),
    ("710000", "台湾省"),
    ("810000", "香港特别行政区"),
    ("820000", "澳门特别行政区"),
];

pub fn all() -> Vec<Region> {
    REGIONS
        .iter()
        .map(|&(code, name)| Region { code, name })
        .collect()
}

/// `广东省-广州市-从化区` for `440117`, from the names known here.
pub fn full_name(code: &str) -> Option<String> {
    if code.len() != 6 {
        return None;
    }
    let name = |c: String| REGIONS.iter().find(|(k, _)| *k == c).map(|(_, n)| *n);
    let mut parts = vec![name(format!("{}0000", &code[..2]))?];
    if &code[2..4] != "00" {
        parts.extend(name(format!("{}00", &code[..4])));
    }
    if &code[4..] != "00" {
        parts.extend(name(code.to_owned()));
    }
    Some(parts.join("-"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_code_parses_and_names_join() {
        for (c, _) in super::REGIONS {
            trace_core::RegionCode::parse(c).unwrap();
        }
        assert_eq!(
            super::full_name("440117").as_deref(),
            Some("广东省-广州市-从化区")
        );
        assert_eq!(
            super::full_name("450000").as_deref(),
            Some("广西壮族自治区")
        );
    }
}

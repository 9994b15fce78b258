//! The product library (商品库) the 资料 screen picks main products from, with category codes.
//!
//! Codes are the market's two-level scheme: category (2 digits) + item (2 digits), e.g.
//! `0101` 猪肉 in `01` 畜肉. Why embedded: records must be added with the network unplugged;
//! a market with its own list can still type any name, the code then being the category's.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct LibraryItem {
    pub code: &'static str,
    pub name: &'static str,
    /// The usual way it is priced: `jin`, `kg` or `item`.
    pub unit: &'static str,
}

pub const CATEGORIES: &[(&str, &str)] = &[
    ("01", "畜肉"),
    ("02", "禽肉"),
    ("03", "水产"),
    ("04", "蔬菜"),
    ("05", "水果"),
    ("06", "蛋类"),
    ("07", "豆制品"),
    ("08", "粮油干货"),
];

const fn it(code: &'static str, name: &'static str, unit: &'static str) -> LibraryItem {
    LibraryItem { code, name, unit }
}

pub const LIBRARY: &[LibraryItem] = &[
    it("0101", "猪肉", "jin"),
    it("0102", "牛肉", "jin"),
    it("0103", "羊肉", "jin"),
    it("0104", "猪排骨", "jin"),
    it("0105", "猪杂", "jin"),
    it("0201", "鸡", "jin"),
    it("0202", "鸭", "jin"),
    it("0203", "鹅", "jin"),
    it("0204", "鸽", "item"),
    it("0301", "草鱼", "jin"),
    it("0302", "鲩鱼", "jin"),
    it("0303", "鲈鱼", "jin"),
    it("0304", "对虾", "jin"),
    it("0305", "蟹", "jin"),
    it("0306", "蚬", "jin"),
    it("0401", "菜心", "jin"),
    it("0402", "白菜", "jin"),
    it("0403", "生菜", "jin"),
    it("0404", "番茄", "jin"),
    it("0405", "土豆", "jin"),
    it("0406", "萝卜", "jin"),
    it("0407", "青瓜", "jin"),
    it("0408", "豆角", "jin"),
    it("0409", "姜", "jin"),
    it("0410", "葱", "jin"),
    it("0501", "苹果", "jin"),
    it("0502", "香蕉", "jin"),
    it("0503", "柑橘", "jin"),
    it("0504", "荔枝", "jin"),
    it("0505", "龙眼", "jin"),
    it("0601", "鸡蛋", "item"),
    it("0602", "鸭蛋", "item"),
    it("0701", "豆腐", "item"),
    it("0702", "腐竹", "jin"),
    it("0801", "大米", "kg"),
    it("0802", "花生油", "item"),
];

/// Whether `code` is a library item's or a category's code.
pub fn known_code(code: &str) -> bool {
    LIBRARY.iter().any(|i| i.code == code) || CATEGORIES.iter().any(|(c, _)| *c == code)
}

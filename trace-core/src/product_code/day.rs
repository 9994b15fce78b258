//! Calendar days for production and expiry dates: a count of days since 2000-01-01, because a
//! code packs it into 15 bits and GS1 writes it as `YYMMDD`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Days since 2000-01-01; codes carry `0..DAY_LIMIT` (up to 2089-09-17).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day(pub u16);

/// Days a code can carry: 15 bits.
pub const DAY_LIMIT: u16 = 1 << 15;

/// Days from 1970-01-01 to 2000-01-01.
const EPOCH_2000: i64 = 10_957;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a date YYYY-MM-DD between 2000-01-01 and 2089-09-17")]
pub struct DayError(pub String);

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Day {
    pub fn parse(s: &str) -> Result<Day, DayError> {
        let bad = || DayError(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, DayError> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let days = days_from_civil(y, m, d);
        // Round trip rejects 2026-02-30 and friends.
        if !(1..=12).contains(&m) || crate::time::civil_from_days(days) != (y, m, d) {
            return Err(bad());
        }
        let n = days - EPOCH_2000;
        u16::try_from(n)
            .ok()
            .filter(|&n| n < DAY_LIMIT)
            .map(Day)
            .ok_or_else(bad)
    }

    fn civil(self) -> (i64, i64, i64) {
        crate::time::civil_from_days(i64::from(self.0) + EPOCH_2000)
    }

    /// GS1 date form (AI 11 and 17).
    pub fn yymmdd(self) -> String {
        let (y, m, d) = self.civil();
        format!("{:02}{m:02}{d:02}", y % 100)
    }

    /// From GS1 `YYMMDD` (years 2000..2099; day 00 is not accepted).
    pub fn from_yymmdd(s: &str) -> Result<Day, DayError> {
        if s.len() != 6 || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(DayError(s.to_owned()));
        }
        Day::parse(&format!("20{}-{}-{}", &s[0..2], &s[2..4], &s[4..6]))
            .map_err(|_| DayError(s.to_owned()))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Day({self})")
    }
}

impl TryFrom<String> for Day {
    type Error = DayError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Day::parse(&s)
    }
}

impl From<Day> for String {
    fn from(d: Day) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(Day::parse("2000-01-01"), Ok(Day(0)));
        let d = Day::parse("2026-11-22").unwrap();
        assert_eq!(d.to_string(), "2026-11-22");
        assert_eq!(d.yymmdd(), "261122");
        assert_eq!(Day::from_yymmdd("261122"), Ok(d));
        assert!(Day::parse("2026-02-29").is_err());
        assert!(Day::parse("2028-02-29").is_ok());
        assert!(Day::parse("1999-12-31").is_err());
        assert!(Day::parse("2089-09-17").is_ok());
        assert!(Day::parse("2089-09-18").is_err());
        assert!(Day::parse("2026-13-01").is_err());
        assert!(Day::parse("2026-1-01").is_err());
        for n in (0..DAY_LIMIT).step_by(97) {
            assert_eq!(Day::parse(&Day(n).to_string()), Ok(Day(n)));
        }
    }
}

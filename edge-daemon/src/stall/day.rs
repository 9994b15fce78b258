//! Market days: the Greater Bay Area's calendar day (UTC+8) as a millisecond range, and the
//! `YYYY-MM-DD` the forms send.

use trace_core::time::{GBA_OFFSET_MS, civil_from_days};

const DAY: i64 = 86_400_000;

/// Midnight (UTC+8) of the day containing `ms`.
pub fn day_start(ms: i64) -> i64 {
    (ms + GBA_OFFSET_MS).div_euclid(DAY) * DAY - GBA_OFFSET_MS
}

/// Proleptic Gregorian date → days since 1970-01-01 (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-22` → midnight of that day in the GBA, UTC ms. `None` unless a real date.
pub fn parse_day(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(2000..=2200).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // 2026-02-30 would roll over into March: refuse it.
    (civil_from_days(days) == (y, m, d)).then_some(days * DAY - GBA_OFFSET_MS)
}

/// The GBA date of `ms` as `YYYY-MM-DD`.
pub fn day_name(ms: i64) -> String {
    let (y, m, d) = civil_from_days((ms + GBA_OFFSET_MS).div_euclid(DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

pub const DAY_MS: i64 = DAY;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_refuse_non_dates() {
        let t = parse_day("2026-11-22").unwrap();
        assert_eq!(day_name(t), "2026-11-22");
        assert_eq!(day_name(t + DAY - 1), "2026-11-22");
        assert_eq!(day_start(t + 5_000), t);
        // 2026-11-22 00:00 +08:00 is 2026-11-21 16:00 UTC.
        assert_eq!(
            trace_core::time::rfc3339_utc(trace_core::Timestamp(t)),
            "2026-11-21T16:00:00.000Z"
        );
        for bad in ["2026-02-30", "2026-13-01", "26-1-1", "", "2026-1", "abc"] {
            assert!(parse_day(bad).is_none(), "{bad}");
        }
        assert!(parse_day("2028-02-29").is_some());
    }
}

//! Civil time for display: UTC RFC 3339 for logs and exports, market-local minutes for people.
//!
//! A few lines of calendar arithmetic instead of a date crate: storage is UTC milliseconds
//! ([`Timestamp`]); the Greater Bay Area's zones (Asia/Shanghai, Asia/Hong_Kong, Asia/Macau) are
//! all UTC+8 with no daylight saving, so local display is a fixed offset.

use crate::entry::Timestamp;

/// UTC+8: Asia/Shanghai, Asia/Hong_Kong and Asia/Macau alike (no DST since 1991/1979).
pub const GBA_OFFSET_MS: i64 = 8 * 3_600_000;

/// `2026-11-22T03:50:10.123Z`.
pub fn rfc3339_utc(t: Timestamp) -> String {
    let ms = t.0.rem_euclid(1000);
    let (y, m, d, sod) = split(t.0);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// `2026-11-22 11:50`: minutes in the Greater Bay Area's local time (UTC+8).
pub fn gba_minutes(t: Timestamp) -> String {
    let (y, m, d, sod) = split(t.0 + GBA_OFFSET_MS);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        sod / 3600,
        (sod / 60) % 60
    )
}

/// (year, month, day, second of day) of a UTC millisecond instant.
fn split(ms: i64) -> (i64, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    (y, m, d, secs.rem_euclid(86_400))
}

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day); H. Hinnant's algorithm.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn utc_instants() {
        assert_eq!(rfc3339_utc(Timestamp(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_utc(Timestamp(1_700_000_000_123)),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            rfc3339_utc(Timestamp(951_782_400_000)),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn local_minutes() {
        assert_eq!(gba_minutes(Timestamp(0)), "1970-01-01 08:00");
        // 2026-02-28T16:30:00Z is 2026-03-01 00:30 in Shanghai.
        assert_eq!(
            gba_minutes(Timestamp(1_772_296_200_000)),
            "2026-03-01 00:30"
        );
        assert_eq!(gba_minutes(Timestamp(-1)), "1970-01-01 07:59");
        assert_eq!(
            gba_minutes(Timestamp(1_709_179_200_000)),
            "2024-02-29 12:00"
        );
    }
}

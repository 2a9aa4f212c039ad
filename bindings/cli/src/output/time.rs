//! Times and durations for human eyes: ISO-8601 UTC timestamps and short durations.
//!
//! A dozen lines of calendar arithmetic (Howard Hinnant's `civil_from_days`) instead of a date
//! crate: the CLI only ever formats UTC milliseconds, for the whole `i64` range, and never parses.

/// Formats milliseconds since the Unix epoch as ISO-8601 UTC to the second,
/// e.g. `2026-04-20T09:30:00Z`.
pub fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // i128 keeps the shifts below free of overflow for every i64 millisecond value.
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i128::from(month <= 2);
    (i64::try_from(year).unwrap_or(i64::MAX), month, day)
}

/// Formats a duration in milliseconds compactly: `2d 3h 15m`, `45s`, `750ms`, `0s`.
pub fn duration(ms: i64) -> String {
    if ms < 0 {
        return format!("-{}", duration(ms.checked_neg().unwrap_or(i64::MAX)));
    }
    if ms < 1000 {
        return if ms == 0 {
            "0s".into()
        } else {
            format!("{ms}ms")
        };
    }
    let secs = ms / 1000;
    let parts = [
        (secs / 86_400, "d"),
        (secs / 3600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
    ];
    let shown: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .take(3)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    shown.join(" ")
}

/// Formats a byte count: `512 B`, `12.3 KiB`, `4.0 MiB`.
pub fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{:.1} MiB", f / (KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_formats_known_instants() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso(-1), "1969-12-31T23:59:59Z");
        assert_eq!(iso(253_402_300_799_999), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn iso_never_panics_at_the_extremes() {
        assert!(iso(i64::MAX).ends_with('Z'));
        assert!(iso(i64::MIN).ends_with('Z'));
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(750), "750ms");
        assert_eq!(duration(45_000), "45s");
        assert_eq!(duration(1_800_000), "30m");
        assert_eq!(
            duration(2 * 86_400_000 + 3 * 3_600_000 + 15 * 60_000 + 9_000),
            "2d 3h 15m"
        );
        assert_eq!(duration(-60_000), "-1m");
        assert!(duration(i64::MIN).starts_with('-'));
    }

    #[test]
    fn byte_counts_are_readable() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(12_600), "12.3 KiB");
        assert_eq!(bytes(4 * 1024 * 1024), "4.0 MiB");
    }
}

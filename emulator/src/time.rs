//! Wall-clock helpers without a date crate: milliseconds since the Unix epoch, and the
//! two text forms Azure uses (RFC 3339 with `+00:00`, and ARM's `M/D/YYYY h:mm:ss AM`
//! form in token-expiry messages).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before 1970, which it never is here).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
    millis: u64,
}

fn parts(ms: u64) -> Parts {
    let secs = ms / 1000;
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    Parts {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: (rem % 3600) / 60,
        second: rem % 60,
        millis: ms % 1000,
    }
}

/// `2026-11-27T13:47:19.1230000+00:00`, the shape DiskRP uses for `timeCreated`.
pub fn rfc3339(ms: u64) -> String {
    let p = parts(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}0000+00:00",
        p.year, p.month, p.day, p.hour, p.minute, p.second, p.millis
    )
}

/// ARM's token-expiry message form: `11/27/2026 1:47:19 PM`.
pub fn arm_message_time(ms: u64) -> String {
    let p = parts(ms);
    let (h12, ampm) = match p.hour {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        p.month, p.day, p.year, h12, p.minute, p.second, ampm
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // 2024-02-29T23:59:58.5Z
        let ms = 1_709_251_198_500;
        assert_eq!(rfc3339(ms), "2024-02-29T23:59:58.5000000+00:00");
        assert_eq!(arm_message_time(ms), "2/29/2024 11:59:58 PM");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.0000000+00:00");
        assert_eq!(arm_message_time(0), "1/1/1970 12:00:00 AM");
    }
}

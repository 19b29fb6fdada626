//! Where a result comes from: fpgen's version, the git commit it was built from, the
//! command line, and the start and end times (UTC, RFC 3339) of the run.

use serde::Serialize;
use std::time::SystemTime;

#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    pub fpgen_version: String,
    pub git_commit: String,
    pub command_line: Vec<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
}

impl Provenance {
    /// Now, for the running process.
    pub fn start() -> Self {
        Self {
            fpgen_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: env!("FPGEN_GIT_COMMIT").to_string(),
            command_line: std::env::args().collect(),
            started_at: utc_now(),
            ended_at: None,
        }
    }

    /// The same, ended now.
    pub fn ended(&self) -> Self {
        Self { ended_at: Some(utc_now()), ..self.clone() }
    }
}

/// The current time as `YYYY-MM-DDThh:mm:ssZ`.
pub fn utc_now() -> String {
    let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(seconds)
}

/// Seconds since 1970 as `YYYY-MM-DDThh:mm:ssZ` (the civil date from the day count, after
/// H. Hinnant's `civil_from_days`).
fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rem = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_000_000), "2026-11-30T00:53:20Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}

//! How much memory a run may use: what the machine has available (Linux: MemAvailable),
//! or a smaller limit the user sets (`--max-memory`), checked before large allocations so
//! that a config too big for the machine is refused with the key that makes it big,
//! instead of aborting in the allocator.

use std::sync::OnceLock;

use crate::error::ConfigError;

static LIMIT: OnceLock<u64> = OnceLock::new();

/// Cap the memory a run may use, in bytes (first call wins).
pub fn set_limit(bytes: u64) {
    let _ = LIMIT.set(bytes);
}

/// Bytes the machine has available now (None where it cannot tell).
pub fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The budget: the user's limit, else what is available.
pub fn budget() -> Option<u64> {
    LIMIT.get().copied().or_else(available)
}

/// Refuse `bytes` (an estimate for `what`) when it exceeds the budget; the error names
/// `key`, the knob that sets the size.
pub fn check_memory(key: &str, what: &str, bytes: f64) -> Result<(), ConfigError> {
    check_against(key, what, bytes, budget())
}

fn check_against(key: &str, what: &str, bytes: f64, budget: Option<u64>) -> Result<(), ConfigError> {
    let fits = match budget {
        Some(limit) => bytes <= limit as f64,
        None => bytes.is_finite(),
    };
    if fits {
        return Ok(());
    }
    let gib = |b: f64| b / (1u64 << 30) as f64;
    Err(ConfigError::new(
        key,
        format!(
            "{what} needs about {:.3} GiB, more than the {:.3} GiB this run may use (the machine's available memory, or --max-memory)",
            gib(bytes),
            gib(budget.unwrap_or(0) as f64)
        ),
    ))
}

/// Parse a size: bytes, or a number with K, M, G or T (binary units).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (number, scale) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("not a size: {text:?} (e.g. 512M, 8G)"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("a size must be > 0 (got {text:?})"));
    }
    Ok((value * scale as f64) as u64)
}

/// `ffmpeg` runs from PATH (for MP4 movies).
pub fn ffmpeg_available() -> bool {
    std::process::Command::new("ffmpeg")
        .arg("-version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_estimates_are_refused_over_the_budget() {
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5g").unwrap(), 3 << 29);
        assert!(parse_size("-1G").is_err() && parse_size("lots").is_err());
        let err = check_against("grid.cells", "the grid", 2e9, Some(1 << 30)).unwrap_err();
        assert_eq!(err.key, "grid.cells");
        assert!(err.message.contains("1.863 GiB"), "{}", err.message);
        assert!(check_against("grid.cells", "the grid", 1e9, Some(1 << 30)).is_ok());
        assert!(check_against("k", "x", f64::INFINITY, None).is_err());
    }
}

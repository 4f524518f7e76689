//! When a key stops working: the presets of the form and the CLI (`30d`, `90d`, `1y`, `DAYSd`),
//! a calendar date, or never; checked against the workspace's longest allowed lifetime.

use crate::{
    clock::{DAY, Millis, parse_utc_day},
    error::{CoreError, CoreResult},
};

/// A requested lifetime, before it is checked against a workspace's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryChoice {
    Never,
    Days(i64),
    /// The end of this UTC day (unix ms of the next midnight).
    Until(Millis),
}

/// The longest lifetime a key may ask for: 10 years.
const MAX_DAYS: i64 = 3650;

impl ExpiryChoice {
    /// `never`/`none`, `30d`, `90d`, `1y`, `<N>d`, or a date `YYYY-MM-DD`.
    pub fn parse(value: &str) -> CoreResult<Self> {
        let v = value.trim().to_ascii_lowercase();
        let bad = || {
            CoreError::invalid(
                "expiry",
                "Choose 30d, 90d, 1y, a number of days such as 45d, a date (YYYY-MM-DD), or never.",
            )
        };
        match v.as_str() {
            "never" | "none" => return Ok(ExpiryChoice::Never),
            "1y" => return Ok(ExpiryChoice::Days(365)),
            _ => {}
        }
        if let Some(days) = v.strip_suffix('d') {
            let days: i64 = days.parse().map_err(|_| bad())?;
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(CoreError::invalid("expiry", format!("Choose between 1 and {MAX_DAYS} days.")));
            }
            return Ok(ExpiryChoice::Days(days));
        }
        parse_utc_day(&v).map(|midnight| ExpiryChoice::Until(midnight + DAY)).ok_or_else(bad)
    }

    /// The expiry time for a key created at `now`, within the workspace's limit (in days).
    pub fn resolve(self, now: Millis, max_lifetime_days: Option<i64>) -> CoreResult<Option<Millis>> {
        let at = match self {
            ExpiryChoice::Never => None,
            ExpiryChoice::Days(days) => Some(now + days * DAY),
            ExpiryChoice::Until(at) => {
                if at <= now {
                    return Err(CoreError::invalid("expiry", "That date has passed. Choose a date in the future."));
                }
                if at > now + MAX_DAYS * DAY {
                    return Err(CoreError::invalid("expiry", "Choose a date within ten years."));
                }
                Some(at)
            }
        };
        if let Some(max) = max_lifetime_days {
            match at {
                None => {
                    return Err(CoreError::invalid(
                        "expiry",
                        format!("This workspace requires keys to expire within {max} days."),
                    ));
                }
                Some(at) if at > now + max * DAY => {
                    return Err(CoreError::invalid(
                        "expiry",
                        format!("This workspace allows keys to live at most {max} days."),
                    ));
                }
                _ => {}
            }
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_795_392_000_000; // 2026-11-23

    #[test]
    fn presets_and_dates() {
        assert_eq!(ExpiryChoice::parse("30d").ok(), Some(ExpiryChoice::Days(30)));
        assert_eq!(ExpiryChoice::parse("1y").ok(), Some(ExpiryChoice::Days(365)));
        assert_eq!(ExpiryChoice::parse("never").ok(), Some(ExpiryChoice::Never));
        assert_eq!(ExpiryChoice::parse("2026-11-24").ok(), Some(ExpiryChoice::Until(NOW + 2 * DAY)));
        for bad in ["", "0d", "-3d", "5000d", "2026-02-30", "tomorrow", "2026-1-1", "1e3d"] {
            assert!(ExpiryChoice::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn past_dates_and_policy() {
        assert!(ExpiryChoice::parse("2020-01-01").and_then(|e| e.resolve(NOW, None)).is_err());
        assert_eq!(ExpiryChoice::Days(30).resolve(NOW, Some(90)).ok(), Some(Some(NOW + 30 * DAY)));
        assert!(ExpiryChoice::Days(365).resolve(NOW, Some(90)).is_err());
        assert!(ExpiryChoice::Never.resolve(NOW, Some(90)).is_err());
        assert_eq!(ExpiryChoice::Never.resolve(NOW, None).ok(), Some(None));
    }
}

//! Building blocks shared by the pages: form fields, alerts, buttons, headings, dates.

mod chart;
mod forms;
mod frame;
mod new_key;
mod popover;
mod redirect;
mod reveal;

pub use chart::{Chart, ChartKind, point_label};
pub use forms::{FormAlert, SubmitButton, TextField, field_error};
pub use frame::{AppHeader, PageHeader, Renamed, SideNav};
pub use new_key::{CreateButton, ExpiryFields, closed_after_success};
pub use popover::{LazyPopover, Popover};
pub use redirect::GoTo;
pub use reveal::Reveal;

/// Where a key or connector was used from, for its row: "Used from 203.0.113.7 and 2 other addresses".
pub fn used_from_text(latest: &str, count: i64) -> String {
    match count {
        ..=1 => format!("Used from {latest}"),
        2 => format!("Used from {latest} and 1 other address"),
        n => format!("Used from {latest} and {} other addresses", n - 1),
    }
}

/// A unix-milliseconds time as `YYYY-MM-DD` (UTC), the same on the server and in the browser.
pub fn format_date(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

/// A unix-milliseconds time as `YYYY-MM-DD HH:MM` (UTC).
pub fn format_time(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{} {:02}:{:02}", format_date(ms), minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::format_date(0), "1970-01-01");
        assert_eq!(super::format_date(1_795_392_000_000), "2026-11-23");
        assert_eq!(super::format_date(951_782_400_000), "2000-02-29");
    }

    #[test]
    fn used_from() {
        assert_eq!(super::used_from_text("203.0.113.7", 1), "Used from 203.0.113.7");
        assert_eq!(super::used_from_text("::1", 2), "Used from ::1 and 1 other address");
        assert_eq!(super::used_from_text("::1", 50), "Used from ::1 and 49 other addresses");
    }
}

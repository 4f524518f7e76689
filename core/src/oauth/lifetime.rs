//! How long a connection may last, as the person approving it chooses: until removed, or a day,
//! a week, 30 or 90 days.

use crate::{
    clock::{DAY, Millis},
    error::{CoreError, CoreResult},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    UntilRemoved,
    Days(i64),
}

impl Lifetime {
    pub const CHOICES: [(&'static str, &'static str); 5] =
        [("", "Until I remove it"), ("1d", "1 day"), ("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days")];

    pub fn parse(value: &str) -> CoreResult<Self> {
        match value {
            "" | "forever" => Ok(Lifetime::UntilRemoved),
            "1d" => Ok(Lifetime::Days(1)),
            "7d" => Ok(Lifetime::Days(7)),
            "30d" => Ok(Lifetime::Days(30)),
            "90d" => Ok(Lifetime::Days(90)),
            _ => Err(CoreError::invalid("lifetime", "Choose until removed, 1 day, 7 days, 30 days or 90 days.")),
        }
    }

    /// When a connection approved at `now` ends.
    pub fn ends_at(self, now: Millis) -> Option<Millis> {
        match self {
            Lifetime::UntilRemoved => None,
            Lifetime::Days(d) => Some(now + d * DAY),
        }
    }
}

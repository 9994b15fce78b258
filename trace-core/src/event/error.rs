//! Invariant violations found by `Event::validate`, and the small checks that find them.
//!
//! Why typed: the counter UI maps each variant to a message next to the offending field (the
//! `field` path, e.g. `lines[2].product`), and the cloud counts rejected entries by kind.

use crate::event::Verdict;
use crate::units::{Fen, Grams};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("{field} must not be empty")]
    Empty { field: String },
    #[error("{field} must not be negative, got {value}")]
    Negative { field: String, value: i64 },
    #[error("{field} must be greater than zero, got {value}")]
    NotPositive { field: String, value: i64 },
    #[error("{field} needs {needs}")]
    MissingQuantity { field: String, needs: &'static str },
    #[error("total {found} does not equal the sum of lines and fees {expected}")]
    TotalMismatch { expected: Fen, found: Fen },
    #[error("a credit (赊账) sale needs a buyer")]
    CreditNeedsBuyer,
    #[error("a repayment cannot itself be paid on credit")]
    RepaymentOnCredit,
    #[error("net weight {net:?} is not gross {gross:?} minus tare {tare:?}")]
    NetWeight {
        gross: Grams,
        tare: Grams,
        net: Grams,
    },
    #[error("overall result {declared:?} contradicts the item results ({from_items:?})")]
    VerdictMismatch {
        declared: Verdict,
        from_items: Verdict,
    },
    #[error("{field}: range {first}..={last} is reversed")]
    ReversedRange {
        field: String,
        first: u64,
        last: u64,
    },
    #[error("{field}: ranges overlap at {at}")]
    OverlappingRanges { field: String, at: u64 },
    #[error("{field}: {value:?} appears twice")]
    Duplicate { field: String, value: String },
    #[error("{field}: {value:?} is not a date (YYYY-MM-DD)")]
    BadDate { field: String, value: String },
    #[error("{field}: {value:?} is a {what}")]
    Contradiction {
        field: String,
        value: String,
        what: &'static str,
    },
    #[error("a registration needs a 统一社会信用代码 or a 身份证号")]
    NoIdentity,
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("ticket code: {0}")]
    TicketCode(#[from] crate::ticket::TicketCodeError),
}

pub(crate) fn non_empty(field: &str, v: &str) -> Result<(), EventError> {
    if v.trim().is_empty() {
        Err(EventError::Empty {
            field: field.to_owned(),
        })
    } else {
        Ok(())
    }
}

pub(crate) fn non_empty_list<T>(field: &str, v: &[T]) -> Result<(), EventError> {
    if v.is_empty() {
        Err(EventError::Empty {
            field: field.to_owned(),
        })
    } else {
        Ok(())
    }
}

pub(crate) fn non_negative(field: &str, v: i64) -> Result<(), EventError> {
    if v < 0 {
        Err(EventError::Negative {
            field: field.to_owned(),
            value: v,
        })
    } else {
        Ok(())
    }
}

pub(crate) fn positive(field: &str, v: i64) -> Result<(), EventError> {
    if v <= 0 {
        Err(EventError::NotPositive {
            field: field.to_owned(),
            value: v,
        })
    } else {
        Ok(())
    }
}

pub(crate) fn opt_grams(field: &str, g: Option<Grams>) -> Result<(), EventError> {
    g.map_or(Ok(()), |g| non_negative(field, g.0))
}

/// A weight or a count must be given (a purchase or line of nothing records nothing).
pub(crate) fn some_quantity(
    field: &str,
    g: Option<Grams>,
    count: Option<impl Into<u64>>,
) -> Result<(), EventError> {
    opt_grams(&format!("{field}.grams"), g)?;
    if g.is_none() && count.is_none() {
        return Err(EventError::MissingQuantity {
            field: field.to_owned(),
            needs: "a weight or a count",
        });
    }
    Ok(())
}

/// `YYYY-MM-DD`, a real calendar day.
pub(crate) fn date(field: &str, v: &str) -> Result<(), EventError> {
    let bad = || EventError::BadDate {
        field: field.to_owned(),
        value: v.to_owned(),
    };
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|_| s.bytes().all(|c| c.is_ascii_digit()))
    };
    let (Some(y), Some(m), Some(d)) = (num(&v[0..4]), num(&v[5..7]), num(&v[8..10])) else {
        return Err(bad());
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if (1..=days).contains(&d) {
        Ok(())
    } else {
        Err(bad())
    }
}

pub(crate) fn opt_date(field: &str, v: &Option<String>) -> Result<(), EventError> {
    v.as_deref().map_or(Ok(()), |v| date(field, v))
}

/// No value twice in `items` (codes in an aggregation, lots in a batch).
pub(crate) fn distinct<'a>(
    field: &str,
    items: impl IntoIterator<Item = &'a String>,
) -> Result<(), EventError> {
    let mut seen = std::collections::HashSet::new();
    for s in items {
        non_empty(field, s)?;
        if !seen.insert(s.as_str()) {
            return Err(EventError::Duplicate {
                field: field.to_owned(),
                value: s.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(date("d", "2024-02-29").is_ok());
        assert!(date("d", "2023-02-29").is_err());
        assert!(date("d", "2024-13-01").is_err());
        assert!(date("d", "2024-1-01").is_err());
        assert!(date("d", "2024-01-+1").is_err());
    }
}

//! Trust: whether a card's content is vouched for today. A card verified
//! within its `verify_every` period is verified, past it stale, never
//! verified unverified. Pure date arithmetic; no I/O, no clock of its own.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// A re-verification period such as `90d`, `12w`, `6m` or `1y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    Days(u32),
    Weeks(u32),
    Months(u32),
    Years(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a period: write a number and a unit, d (days), w (weeks), m (months) or y (years), such as `90d` or `6m`"
)]
pub struct InvalidPeriod {
    pub input: String,
}

impl Period {
    pub fn parse(input: &str) -> Result<Self, InvalidPeriod> {
        let fail = || InvalidPeriod {
            input: input.to_string(),
        };
        let s = input.trim().to_ascii_lowercase();
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(fail)?;
        let (number, unit) = s.split_at(split);
        let n: u32 = number.parse().map_err(|_| fail())?;
        if n == 0 || n > 10_000 {
            return Err(fail());
        }
        match unit.trim() {
            "d" | "day" | "days" => Ok(Period::Days(n)),
            "w" | "week" | "weeks" => Ok(Period::Weeks(n)),
            "m" | "month" | "months" => Ok(Period::Months(n)),
            "y" | "year" | "years" => Ok(Period::Years(n)),
            _ => Err(fail()),
        }
    }

    /// `date` plus this period, saturating at the end of the calendar.
    pub fn after(self, date: NaiveDate) -> NaiveDate {
        let later = match self {
            Period::Days(n) => date.checked_add_days(Days::new(n.into())),
            Period::Weeks(n) => date.checked_add_days(Days::new(u64::from(n) * 7)),
            Period::Months(n) => date.checked_add_months(Months::new(n)),
            Period::Years(n) => n
                .checked_mul(12)
                .and_then(|m| date.checked_add_months(Months::new(m))),
        };
        later.unwrap_or(NaiveDate::MAX)
    }
}

/// What a card says about its verification.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub verified_by: Option<String>,
    pub verified_at: Option<NaiveDate>,
    pub verify_every: Option<Period>,
}

impl Verification {
    /// The last day the card counts as verified: `None` when it was never
    /// verified, `NaiveDate::MAX` when it never expires.
    pub fn verified_until(&self) -> Option<NaiveDate> {
        let at = self.verified_at?;
        Some(self.verify_every.map_or(NaiveDate::MAX, |p| p.after(at)))
    }

    /// The last day the card counts as verified, as `YYYY-MM-DD`; `None`
    /// when it was never verified or never expires.
    pub fn expiry_day(&self) -> Option<String> {
        self.verified_until()
            .filter(|d| *d != NaiveDate::MAX)
            .map(|d| d.to_string())
    }

    pub fn trust(&self, today: NaiveDate) -> Trust {
        match self.verified_until() {
            None => Trust::Unverified,
            Some(until) if until < today => Trust::Stale,
            Some(_) => Trust::Verified,
        }
    }
}

/// The trust state shown on the site, in the API and by `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    Verified,
    Stale,
    Unverified,
}

impl Trust {
    pub const ALL: [Trust; 3] = [Trust::Verified, Trust::Stale, Trust::Unverified];

    pub fn as_str(self) -> &'static str {
        match self {
            Trust::Verified => "verified",
            Trust::Stale => "stale",
            Trust::Unverified => "unverified",
        }
    }

    pub fn parse(s: &str) -> Option<Trust> {
        Trust::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_read_days_weeks_months_and_years() {
        assert_eq!(Period::parse("30d"), Ok(Period::Days(30)));
        assert_eq!(Period::parse("12w"), Ok(Period::Weeks(12)));
        assert_eq!(Period::parse("6m"), Ok(Period::Months(6)));
        assert_eq!(Period::parse("1y"), Ok(Period::Years(1)));
        assert_eq!(Period::parse(" 2 weeks "), Ok(Period::Weeks(2)));
    }

    #[test]
    fn unknown_units_and_nonsense_are_refused_with_a_hint() {
        for bad in ["30", "d", "3x", "0d", "-1d", "99999999999d", ""] {
            let e = Period::parse(bad).unwrap_err();
            assert!(e.to_string().contains("such as `90d`"), "{bad}");
        }
    }

    #[test]
    fn a_card_is_stale_the_day_after_its_period_ends() {
        let v = Verification {
            verified_by: Some("a@b".into()),
            verified_at: Some(date("2026-01-31")),
            verify_every: Some(Period::Months(1)),
        };
        assert_eq!(v.verified_until(), Some(date("2026-02-28")));
        assert_eq!(v.trust(date("2026-02-28")), Trust::Verified);
        assert_eq!(v.trust(date("2026-03-01")), Trust::Stale);
    }

    #[test]
    fn never_verified_is_unverified_and_no_period_never_expires() {
        assert_eq!(
            Verification::default().trust(date("2026-01-01")),
            Trust::Unverified
        );
        let forever = Verification {
            verified_at: Some(date("2020-01-01")),
            ..Default::default()
        };
        assert_eq!(forever.trust(date("2099-01-01")), Trust::Verified);
    }
}

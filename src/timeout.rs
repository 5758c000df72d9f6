//! [`Timeout`]: how long a redeem may stay blocked on the server a ticket names.

use core::fmt;

/// A bound on how long a redeem may stay blocked in its `_IO_DUP` / `_IO_OPENFD` send, in nanoseconds.
///
/// `no_std` has no `Duration` clock to lean on, so this is a plain count of nanoseconds (with the `std`
/// feature, `From<std::time::Duration>` converts one, saturating). On Neutrino it becomes a relative
/// `TimerTimeout` on `CLOCK_MONOTONIC` armed for the SEND- and REPLY-blocked states of that one send; the
/// kernel rounds a relative time up by one clock tick (6.4 `ker_timer.c`), so the bound is `nanos` plus
/// at most a tick. What it can and cannot bound: [`Receiver::with_timeout`](crate::Receiver::with_timeout).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timeout {
    nanos: u64,
}

impl Timeout {
    /// A timeout of `nanos` nanoseconds.
    #[must_use]
    pub const fn from_nanos(nanos: u64) -> Self {
        Self { nanos }
    }

    /// A timeout of `millis` milliseconds (saturating at `u64::MAX` nanoseconds, about 584 years).
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self {
            nanos: millis.saturating_mul(1_000_000),
        }
    }

    /// The timeout in nanoseconds.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timeout({} ns)", self.nanos)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Timeout {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Timeout({=u64} ns)", self.nanos)
    }
}

/// A `Duration` as a [`Timeout`], saturating at `u64::MAX` nanoseconds.
#[cfg(feature = "std")]
impl From<std::time::Duration> for Timeout {
    fn from(d: std::time::Duration) -> Self {
        Self {
            nanos: u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_saturation() {
        assert_eq!(Timeout::from_millis(3).as_nanos(), 3_000_000);
        assert_eq!(Timeout::from_nanos(7).as_nanos(), 7);
        assert_eq!(Timeout::from_millis(u64::MAX).as_nanos(), u64::MAX);
        assert_eq!(Timeout::default().as_nanos(), 0);
        assert!(Timeout::from_millis(1) > Timeout::from_nanos(999_999));
        assert_eq!(
            std::format!("{:?}", Timeout::from_millis(2)),
            "Timeout(2000000 ns)"
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn from_duration() {
        use std::time::Duration;
        assert_eq!(
            Timeout::from(Duration::from_millis(5)),
            Timeout::from_millis(5)
        );
        assert_eq!(Timeout::from(Duration::MAX).as_nanos(), u64::MAX);
    }
}

//! Optional logging, embassy style: with the `defmt` feature these forward to `defmt`; without it they
//! expand to nothing, so no formatting code is linked.

#[cfg(feature = "defmt")]
macro_rules! debug {
    ($($arg:tt)*) => { ::defmt::debug!($($arg)*) };
}

#[cfg(not(feature = "defmt"))]
macro_rules! debug {
    ($($arg:tt)*) => {{}};
}

pub(crate) use debug;

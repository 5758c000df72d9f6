//! Optional logging, embassy style: with the `defmt` feature these forward to `defmt`; without it they
//! only borrow their arguments, so an argument that stops compiling is caught in the default build too,
//! and no formatting code is linked. The format string is `defmt`'s (`{=i32}`), checked by the
//! `clippy-defmt` CI step.

#[cfg(feature = "defmt")]
macro_rules! debug {
    ($($arg:tt)*) => { ::defmt::debug!($($arg)*) };
}

#[cfg(not(feature = "defmt"))]
macro_rules! debug {
    ($s:literal $(, $x:expr)* $(,)?) => {{
        let _ = ($(&$x,)*);
    }};
}

pub(crate) use debug;

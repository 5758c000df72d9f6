//! The core-only descriptor types behind [`crate::fd`] when the `std` feature is off: the items of
//! `std::os::fd` this crate uses, with the same names, signatures and trait impls, so code written
//! against one compiles against the other (rustix's `maybe_polyfill` does the same).
//!
//! They live under `sys/` because `FromRawFd::from_raw_fd` and `BorrowedFd::borrow_raw` are `unsafe fn`s
//! (they state the caller's obligations) and this is the one module tree allowed `unsafe`. Nothing here
//! performs an unsafe operation; `OwnedFd`'s `Drop` calls the backend's `close`.

use core::fmt;
use core::marker::PhantomData;

/// A raw descriptor number (a connection id on Neutrino), as `std::os::fd::RawFd`.
pub type RawFd = cty::c_int;

/// An open descriptor this value owns; dropping it closes the descriptor. As `std::os::fd::OwnedFd`.
#[repr(transparent)]
#[must_use = "dropping an OwnedFd closes the descriptor"]
pub struct OwnedFd {
    fd: RawFd,
}

/// A descriptor borrowed for `'a`: it stays open at least that long. As `std::os::fd::BorrowedFd`.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct BorrowedFd<'a> {
    fd: RawFd,
    _lifetime: PhantomData<&'a OwnedFd>,
}

/// Borrows the descriptor of a value that owns or borrows one. As `std::os::fd::AsFd`.
pub trait AsFd {
    /// Borrows the descriptor.
    fn as_fd(&self) -> BorrowedFd<'_>;
}

/// The raw number of a value's descriptor, without any ownership. As `std::os::fd::AsRawFd`.
pub trait AsRawFd {
    /// The descriptor number; the value keeps ownership.
    fn as_raw_fd(&self) -> RawFd;
}

/// Builds a value from a raw descriptor, taking ownership. As `std::os::fd::FromRawFd`.
pub trait FromRawFd {
    /// Takes ownership of `fd`.
    ///
    /// # Safety
    ///
    /// - `fd` is an open descriptor of this process;
    /// - nothing else closes it or assumes it stays open after the returned value is dropped.
    unsafe fn from_raw_fd(fd: RawFd) -> Self;
}

/// Gives up a value's descriptor as a raw number. As `std::os::fd::IntoRawFd`.
pub trait IntoRawFd {
    /// Gives up ownership: the caller now has to close the descriptor.
    fn into_raw_fd(self) -> RawFd;
}

impl BorrowedFd<'_> {
    /// Borrows a raw descriptor.
    ///
    /// # Safety
    ///
    /// `fd` stays open for the whole lifetime of the returned value.
    #[must_use]
    pub const unsafe fn borrow_raw(fd: RawFd) -> Self {
        Self {
            fd,
            _lifetime: PhantomData,
        }
    }
}

impl AsFd for OwnedFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        BorrowedFd {
            fd: self.fd,
            _lifetime: PhantomData,
        }
    }
}

impl AsFd for BorrowedFd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        *self
    }
}

impl<T: AsFd + ?Sized> AsFd for &T {
    fn as_fd(&self) -> BorrowedFd<'_> {
        T::as_fd(self)
    }
}

impl<T: AsFd + ?Sized> AsFd for &mut T {
    fn as_fd(&self) -> BorrowedFd<'_> {
        T::as_fd(self)
    }
}

impl AsRawFd for OwnedFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl AsRawFd for BorrowedFd<'_> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl AsRawFd for RawFd {
    fn as_raw_fd(&self) -> RawFd {
        *self
    }
}

impl FromRawFd for OwnedFd {
    unsafe fn from_raw_fd(fd: RawFd) -> Self {
        Self { fd }
    }
}

impl FromRawFd for RawFd {
    unsafe fn from_raw_fd(fd: RawFd) -> Self {
        fd
    }
}

impl IntoRawFd for OwnedFd {
    fn into_raw_fd(self) -> RawFd {
        let fd = self.fd;
        core::mem::forget(self);
        fd
    }
}

impl IntoRawFd for RawFd {
    fn into_raw_fd(self) -> RawFd {
        self
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        // Like std: an error from close is not reported from drop.
        #[cfg(any(neutrino, host_linux))]
        let _ = crate::sys::close(self.fd);
    }
}

impl fmt::Debug for OwnedFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedFd").field("fd", &self.fd).finish()
    }
}

impl fmt::Debug for BorrowedFd<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BorrowedFd").field("fd", &self.fd).finish()
    }
}

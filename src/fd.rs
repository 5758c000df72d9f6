//! [`OwnedFd`] and [`BorrowedFd`]: descriptors with I/O safety, core only.
//!
//! Modelled on `std::os::fd`: an `OwnedFd` closes its descriptor when dropped; a `BorrowedFd<'a>` names a
//! descriptor someone else keeps open for at least `'a`. On Neutrino a descriptor is a connection id, and
//! closing it is what libc's `close()` does: an `_IO_CLOSE` message to the server, then `ConnectDetach`
//! unless that message was interrupted (retried then). Dropping ignores the answer, as std's does;
//! [`crate::close`] returns it.

use core::fmt;
use core::marker::PhantomData;

/// A raw descriptor number (a connection id on Neutrino).
pub type RawFd = cty::c_int;

/// An open descriptor this value owns; dropping it closes the descriptor.
#[repr(transparent)]
#[must_use = "dropping an OwnedFd closes the descriptor"]
pub struct OwnedFd {
    fd: RawFd,
}

impl OwnedFd {
    /// Takes ownership of `fd`.
    ///
    /// # Safety
    ///
    /// - `fd` is an open descriptor of this process;
    /// - nothing else closes it or assumes it stays open after this `OwnedFd` is dropped.
    #[allow(unsafe_code)] // declares the caller's obligation; performs no unsafe operation
    pub const unsafe fn from_raw_fd(fd: RawFd) -> Self {
        Self { fd }
    }

    /// The descriptor number, still owned by `self`.
    #[must_use]
    pub const fn as_raw_fd(&self) -> RawFd {
        self.fd
    }

    /// Gives up ownership: the caller now has to close the descriptor.
    #[must_use = "the descriptor is leaked unless the caller closes it"]
    pub fn into_raw_fd(self) -> RawFd {
        let fd = self.fd;
        core::mem::forget(self);
        fd
    }

    /// Borrows the descriptor.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        BorrowedFd {
            fd: self.fd,
            _lifetime: PhantomData,
        }
    }
}

impl Drop for OwnedFd {
    fn drop(&mut self) {
        // Like std: an error from close is not reported from drop.
        #[cfg(any(target_os = "linux", target_os = "nto", target_os = "qnx"))]
        let _ = crate::sys::close(self.fd);
    }
}

impl fmt::Debug for OwnedFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedFd").field("fd", &self.fd).finish()
    }
}

/// Wraps a descriptor the crate just obtained and owns exclusively.
pub(crate) const fn own(fd: RawFd) -> OwnedFd {
    OwnedFd { fd }
}

/// Takes the descriptor out of `fd` without closing it (for [`crate::close`], which closes it itself).
pub(crate) fn release(fd: OwnedFd) -> RawFd {
    fd.into_raw_fd()
}

/// A descriptor borrowed for `'a`: it stays open at least that long.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct BorrowedFd<'a> {
    fd: RawFd,
    _lifetime: PhantomData<&'a OwnedFd>,
}

impl BorrowedFd<'_> {
    /// Borrows a raw descriptor.
    ///
    /// # Safety
    ///
    /// `fd` stays open for the whole lifetime of the returned value.
    #[must_use]
    #[allow(unsafe_code)] // declares the caller's obligation; performs no unsafe operation
    pub const unsafe fn borrow_raw(fd: RawFd) -> Self {
        Self {
            fd,
            _lifetime: PhantomData,
        }
    }

    /// The descriptor number.
    #[must_use]
    pub const fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl fmt::Debug for BorrowedFd<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BorrowedFd").field("fd", &self.fd).finish()
    }
}

//! The public API: build tickets on the sending side, redeem them on the receiving side.
//!
//! The types a user names ([`Issuer`], [`Receiver`]) wrap the generic ones in [`seams`], which take the
//! kernel-call implementation as a type parameter so the crate's tests can put a double or a fault
//! injector underneath. `seams` is public only with the `kernel-seams` feature.

use core::ops::Deref;

use heapless::Vec;
use zerocopy::IntoBytes;

use crate::errno::Errno;
use crate::error::{BatchError, Error, SendError};
use crate::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd};
use crate::pass::{self, active};
use crate::sys::DefaultKernel;
#[cfg(feature = "kernel-seams")]
use crate::sys::PlatformKernel;
use crate::ticket::Recipient;
use crate::wire::{self, Access, OpenfdAccess, StatusFlags};

/// An `_IO_DUP` ticket for one of this process's descriptors: whoever redeems it gets a descriptor that
/// shares the open file, and its position, with the original.
///
/// A ticket is move-only and `#[must_use]`: it is consumed by [`DupTicket::send`] or
/// [`DupTicket::withdraw`], so one cannot be withdrawn and then sent, and `issuer.dup(fd, to)?;` (a
/// ticket issued and forgotten) warns. What dropping one does is said at [`DupTicket::withdraw`].
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// # fn f(issuer: &qnx_fdpass::Issuer, fd: qnx_fdpass::BorrowedFd<'_>) -> Result<(), qnx_fdpass::Errno> {
/// issuer.dup(fd, qnx_fdpass::Recipient::Any)?; // error: unused `DupTicket` that must be used
/// # Ok(()) }
/// ```
///
/// (The same with the ticket bound, `let _ticket = issuer.dup(..)?;`, compiles:)
///
/// ```
/// #![deny(unused_must_use)]
/// # fn f(issuer: &qnx_fdpass::Issuer, fd: qnx_fdpass::BorrowedFd<'_>) -> Result<(), qnx_fdpass::Errno> {
/// let _ticket = issuer.dup(fd, qnx_fdpass::Recipient::Any)?;
/// # Ok(()) }
/// # fn main() {}
/// ```
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "std")] fn main() -> std::io::Result<()> {
/// use qnx_fdpass::{DupTicket, Receiver, Recipient};
/// use std::io::Read;
///
/// let file = std::fs::File::open(std::env::current_exe()?)?;
/// let ticket = DupTicket::new(&file, Recipient::Any)?;
/// let mut wire = Vec::new(); // any channel: a pipe, a socket, a message queue, a native message
/// ticket.send(|bytes| -> Result<(), ()> { wire.extend_from_slice(bytes); Ok(()) }).ok();
///
/// // The receiving process (here the same one):
/// let mut copy = std::fs::File::from(Receiver::new().redeem(&wire)?);
/// let mut magic = [0u8; 4];
/// copy.read_exact(&mut magic)?; // the dup shares the open file (and its position) with `file`
/// # Ok(()) }
/// # #[cfg(not(feature = "std"))] fn main() {}
/// ```
#[derive(Debug)]
#[must_use = "an unsent ticket stays redeemable (on QNX 8.0, registered) until it is redeemed, withdrawn or the descriptor is closed: send its bytes, or `withdraw` it"]
#[doc(alias = "io_dup_t")]
pub struct DupTicket {
    msg: wire::IoDup,
}

impl DupTicket {
    /// Builds a ticket for `fd` (anything with a descriptor: `&File`, `&OwnedFd`, a `BorrowedFd`...), to
    /// be redeemed by `to`.
    ///
    /// # Errors
    ///
    /// `EBADF` if `fd` is not an open descriptor (or, on Neutrino, is a side channel, as libc's
    /// `F_DUPFD` answers); on Neutrino, `ENOREMOTE` for a server on another node (Qnet is not
    /// supported), `ESRCH` for a connection whose server is dead, `ENOTSUP` for one no receiver could
    /// redeem (an in-kernel pipe on 8.0); on QNX 8.0, `EINVAL` for [`Recipient::Any`], the errors of
    /// `dupfd_register` (`EAGAIN`: 200 handles outstanding, see [`DupTicket::withdraw`]), and `ENOSYS`
    /// with raw kernel calls unless the `raw-dupfd` feature opts in.
    #[doc(alias = "send_fd")]
    pub fn new(fd: impl AsFd, to: Recipient) -> Result<Self, Errno> {
        seams::issue_dup(&DefaultKernel::default(), fd.as_fd().as_raw_fd(), to)
    }

    /// [`DupTicket::new`] through the given kernel-call implementation (`kernel-seams` feature: for this
    /// crate's tests, not covered by semver).
    ///
    /// # Errors
    ///
    /// As [`DupTicket::new`].
    #[cfg(feature = "kernel-seams")]
    pub fn with_kernel<K: PlatformKernel>(
        k: &K,
        fd: impl AsFd,
        to: Recipient,
    ) -> Result<Self, Errno> {
        seams::issue_dup(k, fd.as_fd().as_raw_fd(), to)
    }
}

/// An `_IO_OPENFD` ticket: whoever redeems it gets a new open of the same file, with its own position
/// and no more access than the original descriptor has.
///
/// Move-only and `#[must_use]`, as [`DupTicket`].
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "std")] fn main() -> std::io::Result<()> {
/// use qnx_fdpass::{Access, OpenfdTicket, Receiver, Recipient};
/// use std::io::{Read, Seek};
///
/// let mut file = std::fs::File::open(std::env::current_exe()?)?;
/// file.seek(std::io::SeekFrom::Start(100))?;
/// let ticket = OpenfdTicket::new(&file, Access::Read, Recipient::Any)?;
/// let mut wire = Vec::new();
/// ticket.send(|bytes| -> Result<(), ()> { wire.extend_from_slice(bytes); Ok(()) }).ok();
///
/// let mut own = std::fs::File::from(Receiver::new().redeem(&wire)?);
/// assert_eq!(own.stream_position()?, 0); // a new open: its own position
/// let mut magic = [0u8; 1];
/// own.read_exact(&mut magic)?;
/// # Ok(()) }
/// # #[cfg(not(feature = "std"))] fn main() {}
/// ```
#[derive(Debug)]
#[must_use = "an unsent ticket stays redeemable (on QNX 8.0, registered) until it is redeemed, withdrawn or the descriptor is closed: send its bytes, or `withdraw` it"]
#[doc(alias = "io_openfd_t")]
pub struct OpenfdTicket {
    msg: wire::IoOpenfd,
}

impl OpenfdTicket {
    /// Builds a ticket for a new open of the file behind `fd` with `access`, to be redeemed by `to`.
    ///
    /// # Errors
    ///
    /// As [`DupTicket::new`]. Access wider than the original's is refused when the ticket is redeemed.
    pub fn new(fd: impl AsFd, access: Access, to: Recipient) -> Result<Self, Errno> {
        seams::issue_openfd(
            &DefaultKernel::default(),
            fd.as_fd().as_raw_fd(),
            access,
            to,
        )
    }

    /// [`OpenfdTicket::new`] through the given kernel-call implementation (`kernel-seams` feature).
    ///
    /// # Errors
    ///
    /// As [`OpenfdTicket::new`].
    #[cfg(feature = "kernel-seams")]
    pub fn with_kernel<K: PlatformKernel>(
        k: &K,
        fd: impl AsFd,
        access: Access,
        to: Recipient,
    ) -> Result<Self, Errno> {
        seams::issue_openfd(k, fd.as_fd().as_raw_fd(), access, to)
    }
}

/// Status flags on an openfd ticket, in their own block.
impl OpenfdTicket {
    /// [`OpenfdTicket::new`], with status flags (`O_APPEND`, `O_NONBLOCK`, ...) for the new open, encoded
    /// as libc's `openfd(fd, oflag)` encodes the `oflag` bits beside the access: the server keeps them
    /// (Neutrino 6.4 `iofunc_openfd.c`; 7.0 keeps `ioflag & 0x82ff`). The receiver checks that a ticket
    /// carries no other bits.
    ///
    /// On the Linux host the flags travel in the ticket but the redeem's re-open takes the access only:
    /// not applied there (the host backend's `reopen` has no flags argument).
    ///
    /// # Errors
    ///
    /// As [`OpenfdTicket::new`].
    pub fn with_flags(
        fd: impl AsFd,
        access: Access,
        flags: StatusFlags,
        to: Recipient,
    ) -> Result<Self, Errno> {
        let mut t = Self::new(fd, access, to)?;
        t.msg.set_status(flags);
        Ok(t)
    }
}

/// The methods every single ticket has: its bytes, its message and its withdrawal, written once for
/// [`DupTicket`] and [`OpenfdTicket`]; the attributes given are the documentation of `withdraw`.
macro_rules! ticket_methods {
    ($ticket:ident, $msg:ty, $(#[$withdraw_doc:meta])*) => {
        impl $ticket {
            /// The bytes to hand to the receiver.
            #[must_use]
            pub fn as_bytes(&self) -> &[u8] {
                self.msg.as_bytes()
            }

            /// The message.
            #[must_use]
            pub const fn message(&self) -> &$msg {
                &self.msg
            }

            /// Hands the ticket's bytes to `sink`, which answers `Ok(())` when all of them went to the
            /// receiver; when it answers `Err`, the ticket is withdrawn ([`DupTicket::withdraw`]; its
            /// own error is ignored) and the sink's error returned.
            ///
            /// A sink that may write part of the bytes must report that as an error (as
            /// `Write::write_all` does): a receiver cannot redeem part of a ticket.
            ///
            /// # Errors
            ///
            /// The sink's.
            pub fn send<E>(self, sink: impl FnOnce(&[u8]) -> Result<(), E>) -> Result<(), E> {
                pass::send(self.msg.as_bytes(), sink, || {
                    active::withdraw(&DefaultKernel::default(), &self.msg)
                })
            }

            /// Writes the ticket to a byte stream ([`stream`](crate::stream): its bytes, whose length
            /// its first bytes tell); when the write fails the ticket is withdrawn, as
            /// [`DupTicket::send`] does (`std` feature).
            ///
            /// # Errors
            ///
            /// The write's.
            #[cfg(feature = "std")]
            pub fn write_to<W: std::io::Write + ?Sized>(self, w: &mut W) -> std::io::Result<()> {
                self.send(|b| w.write_all(b))
            }

            $(#[$withdraw_doc])*
            pub fn withdraw(self) -> Result<(), Errno> {
                active::withdraw(&DefaultKernel::default(), &self.msg)
            }

            #[doc = concat!("[`", stringify!($ticket), "::withdraw`] through the given kernel-call implementation")]
            /// (`kernel-seams` feature).
            ///
            /// # Errors
            ///
            /// As [`DupTicket::withdraw`].
            #[cfg(feature = "kernel-seams")]
            pub fn withdraw_with<K: PlatformKernel>(self, k: &K) -> Result<(), Errno> {
                active::withdraw(k, &self.msg)
            }
        }
    };
}

ticket_methods!(
    DupTicket,
    wire::IoDup,
    /// Withdraws a ticket whose bytes never reached the receiver.
    ///
    /// On QNX 8.0 issuing registers a `dupfd` handle, which stays registered, and redeemable by the named
    /// recipient, until it is redeemed, withdrawn, or the sender closes the descriptor (which its exit
    /// does; docs/qnx-abi.md §9.4); a process may hold at most 200 (the next issue fails with `EAGAIN`).
    /// **The sender must withdraw a ticket it knows was not delivered** (its transport failed, the
    /// receiver is gone): [`DupTicket::send`] and [`send_fd`] do it when the sink reports failure. Never
    /// withdraw a ticket that may have been delivered: the receiver's redeem would fail.
    ///
    /// On QNX 6.x/7.x and on the Linux host nothing is registered and this does nothing: there, a ticket
    /// stays redeemable until the sender closes the descriptor or exits.
    ///
    /// # Dropping a ticket withdraws nothing
    ///
    /// A ticket is dropped, not withdrawn, once its bytes are sent: it cannot tell whether they were (a
    /// sink may have copied them before failing), and a withdrawal on drop would cancel every ticket
    /// in flight, so the receiver's redeem would fail. So dropping a ticket leaves it as it was: on
    /// 8.0 one registration is held until one of the four events above, on the other versions
    /// nothing. The type is `#[must_use]` so a ticket issued and never used warns at compile time.
    ///
    /// # Examples
    ///
    /// ```
    /// use qnx_fdpass::{Issuer, Recipient};
    /// # #[cfg(feature = "std")] fn main() -> Result<(), qnx_fdpass::Errno> {
    /// # let file = std::fs::File::open("/").unwrap();
    /// let ticket = Issuer::new()?.dup(&file, Recipient::Any)?;
    /// // ... the transport turned out to be closed before the bytes were handed over:
    /// ticket.withdraw()?;
    /// # Ok(()) }
    /// # #[cfg(not(feature = "std"))] fn main() {}
    /// ```
    ///
    /// # Errors
    ///
    /// On QNX 8.0 the errors of `dupfd_unregister`: `ENOENT` if the handle was already redeemed or the
    /// descriptor closed.
);

ticket_methods!(
    OpenfdTicket,
    wire::IoOpenfd,
    /// Withdraws a ticket whose bytes never reached the receiver; see [`DupTicket::withdraw`].
    ///
    /// # Errors
    ///
    /// As [`DupTicket::withdraw`].
);

/// Issues many tickets naming this process, which it looks up once, when it is made, instead of at every
/// ticket. It sends nothing: the caller hands each ticket's bytes to its own transport.
///
/// On the Linux host backend a ticket names its sender by pid and start time: [`DupTicket::new`] asks
/// the kernel for the pid (`getpid`) at every call, because glibc does not cache it either (a forked
/// child must name itself). An `Issuer` keeps both, so [`Issuer::dup`] makes no system call at all and
/// [`Issuer::openfd`] only its access check. On Neutrino it keeps the pid, saving the TLS read (raw
/// backend) or the C library's `getpid()` per ticket; the server calls are the same as
/// [`DupTicket::new`]'s.
///
/// # After `fork()`
///
/// An `Issuer` names the process that made it. A child made by `fork()` inherits the parent's
/// `Issuer`s, and tickets they issue there would name the parent (whose descriptor of that number the
/// receiver would get, or `EBADF`): **make a new `Issuer` in the child**. `posix_spawn()`ed processes
/// start fresh.
///
/// # Examples
///
/// ```
/// use qnx_fdpass::{Issuer, Recipient};
/// # #[cfg(feature = "std")] fn main() -> Result<(), qnx_fdpass::Errno> {
/// # let fd = std::fs::File::open("/").unwrap();
/// # let mut channel = Vec::new();
/// let issuer = Issuer::new()?;
/// for _ in 0..1000 {
///     let ticket = issuer.dup(&fd, Recipient::Any)?;
///     // any channel; an `Err` from it withdraws the ticket
///     ticket.send(|bytes| -> Result<(), ()> { channel.extend_from_slice(bytes); Ok(()) }).ok();
/// }
/// # Ok(()) }
/// # #[cfg(not(feature = "std"))] fn main() {}
/// ```
#[derive(Debug)]
pub struct Issuer {
    inner: seams::Issuer<DefaultKernel>,
}

impl Issuer {
    /// An issuer for this process.
    ///
    /// # Errors
    ///
    /// When this process's identity cannot be read: on the Linux host the first call in a process
    /// reads its start time from `/proc/self/stat` (`ENOENT` without `/proc`, `EMFILE`, ...). On
    /// Neutrino it cannot fail: the pid is read from the thread's TLS block (or by the C library).
    pub fn new() -> Result<Self, Errno> {
        seams::Issuer::with_kernel(DefaultKernel::default()).map(|inner| Self { inner })
    }

    /// The pid the tickets name as their sender.
    #[must_use]
    pub const fn pid(&self) -> i32 {
        self.inner.pid()
    }

    /// [`DupTicket::new`] naming this process.
    ///
    /// # Errors
    ///
    /// As [`DupTicket::new`].
    pub fn dup(&self, fd: impl AsFd, to: Recipient) -> Result<DupTicket, Errno> {
        self.inner.dup(fd, to)
    }

    /// [`OpenfdTicket::new`] naming this process.
    ///
    /// # Errors
    ///
    /// As [`OpenfdTicket::new`].
    pub fn openfd(
        &self,
        fd: impl AsFd,
        access: Access,
        to: Recipient,
    ) -> Result<OpenfdTicket, Errno> {
        self.inner.openfd(fd, access, to)
    }
}

/// Up to `N` dup tickets in one packet, redeemed all-or-nothing by [`Receiver::redeem_batch`].
///
/// The packet is the tickets back to back, so its bytes are borrowed, not built. It holds `_IO_DUP`
/// tickets only (each redeemed descriptor shares its file position with the sender's). Like a ticket
/// it is move-only and `#[must_use]`, consumed by [`DupBatch::send`] or [`DupBatch::withdraw`].
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "std")] fn main() -> std::io::Result<()> {
/// use qnx_fdpass::{DupBatch, Issuer, Receiver, Recipient};
///
/// let (a, b) = (std::fs::File::open("/")?, std::fs::File::open(std::env::current_exe()?)?);
/// let issuer = Issuer::new()?;
/// let mut batch = DupBatch::<4>::new();
/// for f in [&a, &b] {
///     batch.push(issuer.dup(f, Recipient::Any)?).map_err(|t| t.withdraw()).ok();
/// }
/// let mut wire = Vec::new();
/// batch.send(|bytes| -> Result<(), ()> { wire.extend_from_slice(bytes); Ok(()) }).ok();
///
/// let fds = Receiver::new().redeem_batch::<4>(&wire)?; // both, or none
/// assert_eq!(fds.len(), 2);
/// # Ok(()) }
/// # #[cfg(not(feature = "std"))] fn main() {}
/// ```
#[derive(Debug, Default)]
#[must_use = "an unsent batch's tickets stay redeemable (on QNX 8.0, registered): send it, or `withdraw` it"]
pub struct DupBatch<const N: usize> {
    tickets: Vec<wire::IoDup, N>,
}

impl<const N: usize> DupBatch<N> {
    /// An empty batch.
    pub const fn new() -> Self {
        Self {
            tickets: Vec::new(),
        }
    }

    /// Adds a ticket; hands it back if the batch is full.
    ///
    /// # Errors
    ///
    /// The ticket, when the batch already holds `N`.
    pub fn push(&mut self, ticket: DupTicket) -> Result<(), DupTicket> {
        self.tickets
            .push(ticket.msg)
            .map_err(|msg| DupTicket { msg })
    }

    /// Number of tickets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tickets.len()
    }

    /// `true` when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }

    /// The packet.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.tickets.as_slice().as_bytes()
    }

    /// Hands the packet to `sink`, as [`DupTicket::send`]: when the sink answers `Err`, every ticket
    /// is withdrawn ([`DupBatch::withdraw`]) and the sink's error returned.
    ///
    /// # Errors
    ///
    /// The sink's.
    pub fn send<E>(self, sink: impl FnOnce(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let k = DefaultKernel::default();
        pass::send(self.as_bytes(), sink, || {
            pass::withdraw_all(&self.tickets, |m| active::withdraw(&k, m))
        })
    }

    /// Writes the batch to a byte stream: its ticket count, then its packet ([`stream`](crate::stream)
    /// says how; [`stream::read_batch`](crate::stream::read_batch) reads it). When the write fails every
    /// ticket is withdrawn, as [`DupBatch::send`] does (`std` feature).
    ///
    /// # Errors
    ///
    /// The write's.
    #[cfg(feature = "std")]
    pub fn write_to<W: std::io::Write + ?Sized>(self, w: &mut W) -> std::io::Result<()> {
        self.send(|b| crate::stream::write_batch(w, b))
    }

    /// Withdraws every ticket of a batch that was not sent; see [`DupTicket::withdraw`] (the sender's
    /// job: dropping a batch withdraws nothing). All are tried, also after one fails.
    ///
    /// # Errors
    ///
    /// The first ticket's error, as [`DupTicket::withdraw`].
    pub fn withdraw(self) -> Result<(), Errno> {
        let k = DefaultKernel::default();
        pass::withdraw_all(&self.tickets, |m| active::withdraw(&k, m))
    }

    /// [`DupBatch::withdraw`] through the given kernel-call implementation (`kernel-seams` feature).
    ///
    /// # Errors
    ///
    /// As [`DupBatch::withdraw`].
    #[cfg(feature = "kernel-seams")]
    pub fn withdraw_with<K: PlatformKernel>(self, k: &K) -> Result<(), Errno> {
        pass::withdraw_all(&self.tickets, |m| active::withdraw(k, m))
    }
}

/// The descriptors a [`Receiver::redeem_batch`] obtained, in ticket order, at most `N`: a slice of
/// [`OwnedFd`] through `Deref`, and an iterator of them by value (dropping the rest closes them).
///
/// ```no_run
/// # fn f(mut r: qnx_fdpass::Receiver, packet: &[u8]) -> Result<(), qnx_fdpass::BatchError> {
/// let fds = r.redeem_batch::<8>(packet)?;
/// println!("{} descriptors", fds.len());
/// for fd in fds {
///     // fd: OwnedFd
/// #   drop(fd);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct OwnedFds<const N: usize> {
    fds: Vec<OwnedFd, N>,
}

impl<const N: usize> Deref for OwnedFds<N> {
    type Target = [OwnedFd];

    fn deref(&self) -> &[OwnedFd] {
        &self.fds
    }
}

impl<const N: usize> IntoIterator for OwnedFds<N> {
    type Item = OwnedFd;
    type IntoIter = OwnedFdsIter<N>;

    fn into_iter(mut self) -> OwnedFdsIter<N> {
        // Popped from the back, so reversed once here to come out in ticket order.
        self.fds.reverse();
        OwnedFdsIter { rev: self.fds }
    }
}

impl<'a, const N: usize> IntoIterator for &'a OwnedFds<N> {
    type Item = &'a OwnedFd;
    type IntoIter = core::slice::Iter<'a, OwnedFd>;

    fn into_iter(self) -> Self::IntoIter {
        self.fds.iter()
    }
}

/// The by-value iterator of [`OwnedFds`]: each descriptor in ticket order; the ones not taken are closed
/// when it is dropped.
#[derive(Debug)]
pub struct OwnedFdsIter<const N: usize> {
    rev: Vec<OwnedFd, N>,
}

impl<const N: usize> Iterator for OwnedFdsIter<N> {
    type Item = OwnedFd;

    fn next(&mut self) -> Option<OwnedFd> {
        self.rev.pop()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rev.len(), Some(self.rev.len()))
    }
}

impl<const N: usize> ExactSizeIterator for OwnedFdsIter<N> {}

/// The receiving side: redeems tickets, keeping per-sender state (on the Linux host, one pidfd per
/// sender process, for the last 8 senders) so that repeated passes from the same sender cost one system
/// call.
///
/// Dropping it releases that state. On Neutrino it holds nothing.
///
/// # Examples
///
/// ```
/// use qnx_fdpass::{ticket::MAX_LEN, wire::TicketBuf, Issuer, Receiver, Recipient};
/// # #[cfg(feature = "std")] fn main() -> Result<(), qnx_fdpass::Error> {
/// # let file = std::fs::File::open("/").unwrap();
/// # let ticket = Issuer::new()?.dup(&file, Recipient::Any)?;
/// # let recv = |buf: &mut [u8]| { let b = ticket.as_bytes(); buf[..b.len()].copy_from_slice(b); b.len() };
/// let mut receiver = Receiver::new();
/// let mut buf = TicketBuf::<MAX_LEN>::new(); // aligned, and as long as the longest ticket
/// let n = recv(&mut buf.bytes); // any channel: a pipe, a message queue, a socket...
/// match receiver.redeem(buf.filled(n)) {
///     Ok(fd) => { /* use fd; dropping it closes it */ }
///     Err(e) => { /* nothing was opened */ let _ = e; }
/// }
/// # Ok(()) }
/// # #[cfg(not(feature = "std"))] fn main() {}
/// ```
#[derive(Debug)]
pub struct Receiver {
    inner: seams::Receiver<HOST_PEERS, DefaultKernel>,
}

/// How many senders' pidfds a [`Receiver`] keeps on the Linux host backend (a fixed size: host tuning
/// stays out of the type a QNX user names). On Neutrino the receiver keeps nothing.
const HOST_PEERS: usize = 8;

impl Receiver {
    /// A receiver (no system call).
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: seams::Receiver::with_kernel(DefaultKernel::default()),
        }
    }

    /// Checks `bytes` and redeems the ticket: a new descriptor, close-on-exec.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the bytes are not a valid ticket (nothing attempted); [`Error::Os`] with the
    /// errno of the call that failed. Either way every descriptor and connection opened on the way has
    /// been closed.
    #[doc(alias = "receive_fd")]
    pub fn redeem(&mut self, bytes: &[u8]) -> Result<OwnedFd, Error> {
        self.inner.redeem(bytes)
    }

    /// [`Receiver::redeem`] for `_IO_DUP` tickets only.
    ///
    /// The checks and the cleanup are those of [`Receiver::redeem`]; a program that only passes dup
    /// tickets links less code with this one (the openfd path is left out; BENCHMARKS.md has the
    /// figures).
    ///
    /// # Errors
    ///
    /// As [`Receiver::redeem`]. A packet that is not a dup ticket is refused before anything is
    /// attempted, with the error [`parse_as::<wire::IoDup>`](crate::ticket::parse_as) reports: an
    /// `_IO_OPENFD` ticket, which is longer, with [`DecodeError::TooLong`](crate::DecodeError::TooLong).
    pub fn redeem_dup(&mut self, bytes: &[u8]) -> Result<OwnedFd, Error> {
        self.inner.redeem_dup(bytes)
    }

    /// Redeems a [`DupBatch`] packet all-or-nothing: up to `N` descriptors, in ticket order.
    ///
    /// # Errors
    ///
    /// [`BatchError`] naming the first ticket that was bad or failed; the descriptors already obtained
    /// from the batch have been closed.
    pub fn redeem_batch<const N: usize>(
        &mut self,
        bytes: &[u8],
    ) -> Result<OwnedFds<N>, BatchError> {
        self.inner.redeem_batch(bytes)
    }
}

/// A receiver's settings for tickets it cannot trust, in their own block.
impl Receiver {
    /// Bounds every redeem's `_IO_DUP` / `_IO_OPENFD` send by `timeout`: a server that never receives
    /// the message, or receives it and never replies, makes the redeem fail with `Os(ETIMEDOUT)` instead
    /// of blocking the calling thread for good; the new connection is detached and nothing is left
    /// open. (By default, and through [`receive_fd`], a redeem is unbounded.)
    ///
    /// On Neutrino `TimerTimeout(CLOCK_MONOTONIC, _NTO_TIMEOUT_SEND | _NTO_TIMEOUT_REPLY)` is armed right
    /// before the send, raw or through the C library; the kernel rounds the relative time up by one tick.
    ///
    /// **What it cannot bound:** a server whose channel was created with `_NTO_CHF_UNBLOCK` (every
    /// resource manager's) that has received the message and does not reply. There the kernel only
    /// sends the server an unblock pulse when the time is up, and the receiver stays REPLY-blocked until
    /// the server replies or dies (shown on the 6.4 guest). A ticket names its server, so a hostile or
    /// stuck peer can pick such a server. What a receiver should do about it: accept tickets only from
    /// peers it trusts to name honest servers, and redeem on a thread that may block (a watchdog can
    /// then give up on that thread; killing the server's process releases it).
    ///
    /// On QNX 8.0 with `libc-calls` a dup ticket is normally redeemed through libc's `dupfd()`, which
    /// makes several kernel calls that one `TimerTimeout` cannot bound; with a timeout it is redeemed
    /// with the hand-built `_IO_DUP` carrying the ticket's handle instead, as without `libc-calls`
    /// (INFERRED: 8.0 is not run here).
    ///
    /// On the Linux host a redeem never blocks (`pidfd_getfd` does not wait for the sender): the
    /// setting is accepted and has nothing to bound.
    #[must_use]
    pub fn with_timeout(self, timeout: crate::Timeout) -> Self {
        Self {
            inner: self.inner.with_timeout(timeout),
        }
    }

    /// Redeems tickets that name **this process** as the server too; by default they are refused with
    /// [`DecodeError::OwnServer`](crate::DecodeError::OwnServer) before anything is attempted (Neutrino;
    /// the host's tickets name no server).
    ///
    /// Such a ticket makes the receiver send its `_IO_DUP` / `_IO_OPENFD` to one of its own channels. That
    /// is legitimate only for a receiver that is itself the file's server, and only when another thread
    /// receives on that channel: the redeeming thread waits for the reply, so if it is the channel's only
    /// receiver it waits forever (shown on the 6.4 guest). Opt in only then, and redeem on a thread other
    /// than the channel's receiving threads.
    #[must_use]
    pub fn allow_own_server(self) -> Self {
        Self {
            inner: self.inner.allow_own_server(),
        }
    }
}

impl Default for Receiver {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds a dup ticket for `fd` and hands its bytes to `sink`: the article's `send_fd`, with the
/// transport a closure that answers `Ok(())` when all the bytes went (as `Write::write_all` does).
///
/// When the sink answers `Err`, the ticket is withdrawn before returning ([`DupTicket::send`]), so on
/// QNX 8.0 its `dupfd` registration does not linger.
///
/// # Errors
///
/// [`SendError::Issue`] as [`DupTicket::new`] (`sink` is not called then); [`SendError::Sink`] with
/// the sink's error.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "std")] fn main() -> std::io::Result<()> {
/// use qnx_fdpass::{receive_fd, send_fd, Recipient};
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
///
/// let (mut tx, rx) = UnixStream::pair()?;
/// let file = std::fs::File::open(std::env::current_exe()?)?;
/// send_fd(&file, Recipient::Any, |ticket| tx.write_all(ticket))?;
///
/// let ticket = qnx_fdpass::stream::read_ticket(&mut &rx, &mut Default::default())?.to_vec();
/// let copy = std::fs::File::from(receive_fd(&ticket)?);
/// # drop(copy);
/// # Ok(()) }
/// # #[cfg(not(feature = "std"))] fn main() {}
/// ```
pub fn send_fd<E>(
    fd: impl AsFd,
    to: Recipient,
    sink: impl FnOnce(&[u8]) -> Result<(), E>,
) -> Result<(), SendError<E>> {
    let k = DefaultKernel::default();
    let ticket = seams::issue_dup(&k, fd.as_fd().as_raw_fd(), to).map_err(SendError::Issue)?;
    ticket.send(sink).map_err(SendError::Sink)
}

/// Checks `bytes` and redeems the ticket: the article's `receive_fd`. Keeps no state between calls; use
/// a [`Receiver`] to pass many descriptors from the same sender cheaply.
///
/// **Unbounded**: a ticket naming a server that never answers blocks the calling thread for good. For a
/// ticket from a peer that is not trusted to name honest servers, redeem with
/// `Receiver::new().with_timeout(t)` ([`Receiver::with_timeout`] says what it bounds and what it cannot).
/// Tickets naming this process as the server are refused ([`Receiver::allow_own_server`]).
///
/// # Errors
///
/// As [`Receiver::redeem`].
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "std")] fn main() -> std::io::Result<()> {
/// use qnx_fdpass::{receive_fd, send_fd, Recipient};
/// let file = std::fs::File::open(std::env::current_exe()?)?;
/// let mut ticket = Vec::new();
/// send_fd(&file, Recipient::Any, |b| -> Result<(), ()> { ticket.extend_from_slice(b); Ok(()) })
///     .expect("issued and handed over");
/// let fd = receive_fd(&ticket)?; // an OwnedFd: dropping it closes it
/// assert!(receive_fd(&ticket[..3]).is_err()); // a cut ticket opens nothing
/// # drop(fd);
/// # Ok(()) }
/// # #[cfg(not(feature = "std"))] fn main() {}
/// ```
pub fn receive_fd(bytes: &[u8]) -> Result<OwnedFd, Error> {
    seams::Receiver::<0, DefaultKernel>::with_kernel(DefaultKernel::default()).redeem(bytes)
}

/// Withdraws a ticket, or every ticket of a [`DupBatch`] packet, from its bytes: [`DupTicket::withdraw`]
/// for a sender that kept only the bytes it tried to send (the C interface's `qnx_fdpass_withdraw`).
///
/// The same rules hold: withdraw only what is known not to have reached the receiver. On QNX 6.x/7.x
/// and the Linux host nothing is registered, and a well-formed ticket is withdrawn by doing nothing.
///
/// # Errors
///
/// [`Error::Decode`] if the bytes are neither one ticket nor a batch packet (nothing is withdrawn then);
/// [`Error::Os`] as [`DupTicket::withdraw`], for a batch the first ticket's error (every ticket is
/// tried).
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "std")] fn main() -> Result<(), qnx_fdpass::Error> {
/// use qnx_fdpass::{withdraw, DecodeError, Error, Issuer, Recipient};
/// # let file = std::fs::File::open("/").unwrap();
/// let mut kept = Vec::new(); // a sender that kept only the bytes it tried to send
/// Issuer::new()?
///     .dup(&file, Recipient::Any)?
///     .send(|b| -> Result<(), ()> { kept.extend_from_slice(b); Ok(()) })
///     .ok();
/// // ... and then learned that the receiver never got them:
/// withdraw(&kept)?;
/// assert!(matches!(withdraw(&kept[..5]), Err(Error::Decode(DecodeError::TooShort { .. }))));
/// # Ok(()) }
/// # #[cfg(not(feature = "std"))] fn main() {}
/// ```
pub fn withdraw(bytes: &[u8]) -> Result<(), Error> {
    let k = DefaultKernel::default();
    pass::withdraw_bytes(
        bytes,
        |m| active::withdraw(&k, m),
        |m| active::withdraw(&k, m),
    )
}

/// Closes `fd` and returns what the close answered, where dropping an [`OwnedFd`] ignores it (as std's
/// does).
///
/// On Neutrino this is libc's `close()` (qnx-abi.md §9.5): an `_IO_CLOSE` message to the server with
/// `MsgSend`, then `ConnectDetach` unless the message was interrupted, and the server's answer. An
/// interrupted close leaves the descriptor open there, so it is tried again, a bounded number of times;
/// if every attempt is interrupted the descriptor is **left open** (never detached behind the server's
/// back, which would leave the server's binding for this descriptor number behind) and `EINTR` is
/// returned. With `libc-calls` the C library's `close()` is called. On the Linux host: one `close(2)`,
/// never retried (Linux releases the descriptor even when it reports `EINTR`).
///
/// With the `std` feature `fd` is std's `OwnedFd`; the close is still this crate's (on Neutrino without
/// `libc-calls`, the raw sequence above), not the C library's.
///
/// # Errors
///
/// The server's (or the OS's) error for the close; `EINTR` as above.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "std")] fn main() -> std::io::Result<()> {
/// use qnx_fdpass::{close, receive_fd, send_fd, Recipient};
/// let file = std::fs::File::open(std::env::current_exe()?)?;
/// let mut ticket = Vec::new();
/// send_fd(&file, Recipient::Any, |b| -> Result<(), ()> { ticket.extend_from_slice(b); Ok(()) })
///     .expect("issued");
/// let fd = receive_fd(&ticket)?;
/// close(fd)?; // what the close answered, where `drop(fd)` would ignore it
/// # Ok(()) }
/// # #[cfg(not(feature = "std"))] fn main() {}
/// ```
pub fn close(fd: OwnedFd) -> Result<(), Errno> {
    crate::sys::close(fd.into_raw_fd())
}

/// The calling process's pid, as the tickets name it. Cannot fail: on Neutrino it is read from the
/// thread's TLS block (as the C library's `getpid()` does, also with raw kernel calls), on the Linux host
/// it is the `getpid` system call.
#[must_use]
pub fn getpid() -> i32 {
    crate::sys::getpid()
}

#[cfg_attr(not(feature = "kernel-seams"), allow(dead_code))]
pub mod seams {
    //! The kernel-call seams: the API's types generic over the kernel-call implementation, so this
    //! crate's tests, fault injection and the HIL payload's raw-vs-libc comparison can put a double
    //! underneath. Public only with the `kernel-seams` feature, and **not covered by semver**: programs
    //! use [`Issuer`](crate::Issuer) and [`Receiver`](crate::Receiver).

    use heapless::Vec;

    use super::{DupTicket, OpenfdTicket, OwnedFds};
    use crate::errno::Errno;
    use crate::error::{BatchError, DecodeError, Error};
    use crate::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
    use crate::pass::{self, active};
    use crate::sys::PlatformKernel;
    use crate::ticket::{self, Recipient};
    use crate::timeout::Timeout;
    use crate::wire::{self, Access, Message};

    pub(crate) fn issue_dup<K: PlatformKernel>(
        k: &K,
        fd: RawFd,
        to: Recipient,
    ) -> Result<DupTicket, Errno> {
        active::issue_dup(k, fd, to).map(|msg| DupTicket { msg })
    }

    pub(crate) fn issue_openfd<K: PlatformKernel>(
        k: &K,
        fd: RawFd,
        access: Access,
        to: Recipient,
    ) -> Result<OpenfdTicket, Errno> {
        active::issue_openfd(k, fd, access, to).map(|msg| OpenfdTicket { msg })
    }

    /// [`crate::Issuer`] over the kernel-call implementation `K`.
    #[derive(Debug)]
    pub struct Issuer<K: PlatformKernel> {
        k: K,
        id: active::Identity,
    }

    impl<K: PlatformKernel> Issuer<K> {
        /// An issuer using `k` (a test double or fault injector).
        ///
        /// # Errors
        ///
        /// As [`crate::Issuer::new`].
        pub fn with_kernel(k: K) -> Result<Self, Errno> {
            let id = active::identity(&k)?;
            Ok(Self { k, id })
        }

        /// The kernel-call implementation.
        pub const fn kernel(&self) -> &K {
            &self.k
        }

        /// As [`crate::Issuer::pid`].
        #[must_use]
        pub const fn pid(&self) -> i32 {
            self.id.pid
        }

        /// As [`crate::Issuer::dup`].
        ///
        /// # Errors
        ///
        /// As [`crate::DupTicket::new`].
        pub fn dup(&self, fd: impl AsFd, to: Recipient) -> Result<DupTicket, Errno> {
            active::issue_dup_as(&self.k, self.id, fd.as_fd().as_raw_fd(), to)
                .map(|msg| DupTicket { msg })
        }

        /// As [`crate::Issuer::openfd`].
        ///
        /// # Errors
        ///
        /// As [`crate::OpenfdTicket::new`].
        pub fn openfd(
            &self,
            fd: impl AsFd,
            access: Access,
            to: Recipient,
        ) -> Result<OpenfdTicket, Errno> {
            active::issue_openfd_as(&self.k, self.id, fd.as_fd().as_raw_fd(), access, to)
                .map(|msg| OpenfdTicket { msg })
        }
    }

    /// [`crate::Receiver`] over the kernel-call implementation `K`.
    #[derive(Debug)]
    pub struct Receiver<const PEERS: usize, K: PlatformKernel> {
        k: K,
        peers: active::Peers<PEERS>,
        /// Tickets naming this process as the server are redeemed (`crate::Receiver::allow_own_server`).
        own_server: bool,
        /// The bound on each redeem's send (`crate::Receiver::with_timeout`).
        timeout: Option<Timeout>,
    }

    impl<const PEERS: usize, K: PlatformKernel> Receiver<PEERS, K> {
        /// A receiver using `k` (a test double or fault injector).
        pub const fn with_kernel(k: K) -> Self {
            Self {
                k,
                peers: active::Peers::new(),
                own_server: false,
                timeout: None,
            }
        }

        /// As [`crate::Receiver::with_timeout`].
        #[must_use]
        pub const fn with_timeout(mut self, timeout: Timeout) -> Self {
            self.timeout = Some(timeout);
            self
        }

        /// As [`crate::Receiver::allow_own_server`].
        #[must_use]
        pub const fn allow_own_server(mut self) -> Self {
            self.own_server = true;
            self
        }

        /// The kernel-call implementation.
        pub const fn kernel(&self) -> &K {
            &self.k
        }

        /// As [`crate::Receiver::redeem`].
        ///
        /// # Errors
        ///
        /// As [`crate::Receiver::redeem`].
        pub fn redeem(&mut self, bytes: &[u8]) -> Result<OwnedFd, Error> {
            // What `parse` does, with each kind checked into a copy (the redeem rewrites its header).
            let fd = match ticket::peek_type(bytes) {
                Some(wire::IO_DUP) => {
                    let m = ticket::parse_copy::<wire::IoDup>(bytes)?;
                    self.check_own_server(&m)?;
                    active::redeem_dup(&self.k, &mut self.peers, &m, self.timeout)?
                }
                Some(wire::IO_OPENFD) => {
                    let m = ticket::parse_copy::<wire::IoOpenfd>(bytes)?;
                    self.check_own_server(&m)?;
                    active::redeem_openfd(&self.k, &mut self.peers, &m, self.timeout)?
                }
                Some(other) => return Err(DecodeError::WrongType(other).into()),
                None => {
                    let got = bytes.len();
                    return Err(DecodeError::TooShort { need: 2, got }.into());
                }
            };
            Ok(fd.into_owned())
        }

        /// As [`crate::Receiver::redeem_dup`].
        ///
        /// # Errors
        ///
        /// As [`crate::Receiver::redeem_dup`].
        pub fn redeem_dup(&mut self, bytes: &[u8]) -> Result<OwnedFd, Error> {
            let m = ticket::parse_copy::<wire::IoDup>(bytes)?;
            self.check_own_server(&m)?;
            let fd = active::redeem_dup(&self.k, &mut self.peers, &m, self.timeout)?;
            Ok(fd.into_owned())
        }

        /// As [`crate::Receiver::redeem_batch`].
        ///
        /// # Errors
        ///
        /// As [`crate::Receiver::redeem_batch`].
        pub fn redeem_batch<const N: usize>(
            &mut self,
            bytes: &[u8],
        ) -> Result<OwnedFds<N>, BatchError> {
            let own = active::own_pid(&self.k, self.own_server).map_err(|e| BatchError {
                index: 0,
                error: Error::Os(e),
            })?;
            let (k, peers, timeout) = (&self.k, &mut self.peers, self.timeout);
            let got = pass::redeem_batch_checked::<wire::IoDup, _, N>(
                bytes,
                |m| pass::check_own_server(own, m),
                |m| active::redeem_dup(k, peers, m, timeout),
            )?;
            // Handed over one by one, not `collect`ed (heapless's `FromIterator` panics on overflow;
            // here both hold N, so every push succeeds).
            let mut fds: Vec<OwnedFd, N> = Vec::new();
            for fd in got {
                let _ = fds.push(fd.into_owned());
            }
            Ok(OwnedFds { fds })
        }
    }

    impl<const PEERS: usize, K: PlatformKernel> Receiver<PEERS, K> {
        /// Refuses a ticket naming this process as its server, unless allowed.
        fn check_own_server<M: Message>(&self, m: &M) -> Result<(), Error> {
            let own = active::own_pid(&self.k, self.own_server)?;
            Ok(pass::check_own_server(own, m)?)
        }
    }

    impl<const PEERS: usize, K: PlatformKernel> Drop for Receiver<PEERS, K> {
        fn drop(&mut self) {
            self.peers.clear(&self.k);
        }
    }
}

// Tickets, batches, issuers and receivers move between threads (the README says so; this proves it).
const _: () = {
    const fn send<T: Send>() {}
    send::<DupTicket>();
    send::<OpenfdTicket>();
    send::<DupBatch<8>>();
    send::<OwnedFds<8>>();
    send::<Receiver>();
    send::<Issuer>();
};

#[cfg(all(test, host_linux))]
mod tests {
    //! The redeem entry points refuse exactly what `parse` refuses, with the same error, before any
    //! system call (the double fails the test if one is made).

    use std::vec::Vec;

    use zerocopy::IntoBytes;

    use super::*;
    use crate::error::DecodeError;
    use crate::sys::host::tests::Unreachable;
    use crate::ticket::{parse, parse_as};
    use crate::wire::{IoDup, IoOpenfd, Message, MsgInfoHdr, TicketBuf};

    /// A header naming sender pid 1234, descriptor 5.
    fn hdr() -> MsgInfoHdr {
        MsgInfoHdr {
            nd: 0,
            srcnd: 0,
            pid: 0,
            tid: 1234,
            chid: 0,
            scoid: 0,
            coid: 5,
        }
    }

    /// Every length from 0 to 80 of a valid dup and openfd ticket, and every single-byte change of one.
    fn packets() -> Vec<Vec<u8>> {
        let info = hdr();
        let mut out = Vec::new();
        for good in [
            IoDup::with_info(info, 7).as_bytes().to_vec(),
            IoOpenfd::with_info(info, 7).as_bytes().to_vec(),
        ] {
            let mut long = good.clone();
            long.resize(80, 0);
            for len in 0..=long.len() {
                out.push(long[..len].to_vec());
            }
            for at in 0..good.len() {
                for v in [0u8, 1, 0x0d, 0x15, 0x80, 0xff] {
                    let mut b = good.clone();
                    b[at] = v;
                    out.push(b);
                }
            }
        }
        out
    }

    #[test]
    fn redeem_refuses_what_parse_refuses() {
        let mut r = seams::Receiver::<2, _>::with_kernel(Unreachable);
        for p in packets() {
            let mut buf = TicketBuf::<96>::new();
            buf.bytes[..p.len()].copy_from_slice(&p);
            for bytes in [buf.filled(p.len()), &p[..]] {
                if let Err(e) = parse(bytes) {
                    assert_eq!(r.redeem(bytes).map(drop), Err(Error::Decode(e)), "{p:02x?}");
                }
                if let Err(e) = parse_as::<IoDup>(bytes) {
                    assert_eq!(
                        r.redeem_dup(bytes).map(drop),
                        Err(Error::Decode(e)),
                        "{p:02x?}"
                    );
                }
            }
        }
    }

    #[test]
    fn withdraw_takes_tickets_and_batches_and_refuses_the_rest() {
        let d = IoDup::with_info(hdr(), 7);
        let o = IoOpenfd::with_info(hdr(), 7);
        // On the host nothing is registered: a well-formed ticket or packet is withdrawn by doing nothing.
        assert_eq!(withdraw(d.as_bytes()), Ok(()));
        assert_eq!(withdraw(o.as_bytes()), Ok(()));
        let mut batch = [d.as_bytes(), d.as_bytes(), d.as_bytes()].concat();
        assert_eq!(withdraw(&batch), Ok(()));
        // Anything else is refused with what parse says about it.
        batch[IoDup::SIZE] ^= 0xff; // the second ticket's type
        assert!(
            matches!(
                withdraw(&batch),
                Err(Error::Decode(DecodeError::WrongType(_)))
            ),
            "{:?}",
            withdraw(&batch)
        );
        assert_eq!(
            withdraw(&[1, 2, 3]),
            Err(Error::Decode(parse(&[1, 2, 3]).unwrap_err()))
        );
        let cut = &d.as_bytes()[..IoDup::SIZE - 1];
        assert_eq!(withdraw(cut), Err(Error::Decode(parse(cut).unwrap_err())));
    }

    #[test]
    fn redeem_dup_refuses_openfd_tickets() {
        let info = hdr();
        let o = IoOpenfd::with_info(info, 7);
        let mut r = seams::Receiver::<2, _>::with_kernel(Unreachable);
        assert_eq!(
            r.redeem_dup(o.as_bytes()).map(drop),
            Err(Error::Decode(DecodeError::TooLong {
                max: IoDup::SIZE,
                got: IoOpenfd::SIZE
            }))
        );
        // Cut to a dup ticket's length, it is refused for its type.
        assert_eq!(
            r.redeem_dup(&o.as_bytes()[..IoDup::SIZE]).map(drop),
            Err(Error::Decode(DecodeError::WrongType(wire::IO_OPENFD)))
        );
    }
}

//! Fault injection over any kernel ([`NeutrinoKernel`] or [`LinuxKernel`]): how the tests prove that
//! every failing path closes what it opened.

use core::cell::Cell;

use crate::errno::Errno;
use crate::fd::RawFd;
use crate::sys::{DupfdRecord, Kernel, LinuxKernel, NeutrinoKernel};
use crate::wire::{Access, MsgInfo64};

/// Fault injection: wraps a kernel ([`NeutrinoKernel`] or [`LinuxKernel`]) and fails its `k`-th
/// fallible call (1-based) with `errno`.
///
/// `close`, `close_attempts`, `getpid` and `has_dupfd` are never failed: the first is the cleanup and
/// the others cannot fail in a way the caller could act on. [`FailAt::calls`] tells how many fallible
/// calls were made, so a test can walk k from 1 to the length of a path.
#[derive(Debug)]
pub struct FailAt<K> {
    inner: K,
    k: usize,
    errno: Errno,
    calls: Cell<usize>,
}

impl<K> FailAt<K> {
    /// Fails the `k`-th fallible call with `errno` (`k = 0`: never).
    pub const fn new(inner: K, k: usize, errno: Errno) -> Self {
        Self {
            inner,
            k,
            errno,
            calls: Cell::new(0),
        }
    }

    /// How many fallible calls were made so far.
    pub fn calls(&self) -> usize {
        self.calls.get()
    }

    fn gate(&self) -> Result<(), Errno> {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        if n == self.k {
            Err(self.errno)
        } else {
            Ok(())
        }
    }
}

/// Fallible methods, each written `fn name(arg: T, ...) -> R;` or `unsafe fn ...`: counts the call,
/// fails it if it is the k-th, and otherwise forwards it to the wrapped kernel.
macro_rules! gated {
    () => {};
    (fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; $($rest:tt)*) => {
        fn $name(&self, $($arg: $ty),*) -> Result<$ret, Errno> {
            self.gate()?;
            self.inner.$name($($arg),*)
        }
        gated!($($rest)*);
    };
    (unsafe fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; $($rest:tt)*) => {
        unsafe fn $name(&self, $($arg: $ty),*) -> Result<$ret, Errno> {
            self.gate()?;
            // SAFETY: forwarded with the caller's promise, which is the same for the wrapped kernel.
            unsafe { self.inner.$name($($arg),*) }
        }
        gated!($($rest)*);
    };
}

// SAFETY: every descriptor-returning call is forwarded to `inner` and returns its answer unchanged, or
// fails without reaching it; `close` is `inner`'s.
unsafe impl<K: Kernel> Kernel for FailAt<K> {
    unsafe fn close(&self, fd: RawFd) -> Result<(), Errno> {
        // SAFETY: forwarded with the caller's promise.
        unsafe { self.inner.close(fd) }
    }
    fn close_attempts(&self) -> usize {
        self.inner.close_attempts()
    }
    fn getpid(&self) -> Result<i32, Errno> {
        self.inner.getpid()
    }
}

// SAFETY: as the `Kernel` impl: the wrapped kernel's answers, or an injected error.
unsafe impl<K: NeutrinoKernel> NeutrinoKernel for FailAt<K> {
    fn has_dupfd(&self) -> bool {
        self.inner.has_dupfd()
    }

    gated! {
        fn connect_attach(nd: u32, pid: i32, chid: i32, index: u32, flags: i32) -> i32;
        unsafe fn connect_detach(coid: i32) -> ();
        unsafe fn connect_server_info(pid: i32, coid: i32) -> MsgInfo64;
        unsafe fn connect_flags(pid: i32, coid: i32, mask: u32, bits: u32) -> u32;
        unsafe fn msg_sendnc(coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> isize;
        unsafe fn msg_send(coid: i32, smsg: &[u8], rmsg: &mut [u8]) -> isize;
        unsafe fn dupfd_register(dstpid: i32, fd: i32, flags: u32) -> u64;
        unsafe fn dupfd_register_with(dstpid: i32, fd: i32, flags: u32, server: &MsgInfo64) -> u64;
        fn dupfd_unregister(handle: u64) -> ();
        fn dupfd(handle: u64, flags: i32) -> i32;
        fn timer_timeout(clock: i32, flags: u32, nanos: u64) -> u32;
        fn dupfd_getinfo(handle: u64) -> DupfdRecord;
    }
}

// SAFETY: as the `Kernel` impl: the wrapped kernel's answers, or an injected error.
unsafe impl<K: LinuxKernel> LinuxKernel for FailAt<K> {
    gated! {
        fn pidfd_open(pid: i32) -> RawFd;
        unsafe fn pidfd_getfd(pidfd: RawFd, fd: RawFd) -> RawFd;
        unsafe fn access_mode(fd: RawFd) -> Access;
        unsafe fn reopen(fd: RawFd, access: Access) -> RawFd;
        fn start_time(pid: i32) -> u64;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use core::fmt::Debug;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    use super::*;
    use crate::sys::nto::close::CLOSE_ATTEMPTS;
    use crate::sys::nto::double::{Call, Double, HANDLE, SERVER};

    /// What `FailAt` injects: nothing the double answers by itself.
    const INJECTED: Errno = Errno::XDEV;

    /// The kernel double, with answers that are none of 0, 1 and -1: coid 101, reply status 7 (and a
    /// reply of [`Double::REPLY`] bytes), previous flags 0x55, handle [`HANDLE`], server info [`SERVER`].
    fn double() -> Double {
        Double {
            status: 7,
            conn_flags: 0x55,
            timeout_prev: 0x66,
            record: Some(DupfdRecord {
                peer: 0x77,
                server: 0x2001,
                info: SERVER.hdr(),
            }),
            ..Double::default()
        }
    }

    /// What the double saw: its log, and the server info `dupfd_register_with` handed it.
    fn seen(k: &Double) -> (Vec<Call>, Option<MsgInfo64>) {
        (k.log(), *k.register_info.borrow())
    }

    /// A success as text, so that one table holds calls of every return type.
    fn text<T: Debug>(r: Result<T, Errno>) -> Result<String, Errno> {
        r.map(|v| format!("{v:?}"))
    }

    /// One kernel call with fixed arguments; its success as text.
    type Probe = fn(&dyn NeutrinoKernel) -> Result<String, Errno>;

    // SAFETY (every `unsafe` block of the probes): the double's descriptors are numbers in its own
    // table; no call reaches the OS.
    /// Every fallible method `FailAt` implements over the Neutrino double, called with fixed arguments.
    /// (Its Linux calls are the same macro's, and tests/fault_injection.rs drives them over the host.)
    const FALLIBLE: [Probe; 12] = [
        |k| text(k.connect_attach(0x11, 0x22, 0x33, 0x44, 0x66)),
        // SAFETY: see above.
        |k| text(unsafe { k.connect_detach(0x77) }),
        // SAFETY: see above.
        |k| text(unsafe { k.connect_server_info(0x22, 3) }),
        // SAFETY: see above.
        |k| text(unsafe { k.connect_flags(0x22, 3, 0xF0, 0x0F) }),
        |k| {
            let mut reply = [0; 2];
            // SAFETY: see above.
            text(unsafe { k.msg_sendnc(3, b"dup", &mut reply) }.map(|s| (s, reply)))
        },
        |k| {
            let mut reply = [0; 3];
            // SAFETY: see above.
            text(unsafe { k.msg_send(3, b"open", &mut reply) }.map(|s| (s, reply)))
        },
        // SAFETY: see above.
        |k| text(unsafe { k.dupfd_register(0x22, 3, 0x9) }),
        |k| {
            let info = MsgInfo64 {
                scoid: 0x4000_0042,
                ..SERVER
            };
            // SAFETY: see above.
            text(unsafe { k.dupfd_register_with(0x23, 4, 0x8, &info) })
        },
        |k| text(k.dupfd_unregister(0x1234)),
        |k| text(k.dupfd(HANDLE, 0x66)),
        |k| text(k.timer_timeout(2, 0x50, 77)),
        |k| text(k.dupfd_getinfo(HANDLE)),
    ];

    /// Every fallible method reaches the kernel it wraps with the same arguments (what the double sees
    /// is what it sees when called directly) and returns its exact answer; the k-th fallible call, and
    /// only it, returns the injected errno without reaching it.
    #[test]
    fn fallible_calls_are_forwarded_or_failed_unseen() {
        for (i, call) in FALLIBLE.iter().enumerate() {
            let direct = double();
            let answer = call(&direct);
            let reached = seen(&direct);
            // The answers tell a forwarded call from a made-up one.
            assert!(!matches!(answer.as_deref(), Ok("0" | "1" | "-1")), "{i}");
            if answer.is_ok() {
                assert_eq!(reached.0.len(), 1, "{i}");
            }

            // k = 0: never failed.
            let f = FailAt::new(double(), 0, INJECTED);
            assert_eq!(call(&f), answer, "{i}");
            assert_eq!(seen(&f.inner), reached, "{i}");
            assert_eq!(f.calls(), 1, "{i}");

            // k = 1: the first call fails unseen; the next one is forwarded.
            let f = FailAt::new(double(), 1, INJECTED);
            assert_eq!(call(&f), Err(INJECTED), "{i}");
            assert_eq!(seen(&f.inner), seen(&double()), "{i}");
            assert_eq!(call(&f), answer, "{i}");
            assert_eq!(seen(&f.inner), reached, "{i}");
            assert_eq!(f.calls(), 2, "{i}");

            // k = 2: the first call is forwarded, the second fails unseen.
            let f = FailAt::new(double(), 2, INJECTED);
            assert_eq!(call(&f), answer, "{i}");
            assert_eq!(call(&f), Err(INJECTED), "{i}");
            assert_eq!(seen(&f.inner), reached, "{i}");
            assert_eq!(f.calls(), 2, "{i}");
        }
    }

    /// `close`, `close_attempts`, `getpid` and `has_dupfd` are the wrapped kernel's, never failed and
    /// not counted, even while the next fallible call is the one to fail.
    #[test]
    fn cleanup_and_infallible_calls_pass_through() {
        let f = FailAt::new(double(), 1, INJECTED);
        // SAFETY: the double's descriptors are numbers in its own table; no call reaches the OS.
        assert_eq!(unsafe { f.close(5) }, Ok(()));
        assert_eq!(f.inner.log(), [Call::io_close(5), Call::Detach(5)]);
        assert_eq!(f.getpid(), Ok(4321));
        assert_eq!(f.inner.log().last(), Some(&Call::Getpid));
        assert!(!f.has_dupfd());
        assert_eq!(f.close_attempts(), CLOSE_ATTEMPTS);
        assert_eq!(CLOSE_ATTEMPTS, 8);
        assert_eq!(f.calls(), 0);
        // The first fallible call is still the one that fails.
        assert_eq!(f.dupfd_unregister(HANDLE), Err(INJECTED));
        assert_eq!(f.calls(), 1);

        // The wrapped kernel's answers, whatever they are.
        let libc = Double {
            libc_dupfd: true,
            pid: 0x5150,
            fail_on: Some(("MsgSend", Errno::SRVRFAULT)),
            ..double()
        };
        let f = FailAt::new(libc, 1, INJECTED);
        assert!(f.has_dupfd());
        assert_eq!(f.getpid(), Ok(0x5150));
        // SAFETY: as above.
        assert_eq!(unsafe { f.close(5) }, Err(Errno::SRVRFAULT));
        assert_eq!(f.calls(), 0);
    }
}

//! Closing a connection the way the QNX C library's `close()` does (qnx-abi.md §9.5), and retrying it
//! while it is interrupted: how every descriptor the crate owns on Neutrino is closed.
//!
//! Pure sequences over [`NeutrinoKernel`], compiled on every target so the host tests the order of the calls.

use zerocopy::IntoBytes;

use crate::errno::Errno;
#[cfg(doc)]
use crate::sys::Kernel;
use crate::sys::NeutrinoKernel;
use crate::wire::IoClose;

/// What libc's `close()` does for a connection (qnx-abi.md §9.5): an `_IO_CLOSE` message to the server
/// with `MsgSend`, then, **unless that send was interrupted** (`EINTR`), `ConnectDetach`; the result is the
/// server's answer.
///
/// After `EINTR` the descriptor is still open and still bound in the server: detaching then would drop the
/// connection link without the server hearing of it (every descriptor a process holds to one channel
/// shares one kernel connection, and the server is told only when the last link goes), so the server
/// would keep a binding for this descriptor number, and a later bind of the same number to that server
/// would fail with `EBUSY`. The caller retries ([`close_retrying`](crate::sys::close_retrying)) or keeps
/// the descriptor.
///
/// # Errors
///
/// `EINTR` (the descriptor is still open); otherwise the server's error for `_IO_CLOSE` (the descriptor is
/// detached all the same, as libc does), or the errno of `ConnectDetach`.
///
/// # Safety
///
/// As [`Kernel::close`]: `coid` is a connection the caller owns and does not use again once it is
/// closed (after `EINTR` it is still open and still the caller's), or a number that names none.
pub(crate) unsafe fn close_with<K: NeutrinoKernel + ?Sized>(k: &K, coid: i32) -> Result<(), Errno> {
    let msg = IoClose::new();
    // SAFETY: the caller owns `coid`.
    let sent = unsafe { k.msg_send(coid, msg.as_bytes(), &mut []) };
    if sent == Err(Errno::INTR) {
        return Err(Errno::INTR);
    }
    // SAFETY: the caller owns `coid` and does not use it again now that it is closed.
    let detached = unsafe { k.connect_detach(coid) };
    match sent {
        Err(e) => Err(e),
        Ok(_) => detached,
    }
}

/// How many times the crate calls a Neutrino backend's [`Kernel::close`] while it answers `EINTR`
/// ([`Kernel::close_attempts`], [`close_retrying`](crate::sys::close_retrying)).
pub(crate) const CLOSE_ATTEMPTS: usize = 8;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::sys::nto::double::{Call, Double};

    /// [`close_with`] on the double.
    fn close(k: &Double, coid: i32) -> Result<(), Errno> {
        // SAFETY: the double's connections are numbers in its own table; nothing reaches the OS.
        unsafe { close_with(k, coid) }
    }

    /// [`close_retrying`](crate::sys::close_retrying) on the double.
    fn close_retrying(k: &Double, coid: i32) -> Result<(), Errno> {
        // SAFETY: as in `close`.
        unsafe { crate::sys::close_retrying(k, coid) }
    }

    #[test]
    fn close_sends_io_close_then_detaches() {
        // libc's close(): `_IO_CLOSE` with MsgSend (a cancellation point), not MsgSendnc.
        let k = Double::default();
        assert_eq!(close(&k, 5), Ok(()));
        assert_eq!(k.log(), [Call::io_close(5), Call::Detach(5)]);
        assert_eq!(
            k.log()[0],
            Call::Send {
                coid: 5,
                bytes: std::vec![0x16, 0x01, 4, 0],
                nc: false
            }
        );

        // The server's answer is the result; the connection is detached all the same.
        let k = Double {
            fail_on: Some(("MsgSend", Errno::SRVRFAULT)),
            ..Double::default()
        };
        assert_eq!(close(&k, 5), Err(Errno::SRVRFAULT));
        assert_eq!(k.log(), [Call::io_close(5), Call::Detach(5)]);

        let k = Double {
            fail_on: Some(("ConnectDetach", Errno::BADF)),
            ..Double::default()
        };
        assert_eq!(close(&k, 5), Err(Errno::BADF));
    }

    #[test]
    fn interrupted_close_does_not_detach() {
        // EINTR: the server still holds the binding, so the descriptor must stay attached.
        let k = Double {
            fail_on: Some(("MsgSend", Errno::INTR)),
            ..Double::default()
        };
        assert_eq!(close(&k, 5), Err(Errno::INTR));
        assert_eq!(k.log(), [Call::io_close(5)]);
    }

    #[test]
    fn close_retries_while_interrupted_and_gives_up_attached() {
        // Two interruptions, then the close goes through: three `_IO_CLOSE`s, one detach.
        let k = Double::default();
        k.close_intr.set(2);
        assert_eq!(close_retrying(&k, 5), Ok(()));
        assert_eq!(
            k.log(),
            [
                Call::io_close(5),
                Call::io_close(5),
                Call::io_close(5),
                Call::Detach(5)
            ]
        );
        // Interrupted every time: bounded, and never detached.
        let k = Double {
            fail_on: Some(("MsgSend", Errno::INTR)),
            ..Double::default()
        };
        assert_eq!(close_retrying(&k, 5), Err(Errno::INTR));
        assert_eq!(k.log(), std::vec![Call::io_close(5); CLOSE_ATTEMPTS]);
        // Another error is not retried.
        let k = Double {
            fail_on: Some(("MsgSend", Errno::SRVRFAULT)),
            ..Double::default()
        };
        assert_eq!(close_retrying(&k, 5), Err(Errno::SRVRFAULT));
        assert_eq!(k.log(), [Call::io_close(5), Call::Detach(5)]);
    }
}

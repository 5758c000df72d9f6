//! The QNX kernel trait's provided methods, as its documentation gives them: an implementation that
//! only has the calls every Neutrino version has (QNX 6.x/7.x: no `dupfd` handles) answers `ENOSYS` to
//! `dupfd_unregister` and `dupfd`, says it has no `dupfd`, and `dupfd_register_with` is its
//! `dupfd_register`. The trait is compiled on every target (the ticket logic above it is host-tested
//! against doubles), so these defaults are checked here.

use std::cell::RefCell;

use qnx_fdpass::sys::Kernel;
use qnx_fdpass::wire::MsgInfo64;
use qnx_fdpass::Errno;

/// Implements the required calls only; records `dupfd_register`'s arguments and refuses everything
/// else (a provided method that called one would show as that error).
#[derive(Default)]
struct SevenX {
    registered: RefCell<Vec<(i32, i32, u32)>>,
}

impl Kernel for SevenX {
    fn connect_attach(&self, _: u32, _: i32, _: i32, _: u32, _: i32) -> Result<i32, Errno> {
        Err(Errno::PERM)
    }
    fn connect_detach(&self, _: i32) -> Result<(), Errno> {
        Err(Errno::PERM)
    }
    fn connect_server_info(&self, _: i32, _: i32) -> Result<MsgInfo64, Errno> {
        Err(Errno::PERM)
    }
    fn connect_flags(&self, _: i32, _: i32, _: u32, _: u32) -> Result<u32, Errno> {
        Err(Errno::PERM)
    }
    fn msg_sendnc(&self, _: i32, _: &[u8], _: &mut [u8]) -> Result<isize, Errno> {
        Err(Errno::PERM)
    }
    fn msg_send(&self, _: i32, _: &[u8], _: &mut [u8]) -> Result<isize, Errno> {
        Err(Errno::PERM)
    }
    fn close(&self, _: i32) -> Result<(), Errno> {
        Err(Errno::PERM)
    }
    fn close_attempts(&self) -> usize {
        1
    }
    fn getpid(&self) -> Result<i32, Errno> {
        Err(Errno::PERM)
    }
    fn dupfd_register(&self, dstpid: i32, fd: i32, flags: u32) -> Result<u64, Errno> {
        self.registered.borrow_mut().push((dstpid, fd, flags));
        match fd {
            7 => Ok(0x1234_5678_9abc),
            _ => Err(Errno::NOSYS),
        }
    }
}

#[test]
fn a_kernel_without_handles_has_no_dupfd() {
    let _g = crate::common::serial();
    let k = SevenX::default();
    assert!(!k.has_dupfd());
    assert_eq!(k.dupfd(0x55, 0), Err(Errno::NOSYS));
    assert_eq!(k.timer_timeout(2, 0x50, 1_000), Err(Errno::NOSYS));
    assert_eq!(k.dupfd_unregister(0x55), Err(Errno::NOSYS));
    assert_eq!(k.dupfd_unregister(0), Err(Errno::NOSYS));
    assert!(k.registered.borrow().is_empty(), "nothing registered");
}

#[test]
fn dupfd_register_with_is_dupfd_register_by_default() {
    let _g = crate::common::serial();
    let k = SevenX::default();
    let server = MsgInfo64 {
        coid: 7,
        pid: 1,
        chid: 1,
        ..MsgInfo64::default()
    };
    assert_eq!(
        k.dupfd_register_with(42, 7, 1, &server),
        Ok(0x1234_5678_9abc)
    );
    assert_eq!(k.dupfd_register_with(43, 8, 0, &server), Err(Errno::NOSYS));
    assert_eq!(*k.registered.borrow(), [(42, 7, 1), (43, 8, 0)]);
}

/// Implements only what every backend must: every call of the other system is then `ENOSYS`.
struct Bare;

impl Kernel for Bare {
    fn close(&self, _: i32) -> Result<(), Errno> {
        Err(Errno::PERM)
    }
    fn close_attempts(&self) -> usize {
        1
    }
    fn getpid(&self) -> Result<i32, Errno> {
        Ok(1)
    }
}

/// A backend of one system answers `ENOSYS` to the other's calls (the Linux host has no
/// `ConnectAttach`, Neutrino no `pidfd_open`), whatever the arguments: the ticket logic of each never
/// calls them, and a double that forgets one fails loudly instead of succeeding.
#[test]
fn every_call_a_backend_does_not_implement_is_enosys() {
    let _g = crate::common::serial();
    let k = Bare;
    assert_eq!(k.connect_attach(0, 1, 1, 0, 0), Err(Errno::NOSYS));
    assert_eq!(k.connect_detach(3), Err(Errno::NOSYS));
    assert_eq!(k.connect_server_info(0, 3), Err(Errno::NOSYS));
    assert_eq!(k.connect_flags(0, 3, 1, 1), Err(Errno::NOSYS));
    assert_eq!(k.msg_sendnc(3, &[1, 2], &mut []), Err(Errno::NOSYS));
    assert_eq!(k.msg_send(3, &[1, 2], &mut []), Err(Errno::NOSYS));
    assert_eq!(k.dupfd_register(5, 3, 1), Err(Errno::NOSYS));
    assert_eq!(
        k.dupfd_register_with(5, 3, 1, &MsgInfo64::default()),
        Err(Errno::NOSYS)
    );
    assert_eq!(k.dupfd_unregister(0x55), Err(Errno::NOSYS));
    assert!(!k.has_dupfd());
    assert_eq!(k.dupfd(0x55, 0), Err(Errno::NOSYS));
    assert_eq!(k.pidfd_open(1), Err(Errno::NOSYS));
    assert_eq!(k.pidfd_getfd(3, 0), Err(Errno::NOSYS));
    assert_eq!(k.access_mode(0), Err(Errno::NOSYS));
    assert_eq!(k.reopen(0, qnx_fdpass::Access::Read), Err(Errno::NOSYS));
    assert_eq!(k.start_time(1), Err(Errno::NOSYS));
}

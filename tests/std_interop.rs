//! With the `std` feature: std's descriptors go in as they are (`&File`, `&UnixStream`, a pipe's
//! writer), redeemed ones come out as std's `OwnedFd` and convert with `From`, and every error converts
//! into `io::Error` with the right raw OS error and kind, so `?` works in `io::Result` code. No `unsafe`
//! anywhere: this is how a std program uses the crate. Linux host backend (in-process redeems).

#![cfg(all(target_os = "linux", feature = "std"))]

use std::fs::File;
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use qnx_fdpass::{
    receive_fd, send_fd, Access, BatchError, DecodeError, DupBatch, DupTicket, Errno, Error,
    Issuer, OpenfdTicket, Receiver, Recipient,
};

/// A memfd holding `content`, its offset at the end.
fn temp_file(content: &[u8]) -> File {
    let fd = rustix::fs::memfd_create("std-interop", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
    let mut f = File::from(fd);
    f.write_all(content).unwrap();
    f
}

#[test]
fn a_file_goes_in_by_reference_and_comes_out_as_a_file() -> io::Result<()> {
    let mut file = temp_file(b"0123456789");
    file.seek(SeekFrom::Start(4))?;
    let mut packet = Vec::new();
    send_fd(&file, Recipient::Any, |t| packet.write_all(t))?;
    let fd: OwnedFd = receive_fd(&packet)?; // it *is* std's OwnedFd
    assert_ne!(fd.as_raw_fd(), file.as_raw_fd());
    let mut copy = File::from(fd);
    let mut rest = String::new();
    copy.read_to_string(&mut rest)?;
    assert_eq!(rest, "456789", "a dup shares the offset");
    assert_eq!(file.stream_position()?, 10, "both ways");

    // An openfd ticket from a borrowed descriptor: its own offset, from 0.
    let t = OpenfdTicket::new(file.as_fd(), Access::Read, Recipient::Any)?;
    let mut own = File::from(Receiver::new().redeem(t.as_bytes())?);
    let mut all = String::new();
    own.read_to_string(&mut all)?;
    assert_eq!(all, "0123456789");
    Ok(())
}

#[test]
fn sockets_and_pipes_convert_with_from() -> io::Result<()> {
    let (a, mut b) = UnixStream::pair()?;
    let issuer = Issuer::new()?;
    let t = issuer.dup(&a, Recipient::Any)?;
    let mut a2 = UnixStream::from(Receiver::new().redeem(t.as_bytes())?);
    a2.write_all(b"through the copy")?;
    let mut got = [0u8; 16];
    b.read_exact(&mut got)?;
    assert_eq!(&got, b"through the copy");

    let (mut reader, writer) = io::pipe()?;
    let t = DupTicket::new(&writer, Recipient::Any)?;
    let mut w2 = io::PipeWriter::from(receive_fd(t.as_bytes())?);
    drop(writer);
    w2.write_all(b"pipe")?;
    drop(w2);
    let mut s = String::new();
    reader.read_to_string(&mut s)?;
    assert_eq!(s, "pipe", "the redeemed writer was the only one left");
    Ok(())
}

#[test]
fn a_batch_comes_out_as_std_descriptors() -> io::Result<()> {
    let file = temp_file(b"batch");
    let mut batch = DupBatch::<3>::new();
    for _ in 0..3 {
        batch.push(DupTicket::new(&file, Recipient::Any)?).unwrap();
    }
    let fds = Receiver::new().redeem_batch::<3>(batch.as_bytes())?;
    let files: Vec<File> = fds.into_iter().map(File::from).collect();
    assert_eq!(files.len(), 3);
    for f in &files {
        assert_eq!(f.metadata()?.len(), 5);
    }
    Ok(())
}

/// `?` from each of the crate's errors in a function returning `io::Result`.
fn redeem_io(bytes: &[u8]) -> io::Result<File> {
    Ok(File::from(receive_fd(bytes)?))
}

#[test]
fn errors_become_io_errors_with_the_linux_number() {
    // A malformed packet: InvalidData, no OS error, the DecodeError inside.
    let e = redeem_io(&[1, 2, 3]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidData);
    assert_eq!(e.raw_os_error(), None);
    assert!(e.get_ref().unwrap().is::<DecodeError>(), "{e:?}");

    // A closed descriptor: EBADF, which is 9 on Linux and in QNX numbering alike.
    // (A high number, which the other tests running meanwhile do not reuse.)
    let file = temp_file(b"x");
    let closed = rustix::io::fcntl_dupfd_cloexec(&file, 1100).unwrap();
    let t = DupTicket::new(&closed, Recipient::Any).unwrap();
    drop(closed);
    let e = redeem_io(t.as_bytes()).unwrap_err();
    assert_eq!(
        e.raw_os_error(),
        Some(rustix::io::Errno::BADF.raw_os_error())
    );

    // Numbers that differ between the systems come out in Linux numbering, with std's kind for them.
    for (errno, linux, kind) in [
        (Errno::NOSYS, 38, ErrorKind::Unsupported),
        (Errno::TIMEDOUT, 110, ErrorKind::TimedOut),
        (Errno::NOTSUP, 95, ErrorKind::Unsupported),
        (Errno::NOENT, 2, ErrorKind::NotFound),
        (Errno::ACCES, 13, ErrorKind::PermissionDenied),
    ] {
        let e = io::Error::from(errno);
        assert_eq!(e.raw_os_error(), Some(linux), "{errno:?}");
        assert_eq!(e.kind(), kind, "{errno:?}");
        assert_eq!(
            io::Error::from(Error::Os(errno)).raw_os_error(),
            Some(linux)
        );
    }
    // A Linux-only errno keeps its number all the way (ENOMEDIUM, 123).
    assert_eq!(
        io::Error::from(Errno::from_linux(123)).raw_os_error(),
        Some(123)
    );
    // A QNX-only errno has no Linux number: kind Other, the Errno inside.
    let e = io::Error::from(Errno::NOREMOTE);
    assert_eq!(e.raw_os_error(), None);
    assert_eq!(e.kind(), ErrorKind::Other);
    assert_eq!(
        e.get_ref().unwrap().downcast_ref::<Errno>(),
        Some(&Errno::NOREMOTE)
    );

    // A batch error keeps its index in the message and the failing ticket's kind.
    let e = io::Error::from(BatchError::new(2, Error::Os(Errno::ACCES)));
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("ticket 2"), "{e}");
}

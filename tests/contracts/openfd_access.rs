//! The `_IO_OPENFD` access matrix on the Linux host backend: an original opened read-only, write-only
//! and read-write, each asked for read, write and read-write access. What is asked within the original's
//! access is granted, and what comes back is a new open with exactly the access asked for, close-on-exec,
//! blocking, of the same file, at its own offset, and it reads or writes (and only that) as its access
//! says. What is wider is refused with `EACCES`, and nothing is left open.
//!
//! This process is both sender and receiver (a ticket may name its own issuer): it runs as root in CI,
//! where the file's permissions would let any re-open through `/proc/self/fd` through, so the backend's
//! own check is the only thing between a write-only original and a reader. Linux host backend only.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use crate::common::{fd, file_id, open_fds, sys_fd, PIDFD};
use qnx_fdpass::{
    receive_fd, Access, Errno, Error, Issuer, OpenfdTicket, OwnedFd, Receiver, Recipient,
};
use rustix::fs::OFlags;
use rustix::io::FdFlags;

const ALL: [Access; 3] = [Access::Read, Access::Write, Access::ReadWrite];
const CONTENT: &[u8] = b"0123456789abcdef\n";

/// A fresh file holding [`CONTENT`], removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("qnx-fdpass-openfd-{}-{tag}", std::process::id()));
        std::fs::write(&path, CONTENT).unwrap();
        TempFile(path)
    }

    fn open(&self, access: Access) -> File {
        OpenOptions::new()
            .read(access != Access::Write)
            .write(access != Access::Read)
            .open(&self.0)
            .unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The access mode of a descriptor as the kernel reports it (`fcntl(F_GETFL)`), read independently of
/// the crate.
fn kernel_access(fd: i32) -> Access {
    let mode = rustix::fs::fcntl_getfl(sys_fd(fd)).unwrap() & OFlags::RWMODE;
    if mode == OFlags::WRONLY {
        Access::Write
    } else if mode == OFlags::RDWR {
        Access::ReadWrite
    } else {
        assert_eq!(mode, OFlags::RDONLY);
        Access::Read
    }
}

const fn reads(a: Access) -> bool {
    matches!(a, Access::Read | Access::ReadWrite)
}

const fn writes(a: Access) -> bool {
    matches!(a, Access::Write | Access::ReadWrite)
}

/// Whether an original opened with `have` may be re-opened with `want`.
const fn within(want: Access, have: Access) -> bool {
    (!reads(want) || reads(have)) && (!writes(want) || writes(have))
}

/// Everything a granted openfd result must be.
fn assert_granted(got: &OwnedFd, orig: &File, file: &TempFile, want: Access, what: &str) {
    let raw = qnx_fdpass::fd::AsRawFd::as_raw_fd(got);
    assert_ne!(raw, orig.as_raw_fd(), "{what}: a new descriptor");
    assert_eq!(kernel_access(raw), want, "{what}: access mode");
    let fdflags = rustix::io::fcntl_getfd(sys_fd(raw)).unwrap();
    assert!(fdflags.contains(FdFlags::CLOEXEC), "{what}: close-on-exec");
    let flags = rustix::fs::fcntl_getfl(sys_fd(raw)).unwrap();
    assert!(!flags.contains(OFlags::NONBLOCK), "{what}: {flags:?}");
    assert!(!flags.contains(OFlags::PATH), "{what}: {flags:?}");
    assert_eq!(
        file_id(&sys_fd(raw)),
        file_id(orig),
        "{what}: the same file"
    );
    // Its own open file: its offset is 0 while the original's is elsewhere.
    assert_eq!(
        rustix::fs::seek(sys_fd(raw), rustix::fs::SeekFrom::Current(0)).unwrap(),
        0,
        "{what}: own offset"
    );

    let mut buf = [0u8; 64];
    let read = rustix::io::pread(sys_fd(raw), &mut buf, 0);
    if reads(want) {
        assert_eq!(read.map(|n| &buf[..n]), Ok(CONTENT), "{what}: reads");
    } else {
        assert_eq!(read, Err(rustix::io::Errno::BADF), "{what}: must not read");
    }
    let wrote = rustix::io::pwrite(sys_fd(raw), b"W", 3);
    let now = std::fs::read(&file.0).unwrap();
    if writes(want) {
        assert_eq!(wrote, Ok(1), "{what}: writes");
        assert_eq!(&now[..5], b"012W4", "{what}: the write reached the file");
        std::fs::write(&file.0, CONTENT).unwrap();
    } else {
        assert_eq!(
            wrote,
            Err(rustix::io::Errno::BADF),
            "{what}: must not write"
        );
        assert_eq!(now, CONTENT, "{what}: the file is unchanged");
    }
}

#[test]
fn openfd_grants_exactly_the_access_within_the_original() {
    let _g = crate::common::serial();
    let file = TempFile::new("matrix");
    let sender = Issuer::new().unwrap();
    let mut cached = Receiver::new();
    let mut granted = 0;
    for have in ALL {
        let mut orig = file.open(have);
        // The original's offset is moved, so a shared offset would show.
        orig.seek(SeekFrom::Start(7)).unwrap();
        assert_eq!(kernel_access(orig.as_raw_fd()), have);
        for want in ALL {
            let what = format!("original {have:?}, asked {want:?}");
            let by_new = OpenfdTicket::new(fd(&orig), want, Recipient::Any).unwrap();
            let by_sender = sender.openfd(fd(&orig), want, Recipient::Any).unwrap();
            assert_eq!(by_new.as_bytes(), by_sender.as_bytes(), "{what}");
            let before = open_fds();
            for (how, res) in [
                ("receive_fd", receive_fd(by_new.as_bytes())),
                ("Receiver<2>", cached.redeem(by_sender.as_bytes())),
            ] {
                let what = format!("{what}, {how}");
                if within(want, have) {
                    let got = res.unwrap_or_else(|e| panic!("{what}: refused with {e:?}"));
                    assert_granted(&got, &orig, &file, want, &what);
                    granted += 1;
                } else {
                    match res {
                        Err(e) => assert_eq!(e, Error::Os(Errno::ACCES), "{what}"),
                        Ok(got) => {
                            panic!(
                                "{what}: granted, as {:?}",
                                kernel_access(qnx_fdpass::fd::AsRawFd::as_raw_fd(&got))
                            )
                        }
                    }
                }
            }
            // The cached receiver keeps one pidfd (for this process); nothing else stays open.
            let mut after = open_fds();
            after.retain(|fd, t| before.contains_key(fd) || t != PIDFD);
            assert_eq!(after, before, "{what}: descriptors left open");
            let mut rest = [0u8; 64];
            let n = orig.read(&mut rest).unwrap_or(0);
            if reads(have) {
                assert_eq!(
                    &rest[..n],
                    &CONTENT[7..],
                    "{what}: the original's offset moved"
                );
            }
            orig.seek(SeekFrom::Start(7)).unwrap();
        }
    }
    // Read from read and read-write originals, write from write and read-write ones, read-write from
    // read-write ones only: 2 + 2 + 1 cases, each by both receivers.
    assert_eq!(granted, 10);
    drop(cached);
}

#[test]
fn openfd_tickets_for_path_only_descriptors_are_refused() {
    let _g = crate::common::serial();
    let file = TempFile::new("path");
    let path_only = rustix::fs::open(
        &file.0,
        OFlags::PATH | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    for want in ALL {
        assert_eq!(
            OpenfdTicket::new(fd(&path_only), want, Recipient::Any).unwrap_err(),
            Errno::ACCES,
            "{want:?}"
        );
    }
}

/// `within` is what the matrix test's expectations come from: check it against the table written out.
#[test]
fn the_expected_matrix() {
    let _g = crate::common::serial();
    use Access::{Read as R, ReadWrite as RW, Write as W};
    let granted: Vec<(Access, Access)> = ALL
        .iter()
        .flat_map(|&have| ALL.iter().map(move |&want| (have, want)))
        .filter(|&(have, want)| within(want, have))
        .collect();
    assert_eq!(granted, [(R, R), (W, W), (RW, R), (RW, W), (RW, RW)]);
}

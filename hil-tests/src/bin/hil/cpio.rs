//! A `newc` cpio writer: enough for a Linux initramfs, with device nodes, and no root needed.
//!
//! Format (the kernel's `Documentation/driver-api/early-userspace/buffer-format.rst`): each entry is the
//! magic `070701`, thirteen 8-digit hex fields, the NUL-terminated name padded to 4 bytes, then the data
//! padded to 4 bytes; the archive ends with an entry named `TRAILER!!!`.

use std::io::{self, Write};

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// Builds an archive in memory.
#[derive(Default)]
pub struct Cpio {
    out: Vec<u8>,
    ino: u32,
}

impl Cpio {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        self.ino += 1;
        let nlink = if mode & S_IFDIR == S_IFDIR { 2 } else { 1 };
        let fields = [
            self.ino,
            mode,
            0, // uid root
            0, // gid root
            nlink,
            0, // mtime: fixed, so the archive is reproducible
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// A directory (`name` without a leading slash).
    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.entry(name, S_IFDIR | 0o755, (0, 0), &[]);
        self
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) -> &mut Self {
        self.entry(name, S_IFREG | perm, (0, 0), data);
        self
    }

    /// A symbolic link to `target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(name, S_IFLNK | 0o777, (0, 0), target.as_bytes());
        self
    }

    /// A character device node: what needs root with the `cpio` tool, and none here.
    pub fn chardev(&mut self, name: &str, perm: u32, major: u32, minor: u32) -> &mut Self {
        self.entry(name, S_IFCHR | perm, (major, minor), &[]);
        self
    }

    /// Ends the archive and writes it.
    pub fn finish(mut self, w: &mut impl Write) -> io::Result<()> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        w.write_all(&self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_aligned_and_well_formed() {
        let mut c = Cpio::new();
        c.dir("dev")
            .chardev("dev/console", 0o600, 5, 1)
            .file("init", 0o755, b"#!/bin/sh\n")
            .symlink("bin/sh", "busybox");
        let mut out = Vec::new();
        c.finish(&mut out).unwrap();
        assert_eq!(out.len() % 4, 0);
        assert!(out.starts_with(b"070701"));
        // the console node: mode 020600, rdev 5:1
        let at = out.windows(11).position(|w| w == b"dev/console").unwrap();
        let hdr = std::str::from_utf8(&out[at - 110..at]).unwrap();
        assert_eq!(&hdr[14..22], "00002180"); // S_IFCHR | 0600
        assert_eq!(&hdr[78..86], "00000005");
        assert_eq!(&hdr[86..94], "00000001");
        assert!(out.windows(10).any(|w| w == b"TRAILER!!!"));
    }
}

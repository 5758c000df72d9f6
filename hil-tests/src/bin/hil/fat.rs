//! The Neutrino payload disk: an MBR with one FAT16 partition (type 6) holding `hil/` — the scenario
//! program and `run.sh`. Built with the `fatfs` crate, no root and no loop devices.
//!
//! Neutrino's block drivers name a type-6 partition on the second disk `/dev/hd1t6`, which the image's
//! `post_start.custom` mounts with `mount -t dos` (see `hil-tests/README.md`).

use fscommon::StreamSlice;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// A file read back from the disk: `/`-separated path and contents.
pub type FileEntry = (String, Vec<u8>);

const SECTOR: u64 = 512;
/// First sector of the partition (1 MiB aligned, as partitioning tools do).
const PART_START: u64 = 2048;
/// Partition size in sectors: 32 MiB, comfortably FAT16.
const PART_SECTORS: u64 = 32 * 1024 * 1024 / SECTOR;
/// MBR partition type: FAT16.
pub const PART_TYPE: u8 = 0x06;

/// Writes a fresh payload disk at `path` holding `files` (paths inside the volume, `/`-separated).
pub fn build(path: &Path, files: &[(&str, &[u8])]) -> io::Result<()> {
    let mut disk = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    disk.set_len((PART_START + PART_SECTORS) * SECTOR)?;
    let mut mbr = [0u8; 512];
    let e = &mut mbr[446..462];
    e[0] = 0x00; // not bootable
    e[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]); // CHS: use LBA
    e[4] = PART_TYPE;
    e[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
    e[8..12].copy_from_slice(&(PART_START as u32).to_le_bytes());
    e[12..16].copy_from_slice(&(PART_SECTORS as u32).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    disk.write_all(&mbr)?;

    let start = PART_START * SECTOR;
    let end = start + PART_SECTORS * SECTOR;
    let part = StreamSlice::new(disk.try_clone()?, start, end)?;
    fatfs::format_volume(
        part,
        fatfs::FormatVolumeOptions::new()
            .fat_type(fatfs::FatType::Fat16)
            .volume_label(*b"HILPAYLOAD "),
    )?;
    let fs = fatfs::FileSystem::new(StreamSlice::new(disk, start, end)?, fatfs::FsOptions::new())?;
    for (name, data) in files {
        let root = fs.root_dir();
        let mut dir = root.clone();
        let mut parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
        let leaf = parts
            .pop()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty name"))?;
        for p in parts {
            dir = match dir.open_dir(p) {
                Ok(d) => d,
                Err(_) => dir.create_dir(p)?,
            };
        }
        let mut f = dir.create_file(leaf)?;
        f.truncate()?;
        f.write_all(data)?;
        f.flush()?;
    }
    fs.unmount()?;
    Ok(())
}

/// Reads a payload disk back: every file as (`/`-separated path, contents), plus the partition type.
pub fn list(path: &Path) -> io::Result<(u8, Vec<FileEntry>)> {
    let mut disk = File::open(path)?;
    let mut mbr = [0u8; 512];
    disk.read_exact(&mut mbr)?;
    if mbr[510..512] != [0x55, 0xaa] {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no MBR signature",
        ));
    }
    let ptype = mbr[446 + 4];
    let lba = u32::from_le_bytes([mbr[454], mbr[455], mbr[456], mbr[457]]) as u64;
    let count = u32::from_le_bytes([mbr[458], mbr[459], mbr[460], mbr[461]]) as u64;
    disk.seek(SeekFrom::Start(0))?;
    let slice = StreamSlice::new(disk, lba * SECTOR, (lba + count) * SECTOR)?;
    let fs = fatfs::FileSystem::new(slice, fatfs::FsOptions::new())?;
    let mut out = Vec::new();
    walk(&fs.root_dir(), "", &mut out)?;
    Ok((ptype, out))
}

fn walk<T: fatfs::ReadWriteSeek>(
    dir: &fatfs::Dir<T>,
    at: &str,
    out: &mut Vec<FileEntry>,
) -> io::Result<()> {
    for e in dir.iter() {
        let e = e?;
        let name = e.file_name();
        if name == "." || name == ".." {
            continue;
        }
        let path = if at.is_empty() {
            name.clone()
        } else {
            format!("{at}/{name}")
        };
        if e.is_dir() {
            walk(&e.to_dir(), &path, out)?;
        } else {
            let mut data = Vec::new();
            e.to_file().read_to_end(&mut data)?;
            out.push((path, data));
        }
    }
    Ok(())
}

//! The fixture image check: a `cd-typed` profile names the sha256 of each file it boots
//! (`fixture-sha256`), and the runner refuses a different file before QEMU starts, so a wrong or
//! damaged image fails with a message that says so instead of hanging at a prompt that never comes.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Where a clone gets the Neutrino 6.4 image the `qnx64-x86` profile boots.
pub const NTO64_SOURCE: &str = "the public GitHub repository vocho/openqnx, commit \
     cc95df3543a1c481d4f8ad387e29f0d1ff0c87fe, file qnxfs.img";

/// The lowercase hex sha256 of the file at `path`.
pub fn sha256_hex(path: &Path) -> Result<String, String> {
    let mut f =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// `Ok` when the file at `path` has the sha256 `want` (hex, any case); otherwise the message the runner
/// fails the guest's rows with, naming both sums and where the expected image comes from.
pub fn check(path: &Path, want: &str) -> Result<(), String> {
    let got = sha256_hex(path)?;
    if got.eq_ignore_ascii_case(want) {
        return Ok(());
    }
    Err(format!(
        "refusing to boot {}: its sha256 is {got}, the profile expects {want} (the image from {NTO64_SOURCE}); \
         point HIL_NTO64_DIR at a directory holding that file",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("hil-image-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn a_file_with_the_expected_sum_passes_and_any_other_is_refused() {
        // sha256("abc"), the FIPS 180-2 test vector.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let p = temp("abc", b"abc");
        assert_eq!(sha256_hex(&p).unwrap(), abc);
        assert_eq!(check(&p, abc), Ok(()));
        assert_eq!(check(&p, &abc.to_uppercase()), Ok(()));
        let other = temp("abd", b"abd");
        let e = check(&other, abc).unwrap_err();
        assert!(e.starts_with("refusing to boot"), "{e}");
        assert!(e.contains(abc) && e.contains("vocho/openqnx"), "{e}");
        assert!(e.contains(&sha256_hex(&other).unwrap()), "{e}");
        let gone = std::env::temp_dir().join("hil-image-no-such-file");
        assert!(check(&gone, abc).unwrap_err().contains("cannot read"));
        std::fs::remove_file(p).unwrap();
        std::fs::remove_file(other).unwrap();
    }
}

//! Output without allocation: lines assembled in a fixed buffer, each written with one `write()` to the
//! serial port (the runner's channel) and to standard output (the guest's screen, for whoever watches).

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicI32, AtomicU8, Ordering};

use crate::c;

/// The serial port's descriptor, once opened (-1 before).
static SERIAL: AtomicI32 = AtomicI32::new(-1);

/// The run's nonce, copied in once at start (atomics: a static without `unsafe`).
static NONCE: [AtomicU8; 64] = [const { AtomicU8::new(0) }; 64];
static NONCE_LEN: AtomicI32 = AtomicI32::new(0);

/// Sets where lines go and the nonce markers carry. Called once, before any fork.
pub fn init(serial: i32, nonce: &[u8]) {
    let n = nonce.len().min(64);
    for (slot, &b) in NONCE.iter().zip(nonce) {
        slot.store(b, Ordering::Relaxed);
    }
    NONCE_LEN.store(n as i32, Ordering::Relaxed);
    SERIAL.store(serial, Ordering::Relaxed);
}

fn push_nonce<const N: usize>(b: &mut Buf<N>) {
    let n = NONCE_LEN.load(Ordering::Relaxed) as usize;
    for slot in &NONCE[..n] {
        b.push_bytes(&[slot.load(Ordering::Relaxed)]);
    }
}

/// A line of at most `N` bytes; what does not fit is cut and ends in `...`.
pub struct Buf<const N: usize> {
    buf: [u8; N],
    len: usize,
    cut: bool,
}

impl<const N: usize> Buf<N> {
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            cut: false,
        }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("<not utf-8>")
    }
    /// Appends `s`; past `N - 4` bytes the rest is cut and `...` appended once (one byte stays free
    /// for [`Buf::end_line`]).
    pub fn push_bytes(&mut self, s: &[u8]) {
        if self.cut {
            return;
        }
        let room = (N - 4).saturating_sub(self.len);
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
        if n < s.len() {
            self.cut = true;
            self.buf[self.len..self.len + 3].copy_from_slice(b"...");
            self.len += 3;
        }
    }
}

impl<const N: usize> Buf<N> {
    /// Ends the line with a newline (always room for it).
    fn end_line(&mut self) {
        self.buf[self.len] = b'\n';
        self.len += 1;
    }
}

impl<const N: usize> Write for Buf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Control characters would break the one-line marker protocol.
        for b in s.bytes() {
            let b = if b < 0x20 || b == 0x7f { b' ' } else { b };
            self.push_bytes(&[b]);
        }
        Ok(())
    }
}

/// The answer text of a scenario.
pub type Text = Buf<1000>;

fn emit(line: &[u8]) {
    for fd in [SERIAL.load(Ordering::Relaxed), 1] {
        if fd < 0 {
            continue;
        }
        let mut off = 0;
        while off < line.len() {
            // SAFETY: the slice is valid for its length for the duration of the call.
            let n = unsafe { c::write(fd, line[off..].as_ptr().cast(), line.len() - off) };
            if n <= 0 {
                break;
            }
            off += n as usize;
        }
    }
}

/// Writes one plain line (no marker).
pub fn log(args: fmt::Arguments<'_>) {
    let mut b = Buf::<1400>::new();
    let _ = b.write_fmt(args);
    b.end_line();
    emit(b.as_bytes());
}

/// Writes one marker line: `HIL-<nonce> ` and the arguments.
pub fn marker(args: fmt::Arguments<'_>) {
    let mut b = Buf::<1400>::new();
    b.push_bytes(b"HIL-");
    push_nonce(&mut b);
    b.push_bytes(b" ");
    let _ = b.write_fmt(args);
    b.end_line();
    emit(b.as_bytes());
}

/// `log(format_args!(...))`.
#[macro_export]
macro_rules! say {
    ($($a:tt)*) => { $crate::out::log(format_args!($($a)*)) };
}

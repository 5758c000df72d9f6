//! Tickets over a byte stream (`std` feature): a pipe, a `UnixStream`, a TCP socket to a local peer...
//! A stream has no message boundaries; these helpers give each ticket its own, so neither side writes
//! framing code.
//!
//! - One ticket travels as its bytes: its length follows from its first bytes
//!   ([`ticket::frame_len`]). Write it with [`DupTicket::write_to`] / [`OpenfdTicket::write_to`] (or
//!   `ticket.send(|b| w.write_all(b))`), read it with [`read_ticket`].
//! - A batch travels as its ticket count (a `u32` in the machine's byte order, as the tickets' own
//!   fields are) and then its packet ([`DupBatch::as_bytes`]). Write it with [`DupBatch::write_to`],
//!   read it with [`read_batch`].
//!
//! A failed write withdraws what it was writing (the receiver cannot redeem part of a ticket). A read
//! that finds bytes that are not a ticket fails with `InvalidData` carrying the [`DecodeError`]; the
//! stream is out of step then, and is best closed.
//!
//! # Examples
//!
//! ```
//! use qnx_fdpass::{stream, Issuer, Receiver, Recipient};
//! use std::os::unix::net::UnixStream;
//!
//! # fn main() -> std::io::Result<()> {
//! let (mut tx, mut rx) = UnixStream::pair()?;
//! let file = std::fs::File::open(std::env::current_exe()?)?;
//! let issuer = Issuer::new()?;
//! issuer.dup(&file, Recipient::Any)?.write_to(&mut tx)?;
//! issuer.openfd(&file, qnx_fdpass::Access::Read, Recipient::Any)?.write_to(&mut tx)?;
//!
//! let mut receiver = Receiver::new();
//! let mut buf = Default::default();
//! for _ in 0..2 {
//!     let fd = receiver.redeem(stream::read_ticket(&mut rx, &mut buf)?)?;
//!     let _file = std::fs::File::from(fd);
//! }
//! # Ok(()) }
//! ```

use std::io::{self, Read, Write};

#[cfg(doc)]
use crate::api::{DupBatch, DupTicket, OpenfdTicket};
use crate::error::DecodeError;
use crate::ticket::{self, DUP_LEN, PEEK_LEN};
use crate::wire::TicketBuf;

/// Reads one ticket from `r` into `buf` and returns its bytes (aligned: parsing them borrows in place).
///
/// # Errors
///
/// `r`'s errors (`UnexpectedEof` when the stream ends before a whole ticket); `InvalidData` carrying a
/// [`DecodeError`] when the first bytes are not a ticket's.
pub fn read_ticket<'b, R: Read + ?Sized>(
    r: &mut R,
    buf: &'b mut TicketBuf,
) -> io::Result<&'b [u8]> {
    let (head, rest) = buf.bytes.split_at_mut(PEEK_LEN);
    r.read_exact(head)?;
    let len = ticket::frame_len(head)?;
    let tail = rest.get_mut(..len - PEEK_LEN).ok_or(DecodeError::TooLong {
        max: ticket::MAX_LEN,
        got: len,
    })?;
    r.read_exact(tail)?;
    Ok(buf.filled(len))
}

/// Reads one batch (as [`DupBatch::write_to`] writes it) from `r` into `buf` and returns its packet, for
/// [`Receiver::redeem_batch`](crate::Receiver::redeem_batch).
///
/// # Errors
///
/// `r`'s errors; `InvalidData` carrying a [`DecodeError`] for a count of 0
/// ([`DecodeError::TooShort`]) or more tickets than `buf` holds ([`DecodeError::TooLong`]; nothing of
/// the packet has been read then).
pub fn read_batch<'b, R: Read + ?Sized>(r: &mut R, buf: &'b mut [u8]) -> io::Result<&'b [u8]> {
    let mut count = [0u8; 4];
    r.read_exact(&mut count)?;
    let count = u32::from_ne_bytes(count) as usize;
    if count == 0 {
        return Err(DecodeError::TooShort {
            need: DUP_LEN,
            got: 0,
        }
        .into());
    }
    let got = count.saturating_mul(DUP_LEN);
    let max = buf.len();
    let packet = buf
        .get_mut(..got)
        .ok_or(DecodeError::TooLong { max, got })?;
    r.read_exact(packet)?;
    Ok(packet)
}

/// Writes a batch's count and packet: what [`DupBatch::write_to`] does, over its bytes.
pub(crate) fn write_batch<W: Write + ?Sized>(w: &mut W, packet: &[u8]) -> io::Result<()> {
    let count = u32::try_from(packet.len() / DUP_LEN)
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    w.write_all(&count.to_ne_bytes())?;
    w.write_all(packet)
}

#[cfg(all(test, host_linux))]
mod tests {
    use super::*;
    use crate::wire::Message;
    use crate::wire::{test_support::hdr, IoDup, IoOpenfd};
    use std::vec::Vec;
    use zerocopy::IntoBytes;

    #[test]
    fn tickets_come_back_whole_one_at_a_time() {
        let d = IoDup::with_info(hdr(), 1);
        let o = IoOpenfd::with_info(hdr(), 2);
        let stream = [d.as_bytes(), o.as_bytes(), d.as_bytes()].concat();
        let mut r = &stream[..];
        let mut buf = TicketBuf::new();
        assert_eq!(read_ticket(&mut r, &mut buf).unwrap(), d.as_bytes());
        assert_eq!(read_ticket(&mut r, &mut buf).unwrap(), o.as_bytes());
        assert_eq!(read_ticket(&mut r, &mut buf).unwrap(), d.as_bytes());
        let e = read_ticket(&mut r, &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        // Cut short, and not a ticket.
        let e = read_ticket(&mut &d.as_bytes()[..DUP_LEN - 1], &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let e = read_ticket(&mut &[0u8; 64][..], &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            e.get_ref().and_then(|e| e.downcast_ref::<DecodeError>()),
            Some(&DecodeError::WrongType(0))
        );
    }

    #[test]
    fn batches_carry_their_count() {
        let d = IoDup::with_info(hdr(), 1);
        let packet = [d.as_bytes(), d.as_bytes(), d.as_bytes()].concat();
        let mut stream = Vec::new();
        write_batch(&mut stream, &packet).unwrap();
        assert_eq!(stream.len(), 4 + 3 * DUP_LEN);
        let mut buf = [0u8; 4 * DUP_LEN];
        assert_eq!(read_batch(&mut &stream[..], &mut buf).unwrap(), &packet[..]);
        let mut small = [0u8; 2 * DUP_LEN];
        let e = read_batch(&mut &stream[..], &mut small).unwrap_err();
        assert_eq!(
            e.get_ref().and_then(|e| e.downcast_ref::<DecodeError>()),
            Some(&DecodeError::TooLong {
                max: 2 * DUP_LEN,
                got: 3 * DUP_LEN
            })
        );
        let e = read_batch(&mut &0u32.to_ne_bytes()[..], &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}

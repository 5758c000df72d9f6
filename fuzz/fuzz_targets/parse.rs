//! The ticket parser on arbitrary bytes: `parse`, `parse_as` for the four layouts, and the decode path
//! of `Receiver::redeem_batch`. Never panics; anything accepted re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qnx_fdpass::seams::Receiver;
use qnx_fdpass::sys::host::Linux;
use qnx_fdpass::sys::FailAt;
use qnx_fdpass::ticket::{check, parse_as, Ticket};
use qnx_fdpass::wire::Message;
use qnx_fdpass::wire::{v7, v8};
use qnx_fdpass::{parse, BatchError, Errno, Error};
use zerocopy::IntoBytes;

/// Parses `data` as `M`; if accepted, the message must be the same bytes and pass `check` again.
fn one<M: Message>(data: &[u8]) {
    if let Ok(m) = parse_as::<M>(data) {
        assert_eq!(m.as_bytes(), data);
        assert_eq!(m.type_(), M::TYPE);
        assert_eq!(usize::from(m.combine_len()), M::SIZE);
        assert!(check(&*m).is_ok());
    }
}

fn all_layouts(data: &[u8]) {
    one::<v7::IoDup>(data);
    one::<v7::IoOpenfd>(data);
    one::<v8::IoDup>(data);
    one::<v8::IoOpenfd>(data);
    match parse(data) {
        Ok(Ticket::Dup(m)) => assert_eq!(m.as_bytes(), data),
        Ok(Ticket::Openfd(m)) => assert_eq!(m.as_bytes(), data),
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    all_layouts(data);
    // The same bytes at an odd address: the copying path of the parser.
    let mut shifted = [0u8; 1025];
    if let Some(dst) = shifted.get_mut(1..=data.len()) {
        dst.copy_from_slice(data);
        all_layouts(dst);
    }
    // The batch decode path. The first kernel call fails with ENOMEM, so a packet that decodes is
    // refused at ticket 0 before anything is opened, and nothing here touches other processes.
    let mut r = Receiver::<0, _>::with_kernel(FailAt::new(Linux, 1, Errno::NOMEM));
    match r.redeem_batch::<8>(data) {
        Ok(_) => panic!("a batch redeemed through a kernel that fails its first call"),
        Err(BatchError {
            error: Error::Decode(_),
            index,
            ..
        }) => assert!(index <= 8),
        Err(e) => assert_eq!(e, BatchError::new(0, Error::Os(Errno::NOMEM))),
    }
    let mut r = Receiver::<0, _>::with_kernel(FailAt::new(Linux, 1, Errno::NOMEM));
    match r.redeem(data) {
        Ok(_) => panic!("a ticket redeemed through a kernel that fails its first call"),
        Err(Error::Decode(_)) => {}
        Err(e) => assert_eq!(e, Error::Os(Errno::NOMEM)),
    }
});

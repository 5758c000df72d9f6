//! What the errors say: every `DecodeError` names what was wrong and the value found, `Error` says what
//! its inner error says and gives it as its `source()`, and a `BatchError` names the ticket that failed.
//! A program logs these; a message that lost its values would leave its reader guessing.

use core::error::Error as _;

use qnx_fdpass::{BatchError, DecodeError, Errno, Error};

fn all_decode_errors() -> Vec<(DecodeError, &'static [&'static str])> {
    vec![
        (
            DecodeError::TooShort { need: 40, got: 39 },
            &["too short", "40", "39"],
        ),
        (
            DecodeError::TooLong { max: 40, got: 41 },
            &["too long", "40", "41"],
        ),
        (DecodeError::WrongType(0x1234), &["type", "0x1234"]),
        (
            DecodeError::WrongCombineLen {
                expected: 40,
                got: 0x8028,
            },
            &["combine_len", "0x8028", "40"],
        ),
        (
            DecodeError::ReservedNonZero {
                field: "info.srcnd",
            },
            &["reserved", "info.srcnd"],
        ),
        (DecodeError::BadSender(-7), &["sender", "-7"]),
        (
            DecodeError::BadCoid(0x4000_0001),
            &["descriptor", "0x40000001"],
        ),
        (DecodeError::BadAccess(4), &["access", "0x4"]),
        (DecodeError::BadXtype(9), &["xtype", "9"]),
        (DecodeError::RemoteNode(0x11), &["remote node", "0x11"]),
        (DecodeError::BadServerPid(-3), &["server pid", "-3"]),
        (DecodeError::BadChid(0), &["channel", "0"]),
        (
            DecodeError::GlobalChannel(0x2000_0005),
            &["global channel", "0x20000005"],
        ),
        (DecodeError::BadScoid(2), &["server connection", "0x2"]),
        (DecodeError::NonZeroKey(0xbeef), &["key", "0xbeef"]),
        (
            DecodeError::OwnServer(77),
            &["server pid", "77", "this process"],
        ),
    ]
}

#[test]
fn decode_errors_say_what_and_which_value() {
    let _g = crate::common::serial();
    for (e, words) in all_decode_errors() {
        let s = e.to_string();
        for w in words {
            assert!(s.contains(w), "{e:?} says {s:?}, without {w:?}");
        }
        assert!(e.source().is_none(), "{e:?}");
    }
}

#[test]
fn an_error_says_what_its_inner_error_says_and_has_it_as_source() {
    let _g = crate::common::serial();
    for (d, _) in all_decode_errors() {
        let e = Error::from(d);
        assert_eq!(e, Error::Decode(d));
        assert_eq!(e.to_string(), d.to_string());
        let inner = e.source().expect("a decode error's source");
        assert_eq!(inner.downcast_ref::<DecodeError>(), Some(&d));
    }
    for n in [
        Errno::BADF,
        Errno::SRCH,
        Errno::NOREMOTE,
        Errno::from_raw(4242),
    ] {
        let e = Error::from(n);
        assert_eq!(e, Error::Os(n));
        assert_eq!(e.to_string(), n.to_string());
        assert!(!e.to_string().is_empty());
        let inner = e.source().expect("an OS error's source");
        assert_eq!(inner.downcast_ref::<Errno>(), Some(&n));
    }
}

#[test]
fn a_batch_error_names_the_ticket() {
    let _g = crate::common::serial();
    let inner = Error::Os(Errno::SRCH);
    let e = BatchError::new(2, inner);
    let s = e.to_string();
    assert!(s.contains("ticket 2"), "{s}");
    assert!(s.contains(&inner.to_string()), "{s}");
    assert_eq!(
        e.source().and_then(|s| s.downcast_ref::<Error>()),
        Some(&inner)
    );
    let d = BatchError::new(0, Error::Decode(DecodeError::BadSender(0)));
    assert!(d.to_string().contains("ticket 0"), "{d}");
    assert!(d.to_string().contains("bad sender pid 0"), "{d}");
}

/// The pairs QNX numbers twice and Linux once, and the running system's number (on the host, Linux's).
#[test]
fn errno_numbers_on_this_system() {
    let _g = crate::common::serial();
    assert_eq!(Errno::from_raw(56).to_linux(), Some(35), "EDEADLOCK");
    assert_eq!(Errno::from_raw(45).to_linux(), Some(35), "EDEADLK");
    assert_eq!(Errno::OPNOTSUPP.to_linux(), Some(95));
    for (e, linux) in [
        (Errno::PERM, Some(1)),
        (Errno::BADF, Some(9)),
        (Errno::NOSYS, Some(38)),
        (Errno::TIMEDOUT, Some(110)),
        (Errno::NOREMOTE, None),
        (Errno::from_raw(0), None),
    ] {
        assert_eq!(e.to_native(), linux, "{e:?}");
        assert_eq!(e.to_native(), e.to_linux(), "{e:?}");
    }
}

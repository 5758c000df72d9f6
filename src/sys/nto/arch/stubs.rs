//! The trap stubs' scaffolding and list, written once for every architecture.
//!
//! Each arch file includes this module and invokes `trap_stubs!` once with its instruction template;
//! what differs between architectures (the instructions, their alignment and syntax) stays in the arch
//! file beside the ABI table it rests on.
//!
//! # Symbol names
//!
//! A stub is a global (hidden) symbol: `global_asm!` goes into whichever codegen unit rustc picks, and
//! the Rust declarations in `raw.rs` may be compiled into another one, so an object-local symbol could
//! not be reached from there. A global name must then not collide with another copy of this crate
//! linked into the same image: two semver-incompatible versions are two crates to Cargo, each with its
//! own stubs. `stub_symbol!` therefore builds each name from the crate's major and minor version
//! (`__qnx_fdpass_v0_1_ker_connect_attach` for 0.1.x), taken from `CARGO_PKG_VERSION_*` so a version
//! bump renames the stubs by itself. Minor is included for 1.x and later too: it is needed for 0.x, and
//! it changes nothing where Cargo already unifies compatible versions into one copy. Two copies of the
//! same major.minor that Cargo keeps apart (one from a registry, one from git) still collide. Rust-mangled
//! names (naked functions) would tell even those apart, but need Rust 1.88, above this crate's
//! `rust-version`, and leave the stubs' section and alignment to the compiler.

/// The link name of the trap stub for kernel call `$name`: `__qnx_fdpass_v{major}_{minor}_ker_{name}`.
macro_rules! stub_symbol {
    ($name:ident) => {
        concat!(
            "__qnx_fdpass_v",
            env!("CARGO_PKG_VERSION_MAJOR"),
            "_",
            env!("CARGO_PKG_VERSION_MINOR"),
            "_ker_",
            stringify!($name)
        )
    };
}
pub(in crate::sys::nto) use stub_symbol;

/// Emits every trap stub, one out-of-line leaf function in its own section per kernel call, from the
/// architecture's instruction template:
///
/// - `align`: the `.p2align` of each stub;
/// - `options`: the `global_asm!` options (the assembler syntax);
/// - `short`, `long`, `send`: the instructions before the call-number load, for calls of 1 to 3
///   arguments, of 4 or more, and for `MsgSend[nc]` (5 arguments, both plain-buffer lengths negated);
/// - `trap`: the rest, with `{nr}` standing for the call number.
///
/// Each call's shape is fixed here, in the one list of stubs; `.ci/stubcheck.py` derives the shape from
/// its own table of argument counts and checks the machine code against it.
macro_rules! trap_stubs {
    (
        align = $align:literal,
        options($($opt:ident),*),
        short = [$($short:literal),*],
        long = [$($long:literal),*],
        send = [$($send:literal),*],
        trap = [$($trap:literal),*] $(,)?
    ) => {
        trap_stubs!(@each
            [$align] [$($opt),*] [$($short),*] [$($long),*] [$($send),*] [$($trap),*];
            send msg_send = MSG_SENDV;
            send msg_sendnc = MSG_SENDVNC;
            short channel_create = CHANNEL_CREATE;
            short channel_destroy = CHANNEL_DESTROY;
            long connect_attach = CONNECT_ATTACH;
            short connect_detach = CONNECT_DETACH;
            short connect_server_info = CONNECT_SERVER_INFO;
            long connect_flags = CONNECT_FLAGS;
            long timer_timeout = TIMER_TIMEOUT;
            #[cfg(qnx_v8)]
            long connect_dupfd = CONNECT_DUPFD;
        );
    };
    (@each $align:tt $opts:tt $short:tt $long:tt $send:tt $trap:tt;
        $($(#[$attr:meta])* $shape:ident $name:ident = $nr:ident;)*
    ) => {
        $(
            $(#[$attr])*
            trap_stubs!(@one $name $nr $align $opts [$shape $short $long $send] $trap);
        )*
    };
    (@one $name:ident $nr:ident [$align:literal] [$($opt:ident),*] [$($before:tt)*] [$($trap:literal),*]) => {
        core::arch::global_asm!(
            concat!(".pushsection .text.", stub_symbol!($name), ",\"ax\",%progbits"),
            concat!(".globl ", stub_symbol!($name)),
            concat!(".hidden ", stub_symbol!($name)),
            concat!(".type ", stub_symbol!($name), ",%function"),
            concat!(".p2align ", $align),
            concat!(stub_symbol!($name), ":"),
            trap_stubs!(@before $($before)*),
            $($trap,)*
            concat!(".size ", stub_symbol!($name), ", . - ", stub_symbol!($name)),
            ".popsection",
            nr = const crate::sys::nto::nr::$nr,
            options($($opt),*),
        );
    };
    (@before short [$($i:literal),*] $long:tt $send:tt) => { concat!($($i, "\n"),*) };
    (@before long $short:tt [$($i:literal),*] $send:tt) => { concat!($($i, "\n"),*) };
    (@before send $short:tt $long:tt [$($i:literal),*]) => { concat!($($i, "\n"),*) };
}
pub(super) use trap_stubs;

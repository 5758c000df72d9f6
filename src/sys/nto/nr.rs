//! Neutrino kernel-call numbers (`__KER_*` in `<sys/kercalls.h>`) and the `ConnectDupFd` operations.
//!
//! Transcribed once from the project's fact sheet (`qnx-abi.md` §3 and §2.4), which read them in the QNX
//! headers: an `enum` in 6.4 (openqnx), SDP 7.0.4 and SDP 7.1, a generated `#define` list in SDP 8.0. Every
//! number below is CONFIRMED and identical in all four versions unless its row says otherwise.
//!
//! The machine-code check in CI (`.ci/stubcheck.py`) carries its own copy of this table and fails when a
//! trap stub loads a different number, so a typo here cannot reach a target unnoticed.
//!
//! | constant | value | 6.4 | 7.0 | 7.1 | 8.0 |
//! |---|---|---|---|---|---|
//! | [`MSG_SENDV`] | 11 | yes | yes | yes | yes |
//! | [`MSG_SENDVNC`] | 12 | yes | yes | yes | yes |
//! | [`CHANNEL_CREATE`] | 35 | yes | yes | yes | yes |
//! | [`CHANNEL_DESTROY`] | 36 | yes | yes | yes | yes |
//! | [`CONNECT_ATTACH`] | 39 | yes | yes | yes | yes |
//! | [`CONNECT_DETACH`] | 40 | yes | yes | yes | yes |
//! | [`CONNECT_SERVER_INFO`] | 41 | yes | yes | yes | yes |
//! | [`CONNECT_CLIENT_INFO`] | 42 | yes | yes | yes | yes |
//! | [`CONNECT_FLAGS`] | 43 | yes | yes | yes | yes |
//! | [`CONNECT_DUPFD`] | 44 | spare | spare | spare | yes |
//! | [`TIMER_TIMEOUT`] | 75 | yes | yes | yes (INFERRED) | yes |

/// `__KER_MSG_SENDV`: `MsgSend`, `MsgSendv` and friends (cancellation point). With negative part counts
/// the kernel takes plain buffers of that many bytes (§4.3). QNX 6.4, 7.0, 7.1, 8.0.
#[doc(alias = "__KER_MSG_SENDV")]
pub const MSG_SENDV: u32 = 11;

/// `__KER_MSG_SENDVNC`: `MsgSendnc`, `MsgSendvnc` and friends (not a cancellation point). QNX 6.4, 7.0,
/// 7.1, 8.0.
#[doc(alias = "__KER_MSG_SENDVNC")]
pub const MSG_SENDVNC: u32 = 12;

/// `__KER_CHANNEL_CREATE`: `ChannelCreate(flags)`. QNX 6.4, 7.0, 7.1, 8.0.
#[doc(alias = "__KER_CHANNEL_CREATE")]
pub const CHANNEL_CREATE: u32 = 35;

/// `__KER_CHANNEL_DESTROY`: `ChannelDestroy(chid)`. QNX 6.4, 7.0, 7.1, 8.0.
#[doc(alias = "__KER_CHANNEL_DESTROY")]
pub const CHANNEL_DESTROY: u32 = 36;

/// `__KER_CONNECT_ATTACH`: `ConnectAttach(nd, pid, chid, index, flags)`. QNX 6.4, 7.0, 7.1, 8.0.
#[doc(alias = "__KER_CONNECT_ATTACH")]
pub const CONNECT_ATTACH: u32 = 39;

/// `__KER_CONNECT_DETACH`: `ConnectDetach(coid)`. QNX 6.4, 7.0, 7.1, 8.0.
#[doc(alias = "__KER_CONNECT_DETACH")]
pub const CONNECT_DETACH: u32 = 40;

/// `__KER_CONNECT_SERVER_INFO`: `ConnectServerInfo(pid, coid, info)`. QNX 6.4, 7.0, 7.1, 8.0.
#[doc(alias = "__KER_CONNECT_SERVER_INFO")]
pub const CONNECT_SERVER_INFO: u32 = 41;

/// `__KER_CONNECT_CLIENT_INFO`: `ConnectClientInfo(scoid, info, ngroups)`. QNX 6.4, 7.0, 7.1, 8.0. Not
/// called by this crate; listed so the table matches the reference.
#[doc(alias = "__KER_CONNECT_CLIENT_INFO")]
pub const CONNECT_CLIENT_INFO: u32 = 42;

/// `__KER_CONNECT_FLAGS`: `ConnectFlags(pid, coid, mask, bits)`. QNX 6.4, 7.0, 7.1, 8.0.
#[doc(alias = "__KER_CONNECT_FLAGS")]
pub const CONNECT_FLAGS: u32 = 43;

/// `__KER_CONNECT_DUPFD`: `ConnectDupFd(op, dstpid, handle, srvpid, info)`. QNX 8.0 only; the slot was
/// `__KER_CONNECT_SPARE1` in 6.4, 7.0 and 7.1, so it is never trapped there.
#[doc(alias = "__KER_CONNECT_DUPFD")]
pub const CONNECT_DUPFD: u32 = 44;

/// `__KER_TIMER_TIMEOUT`: `TimerTimeout(id, flags, notify, ntime, otime)`. CONFIRMED 75 in 6.4 (OQ enum),
/// 7.0 (H70 enum; L70X `TimerTimeout_r` at 0x4d280 and L70A at 0x4d2a0 load 75) and 8.0 (H80 `#define`);
/// 7.1 INFERRED the same (`qnx-abi.md` §9.6).
#[doc(alias = "__KER_TIMER_TIMEOUT")]
pub const TIMER_TIMEOUT: u32 = 75;

/// `_NTO_TIMEOUT_SEND` (`1 << STATE_SEND`, 4): a `TimerTimeout` flag bounding the SEND-blocked state.
/// CONFIRMED 7.0 and 8.0 (H70/H80 `neutrino.h`, `states.h`); on 6.4 shown on the guest (with
/// [`NTO_TIMEOUT_REPLY`] it bounds the `hostile_silent` and `hostile_holds` sends).
#[doc(alias = "_NTO_TIMEOUT_SEND")]
pub const NTO_TIMEOUT_SEND: u32 = 1 << 4;
/// `_NTO_TIMEOUT_REPLY` (`1 << STATE_REPLY`, 6): bounds the REPLY-blocked state. As
/// [`NTO_TIMEOUT_SEND`].
#[doc(alias = "_NTO_TIMEOUT_REPLY")]
pub const NTO_TIMEOUT_REPLY: u32 = 1 << 6;
/// `CLOCK_MONOTONIC`: the clock of the bounded redeem's relative timeout (not moved by setting the
/// time). CONFIRMED 2 in 6.4 (OQ `time.h`, accepted by `ker_timer_timeout`) and 7.0 (H70 `time.h`).
pub const CLOCK_MONOTONIC: i32 = 2;

/// `_NTO_DUPFD_REGISTER`: `ConnectDupFd` operation, register a handle for a peer. QNX 8.0, CONFIRMED value.
#[doc(alias = "_NTO_DUPFD_REGISTER")]
pub const NTO_DUPFD_REGISTER: i32 = 1;
/// `_NTO_DUPFD_REGISTER_DISC`: the same, discarding the oldest registration when full. QNX 8.0, CONFIRMED
/// value.
#[doc(alias = "_NTO_DUPFD_REGISTER_DISC")]
pub const NTO_DUPFD_REGISTER_DISC: i32 = 2;
/// `_NTO_DUPFD_UNREGISTER`. QNX 8.0, CONFIRMED value.
#[doc(alias = "_NTO_DUPFD_UNREGISTER")]
pub const NTO_DUPFD_UNREGISTER: i32 = 3;
/// `_NTO_DUPFD_LOOKUP`. QNX 8.0, CONFIRMED value.
#[doc(alias = "_NTO_DUPFD_LOOKUP")]
pub const NTO_DUPFD_LOOKUP: i32 = 4;
/// `_NTO_DUPFD_VERIFY`. QNX 8.0, CONFIRMED value.
#[doc(alias = "_NTO_DUPFD_VERIFY")]
pub const NTO_DUPFD_VERIFY: i32 = 5;

/*
 * Counts kernel calls for the benchmark (bench.c): the link (../build-c.sh) renames every reference our
 * objects and the C interface's archive make to a kernel-call function with --wrap=NAME, so a call
 * lands here, is counted, and goes on to the real function (__real_NAME).
 *
 * Two sets: the guest C library's functions (what the article's C and the library's libc-calls build
 * call; each makes one kernel trap), and the library's own trap stubs (its raw build: one out-of-line
 * function per kernel call, each one `int $0x28`). getpid() is not here: on this guest it reads the
 * thread's TLS block and makes no kernel call.
 */
#include <stdint.h>

/* Kernel calls made since the benchmark last reset it. */
unsigned long fdpass_kernel_calls;

#define WRAP_C(ret, name, params, args)                                                            \
    extern ret __real_##name params;                                                               \
    ret __wrap_##name params;                                                                      \
    ret __wrap_##name params {                                                                     \
        fdpass_kernel_calls++;                                                                     \
        return __real_##name args;                                                                 \
    }

struct fdp_msg_info;
WRAP_C(int, ConnectServerInfo, (int pid, int coid, struct fdp_msg_info *info), (pid, coid, info))
WRAP_C(int, ConnectAttach, (uint32_t nd, int pid, int chid, unsigned index, int flags),
       (nd, pid, chid, index, flags))
WRAP_C(int, ConnectDetach, (int coid), (coid))
WRAP_C(int, ConnectFlags, (int pid, int coid, unsigned mask, unsigned bits), (pid, coid, mask, bits))
WRAP_C(long, MsgSendnc, (int coid, const void *s, long sn, void *r, long rn), (coid, s, sn, r, rn))
WRAP_C(long, MsgSend, (int coid, const void *s, long sn, void *r, long rn), (coid, s, sn, r, rn))
WRAP_C(int, ChannelCreate, (unsigned flags), (flags))
WRAP_C(int, ChannelDestroy, (int chid), (chid))

/* The raw build's stubs (c-raw only: the libc-calls build has none): 32-bit stack arguments, the result or
 * -errno. Their symbols carry the crate's major and minor version (src/sys/nto/arch/stubs.rs,
 * stub_symbol!): a new version fails this link loudly (undefined __real_...) until the names follow. */
#ifdef HIL_RAW
typedef uintptr_t w;
WRAP_C(long, __qnx_fdpass_v0_1_ker_msg_send, (w a, w b, w c, w d, w e), (a, b, c, d, e))
WRAP_C(long, __qnx_fdpass_v0_1_ker_msg_sendnc, (w a, w b, w c, w d, w e), (a, b, c, d, e))
WRAP_C(long, __qnx_fdpass_v0_1_ker_channel_create, (w a), (a))
WRAP_C(long, __qnx_fdpass_v0_1_ker_channel_destroy, (w a), (a))
WRAP_C(long, __qnx_fdpass_v0_1_ker_connect_attach, (w a, w b, w c, w d, w e), (a, b, c, d, e))
WRAP_C(long, __qnx_fdpass_v0_1_ker_connect_detach, (w a), (a))
WRAP_C(long, __qnx_fdpass_v0_1_ker_connect_server_info, (w a, w b, w c), (a, b, c))
WRAP_C(long, __qnx_fdpass_v0_1_ker_connect_flags, (w a, w b, w c, w d), (a, b, c, d))
WRAP_C(long, __qnx_fdpass_v0_1_ker_timer_timeout, (w a, w b, w c, w d, w e), (a, b, c, d, e))
#endif

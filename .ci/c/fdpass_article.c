/*
 * Code-size yardstick for .ci/codesize.sh: a descriptor pass in plain C the way the article does it on
 * QNX 7.x, written for this project (no QNX header is included or copied; the few layouts needed are
 * declared below from the crate's own wire definitions).
 *
 *   send_fd:    ConnectServerInfo on the descriptor, then fill an _IO_DUP message (the ticket) with the
 *               server's nd/pid/chid/scoid, our coid, and our pid in tid.
 *   receive_fd: ConnectAttach to the server's channel, put the sender's pid (from tid) in the message's
 *               pid and clear tid, MsgSendnc it, ConnectDetach on failure. (Until it ran on the 6.4
 *               guest this file sent the ticket unchanged, which no server accepts: the code size
 *               figures before that change are of a pass that could not work.)
 *
 * The kernel calls are external (the QNX C library provides them); nothing is printed. Compiled with
 * gcc -Os -c for .ci/codesize.sh (only the size of .text matters there), and with
 * hil-tests/qnx6-x86/c/bench.c, which gives it a caller on the Neutrino 6.4 x86 guest: the article's
 * pass between two processes, timed beside the C interface's.
 */
/* No headers: the cross compiler may come without a C library's (gcc's own type macros instead). */
typedef __UINT16_TYPE__ uint16_t;
typedef __INT16_TYPE__ int16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __INT32_TYPE__ int32_t;

/* struct _msg_info (QNX 7.x, 64-bit process): the fields used here come first. */
struct fdp_msg_info {
    uint32_t nd, srcnd;
    int32_t pid, tid, chid, scoid, coid;
    int32_t msglen, srcmsglen, dstmsglen;
    int16_t priority, flags;
    uint32_t reserved;
};

/* io_dup_t (QNX 7.x): type, combine_len, a 32-bit message info, reserved, key. */
struct fdp_info32 {
    uint32_t nd, srcnd;
    int32_t pid, tid, chid, scoid, coid;
    int32_t msglen, srcmsglen, dstmsglen;
    int16_t priority, flags;
    uint32_t reserved;
};
struct fdp_io_dup {
    uint16_t type, combine_len;
    struct fdp_info32 info;
    uint32_t reserved, key;
};

#define FDP_IO_DUP 0x115
#define FDP_COF_CLOEXEC 0x0001

extern int ConnectServerInfo(int pid, int coid, struct fdp_msg_info *info);
extern int ConnectAttach(uint32_t nd, int pid, int chid, unsigned index, int flags);
extern int ConnectDetach(int coid);
extern long MsgSendnc(int coid, const void *smsg, long sbytes, void *rmsg, long rbytes);
extern int getpid(void);

int send_fd(int fd, struct fdp_io_dup *msg)
{
    struct fdp_msg_info info;

    if (ConnectServerInfo(0, fd, &info) != fd)
        return -1;
    __builtin_memset(msg, 0, sizeof *msg);
    msg->type = FDP_IO_DUP;
    msg->combine_len = sizeof *msg;
    msg->info.nd = info.nd;
    msg->info.pid = info.pid;
    msg->info.chid = info.chid;
    msg->info.scoid = info.scoid;
    msg->info.coid = fd;
    msg->info.tid = getpid();
    return 0;
}

int receive_fd(const struct fdp_io_dup *ticket)
{
    struct fdp_io_dup msg = *ticket;
    int coid = ConnectAttach(msg.info.nd, msg.info.pid, msg.info.chid, 0, FDP_COF_CLOEXEC);

    if (coid == -1)
        return -1;
    /* The server dups the open of the process the message names: the sender, whose pid rode in tid. */
    msg.info.pid = msg.info.tid;
    msg.info.tid = 0;
    if (MsgSendnc(coid, &msg, sizeof msg, 0, 0) == -1) {
        ConnectDetach(coid);
        return -1;
    }
    return coid;
}

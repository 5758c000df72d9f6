/*
 * The C interface end to end, in two processes: a child opens a file, moves its offset and sends
 * tickets for it through a pipe; the parent redeems them and checks what each descriptor reads and
 * where its offset is. (The child is the sender so the parent, its ancestor, may take its descriptors
 * under the host's ptrace rules; on QNX the server decides.)
 *
 * One source for two systems (platform.h): built with the host's gcc and run by .ci/test.d/capi.sh
 * against libqnx_fdpass_capi.a; and built for the Neutrino 6.4 x86 guest by
 * hil-tests/qnx6-x86/build-c.sh, where the guest's harness (hil-tests/qnx6-x86/c/hil.c) calls
 * capi_test_main() as its scenario `capi`. Exit status (return value) 0 only if every check held; the
 * last line says how many ran.
 */
#define _POSIX_C_SOURCE 200809L

#include "platform.h"
#include "qnx_fdpass.h"

#ifdef QNX_FDPASS_NTO64
#define TEST_MAIN capi_test_main
int capi_test_main(void);
#else
#define TEST_MAIN main
#endif

static int checks, failures;

/* The bound for the bounded receives (1 s): the servers here answer at once, so it never runs out. */
#define BOUND_NS 1000000000u

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            say(2, "FAIL %s:%d: %s", __FILE__, __LINE__, #cond);                                   \
            say(2, __VA_ARGS__);                                                                   \
        }                                                                                          \
    } while (0)

/* The first bytes of the file passed, read from it before the test (what each descriptor must read). */
static char content[20];

/* One message on the pipe: a 4-byte length, then that many bytes. */
static int put(int fd, const void *data, uint32_t len) {
    if (write(fd, &len, sizeof len) != (ssize_t)sizeof len) return -1;
    return write(fd, data, len) == (ssize_t)len ? 0 : -1;
}

static int get(int fd, void *buf, uint32_t cap, uint32_t *len) {
    if (read(fd, len, sizeof *len) != (ssize_t)sizeof *len || *len > cap) return -1;
    return read(fd, buf, *len) == (ssize_t)*len ? 0 : -1;
}

/* The sender. Exit status: 0, or which step failed. */
static int sender(const char *path, int out, int ack) {
    unsigned char ticket[QNX_FDPASS_TICKET_MAX], packet[QNX_FDPASS_BATCH_PACKET_MAX], small[8];
    size_t len;
    int fds[3], closed, e;
    char c;

    int fd = open(path, O_RDONLY);
    if (fd < 0 || lseek(fd, 4, SEEK_SET) != 4) return 10;

    /* A buffer too small: EMSGSIZE, and the size it needs. */
    len = sizeof small;
    if (qnx_fdpass_send_fd(fd, QNX_FDPASS_ANY, small, &len) != EMSGSIZE) return 11;
    if (len != qnx_fdpass_dup_ticket_size()) return 12;

    /* A ticket that is not sent is withdrawn (on QNX 8.0 that frees its dupfd registration). */
    len = sizeof ticket;
    if (qnx_fdpass_send_fd(fd, QNX_FDPASS_ANY, ticket, &len) != 0) return 23;
    if (qnx_fdpass_withdraw(ticket, len) != 0) return 24;
    if (qnx_fdpass_withdraw(ticket, len - 1) != EINVAL) return 25;

    /* 1: a dup ticket (shares the offset, now 4). */
    len = sizeof ticket;
    if ((e = qnx_fdpass_send_fd(fd, QNX_FDPASS_ANY, ticket, &len)) != 0) return 13;
    if (put(out, ticket, (uint32_t)len)) return 14;

    /* 1b: another dup, for the bounded receive (shares the offset too). */
    len = sizeof ticket;
    if (qnx_fdpass_send_fd(fd, QNX_FDPASS_ANY, ticket, &len) != 0) return 26;
    if (put(out, ticket, (uint32_t)len)) return 27;

    /* 2: an openfd ticket, read-only (its own offset, from 0). */
    len = sizeof ticket;
    if (qnx_fdpass_send_openfd(fd, QNX_FDPASS_READ, QNX_FDPASS_ANY, ticket, &len) != 0) return 15;
    if (put(out, ticket, (uint32_t)len)) return 16;

    /* 3: a batch of three dups. */
    fds[0] = fds[1] = fds[2] = fd;
    len = sizeof packet;
    if (qnx_fdpass_send_fds(fds, 3, QNX_FDPASS_ANY, packet, &len) != 0) return 17;
    if (put(out, packet, (uint32_t)len)) return 18;

    /* 3b: a batch of two dups, for the bounded batch receive. */
    len = sizeof packet;
    if (qnx_fdpass_send_fds(fds, 2, QNX_FDPASS_ANY, packet, &len) != 0) return 28;
    if (put(out, packet, (uint32_t)len)) return 29;

    /* 4: a ticket for a descriptor closed before it is redeemed. */
    closed = dup(fd);
    len = sizeof ticket;
    if (closed < 0 || qnx_fdpass_send_fd(closed, QNX_FDPASS_ANY, ticket, &len) != 0) return 19;
    close(closed);
    if (put(out, ticket, (uint32_t)len)) return 20;

    /* Wait until the receiver is done: our descriptor must stay open until then. */
    if (read(ack, &c, 1) != 1) return 21;
    /* The receiver read 4 bytes through each dup (1, 1b): our shared offset moved with them. */
    if (lseek(fd, 0, SEEK_CUR) != 12) return 22;
    close(fd);
    return 0;
}

static void expect_read(int fd, const char *want, size_t n, const char *what) {
    char got[32] = {0};
    ssize_t r = read(fd, got, n);
    CHECK(r == (ssize_t)n && memcmp(got, want, n) == 0, "%s: read %ld bytes \"%.*s\", want \"%.*s\"", what,
          (long)r, (int)(r > 0 ? r : 0), got, (int)n, want);
}

static void receiver(int in) {
    unsigned char buf[QNX_FDPASS_BATCH_PACKET_MAX];
    uint32_t len;
    int fd = -1, fds[QNX_FDPASS_BATCH_MAX], e;
    size_t n, failed, i;

    /* 1: dup: the sender's offset (4), and reading moves it for both. */
    CHECK(get(in, buf, sizeof buf, &len) == 0, "no dup ticket");
    e = qnx_fdpass_receive_fd(buf, len, &fd);
    CHECK(e == 0 && fd >= 0, "receive dup: %s", strerror(e));
    if (e == 0) {
        CHECK(lseek(fd, 0, SEEK_CUR) == 4, "dup offset %ld, want 4", (long)lseek(fd, 0, SEEK_CUR));
        expect_read(fd, content + 4, 4, "dup");
        CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "dup not close-on-exec");
        close(fd);
    }

    /* 1b: the bounded receive of a dup: the offset 1 left (8), moved for all again. */
    CHECK(get(in, buf, sizeof buf, &len) == 0, "no second dup ticket");
    fd = -1;
    e = qnx_fdpass_receive_fd_timeout(buf, len, BOUND_NS, &fd);
    CHECK(e == 0 && fd >= 0, "bounded receive dup: %s", strerror(e));
    if (e == 0) {
        CHECK(lseek(fd, 0, SEEK_CUR) == 8, "bounded dup offset %ld, want 8", (long)lseek(fd, 0, SEEK_CUR));
        expect_read(fd, content + 8, 4, "bounded dup");
        CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "bounded dup not close-on-exec");
        close(fd);
    }
    /* The same ticket cut short: EINVAL, fd untouched. */
    fd = -1;
    e = qnx_fdpass_receive_fd_timeout(buf, len - 1, BOUND_NS, &fd);
    CHECK(e == EINVAL && fd == -1, "bounded cut ticket: %s, fd %d", strerror(e), fd);

    /* 2: openfd: own offset from 0, read-only. */
    CHECK(get(in, buf, sizeof buf, &len) == 0, "no openfd ticket");
    e = qnx_fdpass_receive_fd(buf, len, &fd);
    CHECK(e == 0, "receive openfd: %s", strerror(e));
    if (e == 0) {
        CHECK(lseek(fd, 0, SEEK_CUR) == 0, "openfd offset %ld, want 0", (long)lseek(fd, 0, SEEK_CUR));
        expect_read(fd, content, 4, "openfd");
        CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "openfd not read-only");
        close(fd);
    }

    /* 3: batch: too small a capacity first (nothing redeemed), then all three. */
    CHECK(get(in, buf, sizeof buf, &len) == 0, "no batch packet");
    n = 2;
    e = qnx_fdpass_receive_fds(buf, len, fds, &n, &failed);
    CHECK(e == EMSGSIZE && n == 3, "batch into 2: %s, n %lu", strerror(e), (unsigned long)n);
    n = QNX_FDPASS_BATCH_MAX;
    e = qnx_fdpass_receive_fds(buf, len, fds, &n, &failed);
    CHECK(e == 0 && n == 3, "batch: %s, n %lu", strerror(e), (unsigned long)n);
    for (i = 0; e == 0 && i < n; i++) {
        CHECK(fds[i] >= 0 && (i == 0 || fds[i] != fds[i - 1]), "batch fd %lu: %d", (unsigned long)i, fds[i]);
        close(fds[i]);
    }
    /* A packet cut short fails, naming a ticket, and leaves nothing open. */
    n = QNX_FDPASS_BATCH_MAX;
    failed = 99;
    e = qnx_fdpass_receive_fds(buf, len - 1, fds, &n, &failed);
    CHECK(e == EINVAL && n == 0 && failed <= 2, "cut batch: %s, n %lu, failed %lu", strerror(e),
          (unsigned long)n, (unsigned long)failed);

    /* 3b: the bounded batch receive: both, then a cut packet fails as above. */
    CHECK(get(in, buf, sizeof buf, &len) == 0, "no second batch packet");
    n = QNX_FDPASS_BATCH_MAX;
    e = qnx_fdpass_receive_fds_timeout(buf, len, BOUND_NS, fds, &n, &failed);
    CHECK(e == 0 && n == 2, "bounded batch: %s, n %lu", strerror(e), (unsigned long)n);
    for (i = 0; e == 0 && i < n; i++) {
        CHECK(fds[i] >= 0, "bounded batch fd %lu: %d", (unsigned long)i, fds[i]);
        close(fds[i]);
    }
    n = QNX_FDPASS_BATCH_MAX;
    failed = 99;
    e = qnx_fdpass_receive_fds_timeout(buf, len - 1, BOUND_NS, fds, &n, &failed);
    CHECK(e == EINVAL && n == 0 && failed <= 1, "bounded cut batch: %s, n %lu, failed %lu", strerror(e),
          (unsigned long)n, (unsigned long)failed);

    /* 4: the sender closed that descriptor: EBADF. */
    CHECK(get(in, buf, sizeof buf, &len) == 0, "no closed-fd ticket");
    fd = -1;
    e = qnx_fdpass_receive_fd(buf, len, &fd);
    CHECK(e == EBADF && fd == -1, "closed descriptor: %s, fd %d", strerror(e), fd);

    /* Not a ticket: EINVAL, as the article's receive_fd. */
    e = qnx_fdpass_receive_fd("abc", 3, &fd);
    CHECK(e == EINVAL, "garbage: %s", strerror(e));
    e = qnx_fdpass_receive_fd_timeout("abc", 3, BOUND_NS, &fd);
    CHECK(e == EINVAL, "bounded garbage: %s", strerror(e));
}

#ifdef QNX_FDPASS_NTO64
/* The file passed, named by the guest's harness (hil.c: its own program file on the CD): the guest's
 * disk is full, and its /dev/shmem objects refuse _IO_OPENFD. */
const char *capi_test_file;
#endif

int TEST_MAIN(void) {
#ifdef QNX_FDPASS_NTO64
    const char *path = capi_test_file ? capi_test_file : "";
#else
    static const char CONTENT[] = "0123456789abcdefghij";
    char path[] = FDPASS_TMP "qnx-fdpass-capi-XXXXXX";
    int tmp = mkstemp(path);
    if (tmp < 0 || write(tmp, CONTENT, sizeof CONTENT - 1) != (ssize_t)(sizeof CONTENT - 1)) {
        say(2, "temp file: %s", strerror(errno));
        return 2;
    }
    close(tmp);
#endif
    int file = open(path, O_RDONLY), data[2], ack[2], status = 0;
    int32_t pid;
    pid_t child;

    if (file < 0 || read(file, content, sizeof content) != (ssize_t)sizeof content) {
        say(2, "the file to pass, \"%s\": %s", path, strerror(errno));
        return 2;
    }
    close(file);
    if (pipe(data) || pipe(ack)) {
        say(2, "pipe: %s", strerror(errno));
        return 2;
    }
    pid = qnx_fdpass_getpid();
    CHECK(pid == (int32_t)getpid(), "getpid: %d vs %d", (int)pid, (int)getpid());

    child = fork();
    if (child < 0) {
        say(2, "fork: %s", strerror(errno));
        return 2;
    }
    if (child == 0) {
        close(data[0]);
        close(ack[1]);
        _exit(sender(path, data[1], ack[0]));
    }
    close(data[1]);
    close(ack[0]);
    receiver(data[0]);
    if (write(ack[1], "k", 1) != 1) say(2, "ack: %s", strerror(errno));
    close(ack[1]);
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sender exited with status %d (step)",
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
#ifndef QNX_FDPASS_NTO64
    unlink(path);
#endif

    say(1, "capi test: %d checks, %d failed", checks, failures);
    return failures ? 1 : 0;
}

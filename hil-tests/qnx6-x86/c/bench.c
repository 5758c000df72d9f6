/*
 * Scenario `bench_article`: the article's descriptor pass in plain C (.ci/c/fdpass_article.c, its
 * send_fd and receive_fd) against the C interface's (qnx_fdpass_send_fd, qnx_fdpass_receive_fd), in one
 * process pair on the Neutrino 6.4 guest: a forked child holds a file open and issues; the parent
 * redeems the child's tickets. In c-raw the interface makes its own kernel traps, in c-libc it routes
 * them through the guest's C library; the article's C always calls the C library.
 *
 * Time: CPU cycles (rdtsc) per pass = issue (in the child) + redeem + close (in the parent), in blocks
 * of BLOCK passes, the two methods interleaved and alternating which goes first. Block b of a method
 * costs its issue block b plus its redeem block b; the ratio (interface / article) is taken per block
 * and the median of the BLOCKS ratios is the figure (the emulator's host is shared: a whole-run sum is
 * swayed by whatever else ran, a per-block ratio compares neighbours). The fastest block and the whole
 * run are printed too. Nothing about time is asserted: figures and ratios go to the console.
 *
 * Kernel calls per issue and per redeem (close not included): counted by count.c's wrappers around
 * every kernel-call function the program and the interface reach. These are the answer, compared by
 * the runner between c-raw and c-libc. The verdict fails if a pass fails, a redeemed descriptor is not
 * usable, or nothing was counted (a counter that counts nothing would prove nothing).
 */
#include "platform.h"
#include "qnx_fdpass.h"

#include "hil.h"

/* The article's pass (.ci/c/fdpass_article.c): its message is an io_dup_t, 60 bytes on 32-bit. */
struct fdp_io_dup;
extern int send_fd(int fd, struct fdp_io_dup *msg);
extern int receive_fd(const struct fdp_io_dup *msg);
#define ARTICLE_MSG 60

extern unsigned long fdpass_kernel_calls; /* count.c */

#define BLOCK 200
#define BLOCKS 20
enum { ARTICLE, CRATE, METHODS };
static const char *const NAME[METHODS] = {"article C", "C interface"};

struct figures {
    double sum[METHODS], min[METHODS]; /* cycles over all blocks, fastest block */
    double block[METHODS][BLOCKS];     /* cycles of each block */
    unsigned long calls[METHODS];      /* kernel calls of one issue, or of one redeem */
    int failed;                        /* passes that failed */
};

static uint64_t cycles(void) { return __builtin_ia32_rdtsc(); }

static int read_full(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* One issue by method m into buf (ARTICLE_MSG bytes or more). 0 or -1. */
static int issue(int m, int fd, unsigned char *buf) {
    size_t len = QNX_FDPASS_TICKET_MAX;
    if (m == ARTICLE) return send_fd(fd, (struct fdp_io_dup *)buf) == 0 ? 0 : -1;
    return qnx_fdpass_send_fd(fd, QNX_FDPASS_ANY, buf, &len) == 0 && len == ARTICLE_MSG ? 0 : -1;
}

/* One redeem by method m: the new descriptor or -1. */
static int redeem(int m, const unsigned char *buf) {
    int fd = -1;
    if (m == ARTICLE) return receive_fd((const struct fdp_io_dup *)buf);
    return qnx_fdpass_receive_fd(buf, ARTICLE_MSG, &fd) == 0 ? fd : -1;
}

static void start(struct figures *f) {
    int m;
    for (m = 0; m < METHODS; m++) {
        f->sum[m] = 0;
        f->min[m] = 1e300;
    }
    f->failed = 0;
}

static void add(struct figures *f, int m, int b, uint64_t t) {
    f->block[m][b] = (double)t;
    f->sum[m] += (double)t;
    if ((double)t < f->min[m]) f->min[m] = (double)t;
}

/* The child: issues (timed and counted), hands one ticket of each method and its figures to the parent,
 * keeps the file open until the parent says it is done. Exit status 0, or the step that failed. */
static int issuer(int out, int ack) {
    unsigned char buf[METHODS][QNX_FDPASS_TICKET_MAX];
    struct figures f;
    int fd = open("/fs/cd0/nonce", O_RDONLY), b, i, k, m;
    char c;
    if (fd < 0) return 10;
    start(&f);
    for (m = 0; m < METHODS; m++) {
        fdpass_kernel_calls = 0;
        if (issue(m, fd, buf[m])) return 11;
        f.calls[m] = fdpass_kernel_calls;
    }
    for (b = 0; b < BLOCKS; b++) {
        for (k = 0; k < METHODS; k++) {
            uint64_t t0, t1;
            m = (b + k) % METHODS;
            t0 = cycles();
            for (i = 0; i < BLOCK; i++) f.failed += issue(m, fd, buf[m]) != 0;
            t1 = cycles();
            add(&f, m, b, t1 - t0);
        }
    }
    if (write(out, buf, sizeof buf) != (ssize_t)sizeof buf) return 12;
    if (write(out, &f, sizeof f) != (ssize_t)sizeof f) return 13;
    if (read(ack, &c, 1) != 1) return 14;
    close(fd);
    return 0;
}

/* The median of n values (sorted in place). */
static double median(double *v, int n) {
    int i, j;
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int bench_article(struct answer *a) {
    unsigned char buf[METHODS][QNX_FDPASS_TICKET_MAX];
    struct figures is, re;
    int data[2], ack[2], status = -1, b, i, k, m, fd, bad = 0;
    double n = (double)BLOCK * BLOCKS, pass[METHODS], best[METHODS], mid[METHODS];
    double ratio[BLOCKS], per[METHODS][BLOCKS], r_median, r_issue[BLOCKS], r_redeem[BLOCKS];
    pid_t child;

    if (qnx_fdpass_dup_ticket_size() != ARTICLE_MSG) {
        answer(a, "the interface's dup ticket is %lu bytes, the article's message %d",
               (unsigned long)qnx_fdpass_dup_ticket_size(), ARTICLE_MSG);
        return FAIL;
    }
    if (pipe(data) || pipe(ack)) {
        answer(a, "pipe: %s", strerror(errno));
        return FAIL;
    }
    child = fork();
    if (child < 0) {
        answer(a, "fork: %s", strerror(errno));
        return FAIL;
    }
    if (child == 0) {
        close(data[0]);
        close(ack[1]);
        _exit(issuer(data[1], ack[0]));
    }
    close(data[1]);
    close(ack[0]);
    start(&re);
    if (read_full(data[0], buf, sizeof buf) || read_full(data[0], &is, sizeof is)) {
        answer(a, "the issuing child sent no tickets");
        bad = 1;
    }
    for (m = 0; !bad && m < METHODS; m++) {
        /* One counted redeem; the descriptor must be one this process can use. */
        fdpass_kernel_calls = 0;
        fd = redeem(m, buf[m]);
        re.calls[m] = fdpass_kernel_calls;
        if (fd < 0 || fcntl(fd, F_GETFD) < 0 || lseek(fd, 0, SEEK_CUR) < 0 || close(fd) != 0) {
            answer(a, "%s: the redeemed descriptor %d is not usable", NAME[m], fd);
            bad = 1;
        }
    }
    for (b = 0; !bad && b < BLOCKS; b++) {
        for (k = 0; k < METHODS; k++) {
            uint64_t t0, t1;
            m = (b + k) % METHODS;
            t0 = cycles();
            for (i = 0; i < BLOCK; i++) {
                fd = redeem(m, buf[m]);
                re.failed += fd < 0 || close(fd) != 0;
            }
            t1 = cycles();
            add(&re, m, b, t1 - t0);
        }
    }
    if (write(ack[1], "k", 1) != 1) bad = 1;
    close(ack[1]);
    close(data[0]);
    waitpid(child, &status, 0);
    if (bad) return FAIL;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        answer(a, "the issuing child exited with status %d (its step)", status);
        return FAIL;
    }
    if (is.failed || re.failed) {
        answer(a, "%d issues and %d redeems failed", is.failed, re.failed);
        return FAIL;
    }
    for (m = 0; m < METHODS; m++) {
        if (is.calls[m] == 0 || re.calls[m] == 0) {
            answer(a, "%s: no kernel call counted (issue %lu, redeem %lu): the counting link is broken",
                   NAME[m], is.calls[m], re.calls[m]);
            return FAIL;
        }
        pass[m] = (is.sum[m] + re.sum[m]) / n;
        best[m] = (is.min[m] + re.min[m]) / BLOCK;
        for (b = 0; b < BLOCKS; b++) per[m][b] = (is.block[m][b] + re.block[m][b]) / BLOCK;
    }
    for (b = 0; b < BLOCKS; b++) {
        ratio[b] = per[CRATE][b] / per[ARTICLE][b];
        r_issue[b] = is.block[CRATE][b] / is.block[ARTICLE][b];
        r_redeem[b] = re.block[CRATE][b] / re.block[ARTICLE][b];
    }
    r_median = median(ratio, BLOCKS);
    for (m = 0; m < METHODS; m++) mid[m] = median(per[m], BLOCKS);
    say(1, "bench_article (%s): %d passes each in %d blocks, issue in one process, redeem + close in the "
           "other; cycles per pass",
        HIL_BACKEND, BLOCK * BLOCKS, BLOCKS);
    for (m = 0; m < METHODS; m++)
        say(1, "bench_article (%s): %-11s median block %8.0f, fastest %8.0f, whole run %8.0f (issue %.0f + "
               "redeem/close %.0f); kernel calls: issue %lu, redeem %lu",
            HIL_BACKEND, NAME[m], mid[m], best[m], pass[m], is.sum[m] / n, re.sum[m] / n, is.calls[m],
            re.calls[m]);
    say(1, "bench_article (%s): ratio interface/article per pass: median of %d block ratios %.3f (issue "
           "%.3f, redeem/close %.3f), fastest blocks %.3f, whole run %.3f; goal (median at or below 1, no "
           "more kernel calls): %s",
        HIL_BACKEND, BLOCKS, r_median, median(r_issue, BLOCKS), median(r_redeem, BLOCKS),
        best[CRATE] / best[ARTICLE], pass[CRATE] / pass[ARTICLE],
        r_median <= 1.0 && is.calls[CRATE] <= is.calls[ARTICLE] && re.calls[CRATE] <= re.calls[ARTICLE]
            ? "met"
            : "not met");
    answer(a, "kernel calls per issue/redeem: article %lu/%lu, interface %lu/%lu -- median ratio %.3f per pass",
           is.calls[ARTICLE], re.calls[ARTICLE], is.calls[CRATE], re.calls[CRATE], r_median);
    return PASS;
}

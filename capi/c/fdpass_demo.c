/*
 * The article's demo against qnx_fdpass.h: a sender opens a file, prints its first line and passes
 * the re-positioned descriptor over a POSIX message queue; a receiver redeems it and prints the next
 * line, which proves it shares the sender's open file and offset.
 *
 *   fdpass_demo -s [FILE]   the sender (default /etc/passwd), on the queue /fdpass
 *   fdpass_demo -r          the receiver
 *   fdpass_demo [FILE]      both: the sender as a child process, the receiver in this one
 *
 * The sender waits for the receiver's acknowledgement on a second queue before it closes its
 * descriptor, instead of sleeping for a while.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qnx_fdpass.h"

#define WAIT_SECONDS 10

static char queue[64] = "/fdpass", ack_queue[80] = "/fdpass-ack";

static mqd_t open_queue(const char *name) {
    struct mq_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.mq_maxmsg = 4;
    attr.mq_msgsize = QNX_FDPASS_TICKET_MAX;
    return mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
}

static struct timespec deadline(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += WAIT_SECONDS;
    return t;
}

/* Prints one line read a byte at a time, so the offset ends just past its newline. */
static void print_line(const char *who, const char *what, int fd) {
    char c;
    printf("%s: %s [", who, what);
    while (read(fd, &c, 1) == 1 && c != '\n') putchar(c);
    printf("]\n");
}

static int run_sender(const char *path) {
    unsigned char ticket[QNX_FDPASS_TICKET_MAX];
    size_t len = sizeof ticket;
    char done[QNX_FDPASS_TICKET_MAX];
    struct timespec until;
    int fd, e;
    mqd_t mq = open_queue(queue), ack = open_queue(ack_queue);

    if (mq == (mqd_t)-1 || ack == (mqd_t)-1) {
        perror("SFD: can't open/create the message queues");
        return 1;
    }
    if ((fd = open(path, O_RDONLY)) < 0) {
        perror("SFD: can't open the file to send");
        return 1;
    }
    print_line("SFD", "first line", fd);
    printf("SFD: client pid %d passes fd %d\n", (int)qnx_fdpass_getpid(), fd);
    if ((e = qnx_fdpass_send_fd(fd, QNX_FDPASS_ANY, ticket, &len)) != 0) {
        fprintf(stderr, "SFD: can't make a ticket: %s\n", strerror(e));
        return 1;
    }
    if (mq_send(mq, (const char *)ticket, len, 0) != 0) {
        perror("SFD: can't send the ticket");
        return 1;
    }
    until = deadline();
    if (mq_timedreceive(ack, done, sizeof done, NULL, &until) < 0) {
        perror("SFD: no receiver took the descriptor");
        return 1;
    }
    printf("SFD: cleaning up and exiting\n");
    close(fd);
    mq_close(mq);
    mq_close(ack);
    return 0;
}

static int run_receiver(void) {
    unsigned char ticket[QNX_FDPASS_TICKET_MAX];
    struct timespec until = deadline();
    ssize_t n;
    int fd = -1, e;
    mqd_t mq = open_queue(queue), ack = open_queue(ack_queue);

    if (mq == (mqd_t)-1 || ack == (mqd_t)-1) {
        perror("RFD: can't open/create the message queues");
        return 1;
    }
    if ((n = mq_timedreceive(mq, (char *)ticket, sizeof ticket, NULL, &until)) < 0) {
        perror("RFD: can't receive a ticket");
        return 1;
    }
    if ((e = qnx_fdpass_receive_fd(ticket, (size_t)n, &fd)) != 0) {
        fprintf(stderr, "RFD: can't create file descriptor: %s\n", strerror(e));
        return 1;
    }
    printf("RFD: new fd %d\n", fd);
    print_line("RFD", "next line", fd);
    if (mq_send(ack, "done", 4, 0) != 0) perror("RFD: can't acknowledge");
    printf("RFD: cleaning up and exiting\n");
    close(fd);
    mq_close(mq);
    mq_close(ack);
    return 0;
}

int main(int argc, char **argv) {
    const char *path = "/etc/passwd";
    pid_t child;
    int status = 0, r;

    if (argc >= 2 && strcmp(argv[1], "-s") == 0) return run_sender(argc >= 3 ? argv[2] : path);
    if (argc >= 2 && strcmp(argv[1], "-r") == 0) return run_receiver();
    if (argc >= 2 && argv[1][0] == '-') {
        fprintf(stderr, "usage: %s [-s [FILE] | -r | FILE]\n", argv[0]);
        return 2;
    }
    if (argc >= 2) path = argv[1];

    /* Both roles: queues of our own, so runs do not meet. */
    snprintf(queue, sizeof queue, "/fdpass-%ld", (long)getpid());
    snprintf(ack_queue, sizeof ack_queue, "%s-ack", queue);
    fflush(stdout);
    if ((child = fork()) < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        r = run_sender(path);
        fflush(stdout);
        _exit(r);
    }
    r = run_receiver();
    waitpid(child, &status, 0);
    mq_unlink(queue);
    mq_unlink(ack_queue);
    if (r != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "fdpass_demo: the descriptor did not pass\n");
        return 1;
    }
    printf("fdpass_demo: sender %ld and receiver %ld passed the descriptor\n", (long)child,
           (long)getpid());
    return 0;
}

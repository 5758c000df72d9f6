/*
 * What the C programs of capi/c/ use from the system, for the two places they run:
 *
 * - a host with its own C library (Linux: .ci/test.d/capi.sh): the system's headers;
 * - the QNX Neutrino 6.4 x86 guest of `cargo hil` (QNX_FDPASS_NTO64 defined, by
 *   hil-tests/qnx6-x86/build-c.sh): compiled by the host's gcc with -m32 -ffreestanding and no C
 *   library headers at all, so the few declarations and numbers needed are written here, from the
 *   guest library's export list and the numbers the crate and the 6.4 payload already use (32-bit x86:
 *   int, long, off_t, pid_t and pointers are 32 bits). Only gcc's own freestanding headers
 *   (stddef.h, stdint.h, stdarg.h) are included.
 *
 * Output goes through say() (one vsnprintf and one write() per line), not stdio, so neither platform
 * needs FILE objects.
 */
#ifndef QNX_FDPASS_PLATFORM_H
#define QNX_FDPASS_PLATFORM_H

#ifndef QNX_FDPASS_NTO64

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where the C test makes its temporary file. */
#define FDPASS_TMP "/tmp/"

#else /* the Neutrino 6.4 x86 guest */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef int ssize_t;
typedef int pid_t;
typedef long off_t;

/* <fcntl.h>, <unistd.h>, <sys/wait.h> numbers on Neutrino. */
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_ACCMODE 3
#define F_GETFD 1
#define F_GETFL 3
#define FD_CLOEXEC 1
#define SEEK_SET 0
#define SEEK_CUR 1
#define WNOHANG 0x40
#define SIGKILL 9
#define WIFEXITED(s) (((s) & 0xff) == 0)
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)

/* <errno.h> numbers on Neutrino (EMSGSIZE is 240 there, not Linux's 90). */
#define EBADF 9
#define EINVAL 22
#define EMSGSIZE 240

extern int *__get_errno_ptr(void);
#define errno (*__get_errno_ptr())

extern int open(const char *path, int oflag, ...);
extern ssize_t read(int fd, void *buf, size_t n);
extern ssize_t write(int fd, const void *buf, size_t n);
extern off_t lseek(int fd, off_t off, int whence);
extern int close(int fd);
extern int dup(int fd);
extern int dup2(int fd, int to);
extern int fcntl(int fd, int cmd, ...);
extern int pipe(int fds[2]);
extern pid_t fork(void);
extern pid_t waitpid(pid_t pid, int *status, int options);
extern int kill(pid_t pid, int sig);
extern pid_t getpid(void);
extern int mkstemp(char *path);
extern int unlink(const char *path);
extern unsigned sleep(unsigned seconds);
extern int usleep(unsigned usec);
extern void _exit(int status) __attribute__((noreturn));
extern char *strerror(int e);
extern int memcmp(const void *a, const void *b, size_t n);
extern size_t strlen(const char *s);
extern int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

/* The guest's root is its writable QNX4 disk (a snapshot: nothing stays after the run). */
#define FDPASS_TMP "/"

#endif

/* One line (a newline is added) to descriptor `fd`, formatted as printf does; at most 1 KiB. */
static inline void say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void say(int fd, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (write(fd, line, (size_t)n) < 0) return;
}

#endif /* QNX_FDPASS_PLATFORM_H */

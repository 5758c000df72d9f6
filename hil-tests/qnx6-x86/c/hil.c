/*
 * The harness of the C programs on the Neutrino 6.4 x86 guest (c-raw and c-libc, built by
 * ../build-c.sh): the same contract with the runner as the Rust payload (hil-tests/README.md). It reads
 * the run's nonce and its scenario names from the CD (/fs/cd0/nonce, /fs/cd0/scenarios-c), and reports
 * on /dev/ser1:
 *
 *   HIL-<nonce> READY c <raw|libc>
 *   HIL-<nonce> BEGIN <name>
 *   HIL-<nonce> RESULT <name> PASS|FAIL|SKIP <answer>
 *   HIL-<nonce> EXIT <name> <status>
 *   HIL-<nonce> DONE
 *
 * Each scenario runs in a forked child whose standard output and error are the serial port, with a
 * deadline (DEADLINE_S): a crash or a hang costs that scenario only. /fs/cd0/hang and /fs/cd0/break
 * (from `cargo hil --hang` / `--break`) make a named scenario block or fail on purpose.
 *
 * There is no C runtime start-up object here: _start below does what the Rust payload's src/rt.rs does
 * (the initial stack to argc/argv/envp/auxv, _init_libc, main, exit).
 */
#include "platform.h"

#include "hil.h"

extern void _init_libc(int argc, char **argv, char **envp, unsigned *auxv, unsigned exit_func);
extern void exit(int status) __attribute__((noreturn));
extern int capi_test_main(void);          /* capi/c/test_pass.c */
extern const char *capi_test_file;       /* the file it passes */
int bench_article(struct answer *a); /* bench.c */

#define DEADLINE_S 45

static char nonce[65] = "local";
/* The serial port, and the console the program started on (kept apart: a scenario's child sends its
 * standard output and error to the serial port). */
static int serial = -1, screen = -1;

/* A marker line on the serial port (and the screen): "HIL-<nonce> " and the text. */
static void marker(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void marker(const char *fmt, ...) {
    char text[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (serial >= 0) say(serial, "HIL-%s %s", nonce, text);
    if (screen >= 0) say(screen, "HIL-%s %s", nonce, text);
}

void answer(struct answer *a, const char *fmt, ...) {
    va_list ap;
    char *p;
    va_start(ap, fmt);
    vsnprintf(a->text, sizeof a->text, fmt, ap);
    va_end(ap);
    for (p = a->text; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' '; /* one line */
}

static int capi(struct answer *a) {
    if (capi_test_main() != 0) {
        answer(a, "capi/c/test_pass.c: a check failed (its FAIL lines above)");
        return FAIL;
    }
    answer(a, "capi/c/test_pass.c: every check held");
    return PASS;
}

static const struct {
    const char *name;
    int (*run)(struct answer *);
} SCENARIOS[] = {{"capi", capi}, {"bench_article", bench_article}};
#define NSCENARIOS (sizeof SCENARIOS / sizeof SCENARIOS[0])

/* A small file's contents, NUL-terminated; an empty string if it cannot be read. */
static void slurp(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? 0 : read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = 0;
    if (fd >= 0) close(fd);
}

/* The next name of a list (one a line, the first TAB-separated field; blanks and # lines skipped) into
 * name; *p moves past it. 0 at the end. */
static int next_name(const char **p, char *name, size_t cap) {
    while (**p) {
        const char *line = *p, *end = line;
        size_t n = 0;
        while (*end && *end != '\n') end++;
        *p = *end ? end + 1 : end;
        while (line < end && (*line == ' ' || *line == '\r')) line++;
        while (line + n < end && line[n] != '\t' && line[n] != ' ' && line[n] != '\r') n++;
        if (n == 0 || line[0] == '#' || n >= cap) continue;
        for (size_t i = 0; i < n; i++) name[i] = line[i];
        name[n] = 0;
        return 1;
    }
    return 0;
}

static int listed(const char *list, const char *name) {
    char got[64];
    while (next_name(&list, got, sizeof got))
        if (strlen(got) == strlen(name) && memcmp(got, name, strlen(name)) == 0) return 1;
    return 0;
}

static void run_one(const char *name, int hang, int broken) {
    int (*run)(struct answer *) = 0, status = 0, code;
    unsigned i, waited;
    pid_t child;

    marker("BEGIN %s", name);
    for (i = 0; i < NSCENARIOS; i++)
        if (strlen(SCENARIOS[i].name) == strlen(name) && memcmp(SCENARIOS[i].name, name, strlen(name)) == 0)
            run = SCENARIOS[i].run;
    if (!run) {
        marker("RESULT %s FAIL unknown scenario (not one of the C programs')", name);
        marker("EXIT %s 1", name);
        return;
    }
    child = fork();
    if (child < 0) {
        marker("RESULT %s FAIL fork: %s", name, strerror(errno));
        marker("EXIT %s 1", name);
        return;
    }
    if (child == 0) {
        struct answer a = {{0}};
        int v;
        if (serial >= 0) {
            dup2(serial, 1);
            dup2(serial, 2);
        }
        if (hang) {
            say(1, "%s: /fs/cd0/hang names this scenario: blocking forever on purpose", name);
            for (;;) sleep(60);
        }
        v = run(&a);
        if (broken) {
            say(1, "%s: /fs/cd0/break names this scenario: failing it on purpose", name);
            answer(&a, "%s (BROKEN ON PURPOSE: /fs/cd0/break names this scenario)", a.text);
            v = FAIL;
        }
        marker("RESULT %s %s %s", name, v == PASS ? "PASS" : v == SKIP ? "SKIP" : "FAIL", a.text);
        _exit(v);
    }
    for (waited = 0; waited < DEADLINE_S * 10; waited++) {
        pid_t w = waitpid(child, &status, WNOHANG);
        if (w == child) break;
        if (w < 0) {
            status = -1;
            break;
        }
        usleep(100000);
    }
    if (waited == DEADLINE_S * 10) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        marker("RESULT %s FAIL no verdict within %d s: killed", name, DEADLINE_S);
        code = 124;
    } else if (status >= 0 && WIFEXITED(status)) {
        code = WEXITSTATUS(status);
        if (code != PASS && code != FAIL && code != SKIP)
            marker("RESULT %s FAIL the scenario's process exited with %d without a verdict", name, code);
    } else {
        marker("RESULT %s FAIL the scenario's process ended without a verdict (status %#x)", name, status);
        code = status >= 0 ? 128 + (status & 0x7f) : 1;
    }
    marker("EXIT %s %d", name, code);
}

/* "local" as the nonce when the CD has none (a program started by hand). */
static void set_local(char *buf, size_t cap) {
    const char *s = "local";
    size_t i;
    for (i = 0; s[i] && i + 1 < cap; i++) buf[i] = s[i];
    buf[i] = 0;
}

static int hil_main(const char *self) {
    static char names[4096], hang[1024], broken[1024];
    const char *p;
    char name[64];
    size_t i;

    /* The C test passes this program's own file (on the CD: the guest's disk is full). */
    capi_test_file = self;
    screen = dup(1);
    slurp("/fs/cd0/nonce", nonce, sizeof nonce);
    for (i = 0; nonce[i]; i++)
        if (nonce[i] == '\n' || nonce[i] == '\r' || nonce[i] == ' ') nonce[i] = 0;
    if (!nonce[0]) set_local(nonce, sizeof nonce);
    serial = open("/dev/ser1", O_WRONLY);
    if (serial < 0) say(1, "hil: cannot open /dev/ser1 (%s): is devc-ser8250 running?", strerror(errno));
    marker("READY c %s", HIL_BACKEND);
    slurp("/fs/cd0/scenarios-c", names, sizeof names);
    if (!names[0]) {
        say(1, "hil: no /fs/cd0/scenarios-c: running every scenario");
        for (i = 0; i < NSCENARIOS; i++) {
            size_t n = strlen(names);
            if (n + strlen(SCENARIOS[i].name) + 2 < sizeof names) {
                char *q = names + n;
                const char *s = SCENARIOS[i].name;
                while (*s) *q++ = *s++;
                *q++ = '\n';
                *q = 0;
            }
        }
    }
    slurp("/fs/cd0/hang", hang, sizeof hang);
    slurp("/fs/cd0/break", broken, sizeof broken);
    p = names;
    while (next_name(&p, name, sizeof name)) run_one(name, listed(hang, name), listed(broken, name));
    marker("DONE");
    return 0;
}

/* Process entry: the dynamic linker jumps here with the initial stack (argc, argv[], NULL, envp[], NULL,
 * auxv[]) and edx holding a function to run at exit. Align the stack to 16 bytes at the call and hand
 * both to hil_entry as cdecl arguments. */
__asm__(".text\n"
        ".globl _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "    mov %esp, %eax\n"
        "    and $-16, %esp\n"
        "    sub $8, %esp\n"
        "    push %edx\n"
        "    push %eax\n"
        "    call hil_entry\n"
        "    ud2\n"
        ".size _start, . - _start\n");

void hil_entry(unsigned *sp, unsigned exit_func) __attribute__((noreturn, used));
void hil_entry(unsigned *sp, unsigned exit_func) {
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1), **envp = argv + argc + 1, **e = envp;
    while (*e) e++;
    _init_libc(argc, argv, envp, (unsigned *)(e + 1), exit_func);
    exit(hil_main(argc > 0 ? argv[0] : ""));
}

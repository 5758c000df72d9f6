/*
 * The C programs' harness on the Neutrino 6.4 guest (hil.c): what a scenario function gets and returns.
 */
#ifndef HIL_C_H
#define HIL_C_H

#include <stddef.h>

/* Verdicts, as the exit status of a scenario's process (the Rust payload's codes). */
#define PASS 0
#define FAIL 1
#define SKIP 77

/* Which kernel-call route the C interface of this program takes ("raw" or "libc", set by build-c.sh). */
#ifndef HIL_BACKEND
#define HIL_BACKEND "raw"
#endif

/* A scenario's answer: one line, what the runner compares between c-raw and c-libc (before " -- "). */
struct answer {
    char text[600];
};

/* Sets the answer, formatted as printf does. */
void answer(struct answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

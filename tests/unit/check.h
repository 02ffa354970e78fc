/*
 * check: minimal assertions for unit tests. Each failure prints the
 * expression, both sides and the place, and the test goes on; main returns
 * check_status() so ctest sees the failure.
 */
#ifndef LW_TEST_CHECK_H
#define LW_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);         \
            check_failures++;                                                                \
        }                                                                                    \
    } while (0)

#define CHECK_INT(a, b)                                                                      \
    do {                                                                                     \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                      \
        if (check_a_ != check_b_) {                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
                    #b, check_a_, check_b_);                                                 \
            check_failures++;                                                                \
        }                                                                                    \
    } while (0)

#define CHECK_MEM(p, n, s)                                                                   \
    do {                                                                                     \
        const char *check_s_ = (s);                                                          \
        size_t check_n_ = (size_t)(n);                                                       \
        if (check_n_ != strlen(check_s_) || memcmp((p), check_s_, check_n_) != 0) {          \
            fprintf(stderr, "%s:%d: %s: got \"%.*s\", want \"%s\"\n", __FILE__, __LINE__, #p, \
                    (int)check_n_, (const char *)(p), check_s_);                             \
            check_failures++;                                                                \
        }                                                                                    \
    } while (0)

#define CHECK_STR(a, b) CHECK_MEM((a), strlen(a), (b))

static inline int check_status(void)
{
    if (check_failures)
        fprintf(stderr, "%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}

#endif

/* REQUIRE: an invariant check for fuzz targets that stays on in release
 * builds (assert() vanishes under NDEBUG); a failure aborts, so the fuzzer
 * or the replay test reports it with the input. */
#ifndef LW_FUZZ_REQUIRE_H
#define LW_FUZZ_REQUIRE_H

#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(cond)                                                                        \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#endif

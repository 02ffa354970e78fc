/*
 * utf8: validation of UTF-8 sequences, for writers that must emit valid
 * UTF-8 whatever bytes the input holds.
 */
#ifndef LW_BASE_UTF8_H
#define LW_BASE_UTF8_H

#include <stddef.h>

/*
 * Length (2..4) of the well-formed multi-byte UTF-8 sequence at p, or 0 if
 * the bytes there are not one (overlong, surrogate, > U+10FFFF, truncated).
 * Callers handle ASCII themselves; p[0] must be >= 0x80.
 */
size_t utf8_sequence_len(const unsigned char *p, size_t n);

#endif

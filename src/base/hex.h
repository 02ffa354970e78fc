/*
 * hex: decoding of the upper/lower-case hex that auditd uses for unsafe
 * strings (proctitle, exe, EXECVE arguments, saddr...).
 */
#ifndef LW_BASE_HEX_H
#define LW_BASE_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* True if p[0..n) is a non-empty, even-length run of hex digits. */
bool hex_is_encoded(const char *p, size_t n);
/* Decodes n hex digits (n even, validated) into out (n/2 bytes). */
void hex_decode(const char *p, size_t n, unsigned char *out);

#endif

/*
 * tls_client: the client side of TLS for logward-agent, on OpenSSL:
 * TLS 1.2 or later, the collector's certificate verified against a CA file
 * (or the system's CAs) and required to carry the expected name (DNS SAN
 * or CN, SSL_set1_host), an optional client certificate for mutual
 * authentication. Non-blocking: each call may return -EAGAIN with what the
 * TLS layer waits for (read or write readiness of the socket).
 */
#ifndef LW_NET_TLS_CLIENT_H
#define LW_NET_TLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TLS_CLIENT_ERROR_MAX 320

struct tls_client;
struct tls_client_conn;

/* Loads the client certificate and key (both NULL: none) and the CA (NULL:
 * the system's default paths). On failure returns a negative code with
 * OpenSSL's reason and the file in err. */
int tls_client_new(const char *cert, const char *key, const char *ca, struct tls_client **out,
                   char *err, size_t errcap);
void tls_client_free(struct tls_client *c);

/* A connection over the connected socket fd (still the caller's), which
 * must present a certificate for `name`. */
int tls_client_conn_new(struct tls_client *c, int fd, const char *name,
                        struct tls_client_conn **out);
void tls_client_conn_free(struct tls_client_conn *t);

/* Drives the handshake: 1 done, -EAGAIN (*want_write: wait for EPOLLOUT,
 * else EPOLLIN), or -EPROTO with the reason (certificate...) in
 * tls_client_conn_error. */
int tls_client_handshake(struct tls_client_conn *t, bool *want_write);

/* Like read(2)/write(2): > 0 bytes, 0 at the end (read), -EAGAIN with
 * *want_write, or -EPROTO / -ECONNRESET. */
ssize_t tls_client_read(struct tls_client_conn *t, void *buf, size_t n, bool *want_write);
ssize_t tls_client_write(struct tls_client_conn *t, const void *buf, size_t n, bool *want_write);

/* Decrypted bytes TLS holds that the socket will not signal again. */
bool tls_client_pending(const struct tls_client_conn *t);
const char *tls_client_conn_error(const struct tls_client_conn *t);

#endif

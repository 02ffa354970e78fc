/*
 * tls: TLS for stream listeners (RFC 5425 syslog over TLS), on OpenSSL,
 * behind the same read call shape as a plain socket so that connection
 * code does not care which it has. Non-blocking: the handshake happens in
 * the first reads. With a CA file, a client certificate signed by it is
 * required (mutual authentication) and gives the connection its identity:
 * the certificate's first DNS subject alternative name, else its subject
 * CN, lower-cased (DNS names are case-insensitive). Without one, clients
 * are anonymous and filed by their address.
 */
#ifndef LW_NET_TLS_H
#define LW_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TLS_IDENTITY_MAX 255 /* a DNS name's bound */

struct tls_server;
struct tls_conn;

/* Loads the certificate chain and key (PEM) and, if ca is not NULL, the CA
 * that signs clients. On failure returns a negative code and writes why
 * (OpenSSL's reason, with the file) to err. */
int tls_server_new(const char *cert, const char *key, const char *ca, struct tls_server **out,
                   char *err, size_t errcap);
void tls_server_free(struct tls_server *s);

/* Takes over nothing: the caller still owns and closes fd. */
int tls_conn_new(struct tls_server *s, int fd, struct tls_conn **out);
void tls_conn_free(struct tls_conn *c);

/*
 * Reads decrypted bytes. Returns > 0 bytes, 0 at the end of the stream,
 * -EAGAIN when the socket has nothing now (*want_write: the TLS layer waits
 * to write, so wait for EPOLLOUT), or -EPROTO / -ECONNRESET (the reason
 * is in tls_conn_error). Bytes may stay buffered inside TLS after a read:
 * call again until -EAGAIN before waiting on the socket.
 */
ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t n, bool *want_write);

/* Writes bytes for the peer (the agent protocol's replies). Returns > 0
 * bytes taken, -EAGAIN when the socket is full (*want_read: TLS must read
 * first), or -EPIPE (the reason is in tls_conn_error). */
ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t n, bool *want_read);

/* Decrypted bytes TLS holds that the socket will not signal again. */
bool tls_conn_pending(const struct tls_conn *c);

/* The verified identity, once the handshake is done ("" before, or for an
 * anonymous client). */
const char *tls_conn_identity(const struct tls_conn *c);
/* Why the connection failed (handshake, certificate), for the log. */
const char *tls_conn_error(const struct tls_conn *c);

#endif

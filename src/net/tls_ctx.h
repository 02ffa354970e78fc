/*
 * tls_ctx: what the TLS server (tls.c) and client (tls_client.c) set up the
 * same way on an OpenSSL context: the certificate chain and key a side
 * presents, and OpenSSL's reason for a failure as one line. Private to
 * src/net.
 */
#ifndef LW_NET_TLS_CTX_H
#define LW_NET_TLS_CTX_H

#include <openssl/ssl.h>
#include <stddef.h>

/* Writes "WHAT FILE: OpenSSL's reason" to err and clears OpenSSL's queue. */
void tls_ctx_reason(char *err, size_t cap, const char *what, const char *file);

/* Loads the certificate chain (PEM) and the key that must match it, each
 * one only when given. Returns 0, or -EINVAL with the reason in err. */
int tls_ctx_use_pair(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t cap);

#endif

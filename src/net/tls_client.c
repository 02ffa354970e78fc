/*
 * tls_client: OpenSSL client contexts and connections (tls_client.h).
 * Verification is OpenSSL's (chain, dates, purpose, and the host name
 * through SSL_set1_host); this file only turns its verdict into a line for
 * the log: "certificate verify failed: ..." with X509's reason. No session
 * resumption (a session lives for hours; a handshake per reconnect is
 * cheap next to that).
 */
#include "net/tls_client.h"
#include "net/tls_ctx.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_client {
    SSL_CTX *ctx;
};

struct tls_client_conn {
    SSL *ssl;
    char error[TLS_CLIENT_ERROR_MAX];
};

int tls_client_new(const char *cert, const char *key, const char *ca, struct tls_client **out,
                   char *err, size_t errcap)
{
    struct tls_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) {
        tls_ctx_reason(err, errcap, "creating a TLS context", NULL);
        goto fail;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (tls_ctx_use_pair(c->ctx, cert, key, err, errcap) < 0)
        goto fail;
    if (ca ? SSL_CTX_load_verify_locations(c->ctx, ca, NULL) != 1
           : SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
        tls_ctx_reason(err, errcap, "loading the CA", ca ? ca : "(system default)");
        goto fail;
    }
    *out = c;
    return 0;
fail:
    tls_client_free(c);
    return -EINVAL;
}

void tls_client_free(struct tls_client *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

int tls_client_conn_new(struct tls_client *c, int fd, const char *name,
                        struct tls_client_conn **out)
{
    struct tls_client_conn *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->ssl = SSL_new(c->ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1 || SSL_set1_host(t->ssl, name) != 1) {
        tls_client_conn_free(t);
        return -ENOMEM;
    }
    SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    /* SNI only for names, never for address literals (RFC 6066) */
    if (strspn(name, "0123456789.") != strlen(name) && !strchr(name, ':'))
        SSL_set_tlsext_host_name(t->ssl, name);
    SSL_set_connect_state(t->ssl);
    *out = t;
    return 0;
}

void tls_client_conn_free(struct tls_client_conn *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

/* Maps an SSL_get_error outcome; fills t->error on a failure. */
static int outcome(struct tls_client_conn *t, int ret, bool *want_write, const char *what)
{
    int e = SSL_get_error(t->ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *want_write = e == SSL_ERROR_WANT_WRITE;
        return -EAGAIN;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    long v = SSL_get_verify_result(t->ssl);
    unsigned long le = ERR_get_error();
    char reason[200] = "";
    if (le)
        ERR_error_string_n(le, reason, sizeof(reason));
    ERR_clear_error();
    if (v != X509_V_OK)
        snprintf(t->error, sizeof(t->error), "%s: certificate verify failed: %s", what,
                 X509_verify_cert_error_string(v));
    else if (le)
        snprintf(t->error, sizeof(t->error), "%s: %s", what, reason);
    else if (e == SSL_ERROR_SYSCALL)
        snprintf(t->error, sizeof(t->error), "%s: %s", what,
                 errno ? strerror(errno) : "connection closed by the peer");
    else
        snprintf(t->error, sizeof(t->error), "%s: TLS error %d", what, e);
    return e == SSL_ERROR_SYSCALL && !le ? -ECONNRESET : -EPROTO;
}

int tls_client_handshake(struct tls_client_conn *t, bool *want_write)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(t->ssl);
    if (r == 1)
        return 1;
    r = outcome(t, r, want_write, "TLS handshake");
    return r == 0 ? -ECONNRESET : r;
}

ssize_t tls_client_read(struct tls_client_conn *t, void *buf, size_t n, bool *want_write)
{
    ERR_clear_error();
    errno = 0;
    size_t got = 0;
    if (SSL_read_ex(t->ssl, buf, n, &got) == 1)
        return (ssize_t)got;
    return outcome(t, 0, want_write, "TLS read");
}

ssize_t tls_client_write(struct tls_client_conn *t, const void *buf, size_t n, bool *want_write)
{
    ERR_clear_error();
    errno = 0;
    size_t put = 0;
    if (SSL_write_ex(t->ssl, buf, n, &put) == 1)
        return (ssize_t)put;
    int r = outcome(t, 0, want_write, "TLS write");
    return r == 0 ? -ECONNRESET : r;
}

bool tls_client_pending(const struct tls_client_conn *t)
{
    return SSL_pending(t->ssl) > 0;
}

const char *tls_client_conn_error(const struct tls_client_conn *t)
{
    return t->error[0] ? t->error : "TLS error";
}

/*
 * tls: OpenSSL server contexts and connections. TLS 1.2 at least; the
 * library's default cipher list (Debian's OpenSSL 3 policy). Verification
 * of the client certificate is OpenSSL's own (chain to the CA file, dates,
 * purpose); this file only reads the name out of a verified certificate.
 * Does not do session resumption or OCSP/CRL checks (not yet).
 */
#include "net/tls.h"
#include "net/tls_ctx.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_server {
    SSL_CTX *ctx;
    bool verify_clients;
};

struct tls_conn {
    SSL *ssl;
    bool verify_clients;
    bool identified;
    char identity[TLS_IDENTITY_MAX + 1];
    char error[160];
};

int tls_server_new(const char *cert, const char *key, const char *ca, struct tls_server **out,
                   char *err, size_t errcap)
{
    struct tls_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->ctx = SSL_CTX_new(TLS_server_method());
    int r = -EINVAL;
    if (!s->ctx) {
        tls_ctx_reason(err, errcap, "creating a TLS context", NULL);
        goto fail;
    }
    SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(s->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    /* Senders (rsyslog, logger-like scripts) often close TCP without a
     * close_notify; for a log stream that is the end, not an attack: every
     * complete frame before it was authenticated. */
    SSL_CTX_set_options(s->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
    /* No TLS 1.3 session tickets either: a syslog sender never reads, and
     * unread tickets make its close an RST that discards, in our kernel,
     * the frames it sent last. */
    SSL_CTX_set_num_tickets(s->ctx, 0);
    if (tls_ctx_use_pair(s->ctx, cert, key, err, errcap) < 0)
        goto fail;
    if (ca) {
        if (SSL_CTX_load_verify_locations(s->ctx, ca, NULL) != 1) {
            tls_ctx_reason(err, errcap, "loading the CA", ca);
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (names)
            SSL_CTX_set_client_CA_list(s->ctx, names);
        SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        s->verify_clients = true;
    }
    *out = s;
    return 0;
fail:
    tls_server_free(s);
    return r;
}

void tls_server_free(struct tls_server *s)
{
    if (!s)
        return;
    SSL_CTX_free(s->ctx);
    free(s);
}

int tls_conn_new(struct tls_server *s, int fd, struct tls_conn **out)
{
    struct tls_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->ssl = SSL_new(s->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
        tls_conn_free(c);
        return -ENOMEM;
    }
    SSL_set_accept_state(c->ssl);
    c->verify_clients = s->verify_clients;
    *out = c;
    return 0;
}

void tls_conn_free(struct tls_conn *c)
{
    if (!c)
        return;
    SSL_free(c->ssl);
    free(c);
}

/* Copies a name into identity, lower-cased; refuses embedded NULs and
 * names over the bound (a certificate could carry anything). */
static bool set_identity(struct tls_conn *c, const unsigned char *p, int len)
{
    if (len <= 0 || len > TLS_IDENTITY_MAX || memchr(p, 0, (size_t)len))
        return false;
    for (int i = 0; i < len; i++)
        c->identity[i] = (char)tolower(p[i]);
    c->identity[len] = 0;
    return true;
}

static void identify(struct tls_conn *c)
{
    c->identified = true;
    if (!c->verify_clients || SSL_get_verify_result(c->ssl) != X509_V_OK)
        return;
    X509 *cert = SSL_get1_peer_certificate(c->ssl);
    if (!cert)
        return;
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    bool found = false;
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !found; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS)
            found = set_identity(c, ASN1_STRING_get0_data(g->d.dNSName),
                                 ASN1_STRING_length(g->d.dNSName));
    }
    GENERAL_NAMES_free(sans);
    if (!found) {
        X509_NAME *subject = X509_get_subject_name(cert);
        int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
        if (at >= 0) {
            ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
            set_identity(c, ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn));
        }
    }
    X509_free(cert);
}

ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t n, bool *want_write)
{
    *want_write = false;
    ERR_clear_error();
    int r = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0) {
        if (!c->identified)
            identify(c);
        return r;
    }
    int e = SSL_get_error(c->ssl, r);
    if (!c->identified && SSL_is_init_finished(c->ssl))
        identify(c);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        *want_write = true;
        return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) { /* TCP closed without close_notify */
            snprintf(c->error, sizeof(c->error), "connection closed without close_notify");
            return 0;
        }
        /* fall through */
    default: {
        unsigned long err = ERR_get_error();
        ERR_error_string_n(err, c->error, sizeof(c->error));
        long v = SSL_get_verify_result(c->ssl);
        if (v != X509_V_OK)
            snprintf(c->error, sizeof(c->error), "client certificate: %s",
                     X509_verify_cert_error_string(v));
        ERR_clear_error();
        return -EPROTO;
    }
    }
}

bool tls_conn_pending(const struct tls_conn *c)
{
    return SSL_pending(c->ssl) > 0;
}

const char *tls_conn_identity(const struct tls_conn *c)
{
    return c->identity;
}

const char *tls_conn_error(const struct tls_conn *c)
{
    return c->error;
}

ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t n, bool *want_read)
{
    *want_read = false;
    ERR_clear_error();
    /* the caller's buffer moves between retries (it is a growable buf) */
    SSL_set_mode(c->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    int r = SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        *want_read = true;
        return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        return -EAGAIN;
    default: {
        unsigned long err = ERR_get_error();
        if (err)
            ERR_error_string_n(err, c->error, sizeof(c->error));
        ERR_clear_error();
        return -EPIPE;
    }
    }
}

/*
 * tls_ctx: the context set-up shared by the TLS server and client
 * (tls_ctx.h). Verification policy and options stay with each side.
 */
#include "net/tls_ctx.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>

void tls_ctx_reason(char *err, size_t cap, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char reason[200] = "unknown error";
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    snprintf(err, cap, "%s %s: %s", what, file ? file : "", reason);
}

int tls_ctx_use_pair(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t cap)
{
    if (cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        tls_ctx_reason(err, cap, "loading the certificate", cert);
        return -EINVAL;
    }
    if (key && (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
                SSL_CTX_check_private_key(ctx) != 1)) {
        tls_ctx_reason(err, cap, "loading the key", key);
        return -EINVAL;
    }
    return 0;
}

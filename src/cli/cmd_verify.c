/*
 * logward verify: checks stored files, a host's directory or a whole store
 * against their seals (src/store/verify.c; docs/formats.md, "Sealing") and
 * prints per file OK, an unsealed tail, or the first bad position. Exit 0
 * clean (unsealed tails included), 1 tampered, 2 usage or I/O errors. A
 * progress line goes to a terminal only. It never writes to the store.
 */
#include "base/buf.h"
#include "base/json.h"
#include "cli/cli.h"
#include "store/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int load_key(const char *path, struct seal_key *k)
{
    char text[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text));
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        cli_error("verify: %s: %s", path, strerror(e));
        return -e;
    }
    int r = seal_key_parse(text, (size_t)n, SEAL_VERIFY_MAGIC, k);
    if (r < 0)
        r = seal_key_parse(text, (size_t)n, SEAL_KEY_MAGIC, k);
    memset(text, 0, sizeof(text));
    if (r < 0)
        cli_error("verify: %s: not a logward key", path);
    return r;
}

static void progress(void *arg, uint64_t files, uint64_t bytes)
{
    static struct timespec last;
    struct timespec now;
    (void)arg;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec == last.tv_sec && now.tv_nsec - last.tv_nsec < 250000000)
        return;
    last = now;
    fprintf(stderr, "\rverifying: %llu files, %llu MB", (unsigned long long)files,
            (unsigned long long)(bytes >> 20));
}

static void print_text(const struct verify_result *r)
{
    if (r->status == VERIFY_OK)
        printf("%s: OK (%llu lines, %llu seals)%s%s\n", r->file, (unsigned long long)r->lines,
               (unsigned long long)r->seals, r->what[0] ? ": " : "", r->what);
    else if (r->line)
        printf("%s:%llu: byte %llu: %s: %s\n", r->file, (unsigned long long)r->line,
               (unsigned long long)r->offset,
               r->status == VERIFY_TAIL ? "unsealed tail" : verify_status_name(r->status), r->what);
    else
        printf("%s: %s: %s\n", r->file,
               r->status == VERIFY_TAIL ? "unsealed tail" : verify_status_name(r->status), r->what);
}

static void print_json(const struct verify_run *v, int code)
{
    struct buf b;
    buf_init(&b, 0);
    buf_append_str(&b, "{\"files\":[");
    for (size_t i = 0; i < verify_count(v); i++) {
        const struct verify_result *r = verify_get(v, i);
        buf_append_str(&b, i ? ",{" : "{");
        json_put_key(&b, "file");
        json_put_string(&b, r->file, strlen(r->file));
        buf_append_str(&b, ",");
        json_put_key(&b, "status");
        json_put_string(&b, verify_status_name(r->status), strlen(verify_status_name(r->status)));
        buf_printf(&b, ",\"line\":%llu,\"offset\":%llu,\"lines\":%llu,\"seals\":%llu,",
                   (unsigned long long)r->line, (unsigned long long)r->offset,
                   (unsigned long long)r->lines, (unsigned long long)r->seals);
        json_put_key(&b, "what");
        json_put_string(&b, r->what, strlen(r->what));
        buf_append_str(&b, "}");
    }
    buf_printf(&b, "],\"exit\":%d}\n", code);
    fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
}

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *key = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "k:f:h", opts, NULL)) != -1) {
        if (c == 'k') {
            key = optarg;
        } else if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "text"))) {
            json = optarg[0] == 'j';
        } else {
            fputs("usage: logward verify [--key FILE] [--format text|json] PATH...\n"
                  "Checks files, a host directory or a whole store against their seals.\n"
                  "Without --key only the hash chains are checked, not the seals' tags.\n"
                  "Given a store (or a directory of one), also its key file and manifest\n"
                  "(families deleted, tails cut back); search indexes are rebuilt and\n"
                  "compared where logward search would use them.\n"
                  "exit status: 0 clean (an unsealed tail is not tampering), 1 tampered,\n"
                  "2 usage or I/O error\n",
                  c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_TROUBLE;
        }
    }
    if (optind >= argc) {
        cli_error("verify: no PATH");
        return EXIT_TROUBLE;
    }
    struct seal_key k;
    if (key && load_key(key, &k) < 0)
        return EXIT_TROUBLE;
    struct verify_opts o = {.k0 = key ? &k : NULL, .progress = isatty(2) ? progress : NULL};
    struct verify_run *v;
    if (verify_run_new(&o, &v) < 0)
        return EXIT_TROUBLE;
    seal_key_wipe(&k);
    for (int i = optind; i < argc; i++)
        verify_path(v, argv[i]);
    verify_finish(v);
    if (o.progress)
        fputs("\r\033[K", stderr);
    int code = EXIT_OK;
    for (size_t i = 0; i < verify_count(v); i++) {
        enum verify_status s = verify_get(v, i)->status;
        if (s == VERIFY_ERROR)
            code = EXIT_TROUBLE;
        else if (s == VERIFY_TAMPERED && code == EXIT_OK)
            code = EXIT_NEGATIVE;
        if (!json)
            print_text(verify_get(v, i));
    }
    if (json)
        print_json(v, code);
    if (!key && !json)
        fputs("logward: verify: no --key: chains checked, seal tags not authenticated\n", stderr);
    verify_run_free(v);
    return code;
}

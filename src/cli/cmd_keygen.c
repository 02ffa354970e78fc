/*
 * logward keygen: makes the first key of a store's sealing (docs/formats.md,
 * "Sealing"): DIR/.logward-key, the collector's evolving key (0600, to be
 * placed at <store>/.logward-key), and DIR/logward-verify.key, the same k_0
 * to verify with, to be kept off the collector. Refuses to overwrite.
 */
#include "cli/cli.h"
#include "store/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_key(const char *dir, const char *name, const char *magic, const struct seal_key *k,
                     mode_t mode)
{
    char path[4096], text[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int n = seal_key_format(k, magic, text, sizeof(text));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    int r = fd < 0 ? -errno : 0;
    if (r == 0 && (fchmod(fd, mode) < 0 || write(fd, text, (size_t)n) != n || fsync(fd) < 0))
        r = -errno ? -errno : -EIO;
    memset(text, 0, sizeof(text));
    if (fd >= 0)
        close(fd);
    if (r < 0)
        cli_error("keygen: %s: %s", path, strerror(-r));
    return r;
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = ".";
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'o') {
            dir = optarg;
        } else {
            fputs("usage: logward keygen [--out DIR]\n"
                  "Writes DIR/.logward-key (the collector's sealing key, mode 0600: put it at\n"
                  "<store>/.logward-key) and DIR/logward-verify.key (the verification key:\n"
                  "keep it off the collector). Existing files are never overwritten.\n",
                  c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_TROUBLE;
        }
    }
    if (optind < argc) {
        cli_error("keygen: unexpected argument '%s'", argv[optind]);
        return EXIT_TROUBLE;
    }
    struct seal_key k = {0};
    if (RAND_priv_bytes(k.k, sizeof(k.k)) != 1) {
        cli_error("keygen: no randomness from OpenSSL");
        return EXIT_TROUBLE;
    }
    int r = write_key(dir, "logward-verify.key", SEAL_VERIFY_MAGIC, &k, 0400);
    if (r == 0)
        r = write_key(dir, SEAL_KEY_FILE, SEAL_KEY_MAGIC, &k, 0600);
    seal_key_wipe(&k);
    if (r < 0)
        return EXIT_TROUBLE;
    printf("wrote %s/%s: the collector's sealing key (0600); logwardd with 'seal = on' reads it\n"
           "  as <store>/%s and overwrites it with the next key at every seal round.\n"
           "wrote %s/logward-verify.key: the verification key. Move it OFF the collector\n"
           "  now (whoever holds it can forge every seal); verify with\n"
           "  'logward verify --key logward-verify.key STORE'.\n",
           dir, SEAL_KEY_FILE, SEAL_KEY_FILE, dir);
    return EXIT_OK;
}

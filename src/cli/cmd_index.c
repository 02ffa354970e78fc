/*
 * logward index: builds the per-file search index (search/index) of audit
 * logs from elsewhere (logwardd writes its own as it rotates), or checks
 * existing ones (--check): every covered block hashed against its index.
 * PATH is read as by `logward search` (files, directories of rotated logs,
 * stores). It writes only ".lwidx.<inode>" files beside the logs.
 */
#include "base/err.h"
#include "cli/cli.h"
#include "search/index.h"
#include "search/input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: logward index [--check] [-q] PATH...\n"
          "\n"
          "Builds the search index of each audit log (a file, a directory of rotated logs,\n"
          "or a store: every HOST/audit.log*), written beside it as .lwidx.<inode>, so that\n"
          "`logward search` reads only the parts of the file that may match. An index is\n"
          "bound to its file (inode, size, mtime, a hash per block): one that no longer fits\n"
          "is ignored and the file scanned. .zst files are indexed over their decompressed\n"
          "bytes.\n"
          "\n"
          "  --check    check the existing indexes instead: each file's blocks hashed\n"
          "             against its index (fit, grown, stale or missing)\n"
          "  --dump     print each index's blocks (range, events, time, reach, flags)\n"
          "  -q         print only problems\n"
          "  -h         this text\n"
          "\n"
          "exit status: 0 done (--check: every index fits), 1 --check found a stale or\n"
          "missing index, 2 usage or I/O error\n",
          f);
}

/* --dump: one line per block (for tests and curious readers). */
static int dump_one(const char *path)
{
    struct search_index ix;
    int r = search_index_load(path, &ix);
    if (r < 0) {
        cli_error("index: %s: %s", path, err_str(r));
        return EXIT_TROUBLE;
    }
    printf("%s: %u blocks, %llu bytes covered%s\n", path, ix.nblocks,
           (unsigned long long)ix.covered, ix.zst ? " (decompressed)" : "");
    for (uint32_t i = 0; i < ix.nblocks; i++) {
        const struct search_index_block *b = &ix.blocks[i];
        printf("  %u: bytes %llu+%llu events %u time %lld..%lld reach %u..%u carry %u flags %#x\n",
               i, (unsigned long long)b->off, (unsigned long long)b->len, b->nevents,
               (long long)b->tmin, (long long)b->tmax, b->back, b->fwd, b->ncarry, b->flags);
    }
    search_index_free(&ix);
    return EXIT_OK;
}

static int check_one(const char *path, bool quiet)
{
    struct search_index ix;
    int r = search_index_load(path, &ix);
    if (r == -ENOENT) {
        printf("%s: no index\n", path);
        return EXIT_NEGATIVE;
    }
    if (r < 0) {
        printf("%s: index unreadable: %s\n", path, err_str(r));
        return EXIT_NEGATIVE;
    }
    uint32_t bad = 0;
    int fit = search_index_check(path, &ix, &bad);
    int status = EXIT_OK;
    if (fit < 0) {
        cli_error("index: %s: %s", path, err_str(fit));
        status = EXIT_TROUBLE;
    } else if (fit == SEARCH_INDEX_STALE) {
        if (bad < ix.nblocks)
            printf("%s: stale: block %u (bytes %llu..%llu) differs\n", path, bad,
                   (unsigned long long)ix.blocks[bad].off,
                   (unsigned long long)(ix.blocks[bad].off + ix.blocks[bad].len));
        else
            printf("%s: stale: the file is shorter than its index\n", path);
        status = EXIT_NEGATIVE;
    } else if (!quiet) {
        printf("%s: %s (%u blocks, %llu bytes)\n", path,
               fit == SEARCH_INDEX_FIT ? "ok" : "ok, grown since", ix.nblocks,
               (unsigned long long)ix.covered);
    }
    search_index_free(&ix);
    return status;
}

int cmd_index(int argc, char **argv)
{
    bool check = false, quiet = false, dump = false;
    struct search_sources src;
    static struct search_query q; /* no host selection */
    int status = EXIT_OK, npaths = 0;
    search_sources_init(&src);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--check")) {
            check = true;
        } else if (!strcmp(argv[i], "--dump")) {
            dump = true;
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            quiet = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            search_sources_free(&src);
            return EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("index: unknown option '%s' ('logward index --help' lists them)", argv[i]);
            search_sources_free(&src);
            return EXIT_TROUBLE;
        } else {
            npaths++;
            int r = search_sources_add(&src, argv[i], &q);
            if (r < 0) {
                cli_error("index: %s: %s", argv[i], err_str(r));
                status = EXIT_TROUBLE;
            }
        }
    }
    if (npaths == 0) {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    for (size_t i = 0; i < src.n; i++) {
        const char *path = src.v[i].path;
        if (!strcmp(path, "-")) {
            cli_error("index: standard input cannot be indexed");
            status = EXIT_TROUBLE;
            continue;
        }
        if (dump) {
            int s = dump_one(path);
            status = s > status ? s : status;
            continue;
        }
        if (check) {
            int s = check_one(path, quiet);
            status = s > status ? s : status;
            continue;
        }
        int r = search_index_write_for(path);
        if (r < 0) {
            cli_error("index: %s: %s", path, err_str(r));
            status = EXIT_TROUBLE;
        } else if (!quiet) {
            printf("%s: indexed\n", path);
        }
    }
    search_sources_free(&src);
    return status;
}

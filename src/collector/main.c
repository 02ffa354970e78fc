/*
 * logwardd: the collector. Not built yet: listeners and the store arrive
 * with the collector issue. Until then it says so and exits with status 2,
 * so no script mistakes it for a running collector.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    FILE *f = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout : stderr;
    fputs("usage: logwardd [--foreground] --store DIR --listen URL...\n"
          "logwardd: the collector is not implemented yet in this version;\n"
          "          use 'logward events' to read audit logs.\n",
          f);
    return f == stdout ? 0 : 2;
}

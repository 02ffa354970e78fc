/*
 * logward-agent: the per-host shipper. Not built yet: inputs, the disk queue
 * and the forwarder arrive with the agent issue. Until then it says so and
 * exits with status 2.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    FILE *f = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout : stderr;
    fputs("usage: logward-agent [--foreground] --state DIR --input SPEC... --collector URL...\n"
          "logward-agent: the agent is not implemented yet in this version;\n"
          "               use 'logward events' to read audit logs.\n",
          f);
    return f == stdout ? 0 : 2;
}

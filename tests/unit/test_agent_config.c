/*
 * test_agent_config: logward-agent's settings (src/agent/config.c). A file
 * with every key loads; errors name FILE:LINE and the key; repeated keys
 * accumulate and a clear empties them (the command line's replacement);
 * values out of range and cross-setting mistakes are refused with a reason.
 */
#include "agent/config.h"
#include "check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[256];

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_file(void)
{
    write_file("# comment\n"
               "state = /var/lib/x   # trailing comment\n"
               "input = audit:/var/log/audit/audit.log\n"
               "input = journal\n"
               "collector = agent+tls://c1.example\n"
               "collector = agent://127.0.0.1:7000\n"
               "\n"
               "queue_max = 64M\n"
               "queue_full = drop-oldest\n"
               "queue_fsync = every\n"
               "backoff_max = 200\n"
               "name = web1.example\n");
    struct agent_config c;
    agent_config_init(&c);
    char err[AGENT_CONFIG_ERROR_MAX] = "";
    CHECK_INT(agent_config_load(&c, path, err, sizeof(err)), 0);
    CHECK_STR(c.state, "/var/lib/x");
    CHECK_INT(c.ninputs, 2);
    CHECK_STR(c.inputs[1], "journal");
    CHECK_INT(c.ncollectors, 2);
    CHECK(c.collectors[0].tls);
    CHECK_STR(c.collectors[1].port, "7000");
    CHECK_INT(c.queue_max, 64ULL << 20);
    CHECK_INT(c.queue_full, QUEUE_FULL_DROP_OLDEST);
    CHECK_INT(c.queue_fsync, QUEUE_FSYNC_EVERY);
    CHECK_INT(c.backoff_max_ms, 200);
    CHECK_STR(c.name, "web1.example");
    CHECK_INT(agent_config_check(&c, err, sizeof(err)), 0);
    /* the command line's --collector replaces the file's list */
    const char *why = NULL;
    agent_config_clear(&c, "collector");
    CHECK_INT(agent_config_set(&c, "collector", "agent://[::1]:9", &why), 0);
    CHECK_INT(c.ncollectors, 1);
    agent_config_free(&c);
}

static void test_errors(void)
{
    struct {
        const char *text, *want;
    } cases[] = {
        {"state = /x\nbogus = 1\n", ":2: bogus = 1: unknown setting"},
        {"queue_full = sometimes\n", ":1: queue_full = sometimes: expected block or drop-oldest"},
        {"queue_max = 1K\n", "too small"},
        {"backoff_max = 5\n", "not a number in the allowed range"},
        {"collector = tcp://x:1\n", "expected agent://"},
        {"input = nothing:1\n", "input = nothing:1:"},
        {"name = a b\n", "expected 1 to 64"},
        {"just words\n", ":1: just words: expected 'key = value'"},
        {"input = journal\ninput = journal\n", ":2: input = journal: the same input twice"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(cases[i].text);
        struct agent_config c;
        agent_config_init(&c);
        char err[AGENT_CONFIG_ERROR_MAX] = "";
        CHECK_INT(agent_config_load(&c, path, err, sizeof(err)), -EINVAL);
        if (!strstr(err, cases[i].want) || strncmp(err, path, strlen(path)))
            fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err, cases[i].want);
        CHECK(strstr(err, cases[i].want) != NULL);
        agent_config_free(&c);
    }
}

static void test_check(void)
{
    struct agent_config c;
    agent_config_init(&c);
    char err[AGENT_CONFIG_ERROR_MAX] = "";
    const char *why;
    CHECK_INT(agent_config_check(&c, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "state") != NULL);
    CHECK_INT(agent_config_set(&c, "state", "/tmp/s", &why), 0);
    CHECK_INT(agent_config_check(&c, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "collector") != NULL);
    CHECK_INT(agent_config_set(&c, "collector", "agent://h", &why), 0);
    CHECK_INT(agent_config_check(&c, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "input") != NULL);
    CHECK_INT(agent_config_set(&c, "input", "journal", &why), 0);
    CHECK_INT(agent_config_check(&c, err, sizeof(err)), 0);
    CHECK_INT(agent_config_set(&c, "tls_cert", "/nonexistent/cert.pem", &why), 0);
    CHECK_INT(agent_config_check(&c, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "tls_key") != NULL); /* a certificate without its key */
    CHECK_INT(agent_config_set(&c, "tls_key", "/nonexistent/key.pem", &why), 0);
    CHECK_INT(agent_config_check(&c, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "/nonexistent/cert.pem") != NULL);
    CHECK(c.name[0] != 0); /* the host name by default */
    agent_config_free(&c);
}

int main(void)
{
    snprintf(path, sizeof(path), "/tmp/test_agent_config.%d", (int)getpid());
    test_file();
    test_errors();
    test_check();
    unlink(path);
    return check_status();
}

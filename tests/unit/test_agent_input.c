/*
 * test_agent_input: `--input SPEC` syntax (input_check_spec, as
 * --check-config uses it) and input_open's errors, with the fake queue.
 */
#include "agent/input.h"
#include "agent_queue_fake.h"
#include "check.h"

#include <errno.h>
#include <string.h>

static void ok(const char *spec)
{
    char err[256] = "";
    int r = input_check_spec(spec, err, sizeof err);
    if (r != 0)
        fprintf(stderr, "'%s' refused: %s\n", spec, err);
    CHECK_INT(r, 0);
}

static void bad(const char *spec, const char *why)
{
    char err[512] = "";
    CHECK_INT(input_check_spec(spec, err, sizeof err), -EINVAL);
    if (!strstr(err, why)) {
        fprintf(stderr, "'%s': error \"%s\" does not say \"%s\"\n", spec, err, why);
        check_failures++;
    }
}

int main(void)
{
    ok("audit:/var/log/audit/audit.log");
    ok("audit:-");
    ok("file:/var/log/syslog");
    ok("file:/var/log/*.log");
    ok("journal");
    ok("journal:/var/log/journal");
    ok("journal:/tmp/x.journal");
    bad("", "empty");
    bad("audit", "unknown kind");
    bad("audit:", "absolute path");
    bad("audit:relative.log", "absolute path");
    bad("file:-", "absolute path");
    bad("journal:", "absolute path");
    bad("journalx", "unknown kind");
    bad("syslog:/var/log/syslog", "unknown kind");
    bad("file:/var/log/a\nb", "control character");
    char longspec[400] = "file:/";
    memset(longspec + 6, 'a', 300);
    longspec[306] = '\0';
    bad(longspec, "longer than 255");

    struct queue *q = fake_queue_new();
    struct input *in = NULL;
    char err[256];
    CHECK_INT(input_open("nope:/x", q, &in, err, sizeof err), -EINVAL);
    CHECK(in == NULL);
    CHECK(strstr(err, "unknown kind") != NULL);
    /* a missing file is not an error: the input waits for it */
    CHECK_INT(input_open("audit:/nonexistent/dir/audit.log", q, &in, err, sizeof err), 0);
    if (in) {
        CHECK_STR(input_spec(in), "audit:/nonexistent/dir/audit.log");
        CHECK_INT(input_run(in, 10), 0);
        CHECK_INT(input_stats(in)->gone, 1);
        CHECK_INT(input_run(in, 10), 0);
        CHECK_INT(input_stats(in)->gone, 1); /* counted once while it stays missing */
    }
    input_free(in);
    input_free(NULL);
    fake_queue_free(q);
    return check_status();
}

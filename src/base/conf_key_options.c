/*
 * conf_key_options: the command line's options from a settings table.
 * Both daemons take every setting as `--key-name VALUE`; listing those by
 * hand beside the table let them drift apart (logwardd once had no
 * --seal), so the options are made from the table at start.
 */
#include "base/conf_key.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool named(const struct option *opts, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (!strcmp(opts[i].name, name))
            return true;
    return false;
}

int conf_key_options_build(struct conf_key_options *o, const struct option *fixed,
                           const struct conf_key *keys, size_t n, int val)
{
    size_t count = 0;
    memset(o, 0, sizeof(*o));
    for (; fixed[count].name; count++) {
        if (count == CONF_KEY_OPTIONS_MAX)
            return -ENOSPC;
        o->opts[count] = fixed[count];
    }
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(keys[k].key);
        if (len >= CONF_KEY_OPTION_NAME_MAX)
            return -ENOSPC;
        char spelled[CONF_KEY_OPTION_NAME_MAX];
        for (size_t i = 0; i <= len; i++)
            spelled[i] = keys[k].key[i] == '_' ? '-' : keys[k].key[i];
        if (named(o->opts, count, spelled))
            continue;
        if (count == CONF_KEY_OPTIONS_MAX)
            return -ENOSPC;
        memcpy(o->names[count], spelled, len + 1);
        o->opts[count] = (struct option){o->names[count], required_argument, NULL, val};
        count++;
    }
    return 0;
}

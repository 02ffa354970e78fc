/*
 * login_defs: reads UID_MIN for `logward rules` and `rules --check`, so
 * that "auid>=N" matches the host's idea of people rather than the 500 of
 * old examples.
 */
#include "rules/login_defs.h"

#include "rules/conf_kv.h"
#include "rules/host_fs.h"

#include <errno.h>
#include <stdlib.h>

#define VALUE_MAX 32

int login_defs_uid_min(const char *root, unsigned *uid_min)
{
    struct buf b;
    char val[VALUE_MAX], *end;
    *uid_min = LOGIN_DEFS_UID_MIN_DEFAULT;
    buf_init(&b, HOST_FS_FILE_MAX);
    int rc = host_fs_read(root, "/etc/login.defs", &b);
    if (rc == -ENOENT) {
        buf_free(&b);
        return 0;
    }
    if (rc >= 0)
        rc = conf_kv_get(b.data ? b.data : "", b.len, "UID_MIN", val, sizeof(val));
    buf_free(&b);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    errno = 0;
    unsigned long v = strtoul(val, &end, 0);
    if (errno || *end || end == val || v == 0 || v > 0x7fffffffUL)
        return -EINVAL;
    *uid_min = (unsigned)v;
    return 1;
}

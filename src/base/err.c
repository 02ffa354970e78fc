/*
 * err: text for logward's error codes. Negated errno values go to strerror;
 * the named parse errors have their own texts here, in one table.
 */
#include "base/err.h"

#include <string.h>

static const char *const parse_error_text[] = {
    [ERR_NOT_AUDIT - ERR_BASE] = "not an audit record",
    [ERR_BAD_TYPE - ERR_BASE] = "missing or malformed type=",
    [ERR_BAD_STAMP - ERR_BASE] = "missing or malformed audit(SECONDS.MILLIS:SERIAL)",
    [ERR_LINE_TOO_LONG - ERR_BASE] = "line too long",
    [ERR_TOO_MANY_FIELDS - ERR_BASE] = "too many fields",
    [ERR_BAD_SYNTAX - ERR_BASE] = "syntax error",
    [ERR_SYSLOG_BAD_PRI - ERR_BASE] = "malformed syslog PRI",
    [ERR_SYSLOG_BAD_TIME - ERR_BASE] = "malformed syslog time stamp",
    [ERR_SYSLOG_BAD_HEADER - ERR_BASE] = "malformed syslog header field",
    [ERR_SYSLOG_BAD_SD - ERR_BASE] = "malformed syslog structured data",
    [ERR_FRAME_BAD_LENGTH - ERR_BASE] = "malformed octet count in syslog frame",
    [ERR_FRAME_TOO_LONG - ERR_BASE] = "syslog frame too long",
};

const char *err_str(int code)
{
    int e = code < 0 ? -code : code;
    if (e > ERR_BASE && e < ERR_LAST)
        return parse_error_text[e - ERR_BASE];
    return strerror(e);
}

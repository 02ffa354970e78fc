/*
 * format: ausearch's --interpret and --format csv layouts for one collated
 * event. Interpretation uses what the records carry (ENRICHED names, hex
 * strings decoded, arch and syscall named from libaudit's tables); it is not
 * auparse's full interpretation (docs/search.md lists what differs). The raw
 * and default layouts are in cli/cmd_search.c, json and text in
 * audit/normalize.
 */
#ifndef LW_SEARCH_FORMAT_H
#define LW_SEARCH_FORMAT_H

#include "audit/event.h"
#include "base/buf.h"

#include <stdbool.h>

#define SEARCH_CSV_HEADER                                                                          \
    "NODE,EVENT,DATE,TIME,SERIAL_NUM,EVENT_KIND,SESSION,SUBJ_PRIME,SUBJ_SEC,SUBJ_KIND,ACTION,"     \
    "RESULT,OBJ_PRIME,OBJ_SEC,OBJ_KIND,HOW\n"

/* Appends record i of ev as ausearch -i prints it, with '\n'. Ids without an
 * ENRICHED name are named from this machine's accounts with local_names (as
 * ausearch does), else left as numbers. 0 or -ENOMEM/-E2BIG. */
int search_format_interpret(struct buf *b, const struct audit_event *ev, uint32_t i,
                            bool local_names);
/* Frees the calling thread's field array (a thread that formatted calls it
 * before it ends). */
void search_format_thread_end(void);
/* Appends one CSV line for ev (columns of SEARCH_CSV_HEADER). */
int search_format_csv(struct buf *b, const struct audit_event *ev);

#endif

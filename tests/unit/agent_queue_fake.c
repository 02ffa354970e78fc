/*
 * agent_queue_fake: queue_put/queue_commit/queue_abort/queue_position over
 * arrays in memory, recording every committed record in order (see
 * agent_queue_fake.h). Not a model of the real queue's files or bounds
 * beyond QUEUE_RECORD_MAX.
 */
#include "agent_queue_fake.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct queue *fake_queue_new(void)
{
    struct queue *q = calloc(1, sizeof *q);
    if (!q)
        abort();
    q->buffered = calloc(FAKE_RECORDS_MAX, sizeof *q->buffered);
    q->committed = calloc(FAKE_RECORDS_MAX, sizeof *q->committed);
    if (!q->buffered || !q->committed)
        abort();
    return q;
}

static void fake_drop(struct fake_record *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i].data);
}

void fake_queue_free(struct queue *q)
{
    if (!q)
        return;
    fake_drop(q->buffered, q->nbuffered);
    fake_drop(q->committed, q->ncommitted);
    free(q->buffered);
    free(q->committed);
    free(q);
}

void fake_queue_crash(struct queue *q)
{
    queue_abort(q);
}

const char *fake_record(const struct queue *q, size_t i)
{
    return i < q->ncommitted ? q->committed[i].data : "(none)";
}

int queue_put(struct queue *q, enum queue_kind kind, const char *data, size_t len)
{
    if (len > QUEUE_RECORD_MAX)
        return -EMSGSIZE;
    if (q->nbuffered + q->ncommitted >= FAKE_RECORDS_MAX)
        return -ENOMEM;
    char *d = malloc(len + 1);
    if (!d)
        return -ENOMEM;
    memcpy(d, data, len);
    d[len] = '\0';
    q->buffered[q->nbuffered++] = (struct fake_record){kind, d, len};
    return 0;
}

static int fake_id(struct queue *q, const char *id, bool add)
{
    for (size_t i = 0; i < q->nids; i++)
        if (!strcmp(q->ids[i], id))
            return (int)i;
    if (!add || q->nids == FAKE_IDS_MAX || strlen(id) >= QUEUE_INPUT_ID_MAX)
        return -1;
    strcpy(q->ids[q->nids], id);
    return (int)q->nids++;
}

int queue_commit(struct queue *q, const char *input_id, const void *pos, size_t pos_len)
{
    if (q->fail_commits > 0) {
        q->fail_commits--;
        return -q->fail_errno;
    }
    int i = fake_id(q, input_id, true);
    if (i < 0 || pos_len > QUEUE_POSITION_MAX)
        return -EINVAL;
    memcpy(q->committed + q->ncommitted, q->buffered, q->nbuffered * sizeof *q->buffered);
    q->ncommitted += q->nbuffered;
    q->nbuffered = 0;
    if (pos_len)
        memcpy(q->pos[i], pos, pos_len);
    q->pos_len[i] = pos_len;
    q->commits++;
    return 0;
}

void queue_abort(struct queue *q)
{
    fake_drop(q->buffered, q->nbuffered);
    q->nbuffered = 0;
}

int queue_position(const struct queue *q, const char *input_id, void *pos, size_t cap)
{
    int i = fake_id((struct queue *)q, input_id, false);
    if (i < 0)
        return 0;
    if (q->pos_len[i] > cap)
        return -ENOBUFS;
    memcpy(pos, q->pos[i], q->pos_len[i]);
    return (int)q->pos_len[i];
}

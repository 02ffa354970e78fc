/*
 * follow: reads one log file's complete lines across rotation, the way
 * `tail -F` would if it also remembered where it stopped. Used by the
 * audit:PATH and file:PATTERN inputs (input_files.c); it knows nothing of
 * the queue: the input asks for lines and for the position after the last
 * line it took, and commits both together.
 *
 * A position is (dev, inode, offset) plus a fingerprint of the file's first
 * bytes (an inode number can be reused after a delete) and whether the
 * offset is inside an over-long line being skipped. Rotation by rename: the
 * old file is read to its end before the new one is opened at 0; a file
 * truncated in place (copytruncate) restarts at 0; a saved position whose
 * file is no longer at PATH is looked for among PATH's rotated siblings
 * (PATH.1 .. PATH.FOLLOW_SIBLINGS_MAX, PATH-SUFFIX), which are finished
 * first, oldest first. Compressed siblings are not read.
 */
#ifndef LW_AGENT_FOLLOW_H
#define LW_AGENT_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FOLLOW_READ_CHUNK   (64u << 10) /* bytes asked of one read() */
#define FOLLOW_HEAD_MAX     64          /* bytes of a file's start kept as its fingerprint */
#define FOLLOW_SIBLINGS_MAX 64          /* PATH.1 .. PATH.64 are looked at on restore */
#define FOLLOW_PATH_MAX     4096
#define FOLLOW_POS_BYTES    30 /* one encoded follow_pos */

struct input_stats;
struct follow;

struct follow_pos {
    uint64_t dev, ino;  /* ino 0: no file yet (start at 0 of whatever comes) */
    uint64_t off;       /* bytes of the file consumed: the next line starts here */
    uint32_t head_hash; /* FNV-1a of the file's first head_len bytes */
    uint8_t head_len;
    bool skipping; /* off is inside an over-long line: skip to its LF */
};

/* Fixed-size little-endian encoding of one position (for the queue). */
void follow_pos_put(const struct follow_pos *p, unsigned char out[FOLLOW_POS_BYTES]);
/* Returns 0, or -EINVAL for bytes no follow_pos_put wrote (flags, head_len). */
int follow_pos_get(const unsigned char in[FOLLOW_POS_BYTES], struct follow_pos *p);

/* Whether saved's file is PATH itself or one of its rotated siblings (so
 * that an input following several paths knows whose position it is). */
bool follow_owns(const char *path, const struct follow_pos *saved);

/*
 * Follows PATH. saved: where a previous run stopped (NULL or ino 0: from
 * the beginning of the file). nofollow: PATH and its siblings are opened
 * with O_NOFOLLOW (a wildcard matched them: a symbolic link that someone
 * who can write to the directory planted is not read). st's bad/rotations/
 * gone are counted into (borrowed for the follower's life). A missing PATH
 * is not an error: the follower waits for it. Returns 0, -ENAMETOOLONG or
 * -ENOMEM.
 */
int follow_open(const char *path, const struct follow_pos *saved, bool nofollow,
                struct input_stats *st, struct follow **out);
void follow_free(struct follow *f);

/*
 * The next complete line, LF stripped (empty lines are skipped). Returns 1
 * with line and len set (valid until the next call), 0 when nothing more is
 * there now, or a negative errno from read(). Lines longer than
 * INPUT_LINE_MAX are counted in st->bad and skipped. The unterminated tail
 * of a rotated file is returned as a line once the file is left.
 */
int follow_next(struct follow *f, const char **line, size_t *len);

/* The position after the last line follow_next returned. May read the
 * file's first bytes (fingerprint) once. */
void follow_position(struct follow *f, struct follow_pos *out);

const char *follow_path(const struct follow *f);
/* The inode being read (0 when waiting for PATH), for an inotify watch. */
uint64_t follow_inode(const struct follow *f);
/* True when PATH is missing and the follower has finished its last file. */
bool follow_waiting(const struct follow *f);

#endif

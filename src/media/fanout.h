/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fanout.h - the fan-out buffer: one stream's recent messages as a log, and
 * its viewers as positions in that log.
 *
 * A message is appended once; a viewer is only a sequence number.  When a
 * viewer's socket can take more, one vectored write sends everything due,
 * the bytes referenced (never copied) from the shared packaged messages.
 * The log keeps the current GOP (so a new viewer starts on the last
 * keyframe at once) and, behind it, only as much as a lagging viewer may
 * still need: messages older than the drop horizon go, and the whole log is
 * capped in bytes.  A viewer that falls more than lag_skip_ms behind skips
 * forward to the newest keyframe; one whose backlog (ours plus the kernel's
 * send queue) passes lag_drop_ms, or whose write stalls past send_timeout_ms,
 * is dropped.  So memory is bounded whatever viewers do, and a slow viewer
 * costs the others nothing.
 */
#ifndef SLUICE_MEDIA_FANOUT_H
#define SLUICE_MEDIA_FANOUT_H

#include <stdint.h>
#include <uv.h>

#include "core/io_stream.h"
#include "core/list.h"
#include "core/sendbatch.h"
#include "media/media_msg.h"

#define FANOUT_BATCH_MAX 64   /* messages (iovecs) per write */

struct fanout_config {
	uint64_t lag_skip_ms;     /* behind this much: skip to the newest keyframe */
	uint64_t lag_drop_ms;     /* backlog this old: disconnect; also the log's horizon */
	uint64_t send_timeout_ms; /* one write taking this long: disconnect */
	uint64_t max_bytes;       /* cap on what the log's messages cost (media_msg_cost) */
	uint64_t max_msgs;        /* cap on messages in the log; 0: none */
	uint32_t batch_bytes;     /* bytes one write may carry */
	int gop_cache;            /* start new viewers on the last keyframe */
	uint64_t merge_ms;        /* 0: send as messages arrive; else at most every merge_ms */
	uint64_t audio_hold_ms;   /* with merge_ms 0: audio waits this long at most for video */
	int batch_sends;          /* one system call for many viewers' writes (io_uring) */
};

struct fanout_batch;

/*
 * Sends for every stream with news once per event-loop turn (after all reads
 * of the turn were handled), so the messages one read delivered go to each
 * viewer in one write; or, with merge_ms, once per merge window, trading
 * latency for far fewer writes.  One per node; fan-outs without one send at
 * once.
 */
struct fanout_flusher {
	uv_check_t check;
	uv_timer_t timer;
	struct list_node dirty;       /* struct fanout with messages not yet sent */
	uint64_t merge_ms;
	uv_timer_t hold_timer;
	struct list_node held;        /* struct fanout holding audio for video, oldest first */
	uint64_t audio_hold_ms;
	struct sendbatch sb;
	struct fanout_batch *slots;   /* SENDBATCH_MAX of them, with batch_sends */
	int closed;
};

void fanout_flusher_init(struct fanout_flusher *fl, uv_loop_t *loop,
                         const struct fanout_config *cfg);
/* Sends what is pending and closes the handles (the struct must outlive the loop run). */
void fanout_flusher_close(struct fanout_flusher *fl);

enum fanout_header { FANOUT_HDR_METADATA, FANOUT_HDR_VIDEO, FANOUT_HDR_AUDIO, FANOUT_HDR_COUNT };

struct fanout {
	uv_loop_t *loop;
	const struct fanout_config *cfg;       /* borrowed */
	struct media_msg **ring;
	uint64_t mask;
	uint64_t first_seq, next_seq;          /* the log is [first_seq, next_seq) */
	uint64_t bytes;                        /* what the log's messages cost (media_msg_cost) */
	uint64_t gop_seq;                      /* newest keyframe, valid when has_gop */
	int has_gop;
	int has_video;
	uint32_t last_ts;
	struct media_msg *hdr[FANOUT_HDR_COUNT];       /* current headers (owned) */
	struct media_msg *prelude[FANOUT_HDR_COUNT];   /* headers restamped for prelude_ts */
	uint32_t prelude_ts;
	int prelude_valid;
	struct list_node viewers;
	uint32_t nviewers[WIRE_COUNT];
	struct fanout_flusher *flusher;        /* NULL: send at once */
	struct list_node dirty_link;
	int dirty;
	struct list_node hold_link;
	int held;
	uint64_t hold_until_ms;
	uint64_t last_video_ms;
	uint64_t rate_bytes_per_sec;           /* payload rate, for backlog estimates */
	uint64_t skips, drops;
};

struct fanout_viewer;

struct fanout_viewer_ops {
	/* The viewer must go (too slow, write failed).  The owner stops and closes it. */
	void (*drop)(struct fanout_viewer *v, const char *reason);
	/* The stream ended.  The owner stops the viewer and says goodbye. */
	void (*end)(struct fanout_viewer *v);
};

struct fanout_viewer {
	/* What a flush reads and writes for every viewer, together (64 bytes). */
	struct list_node link;
	struct fanout *f;                 /* NULL once stopped */
	struct io_stream *sock;           /* borrowed from the owner (plain or TLS) */
	uint64_t *bytes_out;              /* the owner's counter to add sent bytes to */
	uint64_t next_seq;
	uint64_t lag_base_ms;             /* age of the cached GOP it started on; 0 once caught up */
	int fd;                           /* sock's descriptor, for batched sends; -1: none */
	uint8_t wire;                     /* enum wire_format */
	uint8_t wait_key;                 /* send nothing but headers until a keyframe */
	uint8_t need_prelude;
	uint8_t writing;
	/* The rest: a viewer's start, a write libuv finishes, the once-a-second check. */
	const struct fanout_viewer_ops *ops;
	void *owner;
	uint32_t start_ts;
	unsigned nheld;
	uint64_t write_started_ms;
	uint64_t skips;
	uv_write_t req;
	struct media_msg *held[FANOUT_BATCH_MAX + FANOUT_HDR_COUNT + 1];
};

void fanout_init(struct fanout *f, uv_loop_t *loop, const struct fanout_config *cfg);
/* Lets a flusher batch this fan-out's sends (see struct fanout_flusher). */
void fanout_set_flusher(struct fanout *f, struct fanout_flusher *fl);
/* Frees the log; there must be no viewers left. */
void fanout_free(struct fanout *f);

/* Replaces a header (takes the reference to m; NULL clears it). */
void fanout_set_header(struct fanout *f, enum fanout_header which, struct media_msg *m);
/* Appends a message (takes the reference), trims the log, and wakes viewers. */
void fanout_append(struct fanout *f, struct media_msg *m);
/* Calls end() for every viewer. */
void fanout_end(struct fanout *f);
/* Once a second: drops viewers whose backlog or stalled write is over the limits. */
void fanout_tick(struct fanout *f, uint64_t now_ms, uint64_t rate_bytes_per_sec);

/*
 * Starts v at the last keyframe (or the next one).  v is owned by the caller
 * and must stay allocated until its socket's close callback has run (an
 * in-flight write completes or is cancelled first).
 */
void fanout_viewer_start(struct fanout *f, struct fanout_viewer *v, struct io_stream *sock,
                         enum wire_format wire, const struct fanout_viewer_ops *ops,
                         void *owner, uint64_t *bytes_out);
/* Detaches v from its stream (idempotent). */
void fanout_viewer_stop(struct fanout_viewer *v);

#endif

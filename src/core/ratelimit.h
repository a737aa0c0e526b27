/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratelimit.h - admission limits per client address, and a log throttle.
 *
 * An address may hold at most max_conns connections at once and open new
 * ones at most `rate` per second (a token bucket of `burst` tokens), so one
 * host cannot take every slot of the node or make it spend its time
 * accepting.  The global connection limit is conn.c's; this is the share of
 * one address.
 *
 * Keys: an IPv4 address as is; an IPv6 address by its /64 prefix, because a
 * single host commonly owns a whole /64 and could otherwise rotate through
 * it; an IPv4-mapped IPv6 address as the IPv4 address.
 *
 * Memory: an entry exists while its address holds a connection or its
 * bucket is not yet full again.  Idle entries are swept (at most once a
 * second, during admission), so the table holds at most the addresses with
 * connections plus those seen in the last burst/rate seconds.
 */
#ifndef SLUICE_CORE_RATELIMIT_H
#define SLUICE_CORE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/strmap.h"

/* Longest key: an IPv6 /64 prefix as text plus "/64". */
#define IPLIMIT_KEY_MAX 64

struct iplimit {
	uint32_t max_conns;   /* per address at once; 0: no limit */
	uint32_t rate;        /* new connections per second per address; 0: no limit */
	uint32_t burst;       /* bucket size in connections; 0: same as rate */
	struct strmap map;    /* key -> struct iplimit_entry (private) */
	uint64_t last_sweep_ms;
	uint64_t refused_conns; /* refused: address at max_conns */
	uint64_t refused_rate;  /* refused: bucket empty */
};

void iplimit_init(struct iplimit *l, uint32_t max_conns, uint32_t rate, uint32_t burst);
void iplimit_free(struct iplimit *l);

/* The key for a peer given as "1.2.3.4:5", "[2001:db8::1]:5" or a bare address. */
void iplimit_key(const char *peer, char *key, size_t n);

/*
 * Admits one new connection from key at now_ms (a monotonic clock).
 * Returns 0 (counted: call iplimit_release when it closes), SL_ELIMIT when
 * the address already holds max_conns, or SL_EAGAIN when it is opening
 * connections faster than the rate allows.  A refusal uses no token.
 */
int iplimit_admit(struct iplimit *l, const char *key, uint64_t now_ms);
/* The connection admitted for key has closed. */
void iplimit_release(struct iplimit *l, const char *key, uint64_t now_ms);
/* Connections key holds now (0 when unknown). */
uint32_t iplimit_held(const struct iplimit *l, const char *key);

/*
 * A token bucket for one client's own events (an RTMP connection's commands):
 * `rate` a second, `burst` at once.  Zero-initialised it is full.
 */
struct token_bucket {
	uint64_t milli_tokens;
	uint64_t last_ms;
	int started;
};

/* Takes one token at now_ms: 1 when there was one, 0 when the bucket is empty. */
int token_bucket_take(struct token_bucket *b, uint64_t now_ms, uint32_t rate, uint32_t burst);

/*
 * An amount per client address (same keys as iplimit): publishers held,
 * bytes held in partial messages.  An entry exists only while its amount is
 * not zero, so the table holds at most the addresses holding something.
 */
struct ipcount {
	struct strmap map;    /* key -> struct ipcount_entry (private) */
};

void ipcount_init(struct ipcount *t);
void ipcount_free(struct ipcount *t);
/* key's amount now. */
uint64_t ipcount_get(const struct ipcount *t, const char *key);
/* Adds delta (may be negative; the amount never goes under 0); returns the new amount. */
uint64_t ipcount_add(struct ipcount *t, const char *key, int64_t delta);

/*
 * At most per_sec events pass each second; the rest are counted.  Returns 1
 * when this event may be logged, with *suppressed set to the events held
 * back since the last one that passed (then reset); 0 when it must not.
 */
struct log_throttle {
	uint64_t window_start_ms;
	uint32_t in_window;
	uint64_t suppressed;
};

int log_throttle_pass(struct log_throttle *t, uint64_t now_ms, uint32_t per_sec,
                      uint64_t *suppressed);

#endif

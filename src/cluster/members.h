/* SPDX-License-Identifier: Apache-2.0 */
/*
 * members.h - who is in the cluster, learned by gossip over the links
 * between nodes.
 *
 * Every node counts its own heartbeat up once a second and sends its whole
 * table along each link; a receiver keeps a record while its heartbeat keeps
 * rising.  A record that echoes around the links without its owner beating
 * stops rising, so a dead node expires everywhere, whatever the topology.
 * An expired record leaves a tombstone for a while, so echoes still on their
 * way from nodes that have not expired it yet cannot bring it back; a node
 * that restarts starts its heartbeat from the wall clock, above any old one.
 */
#ifndef SLUICE_CLUSTER_MEMBERS_H
#define SLUICE_CLUSTER_MEMBERS_H

#include <stdint.h>

#include "core/bytes.h"
#include "proto/amf0.h"

#define MEMBERS_MAX 256

struct member {
	char name[129];
	char role[12];                   /* origin, edge, relay */
	char host[256];
	int rtmp_port, http_port;
	int private_node;
	uint64_t beat;                   /* its owner's heartbeat count */
	uint64_t seen_ms;                /* local time the beat last rose */
};

struct member_tomb {
	char name[129];
	uint64_t beat;                   /* records at or below this beat stay dead */
	uint64_t until_ms;
};

struct members {
	struct member m[MEMBERS_MAX];    /* m[0] is this node */
	unsigned n;
	uint64_t expire_ms;
	struct member_tomb tombs[MEMBERS_MAX];
	unsigned ntombs;
};

void members_init(struct members *ms, const struct member *self, uint64_t expire_ms);
/* This node's heartbeat; call once a second. */
void members_beat(struct members *ms, uint64_t now_ms);
/* Takes in a record: new names are added, known ones updated if their beat rose.
 * Records about this node itself are ignored. Returns 1 if the table changed. */
int members_merge(struct members *ms, const struct member *in, uint64_t now_ms);
/* Forgets members whose beat has not risen for expire_ms. */
void members_expire(struct members *ms, uint64_t now_ms);
/* The next public node for round-robin (origins that are not private, and edges), or NULL. */
const struct member *members_next_public(const struct members *ms, uint64_t *rr);
const struct member *members_find(const struct members *ms, const char *name);

/* The table as one AMF0 object: {name: {role, host, rtmpPort, httpPort, private, beat}}. */
void members_put_amf(const struct members *ms, struct bytes *amf);
/* Merges every well-formed record of such an object; ignores the rest. */
void members_merge_amf(struct members *ms, const struct amf0_value *obj, uint64_t now_ms);

#endif

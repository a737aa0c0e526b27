/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stun.h - the STUN (RFC 8489, RFC 5389) a WebRTC ICE-lite server needs.
 *
 * Binding requests come from the browser's ICE agent with USERNAME
 * ("ourufrag:theirufrag"), MESSAGE-INTEGRITY keyed with our ice-pwd,
 * FINGERPRINT, PRIORITY, ICE-CONTROLLING and USE-CANDIDATE (RFC 8445); we
 * answer a success with XOR-MAPPED-ADDRESS, integrity and fingerprint, or an
 * error (400, 401, 487).  Parsing is pure and bounded by the datagram: every
 * attribute is checked against the message length, unknown ones skipped,
 * unknown comprehension-required ones reported (420 territory).
 */
#ifndef SLUICE_PROTO_STUN_H
#define SLUICE_PROTO_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN 20
#define STUN_MAGIC 0x2112A442u
#define STUN_TID_LEN 12
#define STUN_MAX_USERNAME 513 /* RFC 8489 14.3: fewer than 513 bytes */
#define STUN_MAX_MSG 1500     /* what we parse or build: one datagram */

#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_INDICATION 0x0011
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR 0x0111

#define STUN_ATTR_MAPPED_ADDRESS 0x0001
#define STUN_ATTR_USERNAME 0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define STUN_ATTR_ERROR_CODE 0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_PRIORITY 0x0024
#define STUN_ATTR_USE_CANDIDATE 0x0025
#define STUN_ATTR_SOFTWARE 0x8022
#define STUN_ATTR_FINGERPRINT 0x8028
#define STUN_ATTR_ICE_CONTROLLED 0x8029
#define STUN_ATTR_ICE_CONTROLLING 0x802A

struct stun_msg {
	uint16_t type;
	uint16_t length;               /* from the header: bytes after it */
	uint8_t tid[STUN_TID_LEN];
	const uint8_t *username;       /* borrowed from the parsed bytes, not NUL-terminated */
	size_t username_len;
	size_t integrity_at;           /* offset of the MESSAGE-INTEGRITY attribute; 0 if absent */
	size_t fingerprint_at;         /* offset of FINGERPRINT; 0 if absent */
	uint32_t priority;
	int has_priority;
	int use_candidate;
	int ice_controlling, ice_controlled;
	uint64_t tiebreaker;
	int error_code;                /* 0 if none */
	struct sockaddr_storage mapped; /* XOR-MAPPED-ADDRESS, if has_mapped */
	int has_mapped;
	uint16_t unknown_required;     /* first comprehension-required attribute not understood; 0 if none */
};

/* 1 when the datagram looks like STUN (RFC 7983 demultiplexing + magic cookie). */
int stun_is_stun(const uint8_t *p, size_t n);

/* Parses one message.  0, or SL_EPROTO for anything malformed. */
int stun_parse(const uint8_t *p, size_t n, struct stun_msg *m);

/* 1 when MESSAGE-INTEGRITY is present and right for key (short-term: the ice-pwd). */
int stun_check_integrity(const uint8_t *p, size_t n, const struct stun_msg *m,
                         const void *key, size_t keylen);
/* 1 when FINGERPRINT is present and right. */
int stun_check_fingerprint(const uint8_t *p, size_t n, const struct stun_msg *m);

/* CRC-32 (ISO-HDLC, as FINGERPRINT uses before its XOR). */
uint32_t stun_crc32(const uint8_t *p, size_t n);

/*
 * Builders write into out (cap bytes) and return the length, or 0 when cap
 * is too small or an argument bad.  key may be NULL for no integrity; every
 * message ends with FINGERPRINT.
 */
size_t stun_build_success(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                          const struct sockaddr *peer, const void *key, size_t keylen);
size_t stun_build_error(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN], int code,
                        const char *reason, const void *key, size_t keylen);
/* A binding request as an ICE agent sends one (for tests and a load client). */
size_t stun_build_request(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                          const char *username, uint32_t priority, int controlling,
                          uint64_t tiebreaker, int use_candidate, const void *key, size_t keylen);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srt_streamid.h - the SRT stream id a caller sends in its handshake, which
 * says what it wants: which stream, publish or play, and its token.
 *
 * Two forms are understood:
 *   #!::r=APP/STREAM,m=publish,t=TOKEN   the SRT Access Control convention
 *   APP/STREAM[?token=TOKEN]             what ffmpeg users type
 * In the convention, m is request (play, the default) or publish; t is the
 * convention's "type" key, whose values stream/file/auth we accept (only
 * stream is served) and any other value is taken as our signed token (so
 * `t=` carries tokens as the issue asks); `token=` works too.  Unknown keys
 * are ignored, as the convention says.  The #!:: form without m= means
 * request, as the convention says; the plain form does not say (mode_set
 * 0): the node decides by whether the caller sends media.  Pure: bytes in, result or error out.
 */
#ifndef SLUICE_PROTO_SRT_STREAMID_H
#define SLUICE_PROTO_SRT_STREAMID_H

#include <stddef.h>

#include "core/name.h"

#define SRT_STREAMID_MAX 512       /* what libsrt allows (SRT_STREAMID_MAX_LENGTH) */
#define SRT_TOKEN_MAX 160

struct srt_streamid {
	char app[STREAM_NAME_MAX + 1];
	char name[STREAM_NAME_MAX + 1];
	int publish;                   /* m=publish; else play */
	int mode_set;                  /* the id said which (m=, or the #!:: form's default) */
	char token[SRT_TOKEN_MAX];     /* "" when none */
};

/*
 * Parses s[0..n).  Returns 0, SL_EPROTO (no resource, not APP/STREAM, a
 * name stream_name_valid() refuses, a key without '=', a token too long),
 * or SL_EUNSUPP (m=bidirectional, t=file or t=auth).
 */
int srt_streamid_parse(const char *s, size_t n, struct srt_streamid *out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* rtp_dts.c - rising decode times from presentation times (see rtp_dts.h). */
#include "proto/rtp_dts.h"

#include <string.h>

void rtp_dts_init(struct rtp_dts *d, unsigned depth)
{
	memset(d, 0, sizeof(*d));
	d->depth = depth > RTP_DTS_MAX_DEPTH ? RTP_DTS_MAX_DEPTH : depth;
}

uint32_t rtp_dts_next(struct rtp_dts *d, uint32_t pts)
{
	if (d->have && (int32_t)(pts - d->last) <= 0 && d->depth < RTP_DTS_MAX_DEPTH)
		d->depth++;            /* shown earlier than depth allows: deeper reordering */
	/* npend <= depth <= RTP_DTS_MAX_DEPTH here: the insert fits. */
	unsigned i = d->npend;
	while (i > 0 && (int32_t)(d->pend[i - 1] - pts) > 0) {
		d->pend[i] = d->pend[i - 1];
		i--;
	}
	d->pend[i] = pts;
	d->npend++;
	uint32_t dts;
	if (d->npend > d->depth) {
		dts = d->pend[0];
		memmove(d->pend, d->pend + 1, (d->npend - 1) * sizeof(d->pend[0]));
		d->npend--;
	} else {
		/* The first frames, or just after depth grew: a millisecond apart. */
		dts = d->have ? d->last + 1 : (pts > d->depth ? pts - d->depth : 0);
	}
	if (d->have && (int32_t)(dts - d->last) <= 0)
		dts = d->last + 1;
	d->have = 1;
	d->last = dts;
	return dts;
}

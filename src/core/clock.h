/* SPDX-License-Identifier: Apache-2.0 */
/* clock.h - monotonic and wall time in milliseconds. */
#ifndef SLUICE_CORE_CLOCK_H
#define SLUICE_CORE_CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ms(void);
uint64_t clock_mono_us(void);
uint64_t clock_wall_ms(void);

#endif

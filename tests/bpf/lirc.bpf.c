// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A lirc_mode2 program, which decodes a lirc device's raw infrared
 * samples: it lets every sample through. Kernels without
 * CONFIG_BPF_LIRC_MODE2 do not load it. */
#include "common.h"

SEC("lirc_mode2")
int decode(unsigned int *sample)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

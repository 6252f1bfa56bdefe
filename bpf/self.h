/* self.h: the prctl option self.bpf.c watches for; no prctl has it, so the call fails with EINVAL. */
#ifndef EBPF_FORWARD_SELF_H
#define EBPF_FORWARD_SELF_H

#define SELF_PRCTL_OPTION 0x65626678 /* "ebfx" */

#endif

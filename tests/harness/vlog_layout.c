/* Compile-time check that src/ffi/shim.c's restated OVS declarations match
 * the OVS headers in use (built by scripts/test-stages/harness.sh with
 * OVS_CFLAGS; compiling is the test).  shim.c asserts the same numbers on
 * its own copy of struct vlog_module. */
#include <config.h>

#include <stddef.h>

#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"

#if defined(__LP64__)
_Static_assert(sizeof(struct vlog_module) == 48, "struct vlog_module size");
_Static_assert(offsetof(struct vlog_module, list) == 0, "list");
_Static_assert(offsetof(struct vlog_module, name) == 16, "name");
_Static_assert(offsetof(struct vlog_module, levels) == 24, "levels");
_Static_assert(offsetof(struct vlog_module, min_level) == 36, "min_level");
_Static_assert(offsetof(struct vlog_module, honor_rate_limits) == 40,
               "honor_rate_limits");
#endif
_Static_assert(VLF_N_DESTINATIONS == 3, "destinations");
_Static_assert(VLL_OFF == 0 && VLL_EMER == 1 && VLL_ERR == 2
               && VLL_WARN == 3 && VLL_INFO == 4 && VLL_DBG == 5,
               "enum vlog_level");
_Static_assert(sizeof(enum vlog_level) == sizeof(int), "enum as int");

/* The prototypes shim.c declares weakly (a mismatch fails to compile). */
void vlog_insert_module(struct ovs_list *);
void vlog(const struct vlog_module *, enum vlog_level, const char *, ...);
void unixctl_command_register(const char *, const char *, int, int,
                              unixctl_cb_func *, void *);
void unixctl_command_reply(struct unixctl_conn *, const char *);
void unixctl_command_reply_error(struct unixctl_conn *, const char *);
void poll_fd_wait_at(int, short int, const char *);
void poll_timer_wait_at(long long int, const char *);

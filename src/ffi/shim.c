/* ovn-vif-rs: the C side of hosting inside an OVS process (ovn-controller).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Compiled by build.rs and linked into the library.  Rust cannot declare a
 * weak undefined symbol on stable, so the few OVS functions the provider
 * uses are declared here with __attribute__((weak)):
 *
 *   vlog_insert_module, vlog                     (src/ffi/vlog.rs)
 *   unixctl_command_register,
 *   unixctl_command_reply, unixctl_command_reply_error  (src/ffi/unixctl.rs)
 *   poll_fd_wait_at, poll_timer_wait_at          (src/ffi/poll.rs)
 *
 * Why real references and not dlsym(RTLD_DEFAULT): ovn-controller is linked
 * without -rdynamic, and ld exports from an executable only the symbols that
 * a shared library on its link line references.  A weak undefined reference
 * is still a reference (the executable exports the OVS definition), but a
 * host without OVS (the C dlopen test, the CLI, `cargo test`) loads the
 * library fine: the symbols resolve to NULL, which every function here
 * checks.  See docs/hosting.md.
 *
 * The Rust declarations of this file's functions are in src/ffi/shim.rs.
 * Nothing here is exported from the .so (rustc exports only #[no_mangle] pub Rust items).
 * Never link libopenvswitch into the library: that would be a second copy
 * of OVS's global state (module list, poll loop, unixctl commands). */

#include <stdbool.h>
#include <stddef.h>

/* ---- OVS declarations, restated (layout checked below). ---- */

/* include/openvswitch/list.h */
struct ovs_list {
    struct ovs_list *prev;
    struct ovs_list *next;
};

/* include/openvswitch/vlog.h: enum vlog_level (VLOG_LEVELS order). */
enum {
    SHIM_VLL_OFF,
    SHIM_VLL_EMER,
    SHIM_VLL_ERR,
    SHIM_VLL_WARN,
    SHIM_VLL_INFO,
    SHIM_VLL_DBG,
};

/* enum vlog_destination: SYSLOG, CONSOLE, FILE. */
#define SHIM_VLF_N_DESTINATIONS 3

/* struct vlog_module, identical in OVS 3.1 and 3.7 (48 bytes on LP64). */
struct vlog_module {
    struct ovs_list list;
    const char *name;
    int levels[SHIM_VLF_N_DESTINATIONS];
    int min_level;
    bool honor_rate_limits;
};

#if defined(__LP64__)
_Static_assert(sizeof(struct vlog_module) == 48, "struct vlog_module size");
_Static_assert(offsetof(struct vlog_module, name) == 16, "vlog_module.name");
_Static_assert(offsetof(struct vlog_module, levels) == 24,
               "vlog_module.levels");
_Static_assert(offsetof(struct vlog_module, min_level) == 36,
               "vlog_module.min_level");
_Static_assert(offsetof(struct vlog_module, honor_rate_limits) == 40,
               "vlog_module.honor_rate_limits");
#endif

struct unixctl_conn;
typedef void unixctl_cb_func(struct unixctl_conn *, int argc,
                             const char *argv[], void *aux);

/* The weak references.  `enum vlog_level` parameters are passed as int
 * (same ABI: the enum's values fit an int). */
extern void vlog_insert_module(struct ovs_list *) __attribute__((weak));
extern void vlog(const struct vlog_module *, int level, const char *format,
                 ...) __attribute__((weak, format(printf, 3, 4)));
extern void unixctl_command_register(const char *name, const char *usage,
                                     int min_args, int max_args,
                                     unixctl_cb_func *cb, void *aux)
    __attribute__((weak));
extern void unixctl_command_reply(struct unixctl_conn *, const char *body)
    __attribute__((weak));
extern void unixctl_command_reply_error(struct unixctl_conn *,
                                        const char *error)
    __attribute__((weak));
extern void poll_fd_wait_at(int fd, short int events, const char *where)
    __attribute__((weak));
extern void poll_timer_wait_at(long long int msec, const char *where)
    __attribute__((weak));

/* ---- vlog ---- */

/* What VLOG_DEFINE_THIS_MODULE(vif_plug_representor) would define.  Not
 * const: OVS writes the levels (vlog/set, -v). */
static struct vlog_module module = {
    { &module.list, &module.list },
    "vif_plug_representor",
    { SHIM_VLL_INFO, SHIM_VLL_INFO, SHIM_VLL_INFO },
    SHIM_VLL_INFO,
    true,
};
static bool module_registered;

/* Load time, like VLOG_DEFINE_THIS_MODULE's constructor: registered before
 * the host's main() parses -v/--verbose, so command-line settings (which
 * only reach registered modules) apply to this module too.  Runs before the
 * executable's own constructors (a dependency is initialised first); OVS's
 * module list and its mutex are statically initialised, so that is safe. */
__attribute__((constructor)) static void
ovn_vif_rs_shim_register_module(void)
{
    if (vlog_insert_module && vlog) {
        vlog_insert_module(&module.list);
        module_registered = true;
    }
}

/* Whether log lines go to OVS vlog (the host exports vlog). */
bool
ovn_vif_rs_shim_vlog_hosted(void)
{
    return module_registered;
}

/* The module's most verbose enabled level over all destinations (VLL_*),
 * as the VLOG() macros test it before formatting; VLL_OFF when unhosted. */
int
ovn_vif_rs_shim_vlog_min_level(void)
{
    return module_registered ? module.min_level : SHIM_VLL_OFF;
}

/* Logs one already formatted line (no rate limit here: the provider
 * rate-limits its repeated lines itself). */
void
ovn_vif_rs_shim_vlog(int level, const char *msg)
{
    if (module_registered) {
        vlog(&module, level, "%s", msg);
    }
}

/* ---- unixctl ---- */

bool
ovn_vif_rs_shim_unixctl_available(void)
{
    return unixctl_command_register && unixctl_command_reply
           && unixctl_command_reply_error;
}

/* Registers a command; false if the host has no unixctl. */
bool
ovn_vif_rs_shim_unixctl_register(const char *name, const char *usage,
                                 int min_args, int max_args,
                                 unixctl_cb_func *cb)
{
    if (!ovn_vif_rs_shim_unixctl_available()) {
        return false;
    }
    unixctl_command_register(name, usage, min_args, max_args, cb, NULL);
    return true;
}

void
ovn_vif_rs_shim_unixctl_reply(struct unixctl_conn *conn, bool ok,
                              const char *body)
{
    if (!ovn_vif_rs_shim_unixctl_available()) {
        return;
    }
    if (ok) {
        unixctl_command_reply(conn, body);
    } else {
        unixctl_command_reply_error(conn, body);
    }
}

/* ---- poll loop ---- */

bool
ovn_vif_rs_shim_poll_available(void)
{
    return poll_fd_wait_at != NULL;
}

/* poll_fd_wait_at(fd, events, where); false if the host has no poll loop. */
bool
ovn_vif_rs_shim_poll_fd_wait(int fd, short int events, const char *where)
{
    if (!poll_fd_wait_at) {
        return false;
    }
    poll_fd_wait_at(fd, events, where);
    return true;
}

/* poll_timer_wait_at(msec, where): wake the next poll_block() after at most
 * 'msec' ms; false if the host has no poll loop. */
bool
ovn_vif_rs_shim_poll_timer_wait(long long int msec, const char *where)
{
    if (!poll_timer_wait_at) {
        return false;
    }
    poll_timer_wait_at(msec, where);
    return true;
}

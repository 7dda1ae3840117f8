/* vif_plug_host: hosts a VIF plug provider shared library the way
 * ovn-controller (OVN v26.03.2) does, and drives it from a script.
 *
 * What is mirrored from OVN (lib/vif-plug-provider.c, controller/vif-plug.c):
 *   - registration: walk the NULL-terminated vif_plug_provider_classes[],
 *     refuse duplicate types, call init() first, keep an xmalloc()ed copy
 *     of each class in an shash keyed by type; run() gets that copy;
 *     destroy() is called on unregister, then the copy is freed.
 *   - CREATE: a fresh heap ctx per attempt, lport_options = smap_clone() of
 *     the Port_Binding options, iface_* unset, ctx_out->iface_options
 *     smap_init()ed; prepare(); on false the ctx is freed without
 *     ctx_destroy; on true: finish() if the OVSDB transaction committed,
 *     then always ctx_destroy(), then the host frees its ctx.
 *     A name different from the one already plugged for the lport is
 *     refused ("Attempt of incompatible change ..."), with ctx_destroy().
 *     A name already plugged for another lport is taken over (OVN finds
 *     the Interface by name and rewrites its iface-id).
 *   - REMOVE: ctx_in carries the lport name (and options when the
 *     Port_Binding still exists) plus the existing Interface's name, type
 *     and options; prepare(ctx_in, NULL); on true finish(ctx_in, NULL)
 *     after commit.  ctx_destroy() is never called for REMOVE.
 *   - OVS vlog (-v, --log-file), poll loop and a unixctl server
 *     (--unixctl=PATH), so `ovs-appctl -t PATH` reaches the provider's own
 *     commands and vlog/set.
 *
 * Script commands (one per line or one per argv word-group; '#' comments):
 *   plug LPORT [OPTS]          The LSP is requested on this chassis: it is
 *                              remembered (re-evaluated by every main-loop
 *                              iteration) and evaluated once right away:
 *                              prepare/finish/ctx_destroy for CREATE.
 *                              OPTS = key=value,key=value ('-' = none);
 *                              vif-plug-type selects the class, as in OVN.
 *                              Prints PLUG|UPDATE LPORT NAME [type=..]
 *                              [options=..] [mtu=..] [takeover=LPORT],
 *                              DECLINE LPORT, INCOMPATIBLE LPORT OLD NEW,
 *                              IGNORE LPORT (no vif-plug-type) or
 *                              NOPROVIDER LPORT TYPE.
 *   plug-txn-fail LPORT [OPTS] same, but the transaction "fails": no finish.
 *   unplug LPORT [OPTS]        The LSP is no longer requested here; then
 *                              REMOVE for a plugged lport (OPTS given: the
 *                              Port_Binding still exists, e.g. moved to
 *                              another chassis; none: it was deleted).
 *                              Prints UNPLUG LPORT NAME, KEEP LPORT NAME or
 *                              NOTPLUGGED LPORT.
 *   unplug-txn-fail LPORT [OPTS]  same, without finish (port stays).
 *   list                       PLUGGED LPORT NAME, one per plugged lport.
 *   maintained                 MAINTAINED TYPE opt,opt (sorted) per class.
 *   run                        run() of every class: RUN true|false
 *                              (RUN skipped (host stock) in stock mode).
 *   host stock|patched         stock: like OVN v26.03.2's ovn-controller,
 *                              never call run() (also --stock); patched
 *                              (default): call run() every iteration, as
 *                              with ovn-patch.
 *   loop MS                    main loop for MS ms: each iteration calls
 *                              run(), then (like vif_plug_run()) re-plugs
 *                              every wanted lport and retries the unplug of
 *                              unwanted plugged ones, serves unixctl, then
 *                              poll_block() (wakes on fds/timers the
 *                              provider registered).  Prints the outcome
 *                              lines that changed (steady UPDATEs are not
 *                              printed), then LOOP changed=true|false.
 *   wakeups MS MAX             main loop for MS ms, counting iterations
 *                              (poll_block() returns): WAKEUPS <= MAX, or
 *                              WAKEUPS N > MAX (a provider that registers a
 *                              readable, undrained descriptor spins the
 *                              loop: hundreds of thousands).  The count
 *                              goes to the log.
 *   wait-changed MS            loop until a run() returns true: CHANGED or
 *                              UNCHANGED (after MS ms).
 *   wait-plugged LPORT MS      loop until LPORT is plugged: PLUGGED LPORT
 *                              NAME or TIMEOUT LPORT.  The wait time is
 *                              logged.
 *   reconcile on|off           whether loops re-evaluate lports (default on).
 *   cycles N LPORT [OPTS]      N CREATE prepare/finish/ctx_destroy cycles
 *                              (no table update): CYCLES N plug=P
 *                              decline=D name=NAME|mixed|-; the time per
 *                              cycle goes to the log (stderr).
 *   reinit N                   N unregister(destroy)/register(init) rounds:
 *                              REINIT N ok | REINIT failed ...
 *   register | unregister      (re)register or destroy all classes,
 *                              printing REGISTER/DESTROY TYPE [error].
 *   serve                      serve unixctl until `ovs-appctl exit` (or
 *                              vif-plug-host/cmd exit).
 *   sleep MS | echo TEXT | shell CMD | setenv NAME VALUE | unsetenv NAME
 *   exit                       stop the script.
 *
 * unixctl commands added: exit, vif-plug-host/cmd "COMMAND ...",
 * vif-plug-host/list.
 *
 * Exit status: 0 if every command was valid and no contract violation was
 * seen, 1 otherwise (ERROR lines are printed), 2 on usage errors. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "command-line.h"
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "openvswitch/util.h"
#include "smap.h"
#include "sset.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

#include "vif_plug_abi.h"

VLOG_DEFINE_THIS_MODULE(vif_plug_host);

#define VIF_PLUG_OPTION_TYPE "vif-plug-type"
#define VIF_PLUG_OPTION_MTU_REQUEST "vif-plug-mtu-request"

/* Registered classes: type -> xmalloc()ed copy (as OVN). */
static struct shash vif_plug_classes = SHASH_INITIALIZER(&vif_plug_classes);

/* What OVSDB would hold for ports we plugged: lport -> struct plugged. */
struct plugged {
    char *lport;
    char *plug_type;            /* external_ids:ovn-plugged */
    char *name;                 /* Interface name */
    char *type;                 /* Interface type ("" = system) */
    struct smap iface_options;  /* Interface options */
    /* After an 'unplug' that did not complete (KEEP or failed txn): whether
     * the Port_Binding still exists, and its options, for the retries. */
    bool pb_exists;
    struct smap pb_options;
};
static struct shash plugged_ports = SHASH_INITIALIZER(&plugged_ports);

/* What the Southbound database asks of this chassis: lport -> struct smap *
 * (Port_Binding options) for lports whose requested-chassis is here.  Like
 * ovn-controller's vif_plug_run(), every main-loop iteration re-evaluates
 * all of them (prepare/finish/ctx_destroy, UPDATE when already plugged) and
 * retries the unplug of plugged ports that are no longer wanted. */
static struct shash wanted_ports = SHASH_INITIALIZER(&wanted_ports);
static bool reconcile = true;

/* Last outcome line per lport, to print only changes from main loops. */
static struct shash last_outcome = SHASH_INITIALIZER(&last_outcome);

static struct unixctl_server *unixctl;
static bool exiting;            /* 'exit' via unixctl. */
/* Whether the host calls the providers' run().  Stock ovn-controller (OVN
 * v26.03.2 and main) never calls vif_plug_provider_run_all(); ovn-patch
 * adds the call once per main-loop iteration.  --stock clears this. */
static bool provider_run = true;
static bool busy;               /* Executing a command (no nesting). */
static int n_errors;

static bool run_command(const char *line, struct ds *out);

static void
error_line(struct ds *out, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);

static void
error_line(struct ds *out, const char *format, ...)
{
    va_list args;

    n_errors++;
    ds_put_cstr(out, "ERROR ");
    va_start(args, format);
    ds_put_format_valist(out, format, args);
    va_end(args);
    ds_put_char(out, '\n');
}

/* ---- Class registry (mirrors lib/vif-plug-provider.c). ---- */

static int
class_register(const struct vif_plug_class *new_class, struct ds *out)
{
    if (shash_find(&vif_plug_classes, new_class->type)) {
        VLOG_WARN("attempted to register duplicate VIF plug provider: %s",
                  new_class->type);
        if (out) {
            ds_put_format(out, "REGISTER %s duplicate\n", new_class->type);
        }
        return EEXIST;
    }

    int error = new_class->init ? new_class->init() : 0;
    if (error) {
        VLOG_WARN("failed to initialize %s VIF plug provider class: %s",
                  new_class->type, ovs_strerror(error));
        if (out) {
            ds_put_format(out, "REGISTER %s init failed: %s\n",
                          new_class->type, ovs_strerror(error));
        }
        return error;
    }

    struct vif_plug_class *copy = xmalloc(sizeof *copy);
    memcpy(copy, new_class, sizeof *copy);
    shash_add(&vif_plug_classes, new_class->type, copy);
    if (out) {
        ds_put_format(out, "REGISTER %s\n", new_class->type);
    }
    return 0;
}

static int
register_all(struct ds *out)
{
    int n = 0;
    int first_error = 0;

    /* NULL-terminated: ARRAY_SIZE cannot be used on the extern array. */
    for (const struct vif_plug_class **pp = vif_plug_provider_classes;
         pp && *pp; pp++) {
        int error = class_register(*pp, out);
        if (error && !first_error) {
            first_error = error;
        }
        n++;
    }
    if (!n && out) {
        ds_put_cstr(out, "REGISTER none (empty vif_plug_provider_classes)\n");
    }
    return first_error;
}

static int
class_unregister(const char *type, struct ds *out)
{
    struct shash_node *node = shash_find(&vif_plug_classes, type);
    if (!node) {
        return EINVAL;
    }

    struct vif_plug_class *class = node->data;
    int error = class->destroy ? class->destroy() : 0;
    if (error) {
        VLOG_WARN("failed to destroy %s VIF plug class: %s",
                  class->type, ovs_strerror(error));
        if (out) {
            ds_put_format(out, "DESTROY %s failed: %s\n", class->type,
                          ovs_strerror(error));
        }
        /* OVN keeps the class registered in that case. */
        return error;
    }
    if (out) {
        ds_put_format(out, "DESTROY %s\n", class->type);
    }
    shash_delete(&vif_plug_classes, node);
    free(class);
    return 0;
}

static int
unregister_all(struct ds *out)
{
    struct shash_node *node;
    int first_error = 0;

    SHASH_FOR_EACH_SAFE (node, &vif_plug_classes) {
        struct vif_plug_class *class = node->data;
        int error = class_unregister(class->type, out);
        if (error && !first_error) {
            first_error = error;
        }
    }
    return first_error;
}

static bool
run_all(void)
{
    struct shash_node *node;
    bool changed = false;

    if (!provider_run) {
        return false;
    }

    SHASH_FOR_EACH_SAFE (node, &vif_plug_classes) {
        struct vif_plug_class *class = node->data;
        if (class->run && class->run(class)) {
            changed = true;
        }
    }
    return changed;
}

/* ---- Port contexts (mirrors controller/vif-plug.c). ---- */

static struct vif_plug_port_ctx *
build_port_ctx(const struct vif_plug_class *class, enum vif_plug_op_type op,
               const char *lport, const struct smap *pb_options,
               const struct plugged *iface)
{
    struct vif_plug_port_ctx *ctx = xzalloc(sizeof *ctx);

    ctx->vif_plug = class;
    ctx->vif_plug_port_ctx_in.op_type = op;
    ctx->vif_plug_port_ctx_in.ovs_table = NULL;
    ctx->vif_plug_port_ctx_in.br_int = NULL;
    ctx->vif_plug_port_ctx_in.lport_name = xstrdup(lport);
    smap_init(&ctx->vif_plug_port_ctx_in.lport_options);
    smap_init(&ctx->vif_plug_port_ctx_in.iface_options);
    if (pb_options) {
        smap_clone(&ctx->vif_plug_port_ctx_in.lport_options, pb_options);
    }
    if (iface) {
        ctx->vif_plug_port_ctx_in.iface_name = xstrdup(iface->name);
        ctx->vif_plug_port_ctx_in.iface_type = xstrdup(iface->type);
        smap_clone(&ctx->vif_plug_port_ctx_in.iface_options,
                   &iface->iface_options);
    }
    /* Data put into ctx_out is the provider's to free in ctx_destroy. */
    smap_init(&ctx->vif_plug_port_ctx_out.iface_options);
    return ctx;
}

static void
destroy_port_ctx(struct vif_plug_port_ctx *ctx)
{
    smap_destroy(&ctx->vif_plug_port_ctx_in.lport_options);
    smap_destroy(&ctx->vif_plug_port_ctx_in.iface_options);
    free(CONST_CAST(char *, ctx->vif_plug_port_ctx_in.lport_name));
    free(CONST_CAST(char *, ctx->vif_plug_port_ctx_in.iface_name));
    free(CONST_CAST(char *, ctx->vif_plug_port_ctx_in.iface_type));
    free(ctx);
}

static void
plugged_destroy(struct plugged *p)
{
    if (p) {
        free(p->lport);
        free(p->plug_type);
        free(p->name);
        free(p->type);
        smap_destroy(&p->iface_options);
        smap_destroy(&p->pb_options);
        free(p);
    }
}

static void
set_last_outcome(const char *lport, const char *line)
{
    free(shash_replace(&last_outcome, lport, xstrdup(line)));
}

static void
set_wanted(const char *lport, const struct smap *options)
{
    struct smap *copy = NULL;
    if (options) {
        copy = xmalloc(sizeof *copy);
        smap_clone(copy, options);
    }
    struct smap *old = copy ? shash_replace(&wanted_ports, lport, copy)
                            : shash_find_and_delete(&wanted_ports, lport);
    if (old) {
        smap_destroy(old);
        free(old);
    }
}

static struct plugged *
plugged_find_by_name(const char *name)
{
    struct shash_node *node;

    SHASH_FOR_EACH (node, &plugged_ports) {
        struct plugged *p = node->data;
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

static void
put_smap(struct ds *out, const struct smap *smap)
{
    const struct smap_node **nodes = smap_sort(smap);
    for (size_t i = 0; i < smap_count(smap); i++) {
        ds_put_format(out, "%s%s=%s", i ? "," : "", nodes[i]->key,
                      nodes[i]->value);
    }
    free(nodes);
}

/* Parses "k=v,k=v" ("-" or NULL: empty) into 'smap'. */
static bool
parse_options(const char *s, struct smap *smap, struct ds *out)
{
    smap_init(smap);
    if (!s || !strcmp(s, "-")) {
        return true;
    }

    char *copy = xstrdup(s);
    char *save = NULL;
    bool ok = true;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok) {
            error_line(out, "bad option '%s' (want key=value)", tok);
            ok = false;
            break;
        }
        *eq = '\0';
        smap_replace(smap, tok, eq + 1);
    }
    free(copy);
    if (!ok) {
        smap_destroy(smap);
    }
    return ok;
}

static void
do_plug(const char *lport, const struct smap *pb_options, bool txn_ok,
        struct ds *out)
{
    const char *plug_type = smap_get(pb_options, VIF_PLUG_OPTION_TYPE);
    if (!plug_type) {
        /* OVN: nothing to do for lports without vif-plug-type. */
        ds_put_format(out, "IGNORE %s\n", lport);
        return;
    }
    const struct vif_plug_class *class = shash_find_data(&vif_plug_classes,
                                                         plug_type);
    if (!class) {
        VLOG_WARN("Unable to open VIF plug provider for %s: '%s' lport %s",
                  VIF_PLUG_OPTION_TYPE, plug_type, lport);
        ds_put_format(out, "NOPROVIDER %s %s\n", lport, plug_type);
        return;
    }

    struct vif_plug_port_ctx *ctx = build_port_ctx(class, PLUG_OP_CREATE,
                                                   lport, pb_options, NULL);
    struct vif_plug_port_ctx_in *in = &ctx->vif_plug_port_ctx_in;
    struct vif_plug_port_ctx_out *o = &ctx->vif_plug_port_ctx_out;

    bool ok = class->vif_plug_port_prepare(in, o);
    if (!smap_equal(&in->lport_options, pb_options)) {
        error_line(out, "contract: prepare modified ctx_in->lport_options "
                   "of %s", lport);
    }
    if (!ok) {
        /* Stock OVN v26.03.2 goes on to dereference the NULL ctx here
         * (consider_plug_lport); ovn-patch adds the check. */
        if (!provider_run) {
            VLOG_WARN("prepare declined lport %s: stock ovn-controller "
                      "would crash here (NULL vif_plug_port_ctx)", lport);
        }
        VLOG_INFO("Not plugging/updating lport %s on direction from VIF "
                  "plug provider.", lport);
        ds_put_format(out, "DECLINE %s\n", lport);
        destroy_port_ctx(ctx);
        return;
    }
    if (!o->name || !o->name[0]) {
        error_line(out, "contract: prepare returned true for %s with %s "
                   "ctx_out->name", lport, o->name ? "an empty" : "a NULL");
        class->vif_plug_port_ctx_destroy(in, o);
        destroy_port_ctx(ctx);
        return;
    }

    struct plugged *mine = shash_find_data(&plugged_ports, lport);
    struct plugged *other = mine ? NULL : plugged_find_by_name(o->name);
    if (mine && strcmp(mine->name, o->name)) {
        VLOG_WARN("Attempt of incompatible change to existing port "
                  "detected, please recreate port: %s", lport);
        ds_put_format(out, "INCOMPATIBLE %s %s %s\n", lport, mine->name,
                      o->name);
        class->vif_plug_port_ctx_destroy(in, o);
        destroy_port_ctx(ctx);
        return;
    }

    ds_put_format(out, "%s %s %s", mine ? "UPDATE" : "PLUG", lport, o->name);
    if (o->type && o->type[0]) {
        ds_put_format(out, " type=%s", o->type);
    }
    if (!smap_is_empty(&o->iface_options)) {
        ds_put_cstr(out, " options=");
        put_smap(out, &o->iface_options);
    }
    int mtu = smap_get_int(pb_options, VIF_PLUG_OPTION_MTU_REQUEST, 0);
    if (mtu) {
        ds_put_format(out, " mtu=%d", mtu);
    }
    if (other) {
        ds_put_format(out, " takeover=%s", other->lport);
    }
    if (!txn_ok) {
        ds_put_cstr(out, " txn=failed");
    }
    ds_put_char(out, '\n');

    if (txn_ok) {
        /* What the committed transaction leaves in OVSDB. */
        if (other) {
            shash_find_and_delete(&plugged_ports, other->lport);
            plugged_destroy(other);
        }
        if (!mine) {
            mine = xzalloc(sizeof *mine);
            mine->lport = xstrdup(lport);
            smap_init(&mine->iface_options);
            smap_init(&mine->pb_options);
            shash_add(&plugged_ports, lport, mine);
        }
        free(mine->plug_type);
        free(mine->name);
        free(mine->type);
        mine->plug_type = xstrdup(plug_type);
        mine->name = xstrdup(o->name);
        mine->type = xstrdup(o->type ? o->type : "");
        smap_destroy(&mine->iface_options);
        smap_clone(&mine->iface_options, &o->iface_options);

        class->vif_plug_port_finish(in, o);
    }
    /* ctx_out belongs to the provider: always handed back. */
    class->vif_plug_port_ctx_destroy(in, o);
    destroy_port_ctx(ctx);
}

static void
do_unplug(const char *lport, const struct smap *pb_options, bool txn_ok,
          struct ds *out)
{
    struct plugged *p = shash_find_data(&plugged_ports, lport);
    if (!p) {
        ds_put_format(out, "NOTPLUGGED %s\n", lport);
        return;
    }
    const struct vif_plug_class *class = shash_find_data(&vif_plug_classes,
                                                         p->plug_type);
    if (!class) {
        VLOG_WARN("Unable to open VIF plug provider for %s %s iface-id %s",
                  VIF_PLUG_OPTION_TYPE, p->plug_type, lport);
        ds_put_format(out, "NOPROVIDER %s %s\n", lport, p->plug_type);
        return;
    }

    struct vif_plug_port_ctx *ctx = build_port_ctx(class, PLUG_OP_REMOVE,
                                                   lport, pb_options, p);
    struct vif_plug_port_ctx_in *in = &ctx->vif_plug_port_ctx_in;

    if (!class->vif_plug_port_prepare(in, NULL)) {
        VLOG_INFO("Not unplugging iface %s (iface-id %s) on direction "
                  "from VIF plug provider.", p->name, lport);
        ds_put_format(out, "KEEP %s %s\n", lport, p->name);
        destroy_port_ctx(ctx);
        return;
    }
    ds_put_format(out, "UNPLUG %s %s%s\n", lport, p->name,
                  txn_ok ? "" : " txn=failed");
    if (txn_ok) {
        shash_find_and_delete(&plugged_ports, lport);
        plugged_destroy(p);
        class->vif_plug_port_finish(in, NULL);
    }
    /* No ctx_destroy for REMOVE: there is no ctx_out. */
    destroy_port_ctx(ctx);
}

static void
do_cycles(long long n, const char *lport, const struct smap *pb_options,
          struct ds *out)
{
    const char *plug_type = smap_get(pb_options, VIF_PLUG_OPTION_TYPE);
    const struct vif_plug_class *class
        = plug_type ? shash_find_data(&vif_plug_classes, plug_type) : NULL;
    if (!class) {
        error_line(out, "cycles: no provider for %s=%s", VIF_PLUG_OPTION_TYPE,
                   plug_type ? plug_type : "(unset)");
        return;
    }

    long long n_plug = 0, n_decline = 0;
    char *name = NULL;
    bool mixed = false;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long long i = 0; i < n; i++) {
        struct vif_plug_port_ctx *ctx = build_port_ctx(class, PLUG_OP_CREATE,
                                                       lport, pb_options,
                                                       NULL);
        struct vif_plug_port_ctx_in *in = &ctx->vif_plug_port_ctx_in;
        struct vif_plug_port_ctx_out *o = &ctx->vif_plug_port_ctx_out;
        if (class->vif_plug_port_prepare(in, o)) {
            n_plug++;
            if (!o->name) {
                mixed = true;
            } else if (!name) {
                name = xstrdup(o->name);
            } else if (strcmp(name, o->name)) {
                mixed = true;
            }
            class->vif_plug_port_finish(in, o);
            class->vif_plug_port_ctx_destroy(in, o);
        } else {
            n_decline++;
        }
        destroy_port_ctx(ctx);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
    VLOG_INFO("cycles: %lld prepare/finish/ctx_destroy cycles for %s in "
              "%.3f ms (%.0f ns/cycle)", n, lport, ns / 1e6,
              n ? ns / n : 0.0);
    ds_put_format(out, "CYCLES %lld plug=%lld decline=%lld name=%s\n", n,
                  n_plug, n_decline,
                  mixed ? "mixed" : name ? name : "-");
    free(name);
}

/* One main-loop iteration's worth of waiting, like ovn-controller's. */
static void
loop_wait(long long int deadline)
{
    if (unixctl) {
        unixctl_server_wait(unixctl);
    }
    if (deadline != LLONG_MAX) {
        poll_timer_wait_until(deadline);
    }
    poll_block();
}

/* Appends 'line' (one outcome for 'lport') to 'events' unless it is the
 * steady state: the same as the last outcome, or an UPDATE that repeats the
 * last PLUG/UPDATE.  Each distinct line is appended once per main loop. */
static void
note_event(const char *lport, const char *line, struct sset *seen,
           struct ds *events)
{
    const char *last = shash_find_data(&last_outcome, lport);
    if (last) {
        const char *rest = strchr(line, ' ');
        const char *last_rest = strchr(last, ' ');
        if (!strcmp(line, last)
            || (!strncmp(line, "UPDATE ", 7)
                && (!strncmp(last, "PLUG ", 5) || !strncmp(last, "UPDATE ", 7))
                && rest && last_rest && !strcmp(rest, last_rest))) {
            return;
        }
    }
    set_last_outcome(lport, line);
    if (sset_add(seen, line)) {
        ds_put_cstr(events, line);
    }
}

/* One pass of ovn-controller's vif_plug_run(): every wanted lport is
 * considered for plugging, every plugged but unwanted one for unplugging. */
static void
reconcile_all(struct sset *seen, struct ds *events)
{
    const struct shash_node **nodes = shash_sort(&wanted_ports);
    size_t n = shash_count(&wanted_ports);
    struct ds line = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < n; i++) {
        ds_clear(&line);
        do_plug(nodes[i]->name, nodes[i]->data, true, &line);
        note_event(nodes[i]->name, ds_cstr(&line), seen, events);
    }
    free(nodes);

    nodes = shash_sort(&plugged_ports);
    n = shash_count(&plugged_ports);
    struct svec unwanted = SVEC_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        if (!shash_find(&wanted_ports, nodes[i]->name)) {
            svec_add(&unwanted, nodes[i]->name);
        }
    }
    free(nodes);
    for (size_t i = 0; i < unwanted.n; i++) {
        struct plugged *p = shash_find_data(&plugged_ports, unwanted.names[i]);
        if (p) {
            ds_clear(&line);
            do_unplug(unwanted.names[i], p->pb_exists ? &p->pb_options : NULL,
                      true, &line);
            note_event(unwanted.names[i], ds_cstr(&line), seen, events);
        }
    }
    svec_destroy(&unwanted);
    ds_destroy(&line);
}

/* Runs main-loop iterations until 'deadline' (LLONG_MAX: until 'exit'),
 * or until run() reports a change if 'stop_on_change', or until
 * 'until_lport' is plugged.  Each iteration: run() of the providers (unless
 * host stock), the vif_plug_run() pass (unless reconcile off), unixctl,
 * then poll_block().  Outcome changes are appended to 'events'.  Returns
 * whether any run() returned true. */
static long long main_loop_iterations;  /* Of the last main_loop(). */

static bool
main_loop(long long int deadline, bool stop_on_change,
          const char *until_lport, struct ds *events)
{
    bool changed = false;
    long long iterations = 0;
    long long int start = time_msec();
    struct sset seen = SSET_INITIALIZER(&seen);

    for (;;) {
        iterations++;
        if (run_all()) {
            changed = true;
        }
        if (reconcile) {
            reconcile_all(&seen, events);
        }
        if ((changed && stop_on_change)
            || (until_lport && shash_find(&plugged_ports, until_lport))) {
            poll_immediate_wake();  /* Do not leave waits pending. */
            poll_block();
            break;
        }
        if (unixctl) {
            unixctl_server_run(unixctl);
        }
        if (exiting || time_msec() >= deadline) {
            poll_immediate_wake();
            poll_block();
            break;
        }
        loop_wait(deadline);
    }
    VLOG_INFO("main loop: %lld iterations in %lld ms, changed=%s",
              iterations, time_msec() - start, changed ? "true" : "false");
    main_loop_iterations = iterations;
    sset_destroy(&seen);
    return changed;
}

static bool
parse_count(const char *s, long long *n, struct ds *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s ? s : "", &end, 10);
    if (!s || !*s || *end || errno || v < 0) {
        error_line(out, "bad number '%s'", s ? s : "");
        return false;
    }
    *n = v;
    return true;
}

/* Executes one script line.  Returns false to stop the script ('exit'). */
static bool
run_command(const char *line, struct ds *out)
{
    while (*line == ' ' || *line == '\t') {
        line++;
    }
    if (!*line || *line == '#') {
        return true;
    }

    struct svec args = SVEC_EMPTY_INITIALIZER;
    svec_parse_words(&args, line);
    const char *cmd = args.names[0];
    size_t n = args.n;
    const char *a1 = n > 1 ? args.names[1] : NULL;
    const char *a2 = n > 2 ? args.names[2] : NULL;
    const char *a3 = n > 3 ? args.names[3] : NULL;
    /* Raw rest of the line after the command word, for echo/shell. */
    const char *rest = line + strcspn(line, " \t");
    rest += strspn(rest, " \t");
    bool keep_going = true;
    long long count;
    struct smap opts;

    if (!strcmp(cmd, "plug") || !strcmp(cmd, "plug-txn-fail")
        || !strcmp(cmd, "unplug") || !strcmp(cmd, "unplug-txn-fail")) {
        bool is_plug = !strncmp(cmd, "plug", 4);
        bool txn_ok = !strstr(cmd, "txn-fail");
        if (!a1 || n > 3) {
            error_line(out, "usage: %s LPORT [key=value,...]", cmd);
        } else if (parse_options(a2, &opts, out)) {
            size_t start = out->length;
            if (is_plug) {
                /* The LSP is (still) requested on this chassis. */
                set_wanted(a1, &opts);
                do_plug(a1, &opts, txn_ok, out);
            } else {
                /* Port_Binding deleted (no OPTS) or moved away. */
                set_wanted(a1, NULL);
                do_unplug(a1, a2 ? &opts : NULL, txn_ok, out);
                struct plugged *p = shash_find_data(&plugged_ports, a1);
                if (p) {
                    /* Still there (KEEP, txn failed): remember for retries. */
                    p->pb_exists = a2 != NULL;
                    smap_destroy(&p->pb_options);
                    smap_clone(&p->pb_options, &opts);
                }
            }
            set_last_outcome(a1, ds_cstr(out) + start);
            smap_destroy(&opts);
        }
    } else if (!strcmp(cmd, "list") && n == 1) {
        const struct shash_node **nodes = shash_sort(&plugged_ports);
        for (size_t i = 0; i < shash_count(&plugged_ports); i++) {
            const struct plugged *p = nodes[i]->data;
            ds_put_format(out, "PLUGGED %s %s\n", p->lport, p->name);
        }
        free(nodes);
    } else if (!strcmp(cmd, "maintained") && n == 1) {
        const struct shash_node **nodes = shash_sort(&vif_plug_classes);
        for (size_t i = 0; i < shash_count(&vif_plug_classes); i++) {
            const struct vif_plug_class *c = nodes[i]->data;
            const struct sset *s = c->vif_plug_get_maintained_iface_options
                ? c->vif_plug_get_maintained_iface_options() : NULL;
            ds_put_format(out, "MAINTAINED %s ", c->type);
            if (!s) {
                ds_put_cstr(out, "(null)");
            } else if (sset_is_empty(s)) {
                ds_put_cstr(out, "-");
            } else {
                const char **names = sset_sort(s);
                for (size_t j = 0; j < sset_count(s); j++) {
                    ds_put_format(out, "%s%s", j ? "," : "", names[j]);
                }
                free(names);
            }
            ds_put_char(out, '\n');
        }
        free(nodes);
    } else if (!strcmp(cmd, "host") && n == 2
               && (!strcmp(a1, "stock") || !strcmp(a1, "patched"))) {
        provider_run = !strcmp(a1, "patched");
    } else if (!strcmp(cmd, "run") && n == 1 && !provider_run) {
        ds_put_cstr(out, "RUN skipped (host stock)\n");
    } else if (!strcmp(cmd, "run") && n == 1) {
        ds_put_format(out, "RUN %s\n", run_all() ? "true" : "false");
        /* End the "iteration" without blocking: drop any waits run()
         * registered, as ovn-controller's poll_block() would consume them. */
        if (!busy) {
            poll_immediate_wake();
            poll_block();
        }
    } else if (((!strcmp(cmd, "loop") || !strcmp(cmd, "wait-changed"))
                && n == 2)
               || (!strcmp(cmd, "wait-plugged") && n == 3)) {
        bool wait_plugged = !strcmp(cmd, "wait-plugged");
        if (busy) {
            error_line(out, "%s cannot nest inside a unixctl command", cmd);
        } else if (parse_count(wait_plugged ? a2 : a1, &count, out)) {
            bool until = !strcmp(cmd, "wait-changed");
            long long int start = time_msec();
            bool changed = main_loop(start + count, until,
                                     wait_plugged ? a1 : NULL, out);
            VLOG_INFO("%s: returned after %lld ms", cmd, time_msec() - start);
            if (until) {
                ds_put_cstr(out, changed ? "CHANGED\n" : "UNCHANGED\n");
            } else if (wait_plugged) {
                const struct plugged *p = shash_find_data(&plugged_ports, a1);
                if (p) {
                    ds_put_format(out, "PLUGGED %s %s\n", a1, p->name);
                } else {
                    ds_put_format(out, "TIMEOUT %s\n", a1);
                }
            } else {
                ds_put_format(out, "LOOP changed=%s\n",
                              changed ? "true" : "false");
            }
        }
    } else if (!strcmp(cmd, "wakeups") && n == 3) {
        long long max;
        if (busy) {
            error_line(out, "wakeups cannot nest inside a unixctl command");
        } else if (parse_count(a1, &count, out) && parse_count(a2, &max, out)) {
            main_loop(time_msec() + count, false, NULL, out);
            if (main_loop_iterations <= max) {
                ds_put_format(out, "WAKEUPS <= %lld\n", max);
            } else {
                ds_put_format(out, "WAKEUPS %lld > %lld\n",
                              main_loop_iterations, max);
            }
        }
    } else if (!strcmp(cmd, "reconcile") && n == 2
               && (!strcmp(a1, "on") || !strcmp(a1, "off"))) {
        reconcile = !strcmp(a1, "on");
    } else if (!strcmp(cmd, "cycles") && (n == 3 || n == 4)) {
        if (parse_count(a1, &count, out) && parse_options(a3, &opts, out)) {
            do_cycles(count, a2, &opts, out);
            smap_destroy(&opts);
        }
    } else if (!strcmp(cmd, "reinit") && n == 2) {
        if (parse_count(a1, &count, out)) {
            long long i;
            int error = 0;
            for (i = 0; i < count && !error; i++) {
                error = unregister_all(NULL);
                if (!error) {
                    error = register_all(NULL);
                }
            }
            if (error) {
                error_line(out, "REINIT failed in round %lld: %s", i,
                           ovs_strerror(error));
            } else {
                ds_put_format(out, "REINIT %lld ok\n", count);
            }
        }
    } else if (!strcmp(cmd, "register") && n == 1) {
        if (register_all(out)) {
            n_errors++;
        }
    } else if (!strcmp(cmd, "unregister") && n == 1) {
        if (unregister_all(out)) {
            n_errors++;
        }
    } else if (!strcmp(cmd, "serve") && n == 1) {
        if (busy) {
            error_line(out, "serve cannot nest inside a unixctl command");
        } else if (!unixctl) {
            error_line(out, "serve needs --unixctl=PATH");
        } else {
            main_loop(LLONG_MAX, false, NULL, out);
            exiting = false;
            ds_put_cstr(out, "SERVED\n");
        }
    } else if (!strcmp(cmd, "sleep") && n == 2) {
        if (parse_count(a1, &count, out)) {
            struct timespec ts = { count / 1000, (count % 1000) * 1000000 };
            nanosleep(&ts, NULL);
        }
    } else if (!strcmp(cmd, "echo")) {
        ds_put_format(out, "%s\n", rest);
    } else if (!strcmp(cmd, "shell") && n > 1) {
        fflush(stdout);
        int status = system(rest);
        if (status) {
            error_line(out, "shell: '%s' exited with status %d", rest,
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
    } else if (!strcmp(cmd, "setenv") && n == 3) {
        setenv(a1, a2, 1);
    } else if (!strcmp(cmd, "unsetenv") && n == 2) {
        unsetenv(a1);
    } else if (!strcmp(cmd, "exit") && n == 1) {
        keep_going = false;
    } else {
        error_line(out, "unknown command or wrong arguments: %s", line);
    }
    svec_destroy(&args);
    return keep_going;
}

/* Executes 'line' and prints its output to stdout right away. */
static bool
run_and_print(const char *line)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    bool keep_going = run_command(line, &out);
    fputs(ds_cstr(&out), stdout);
    fflush(stdout);
    ds_destroy(&out);
    return keep_going;
}

/* ---- unixctl ---- */

static void
unixctl_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    exiting = true;
    unixctl_command_reply(conn, NULL);
}

static void
unixctl_cmd(struct unixctl_conn *conn, int argc, const char *argv[],
            void *aux OVS_UNUSED)
{
    struct ds line = DS_EMPTY_INITIALIZER;
    struct ds out = DS_EMPTY_INITIALIZER;

    for (int i = 1; i < argc; i++) {
        ds_put_format(&line, "%s%s", i > 1 ? " " : "", argv[i]);
    }
    int errors_before = n_errors;
    busy = true;
    if (!run_command(ds_cstr(&line), &out)) {
        exiting = true;
    }
    busy = false;
    /* Commands run over unixctl are an interactive aid: their ERRORs are
     * reported to the caller, not counted against the script. */
    bool failed = n_errors != errors_before;
    n_errors = errors_before;
    if (failed) {
        unixctl_command_reply_error(conn, ds_cstr(&out));
    } else {
        unixctl_command_reply(conn, ds_cstr(&out));
    }
    ds_destroy(&line);
    ds_destroy(&out);
}

static void
unixctl_list(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    run_command("list", &out);
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

/* ---- main ---- */

OVS_NO_RETURN static void usage(void);

static void
usage(void)
{
    printf("%s: host a VIF plug provider like ovn-controller does\n"
           "usage: %s [OPTIONS] [COMMAND]...\n"
           "Each COMMAND argument is one script line (e.g. 'plug lp1 "
           "vif-plug-type=x,k=v').\n"
           "Without COMMANDs and without -f, commands are read from stdin.\n"
           "\nOptions:\n"
           "  -f, --script=FILE     read commands from FILE ('-' = stdin),\n"
           "                        before the COMMAND arguments\n"
           "  --unixctl=PATH        create a unixctl server at PATH\n"
           "  --no-register         do not register the classes at start\n"
           "  --stock               never call the providers' run(), like\n"
           "                        stock ovn-controller (script: host stock)\n"
           "  -h, --help            this help\n",
           program_name, program_name);
    vlog_usage();
    exit(EXIT_SUCCESS);
}

int
main(int argc, char *argv[])
{
    enum {
        OPT_UNIXCTL = UCHAR_MAX + 1,
        OPT_NO_REGISTER,
        OPT_STOCK,
        VLOG_OPTION_ENUMS
    };
    static const struct option long_options[] = {
        {"script", required_argument, NULL, 'f'},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"no-register", no_argument, NULL, OPT_NO_REGISTER},
        {"stock", no_argument, NULL, OPT_STOCK},
        {"help", no_argument, NULL, 'h'},
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);
    const char *script = NULL;
    const char *unixctl_path = NULL;
    bool do_register = true;

    set_program_name(argv[0]);
    vlog_init();
    fatal_ignore_sigpipe();

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'f':
            script = optarg;
            break;
        case OPT_UNIXCTL:
            unixctl_path = optarg;
            break;
        case OPT_NO_REGISTER:
            do_register = false;
            break;
        case OPT_STOCK:
            provider_run = false;
            break;
        case 'h':
            usage();
        VLOG_OPTION_HANDLERS
        case '?':
            exit(2);
        default:
            abort();
        }
    }
    free(short_options);

    if (unixctl_path) {
        int error = unixctl_server_create(unixctl_path, &unixctl);
        if (error) {
            ovs_fatal(error, "could not create unixctl server at %s",
                      unixctl_path);
        }
    }
    unixctl_command_register("exit", "", 0, 0, unixctl_exit, NULL);
    unixctl_command_register("vif-plug-host/cmd", "COMMAND [ARG]...", 1,
                             INT_MAX, unixctl_cmd, NULL);
    unixctl_command_register("vif-plug-host/list", "", 0, 0, unixctl_list,
                             NULL);

    /* ovn-controller registers the providers once at startup, before its
     * main loop (vif_plug_provider_initialize()). */
    if (do_register) {
        run_and_print("register");
    }

    bool keep_going = true;
    if (script || optind >= argc) {
        FILE *f = (!script || !strcmp(script, "-")) ? stdin
                  : fopen(script, "r");
        if (!f) {
            ovs_fatal(errno, "%s: open failed", script);
        }
        struct ds line = DS_EMPTY_INITIALIZER;
        while (keep_going && !ds_get_line(&line, f)) {
            keep_going = run_and_print(ds_cstr(&line));
        }
        ds_destroy(&line);
        if (f != stdin) {
            fclose(f);
        }
    }
    for (int i = optind; keep_going && i < argc; i++) {
        keep_going = run_and_print(argv[i]);
    }

    /* Exit: providers are destroyed (vif_plug_provider_destroy_all()). */
    run_and_print("unregister");

    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &plugged_ports) {
        plugged_destroy(node->data);
        shash_delete(&plugged_ports, node);
    }
    shash_destroy(&plugged_ports);
    SHASH_FOR_EACH_SAFE (node, &wanted_ports) {
        smap_destroy(node->data);
        free(node->data);
        shash_delete(&wanted_ports, node);
    }
    shash_destroy(&wanted_ports);
    shash_destroy_free_data(&last_outcome);
    shash_destroy(&vif_plug_classes);
    unixctl_server_destroy(unixctl);

    return n_errors ? EXIT_FAILURE : EXIT_SUCCESS;
}

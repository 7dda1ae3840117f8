/* prepare_bench: the per-call cost of several VIF plug providers' prepare(),
 * measured in one process, for the same requests, the same way
 * ovn-controller (OVN v26.03.2) calls it.
 *
 *   prepare_bench [options] LABEL=PROVIDER.so [LABEL=PROVIDER.so ...]
 *
 * Each PROVIDER.so exports vif_plug_provider_classes[] (OVN's ABI,
 * vif_plug_abi.h); its "representor" class is registered as OVN does (a
 * copy of the class, init() first).  tests/harness/build-prepare-bench.sh
 * links every provider given to it into the executable, before
 * libopenvswitch.a (ovn-controller's link order: ld then exports the OVS
 * symbols the providers use); at run time each one is found again with
 * dlopen(RTLD_NOLOAD) and its own vif_plug_provider_classes is read with
 * dlsym() on that handle, so two providers that export the same array name
 * coexist.  A provider not linked in is dlopen()ed (RTLD_LOCAL): that works
 * only if the executable already exports every OVS symbol it needs.
 *
 * Requests: one Port_Binding per VF, VF numbers FIRST..FIRST+VFS-1 of the
 * PF whose MAC is --pf-mac, options as Neutron writes them:
 *   vif-plug-type=representor
 *   vif-plug:representor:pf-mac=MAC
 *   vif-plug:representor:vf-num=N
 * Every call is built as OVN's build_port_ctx() builds it: a fresh ctx_in
 * with xstrdup() of the lport name and smap_clone() of the options, a
 * ctx_out whose iface_options is smap_init()ed; after prepare, ctx_destroy
 * when prepare returned true, then the host frees its copies.  Only the
 * prepare call is timed (CLOCK_MONOTONIC around it; the timer's own median
 * cost, measured first, is subtracted).
 *
 * Host (--host): "stock" (default) never calls run(), as OVN v26.03.2's
 * ovn-controller; "patched" calls every class's run() once per walk over
 * the lports (untimed), as with ovn-patch 0003.
 *
 * The walk: ROUNDS rounds; in each, every provider in turn (the order
 * reversed every other round) walks all lports CALLS/ROUNDS times.  So each
 * provider makes CALLS calls per lport, interleaved with the others in
 * time.  Before that, one untimed warm-up walk per provider checks that
 * every request resolves (the provider names a netdev).
 *
 * Syscalls per call: a perf counter on the raw_syscalls:sys_enter
 * tracepoint of this thread (needs tracefs or debugfs and root) over more,
 * untimed, walks per provider: as many as a first run of walks made in 1 s
 * (at most 1,000), so that a provider that drains its sockets only every
 * so many ms shows that cost too; minus the same walks without the prepare
 * call.  "n/a" with the reason when the counter cannot be opened.
 *
 * Output: a Markdown table, one row per provider, and for the second and
 * later providers the ratio of the first one's median and p99 to theirs.
 * Exit status: 0, or 1 if a provider could not be loaded or initialised or
 * a request did not resolve.
 *
 * Options:
 *   --pf-mac MAC   host PF MAC (default 00:53:00:00:10:00, tests/vm/bluefield-layout.sh's)
 *   --first-vf N   first VF number (default 0)
 *   --vfs N        number of VFs = lports (default 64)
 *   --calls N      calls per lport and provider (default 20)
 *   --rounds N     interleaving rounds (default 4; CALLS is rounded up to a multiple)
 *   --host stock|patched
 *   --label TEXT   a label for the table's first column (default: VFS)
 *   -v             leave OVS logging at its defaults (default: warnings
 *                  and worse on the console only: the C provider logs one
 *                  INFO line per devlink port at init)
 */

#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "openvswitch/vlog.h"
#include "openvswitch/util.h"
#include "smap.h"
#include "util.h"

#include "vif_plug_abi.h"

VLOG_DEFINE_THIS_MODULE(prepare_bench);

struct provider {
    const char *label;
    const char *path;
    struct vif_plug_class *class;   /* The host's copy, as OVN keeps it. */
    uint64_t *ns;                   /* One sample per timed call. */
    size_t n_ns;
    size_t resolved;
    char *first_name;               /* What the first lport resolved to. */
    double syscalls_per_call;       /* < 0: not measured. */
    int64_t syscalls;               /* Counted over... */
    size_t syscall_calls;           /* ...this many prepare calls. */
};

struct lport {
    char *name;
    struct smap options;            /* The Port_Binding's options. */
};

static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_u64(const void *a_, const void *b_)
{
    uint64_t a = *(const uint64_t *) a_, b = *(const uint64_t *) b_;

    return a < b ? -1 : a > b;
}

/* The Q-th percentile (0..100) of V[N], which gets sorted. */
static uint64_t
percentile(uint64_t *v, size_t n, unsigned int q)
{
    if (!n) {
        return 0;
    }
    qsort(v, n, sizeof *v, cmp_u64);
    size_t i = n * q / 100;
    return v[i < n ? i : n - 1];
}

static double
mean(const uint64_t *v, size_t n)
{
    double sum = 0;

    for (size_t i = 0; i < n; i++) {
        sum += v[i];
    }
    return n ? sum / n : 0;
}

/* The cost of the two clock reads around a call: their median, subtracted
 * from every sample. */
static uint64_t
timer_floor(void)
{
    enum { N = 20000 };
    uint64_t *v = xmalloc(N * sizeof *v);

    for (size_t i = 0; i < N; i++) {
        int64_t t0 = now_ns();
        int64_t t1 = now_ns();
        v[i] = t1 - t0;
    }
    uint64_t floor = percentile(v, N, 50);
    free(v);
    return floor;
}

/* One call as ovn-controller makes it.  Returns prepare's verdict; *NS gets
 * the time of the prepare call alone (when NS is nonnull); *NAME a copy of
 * the name (when NAME is nonnull and prepare returned true). */
static bool
call_prepare(const struct vif_plug_class *class, const struct lport *lp,
             bool do_prepare, uint64_t *ns, char **name)
{
    struct vif_plug_port_ctx_in in;
    struct vif_plug_port_ctx_out out;
    bool ok = false;

    /* build_port_ctx(): a fresh context for every call. */
    memset(&in, 0, sizeof in);
    in.op_type = PLUG_OP_CREATE;
    in.lport_name = xstrdup(lp->name);
    smap_clone(&in.lport_options, &lp->options);
    smap_init(&in.iface_options);
    memset(&out, 0, sizeof out);
    smap_init(&out.iface_options);

    if (do_prepare) {
        int64_t t0 = ns ? now_ns() : 0;
        ok = class->vif_plug_port_prepare(&in, &out);
        if (ns) {
            *ns = now_ns() - t0;
        }
        if (ok) {
            if (name) {
                *name = xstrdup(out.name ? out.name : "(null)");
            }
            /* OVN: ctx_destroy only after a prepare that returned true. */
            class->vif_plug_port_ctx_destroy(&in, &out);
        }
    }
    /* destroy_port_ctx(). */
    smap_destroy(&out.iface_options);
    smap_destroy(&in.lport_options);
    smap_destroy(&in.iface_options);
    free(CONST_CAST(char *, in.lport_name));
    return ok;
}

static struct vif_plug_class *
load_provider(const char *path, const char *label)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (!h) {
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    }
    if (!h) {
        fprintf(stderr, "prepare_bench: %s: dlopen %s: %s\n", label, path,
                dlerror());
        return NULL;
    }
    const struct vif_plug_class **classes
        = dlsym(h, "vif_plug_provider_classes");
    if (!classes) {
        fprintf(stderr, "prepare_bench: %s: %s exports no "
                "vif_plug_provider_classes: %s\n", label, path, dlerror());
        return NULL;
    }
    for (size_t i = 0; classes[i]; i++) {
        if (classes[i]->type && !strcmp(classes[i]->type, "representor")) {
            /* OVN's vif_plug_register_provider(): init() first, then keep
             * a private copy of the class. */
            int error = classes[i]->init ? classes[i]->init() : 0;
            if (error) {
                fprintf(stderr, "prepare_bench: %s: init() failed: %s\n",
                        label, ovs_strerror(error));
                return NULL;
            }
            return xmemdup(classes[i], sizeof *classes[i]);
        }
    }
    fprintf(stderr, "prepare_bench: %s: %s has no \"representor\" class\n",
            label, path);
    return NULL;
}

/* The raw_syscalls:sys_enter tracepoint id, or -1 (*WHY says why). */
static long
syscall_tracepoint_id(const char **why)
{
    static const char *paths[] = {
        "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
        "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
    };

    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        FILE *f = fopen(paths[i], "r");
        long id;
        if (f) {
            int n = fscanf(f, "%ld", &id);
            fclose(f);
            if (n == 1) {
                return id;
            }
        }
    }
    *why = "no raw_syscalls/sys_enter id in tracefs or debugfs";
    return -1;
}

/* A counter of this thread's system calls, disabled; -1 and *WHY on
 * failure. */
static int
syscall_counter_open(const char **why)
{
    long id = syscall_tracepoint_id(why);
    if (id < 0) {
        return -1;
    }
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof attr;
    attr.config = id;
    attr.disabled = 1;
    attr.sample_period = 0;
    int fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd < 0) {
        *why = ovs_strerror(errno);
    }
    return fd;
}

/* System calls made by walking LPORTS REPS times with CLASS's prepare
 * (or, with DO_PREPARE false, the same walk without prepare). */
static int64_t
count_syscalls(int fd, const struct vif_plug_class *class,
               const struct lport *lports, size_t n, size_t reps,
               bool do_prepare)
{
    uint64_t count = 0;

    ioctl(fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    for (size_t r = 0; r < reps; r++) {
        for (size_t i = 0; i < n; i++) {
            call_prepare(class, &lports[i], do_prepare, NULL, NULL);
        }
    }
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    if (read(fd, &count, sizeof count) != sizeof count) {
        return -1;
    }
    return count;
}

static void
usage(void)
{
    fprintf(stderr, "usage: prepare_bench [--pf-mac MAC] [--first-vf N] "
            "[--vfs N] [--calls N] [--rounds N] [--host stock|patched] "
            "[--label TEXT] [-v] LABEL=PROVIDER.so...\n");
    exit(2);
}

static unsigned long
parse_count(const char *s, const char *what, unsigned long min)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > 1000000) {
        fprintf(stderr, "prepare_bench: %s: not a number in %lu..1000000: "
                "%s\n", what, min, s);
        exit(2);
    }
    return v;
}

int
main(int argc, char *argv[])
{
    static const struct option long_options[] = {
        {"pf-mac", required_argument, NULL, 'm'},
        {"first-vf", required_argument, NULL, 'f'},
        {"vfs", required_argument, NULL, 'n'},
        {"calls", required_argument, NULL, 'c'},
        {"rounds", required_argument, NULL, 'r'},
        {"host", required_argument, NULL, 'H'},
        {"label", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *pf_mac = "00:53:00:00:10:00";
    const char *label = NULL;
    unsigned long first_vf = 0, n_vfs = 64, calls = 20, rounds = 4;
    bool patched = false, verbose = false;
    int c;

    set_program_name(argv[0]);
    while ((c = getopt_long(argc, argv, "v", long_options, NULL)) != -1) {
        switch (c) {
        case 'm': pf_mac = optarg; break;
        case 'f': first_vf = parse_count(optarg, "--first-vf", 0); break;
        case 'n': n_vfs = parse_count(optarg, "--vfs", 1); break;
        case 'c': calls = parse_count(optarg, "--calls", 1); break;
        case 'r': rounds = parse_count(optarg, "--rounds", 1); break;
        case 'H':
            if (!strcmp(optarg, "stock")) {
                patched = false;
            } else if (!strcmp(optarg, "patched")) {
                patched = true;
            } else {
                usage();
            }
            break;
        case 'l': label = optarg; break;
        case 'v': verbose = true; break;
        default: usage();
        }
    }
    if (optind >= argc) {
        usage();
    }
    if (!verbose) {
        vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
        vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    }
    size_t per_round = (calls + rounds - 1) / rounds;
    calls = per_round * rounds;

    size_t n_prov = argc - optind;
    struct provider *provs = xcalloc(n_prov, sizeof *provs);
    int status = 0;
    for (size_t i = 0; i < n_prov; i++) {
        char *arg = argv[optind + i];
        char *eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1]) {
            usage();
        }
        *eq = '\0';
        provs[i].label = arg;
        provs[i].path = eq + 1;
        provs[i].syscalls_per_call = -1;
        provs[i].class = load_provider(provs[i].path, provs[i].label);
        if (!provs[i].class) {
            return 1;
        }
    }

    struct lport *lports = xcalloc(n_vfs, sizeof *lports);
    for (size_t i = 0; i < n_vfs; i++) {
        lports[i].name = xasprintf("lsp-vf%05lu", first_vf + i);
        smap_init(&lports[i].options);
        smap_add(&lports[i].options, "vif-plug-type", "representor");
        smap_add(&lports[i].options, "vif-plug:representor:pf-mac", pf_mac);
        smap_add_format(&lports[i].options, "vif-plug:representor:vf-num",
                        "%lu", first_vf + i);
    }

    /* Warm-up walk: every request must resolve. */
    for (size_t p = 0; p < n_prov; p++) {
        if (patched && provs[p].class->run) {
            provs[p].class->run(provs[p].class);
        }
        for (size_t i = 0; i < n_vfs; i++) {
            char *name = NULL;
            if (call_prepare(provs[p].class, &lports[i], true, NULL, &name)) {
                provs[p].resolved++;
                if (!provs[p].first_name) {
                    provs[p].first_name = name;
                    name = NULL;
                }
            }
            free(name);
        }
        if (provs[p].resolved != n_vfs) {
            fprintf(stderr, "prepare_bench: %s resolved %zu of %lu requests "
                    "(pf-mac %s, VFs %lu..%lu)\n", provs[p].label,
                    provs[p].resolved, n_vfs, pf_mac, first_vf,
                    first_vf + n_vfs - 1);
            status = 1;
        }
        provs[p].ns = xmalloc(n_vfs * calls * sizeof *provs[p].ns);
    }

    uint64_t floor = timer_floor();
    for (size_t r = 0; r < rounds; r++) {
        for (size_t k = 0; k < n_prov; k++) {
            struct provider *pv = &provs[r % 2 ? n_prov - 1 - k : k];
            for (size_t rep = 0; rep < per_round; rep++) {
                if (patched && pv->class->run) {
                    pv->class->run(pv->class);
                }
                for (size_t i = 0; i < n_vfs; i++) {
                    uint64_t ns;
                    call_prepare(pv->class, &lports[i], true, &ns, NULL);
                    pv->ns[pv->n_ns++] = ns > floor ? ns - floor : 0;
                }
            }
        }
    }

    const char *why = NULL;
    int fd = syscall_counter_open(&why);
    if (fd >= 0) {
        for (size_t p = 0; p < n_prov; p++) {
            /* Walks for at least 1 s of prepare calls: a provider that
             * drains its sockets at most every N ms shows that cost. */
            size_t reps = 0;
            int64_t t_end = now_ns() + 1000000000;
            while (reps < 1000 && now_ns() < t_end) {
                for (size_t i = 0; i < n_vfs; i++) {
                    call_prepare(provs[p].class, &lports[i], true, NULL, NULL);
                }
                reps++;
            }
            int64_t with = count_syscalls(fd, provs[p].class, lports, n_vfs,
                                          reps, true);
            int64_t without = count_syscalls(fd, provs[p].class, lports,
                                             n_vfs, reps, false);
            if (with >= 0 && without >= 0) {
                provs[p].syscalls = with - without;
                provs[p].syscall_calls = reps * n_vfs;
                provs[p].syscalls_per_call
                    = (double) (with - without) / (reps * n_vfs);
            }
        }
        close(fd);
    }

    printf("| %s | provider | host | lports | resolved (lport 0 -> netdev) "
           "| prepare median ns | p99 ns | mean ns | syscalls/call "
           "| median, p99 vs %s |\n", label ? "what" : "VFs",
           provs[0].label);
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    uint64_t med0 = 0, p990 = 0;
    char what[32];
    snprintf(what, sizeof what, "%lu", n_vfs);
    for (size_t p = 0; p < n_prov; p++) {
        struct provider *pv = &provs[p];
        double avg = mean(pv->ns, pv->n_ns);
        uint64_t med = percentile(pv->ns, pv->n_ns, 50);
        uint64_t p99 = percentile(pv->ns, pv->n_ns, 99);
        char sys[128], ratio[64];
        if (pv->syscalls_per_call >= 0) {
            snprintf(sys, sizeof sys, "%.4f (%"PRId64" in %zu calls)",
                     pv->syscalls_per_call, pv->syscalls, pv->syscall_calls);
        } else {
            snprintf(sys, sizeof sys, "n/a (%s)", why ? why : "read failed");
        }
        if (!p) {
            med0 = med;
            p990 = p99;
            snprintf(ratio, sizeof ratio, "1");
        } else {
            snprintf(ratio, sizeof ratio, "%.1fx, %.1fx",
                     med ? (double) med0 / med : 0.0,
                     p99 ? (double) p990 / p99 : 0.0);
        }
        printf("| %s | %s | %s | %lu | %zu (%s) | %"PRIu64" | %"PRIu64
               " | %.0f | %s | %s |\n",
               label ? label : what, pv->label,
               patched ? "patched" : "stock", n_vfs, pv->resolved,
               pv->first_name ? pv->first_name : "-", med, p99, avg, sys,
               ratio);
    }
    printf("\n%lu calls per lport and provider in %lu interleaved rounds; "
           "timer floor %"PRIu64" ns subtracted.\n", calls, rounds, floor);
    return status;
}

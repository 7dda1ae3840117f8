/* Loads the built provider with dlopen(), as a C host would, and drives it
 * through its vtable with real C structs.  The structs below mirror OVN's
 * lib/vif-plug-provider.h and OVS's hmap/smap (x86_64/aarch64 LP64 layout);
 * the smap is built the way OVS lays one out (buckets -> chains of nodes).
 *
 * Usage: dlopen_test <path to libovn_vif_rs.so>
 * The provider reads OVN_VIF_RS_SNAPSHOT (set by tests/c_abi.rs).
 * Prints one line per check and "N passed, M failed"; exit 1 on failure. */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hmap_node { size_t hash; struct hmap_node *next; };
struct hmap { struct hmap_node **buckets; struct hmap_node *one; size_t mask; size_t n; };
struct smap { struct hmap map; };
struct smap_node { struct hmap_node node; char *key; char *value; };
struct sset { struct hmap map; };

enum vif_plug_op_type { PLUG_OP_CREATE = 1, PLUG_OP_REMOVE };

struct vif_plug_port_ctx_in {
    enum vif_plug_op_type op_type;
    const void *ovs_table;
    const void *br_int;
    const char *lport_name;
    struct smap lport_options;
    const char *iface_name;
    const char *iface_type;
    struct smap iface_options;
};

struct vif_plug_port_ctx_out {
    char *name;
    char *type;
    struct smap iface_options;
};

struct vif_plug_class {
    const char *type;
    int (*init)(void);
    int (*destroy)(void);
    bool (*run)(struct vif_plug_class *);
    const struct sset *(*vif_plug_get_maintained_iface_options)(void);
    bool (*vif_plug_port_prepare)(const struct vif_plug_port_ctx_in *,
                                  struct vif_plug_port_ctx_out *);
    void (*vif_plug_port_finish)(const struct vif_plug_port_ctx_in *,
                                 struct vif_plug_port_ctx_out *);
    void (*vif_plug_port_ctx_destroy)(const struct vif_plug_port_ctx_in *,
                                      struct vif_plug_port_ctx_out *);
};

/* A minimal smap with 4 buckets, like OVS after a few smap_add()s. */
#define NBUCKETS 4
struct test_smap {
    struct smap smap;
    struct hmap_node *buckets[NBUCKETS];
    struct smap_node nodes[8];
};

static void
smap_build(struct test_smap *t, const char *const *kv)
{
    memset(t, 0, sizeof *t);
    t->smap.map.buckets = t->buckets;
    t->smap.map.mask = NBUCKETS - 1;
    for (size_t i = 0; kv[2 * i]; i++) {
        struct smap_node *n = &t->nodes[i];
        size_t b = (i * 7 + 1) & (NBUCKETS - 1);
        n->key = (char *) kv[2 * i];
        n->value = (char *) kv[2 * i + 1];
        n->node.hash = i;
        n->node.next = t->buckets[b];
        t->buckets[b] = &n->node;
        t->smap.map.n++;
    }
}

static int passed, failed;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (cond) { passed++; printf("PASS: "); }          \
        else { failed++; printf("FAIL: "); }               \
        printf(__VA_ARGS__);                               \
        printf("\n");                                      \
    } while (0)

static bool
prepare(const struct vif_plug_class *c, const char *lport,
        const char *const *kv, struct vif_plug_port_ctx_out *out)
{
    struct test_smap opts;
    struct vif_plug_port_ctx_in in;
    memset(&in, 0, sizeof in);
    smap_build(&opts, kv);
    in.op_type = PLUG_OP_CREATE;
    in.lport_name = lport;
    in.lport_options = opts.smap;
    /* lport_options is copied by value: point its buckets at our array. */
    in.lport_options.map.buckets = opts.buckets;
    memset(out, 0, sizeof *out);
    /* What smap_init() does: an empty map whose buckets point at 'one'. */
    out->iface_options.map.buckets = &out->iface_options.map.one;
    return c->vif_plug_port_prepare(&in, out);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIB.so\n", argv[0]);
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    const struct vif_plug_class **classes = dlsym(h, "vif_plug_provider_classes");
    CHECK(classes != NULL, "vif_plug_provider_classes is exported");
    if (!classes) {
        return 1;
    }
    const struct vif_plug_class *c = classes[0];
    CHECK(c && !strcmp(c->type, "representor"), "first class has type \"representor\"");
    CHECK(classes[1] == NULL, "the class list is NULL-terminated");
    CHECK(c->init && c->destroy && c->run && c->vif_plug_port_prepare
          && c->vif_plug_port_finish && c->vif_plug_port_ctx_destroy,
          "every vtable member is set");
    CHECK(c->vif_plug_get_maintained_iface_options() == NULL,
          "maintains no Interface options");

    CHECK(c->init() == 0, "init() succeeds with a snapshot source");

    struct vif_plug_port_ctx_out out;
    const char *vf3[] = {
        "requested-chassis", "dpu0",
        "vif-plug-type", "representor",
        "vif-plug:representor:pf-mac", "00:53:00:00:10:00",
        "vif-plug:representor:vf-num", "3",
        NULL };
    bool ok = prepare(c, "lsp-vf3", vf3, &out);
    CHECK(ok && out.name && !strcmp(out.name, "c1pf0vf3"),
          "VF 3 of the host PF (controller 1) -> c1pf0vf3 (got %s)",
          out.name ? out.name : "NULL");
    CHECK(out.type == NULL, "ctx_out->type left NULL (system interface)");
    char *first = out.name;
    c->vif_plug_port_finish(NULL, &out);
    c->vif_plug_port_ctx_destroy(NULL, &out);
    CHECK(out.name == NULL, "ctx_destroy frees and clears the name");

    struct vif_plug_port_ctx_out out2;
    ok = prepare(c, "lsp-vf3", vf3, &out2);
    CHECK(ok && out2.name && out2.name != NULL && strcmp(out2.name, "c1pf0vf3") == 0,
          "a second prepare returns its own copy");
    (void) first;
    c->vif_plug_port_ctx_destroy(NULL, &out2);

    const char *pf[] = { "vif-plug:representor:pf-mac", "00:53:00:00:10:00", NULL };
    ok = prepare(c, "lsp-pf", pf, &out);
    CHECK(ok && out.name && !strcmp(out.name, "c1pf0"), "PF request -> c1pf0");
    c->vif_plug_port_ctx_destroy(NULL, &out);

    const char *sf[] = { "vif-plug:representor:pf-mac", "00:53:00:00:10:00",
                         "vif-plug:representor:sf-num", "8", NULL };
    ok = prepare(c, "lsp-sf", sf, &out);
    CHECK(ok && out.name && !strcmp(out.name, "c1pf0sf8"), "SF 8 -> c1pf0sf8");
    c->vif_plug_port_ctx_destroy(NULL, &out);

    const char *local[] = { "vif-plug:representor:pf-mac", "02:00:00:00:00:10",
                            "vif-plug:representor:vf-num", "3", NULL };
    ok = prepare(c, "lsp-local", local, &out);
    CHECK(ok && out.name && !strcmp(out.name, "pf0vf3"),
          "VF 3 of the DPU-local PF (controller 0) -> pf0vf3");
    c->vif_plug_port_ctx_destroy(NULL, &out);

    const char *missing[] = { "vif-plug:representor:vf-num", "3", NULL };
    ok = prepare(c, "lsp-nomac", missing, &out);
    CHECK(!ok && out.name == NULL, "missing pf-mac is declined, name untouched");

    const char *wrap[] = { "vif-plug:representor:pf-mac", "00:53:00:00:10:00",
                           "vif-plug:representor:vf-num", "65539", NULL };
    ok = prepare(c, "lsp-wrap", wrap, &out);
    CHECK(!ok, "vf-num 65539 is refused (ovn-vif would plug VF 3)");

    const char *absent[] = { "vif-plug:representor:pf-mac", "00:53:00:00:10:00",
                             "vif-plug:representor:vf-num", "7", NULL };
    ok = prepare(c, "lsp-vf7", absent, &out);
    CHECK(!ok, "an absent VF is declined");

    struct test_smap none;
    const char *empty[] = { NULL };
    smap_build(&none, empty);
    struct vif_plug_port_ctx_in rm;
    memset(&rm, 0, sizeof rm);
    rm.op_type = PLUG_OP_REMOVE;
    rm.lport_name = "lsp-vf3";
    rm.lport_options = none.smap;
    CHECK(c->vif_plug_port_prepare(&rm, NULL), "REMOVE with ctx_out NULL is allowed");
    c->vif_plug_port_finish(&rm, NULL);

    struct vif_plug_port_ctx_in bogus = rm;
    bogus.op_type = 77;
    CHECK(!c->vif_plug_port_prepare(&bogus, &out), "an unknown op type is declined");

    CHECK(!c->run((struct vif_plug_class *) c), "run() reports no change");
    CHECK(c->destroy() == 0, "destroy() succeeds");
    ok = prepare(c, "lsp-vf3", vf3, &out);
    CHECK(!ok, "after destroy, prepare declines instead of crashing");
    CHECK(c->init() == 0, "init() again after destroy");
    ok = prepare(c, "lsp-vf3", vf3, &out);
    CHECK(ok && out.name && !strcmp(out.name, "c1pf0vf3"), "serves again after re-init");
    c->vif_plug_port_ctx_destroy(NULL, &out);
    CHECK(c->destroy() == 0, "destroy() again");

    setenv("OVN_VIF_RS_SNAPSHOT", "/nonexistent/ovn-vif-rs.snapshot", 1);
    int err = c->init();
    CHECK(err == 0, "init() with a missing snapshot succeeds: starts empty, retries (got %d)",
          err);
    ok = prepare(c, "lsp-vf3", vf3, &out);
    CHECK(!ok, "a provider without its source declines");
    CHECK(c->vif_plug_port_prepare(&rm, NULL), "... and allows REMOVE");
    CHECK(c->destroy() == 0, "destroy() a provider without its source");
    CHECK(c->vif_plug_port_prepare(&rm, NULL), "REMOVE is allowed after destroy");

    printf("%d passed, %d failed\n", passed, failed);
    dlclose(h);
    return failed ? 1 : 0;
}

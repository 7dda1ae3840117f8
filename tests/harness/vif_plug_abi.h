/* The VIF plug provider ABI as ovn-controller sees it (OVN v26.03.2,
 * lib/vif-plug-provider.h), restated here so the test harness can host a
 * provider without an OVN tree.  Field order and types must stay identical
 * to OVN's: the provider is compiled against OVN's definitions and this
 * harness against these.  The static asserts below pin the x86_64/aarch64
 * (LP64) sizes and offsets seen with OVN's own header.
 *
 * struct smap and struct sset are OVS's real ones (OVS lib/smap.h, sset.h). */

#ifndef OVN_VIF_RS_HARNESS_VIF_PLUG_ABI_H
#define OVN_VIF_RS_HARNESS_VIF_PLUG_ABI_H 1

#include <stdbool.h>
#include <stddef.h>

#include "smap.h"
#include "sset.h"

struct ovsrec_open_vswitch_table;   /* Opaque: the harness passes NULL. */
struct ovsrec_bridge;               /* Opaque: the harness passes NULL. */

enum vif_plug_op_type {
    PLUG_OP_CREATE = 1,             /* Port is created or updated. */
    PLUG_OP_REMOVE,                 /* Port is removed from this chassis. */
};

struct vif_plug_port_ctx_in {
    enum vif_plug_op_type op_type;
    const struct ovsrec_open_vswitch_table *ovs_table;
    const struct ovsrec_bridge *br_int;
    const char *lport_name;
    struct smap lport_options;      /* smap_clone() of Port_Binding options. */
    const char *iface_name;         /* Existing Interface, REMOVE only. */
    const char *iface_type;
    struct smap iface_options;
};

struct vif_plug_port_ctx_out {
    char *name;                     /* Owned by the provider. */
    char *type;                     /* Owned by the provider, may be NULL. */
    struct smap iface_options;      /* smap_init()ed by the host. */
};

/* The host's per-port bookkeeping (OVN allocates one per prepare). */
struct vif_plug_port_ctx {
    const struct vif_plug_class *vif_plug;
    struct vif_plug_port_ctx_in vif_plug_port_ctx_in;
    struct vif_plug_port_ctx_out vif_plug_port_ctx_out;
};

struct vif_plug_class {
    const char *type;
    int (*init)(void);
    int (*destroy)(void);
    /* OVN passes its private xmalloc()ed copy of the class, not the
     * provider's own object. */
    bool (*run)(struct vif_plug_class *);
    const struct sset *(*vif_plug_get_maintained_iface_options)(void);
    bool (*vif_plug_port_prepare)(const struct vif_plug_port_ctx_in *,
                                  struct vif_plug_port_ctx_out *);
    void (*vif_plug_port_finish)(const struct vif_plug_port_ctx_in *,
                                 struct vif_plug_port_ctx_out *);
    void (*vif_plug_port_ctx_destroy)(const struct vif_plug_port_ctx_in *,
                                      struct vif_plug_port_ctx_out *);
};

/* Exported by the provider: NULL-terminated.  Referenced from the
 * executable, so the linker gives it a copy relocation whose size is fixed
 * at link time (see NOTES.md). */
extern const struct vif_plug_class *vif_plug_provider_classes[];

#if defined(__LP64__)
_Static_assert(sizeof(struct smap) == 32, "smap size");
_Static_assert(sizeof(struct sset) == 32, "sset size");
_Static_assert(sizeof(struct vif_plug_port_ctx_in) == 112, "ctx_in size");
_Static_assert(offsetof(struct vif_plug_port_ctx_in, lport_name) == 24,
               "ctx_in.lport_name offset");
_Static_assert(offsetof(struct vif_plug_port_ctx_in, lport_options) == 32,
               "ctx_in.lport_options offset");
_Static_assert(offsetof(struct vif_plug_port_ctx_in, iface_options) == 80,
               "ctx_in.iface_options offset");
_Static_assert(sizeof(struct vif_plug_port_ctx_out) == 48, "ctx_out size");
_Static_assert(offsetof(struct vif_plug_port_ctx_out, iface_options) == 16,
               "ctx_out.iface_options offset");
_Static_assert(sizeof(struct vif_plug_class) == 64, "vif_plug_class size");
#endif

#endif /* vif_plug_abi.h */

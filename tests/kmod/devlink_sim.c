// SPDX-License-Identifier: GPL-2.0
/*
 * devlink_sim - a SmartNIC/DPU eswitch simulator for the ovn-vif-rs test bed.
 *
 * Each simulated device is a platform device "devlink_sim.<id>" with a real
 * devlink instance (handle "platform/devlink_sim.<id>").  Ports of flavour
 * PHYSICAL, PCI_PF, PCI_VF and PCI_SF are registered through the real devlink
 * API, each with its own registered netdev (a representor that drops all
 * traffic), so user space sees exactly what it sees on a BlueField or a
 * ConnectX in switchdev mode: `devlink port show`, phys_port_name
 * (p0, c1pf0, c1pf0vf3, pf0sf8), phys_switch_id, port function hw_addr, and
 * the devlink/rtnetlink notifications when ports come and go.
 *
 * Control is through debugfs (see README.md next to this file):
 *   /sys/kernel/debug/devlink_sim/new_device        "<id>"
 *   /sys/kernel/debug/devlink_sim/del_device        "<id>"
 *   /sys/kernel/debug/devlink_sim/<id>/port_add     "vf controller=1 pf=0 vf=3 external=1"
 *   /sys/kernel/debug/devlink_sim/<id>/port_del     "<index>" | "all"
 *   /sys/kernel/debug/devlink_sim/<id>/no_pf_hw_addr  0|1
 *   /sys/kernel/debug/devlink_sim/<id>/ports        (read: one line per port)
 * and through `devlink port add/del` (devlink_ops.port_new/port_del).
 *
 * Locking: the devlink instance lock (devl_lock) protects a device's ports.
 * It is taken before rtnl (register_netdev takes rtnl inside), never the
 * other way round.  sim_dev.list_lock is a leaf lock that only guards the
 * port list for the sysfs "smart_nic/pf/config" reader, which must not take
 * devl_lock (sysfs removal under devl_lock waits for running readers).
 *
 * Tested against Debian's 6.1 and 6.12 kernels; the API differences are
 * confined to the SIM_* compatibility switches below.
 */
#include <linux/module.h>
#include <linux/version.h>
#include <linux/platform_device.h>
#include <linux/debugfs.h>
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/xarray.h>
#include <linux/uaccess.h>
#include <linux/seq_file.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/rtnetlink.h>
#include <net/devlink.h>

/*
 * 6.2 replaced ndo_get_devlink_port with SET_NETDEV_DEVLINK_PORT, after which
 * the netdev notifier sets/clears the port type itself.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define SIM_NETDEV_DEVLINK_PORT 1
#endif
/*
 * 6.4 moved the port function callbacks and port_del to struct
 * devlink_port_ops, and port_new now returns the devlink_port.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define SIM_PORT_OPS 1
#endif

#define DRV_NAME "devlink_sim"
#define SIM_MAX_LINE 256

struct sim_dev {
	struct list_head list;		/* in sim_devs, under sim_lock */
	u32 id;
	struct platform_device *pdev;
	struct devlink *devlink;
	struct dentry *ddir;
	struct xarray ports;		/* index -> sim_port, under devl_lock */
	struct list_head port_list;	/* under devl_lock + list_lock */
	struct mutex list_lock;		/* leaf: see the comment at the top */
	bool no_pf_hw_addr;		/* PFs report a zero hw_addr, uplinks get sysfs */
	struct netdev_phys_item_id switch_id;
};

struct sim_port {
	struct list_head list;		/* in sim_dev.port_list */
	struct sim_dev *sdev;
	struct net_device *ndev;	/* this struct is netdev_priv(ndev) */
	struct devlink_port dl_port;
	unsigned int index;
	enum devlink_port_flavour flavour;
	u32 controller;
	u16 pf;
	u32 fn;				/* vfnum or sfnum */
	bool external;
	u8 mac[ETH_ALEN];		/* port function hw_addr (not the netdev MAC) */
	struct kobject *kobj_smart_nic;	/* PHYSICAL only, no_pf_hw_addr mode */
	struct kobject *kobj_pf;
};

/* What a port_add line or a `devlink port add` asks for. */
struct sim_port_spec {
	enum devlink_port_flavour flavour;
	u32 controller;
	u32 pf;
	u32 fn;
	int external;			/* -1: default (controller != 0) */
	u8 mac[ETH_ALEN];
	bool has_mac;
	u32 count;
	int index;			/* -1: lowest free */
	char name[IFNAMSIZ];
};

static LIST_HEAD(sim_devs);
static DEFINE_MUTEX(sim_lock);
static struct dentry *sim_ddir;

/* ---------------------------------------------------------------- netdev */

static netdev_tx_t sim_ndo_start_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	/* A representor with no wire behind it: count and drop. */
	ndev->stats.tx_dropped++;
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* Carrier follows admin state, so operstate goes up/down like a real representor. */
static int sim_ndo_open(struct net_device *ndev)
{
	netif_carrier_on(ndev);
	return 0;
}

static int sim_ndo_stop(struct net_device *ndev)
{
	netif_carrier_off(ndev);
	return 0;
}

#ifndef SIM_NETDEV_DEVLINK_PORT
static struct devlink_port *sim_ndo_get_devlink_port(struct net_device *ndev)
{
	struct sim_port *port = netdev_priv(ndev);

	return &port->dl_port;
}
#endif

static const struct net_device_ops sim_netdev_ops = {
	.ndo_open = sim_ndo_open,
	.ndo_stop = sim_ndo_stop,
	.ndo_start_xmit = sim_ndo_start_xmit,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
#ifndef SIM_NETDEV_DEVLINK_PORT
	.ndo_get_devlink_port = sim_ndo_get_devlink_port,
#endif
};

/* ------------------------------------------- sysfs smart_nic/pf/config */

/*
 * The BlueField driver exposes the host PF's MAC on the DPU side in
 * /sys/class/net/<uplink>/smart_nic/pf/config when the pcipf port reports no
 * hw_addr.  We emulate it for PHYSICAL ports: the MAC is the one stored for
 * the external PCI_PF port with the same pf number (zero if there is none).
 */
static ssize_t sim_pf_config_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	struct device *d = kobj_to_dev(kobj->parent->parent);
	struct sim_port *uplink = netdev_priv(to_net_dev(d));
	struct sim_dev *sdev = uplink->sdev;
	u8 mac[ETH_ALEN] = {};
	struct sim_port *p;

	mutex_lock(&sdev->list_lock);
	list_for_each_entry(p, &sdev->port_list, list) {
		if (p->flavour == DEVLINK_PORT_FLAVOUR_PCI_PF && p->external &&
		    p->pf == uplink->pf) {
			ether_addr_copy(mac, p->mac);
			break;
		}
	}
	mutex_unlock(&sdev->list_lock);
	return sysfs_emit(buf, "MAC        : %pM\nMaxTxRate  : 0\nState      : Follow\n",
			  mac);
}

static struct kobj_attribute sim_pf_config_attr =
	__ATTR(config, 0444, sim_pf_config_show, NULL);

static void sim_sysfs_del(struct sim_port *port)
{
	if (!port->kobj_smart_nic)
		return;
	sysfs_remove_file(port->kobj_pf, &sim_pf_config_attr.attr);
	kobject_put(port->kobj_pf);
	kobject_put(port->kobj_smart_nic);
	port->kobj_pf = NULL;
	port->kobj_smart_nic = NULL;
}

static int sim_sysfs_add(struct sim_port *port)
{
	int err = -ENOMEM;

	if (port->kobj_smart_nic || port->flavour != DEVLINK_PORT_FLAVOUR_PHYSICAL)
		return 0;
	port->kobj_smart_nic = kobject_create_and_add("smart_nic", &port->ndev->dev.kobj);
	if (!port->kobj_smart_nic)
		return -ENOMEM;
	port->kobj_pf = kobject_create_and_add("pf", port->kobj_smart_nic);
	if (!port->kobj_pf)
		goto err;
	err = sysfs_create_file(port->kobj_pf, &sim_pf_config_attr.attr);
	if (err)
		goto err;
	return 0;
err:
	kobject_put(port->kobj_pf);
	kobject_put(port->kobj_smart_nic);
	port->kobj_pf = NULL;
	port->kobj_smart_nic = NULL;
	return err;
}

/* ----------------------------------------------- port function hw_addr */

static int sim_hw_addr_get(struct devlink_port *dl_port, u8 *hw_addr,
			   int *hw_addr_len, struct netlink_ext_ack *extack)
{
	struct sim_port *port = container_of(dl_port, struct sim_port, dl_port);

	if (port->flavour == DEVLINK_PORT_FLAVOUR_PHYSICAL)
		return -EOPNOTSUPP;
	/* Like a BlueField whose host PF MAC is only known through sysfs. */
	if (port->flavour == DEVLINK_PORT_FLAVOUR_PCI_PF && port->sdev->no_pf_hw_addr)
		eth_zero_addr(hw_addr);
	else
		ether_addr_copy(hw_addr, port->mac);
	*hw_addr_len = ETH_ALEN;
	return 0;
}

static int sim_hw_addr_set(struct devlink_port *dl_port, const u8 *hw_addr,
			   int hw_addr_len, struct netlink_ext_ack *extack)
{
	struct sim_port *port = container_of(dl_port, struct sim_port, dl_port);

	if (port->flavour == DEVLINK_PORT_FLAVOUR_PHYSICAL)
		return -EOPNOTSUPP;
	if (hw_addr_len != ETH_ALEN) {
		NL_SET_ERR_MSG(extack, "hw_addr must be 6 bytes");
		return -EINVAL;
	}
	mutex_lock(&port->sdev->list_lock);
	ether_addr_copy(port->mac, hw_addr);
	mutex_unlock(&port->sdev->list_lock);
	return 0;
}

#ifdef SIM_PORT_OPS
static int sim_port_del_op(struct devlink *devlink, struct devlink_port *dl_port,
			   struct netlink_ext_ack *extack);

static const struct devlink_port_ops sim_port_ops = {
	.port_fn_hw_addr_get = sim_hw_addr_get,
	.port_fn_hw_addr_set = sim_hw_addr_set,
	.port_del = sim_port_del_op,
};
#endif

/* ------------------------------------------------------ port add / del */

static const char *sim_flavour_name(enum devlink_port_flavour f)
{
	switch (f) {
	case DEVLINK_PORT_FLAVOUR_PHYSICAL: return "physical";
	case DEVLINK_PORT_FLAVOUR_PCI_PF: return "pf";
	case DEVLINK_PORT_FLAVOUR_PCI_VF: return "vf";
	case DEVLINK_PORT_FLAVOUR_PCI_SF: return "sf";
	default: return "?";
	}
}

/*
 * Add one port.  Called with devl_lock held, rtnl not held.
 * Order (checked on 6.1): attrs -> devl_port_register -> register_netdev ->
 * type_eth_set.
 */
static struct sim_port *sim_port_add(struct sim_dev *sdev, const struct sim_port_spec *s,
				     u32 fn, const u8 *mac)
{
	struct devlink_port_attrs attrs = {};
	struct net_device *ndev;
	struct sim_port *port;
	u32 index;
	int err;

	devl_assert_locked(sdev->devlink);

	ndev = alloc_netdev(sizeof(*port), s->name[0] ? s->name : "eth%d",
			    NET_NAME_ENUM, ether_setup);
	if (!ndev)
		return ERR_PTR(-ENOMEM);
	SET_NETDEV_DEV(ndev, &sdev->pdev->dev);
	ndev->netdev_ops = &sim_netdev_ops;
	/* Representors take jumbo MTUs (OVN's vif-plug-mtu-request sets them). */
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = 9216;
	eth_hw_addr_random(ndev);	/* locally administered, like a fresh representor */

	port = netdev_priv(ndev);
	port->sdev = sdev;
	port->ndev = ndev;
	port->flavour = s->flavour;
	port->controller = s->controller;
	port->pf = s->pf;
	port->fn = fn;
	port->external = s->external < 0 ? s->controller != 0 : s->external;
	if (mac)
		ether_addr_copy(port->mac, mac);

	/* Reserve the index; the xarray entry is the port itself. */
	if (s->index >= 0) {
		index = s->index;
		err = xa_insert(&sdev->ports, index, port, GFP_KERNEL);
	} else {
		err = xa_alloc(&sdev->ports, &index, port, xa_limit_31b, GFP_KERNEL);
	}
	if (err)
		goto err_free;
	port->index = index;

	/* The switch id makes phys_switch_id / "parent id" work. */
	port->dl_port.attrs.switch_id = sdev->switch_id;
	switch (s->flavour) {
	case DEVLINK_PORT_FLAVOUR_PHYSICAL:
		attrs.flavour = DEVLINK_PORT_FLAVOUR_PHYSICAL;
		attrs.phys.port_number = s->pf;
		attrs.switch_id = sdev->switch_id;
		devlink_port_attrs_set(&port->dl_port, &attrs);
		break;
	case DEVLINK_PORT_FLAVOUR_PCI_PF:
		devlink_port_attrs_pci_pf_set(&port->dl_port, s->controller, s->pf,
					      port->external);
		break;
	case DEVLINK_PORT_FLAVOUR_PCI_VF:
		devlink_port_attrs_pci_vf_set(&port->dl_port, s->controller, s->pf, fn,
					      port->external);
		break;
	case DEVLINK_PORT_FLAVOUR_PCI_SF:
		devlink_port_attrs_pci_sf_set(&port->dl_port, s->controller, s->pf, fn,
					      port->external);
		break;
	default:
		err = -EOPNOTSUPP;
		goto err_xa;
	}

#ifdef SIM_PORT_OPS
	err = devl_port_register_with_ops(sdev->devlink, &port->dl_port, index,
					  &sim_port_ops);
#else
	err = devl_port_register(sdev->devlink, &port->dl_port, index);
#endif
	if (err)
		goto err_xa;

#ifdef SIM_NETDEV_DEVLINK_PORT
	SET_NETDEV_DEVLINK_PORT(ndev, &port->dl_port);
#endif
	netif_carrier_off(ndev);
	err = register_netdev(ndev);
	if (err)
		goto err_dl;
#ifndef SIM_NETDEV_DEVLINK_PORT
	devlink_port_type_eth_set(&port->dl_port, ndev);
#endif

	mutex_lock(&sdev->list_lock);
	list_add_tail(&port->list, &sdev->port_list);
	mutex_unlock(&sdev->list_lock);

	if (sdev->no_pf_hw_addr) {
		err = sim_sysfs_add(port);
		if (err)
			netdev_warn(ndev, "smart_nic sysfs: %d\n", err);
	}
	return port;

err_dl:
	devl_port_unregister(&port->dl_port);
err_xa:
	xa_erase(&sdev->ports, index);
err_free:
	free_netdev(ndev);
	return ERR_PTR(err);
}

/* Unlink a port and detach its netdev from devlink (first half of a delete). */
static void sim_port_del_begin(struct sim_port *port)
{
	struct sim_dev *sdev = port->sdev;

	mutex_lock(&sdev->list_lock);
	list_del(&port->list);
	mutex_unlock(&sdev->list_lock);
	sim_sysfs_del(port);
#ifndef SIM_NETDEV_DEVLINK_PORT
	devlink_port_type_clear(&port->dl_port);
#endif
}

/* Second half, after the netdev is unregistered: devlink port, memory. */
static void sim_port_del_end(struct sim_port *port)
{
	xa_erase(&port->sdev->ports, port->index);
	devl_port_unregister(&port->dl_port);
	free_netdev(port->ndev);	/* frees port too */
}

/* Delete one port.  devl_lock held, rtnl not held. */
static void sim_port_del(struct sim_port *port)
{
	sim_port_del_begin(port);
	unregister_netdev(port->ndev);
	sim_port_del_end(port);
}

/*
 * Delete all ports of a device, batching the netdev unregistration (one
 * rtnl section and one RCU grace period instead of one per port: thousands
 * of ports go away in seconds, not minutes, under TCG).
 */
static void sim_port_del_all(struct sim_dev *sdev)
{
	struct sim_port *port, *tmp;
	LIST_HEAD(dying);
	LIST_HEAD(todel);

	devl_assert_locked(sdev->devlink);
	mutex_lock(&sdev->list_lock);
	list_splice_init(&sdev->port_list, &todel);
	mutex_unlock(&sdev->list_lock);

	list_for_each_entry(port, &todel, list) {
		sim_sysfs_del(port);
#ifndef SIM_NETDEV_DEVLINK_PORT
		devlink_port_type_clear(&port->dl_port);
#endif
	}
	rtnl_lock();
	list_for_each_entry(port, &todel, list)
		unregister_netdevice_queue(port->ndev, &dying);
	unregister_netdevice_many(&dying);
	rtnl_unlock();
	list_for_each_entry_safe(port, tmp, &todel, list)
		sim_port_del_end(port);
}

/* Add s->count ports (fn, fn+1, ...; MAC incremented likewise). */
static int sim_port_add_spec(struct sim_dev *sdev, struct sim_port_spec *s,
			     unsigned int *first_index)
{
	struct sim_port *port;
	u8 mac[ETH_ALEN];
	u32 i;

	for (i = 0; i < s->count; i++) {
		struct sim_port_spec one = *s;

		if (s->has_mac) {
			u64 m = ether_addr_to_u64(s->mac) + i;

			u64_to_ether_addr(m, mac);
		}
		if (s->index >= 0)
			one.index = s->index + i;
		/*
		 * A literal name= with count>1 gets the vf/sf number appended.
		 * Explicit names are much cheaper than "eth%d" for thousands of
		 * ports: the kernel scans every netdev to expand a %d template.
		 */
		if (s->count > 1 && s->name[0] && !strchr(s->name, '%') &&
		    snprintf(one.name, IFNAMSIZ, "%s%u", s->name, s->fn + i) >= IFNAMSIZ)
			return -ENAMETOOLONG;
		port = sim_port_add(sdev, &one, s->fn + i, s->has_mac ? mac : NULL);
		if (IS_ERR(port))
			return PTR_ERR(port);
		if (i == 0 && first_index)
			*first_index = port->index;
		cond_resched();
	}
	return 0;
}

/* ----------------------------------------------- devlink port add / del */

/* Lowest sfnum not used on (controller, pf). devl_lock held. */
static u32 sim_free_sfnum(struct sim_dev *sdev, u32 controller, u16 pf)
{
	struct sim_port *p;
	u32 sfnum = 0;
	bool again = true;

	while (again) {
		again = false;
		list_for_each_entry(p, &sdev->port_list, list) {
			if (p->flavour == DEVLINK_PORT_FLAVOUR_PCI_SF &&
			    p->controller == controller && p->pf == pf && p->fn == sfnum) {
				sfnum++;
				again = true;
			}
		}
	}
	return sfnum;
}

/*
 * `devlink port add DEV flavour pcisf pfnum N [sfnum M] [controller C]`
 * (and pcipf).  Runs with the devlink lock held by the core.
 */
static int sim_port_new_common(struct devlink *devlink,
			       const struct devlink_port_new_attrs *attrs,
			       struct netlink_ext_ack *extack,
			       struct sim_port **new_port)
{
	struct sim_dev *sdev = *(struct sim_dev **)devlink_priv(devlink);
	struct sim_port_spec s = { .count = 1, .external = -1, .index = -1 };
	struct sim_port *port;

	s.flavour = attrs->flavour;
	s.pf = attrs->pfnum;
	s.controller = attrs->controller_valid ? attrs->controller : 0;
	if (attrs->port_index_valid)
		s.index = attrs->port_index;
	switch (attrs->flavour) {
	case DEVLINK_PORT_FLAVOUR_PCI_SF:
		s.fn = attrs->sfnum_valid ? attrs->sfnum :
			sim_free_sfnum(sdev, s.controller, s.pf);
		break;
	case DEVLINK_PORT_FLAVOUR_PCI_PF:
		break;
	default:
		NL_SET_ERR_MSG(extack, "devlink_sim: only pcisf and pcipf can be added");
		return -EOPNOTSUPP;
	}
	port = sim_port_add(sdev, &s, s.fn, NULL);
	if (IS_ERR(port))
		return PTR_ERR(port);
	*new_port = port;
	return 0;
}

#ifdef SIM_PORT_OPS
static int sim_port_new(struct devlink *devlink,
			const struct devlink_port_new_attrs *attrs,
			struct netlink_ext_ack *extack,
			struct devlink_port **devlink_port)
{
	struct sim_port *port;
	int err = sim_port_new_common(devlink, attrs, extack, &port);

	if (!err)
		*devlink_port = &port->dl_port;
	return err;
}

static int sim_port_del_op(struct devlink *devlink, struct devlink_port *dl_port,
			   struct netlink_ext_ack *extack)
{
	sim_port_del(container_of(dl_port, struct sim_port, dl_port));
	return 0;
}
#else
static int sim_port_new(struct devlink *devlink,
			const struct devlink_port_new_attrs *attrs,
			struct netlink_ext_ack *extack,
			unsigned int *new_port_index)
{
	struct sim_port *port;
	int err = sim_port_new_common(devlink, attrs, extack, &port);

	if (!err)
		*new_port_index = port->index;
	return err;
}

static int sim_port_del_op(struct devlink *devlink, unsigned int port_index,
			   struct netlink_ext_ack *extack)
{
	struct sim_dev *sdev = *(struct sim_dev **)devlink_priv(devlink);
	struct sim_port *port = xa_load(&sdev->ports, port_index);

	if (!port)
		return -ENODEV;
	sim_port_del(port);
	return 0;
}
#endif

static const struct devlink_ops sim_devlink_ops = {
	.port_new = sim_port_new,
#ifndef SIM_PORT_OPS
	.port_del = sim_port_del_op,
	.port_function_hw_addr_get = sim_hw_addr_get,
	.port_function_hw_addr_set = sim_hw_addr_set,
#endif
};

/* ------------------------------------------------------ debugfs parser */

static int sim_parse_spec(char *line, struct sim_port_spec *s)
{
	char *tok, *val;
	bool have_pf = false, have_fn = false;
	u32 v;
	int err;

	memset(s, 0, sizeof(*s));
	s->external = -1;
	s->index = -1;
	s->count = 1;

	tok = strsep(&line, " \t\n");
	if (!tok)
		return -EINVAL;
	if (!strcmp(tok, "physical"))
		s->flavour = DEVLINK_PORT_FLAVOUR_PHYSICAL;
	else if (!strcmp(tok, "pf"))
		s->flavour = DEVLINK_PORT_FLAVOUR_PCI_PF;
	else if (!strcmp(tok, "vf"))
		s->flavour = DEVLINK_PORT_FLAVOUR_PCI_VF;
	else if (!strcmp(tok, "sf"))
		s->flavour = DEVLINK_PORT_FLAVOUR_PCI_SF;
	else
		return -EINVAL;

	while ((tok = strsep(&line, " \t\n"))) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(tok, "mac")) {
			if (!mac_pton(val, s->mac))
				return -EINVAL;
			s->has_mac = true;
			continue;
		}
		if (!strcmp(tok, "name")) {
			if (strscpy(s->name, val, IFNAMSIZ) < 0 || !dev_valid_name(val))
				return -EINVAL;
			continue;
		}
		err = kstrtou32(val, 0, &v);
		if (err)
			return err;
		if (!strcmp(tok, "controller")) {
			s->controller = v;
		} else if (!strcmp(tok, "pf")) {
			if (v > U16_MAX)
				return -ERANGE;
			s->pf = v;
			have_pf = true;
		} else if (!strcmp(tok, "vf") || !strcmp(tok, "sf")) {
			s->fn = v;
			have_fn = true;
		} else if (!strcmp(tok, "external")) {
			s->external = !!v;
		} else if (!strcmp(tok, "count")) {
			if (!v || v > 65536)
				return -ERANGE;
			s->count = v;
		} else if (!strcmp(tok, "index")) {
			if (v > INT_MAX)
				return -ERANGE;
			s->index = v;
		} else {
			return -EINVAL;
		}
	}
	if (!have_pf)
		return -EINVAL;
	if ((s->flavour == DEVLINK_PORT_FLAVOUR_PCI_VF ||
	     s->flavour == DEVLINK_PORT_FLAVOUR_PCI_SF) != have_fn)
		return -EINVAL;
	if (s->flavour == DEVLINK_PORT_FLAVOUR_PCI_VF && s->fn + s->count - 1 > U16_MAX)
		return -ERANGE;
	return 0;
}

static char *sim_read_line(const char __user *ubuf, size_t count)
{
	if (count >= SIM_MAX_LINE)
		return ERR_PTR(-E2BIG);
	return memdup_user_nul(ubuf, count);
}

static ssize_t sim_port_add_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct sim_dev *sdev = file->private_data;
	struct sim_port_spec s;
	char *line;
	int err;

	line = sim_read_line(ubuf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);
	err = sim_parse_spec(line, &s);
	kfree(line);
	if (err)
		return err;
	devl_lock(sdev->devlink);
	err = sim_port_add_spec(sdev, &s, NULL);
	devl_unlock(sdev->devlink);
	return err ? err : count;
}

static ssize_t sim_port_del_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct sim_dev *sdev = file->private_data;
	struct sim_port *port;
	char *line;
	u32 index;
	int err = 0;

	line = sim_read_line(ubuf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);
	devl_lock(sdev->devlink);
	if (sysfs_streq(line, "all")) {
		sim_port_del_all(sdev);
	} else {
		err = kstrtou32(strim(line), 0, &index);
		if (!err) {
			port = xa_load(&sdev->ports, index);
			if (port)
				sim_port_del(port);
			else
				err = -ENOENT;
		}
	}
	devl_unlock(sdev->devlink);
	kfree(line);
	return err ? err : count;
}

static ssize_t sim_no_pf_hw_addr_read(struct file *file, char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	struct sim_dev *sdev = file->private_data;
	char buf[3] = { sdev->no_pf_hw_addr ? '1' : '0', '\n', 0 };

	return simple_read_from_buffer(ubuf, count, ppos, buf, 2);
}

/* Toggling the mode adds/removes smart_nic/pf/config on existing uplinks. */
static ssize_t sim_no_pf_hw_addr_write(struct file *file, const char __user *ubuf,
				       size_t count, loff_t *ppos)
{
	struct sim_dev *sdev = file->private_data;
	struct sim_port *port;
	bool on;
	int err;

	err = kstrtobool_from_user(ubuf, count, &on);
	if (err)
		return err;
	devl_lock(sdev->devlink);
	sdev->no_pf_hw_addr = on;
	list_for_each_entry(port, &sdev->port_list, list) {
		if (on)
			err = sim_sysfs_add(port) ?: err;
		else
			sim_sysfs_del(port);
	}
	devl_unlock(sdev->devlink);
	return err ? err : count;
}

/* "ports": index flavour controller pf fn external netdev hw_addr */
static int sim_ports_show(struct seq_file *m, void *v)
{
	struct sim_dev *sdev = m->private;
	struct sim_port *p;
	unsigned long i;

	devl_lock(sdev->devlink);
	xa_for_each(&sdev->ports, i, p)
		seq_printf(m, "%u %s c%u pf%u %u external=%d %s %pM\n", p->index,
			   sim_flavour_name(p->flavour), p->controller, p->pf, p->fn,
			   p->external, netdev_name(p->ndev), p->mac);
	devl_unlock(sdev->devlink);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_ports);

static const struct file_operations sim_port_add_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_port_add_write,
};

static const struct file_operations sim_port_del_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_port_del_write,
};

static const struct file_operations sim_no_pf_hw_addr_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = sim_no_pf_hw_addr_read,
	.write = sim_no_pf_hw_addr_write,
};

/* ------------------------------------------------------------ devices */

static struct sim_dev *sim_dev_find(u32 id)
{
	struct sim_dev *sdev;

	list_for_each_entry(sdev, &sim_devs, list)
		if (sdev->id == id)
			return sdev;
	return NULL;
}

static int sim_dev_new(u32 id)
{
	struct platform_device *pdev;
	struct devlink *devlink;
	struct sim_dev *sdev;
	char name[16];
	int err;

	mutex_lock(&sim_lock);
	if (sim_dev_find(id)) {
		err = -EEXIST;
		goto unlock;
	}
	pdev = platform_device_register_simple(DRV_NAME, id, NULL, 0);
	if (IS_ERR(pdev)) {
		err = PTR_ERR(pdev);
		goto unlock;
	}
	/* devlink priv holds a pointer; sim_dev has its own lifetime. */
	devlink = devlink_alloc(&sim_devlink_ops, sizeof(sdev), &pdev->dev);
	sdev = kzalloc(sizeof(*sdev), GFP_KERNEL);
	if (!devlink || !sdev) {
		err = -ENOMEM;
		goto err_free;
	}
	*(struct sim_dev **)devlink_priv(devlink) = sdev;
	sdev->id = id;
	sdev->pdev = pdev;
	sdev->devlink = devlink;
	xa_init_flags(&sdev->ports, XA_FLAGS_ALLOC);
	INIT_LIST_HEAD(&sdev->port_list);
	mutex_init(&sdev->list_lock);
	/* 02:00:53:xx:xx:xx:xx:xx — locally administered, unique per device */
	sdev->switch_id.id_len = 8;
	sdev->switch_id.id[0] = 0x02;
	sdev->switch_id.id[2] = 0x53;
	sdev->switch_id.id[4] = id >> 24;
	sdev->switch_id.id[5] = id >> 16;
	sdev->switch_id.id[6] = id >> 8;
	sdev->switch_id.id[7] = id;

	devlink_register(devlink);

	snprintf(name, sizeof(name), "%u", id);
	sdev->ddir = debugfs_create_dir(name, sim_ddir);
	debugfs_create_file("port_add", 0200, sdev->ddir, sdev, &sim_port_add_fops);
	debugfs_create_file("port_del", 0200, sdev->ddir, sdev, &sim_port_del_fops);
	debugfs_create_file("no_pf_hw_addr", 0600, sdev->ddir, sdev,
			    &sim_no_pf_hw_addr_fops);
	debugfs_create_file("ports", 0400, sdev->ddir, sdev, &sim_ports_fops);

	list_add_tail(&sdev->list, &sim_devs);
	mutex_unlock(&sim_lock);
	return 0;

err_free:
	kfree(sdev);
	if (devlink)
		devlink_free(devlink);
	platform_device_unregister(pdev);
unlock:
	mutex_unlock(&sim_lock);
	return err;
}

/* Caller has unlinked sdev from sim_devs. */
static void sim_dev_destroy(struct sim_dev *sdev)
{
	/* Waits for any debugfs writer of this device to finish. */
	debugfs_remove_recursive(sdev->ddir);

	/* Ports go first, while the instance is registered: PORT_DEL is sent. */
	devl_lock(sdev->devlink);
	sim_port_del_all(sdev);
	devl_unlock(sdev->devlink);

	devlink_unregister(sdev->devlink);
	devlink_free(sdev->devlink);
	platform_device_unregister(sdev->pdev);
	xa_destroy(&sdev->ports);
	kfree(sdev);
}

static ssize_t sim_new_device_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	u32 id;
	int err = kstrtou32_from_user(ubuf, count, 0, &id);

	if (err)
		return err;
	err = sim_dev_new(id);
	return err ? err : count;
}

static ssize_t sim_del_device_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct sim_dev *sdev;
	u32 id;
	int err = kstrtou32_from_user(ubuf, count, 0, &id);

	if (err)
		return err;
	/*
	 * sim_lock is held throughout so that the id cannot be reused before
	 * the platform device is gone.  Safe: per-device files never take it.
	 */
	mutex_lock(&sim_lock);
	sdev = sim_dev_find(id);
	if (sdev) {
		list_del(&sdev->list);
		sim_dev_destroy(sdev);
	}
	mutex_unlock(&sim_lock);
	return sdev ? count : -ENOENT;
}

static const struct file_operations sim_new_device_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_new_device_write,
};

static const struct file_operations sim_del_device_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_del_device_write,
};

static int __init sim_init(void)
{
	sim_ddir = debugfs_create_dir(DRV_NAME, NULL);
	if (IS_ERR(sim_ddir))
		return PTR_ERR(sim_ddir);
	debugfs_create_file("new_device", 0200, sim_ddir, NULL, &sim_new_device_fops);
	debugfs_create_file("del_device", 0200, sim_ddir, NULL, &sim_del_device_fops);
	return 0;
}

static void __exit sim_exit(void)
{
	struct sim_dev *sdev, *tmp;

	/* No debugfs file is open: each open holds a module reference. */
	list_for_each_entry_safe(sdev, tmp, &sim_devs, list) {
		list_del(&sdev->list);
		sim_dev_destroy(sdev);
	}
	debugfs_remove_recursive(sim_ddir);
}

module_init(sim_init);
module_exit(sim_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("devlink SmartNIC/DPU eswitch simulator for the ovn-vif-rs test bed");

// SPDX-License-Identifier: GPL-2.0
/*
 * rxdpctl attach / detach: from a loaded module to a working device on an
 * interface in one command, and back.
 *
 * attach, in this order (detach and every failure undo it in reverse):
 *   1. pin directory  RXDP_PIN_DIR/<ifname>/
 *   2. XDP program    loaded and attached through libxdp, which creates
 *                     and pins its maps (pin paths set before load); it
 *                     passes everything until dev_config says ACTIVE
 *   3. RDMA device    RDMA netlink NEWLINK, "rxdp" link on the interface
 *   4. dev_config     ifindex, device index, MTU, P_Key table
 *   5. binding        a syscall program hands qp_table, qp_slots and
 *                     gid_table to the module
 *   6. ACTIVE         the XDP program starts judging RoCE packets
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "rxdp.skel.h"
#include "bind.skel.h"
#include "rdma_nl.h"
#include "rxdpctl.h"

/* Largest RoCE payload: IB MTU 4096.  The port's active MTU follows the
 * netdev's later on, and the responder checks each QP's path MTU. */
#define RXDP_CFG_MTU	4096

/* Open the XDP program's object and list the maps that get pinned. */
static struct rxdp_bpf *open_xdp_obj(struct bpf_map *maps[PIN_N])
{
	struct rxdp_bpf *skel = rxdp_bpf__open();

	if (!skel) {
		fail("cannot open the XDP program's object: %s",
		     strerror(errno));
		return NULL;
	}
	maps[PIN_QP_TABLE] = skel->maps.qp_table;
	maps[PIN_QP_SLOTS] = skel->maps.qp_slots;
	maps[PIN_GID_TABLE] = skel->maps.gid_table;
	maps[PIN_DEV_CONFIG] = skel->maps.dev_config;
	maps[PIN_COUNTERS] = skel->maps.rx_counters;
	return skel;
}

int pin_specs_init(void)
{
	struct bpf_map *maps[PIN_N];
	struct rxdp_bpf *skel;
	int i;

	skel = open_xdp_obj(maps);
	if (!skel)
		return -1;
	for (i = 0; i < PIN_N; i++) {
		pin_specs[i].type = bpf_map__type(maps[i]);
		pin_specs[i].key_size = bpf_map__key_size(maps[i]);
		pin_specs[i].value_size = bpf_map__value_size(maps[i]);
		pin_specs[i].max_entries = bpf_map__max_entries(maps[i]);
	}
	rxdp_bpf__destroy(skel);
	return 0;
}

/* ---- our XDP program on an interface ------------------------------------ */

static const char *mode_name(enum xdp_attach_mode m)
{
	switch (m) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_SKB: return "generic";
	case XDP_MODE_HW: return "offload";
	default: return "?";
	}
}

/* Our program in mp (the main one when there is no dispatcher), or NULL. */
static struct xdp_program *mp_find_ours(struct xdp_multiprog *mp)
{
	struct xdp_program *p = NULL;

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return p && !strcmp(xdp_program__name(p), RXDP_XDP_PROG) ?
			p : NULL;
	}
	while ((p = xdp_multiprog__next_prog(p, mp)))
		if (!strcmp(xdp_program__name(p), RXDP_XDP_PROG))
			return p;
	return NULL;
}

static struct xdp_multiprog *mp_get(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);

	return libxdp_get_error(mp) ? NULL : mp;
}

int xdp_find_ours(int ifindex, __u32 *id, __u32 *dispatcher_id,
		  const char **mode)
{
	struct xdp_multiprog *mp = mp_get(ifindex);
	struct xdp_program *p;
	int ret = -ENOENT;

	if (!mp)
		return -ENOENT;
	p = mp_find_ours(mp);
	if (p) {
		*id = xdp_program__id(p);
		*dispatcher_id = xdp_multiprog__is_legacy(mp) ? 0 :
			xdp_program__id(xdp_multiprog__main_prog(mp));
		*mode = mode_name(xdp_multiprog__attach_mode(mp));
		ret = 0;
	}
	xdp_multiprog__close(mp);
	return ret;
}

/* Detach every copy of our program from ifindex, nobody else's. */
static int xdp_detach_ours(const char *ifname, int ifindex)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int err;

	while ((mp = mp_get(ifindex))) {
		p = mp_find_ours(mp);
		if (!p) {
			xdp_multiprog__close(mp);
			return 0;
		}
		err = xdp_program__detach(p, ifindex, XDP_MODE_UNSPEC, 0);
		xdp_multiprog__close(mp);
		if (err)
			return fail("cannot detach the XDP program from %s: %s",
				    ifname, strerror(-err));
	}
	return 0;
}

/* ---- checks ------------------------------------------------------------ */

int need_root(void)
{
	if (geteuid() != 0)
		return fail("must be run as root (BPF, XDP and RDMA netlink "
			    "need it); try: sudo rxdpctl ...");
	return 0;
}

int need_module(void)
{
	if (access("/sys/module/rxdp", F_OK))
		return fail("the rxdp module is not loaded; load it first: "
			    "modprobe -a ib_core ib_uverbs && insmod rxdp.ko");
	return 0;
}

/* Is the pin directory there, and if so, why may it not be used? */
static int check_not_pinned(const struct pin_dir *d)
{
	char why[512];
	int i, fd;

	if (!pin_dir_exists(d))
		return 0;
	for (i = 0; i < PIN_N; i++) {
		fd = pin_open(d, i, why, sizeof(why));
		if (fd == -ESTALE)
			return fail("maps from another rxdp version: %s; "
				    "remove them with: rxdpctl detach %s",
				    why, d->ifname);
		if (fd >= 0)
			close(fd);
		else if (fd != -ENOENT)
			return -1;
	}
	return fail("%s is already attached (%s exists); detach it first: "
		    "rxdpctl detach %s", d->ifname, d->shown, d->ifname);
}

static int check_name(const char *name)
{
	__u32 index;
	int err;

	if (!*name || strlen(name) >= RDMA_NAME_LEN - 1)
		return fail("device name '%s' must have 1 to %d characters",
			    name, RDMA_NAME_LEN - 2);
	if (strpbrk(name, "%/ \t\n"))
		return fail("device name '%s' may not contain '%%', '/' or "
			    "spaces", name);
	err = rdma_nl_dev_index(name, &index);
	if (!err)
		return fail("an RDMA device called %s exists already; choose "
			    "another with --name", name);
	if (err != -ENODEV)
		return fail("cannot list RDMA devices: %s", strerror(-err));
	return 0;
}

/* The first free rxdpN. */
static int pick_name(char *name, size_t len)
{
	__u32 index;
	int i, err;

	for (i = 0; i < 1000; i++) {
		snprintf(name, len, "rxdp%d", i);
		err = rdma_nl_dev_index(name, &index);
		if (err == -ENODEV)
			return 0;
		if (err)
			return fail("cannot list RDMA devices: %s",
				    strerror(-err));
	}
	return fail("no free device name rxdp0..rxdp999; choose one with "
		    "--name");
}

static int parse_mode(const char *s, enum xdp_attach_mode *mode)
{
	if (!strcmp(s, "native"))
		*mode = XDP_MODE_NATIVE;
	else if (!strcmp(s, "generic"))
		*mode = XDP_MODE_SKB;
	else
		return fail("unknown XDP mode '%s'; use --mode native or "
			    "--mode generic", s);
	return 0;
}

/*
 * getopt_long for a subcommand, with errors of our own making: the option,
 * -1 at the end, -2 after an error (reported).
 */
static int sub_getopt(int argc, char **argv, const char *cmd,
		      const struct option *opts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, ":", opts, NULL);
	if (c == '?') {
		fail("%s: unknown option '%s'; see rxdpctl --help", cmd,
		     argv[optind - 1]);
		return -2;
	}
	if (c == ':') {
		fail("%s: option '%s' needs a value; see rxdpctl --help", cmd,
		     argv[optind - 1]);
		return -2;
	}
	return c;
}

/* Exactly one operand: the interface. */
static int one_ifname(int argc, char **argv, const char *cmd,
		      const char **ifname)
{
	if (optind >= argc)
		return fail("%s: missing interface name; usage: rxdpctl %s "
			    "IFNAME", cmd, cmd);
	if (optind + 1 < argc)
		return fail("%s: unexpected argument '%s'; see rxdpctl --help",
			    cmd, argv[optind + 1]);
	*ifname = argv[optind];
	if (strlen(*ifname) >= IF_NAMESIZE)
		return fail("no interface %s: names have at most %d "
			    "characters", *ifname, IF_NAMESIZE - 1);
	return 0;
}

/* ---- attach ------------------------------------------------------------ */

/* Keep Ctrl-C and kill from stopping a ladder half-way. */
static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, old);
}

static int write_config(int fd, const struct rxdp_dev_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(fd, &zero, cfg, BPF_ANY))
		return fail("cannot write %s: %s", RXDP_MAP_DEV_CONFIG,
			    strerror(errno));
	return 0;
}

static int xdp_attach_error(int err, const char *ifname,
			    enum xdp_attach_mode mode)
{
	if (err == -EOPNOTSUPP && mode == XDP_MODE_NATIVE)
		return fail("%s does not support XDP in native mode; use "
			    "--mode generic", ifname);
	if (err == -ERANGE)
		return fail("the MTU of %s (or of its veth peer) is too large "
			    "for an XDP program without multi-buffer support "
			    "(is there another on it?); see xdp-loader status "
			    "%s", ifname, ifname);
	if (err == -EEXIST || err == -EBUSY)
		return fail("%s has an XDP program in another mode or one "
			    "libxdp cannot share; see xdp-loader status %s",
			    ifname, ifname);
	return fail("cannot attach the XDP program to %s: %s", ifname,
		    strerror(-err));
}

static int link_add_error(int err, const char *name, const char *ifname)
{
	switch (err) {
	case -EEXIST:
		return fail("%s or the name %s is taken by another RDMA "
			    "device; see rdma link show", ifname, name);
	case -EINVAL:
		return fail("rxdp refused %s: not an Ethernet device", ifname);
	case -EOPNOTSUPP:
	case -ENOENT:
		return fail("the RDMA core does not know the link type rxdp; "
			    "is the rxdp module loaded?");
	default:
		return fail("cannot create the RDMA device %s on %s: %s", name,
			    ifname, strerror(-err));
	}
}

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	struct rxdp_dev_config cfg = {
		.mtu = RXDP_CFG_MTU,
		.pkey_tbl_len = 1,
		.pkey = { RXDP_PKEY_DEFAULT },
	};
	LIBBPF_OPTS(bpf_test_run_opts, run);
	char root[PATH_MAX], path[PATH_MAX], name[RDMA_NAME_LEN] = "";
	struct xdp_program *prog = NULL;
	struct bpf_map *maps[PIN_N];
	struct rxdp_bpf *skel = NULL;
	struct bind_bpf *bind = NULL;
	const char *ifname, *owner;
	bool made_root = false;
	__u32 dev_index, id, disp;
	struct pin_dir d;
	sigset_t old_mask;
	int c, i, err = -1, ifindex;

	while ((c = sub_getopt(argc, argv, "attach", opts)) != -1) {
		if (c == -2)
			return -1;
		if (c == 'm' && parse_mode(optarg, &mode))
			return -1;
		if (c == 'n')
			snprintf(name, sizeof(name), "%s", optarg);
	}
	if (one_ifname(argc, argv, "attach", &ifname) || need_root() ||
	    need_module() || pin_specs_init() || pin_root(root, sizeof(root)))
		return -1;
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return fail("no interface %s in this network namespace; see "
			    "ip link show", ifname);
	pin_dir_init(&d, root, ifname);
	if (check_not_pinned(&d))
		return -1;
	if (!xdp_find_ours(ifindex, &id, &disp, &owner))
		return fail("%s already runs the rxdp XDP program (id %u) "
			    "without pinned maps; remove it: rxdpctl detach %s",
			    ifname, id, ifname);
	err = rdma_nl_dev_on_netdev(ifindex, path, sizeof(path), &dev_index);
	if (!err)
		return fail("%s already has the RDMA device %s; delete it "
			    "first: rdma link delete %s", ifname, path, path);
	if (err != -ENODEV)
		return fail("cannot list RDMA devices: %s", strerror(-err));
	if (*name ? check_name(name) : pick_name(name, sizeof(name)))
		return -1;

	skel = open_xdp_obj(maps);
	if (!skel)
		return -1;
	for (i = 0; i < PIN_N; i++) {
		pin_map_path(&d, i, false, path, sizeof(path));
		if (bpf_map__set_pin_path(maps[i], path)) {
			fail("cannot set the pin path %s: %s", path,
			     strerror(errno));
			err = -1;
			goto out_close;
		}
	}

	/* from here on, all or nothing: no interruption half-way */
	block_signals(&old_mask);

	/* 1. pin directory */
	if (!mkdir(root, 0700))
		made_root = true;
	else if (errno != EEXIST) {
		fail("cannot create %s: %s", RXDP_PIN_DIR, strerror(errno));
		err = -1;
		goto out_unblock;
	}
	if (mkdir(d.path, 0700)) {
		/* the directory is the lock against a concurrent attach */
		if (errno == EEXIST)
			fail("%s is being attached by someone else (%s "
			     "appeared)", ifname, d.shown);
		else
			fail("cannot create %s: %s", d.shown, strerror(errno));
		goto err_root;
	}

	/* 2. XDP program, which creates and pins the maps as it loads */
	prog = xdp_program__from_bpf_obj(skel->obj, NULL);
	err = libxdp_get_error(prog);
	if (err) {
		prog = NULL;
		fail("cannot use the XDP program's object: %s", strerror(-err));
		goto err_pins;
	}
	/*
	 * libbpf only turns "xdp.frags" into BPF_F_XDP_HAS_FRAGS as it loads,
	 * and libxdp decides before that whether its dispatcher takes
	 * multi-buffer frames, which jumbo MTUs (IB MTU 4096) need.
	 */
	if (!strcmp(bpf_program__section_name(skel->progs.rxdp_rx),
		    "xdp.frags"))
		xdp_program__set_xdp_frags_support(prog, true);
	err = xdp_program__attach(prog, ifindex, mode, 0);
	if (err) {
		xdp_attach_error(err, ifname, mode);
		goto err_pins;
	}
	/* the handover program: loading it needs the module's kfunc */
	bind = bind_bpf__open();
	if (!bind) {
		fail("cannot open the binding program: %s", strerror(errno));
		goto err_xdp;
	}
	bind->rodata->ifindex = ifindex;
	err = bpf_map__reuse_fd(bind->maps.qp_table,
				bpf_map__fd(skel->maps.qp_table));
	if (!err)
		err = bpf_map__reuse_fd(bind->maps.qp_slots,
					bpf_map__fd(skel->maps.qp_slots));
	if (!err)
		err = bpf_map__reuse_fd(bind->maps.gid_table,
					bpf_map__fd(skel->maps.gid_table));
	if (!err)
		err = bind_bpf__load(bind);
	if (err) {
		fail("cannot load the program that hands the QP table to rxdp: "
		     "%s; is the rxdp module of this build loaded?",
		     strerror(-err));
		goto err_xdp;
	}

	/* 3. RDMA device */
	err = rdma_nl_link_add(name, "rxdp", ifname);
	if (err) {
		link_add_error(err, name, ifname);
		goto err_xdp;
	}
	err = rdma_nl_dev_index(name, &dev_index);
	if (err) {
		fail("the new RDMA device %s is gone: %s", name,
		     strerror(-err));
		goto err_xdp;
	}

	/* 4. dev_config, not active yet */
	cfg.ifindex = ifindex;
	cfg.dev_index = dev_index;
	if (write_config(bpf_map__fd(skel->maps.dev_config), &cfg))
		goto err_link;

	/* 5. binding */
	err = bpf_prog_test_run_opts(bpf_program__fd(bind->progs.rxdp_bind),
				     &run);
	if (err) {
		fail("cannot run the program that hands the QP table to rxdp: "
		     "%s", strerror(errno));
		goto err_link;
	}
	if ((int)run.retval) {
		fail("rxdp refused the QP table of %s: %s", ifname,
		     strerror(-(int)run.retval));
		goto err_link;
	}

	/* 6. active */
	cfg.flags = RXDP_CFG_F_ACTIVE | RXDP_CFG_F_ICRC;
	if (write_config(bpf_map__fd(skel->maps.dev_config), &cfg))
		goto err_link;

	printf("attached %s to %s: XDP %s, program id %u, maps in %s\n", name,
	       ifname, mode_name(mode), xdp_program__id(prog), d.shown);
	err = 0;
	goto out_unblock;

err_link:
	err = rdma_nl_link_del(dev_index);
	if (err)
		fail("cannot delete the RDMA device %s: %s", name,
		     strerror(-err));
err_xdp:
	xdp_detach_ours(ifname, ifindex);
err_pins:
	pin_remove(&d, root);
	made_root = false;	/* pin_remove took the parent when empty */
err_root:
	if (made_root)
		rmdir(root);
	err = -1;
out_unblock:
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
out_close:
	bind_bpf__destroy(bind);
	xdp_program__close(prog);
	rxdp_bpf__destroy(skel);
	return err ? -1 : 0;
}

/* ---- detach ------------------------------------------------------------ */

/*
 * The device, interface and flags dev_config records.  Read raw: maps of
 * another version are to be removed as well, and these three fields have
 * led the value from the start.
 */
static int read_config_raw(const struct pin_dir *d, int *fd_out,
			   struct rxdp_dev_config *cfg)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	char path[PATH_MAX];
	void *val;
	int fd;

	*fd_out = -1;
	pin_map_path(d, PIN_DEV_CONFIG, false, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
	    info.value_size < 12) {
		close(fd);
		return -ESTALE;
	}
	val = calloc(1, info.value_size);
	if (!val || bpf_map_lookup_elem(fd, &zero, val)) {
		free(val);
		close(fd);
		return -EIO;
	}
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg, val, info.value_size < sizeof(*cfg) ? info.value_size :
							   sizeof(*cfg));
	free(val);
	/* only a map of this build's layout is written back */
	if (info.value_size == sizeof(*cfg))
		*fd_out = fd;
	else
		close(fd);
	return 0;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	struct rxdp_dev_config cfg;
	char root[PATH_MAX], name[RDMA_NAME_LEN];
	bool pinned, have_cfg = false, dev_here = false;
	__u32 id, disp;
	const char *ifname, *mode;
	int c, err, ifindex, cfg_fd = -1, nd = 0;
	sigset_t old_mask;
	struct pin_dir d;

	while ((c = sub_getopt(argc, argv, "detach", opts)) != -1)
		return -1;
	if (one_ifname(argc, argv, "detach", &ifname) || need_root() ||
	    pin_specs_init() || pin_root(root, sizeof(root)))
		return -1;
	ifindex = if_nametoindex(ifname);
	pin_dir_init(&d, root, ifname);
	pinned = pin_dir_exists(&d);
	if (!pinned && !(ifindex && !xdp_find_ours(ifindex, &id, &disp, &mode))) {
		if (!ifindex)
			return fail("no interface %s here and nothing pinned "
				    "at %s; nothing to detach", ifname, d.shown);
		return fail("%s is not attached (no %s, no rxdp XDP program); "
			    "nothing to detach", ifname, d.shown);
	}

	if (pinned && !read_config_raw(&d, &cfg_fd, &cfg))
		have_cfg = true;
	if (have_cfg && cfg.ifindex) {
		/* is the recorded device still there, and on which netdev? */
		err = rdma_nl_dev_name(cfg.dev_index, name, sizeof(name));
		if (!err)
			err = rdma_nl_dev_netdev(cfg.dev_index, &nd);
		dev_here = !err && nd && nd == ifindex;
		if (!err && !dev_here) {
			/* alive elsewhere: its interface is not ours here */
			if (cfg_fd >= 0)
				close(cfg_fd);
			return fail("%s at %s belongs to an interface in another "
				    "network namespace; detach it there: ip "
				    "netns exec NS rxdpctl detach %s", ifname,
				    d.shown, ifname);
		}
	}

	block_signals(&old_mask);
	/* 6. inactive: the program passes everything from here on */
	if (cfg_fd >= 0) {
		cfg.flags &= ~RXDP_CFG_F_ACTIVE;
		write_config(cfg_fd, &cfg);
		close(cfg_fd);
	}
	/* 5.-3. the device; the module lets go of the QP table with it */
	if (dev_here) {
		err = rdma_nl_link_del(cfg.dev_index);
		if (err && err != -ENODEV && err != -EINVAL)
			fail("cannot delete the RDMA device %s: %s", name,
			     strerror(-err));
	}
	/* 2. the XDP program */
	if (ifindex)
		xdp_detach_ours(ifname, ifindex);
	/*
	 * The interface is gone, and with it the program; but libxdp's pins
	 * of its dispatcher (RXDP_PIN_DIR/../xdp/dispatch-<ifindex>-<id>)
	 * keep the dispatcher, our program and its maps alive.
	 */
	if (have_cfg && (!ifindex || cfg.ifindex != (__u32)ifindex))
		libxdp_clean_references(cfg.ifindex);
	/* 1. the pins */
	if (pinned)
		pin_remove(&d, root);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	if (failed())
		return -1;
	if (dev_here)
		printf("detached %s from %s\n", name, ifname);
	else
		printf("detached %s\n", ifname);
	return 0;
}

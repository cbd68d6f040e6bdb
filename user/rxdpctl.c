// SPDX-License-Identifier: GPL-2.0
/*
 * rxdpctl: the loader of rxdp.  Attaches the XDP receive path to an
 * interface and creates the rxdp device on it (attach.c), and shows what
 * is attached, the QP table and the receive counters (here).
 *
 * Every failure is one line on stderr naming what was wrong and what to
 * do, and a non-zero exit; libbpf and libxdp only talk with -v.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "rdma_nl.h"
#include "rxdpctl.h"

int rxdpctl_verbose;
static bool reported;

int fail(const char *fmt, ...)
{
	va_list ap;

	if (reported)
		return -1;
	reported = true;
	fflush(stdout);
	fputs("rxdpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

bool failed(void)
{
	return reported;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!rxdpctl_verbose || (level == LIBBPF_DEBUG && rxdpctl_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	if (!rxdpctl_verbose || (level == LIBXDP_DEBUG && rxdpctl_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const char usage_text[] =
"usage: rxdpctl [-v] COMMAND [ARGS]\n"
"\n"
"  attach IFNAME [--mode native|generic] [--name NAME]\n"
"        load the XDP receive path on IFNAME (default mode native), pin its\n"
"        maps under " RXDP_PIN_DIR "/IFNAME, create the rxdp device NAME\n"
"        (default: the first free rxdpN) and bind the two\n"
"  detach IFNAME\n"
"        remove the rxdp device, the XDP program and the pinned maps\n"
"  status\n"
"        attached interfaces: device, XDP mode, program ids, pinned maps\n"
"  qp [--dev NAME]\n"
"        the QP table of every attached device, or of NAME\n"
"  stats [--json] [--dev NAME]\n"
"        the receive counters of the XDP program, summed over the CPUs,\n"
"        and the device's port counters (rdma statistic show link NAME/1)\n"
"\n"
"  -v, --verbose   show what libbpf and libxdp say (twice: all they say)\n"
"  -h, --help      this text\n"
"\n"
"Every command but --help needs root.\n";

/* ---- shared by status, qp and stats ------------------------------------ */

/* What is known about one attached interface. */
struct attached {
	struct pin_dir		dir;
	struct rxdp_dev_config	cfg;
	bool			have_cfg;
	char			dev[RDMA_NAME_LEN];	/* "" when gone */
	char			stale[512];		/* why the maps are unusable */
	int			fd[PIN_N];
};

static void attached_close(struct attached *a)
{
	int i;

	for (i = 0; i < PIN_N; i++)
		if (a->fd[i] >= 0)
			close(a->fd[i]);
}

/* Open the maps of one interface and learn its device.  0 or -1. */
static int attached_open(struct attached *a, const char *root,
			 const char *ifname)
{
	__u32 zero = 0;
	int i, fd;

	memset(a, 0, sizeof(*a));
	pin_dir_init(&a->dir, root, ifname);
	for (i = 0; i < PIN_N; i++)
		a->fd[i] = -1;
	for (i = 0; i < PIN_N; i++) {
		fd = pin_open(&a->dir, i, a->stale, sizeof(a->stale));
		if (fd == -ENOENT) {
			pin_map_path(&a->dir, i, true, a->stale,
				     sizeof(a->stale));
			strncat(a->stale, " is missing",
				sizeof(a->stale) - strlen(a->stale) - 1);
		}
		if (fd == -1)
			return -1;
		if (fd < 0)
			break;
		a->fd[i] = fd;
	}
	if (a->fd[PIN_DEV_CONFIG] >= 0 &&
	    !bpf_map_lookup_elem(a->fd[PIN_DEV_CONFIG], &zero, &a->cfg)) {
		a->have_cfg = true;
		if (rdma_nl_dev_name(a->cfg.dev_index, a->dev, sizeof(a->dev)))
			a->dev[0] = '\0';
	}
	return 0;
}

static bool attached_usable(const struct attached *a)
{
	return !a->stale[0] && a->have_cfg;
}

/* Nothing attached: an error only when device dev was asked for. */
static int attached_none(const char *dev)
{
	return dev ? fail("no attached rxdp device %s; see rxdpctl status",
			  dev) : 0;
}

/*
 * Open every attached interface, or those of device dev (none of which is
 * an error).  *out is malloc()ed.  Count or -1.
 */
static int attached_all(const char *dev, struct attached **out)
{
	char root[PATH_MAX], (*names)[32];
	struct attached *v;
	int i, n, k = 0;

	*out = NULL;
	if (pin_specs_init() || pin_root(root, sizeof(root)))
		return -1;
	n = pin_list(root, &names);
	if (n <= 0)
		return n ? n : attached_none(dev);
	v = calloc(n, sizeof(*v));
	if (!v) {
		free(names);
		return fail("out of memory");
	}
	for (i = 0; i < n; i++) {
		if (attached_open(&v[k], root, names[i])) {
			while (k--)
				attached_close(&v[k]);
			free(v);
			free(names);
			return -1;
		}
		if (dev && strcmp(v[k].dev, dev)) {
			attached_close(&v[k]);
			continue;
		}
		k++;
	}
	free(names);
	if (!k) {
		free(v);
		return attached_none(dev);
	}
	*out = v;
	return k;
}

static void attached_free(struct attached *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		attached_close(&v[i]);
	free(v);
}

/* No operands; options as given.  Returns the option or -1 / -2 (end). */
static int next_opt(int argc, char **argv, const char *cmd,
		    const struct option *opts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, ":", opts, NULL);
	if (c == '?')
		return fail("%s: unknown option '%s'; see rxdpctl --help", cmd,
			    argv[optind - 1]);
	if (c == ':')
		return fail("%s: option '%s' needs a value; see rxdpctl --help",
			    cmd, argv[optind - 1]);
	if (c == -1) {
		if (optind < argc)
			return fail("%s: unexpected argument '%s'; see rxdpctl "
				    "--help", cmd, argv[optind]);
		return -2;
	}
	return c;
}

static const char *state_name(__u8 s)
{
	static const char *const n[] = {
		[RXDP_QPS_RESET] = "RESET", [RXDP_QPS_INIT] = "INIT",
		[RXDP_QPS_RTR] = "RTR", [RXDP_QPS_RTS] = "RTS",
		[RXDP_QPS_SQD] = "SQD", [RXDP_QPS_SQE] = "SQE",
		[RXDP_QPS_ERR] = "ERR",
	};

	return s < sizeof(n) / sizeof(n[0]) && n[s] ? n[s] : "?";
}

static const char *type_name(__u8 t)
{
	switch (t) {
	case RXDP_QPT_GSI: return "GSI";
	case RXDP_QPT_RC: return "RC";
	case RXDP_QPT_UC: return "UC";
	case RXDP_QPT_UD: return "UD";
	default: return "?";
	}
}

/* ---- status ------------------------------------------------------------ */

static long count_qps(int fd)
{
	__u32 key, next;
	long n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static void status_one(const struct attached *a)
{
	int here = if_nametoindex(a->dir.ifname);
	const char *mode;
	__u32 id, disp;

	printf("%s:", a->dir.ifname);
	if (!attached_usable(a)) {
		printf(" unusable maps: %s; remove them: rxdpctl detach %s\n",
		       a->stale[0] ? a->stale : "dev_config unreadable",
		       a->dir.ifname);
		return;
	}
	if (a->dev[0])
		printf(" device %s (index %u)", a->dev, a->cfg.dev_index);
	else
		printf(" no device (index %u is gone)", a->cfg.dev_index);
	if (!here || (__u32)here != a->cfg.ifindex)
		printf(", ifindex %u not in this network namespace",
		       a->cfg.ifindex);
	else if (xdp_find_ours(here, &id, &disp, &mode))
		printf(", ifindex %d, no rxdp XDP program", here);
	else if (disp)
		printf(", ifindex %d, XDP %s, program %u in dispatcher %u",
		       here, mode, id, disp);
	else
		printf(", ifindex %d, XDP %s, program %u", here, mode, id);
	printf(", %s%s, %ld QPs\n",
	       a->cfg.flags & RXDP_CFG_F_ACTIVE ? "active" : "inactive",
	       a->cfg.flags & RXDP_CFG_F_ICRC ? ", ICRC checked" : "",
	       count_qps(a->fd[PIN_QP_TABLE]));
	printf("    maps %s/{%s,%s,%s,%s,%s}\n", a->dir.shown,
	       RXDP_MAP_QP_TABLE, RXDP_MAP_QP_SLOTS, RXDP_MAP_GID_TABLE,
	       RXDP_MAP_DEV_CONFIG, RXDP_MAP_COUNTERS);
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	struct attached *v;
	int i, n, c;

	if ((c = next_opt(argc, argv, "status", opts)) != -2)
		return -1;
	if (need_root())
		return -1;
	n = attached_all(NULL, &v);
	if (n < 0)
		return -1;
	if (!n)
		printf("no interface attached\n");
	for (i = 0; i < n; i++)
		status_one(&v[i]);
	attached_free(v, n);
	return 0;
}

/* ---- qp ---------------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
	const struct rxdp_qp_entry *x = a, *y = b;

	return (x->qpn > y->qpn) - (x->qpn < y->qpn);
}

static int qp_one(const struct attached *a)
{
	struct rxdp_qp_entry *e = NULL, *ne;
	__u32 key, next;
	void *prev = NULL;
	size_t n = 0, cap = 0, i;

	while (!bpf_map_get_next_key(a->fd[PIN_QP_TABLE], prev, &next)) {
		key = next;
		prev = &key;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			ne = realloc(e, cap * sizeof(*e));
			if (!ne) {
				free(e);
				return fail("out of memory");
			}
			e = ne;
		}
		/* deleted meanwhile: skip */
		if (!bpf_map_lookup_elem(a->fd[PIN_QP_TABLE], &key, &e[n]))
			n++;
	}
	qsort(e, n, sizeof(*e), entry_cmp);
	printf("%s on %s: %zu QPs\n", a->dev[0] ? a->dev : "(no device)",
	       a->dir.ifname, n);
	if (n)
		printf("  %8s %-4s %-5s %8s %8s %10s %12s %14s %10s\n", "qpn",
		       "type", "state", "dest_qpn", "epsn", "qkey",
		       "rx_packets", "rx_bytes", "rx_drops");
	for (i = 0; i < n; i++)
		printf("  %8u %-4s %-5s %8u %8u %#10x %12llu %14llu %10llu\n",
		       e[i].qpn, type_name(e[i].type), state_name(e[i].state),
		       e[i].dest_qpn, e[i].epsn, e[i].qkey,
		       (unsigned long long)e[i].rx_packets,
		       (unsigned long long)e[i].rx_bytes,
		       (unsigned long long)e[i].rx_drops);
	free(e);
	return 0;
}

static int cmd_qp(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dev = NULL;
	struct attached *v;
	int i, n, c, ret = 0;

	while ((c = next_opt(argc, argv, "qp", opts)) != -2) {
		if (c < 0)
			return -1;
		dev = optarg;
	}
	if (need_root())
		return -1;
	n = attached_all(dev, &v);
	if (n < 0)
		return -1;
	if (!n)
		printf("no interface attached\n");
	for (i = 0; i < n && !ret; i++) {
		if (!attached_usable(&v[i]))
			ret = fail("%s: unusable maps: %s; remove them: rxdpctl "
				   "detach %s", v[i].dir.ifname, v[i].stale,
				   v[i].dir.ifname);
		else
			ret = qp_one(&v[i]);
	}
	attached_free(v, n);
	return ret;
}

/* ---- stats ------------------------------------------------------------- */

static const char *const counter_names[RXDP_CNT_MAX] = RXDP_COUNTER_NAMES;

/* more than the module has */
#define MAX_PORT_COUNTERS	64

/*
 * The port counters of the device, which the RDMA core has from the
 * module: what reached the transport, where the XDP counters are what
 * the program did with each frame.  n is 0 when the device is gone.
 */
static int port_counters(const struct attached *a, struct rdma_nl_counter *c,
			 int *n)
{
	__u32 index;
	int err;

	*n = 0;
	if (!a->dev[0] || rdma_nl_dev_index(a->dev, &index))
		return 0;
	err = rdma_nl_port_counters(index, 1, c, MAX_PORT_COUNTERS, n);
	if (err)
		return fail("cannot read the port counters of %s: %s", a->dev,
			    strerror(-err));
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dev", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	static struct rdma_nl_counter port[MAX_PORT_COUNTERS];
	__u64 sum[RXDP_CNT_MAX];
	const char *dev = NULL;
	struct attached *v;
	bool json = false;
	int i, k, n, c, np, err;

	while ((c = next_opt(argc, argv, "stats", opts)) != -2) {
		if (c < 0)
			return -1;
		if (c == 'j')
			json = true;
		else
			dev = optarg;
	}
	if (need_root())
		return -1;
	n = attached_all(dev, &v);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!attached_usable(&v[i])) {
			fail("%s: unusable maps: %s; remove them: rxdpctl "
			     "detach %s", v[i].dir.ifname, v[i].stale,
			     v[i].dir.ifname);
			goto out;
		}
	}
	if (json)
		printf("[");
	else if (!n)
		printf("no interface attached\n");
	for (i = 0; i < n; i++) {
		err = read_counters(v[i].fd[PIN_COUNTERS], sum, RXDP_CNT_MAX);
		if (err) {
			if (json)
				printf("]\n");
			fail("cannot read %s/%s: %s", v[i].dir.shown,
			     RXDP_MAP_COUNTERS, strerror(-err));
			goto out;
		}
		if (port_counters(&v[i], port, &np)) {
			if (json)
				printf("]\n");
			goto out;
		}
		if (json) {
			printf("%s{\"interface\":\"%s\",\"device\":\"%s\","
			       "\"counters\":{", i ? "," : "", v[i].dir.ifname,
			       v[i].dev);
			for (k = 0; k < RXDP_CNT_MAX; k++)
				printf("%s\"%s\":%llu", k ? "," : "",
				       counter_names[k],
				       (unsigned long long)sum[k]);
			printf("},\"port\":{");
			for (k = 0; k < np; k++)
				printf("%s\"%s\":%llu", k ? "," : "",
				       port[k].name,
				       (unsigned long long)port[k].value);
			printf("}}");
			continue;
		}
		printf("%s on %s:\n", v[i].dev[0] ? v[i].dev : "(no device)",
		       v[i].dir.ifname);
		for (k = 0; k < RXDP_CNT_MAX; k++)
			printf("  %-20s %llu\n", counter_names[k],
			       (unsigned long long)sum[k]);
		if (np)
			printf("  port 1:\n");
		for (k = 0; k < np; k++)
			printf("    %-24s %llu\n", port[k].name,
			       (unsigned long long)port[k].value);
	}
	if (json)
		printf("]\n");
out:
	attached_free(v, n);
	return failed() ? -1 : 0;
}

/* ---- main -------------------------------------------------------------- */

static const struct {
	const char	*name;
	int		(*fn)(int argc, char **argv);
} commands[] = {
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "status", cmd_status },
	{ "qp", cmd_qp },
	{ "stats", cmd_stats },
};

static bool is_help(const char *s)
{
	return !strcmp(s, "-h") || !strcmp(s, "--help");
}

int main(int argc, char **argv)
{
	size_t c;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (is_help(argv[i])) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			rxdpctl_verbose++;
			continue;
		}
		fail("unknown option '%s'; see rxdpctl --help", argv[i]);
		return 1;
	}
	if (i >= argc) {
		fail("missing command (attach, detach, status, qp, stats); see "
		     "rxdpctl --help");
		return 1;
	}
	/* "rxdpctl attach --help" is help too */
	for (c = i + 1; c < (size_t)argc; c++) {
		if (is_help(argv[c])) {
			fputs(usage_text, stdout);
			return 0;
		}
	}
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (!strcmp(argv[i], commands[c].name)) {
			/* the command's name is its argv[0] for getopt */
			optind = 1;
			return commands[c].fn(argc - i, argv + i) ? 1 : 0;
		}
	}
	fail("unknown command '%s' (attach, detach, status, qp, stats); see "
	     "rxdpctl --help", argv[i]);
	return 1;
}

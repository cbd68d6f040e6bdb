// SPDX-License-Identifier: GPL-2.0
/*
 * The pinned maps of rxdpctl: RXDP_PIN_DIR/<ifname>/{qp_table,qp_slots,
 * dev_config,rx_counters,gid_table}, where to find the BPF file system, layout
 * checks.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "rxdpctl.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC	0xcafe4a11
#endif

struct map_spec pin_specs[PIN_N] = {
	[PIN_QP_TABLE]	 = { .name = RXDP_MAP_QP_TABLE },
	[PIN_DEV_CONFIG] = { .name = RXDP_MAP_DEV_CONFIG },
	[PIN_COUNTERS]	 = { .name = RXDP_MAP_COUNTERS },
	[PIN_QP_SLOTS]	 = { .name = RXDP_MAP_QP_SLOTS },
	[PIN_GID_TABLE]	 = { .name = RXDP_MAP_GID_TABLE },
};

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

int pin_root(char *root, size_t len)
{
	/* RXDP_PIN_DIR is <bpffs>/rxdp */
	const char *leaf = strrchr(RXDP_PIN_DIR, '/');
	char mnt[128], alt[PATH_MAX];

	snprintf(mnt, sizeof(mnt), "%.*s", (int)(leaf - RXDP_PIN_DIR),
		 RXDP_PIN_DIR);
	if (is_bpffs(mnt)) {
		snprintf(root, len, "%s", RXDP_PIN_DIR);
		return 0;
	}
	/*
	 * "ip netns exec" gives its command a mount namespace with a /sys of
	 * the network namespace, without the BPF file system.  Pins must
	 * outlive the command, so use the one of the initial mount namespace,
	 * and have libxdp keep its dispatcher state there too.
	 */
	snprintf(alt, sizeof(alt), "/proc/1/root%s", mnt);
	if (is_bpffs(alt)) {
		snprintf(root, len, "/proc/1/root%s", RXDP_PIN_DIR);
		setenv("LIBXDP_BPFFS", alt, 1);
		return 0;
	}
	return fail("no BPF file system at %s; mount one: mount -t bpf bpf %s",
		    mnt, mnt);
}

void pin_dir_init(struct pin_dir *d, const char *root, const char *ifname)
{
	snprintf(d->ifname, sizeof(d->ifname), "%s", ifname);
	snprintf(d->path, sizeof(d->path), "%s/%s", root, ifname);
	snprintf(d->shown, sizeof(d->shown), "%s/%s", RXDP_PIN_DIR, ifname);
}

bool pin_dir_exists(const struct pin_dir *d)
{
	struct stat st;

	return !lstat(d->path, &st);
}

void pin_map_path(const struct pin_dir *d, int map, bool shown, char *out,
		  size_t len)
{
	int n = snprintf(out, len, "%s/%s", shown ? d->shown : d->path,
			 pin_specs[map].name);

	/* the callers' buffers hold any path rxdpctl makes */
	if (n < 0 || (size_t)n >= len)
		out[0] = '\0';
}

static const char *map_type_name(__u32 type)
{
	const char *n = libbpf_bpf_map_type_str(type);

	return n ? n : "unknown";
}

int pin_open(const struct pin_dir *d, int map, char *why, size_t why_len)
{
	const struct map_spec *s = &pin_specs[map];
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char path[PATH_MAX], shown[PATH_MAX];
	int fd;

	pin_map_path(d, map, false, path, sizeof(path));
	pin_map_path(d, map, true, shown, sizeof(shown));
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return fail("cannot open %s: %s", shown, strerror(errno));
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		/* a pinned program or link where a map belongs */
		snprintf(why, why_len, "%s is not a map", shown);
		close(fd);
		return -ESTALE;
	}
	if (info.type != s->type || info.key_size != s->key_size ||
	    info.value_size != s->value_size ||
	    info.max_entries != s->max_entries) {
		snprintf(why, why_len,
			 "%s is a %s map of %u-byte keys, %u-byte values and "
			 "%u entries, this rxdpctl's is a %s map of %u, %u, %u",
			 shown, map_type_name(info.type), info.key_size,
			 info.value_size, info.max_entries,
			 map_type_name(s->type), s->key_size, s->value_size,
			 s->max_entries);
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int pin_remove(const struct pin_dir *d, const char *root)
{
	char path[PATH_MAX];
	int i, ret = 0;

	for (i = 0; i < PIN_N; i++) {
		pin_map_path(d, i, false, path, sizeof(path));
		if (unlink(path) && errno != ENOENT) {
			pin_map_path(d, i, true, path, sizeof(path));
			ret = fail("cannot remove %s: %s", path, strerror(errno));
		}
	}
	if (rmdir(d->path) && errno != ENOENT) {
		if (errno == ENOTEMPTY)
			return fail("%s holds files rxdpctl did not create; "
				    "remove them by hand", d->shown);
		return fail("cannot remove %s: %s", d->shown, strerror(errno));
	}
	/* the parent goes with its last interface; others may still be in it */
	rmdir(root);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int pin_list(const char *root, char (**names)[32])
{
	char (*v)[32] = NULL;
	struct dirent *e;
	int n = 0, cap = 0;
	DIR *dir;

	*names = NULL;
	dir = opendir(root);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		return fail("cannot read %s: %s", RXDP_PIN_DIR, strerror(errno));
	}
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(*v))
			continue;
		if (n == cap) {
			char (*nv)[32];

			cap = cap ? 2 * cap : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(dir);
				return fail("out of memory");
			}
			v = nv;
		}
		snprintf(v[n++], sizeof(*v), "%s", e->d_name);
	}
	closedir(dir);
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);
	*names = v;
	return n;
}

int read_counters(int fd, __u64 *sum, int n)
{
	int cpus = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 key;
	int c;

	if (cpus <= 0)
		return cpus ? cpus : -EINVAL;
	vals = calloc(cpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (key = 0; key < (__u32)n; key++) {
		sum[key] = 0;
		if (bpf_map_lookup_elem(fd, &key, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		for (c = 0; c < cpus; c++)
			sum[key] += vals[c];
	}
	free(vals);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rxdpctl internals: error reporting, the pinned maps, the commands.
 */
#ifndef RXDPCTL_H
#define RXDPCTL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include <uapi/rxdp.h>

/* The XDP program's function name in bpf/rxdp.bpf.c: how ours is told apart. */
#define RXDP_XDP_PROG	"rxdp_rx"

/* -v: let libbpf and libxdp warn; -v -v: debug too. */
extern int rxdpctl_verbose;

/*
 * Report what went wrong, as one line on stderr ("rxdpctl: ...").  Only the
 * first report of a run is printed: errors met while unwinding do not hide
 * the cause.  Returns -1.
 */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Has fail() been called? */
bool failed(void);

/* ---- pinned maps (pins.c) ---------------------------------------------- */

enum rxdp_pin_map {
	PIN_QP_TABLE,
	PIN_DEV_CONFIG,
	PIN_COUNTERS,
	/* the newest: the pins of an older rxdpctl lack them */
	PIN_QP_SLOTS,
	PIN_GID_TABLE,
	PIN_N
};

/* What this build's maps look like: taken from the XDP program's object. */
struct map_spec {
	const char	*name;
	__u32		type;
	__u32		key_size;
	__u32		value_size;
	__u32		max_entries;
};

extern struct map_spec pin_specs[PIN_N];

/* Fill pin_specs from the skeleton.  0 or -1 (reported). */
int pin_specs_init(void);

/*
 * Where the pins of one interface live.  path is what this process opens;
 * shown is what the user sees (RXDP_PIN_DIR/<ifname>), which differs when
 * the BPF file system is reached through /proc/1/root (ip netns exec
 * mounts a /sys of its own, hiding the host's /sys/fs/bpf).
 */
struct pin_dir {
	char	ifname[32];
	char	path[PATH_MAX];
	char	shown[PATH_MAX];
};

/* Find the BPF file system; fills the directory of all pins.  0 or -1. */
int pin_root(char *root, size_t len);
void pin_dir_init(struct pin_dir *d, const char *root, const char *ifname);
bool pin_dir_exists(const struct pin_dir *d);
/* The path (real or shown) of one map of d. */
void pin_map_path(const struct pin_dir *d, int map, bool shown, char *out,
		  size_t len);

/*
 * Open one pinned map and check that it has this build's layout.
 * Returns the fd, -ENOENT when it is not there (not reported), -ESTALE when
 * its layout is another one (why in *why, not reported), or -1 (reported).
 */
int pin_open(const struct pin_dir *d, int map, char *why, size_t why_len);
/* Remove the pins of d and the directory (and RXDP_PIN_DIR when empty). */
int pin_remove(const struct pin_dir *d, const char *root);

/*
 * The names of the attached interfaces (directories under root), sorted;
 * *names is malloc()ed, NULL when there are none.  Count or -1.
 */
int pin_list(const char *root, char (**names)[32]);

/* Sum of a per-CPU counter array.  0 or a negative errno. */
int read_counters(int fd, __u64 *sum, int n);

/* ---- XDP program on an interface (attach.c) ----------------------------- */

/*
 * Our XDP program on ifindex: its id, the dispatcher's id (0 without one)
 * and the attach mode name.  0 when found, -ENOENT when not.
 */
int xdp_find_ours(int ifindex, __u32 *id, __u32 *dispatcher_id,
		  const char **mode);

/* ---- commands ---------------------------------------------------------- */

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);

/* Checks shared by the commands; 0 or -1 (reported). */
int need_root(void);
int need_module(void);

#endif

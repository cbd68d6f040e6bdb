/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the rxdp selftests: shell commands, waiting, devices.
 */
#ifndef RXDP_TEST_H
#define RXDP_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <infiniband/verbs.h>

/* Run a shell command; return its exit status, or -1 if it did not exit. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, capturing stdout and stderr (NUL-terminated, truncated to len). */
int sh_out(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * How much longer than on Debian's kernel things may take: $RXDP_TIMEOUT_SCALE
 * (1 to 20, default 1), which scripts/check sets for the debug kernel.
 * Every timeout scales by it: the harness's per-test ones (through
 * alarm(), which the harness arms around each test), WAIT_FOR,
 * WAIT_UNTIL and the event waits below.  No assertion does.
 */
int test_timeout_scale(void);

/* Poll cond every 10 ms for at most ms milliseconds; true when it held. */
#define WAIT_FOR(cond, ms) ({						\
	int __left = (ms) * test_timeout_scale() / 10;			\
	bool __ok;							\
	while (!(__ok = (cond)) && __left-- > 0)			\
		usleep(10000);						\
	__ok; })

/*
 * How many rounds a repeated test runs: full, or light when $RXDP_LIGHT is
 * set.  scripts/check sets it under the debug kernel, which runs the same
 * paths three to nine times slower: fewer rounds of them, never fewer paths.
 */
int test_rounds(int full, int light);
/* Is this the light run ($RXDP_LIGHT: the debug kernel's)? */
bool test_light(void);
/*
 * In a test or fixture setup: skip what the light run leaves out.  The
 * debug kernel is several times slower than the stock one; its run keeps
 * one variant of those that differ only where no rxdp code does (a device
 * in the initial namespace and in another run the same module code), and
 * the stock kernel's run keeps them all.
 */
#define LIGHT_SKIP()							\
	do {								\
		if (test_light())					\
			SKIP(return, "not in the light run");		\
	} while (0)

/* Is name one of the n names? (A fixture's setup asks of its test.) */
bool name_in(const char *name, const char *const *names, size_t n);

/*
 * socket(domain, type, proto) made in network namespace ns (a name under
 * /run/netns), the caller's namespace unchanged.  The fd, or -1.
 */
int socket_in_ns(const char *ns, int domain, int type, int proto);

/* Does /sys/class/infiniband/<name> exist? */
bool ibdev_exists(const char *name);
/* Does the netdev exist in this (the initial) namespace? */
bool netdev_exists(const char *ifname);

/*
 * Remove what a test may have left behind, running a command only for
 * what is there (one costs most of a second under the debug kernel): the
 * RDMA device, the netdev of this namespace (a veth takes its peer along),
 * the network namespace (with the netdevs in it).
 */
void ibdev_remove(const char *name);
void netdev_remove(const char *ifname);
void netns_remove(const char *ns);
/*
 * len bytes (a multiple of 2 MiB) of persistent memory, shared, from the
 * device-dax of the machine's first NVDIMM (the test VM emulates one),
 * which is made device-dax on first use; or NULL when there is none.
 */
void *pmem_map(size_t len);

/* Open the verbs device called name, or NULL. */
struct ibv_context *ibdev_open(const char *name);
/* The port state of an open device (IBV_PORT_*), or -1. */
int ibdev_port_state(struct ibv_context *ctx);
/* Wait up to ms for an async event of the given type; true if it came. */
bool ibdev_wait_event(struct ibv_context *ctx, enum ibv_event_type type,
		      int ms);
/*
 * A file the tests use: $ENV when set (env may be NULL), else IN_TREE
 * (relative to the top of the tree, the tests' working directory there)
 * when it exists, else INSTALLED relative to the test binary's directory
 * (where "make -C selftests install" puts it), in buf, when that exists;
 * else IN_TREE, for the error to name.
 */
const char *test_file(char *buf, size_t len, const char *env,
		      const char *in_tree, const char *installed);
/*
 * The module to load: $RXDP_KO, else kmod/rxdp.ko in the tree, else the
 * installed collection's modules/<release>/rxdp.ko.
 */
const char *rxdp_ko(void);
/* Make sure rxdp is loaded (insmod after its dependencies). */
int rxdp_load(void);
/* Lines of the kernel log that are new since the last call. */
int kmsg_mark(void);
bool kmsg_has(const char *needle);

/*
 * ---- Verbs objects: a device on a veth, QPs and their states ----
 *
 * The QP/CQ/MR/SRQ tests put a device on a veth pair of their own and give
 * the veth an IPv4 address, whose RoCEv2 GID is then the source and the
 * (loopback) destination of every path.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * The link type under test: $RXDP_TEST_DEV_TYPE ("rxe" to compare), else
 * "rxdp".
 */
const char *testdev_type(void);
bool testdev_is_rxdp(void);
/* Load the driver of testdev_type(); 0 on success. */
int testdev_load(void);

struct testdev {
	const char *name;	/* rdma device, e.g. "rxdpq0" */
	const char *veth;	/* its netdev, e.g. "rxq0a" */
	const char *peer;	/* the veth's other end, e.g. "rxq0b" */
	const char *addr;	/* IPv4 address put on veth (/24) */
};

/*
 * Make sure the device exists on its veth with its address and the address
 * is in the GID table: reused when a previous test of the same file left it
 * (it is created once per test binary), created otherwise.  0 or -1.
 * With $RXDP_TEST_FRESH_DEV set, every fixture creates and deletes its own.
 */
int testdev_ensure(const struct testdev *d);
/* Delete the device and the veth pair (errors ignored). */
void testdev_remove(const struct testdev *d);
/* End of a fixture: removes the device only with $RXDP_TEST_FRESH_DEV. */
void testdev_release(const struct testdev *d);
/* Index of the RoCEv2 GID of addr in the device's table (sysfs), or -1. */
int testdev_gid_index(const struct testdev *d);

/*
 * Load libibverbs' providers now, in the harness's main process, so that
 * the forked tests do not each pay for it (slow in the VM, over 9p).
 */
void testdev_preload(void);

/*
 * Define a testdev, create it when the test binary starts (the fixtures
 * still call testdev_ensure(), which recreates it when it went away) and
 * remove it when the binary exits (from the main process only: the
 * harness's test processes leave with _exit()).  Creating a device costs
 * seconds under QEMU TCG (mostly spawning ip and rdma over 9p), so the
 * tests of a binary share it; each test opens its own context and frees
 * everything it made.  The main process must never open a context on it:
 * "rdma link delete" would wait for that context forever.
 */
#define TESTDEV_DEFINE(var, _name, _veth, _peer, _addr)			\
	static const struct testdev var = {				\
		.name = _name, .veth = _veth, .peer = _peer,		\
		.addr = _addr };					\
	static pid_t var##_main_pid;					\
	static void __attribute__((constructor)) var##_ctor(void)	\
	{								\
		var##_main_pid = getpid();				\
		testdev_ensure(&var);					\
		testdev_preload();					\
	}								\
	static void __attribute__((destructor)) var##_dtor(void)	\
	{								\
		if (getpid() == var##_main_pid)				\
			testdev_remove(&var);				\
	}

/*
 * A binary's environment of namespaces and devices, an rdma_rxe device
 * among them: up() when the binary starts, down() when its main process
 * exits (not the harness's test processes), then rdma_rxe unloaded again
 * if the binary loaded it and no rxdp device is left (its exit would
 * remove them: vm_coexist).
 */
#define RXE_ENV_DEFINE(up, down)					\
	static pid_t rxe_env_main_pid;					\
	static bool rxe_env_was_loaded;					\
	static void __attribute__((constructor)) rxe_env_ctor(void)	\
	{								\
		rxe_env_main_pid = getpid();				\
		rxe_env_was_loaded =					\
			access("/sys/module/rdma_rxe", F_OK) == 0;	\
		up();							\
		testdev_preload();					\
	}								\
	static void __attribute__((destructor)) rxe_env_dtor(void)	\
	{								\
		if (getpid() != rxe_env_main_pid)			\
			return;						\
		down();							\
		if (!rxe_env_was_loaded &&				\
		    sh("rdma link show | grep -q ' rxdp'"))		\
			sh("rmmod rdma_rxe");				\
	}

/*
 * A QPN no QP on the test devices ever gets: the destination of paths, so
 * that packets (once there is a transport) go nowhere and stay unacked.
 */
#define DEAD_QPN	0xabcdefu
#define PSN_MASK	0xffffffu

struct qp_env {
	struct ibv_context	*ctx;
	struct ibv_pd		*pd;
	struct ibv_cq		*scq;	/* send CQ, 256 entries */
	struct ibv_cq		*rcq;	/* receive CQ, 256 entries */
	struct ibv_qp		*qp;	/* the test's QP, if any */
	struct ibv_mr		*mr;	/* 64 KiB buffer, local+remote access */
	void			*buf;
	size_t			buf_len;
	struct ibv_device_attr	dev;
	struct ibv_port_attr	port;
	union ibv_gid		gid;	/* an IPv4 RoCEv2 GID, or qp_env_use_addr()'s */
	int			gid_index;
};

/* Open the device, allocate PD, CQs and MR, find the GID.  0 or -1. */
int qp_env_open(struct qp_env *e, const char *dev);
/*
 * Use the RoCEv2 GID of addr (IPv6, or IPv4 v4-mapped) instead of the IPv4
 * one qp_env_open() found.  0, or -1 when the device has no such GID.
 */
int qp_env_use_addr(struct qp_env *e, const char *addr);
/* Destroy what qp_env_open and the test put in e (NULLs skipped). */
void qp_env_close(struct qp_env *e);

/*
 * Create a QP of type on e->pd: send CQ e->scq, receive CQ e->rcq, no
 * SRQ, sq_sig_all 1, max_{send,recv}_wr wr and one SGE.  NULL + errno.
 */
struct ibv_qp *qp_create(struct qp_env *e, enum ibv_qp_type type, uint32_t wr);
/* Same, from a full init attribute (pd, caps, CQs ... as given). */
struct ibv_qp *qp_create_attr(struct ibv_pd *pd, struct ibv_qp_init_attr *ia);

/* ibv_* calls answer a positive errno, some -1 with errno: the errno. */
static inline int verr(int ret)
{
	return ret < 0 ? errno : ret;
}

/* The QP's state from ibv_query_qp, or -1. */
int qp_state(struct ibv_qp *qp);
/* Query every attribute; 0 or the errno. */
int qp_query(struct ibv_qp *qp, struct ibv_qp_attr *a,
	     struct ibv_qp_init_attr *ia);

/*
 * Attribute values for modify_qp.  Set 0 is what qp_to_*() use; set 1
 * differs in every field that can differ (to see a rejected modify change
 * nothing).  The path is loopback: own GID, port 1, dest DEAD_QPN.
 */
void qp_attr_values(struct qp_env *e, struct ibv_qp *qp, int set,
		    struct ibv_qp_attr *a);
/* The attributes a transition requires (the IB spec table; 0 if illegal). */
int qp_required_mask(enum ibv_qp_type type, enum ibv_qp_state from,
		     enum ibv_qp_state to);
/* ... and those it allows (required ones excluded). */
int qp_optional_mask(enum ibv_qp_type type, enum ibv_qp_state from,
		     enum ibv_qp_state to);
/* Is from -> to a transition of the table? */
bool qp_transition_ok(enum ibv_qp_state from, enum ibv_qp_state to);
/* Name of a state / type / attribute bit for messages. */
const char *qp_state_name(int state);
const char *qp_type_name(enum ibv_qp_type type);
const char *qp_attr_name(int bit);

/* The standard transitions with their required attributes (set 0). */
int qp_to_init(struct qp_env *e, struct ibv_qp *qp);
int qp_to_rtr(struct qp_env *e, struct ibv_qp *qp);
int qp_to_rts(struct qp_env *e, struct ibv_qp *qp);
/* RTR -> RTS with the given RC timeout and retry count. */
int qp_to_rts_timeout(struct ibv_qp *qp, uint8_t timeout, uint8_t retry_cnt);
int qp_to_simple(struct ibv_qp *qp, enum ibv_qp_state state); /* ERR, RESET, SQD */
/* From RESET along RESET-INIT-RTR-RTS(-SQD), or RESET-INIT-ERR, to state. */
int qp_bring_to(struct qp_env *e, struct ibv_qp *qp, enum ibv_qp_state state);

/* Poll until n completions came or ms passed; returns how many came. */
int poll_n(struct ibv_cq *cq, int n, struct ibv_wc *wc, int ms);
/*
 * Post n receives (wr_id base, base+1, ...), one SGE of len bytes of mr
 * each (no SGE when mr is NULL).  0 or the errno of the failing one.
 */
int post_recvs(struct ibv_qp *qp, struct ibv_mr *mr, uint32_t len, int n,
	       uint64_t base);
int post_srq_recvs(struct ibv_srq *srq, struct ibv_mr *mr, uint32_t len,
		   int n, uint64_t base);
/* Post n SENDs of len bytes from mr (wr_id base + i) with send_flags. */
int post_sends(struct ibv_qp *qp, struct ibv_mr *mr, uint32_t len, int n,
	       uint64_t base, unsigned int send_flags);

/*
 * Wait up to ms for an async event of type (others are acked and dropped);
 * on success *ev is a copy of the (already acked) event.
 */
bool ibdev_get_event(struct ibv_context *ctx, enum ibv_event_type type,
		     int ms, struct ibv_async_event *ev);

/*
 * A count from "rdma resource show DEV" (what: pd, cq, qp, mr, srq ...),
 * or -1.
 */
int rdma_res_count(const char *dev, const char *what);
/*
 * "rdma resource show qp link DEV" (every port, and QPs without one, as
 * in RESET) into out; 0 or the exit status.
 */
int rdma_res_qps(const char *dev, char *out, size_t len);
/* Is there a line "... lqpn <qpn> ... type <type> ..." in that output? */
bool rdma_res_has_qp(const char *out, uint32_t qpn, const char *type);

/* /sys/kernel/debug/rxdp/<dev>/qps; 0 or -1. */
int debugfs_qps(const char *dev, char *out, size_t len);
/* A column (rx_pkts, rx_copied ...) of QP qpn there, or -1. */
long debugfs_qp_col(const char *dev, uint32_t qpn, const char *name);
/* Is QP qpn listed there (with type and state, each unless NULL)? */
bool debugfs_qp_has(const char *out, uint32_t qpn, const char *type,
		    const char *state);
/* Number of QP lines listed, or -1. */
int debugfs_qp_count(const char *dev);

/* Lines in the whole kernel log matching WARNING|BUG, or -1. */
int kmsg_bad_count(void);
/* Milliseconds on the monotonic clock. */
long now_ms(void);
/*
 * A port counter of an RDMA device, as `rdma statistic show link <dev>/1`
 * prints it, or -1 when it has none of that name.
 */
long long hw_counter(const char *dev, const char *name);

/*
 * ---- The rings of the rxe ABI as a hostile process sees them ----
 *
 * The rxe provider maps each queue of a QP, SRQ or CQ from the uverbs
 * device; the process may write anything into it.
 */
struct rxe_queue_buf;	/* <rdma/rdma_user_rxe.h> */

/*
 * The ring this process mapped from a uverbs device whose header says
 * index_mask (slots - 1; tests give their queues sizes no other of their
 * rings has), or NULL.
 */
struct rxe_queue_buf *uverbs_ring(uint32_t index_mask);
/*
 * A legacy uverbs write command: req starts with its ib_uverbs_cmd_hdr,
 * which this fills in (len bytes in all, an answer of out_len bytes).
 * 0 or the errno.
 */
int uverbs_write(struct ibv_context *ctx, uint32_t command, void *req,
		 size_t len, size_t out_len);
/*
 * Ring a QP's send doorbell as the rxe provider does after writing WQEs:
 * a post_send command with no work request.  0 or the errno.
 */
int uverbs_sq_doorbell(struct ibv_qp *qp);
/*
 * FLUSH as the 6.12 uverbs ABI and rdma-core 45 name it; this system's
 * headers (rdma-core 44, Linux 6.1) predate it.
 */
#define WR_FLUSH		14	/* IB_UVERBS_WR_FLUSH */
#define WC_FLUSH		8	/* IBV_WC_FLUSH */
#define ACCESS_FLUSH_GLOBAL	(1 << 8)	/* IBV_ACCESS_FLUSH_GLOBAL */
#define ACCESS_FLUSH_PERSISTENT	(1 << 9)
#define FLUSH_GLOBAL		1	/* placement types */
#define FLUSH_PERSISTENT	2
#define FLUSH_RANGE		0	/* selectivity levels */
#define FLUSH_MR		1

/*
 * Post a signalled FLUSH on an RC QP, as rdma-core 45's ibv_wr_flush()
 * would (rdma-core 44 has none): its WQE written into the send ring whose
 * mask is sq_mask (see uverbs_ring()), then the doorbell.  type is
 * IB_FLUSH_GLOBAL and/or IB_FLUSH_PERSISTENT, level IB_FLUSH_RANGE or
 * IB_FLUSH_MR.  0 or the errno.
 */
int uverbs_post_flush(struct ibv_qp *qp, uint32_t sq_mask, uint64_t wr_id,
		      uint32_t rkey, uint64_t addr, uint32_t len,
		      uint8_t type, uint8_t level);
/*
 * Become uid and gid 65534 for good (no groups, no capabilities).
 * 0 or -1.
 */
int become_nobody(void);
/*
 * Run fn(arg) in a child that became nobody; wait up to ms (scaled) for
 * it.  Returns its exit status (fn's return value), -1 when it was killed
 * or timed out (it is killed then).
 */
int run_as_nobody(int (*fn)(void *), void *arg, int ms);

/*
 * ---- rxdpctl and the maps it pins (vm_rxdpctl, vm_xdp) ----
 */
#include <stdint.h>
#include <uapi/rxdp.h>

/*
 * WAIT_FOR by the clock, for conditions that take long to evaluate (a
 * command each): polls every 50 ms for at most ms milliseconds.
 */
#define WAIT_UNTIL(cond, ms) ({						\
	long __end = now_ms() + (long)(ms) * test_timeout_scale();	\
	bool __ok;							\
	while (!(__ok = (cond)) && now_ms() < __end)			\
		usleep(50000);						\
	__ok; })

/* The XDP program's name (its function in bpf/rxdp.bpf.c). */
#define RXDP_XDP_PROG_NAME	"rxdp_rx"

/* The rxdpctl under test: $RXDP_CTL, else build/rxdpctl, else installed. */
const char *rxdpctl_path(void);
/*
 * Run a shell command with its stdout and stderr captured apart (each
 * NUL-terminated, truncated to its length; either may be NULL); its exit
 * status, or -1.
 */
int sh_split(char *out, size_t olen, char *err, size_t elen,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Number of lines in s (a last line without '\n' counts). */
int count_lines(const char *s);

/* Does RXDP_PIN_DIR/<ifname> exist? */
bool pin_dir_present(const char *ifname);
/* Remove RXDP_PIN_DIR/<ifname> and what is pinned in it, if it exists. */
void pin_dir_remove(const char *ifname);
/* fd of the pinned map RXDP_PIN_DIR/<ifname>/<map>, or -1. */
int pinned_map_fd(const char *ifname, const char *map);
/* The qp_table entry of qpn: 0, or -1 when there is none (or no map). */
int pinned_qp_entry(const char *ifname, uint32_t qpn, struct rxdp_qp_entry *e);
/* The qp_slots entry of qpn's slot, whoever has it: 0, or -1 (no map). */
int pinned_qp_slot(const char *ifname, uint32_t qpn, struct rxdp_qp_slot *s);
/* The single dev_config entry: 0 or -1. */
int pinned_dev_config(const char *ifname, struct rxdp_dev_config *cfg);
/* rx_counters summed over the CPUs: 0 or -1. */
int pinned_counters(const char *ifname, uint64_t sum[RXDP_CNT_MAX]);
/* The index of an RDMA device ("rdma dev show"), or -1. */
int rdma_dev_index(const char *name);
/* Number of loaded BPF programs called name, or -1. */
int bpf_prog_count(const char *name);
/* Number of BPF maps called one of names (NULL-terminated), or -1. */
int bpf_map_count(const char *const *names);

#endif

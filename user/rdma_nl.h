/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RDMA netlink (NETLINK_RDMA, the NLDEV client): what "rdma link" and
 * "rdma dev" do, for rxdpctl.  Every function opens its own socket, works
 * in the caller's network namespace, and returns 0 or a negative errno
 * (the kernel's, for a request it refused).
 */
#ifndef RXDPCTL_RDMA_NL_H
#define RXDPCTL_RDMA_NL_H

#include <stddef.h>
#include <linux/types.h>

/* IB_DEVICE_NAME_MAX: names are at most 63 characters plus the NUL. */
#define RDMA_NAME_LEN	64

/* "rdma link add NAME type TYPE netdev NDEV" */
int rdma_nl_link_add(const char *name, const char *type, const char *ndev);
/* "rdma link delete": by device index. */
int rdma_nl_link_del(__u32 index);

/* The index of the device called name; -ENODEV when there is none. */
int rdma_nl_dev_index(const char *name, __u32 *index);
/* The name of the device with that index; -ENODEV when there is none. */
int rdma_nl_dev_name(__u32 index, char *name, size_t len);
/*
 * The ifindex of the netdev of port 1 of a device, 0 when it has none or
 * its netdev lives in another network namespace.
 */
int rdma_nl_dev_netdev(__u32 index, int *ifindex);
/*
 * The device whose port 1 is on the netdev ifindex (of this namespace), any
 * driver: 0 and its name and index, or -ENODEV.
 */
int rdma_nl_dev_on_netdev(int ifindex, char *name, size_t len, __u32 *index);

/* A port counter, as "rdma statistic show link DEV/PORT" shows it. */
struct rdma_nl_counter {
	char	name[RDMA_NAME_LEN];
	__u64	value;
};

/*
 * The hw counters of a port of a device, in the device's order: up to max
 * of them in c[], their number in *n.
 */
int rdma_nl_port_counters(__u32 index, __u32 port, struct rdma_nl_counter *c,
			  int max, int *n);

#endif

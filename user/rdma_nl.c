// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA netlink for rxdpctl: a raw NETLINK_RDMA socket speaking the NLDEV
 * client, as iproute2's "rdma" tool does.  NLDEV messages carry their
 * attributes right after the netlink header (no family header).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#include "rdma_nl.h"

#define NL_BUF		(64 * 1024)
#define MAX_DEVS	256

struct nl_req {
	struct nlmsghdr	nlh;
	char		attrs[512];
};

typedef void (*nl_cb_t)(struct nlattr **tb, void *arg);

static void req_init(struct nl_req *r, int cmd, int flags)
{
	memset(r, 0, sizeof(*r));
	r->nlh.nlmsg_len = NLMSG_LENGTH(0);
	r->nlh.nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd);
	r->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
}

static int req_put(struct nl_req *r, __u16 type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(r->nlh.nlmsg_len);
	struct nlattr *a = (struct nlattr *)((char *)&r->nlh + at);

	if (at + NLA_ALIGN(NLA_HDRLEN + len) > sizeof(*r))
		return -ENAMETOOLONG;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->nlh.nlmsg_len = at + NLA_ALIGN(a->nla_len);
	return 0;
}

static int req_put_str(struct nl_req *r, __u16 type, const char *s)
{
	return req_put(r, type, s, strlen(s) + 1);
}

static int req_put_u32(struct nl_req *r, __u16 type, __u32 v)
{
	return req_put(r, type, &v, sizeof(v));
}

static void parse_attrs(const struct nlmsghdr *h, struct nlattr **tb)
{
	const struct nlattr *a = NLMSG_DATA(h);
	int left = h->nlmsg_len - NLMSG_HDRLEN;

	memset(tb, 0, sizeof(*tb) * RDMA_NLDEV_ATTR_MAX);
	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= left) {
		__u16 type = a->nla_type & NLA_TYPE_MASK;

		if (type < RDMA_NLDEV_ATTR_MAX)
			tb[type] = (struct nlattr *)a;
		left -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

static const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static __u32 attr_u32(const struct nlattr *a)
{
	__u32 v;

	memcpy(&v, attr_data(a), sizeof(v));
	return v;
}

/* The string of a NUL-terminated attribute, cut to len. */
static void attr_str(const struct nlattr *a, char *out, size_t len)
{
	size_t n = a->nla_len - NLA_HDRLEN;

	if (n >= len)
		n = len - 1;
	memcpy(out, attr_data(a), n);
	out[n] = '\0';
}

/*
 * Send a request, hand every answer to cb, and return the kernel's verdict:
 * the error of the ACK, or of NLMSG_DONE for a dump.
 */
static int nl_talk(struct nl_req *r, nl_cb_t cb, void *arg)
{
	static char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlattr *tb[RDMA_NLDEV_ATTR_MAX];
	static __u32 seq;
	int fd, ret = -EPROTO;
	bool done = false;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
	if (fd < 0)
		return -errno;
	r->nlh.nlmsg_seq = ++seq;
	if (sendto(fd, &r->nlh, r->nlh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->nlh.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				ret = e->error;
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int err;

				memcpy(&err, NLMSG_DATA(h), sizeof(err));
				ret = err < 0 ? err : 0;
				done = true;
				break;
			}
			if (cb) {
				parse_attrs(h, tb);
				cb(tb, arg);
			}
		}
	}
out:
	close(fd);
	return ret;
}

int rdma_nl_link_add(const char *name, const char *type, const char *ndev)
{
	struct nl_req r;
	int err;

	req_init(&r, RDMA_NLDEV_CMD_NEWLINK, NLM_F_ACK);
	err = req_put_str(&r, RDMA_NLDEV_ATTR_DEV_NAME, name);
	if (!err)
		err = req_put_str(&r, RDMA_NLDEV_ATTR_LINK_TYPE, type);
	if (!err)
		err = req_put_str(&r, RDMA_NLDEV_ATTR_NDEV_NAME, ndev);
	return err ? err : nl_talk(&r, NULL, NULL);
}

int rdma_nl_link_del(__u32 index)
{
	struct nl_req r;
	int err;

	req_init(&r, RDMA_NLDEV_CMD_DELLINK, NLM_F_ACK);
	err = req_put_u32(&r, RDMA_NLDEV_ATTR_DEV_INDEX, index);
	return err ? err : nl_talk(&r, NULL, NULL);
}

struct dev_ent {
	__u32	index;
	char	name[RDMA_NAME_LEN];
};

struct dev_list {
	struct dev_ent	devs[MAX_DEVS];
	int		n;
};

static void dev_list_cb(struct nlattr **tb, void *arg)
{
	struct dev_list *l = arg;
	struct dev_ent *d;

	if (!tb[RDMA_NLDEV_ATTR_DEV_INDEX] || !tb[RDMA_NLDEV_ATTR_DEV_NAME] ||
	    l->n >= MAX_DEVS)
		return;
	d = &l->devs[l->n++];
	d->index = attr_u32(tb[RDMA_NLDEV_ATTR_DEV_INDEX]);
	attr_str(tb[RDMA_NLDEV_ATTR_DEV_NAME], d->name, sizeof(d->name));
}

/* Every RDMA device this namespace sees. */
static int dev_list(struct dev_list *l)
{
	struct nl_req r;

	l->n = 0;
	req_init(&r, RDMA_NLDEV_CMD_GET, NLM_F_DUMP);
	return nl_talk(&r, dev_list_cb, l);
}

/* The device called name, or with index index when name is NULL. */
static const struct dev_ent *dev_find(const char *name, __u32 index)
{
	static struct dev_list l;
	int i;

	if (dev_list(&l))
		return NULL;
	for (i = 0; i < l.n; i++)
		if (name ? !strcmp(l.devs[i].name, name) :
			   l.devs[i].index == index)
			return &l.devs[i];
	return NULL;
}

int rdma_nl_dev_index(const char *name, __u32 *index)
{
	const struct dev_ent *d = dev_find(name, 0);

	if (!d)
		return -ENODEV;
	*index = d->index;
	return 0;
}

int rdma_nl_dev_name(__u32 index, char *name, size_t len)
{
	const struct dev_ent *d = dev_find(NULL, index);

	if (!d)
		return -ENODEV;
	snprintf(name, len, "%s", d->name);
	return 0;
}

static void port_cb(struct nlattr **tb, void *arg)
{
	int *ifindex = arg;

	/* present only when the netdev is in the caller's namespace */
	if (tb[RDMA_NLDEV_ATTR_NDEV_INDEX])
		*ifindex = attr_u32(tb[RDMA_NLDEV_ATTR_NDEV_INDEX]);
}

int rdma_nl_dev_netdev(__u32 index, int *ifindex)
{
	struct nl_req r;
	int err;

	*ifindex = 0;
	req_init(&r, RDMA_NLDEV_CMD_PORT_GET, NLM_F_ACK);
	err = req_put_u32(&r, RDMA_NLDEV_ATTR_DEV_INDEX, index);
	if (!err)
		err = req_put_u32(&r, RDMA_NLDEV_ATTR_PORT_INDEX, 1);
	return err ? err : nl_talk(&r, port_cb, ifindex);
}

int rdma_nl_dev_on_netdev(int ifindex, char *name, size_t len, __u32 *index)
{
	static struct dev_list l;
	int i, err, nd;

	err = dev_list(&l);
	if (err)
		return err;
	for (i = 0; i < l.n; i++) {
		/* a device may go away meanwhile: skip what cannot be asked */
		if (rdma_nl_dev_netdev(l.devs[i].index, &nd) || nd != ifindex)
			continue;
		strncpy(name, l.devs[i].name, len - 1);
		name[len - 1] = '\0';
		*index = l.devs[i].index;
		return 0;
	}
	return -ENODEV;
}

struct counters {
	struct rdma_nl_counter	*c;
	int			max, n;
};

/* The attributes nested in a, one callback each, as nl_talk() does. */
static void walk_nested(const struct nlattr *a,
			void (*cb)(const struct nlattr *a, void *arg),
			void *arg)
{
	const struct nlattr *n = attr_data(a);
	int left = a->nla_len - NLA_HDRLEN;

	while (left >= NLA_HDRLEN && n->nla_len >= NLA_HDRLEN &&
	       n->nla_len <= left) {
		cb(n, arg);
		left -= NLA_ALIGN(n->nla_len);
		n = (const struct nlattr *)((const char *)n + NLA_ALIGN(n->nla_len));
	}
}

/* An entry's name and value: two of the attributes nested in it. */
static void counter_attr_cb(const struct nlattr *a, void *arg)
{
	struct rdma_nl_counter *c = arg;

	switch (a->nla_type & NLA_TYPE_MASK) {
	case RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_NAME:
		attr_str(a, c->name, sizeof(c->name));
		break;
	case RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_VALUE:
		if (a->nla_len - NLA_HDRLEN >= (int)sizeof(c->value))
			memcpy(&c->value, attr_data(a), sizeof(c->value));
		break;
	}
}

static void counter_entry_cb(const struct nlattr *a, void *arg)
{
	struct counters *cs = arg;
	struct rdma_nl_counter c = { .name = "" };

	if ((a->nla_type & NLA_TYPE_MASK) !=
	    RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY || cs->n >= cs->max)
		return;
	walk_nested(a, counter_attr_cb, &c);
	if (c.name[0])
		cs->c[cs->n++] = c;
}

static void port_counters_cb(struct nlattr **tb, void *arg)
{
	if (tb[RDMA_NLDEV_ATTR_STAT_HWCOUNTERS])
		walk_nested(tb[RDMA_NLDEV_ATTR_STAT_HWCOUNTERS],
			    counter_entry_cb, arg);
}

int rdma_nl_port_counters(__u32 index, __u32 port, struct rdma_nl_counter *c,
			  int max, int *n)
{
	struct counters cs = { .c = c, .max = max };
	struct nl_req r;
	int err;

	*n = 0;
	req_init(&r, RDMA_NLDEV_CMD_STAT_GET, NLM_F_ACK);
	err = req_put_u32(&r, RDMA_NLDEV_ATTR_DEV_INDEX, index);
	if (!err)
		err = req_put_u32(&r, RDMA_NLDEV_ATTR_PORT_INDEX, port);
	if (!err)
		err = nl_talk(&r, port_counters_cb, &cs);
	*n = cs.n;
	return err;
}

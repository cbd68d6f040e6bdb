// SPDX-License-Identifier: GPL-2.0
/*
 * rxdp and its netdev: the port follows the netdev's state, the device
 * stays on it when it moves to another network namespace, and goes away
 * with it.
 */
#include <linux/netdevice.h>

#include "rxdp.h"

static enum ib_port_state rxdp_netdev_port_state(struct net_device *ndev)
{
	return netif_running(ndev) && netif_carrier_ok(ndev) ?
		IB_PORT_ACTIVE : IB_PORT_DOWN;
}

/**
 * rxdp_port_update - bring the port state in line with the netdev
 * @rdev: a registered device
 * @ndev: its netdev, still registered
 *
 * Raises IB_EVENT_PORT_ACTIVE or IB_EVENT_PORT_ERR when the state changes,
 * and counts the port going down (link_downed).
 * Context: rxdp_devices_lock held.
 */
void rxdp_port_update(struct rxdp_dev *rdev, struct net_device *ndev)
{
	enum ib_port_state state = rxdp_netdev_port_state(ndev);
	struct ib_event ev = {
		.device = &rdev->ib_dev,
		.element.port_num = RXDP_PORT,
	};

	if (state == READ_ONCE(rdev->port_state))
		return;
	WRITE_ONCE(rdev->port_state, state);
	/* from ACTIVE: a device made on a netdev that is down is not */
	if (state == IB_PORT_DOWN)
		rxdp_stat_inc(rdev, RXDP_CNT_LINK_DOWNED);
	ev.event = state == IB_PORT_ACTIVE ? IB_EVENT_PORT_ACTIVE :
					     IB_EVENT_PORT_ERR;
	ib_dispatch_event(&ev);
	ibdev_info(&rdev->ib_dev, "port %s\n",
		   state == IB_PORT_ACTIVE ? "active" : "down");
}

static int rxdp_netdev_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	rxdp_dev_netdev_event(netdev_notifier_info_to_dev(ptr), event);
	return NOTIFY_DONE;
}

static struct notifier_block rxdp_netdev_nb = {
	.notifier_call = rxdp_netdev_event,
};

int rxdp_net_init(void)
{
	return register_netdevice_notifier(&rxdp_netdev_nb);
}

void rxdp_net_exit(void)
{
	unregister_netdevice_notifier(&rxdp_netdev_nb);
}

// The VLAN uplinks of this node: the default one (NSM_VLAN_UPLINK) and those of the device selector,
// each added to the bridge once, for the forwarder's lifetime.
import type { OvsBridge, VlanUplink, VlanUplinks } from '@nsm/sdk-ovs/elements';
import type { DeviceSelector } from '@nsm/sdk-ovs/deviceselector';
import { log } from '@nsm/sdk/log';

export async function attachUplinks(br: OvsBridge, defaultNic: string, selector: DeviceSelector): Promise<VlanUplinks | undefined> {
  const nics = [...new Set([...(defaultNic ? [defaultNic] : []), ...selector.values()])];
  if (nics.length === 0) return undefined;
  const ofports = await br.ovs.addPorts(br.bridge, nics.map((name) => ({ name, externalIds: { 'nsm-uplink': 'true' } })));
  const uplink = (name: string): VlanUplink => ({ name, ofport: ofports[name] });
  const byVia = new Map([...selector.entries()].map(([via, nic]) => [via, uplink(nic)]));
  log.info({ default: defaultNic || undefined, byVia: Object.fromEntries(selector) }, 'VLAN uplinks attached');
  return { default: defaultNic ? uplink(defaultNic) : undefined, byVia };
}

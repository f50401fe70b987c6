// The device-selector file of the remote VLAN mechanism (NSM_DEVICE_SELECTOR_FILE, dataplane.md §7):
// which host NIC a connection breaks out on, chosen by the `via` label the remote VLAN endpoint puts on
// the connection (its service domain). Format, as upstream's:
//   interfaces:
//     - name: eth1
//       matches:
//         - labelSelector:
//             - via: gw1
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { isValidIfName } from '@nsm/sdk-kernel';

/** NIC name per `via` value. */
export type DeviceSelector = Map<string, string>;

export function parseDeviceSelector(text: string, source = 'device selector'): DeviceSelector {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new Error(`${source}: not YAML: ${(e as Error).message}`);
  }
  const out: DeviceSelector = new Map();
  const interfaces = (doc as { interfaces?: unknown } | null)?.interfaces;
  if (interfaces === undefined || interfaces === null) return out;
  if (!Array.isArray(interfaces)) throw new Error(`${source}: "interfaces" must be a list`);
  interfaces.forEach((itf, i) => {
    const o = (itf ?? {}) as { name?: unknown; matches?: unknown };
    const name = String(o.name ?? '');
    if (!isValidIfName(name)) throw new Error(`${source}: interfaces[${i}].name "${name}" is not an interface name (1-15 characters)`);
    if (!Array.isArray(o.matches)) throw new Error(`${source}: interfaces[${i}].matches must be a list`);
    for (const m of o.matches as { labelSelector?: unknown }[]) {
      const selectors = m?.labelSelector;
      if (!Array.isArray(selectors)) throw new Error(`${source}: interfaces[${i}].matches[].labelSelector must be a list`);
      for (const sel of selectors as Record<string, unknown>[]) {
        const via = sel?.via;
        if (typeof via !== 'string' || via === '') throw new Error(`${source}: interfaces[${i}]: each labelSelector entry needs a "via" value`);
        const taken = out.get(via);
        if (taken && taken !== name) throw new Error(`${source}: via "${via}" is mapped to both ${taken} and ${name}`);
        out.set(via, name);
      }
    }
  });
  return out;
}

export function readDeviceSelector(path: string): DeviceSelector {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read device selector file ${path}: ${(e as Error).message}`);
  }
  return parseDeviceSelector(text, path);
}

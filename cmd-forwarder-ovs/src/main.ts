// cmd-forwarder-ovs: the node's dataplane agent. Each connection gets a veth pair per local side (a
// VXLAN or WireGuard device per remote one), joined in the kernel by tc redirects, or through Open
// vSwitch (an OVS port per device and two OpenFlow rules) where a VLAN needs it or NSM_DATAPATH=ovs.
// Nothing on the Request/Close path starts a process: netlink for the kernel, OVSDB and OpenFlow
// for Open vSwitch, wireguard-go devices from a pool.
import { endpointNetns } from '@nsm/sdk-kernel/endpointnetns';
import { releaseDeadNamespaces } from '@nsm/sdk-kernel/nsinode';
import './threadpool';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MechanismType, NetworkServiceEndpoint } from '@nsm/api';
import { forwarder } from '@nsm/sdk/chains/forwarder';
import { runCommand } from '@nsm/sdk/cmd/run';
import { Context } from '@nsm/sdk/core/context';
import { mechanisms } from '@nsm/sdk/elements/mechanisms';
import { startServer } from '@nsm/sdk/grpc/server';
import { log } from '@nsm/sdk/log';
import { registrationClient } from '@nsm/sdk/chains/registry';
import { nsRegistryClient, nseRegistryClient } from '@nsm/sdk/grpc/registry';
import { OvsDaemon } from '@nsm/sdk-ovs';
import { DirectOvs } from '@nsm/sdk-ovs/direct';
import { readDeviceSelector } from '@nsm/sdk-ovs/deviceselector';
import { kernelClient, kernelServer, vlanClient, vxlanClient, vxlanServer, wireguardClient, wireguardServer, xconnect } from '@nsm/sdk-ovs/elements';
import { schema } from './config';
import { cleanupAll, recoverDataplane } from './recover';
import { remoteMechanisms } from './remote';
import { attachUplinks } from './uplinks';

void runCommand({
  name: 'cmd-forwarder-ovs',
  description: 'Forwarder: the two sides of a connection joined in the kernel (tc redirects) or, where a VLAN needs it or NSM_DATAPATH=ovs, through Open vSwitch (OpenFlow rules; userspace netdev datapath by default)',
  schema,
  identity: true,
  async start(cfg, _ctx, id) {
    const daemon = cfg.ovsDbSocket
      ? OvsDaemon.existing({ dbSocket: cfg.ovsDbSocket, runDir: cfg.ovsRunDir })
      : await OvsDaemon.start({ runDir: cfg.ovsRunDir });
    // OVSDB and OpenFlow spoken directly; changes of concurrent requests are merged into single transactions.
    const ovs = new DirectOvs({ dbSocket: daemon.ovs.dbSocket, runDir: daemon.ovs.runDir });
    const br = { ovs, bridge: cfg.bridgeName, datapath: cfg.datapath };
    await br.ovs.ensureBridge(cfg.bridgeName, { datapathType: cfg.datapathType });
    // A predecessor that crashed may have left ports, devices and flows: local veths are kept for
    // their connections to adopt when they heal through us, the rest is removed.
    const recovery = await recoverDataplane(br, cfg.adoptGrace);
    const bridge = { ...br, adopt: recovery.claim };

    const tmp = cfg.listenOn ? undefined : mkdtempSync(join(tmpdir(), 'cmd-forwarder-ovs-'));
    const listenOn = cfg.listenOn || `unix://${join(tmp!, 'listen_on.io.sock')}`;
    const ns = nsRegistryClient(cfg.connectTo, id.source);
    const nse = nseRegistryClient(cfg.connectTo, id.source);
    const remote = await remoteMechanisms(cfg);
    // VLAN breakout: uplinks are bridge ports for the forwarder's lifetime (not NSM connection ports).
    const uplinks = await attachUplinks(br, cfg.vlanUplink, cfg.deviceSelectorFile ? readDeviceSelector(cfg.deviceSelectorFile) : new Map());
    const fwd = forwarder({
      name: cfg.name,
      tokens: id.tokens,
      source: id.source,
      ns,
      nse,
      dialTimeoutMs: cfg.dialTimeout,
      dataplane: {
        server: [
          xconnect(br),
          mechanisms({
            [MechanismType.KERNEL]: kernelServer(bridge),
            ...(remote ? { [MechanismType.VXLAN]: vxlanServer(remote.vxlan), [MechanismType.WIREGUARD]: wireguardServer(remote.wireguard, remote.wireguardDevices) } : {}),
          }),
        ],
        // Offer order: KERNEL (local), then for a remote next hop WIREGUARD first (IP payload only) and VXLAN.
        client: [
          kernelClient(bridge),
          ...(remote ? [vxlanClient(remote.vxlan), wireguardClient(remote.wireguard, remote.wireguardDevices)] : []),
          ...(uplinks ? [vlanClient(br, uplinks)] : []),
        ],
        // An endpoint may only name its own namespace (learnt from who serves its socket).
        replyChecks: [endpointNetns()],
        // An endpoint's stream broke: if its pod died, let go of its namespace before DOWN goes up, so
        // that the namespace and its interfaces go now and a client's data-path check sees the path gone.
        downstreamBroken: () => void releaseDeadNamespaces(),
      },
    });
    const server = await startServer([listenOn], fwd.services(), { source: id.source });
    const registry = registrationClient({ url: cfg.connectTo, source: id.source });
    await registry.nse.register(
      Context.background(),
      NetworkServiceEndpoint.fromPartial({
        name: cfg.name,
        networkServiceNames: [cfg.nsName],
        networkServiceLabels: { [cfg.nsName]: { labels: cfg.labels } },
        url: listenOn,
      }),
    );
    log.info({ name: cfg.name, url: listenOn, datapath: cfg.datapath, bridge: cfg.bridgeName, ovsRunDir: daemon.runDir, tunnelIp: cfg.tunnelIp, vxlanPort: remote?.vxlan.port, wireguardPort: remote?.wireguard.basePort, underlayMtu: remote?.tunnel.underlayMtu }, 'forwarder registered');
    return async () => {
      await registry.close().catch((err) => log.warn({ err: String(err) }, 'unregister failed'));
      await server.stop();
      ns.close();
      nse.close();
      recovery.stop();
      await remote?.wireguardDevices.close();
      await cleanupAll(br).catch((err) => log.warn({ err: String(err) }, 'dataplane cleanup failed'));
      ovs.close();
      if (!cfg.ovsDbSocket) await daemon.stop();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    };
  },
});

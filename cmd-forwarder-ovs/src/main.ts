// cmd-forwarder-ovs: the node's dataplane agent on Open vSwitch. Each connection gets a veth pair per
// local side, an OVS port per host end, and two OpenFlow rules between them.
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
import { jwtTokenGenerator } from '@nsm/sdk/token';
import { BatchingOvs, OvsDaemon } from '@nsm/sdk-ovs';
import { readDeviceSelector } from '@nsm/sdk-ovs/deviceselector';
import { kernelClient, kernelServer, vlanClient, vxlanClient, vxlanServer, wireguardClient, wireguardServer, xconnect } from '@nsm/sdk-ovs/elements';
import { schema } from './config';
import { cleanupAll, recoverDataplane } from './recover';
import { remoteMechanisms } from './remote';
import { attachUplinks } from './uplinks';

void runCommand({
  name: 'cmd-forwarder-ovs',
  description: 'Forwarder on Open vSwitch (userspace netdev datapath by default): kernel interfaces cross-connected by OpenFlow rules',
  schema,
  async start(cfg) {
    const daemon = cfg.ovsDbSocket
      ? OvsDaemon.existing({ dbSocket: cfg.ovsDbSocket, runDir: cfg.ovsRunDir })
      : await OvsDaemon.start({ runDir: cfg.ovsRunDir });
    // Port and rule changes of concurrent requests are merged into single OVS transactions.
    const br = { ovs: new BatchingOvs({ dbSocket: daemon.ovs.dbSocket, runDir: daemon.ovs.runDir }), bridge: cfg.bridgeName };
    await br.ovs.ensureBridge(cfg.bridgeName, { datapathType: cfg.datapathType });
    // A predecessor that crashed may have left ports, devices and flows: local veths are kept for
    // their connections to adopt when they heal through us, the rest is removed.
    const recovery = await recoverDataplane(br, cfg.adoptGrace);
    const bridge = { ...br, adopt: recovery.claim };

    const tmp = cfg.listenOn ? undefined : mkdtempSync(join(tmpdir(), 'cmd-forwarder-ovs-'));
    const listenOn = cfg.listenOn || `unix://${join(tmp!, 'listen_on.io.sock')}`;
    const tokens = jwtTokenGenerator({ subject: `spiffe://nsm.local/forwarder/${cfg.name}`, lifetimeMs: cfg.maxTokenLifetime });
    const ns = nsRegistryClient(cfg.connectTo);
    const nse = nseRegistryClient(cfg.connectTo);
    const remote = await remoteMechanisms(cfg);
    // VLAN breakout: uplinks are bridge ports for the forwarder's lifetime (not NSM connection ports).
    const uplinks = await attachUplinks(br, cfg.vlanUplink, cfg.deviceSelectorFile ? readDeviceSelector(cfg.deviceSelectorFile) : new Map());
    const fwd = forwarder({
      name: cfg.name,
      tokens,
      ns,
      nse,
      dialTimeoutMs: cfg.dialTimeout,
      dataplane: {
        server: [
          xconnect(br),
          mechanisms({
            [MechanismType.KERNEL]: kernelServer(bridge),
            ...(remote ? { [MechanismType.VXLAN]: vxlanServer(br, remote.vxlan), [MechanismType.WIREGUARD]: wireguardServer(remote.wireguard, remote.wireguardPorts) } : {}),
          }),
        ],
        // Offer order: KERNEL (local), then for a remote next hop WIREGUARD first (IP payload only) and VXLAN.
        client: [
          kernelClient(bridge),
          ...(remote ? [vxlanClient(br, remote.vxlan), wireguardClient(remote.wireguard, remote.wireguardPorts)] : []),
          ...(uplinks ? [vlanClient(br, uplinks)] : []),
        ],
      },
    });
    const server = await startServer([listenOn], fwd.services());
    const registry = registrationClient({ url: cfg.connectTo });
    await registry.nse.register(
      Context.background(),
      NetworkServiceEndpoint.fromPartial({
        name: cfg.name,
        networkServiceNames: [cfg.nsName],
        networkServiceLabels: { [cfg.nsName]: { labels: cfg.labels } },
        url: listenOn,
      }),
    );
    log.info({ name: cfg.name, url: listenOn, bridge: cfg.bridgeName, ovsRunDir: daemon.runDir, tunnelIp: cfg.tunnelIp, vxlanPort: remote?.vxlan.port, wireguardPort: remote?.wireguard.basePort, underlayMtu: remote?.tunnel.underlayMtu }, 'forwarder registered');
    return async () => {
      await registry.close().catch((err) => log.warn({ err: String(err) }, 'unregister failed'));
      await server.stop();
      ns.close();
      nse.close();
      recovery.stop();
      await cleanupAll(br).catch((err) => log.warn({ err: String(err) }, 'dataplane cleanup failed'));
      if (!cfg.ovsDbSocket) await daemon.stop();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    };
  },
});

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
import { registrationClient } from '@nsm/sdk/registry/chains';
import { nsRegistryClient, nseRegistryClient } from '@nsm/sdk/registry/grpc';
import { jwtTokenGenerator } from '@nsm/sdk/token';
import { OvsDaemon } from '@nsm/sdk-ovs';
import { kernelClient, kernelServer } from '@nsm/sdk-ovs/elements/kernel';
import { xconnect } from '@nsm/sdk-ovs/elements/xconnect';
import { cleanupStale } from './recover';
import { schema } from './config';

void runCommand({
  name: 'cmd-forwarder-ovs',
  description: 'Forwarder on Open vSwitch (userspace netdev datapath by default): kernel interfaces cross-connected by OpenFlow rules',
  schema,
  async start(cfg) {
    const daemon = cfg.ovsDbSocket
      ? OvsDaemon.existing({ dbSocket: cfg.ovsDbSocket, runDir: cfg.ovsRunDir })
      : await OvsDaemon.start({ runDir: cfg.ovsRunDir });
    const br = { ovs: daemon.ovs, bridge: cfg.bridgeName };
    await br.ovs.ensureBridge(cfg.bridgeName, { datapathType: cfg.datapathType });
    // A predecessor that crashed may have left ports, devices and flows; its connections heal anew.
    await cleanupStale(br);

    const tmp = cfg.listenOn ? undefined : mkdtempSync(join(tmpdir(), 'cmd-forwarder-ovs-'));
    const listenOn = cfg.listenOn || `unix://${join(tmp!, 'listen_on.io.sock')}`;
    const tokens = jwtTokenGenerator({ subject: `spiffe://nsm.local/forwarder/${cfg.name}`, lifetimeMs: cfg.maxTokenLifetime });
    const ns = nsRegistryClient(cfg.connectTo);
    const nse = nseRegistryClient(cfg.connectTo);
    const fwd = forwarder({
      name: cfg.name,
      tokens,
      ns,
      nse,
      dialTimeoutMs: cfg.dialTimeout,
      dataplane: {
        server: [xconnect(br), mechanisms({ [MechanismType.KERNEL]: kernelServer(br) })],
        client: [kernelClient(br)],
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
    log.info({ name: cfg.name, url: listenOn, bridge: cfg.bridgeName, ovsRunDir: daemon.runDir }, 'forwarder registered');
    return async () => {
      await registry.close().catch((err) => log.warn({ err: String(err) }, 'unregister failed'));
      await server.stop();
      ns.close();
      nse.close();
      await cleanupStale(br).catch((err) => log.warn({ err: String(err) }, 'dataplane cleanup failed'));
      if (!cfg.ovsDbSocket) await daemon.stop();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    };
  },
});

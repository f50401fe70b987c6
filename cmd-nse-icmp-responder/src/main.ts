// cmd-nse-icmp-responder: an endpoint that hands each client a point-to-point address pair and asks
// for a kernel interface in its own namespace. The kernel answers the pings; there is no ICMP code.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MechanismType, NetworkService, NetworkServiceEndpoint, NetworkServiceLabels } from '@nsm/api';
import { icmpResponderEndpoint } from '@nsm/sdk/chains/nse';
import { runCommand } from '@nsm/sdk/cmd/run';
import { Context } from '@nsm/sdk/core/context';
import { dnsContext, parseDnsConfigs } from '@nsm/sdk/elements/dnscontext';
import { onIdle } from '@nsm/sdk/elements/onidle';
import { startServer } from '@nsm/sdk/grpc/server';
import { log } from '@nsm/sdk/log';
import { registrationClient } from '@nsm/sdk/chains/registry';
import { jwtTokenGenerator } from '@nsm/sdk/token';
import { chain } from '@nsm/sdk/core/networkservice';
import { kernelMechanismServer } from '@nsm/sdk/elements/kernel';
import { vlanAllocatorServer } from '@nsm/sdk/elements/kernel/vlan';
import { remoteVlanServer } from '@nsm/sdk/elements/remotevlan';
import { singlePointIpam } from '@nsm/sdk/elements/ipam/singlepoint';
import { vlanTrunkEndpoint } from '@nsm/sdk-ovs/elements/trunkendpoint';
import { VlanTrunk } from '@nsm/sdk-ovs/trunk';
import { schema } from './config';

void runCommand({
  name: 'cmd-nse-icmp-responder',
  description: 'Network Service Endpoint for tests and demos: point-to-point addresses and a kernel interface per client',
  schema,
  async start(cfg, ctx) {
    if (cfg.remoteVlan && (cfg.remoteVlan < 1 || cfg.remoteVlan > 4094)) throw new Error(`NSM_REMOTE_VLAN must be a VLAN id 1-4094 (or 0 for off), not ${cfg.remoteVlan}`);
    if (cfg.remoteVlan && cfg.vlanTrunk) throw new Error('NSM_REMOTE_VLAN and NSM_VLAN_TRUNK exclude each other');
    const dns = parseDnsConfigs(cfg.dnsConfigs);
    const tmp = cfg.listenOn ? undefined : mkdtempSync(join(tmpdir(), `${cfg.name}-`));
    const listenOn = cfg.listenOn || `unix://${join(tmp!, 'listen.on')}`;
    const tokens = jwtTokenGenerator({ subject: `spiffe://nsm.local/nse/${cfg.name}`, lifetimeMs: cfg.maxTokenLifetime });
    let retire: () => void = () => undefined;
    // VLAN trunking: the switch lives as long as the pod's namespace, found again by its inode after a restart.
    const trunk = cfg.vlanTrunk
      ? await VlanTrunk.start({ runDir: join(tmpdir(), `nse-ovs-${statSync('/proc/self/ns/net').ino}`), trunk: cfg.vlanTrunk })
      : undefined;
    const nse = icmpResponderEndpoint({
      name: cfg.name,
      tokens,
      cidrPrefixes: cfg.cidrPrefix,
      additional: [onIdle(cfg.idleTimeout, () => retire()), dnsContext(dns)],
      ipam: cfg.remoteVlan ? singlePointIpam(cfg.cidrPrefix, { exclude: cfg.remoteVlanExclude }) : undefined,
      mechanisms: cfg.remoteVlan
        ? { [MechanismType.VLAN]: remoteVlanServer({ vlanId: cfg.remoteVlan, via: cfg.remoteVlanVia || undefined }) }
        : trunk
          ? { [MechanismType.KERNEL]: chain(vlanAllocatorServer(), kernelMechanismServer({ interfaceName: trunk.trunk }), vlanTrunkEndpoint(trunk)) }
          : undefined,
    });
    const server = await startServer([listenOn], nse.services());
    const registry = registrationClient({ url: cfg.connectTo });
    const regCtx = Context.background();
    if (cfg.registerService) {
      for (const name of cfg.serviceNames) await registry.ns.register(regCtx, NetworkService.fromPartial({ name, payload: cfg.payload }));
    }
    const labels: Record<string, NetworkServiceLabels> = Object.fromEntries(cfg.serviceNames.map((s) => [s, { labels: { ...cfg.labels } }]));
    const registered = await registry.nse.register(
      regCtx,
      NetworkServiceEndpoint.fromPartial({ name: cfg.name, networkServiceNames: cfg.serviceNames, networkServiceLabels: labels, url: listenOn }),
    );
    log.info({ name: registered.name, services: cfg.serviceNames, url: listenOn }, 'endpoint registered');
    const stop = async () => {
      await registry.close().catch((err) => log.warn({ err: String(err) }, 'unregister failed'));
      await server.stop();
      await trunk?.stop().catch((err) => log.warn({ err: String(err) }, 'stopping the VLAN switch failed'));
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    };
    retire = () => {
      log.info('idle timeout reached; endpoint retires');
      void stop().then(() => process.exit(0));
    };
    void ctx;
    return stop;
  },
});

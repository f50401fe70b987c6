// cmd-forwarder-vpp: the node's dataplane agent on an already running VPP, driven over VPP's binary
// API socket. Each connection gets a VPP interface per side (tap or veth+af_packet for KERNEL, a VXLAN
// tunnel, or a WireGuard interface) and a cross-connect between them.
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
import { VppApi, VppConnection } from '@nsm/sdk-vpp';
import { defaultKernelMode, DEFAULT_VXLAN_PORT, KernelMode, kernelClient, kernelServer, VppDataplane, vxlanClient, vxlanServer, wireguardClient, wireguardServer, xconnect } from '@nsm/sdk-vpp/elements';
import { DEFAULT_VPP_API_SOCKET, schema } from './config';
import { defaultTunnelIp } from './tunnelip';

void runCommand({
  name: 'cmd-forwarder-vpp',
  description: 'Forwarder on VPP: kernel (tap or veth+af_packet), VXLAN and WireGuard interfaces cross-connected in VPP. VPP is not started here: it must already run and serve its binary API at NSM_VPP_API_SOCKET.',
  helpFooter: `VPP: this command connects to an existing VPP (25.02 definitions) at NSM_VPP_API_SOCKET (default ${DEFAULT_VPP_API_SOCKET}) and exits non-zero at start-up if none answers there.`,
  schema,
  async start(cfg) {
    if (cfg.sriovConfigFile) throw new Error('NSM_SRIOV_CONFIG_FILE: SR-IOV is not supported by this forwarder; leave it empty');
    if (cfg.vxlanPort < 0 || cfg.vxlanPort > 65535) throw new Error(`NSM_VXLAN_PORT: ${cfg.vxlanPort} is not a UDP port`);

    const socket = cfg.vppApiSocket || DEFAULT_VPP_API_SOCKET;
    log.info({ socket }, 'connecting to an existing VPP (this forwarder does not start VPP)');
    const conn = await VppConnection.connect(socket, { name: cfg.name.slice(0, 63), timeoutMs: cfg.vppTimeout });
    const api = new VppApi(conn);
    let stopping = false;
    try {
      const version = await api.showVersion();
      log.info({ socket, vpp: version.version, clientIndex: conn.clientIndex }, 'connected to VPP');
      if (cfg.vppInit === 'AF_PACKET') log.warn('NSM_VPP_INIT=AF_PACKET: uplink initialisation is not implemented; continuing as NONE (the tunnel IP must already be on a VPP interface)');
    } catch (err) {
      await conn.close();
      throw err;
    }
    // Upstream exits when VPP goes away; so does this forwarder.
    conn.on('close', (err) => {
      if (stopping) return;
      log.fatal({ err: err?.message }, 'lost the VPP API connection');
      process.exit(1);
    });

    const tunnelIp = cfg.tunnelIp || (await defaultTunnelIp());
    const dp: VppDataplane = { api, tunnelIp };
    const kernelMode: KernelMode = cfg.kernelMode || defaultKernelMode();
    const vxlanPort = cfg.vxlanPort || DEFAULT_VXLAN_PORT;
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
        server: [
          xconnect(dp),
          mechanisms({
            [MechanismType.KERNEL]: kernelServer(dp, { mode: kernelMode }),
            [MechanismType.VXLAN]: vxlanServer(dp, vxlanPort),
            [MechanismType.WIREGUARD]: wireguardServer(dp),
          }),
        ],
        client: [kernelClient(dp, { mode: kernelMode }), vxlanClient(dp, vxlanPort), wireguardClient(dp)],
      },
    });
    const server = await startServer([cfg.listenOn], fwd.services());
    const registry = registrationClient({ url: cfg.connectTo });
    await registry.nse.register(
      Context.background(),
      NetworkServiceEndpoint.fromPartial({
        name: cfg.name,
        networkServiceNames: [cfg.nsName],
        networkServiceLabels: { [cfg.nsName]: { labels: cfg.labels } },
        url: cfg.listenOn,
      }),
    );
    log.info({ name: cfg.name, url: cfg.listenOn, tunnelIp, kernelMode, vxlanPort }, 'forwarder registered');
    return async () => {
      stopping = true;
      await registry.close().catch((err) => log.warn({ err: String(err) }, 'unregister failed'));
      await server.stop();
      ns.close();
      nse.close();
      await conn.close();
    };
  },
});

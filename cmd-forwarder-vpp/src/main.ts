// cmd-forwarder-vpp: the node's dataplane agent on VPP, driven over VPP's binary API socket. It starts
// VPP itself unless told where a running one is, attaches the node's uplinks, removes what a previous
// forwarder left in VPP, and serves: each connection gets a VPP interface per side (tap or
// veth+af_packet for KERNEL, memif, a VXLAN tunnel, a WireGuard interface, a VLAN sub-interface) and a
// cross-connect between them.
import { endpointNetns } from '@nsm/sdk-kernel/endpointnetns';
import { releaseDeadNamespaces } from '@nsm/sdk-kernel/nsinode';
import { MechanismType, NetworkServiceEndpoint } from '@nsm/api';
import { forwarder } from '@nsm/sdk/chains/forwarder';
import { runCommand } from '@nsm/sdk/cmd/run';
import { Context } from '@nsm/sdk/core/context';
import { mechanisms } from '@nsm/sdk/elements/mechanisms';
import { startServer } from '@nsm/sdk/grpc/server';
import { log } from '@nsm/sdk/log';
import { registrationClient } from '@nsm/sdk/chains/registry';
import { nsRegistryClient, nseRegistryClient } from '@nsm/sdk/grpc/registry';
import {
  defaultKernelMode,
  DEFAULT_VXLAN_PORT,
  KernelMode,
  kernelClient,
  kernelServer,
  memifClient,
  memifServer,
  reconcile,
  vlanClient,
  VppDataplane,
  vxlanClient,
  vxlanServer,
  wireguardClient,
  wireguardServer,
  xconnect,
} from '@nsm/sdk-vpp/elements';
import { DEFAULT_VPP_RUN_DIR, schema } from './config';
import { setUpLinks } from './uplinks';
import { openVpp } from './vpp';

void runCommand({
  name: 'cmd-forwarder-vpp',
  description:
    'Forwarder on VPP: kernel (tap or veth+af_packet), memif, VXLAN, WireGuard and VLAN interfaces cross-connected in VPP. Starts VPP itself unless NSM_VPP_API_SOCKET names a running one.',
  helpFooter: `VPP: with NSM_VPP_API_SOCKET empty this command starts NSM_VPP_BIN with its sockets in NSM_VPP_RUN_DIR (default ${DEFAULT_VPP_RUN_DIR}) and exits when VPP exits; with a socket it waits up to NSM_VPP_API_TIMEOUT for that VPP and exits when the connection is lost. At start it removes what an earlier forwarder left in VPP (interfaces and bridge domains tagged nsm:, cross-connect tables, memif sockets, veths); clients heal through it.`,
  schema,
  identity: true,
  async start(cfg, _ctx, id) {
    if (cfg.sriovConfigFile) throw new Error('NSM_SRIOV_CONFIG_FILE: SR-IOV is not supported by this forwarder; leave it empty');
    if (cfg.vxlanPort < 0 || cfg.vxlanPort > 65535) throw new Error(`NSM_VXLAN_PORT: ${cfg.vxlanPort} is not a UDP port`);

    let stopping = false;
    const vpp = await openVpp(cfg, (why) => {
      if (stopping) return;
      // Upstream exits when VPP goes away; so does this forwarder. Its successor reconciles.
      log.fatal({ why }, 'VPP is gone: exiting so that this forwarder is restarted and its connections heal');
      process.exit(1);
    });
    const { api } = vpp;
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      const version = await api.showVersion();
      log.info({ socket: vpp.socket, vpp: version.version, clientIndex: vpp.conn.clientIndex }, 'connected to VPP');
      const removed = await reconcile(api, { memifDir: cfg.memifDir });
      if (removed.length) log.info({ removed }, 'removed what an earlier forwarder left in VPP');
      const links = await setUpLinks(api, cfg);
      const dp: VppDataplane = { api, tunnelIp: links.tunnelIp, underlayMtu: links.underlayMtu };
      const kernelMode: KernelMode = cfg.kernelMode || defaultKernelMode();
      const vxlanPort = cfg.vxlanPort || DEFAULT_VXLAN_PORT;
      const ns = nsRegistryClient(cfg.connectTo, id.source);
      const nse = nseRegistryClient(cfg.connectTo, id.source);
      const fwd = forwarder({
        name: cfg.name,
        tokens: id.tokens,
        source: id.source,
        ns,
        nse,
        dialTimeoutMs: cfg.dialTimeout,
        dataplane: {
          server: [
            xconnect(dp),
            mechanisms({
              [MechanismType.KERNEL]: kernelServer(dp, { mode: kernelMode }),
              [MechanismType.MEMIF]: memifServer(dp, { dir: cfg.memifDir }),
              [MechanismType.VXLAN]: vxlanServer(dp, vxlanPort),
              [MechanismType.WIREGUARD]: wireguardServer(dp),
            }),
          ],
          // Offer order as upstream's: MEMIF, KERNEL, then VXLAN (Ethernet) or WIREGUARD (IP), VLAN.
          client: [
            memifClient(dp),
            kernelClient(dp, { mode: kernelMode }),
            vxlanClient(dp, vxlanPort),
            wireguardClient(dp, { handshakeTimeoutMs: cfg.wireguardHandshakeTimeout }),
            ...(links.vlan ? [vlanClient(dp, links.vlan)] : []),
          ],
          // An endpoint may only name its own namespace (learnt from who serves its socket).
          replyChecks: [endpointNetns()],
          // An endpoint's stream broke: if its pod died, let go of its namespace before DOWN goes up, so
          // that the namespace and its interfaces go now and a client's data-path check sees the path gone.
          downstreamBroken: () => void releaseDeadNamespaces(),
        },
      });
      server = await startServer([cfg.listenOn], fwd.services(), { source: id.source });
      const registry = registrationClient({ url: cfg.connectTo, source: id.source });
      await registry.nse.register(
        Context.background(),
        NetworkServiceEndpoint.fromPartial({
          name: cfg.name,
          networkServiceNames: [cfg.nsName],
          networkServiceLabels: { [cfg.nsName]: { labels: cfg.labels } },
          url: cfg.listenOn,
        }),
      );
      log.info({ name: cfg.name, url: cfg.listenOn, tunnelIp: links.tunnelIp, underlayMtu: links.underlayMtu, kernelMode, vxlanPort, vlanUplinks: links.vlan?.default, memifDir: cfg.memifDir }, 'forwarder registered');
      const srv = server;
      return async () => {
        stopping = true;
        await registry.close().catch((err) => log.warn({ err: String(err) }, 'unregister failed'));
        await srv.stop();
        ns.close();
        nse.close();
        // Nothing of this forwarder stays behind in VPP or on the host.
        const left = await reconcile(api, { memifDir: cfg.memifDir }).catch((err) => [`clean-up failed: ${String(err)}`]);
        if (left.length) log.info({ removed: left }, 'dataplane removed');
        await vpp.close();
      };
    } catch (err) {
      stopping = true;
      await server?.stop().catch(() => undefined);
      await vpp.close();
      throw err;
    }
  },
});

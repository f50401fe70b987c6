// The client's work: one connection per configured network service, requested with retry, then kept
// alive by the chain (refresh, heal) until stop.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection, Mechanism, MechanismClass, MechanismType, NetworkServiceRequest, Param } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import type { ConfigOf } from '@nsm/sdk/cmd/config';
import type { Identity } from '@nsm/sdk/cmd/identity';
import { authorizeClient } from '@nsm/sdk/elements/authorizeclient';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { dnsContextClient } from '@nsm/sdk/elements/dnscontext/client';
import { DnsFiles } from '@nsm/sdk/elements/dnscontext/files';
import { heal } from '@nsm/sdk/elements/heal';
import { kernelMechanismClient } from '@nsm/sdk/elements/kernel';
import { requestWithRetry } from '@nsm/sdk/elements/retry';
import { log } from '@nsm/sdk/log';
import type { schema } from './config';
import { pingCheck } from './liveness';
import { parseServiceUrl } from './serviceurl';

export async function startClient(cfg: ConfigOf<typeof schema>, ctx: Context, id: Identity): Promise<() => Promise<void>> {
  const specs = cfg.networkServices.map((u) => parseServiceUrl(u, cfg.mechanism));
  const dns = await dnsFiles(cfg);
  const nsc = handler(
    client({
      name: cfg.name,
      url: cfg.connectTo,
      tokens: id.tokens,
      source: id.source,
      // The reply of the nsmgr must carry a path signed and chained by the identities on it (sdk.md §5.8).
      authorize: authorizeClient(),
      dialTimeoutMs: cfg.dialTimeout,
      heal: heal({ livenessCheck: cfg.livenessCheckEnabled ? pingCheck(cfg.livenessCheckTimeout) : undefined, livenessIntervalMs: cfg.livenessCheckInterval }),
      additional: [kernelMechanismClient(), ...(dns ? [dnsContextClient(dns)] : [])],
    }),
  );

  const live = new Map<string, Connection>();
  await Promise.all(
    specs.map(async (spec, i) => {
      const req: NetworkServiceRequest = {
        connection: Connection.fromPartial({ id: `${cfg.name}-${i}`, networkService: spec.networkService, labels: { ...cfg.labels, ...spec.labels } }),
        mechanismPreferences: [Mechanism.fromPartial({ cls: MechanismClass.LOCAL, type: spec.mechanism, parameters: spec.interfaceName ? { name: spec.interfaceName } : {} })],
      };
      const conn = await requestWithRetry(ctx, nsc, req, { tryTimeoutMs: cfg.requestTimeout });
      live.set(conn.id, conn);
      const ip = conn.context?.ipContext;
      log.info(
        {
          id: conn.id,
          networkService: conn.networkService,
          endpoint: conn.networkServiceEndpointName,
          mechanism: conn.mechanism?.type,
          interface: conn.mechanism?.parameters.name,
          // MEMIF: the socket file the app connects to (in a folder the pod shares with its node).
          socket: conn.mechanism?.type === MechanismType.MEMIF ? conn.mechanism.parameters[Param.inodeURL] : undefined,
          srcIps: ip?.srcIpAddrs,
          dstIps: ip?.dstIpAddrs,
          path: conn.path?.pathSegments.map((s) => s.name),
        },
        'connection established',
      );
    }),
  );

  return async () => {
    await Promise.all(
      [...live.values()].map(async (conn) => {
        const { ctx: closeCtx, cancel } = Context.background().withTimeout(cfg.requestTimeout);
        try {
          await nsc.close(closeCtx, conn);
          log.info({ id: conn.id }, 'connection closed');
        } catch (err) {
          log.warn({ id: conn.id, err: String(err) }, 'close failed');
        } finally {
          cancel();
        }
      }),
    );
    // Whatever a failed Close left: the resolver file is the pod's again when the client is gone.
    await dns?.stop().catch((err) => log.warn({ err: String(err) }, 'restoring the resolver file failed'));
  };
}

/** Where the endpoints' DNS contexts go (NSM_DNS_MODE); a client killed before restoring is cleaned up after here. */
async function dnsFiles(cfg: ConfigOf<typeof schema>): Promise<DnsFiles | undefined> {
  if (cfg.dnsMode === 'off') return undefined;
  const mode = cfg.dnsMode === 'auto' ? (existsSync(dirname(cfg.corefilePath)) ? 'corefile' : 'resolvconf') : cfg.dnsMode;
  const files = new DnsFiles({ mode, resolvConfPath: cfg.resolvConfPath, corefilePath: cfg.corefilePath, writer: `nsc ${cfg.name}` });
  await files.start();
  log.info({ mode, resolvConf: cfg.resolvConfPath, corefile: mode === 'corefile' ? cfg.corefilePath : undefined }, 'DNS: endpoints\' DNS contexts go to the resolver');
  return files;
}

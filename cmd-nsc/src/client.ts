// The client's work: one connection per configured network service, requested with retry, then kept
// alive by the chain (refresh, heal) until stop.
import { Connection, Mechanism, MechanismClass, MechanismType, NetworkServiceRequest, Param } from '@nsm/api';
import { client } from '@nsm/sdk/chains/client';
import type { ConfigOf } from '@nsm/sdk/cmd/config';
import type { Identity } from '@nsm/sdk/cmd/identity';
import { authorizeClient } from '@nsm/sdk/elements/authorizeclient';
import { Context } from '@nsm/sdk/core/context';
import { handler } from '@nsm/sdk/core/networkservice';
import { heal } from '@nsm/sdk/elements/heal';
import { kernelMechanismClient } from '@nsm/sdk/elements/kernel';
import { requestWithRetry } from '@nsm/sdk/elements/retry';
import { log } from '@nsm/sdk/log';
import type { schema } from './config';
import { pingCheck } from './liveness';
import { parseServiceUrl } from './serviceurl';

export async function startClient(cfg: ConfigOf<typeof schema>, ctx: Context, id: Identity): Promise<() => Promise<void>> {
  const specs = cfg.networkServices.map((u) => parseServiceUrl(u, cfg.mechanism));
  const nsc = handler(
    client({
      name: cfg.name,
      url: cfg.connectTo,
      tokens: id.tokens,
      source: id.source,
      // The reply of the nsmgr must carry a path signed and chained by the identities on it (sdk.md §5.8).
      authorize: authorizeClient(),
      dialTimeoutMs: cfg.dialTimeout,
      heal: heal({ livenessCheck: cfg.livenessCheckInterval > 0 ? pingCheck : undefined, livenessIntervalMs: cfg.livenessCheckInterval }),
      additional: [kernelMechanismClient()],
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
  };
}

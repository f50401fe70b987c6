// cmd-nsmgr-proxy: a domain's edge for interdomain connections. This domain's registry hands it
// `name@domain` registry calls, which it passes to the registry proxy with its own URL in place of
// the endpoints'; this domain's forwarders then send Requests for those endpoints here, and it
// carries them to the other domain's nsmgr-proxy, which brings them to its nsmgr. Tunnel addresses
// cross through the address map, so the two forwarders meet at their external IPs.
import { nsmgrProxy } from '@nsm/sdk/chains/interdomain';
import { publicUrl } from '@nsm/sdk/cmd/publicurl';
import { runCommand } from '@nsm/sdk/cmd/run';
import { startServer } from '@nsm/sdk/grpc/server';
import { IpMapFile } from '@nsm/sdk/input/ipmap';
import { log } from '@nsm/sdk/log';
import { schema } from './config';

void runCommand({
  name: 'cmd-nsmgr-proxy',
  description: 'NSM nsmgr-proxy: carries Requests and registry calls for name@domain between domains, swapping internal and external addresses',
  schema,
  identity: true,
  async start(cfg, _ctx, id) {
    const map = cfg.mapIpFilePath ? new IpMapFile(cfg.mapIpFilePath, (err) => log.error({ err: err.message }, 'address map change refused; keeping the last one')) : undefined;
    const url = cfg.publicUrl || publicUrl(cfg.listenOn);
    const proxy = nsmgrProxy({
      name: cfg.name,
      tokens: id.tokens,
      source: id.source,
      registryUrl: cfg.registryUrl,
      proxyRegistryUrl: cfg.proxyRegistryUrl,
      publicUrl: url,
      swap: map,
      dialTimeoutMs: cfg.dialTimeout,
    });
    const server = await startServer(cfg.listenOn, [...proxy.services(), ...proxy.registryServices()], { source: id.source });
    log.info({ urls: server.urls, publicUrl: url, registry: cfg.registryUrl, proxyRegistry: cfg.proxyRegistryUrl, map: cfg.mapIpFilePath || '(none)' }, 'nsmgr-proxy serving');
    return async () => {
      await server.stop();
      proxy.close();
      map?.close();
    };
  },
});

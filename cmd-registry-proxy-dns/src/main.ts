// cmd-registry-proxy-dns: the registry of every other domain, as seen from this one. A registry call
// for `name@domain` (from this domain's nsmgr-proxy) goes to the registry that DNS names for the
// domain, under the bare name; what comes back gets the domain again, and the other domain's
// nsmgr-proxy as its URL.
import { registryProxyDns } from '@nsm/sdk/chains/interdomain';
import { runCommand } from '@nsm/sdk/cmd/run';
import { startServer } from '@nsm/sdk/grpc/server';
import { dnsResolver } from '@nsm/sdk/registry/dnsresolve/resolver';
import { log } from '@nsm/sdk/log';
import { schema } from './config';

void runCommand({
  name: 'cmd-registry-proxy-dns',
  description: 'NSM registry proxy: forwards registry calls for name@domain to the registry of that domain, found through DNS SRV and address records',
  schema,
  identity: true,
  async start(cfg, _ctx, id) {
    const resolver = dnsResolver({ servers: cfg.dnsServers, timeoutMs: cfg.dnsTimeout });
    const proxy = registryProxyDns({ resolver, source: id.source, registryService: cfg.registryService, nsmgrProxyService: cfg.nsmgrProxyService });
    const server = await startServer(cfg.listenOn, proxy.services(), { source: id.source });
    log.info({ urls: server.urls, dnsServers: cfg.dnsServers.length ? cfg.dnsServers : '(system)' }, 'registry proxy serving');
    return async () => {
      await server.stop();
      proxy.close();
    };
  },
});

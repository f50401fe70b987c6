// cmd-nsmgr: the per-node manager. Serves the NetworkService API to local clients and remote
// forwarders, chooses a local forwarder for each connection, and is the registry for the node's
// endpoints and forwarders (relaying to the central registry).
import { nsmgr } from '@nsm/sdk/chains/nsmgr';
import { runCommand } from '@nsm/sdk/cmd/run';
import { startServer } from '@nsm/sdk/grpc/server';
import { clientInfoLabels } from '@nsm/sdk/elements/clientinfo';
import { excludedPrefixes } from '@nsm/sdk/elements/excludedprefixes';
import { nsmgrRegistry } from '@nsm/sdk/chains/registry';
import { log } from '@nsm/sdk/log';
import { peerOfSocket } from '@nsm/sdk-kernel';
import { schema } from './config';
import { publicUrl } from '@nsm/sdk/cmd/publicurl';

void runCommand({
  name: 'cmd-nsmgr',
  description: 'Network Service Manager: one per node; connects local clients to network services through a local forwarder',
  schema,
  identity: true,
  helpFooter: 'Also read: NODE_NAME, POD_NAME, CLUSTER_NAME (labels nodeName, podName, clusterName added to requests and registrations).',
  async start(cfg, _ctx, id) {
    if (cfg.namedNetnsSender && !/^inode:\/\/\d{1,20}\/\d{1,20}$/.test(cfg.namedNetnsSender)) {
      throw new Error(`NSM_NAMED_NETNS_SENDER "${cfg.namedNetnsSender}" is not inode://<dev>/<ino>`);
    }
    const url = publicUrl(cfg.listenOn);
    const excluded = excludedPrefixes({ path: cfg.excludedPrefixesFile });
    const registry = nsmgrRegistry({ nsmgrUrl: url, registryUrl: cfg.registryUrl || undefined, expiryMs: cfg.expirePeriod, source: id.source });
    const mgr = nsmgr({
      name: cfg.name,
      tokens: id.tokens,
      source: id.source,
      ns: registry.ns,
      localNse: registry.localNse,
      forwarderServiceName: cfg.forwarderNetworkServiceName,
      dialTimeoutMs: cfg.dialTimeout,
      labels: clientInfoLabels(),
      excludedPrefixes: excluded,
      senderNetns: { namedFrom: cfg.namedNetnsSender || undefined },
    });
    // Each client's connection tells who it is (SO_PEERCRED) and so which namespace it may name.
    const server = await startServer(cfg.listenOn, [...mgr.services(), ...registry.services()], { source: id.source, unixPeer: peerOfSocket });
    log.info({ urls: server.urls, publicUrl: url, registry: cfg.registryUrl || '(local only)' }, 'nsmgr serving');
    return async () => {
      await server.stop();
      await registry.close();
      excluded.dispose();
    };
  },
});

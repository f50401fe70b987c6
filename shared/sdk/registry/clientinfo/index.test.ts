import { NetworkServiceEndpoint } from '@nsm/api';
import { Context } from '../../core/context';
import { registryHandler } from '../../core/registry';
import { clientInfo } from './index';

test('node, pod and cluster names go into every existing label map, without overwriting', async () => {
  const h = registryHandler(clientInfo({ NODE_NAME: 'node-1', POD_NAME: 'pod-1', CLUSTER_NAME: 'c1' }));
  const out = await h.register(
    Context.background(),
    NetworkServiceEndpoint.fromPartial({
      name: 'a',
      networkServiceNames: ['s1', 's2', 's3'],
      networkServiceLabels: { s1: { labels: { app: 'x' } }, s2: { labels: { nodeName: 'own' } } },
    }),
  );
  expect(out.networkServiceLabels).toEqual({
    s1: { labels: { app: 'x', nodeName: 'node-1', podName: 'pod-1', clusterName: 'c1' } },
    s2: { labels: { nodeName: 'own', podName: 'pod-1', clusterName: 'c1' } },
  });
});

test('unset variables add nothing', async () => {
  const out = await registryHandler(clientInfo({})).register(
    Context.background(),
    NetworkServiceEndpoint.fromPartial({ name: 'a', networkServiceLabels: { s1: { labels: {} } } }),
  );
  expect(out.networkServiceLabels).toEqual({ s1: { labels: {} } });
});

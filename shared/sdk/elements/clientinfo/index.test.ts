import { chain, handler } from '../../core/networkservice';
import { bg, conn, recorder, req } from '../../testing/elements';
import { clientInfo, clientInfoLabels } from './index';

test.each([
  [{}, {}],
  [{ NODE_NAME: 'n1' }, { nodeName: 'n1' }],
  [{ NODE_NAME: 'n1', POD_NAME: 'p1', CLUSTER_NAME: 'c1', OTHER: 'x' }, { nodeName: 'n1', podName: 'p1', clusterName: 'c1' }],
  [{ NODE_NAME: '' }, {}],
])('clientInfoLabels(%j)', (env, want) => expect(clientInfoLabels(env)).toEqual(want));

test('adds labels without overwriting the request\'s own', async () => {
  const rec = recorder();
  await handler(chain(clientInfo({ nodeName: 'n1', podName: 'p1' }), rec.el)).request(bg(), req(conn({ labels: { podName: 'mine', app: 'x' } })));
  expect(rec.requests[0].connection!.labels).toEqual({ nodeName: 'n1', podName: 'mine', app: 'x' });
});

import { Connection } from '@nsm/api';
import { metadata } from '../../core/metadata';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, req, seg } from '../../testing/elements';
import { trimPathClient, trimPathServer } from './index';

const stale = () => conn({ id: 'B', path: { index: 1, pathSegments: [seg('nsc', 'A'), seg('nse', 'B'), seg('old', 'C'), seg('older', 'D')] } });
const names = (c: Connection) => c.path!.pathSegments.map((s) => s.name);

describe('trimpath', () => {
  test('the last hop cuts segments beyond its own', async () => {
    const out = await handler(chain(metadata(), trimPathServer())).request(bg(), req(stale()));
    expect(names(out)).toEqual(['nsc', 'nse']);
  });

  test('a hop with a client chain keeps the downstream path, each time', async () => {
    const h = handler(chain(metadata(), trimPathServer(), trimPathClient()));
    expect(names(await h.request(bg(), req(stale())))).toEqual(['nsc', 'nse', 'old', 'older']);
    expect(names(await h.request(bg(), req(stale())))).toEqual(['nsc', 'nse', 'old', 'older']);
  });

  test('Close passes through untouched', async () => {
    let seen: Connection | undefined;
    await handler(chain(metadata(), trimPathServer(), { close: async (_c, c) => void (seen = c) })).close(bg(), stale());
    expect(names(seen!)).toHaveLength(4);
  });
});

import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, ConnectionContext } from '@nsm/api';
import { Code } from '../../core/errors';
import { metadata } from '../../core/metadata';
import { chain, handler } from '../../core/networkservice';
import { bg, conn, recorder, req } from '../../testing/elements';
import { point2pointIpam } from '../ipam/point2point';
import { excludedPrefixes, parseExcludedPrefixes } from './index';

const until = async (f: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('parseExcludedPrefixes', () => {
  test.each([
    ['', []],
    ['prefixes: []', []],
    ['Prefixes:\n  - 10.96.0.0/12\n  - 10.244.0.0/16', ['10.96.0.0/12', '10.244.0.0/16']],
    // Overlapping and adjacent prefixes merge; IPv4 before IPv6; duplicates go.
    ['prefixes: [fd00::/64, 10.0.0.1/32, 10.0.0.0/32, 10.0.0.2/31, 10.0.1.0/24, 10.0.1.128/25, fd00::/64]', ['10.0.0.0/30', '10.0.1.0/24', 'fd00::/64']],
    ['prefixes: [172.16.1.101/32, 172.16.1.102/32]', ['172.16.1.101/32', '172.16.1.102/32']],
  ])('%j', (text, want) => expect(parseExcludedPrefixes(text)).toEqual(want));

  test.each([
    ['prefixes: [nonsense]', /not a valid CIDR/],
    ['prefixes: 10.0.0.0/8', /list of CIDR strings/],
    ['- 10.0.0.0/8', /not a map/],
    ['prefixes: [10.0.0.0]', /no \/length/],
  ])('refuses %j', (text, msg) => expect(() => parseExcludedPrefixes(text)).toThrow(msg));
});

describe('excludedprefixes element', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'excl-'));
    file = join(dir, 'excluded_prefixes.yaml');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ipOf = (c: Connection) => c.context!.ipContext!;

  test('adds the file\'s prefixes to the request, de-duplicated after the request\'s own; the IPAM skips them', async () => {
    writeFileSync(file, 'prefixes: [172.16.1.101/32, 172.16.1.102/32]\n');
    const el = excludedPrefixes({ path: file });
    try {
      const rec = recorder();
      const h = handler(chain(metadata(), el, rec.el, point2pointIpam(['172.16.1.100/30'])));
      const c = conn({ id: 'a' });
      c.context = ConnectionContext.fromPartial({ ipContext: { excludedPrefixes: ['10.0.0.0/8', '172.16.1.102/32'] } });
      const out = await h.request(bg(), req(c));
      expect(rec.requests[0].connection!.context!.ipContext!.excludedPrefixes).toEqual(['10.0.0.0/8', '172.16.1.102/32', '172.16.1.101/32']);
      // As upstream's example: the endpoint .100, the client .103.
      expect(ipOf(out).dstIpAddrs).toEqual(['172.16.1.100/32']);
      expect(ipOf(out).srcIpAddrs).toEqual(['172.16.1.103/32']);
    } finally {
      el.dispose();
    }
  });

  test('a changed file applies to the next request without a restart, also when replaced as a ConfigMap replaces it', async () => {
    // A ConfigMap volume: the file is a symlink into a ..data directory that is swapped.
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'excluded_prefixes.yaml'), 'prefixes: [10.0.0.0/31]\n');
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'excluded_prefixes.yaml'), file);
    const el = excludedPrefixes({ path: file });
    try {
      const ipam = point2pointIpam(['10.0.0.0/24']);
      const h = handler(chain(metadata(), el, ipam));
      const a = await h.request(bg(), req(conn({ id: 'a' })));
      expect(ipOf(a).dstIpAddrs).toEqual(['10.0.0.2/32']);
      mkdirSync(join(dir, '..v2'));
      writeFileSync(join(dir, '..v2', 'excluded_prefixes.yaml'), 'Prefixes: [10.0.0.0/30, 10.0.0.4/31]\n');
      symlinkSync('..v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      await until(() => el.prefixes().join() === '10.0.0.0/30,10.0.0.4/31');
      const b = await h.request(bg(), req(conn({ id: 'b' })));
      expect(ipOf(b).dstIpAddrs).toEqual(['10.0.0.6/32']);
      // The refresh of a: its pair .2/.3 is now excluded and is replaced.
      const a2 = await h.request(bg(), req(a));
      expect(ipOf(a2).dstIpAddrs).toEqual(['10.0.0.8/32']);
      expect(ipOf(a2).excludedPrefixes).toEqual(['10.0.0.0/30', '10.0.0.4/31']);
      // Bad content keeps the set; a removed file empties it, and a refresh drops what it had added.
      writeFileSync(join(dir, '..v2', 'excluded_prefixes.yaml'), 'prefixes: [garbage]\n');
      await new Promise((r) => setTimeout(r, 300));
      expect(el.prefixes()).toEqual(['10.0.0.0/30', '10.0.0.4/31']);
      rmSync(file);
      await until(() => el.prefixes().length === 0);
      const a3 = await h.request(bg(), req(a2));
      expect(ipOf(a3).excludedPrefixes).toEqual([]);
    } finally {
      el.dispose();
    }
  });

  test('an answer with an address inside an excluded prefix is refused and the connection closed again', async () => {
    writeFileSync(file, 'prefixes: [10.0.0.0/30]\n');
    const el = excludedPrefixes({ path: file });
    try {
      const rec = recorder();
      // An endpoint that ignores the excluded prefixes.
      const rogue = { async request(_c: unknown, r: { connection?: Connection }) {
        const c = r.connection!;
        c.context!.ipContext!.srcIpAddrs = ['10.0.0.1/32'];
        return c;
      } };
      const h = handler(chain(metadata(), el, rec.el, rogue as never));
      await expect(h.request(bg(), req(conn({ id: 'x' })))).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION, message: expect.stringMatching(/10\.0\.0\.1\/32 \(in 10\.0\.0\.0\/30\)/) });
      expect(rec.closes.map((c) => c.id)).toEqual(['x']);
    } finally {
      el.dispose();
    }
  });

  test('no file and no directory: nothing excluded', async () => {
    const el = excludedPrefixes({ path: join(dir, 'absent', 'excluded_prefixes.yaml') });
    try {
      const out = await handler(chain(metadata(), el)).request(bg(), req(conn({ id: 'n' })));
      expect(ipOf(out).excludedPrefixes).toEqual([]);
    } finally {
      el.dispose();
    }
  });
});

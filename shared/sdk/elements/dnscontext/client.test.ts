import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code } from '../../core/errors';
import { Connection, DNSConfig } from '@nsm/api';
import { chain, handler, type NetworkServiceElement } from '../../core/networkservice';
import { bg, conn, recorder, req } from '../../testing/elements';
import { dnsContextClient } from './client';
import { DnsFiles, type DnsMode } from './files';

// A resolver file with what real ones have: a comment, options, a `domain` line, no final newline,
// and a byte that is not UTF-8 (restored byte for byte all the same).
const ORIGINAL = Buffer.concat([
  Buffer.from('# from the host\nnameserver 10.255.255.53\nnameserver 10.255.255.54\ndomain corp.example\noptions ndots:2 timeout:1\n# caf'),
  Buffer.from([0xe9]),
  Buffer.from('\nsortlist 10.0.0.0'),
]);

const cfg = (dnsServerIps: string[], searchDomains: string[] = []) => DNSConfig.fromPartial({ dnsServerIps, searchDomains });

/** An endpoint that answers with these DNS configs. */
const answering = (configs: DNSConfig[]): NetworkServiceElement => ({
  async request(_ctx, r) {
    return Connection.fromPartial({ ...r.connection, context: { dnsContext: { configs } } });
  },
});

let dir: string;
let resolv: string;
let corefile: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dnsctx-'));
  resolv = join(dir, 'resolv.conf');
  corefile = join(dir, 'coredns', 'Corefile');
  writeFileSync(resolv, ORIGINAL);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function started(mode: DnsMode): Promise<DnsFiles> {
  const files = new DnsFiles({ mode, resolvConfPath: resolv, corefilePath: corefile, writer: 'nsc test' });
  await files.start();
  return files;
}

/** The client element over an endpoint answering `configs`; `closes` records what reached downstream. */
function client(files: DnsFiles, configs: DNSConfig[]) {
  const down = recorder();
  return { h: handler(chain(dnsContextClient(files), down.el, answering(configs))), closes: down.closes };
}

const lines = (path: string) => readFileSync(path, 'latin1').split('\n').filter((l) => l && !l.startsWith('#'));

describe('dnscontext client, resolver file (no sidecar)', () => {
  test("puts each connection's servers and domains first, in place, and restores the exact original with the last Close", async () => {
    const inode = statSync(resolv).ino;
    const files = await started('resolvconf');
    expect(readFileSync(resolv)).toEqual(ORIGINAL);

    const a = client(files, [cfg(['172.16.1.100'], ['example.nsm'])]);
    const ca = await a.h.request(bg(), req(conn({ id: 'nsc-0' })));
    expect(lines(resolv)).toEqual([
      'nameserver 172.16.1.100',
      'nameserver 10.255.255.53',
      'nameserver 10.255.255.54',
      'search example.nsm corp.example',
      'options ndots:2 timeout:1',
      'sortlist 10.0.0.0',
    ]);
    // Rewritten in place: a bind-mounted file keeps its mount.
    expect(statSync(resolv).ino).toBe(inode);

    const b = client(files, [cfg(['2001:db8::53', '172.16.2.100'], ['other.nsm'])]);
    const cb = await b.h.request(bg(), req(conn({ id: 'nsc-1' })));
    expect(lines(resolv).slice(0, 5)).toEqual([
      'nameserver 172.16.1.100',
      'nameserver 2001:db8::53',
      'nameserver 172.16.2.100',
      'nameserver 10.255.255.53',
      'nameserver 10.255.255.54',
    ]);
    expect(lines(resolv)).toContain('search example.nsm other.nsm corp.example');

    // A refresh with the same context changes nothing.
    const before = statSync(resolv).mtimeMs;
    await a.h.request(bg(), req(ca));
    expect(statSync(resolv).mtimeMs).toBe(before);

    await a.h.close(bg(), ca);
    expect(lines(resolv)[0]).toBe('nameserver 2001:db8::53');
    expect(readFileSync(resolv, 'latin1')).not.toContain('172.16.1.100');
    await b.h.close(bg(), cb);
    expect(readFileSync(resolv)).toEqual(ORIGINAL);
    expect(statSync(resolv).ino).toBe(inode);
  });

  test('a connection without a DNS context writes nothing', async () => {
    const files = await started('resolvconf');
    const mtime = statSync(resolv).mtimeMs;
    const a = client(files, []);
    await a.h.close(bg(), await a.h.request(bg(), req(conn({ id: 'nsc-0' }))));
    expect(statSync(resolv).mtimeMs).toBe(mtime);
    expect(readFileSync(resolv)).toEqual(ORIGINAL);
  });

  test('a client killed before it restored: the next one brings the original back at start', async () => {
    const first = await started('resolvconf');
    await client(first, [cfg(['172.16.1.100'], ['example.nsm'])]).h.request(bg(), req(conn({ id: 'nsc-0' })));
    expect(readFileSync(resolv, 'latin1')).toContain('nameserver 172.16.1.100');
    await started('resolvconf');
    expect(readFileSync(resolv)).toEqual(ORIGINAL);
  });

  test('no resolver file before: it goes again on Close', async () => {
    rmSync(resolv);
    const files = await started('resolvconf');
    const a = client(files, [cfg(['172.16.1.100'])]);
    const c = await a.h.request(bg(), req(conn({ id: 'nsc-0' })));
    expect(lines(resolv)).toEqual(['nameserver 172.16.1.100']);
    await a.h.close(bg(), c);
    expect(existsSync(resolv)).toBe(false);
  });

  test('client exit (stop) restores what Closes did not', async () => {
    const files = await started('resolvconf');
    await client(files, [cfg(['172.16.1.100'])]).h.request(bg(), req(conn({ id: 'nsc-0' })));
    await files.stop();
    expect(readFileSync(resolv)).toEqual(ORIGINAL);
  });
});

describe('dnscontext client, malformed DNS contexts', () => {
  const many = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
  test.each([
    ['a search domain with a newline', [cfg(['172.16.1.100'], ['a.nsm\nnameserver 6.6.6.6'])], Code.INVALID_ARGUMENT, /configs\[0\]\.search_domains\[0\]/],
    ['a search domain with a space', [cfg(['172.16.1.100'], ['a.nsm b'])], Code.INVALID_ARGUMENT, /search_domains\[0\]: "a.nsm b" is not a domain name/],
    ['a label too long', [cfg(['172.16.1.100'], [`${'a'.repeat(64)}.nsm`])], Code.INVALID_ARGUMENT, /search_domains\[0\]/],
    ['a server name instead of an address', [cfg(['dns.example'])], Code.INVALID_ARGUMENT, /dns_server_ips\[0\]: "dns.example" is not an IP address/],
    ['an address with a prefix', [cfg(['172.16.1.100/32'])], Code.INVALID_ARGUMENT, /dns_server_ips\[0\]/],
    ['an address and an option', [cfg(['172.16.1.100 options debug'])], Code.INVALID_ARGUMENT, /dns_server_ips\[0\]/],
    ['a loopback server', [cfg(['127.0.0.53'])], Code.INVALID_ARGUMENT, /dns_server_ips\[0\]: "127.0.0.53" is not an address a DNS server can have/],
    ['an unspecified IPv6 server', [cfg(['1.1.1.1']), cfg(['::'])], Code.INVALID_ARGUMENT, /configs\[1\]\.dns_server_ips\[0\]/],
    ['domains without servers', [cfg([], ['example.nsm'])], Code.INVALID_ARGUMENT, /configs\[0\]\.dns_server_ips: empty/],
    ['17 configs', many(17, () => cfg(['172.16.1.100'])), Code.RESOURCE_EXHAUSTED, /configs: 17 entries, at most 16/],
    ['9 servers', [cfg(many(9, (i) => `172.16.1.${i + 1}`))], Code.RESOURCE_EXHAUSTED, /dns_server_ips: 9 entries/],
    ['33 search domains', [cfg(['172.16.1.100'], many(33, (i) => `d${i}.nsm`))], Code.RESOURCE_EXHAUSTED, /search_domains: 33 entries/],
  ])('%s: refused, nothing written, the path closed again', async (_what, configs, code, msg) => {
    const files = await started('corefile');
    const core = readFileSync(corefile);
    const mtimes = [statSync(resolv).mtimeMs, statSync(corefile).mtimeMs];
    const a = client(files, configs);
    const err = await a.h.request(bg(), req(conn({ id: 'nsc-0' }))).catch((e: unknown) => e as { code: number; message: string });
    expect(err).toMatchObject({ code });
    expect((err as { message: string }).message).toMatch(msg);
    expect(a.closes.map((c) => c.id)).toEqual(['nsc-0']);
    expect(readFileSync(resolv)).toEqual(ORIGINAL);
    expect(readFileSync(corefile)).toEqual(core);
    expect([statSync(resolv).mtimeMs, statSync(corefile).mtimeMs]).toEqual(mtimes);
  });
});

test('a refresh whose DNS context is refused: the path is closed, and what the earlier reply wrote goes with it', async () => {
  const files = await started('resolvconf');
  let configs = [cfg(['172.16.1.100'], ['example.nsm'])];
  const down = recorder();
  const h = handler(chain(dnsContextClient(files), down.el, { request: async (_ctx, r) => Connection.fromPartial({ ...r.connection, context: { dnsContext: { configs } } }) }));
  const c = await h.request(bg(), req(conn({ id: 'nsc-0' })));
  expect(readFileSync(resolv, 'latin1')).toContain('nameserver 172.16.1.100');
  configs = [cfg(['172.16.1.100'], ['bad domain'])];
  await expect(h.request(bg(), req(c))).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
  expect(down.closes.map((x) => x.id)).toEqual(['nsc-0']);
  expect(readFileSync(resolv)).toEqual(ORIGINAL);
});

describe('dnscontext client, CoreDNS sidecar (upstream)', () => {
  const blocks = (text: string) => text.split('\n').filter((l) => !l.startsWith('#')).join('\n');

  test('the sidecar first forwards everything to the original resolvers; then each zone to its endpoint; back on Close', async () => {
    const files = await started('corefile');
    const initial = readFileSync(corefile, 'utf8');
    expect(blocks(initial)).toBe('. {\n    forward . 10.255.255.53 10.255.255.54\n    cache\n    log\n    reload\n}\n');
    // Nothing is asked of the sidecar before there is something to route.
    expect(readFileSync(resolv)).toEqual(ORIGINAL);

    const a = client(files, [cfg(['172.16.1.100'], ['example.nsm', 'Shared.NSM.'])]);
    const ca = await a.h.request(bg(), req(conn({ id: 'nsc-0' })));
    const b = client(files, [cfg(['172.16.2.100'], ['shared.nsm']), cfg(['172.16.3.100'])]);
    const cb = await b.h.request(bg(), req(conn({ id: 'nsc-1' })));
    expect(blocks(readFileSync(corefile, 'utf8'))).toBe(
      [
        '. {\n    fanout . 10.255.255.53 10.255.255.54 172.16.3.100\n    cache\n    log\n    reload\n}\n',
        'example.nsm {\n    forward . 172.16.1.100\n    cache\n    log\n}\n',
        'shared.nsm {\n    fanout . 172.16.1.100 172.16.2.100\n    cache\n    log\n}\n',
      ].join(''),
    );
    expect(lines(resolv).slice(0, 4)).toEqual(['nameserver 127.0.0.1', 'nameserver 10.255.255.53', 'nameserver 10.255.255.54', 'search example.nsm Shared.NSM. shared.nsm corp.example']);

    await a.h.close(bg(), ca);
    await b.h.close(bg(), cb);
    expect(readFileSync(corefile, 'utf8')).toBe(initial);
    expect(readFileSync(resolv)).toEqual(ORIGINAL);
  });
});

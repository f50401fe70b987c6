// The resolver file (resolv(5)) as the DNS client rewrites it: the connections' servers and search
// domains in front of the original ones, every other line kept, and the original file itself carried
// in a comment, so that it is restored byte for byte on Close, also by a client restarted after a crash.

/** What of a resolv.conf the rewrite needs; `rest` are the other lines (options, sortlist, comments). */
export interface ResolvConf {
  nameservers: string[];
  search: string[];
  rest: string[];
}

const MARKER = '# nsm-original: ';
/** The original did not exist: restoring it removes the file. */
const ABSENT = 'absent';

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], rest: [] };
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'nameserver' && words[1]) out.nameservers.push(words[1]);
    // The last `search` or `domain` line wins (resolv.conf(5)).
    else if (words[0] === 'search' || words[0] === 'domain') out.search = words.slice(1);
    else if (line.startsWith(MARKER)) continue;
    else if (line !== '') out.rest.push(line);
  }
  return out;
}

/** The original a rewritten file carries: its text, null when there was no file, undefined when `text` is not ours. */
export function originalOf(text: string): string | null | undefined {
  const line = text.split('\n').find((l) => l.startsWith(MARKER));
  if (line === undefined) return undefined;
  const value = line.slice(MARKER.length).trim();
  if (value === ABSENT) return null;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined;
  return Buffer.from(value, 'base64').toString('latin1');
}

const unique = (xs: string[]) => [...new Set(xs)];

/**
 * The rewritten file: `servers` first, then the original servers (glibc asks at most three, in
 * order, and moves on when one fails or refuses), `domains` before the original search list.
 */
export function renderResolvConf(original: string | null, servers: string[], domains: string[], writer: string): string {
  const o = parseResolvConf(original ?? '');
  const lines = [
    `# Written by ${writer} for the DNS contexts of its connections; the original comes back when they close.`,
    `${MARKER}${original === null ? ABSENT : Buffer.from(original, 'latin1').toString('base64')}`,
    ...unique([...servers, ...o.nameservers]).map((s) => `nameserver ${s}`),
  ];
  const search = unique([...domains, ...o.search]);
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  return `${[...lines, ...o.rest].join('\n')}\n`;
}

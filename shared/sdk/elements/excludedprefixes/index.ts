// excludedprefixes (sdk.md §3.25; nsmgr): the node's excluded prefixes (typically the cluster's pod and
// service CIDRs) from a YAML file, `prefixes: [CIDR, ...]` (the key in any case: upstream's sidecar
// writes `Prefixes`), added to every Request's ip_context.excluded_prefixes so that the endpoint's IPAM
// skips them. The file is watched through its directory, as a ConfigMap update replaces a symlink
// there: a change applies to the next Request without a restart; a missing or empty file is no
// prefixes; content that does not parse keeps the previous set (and is logged). Unlike v1.1.1 the
// endpoint's answer is checked too: an address inside an excluded prefix fails the Request (the
// connection is closed again) instead of reaching the client.
import { existsSync, FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parse } from 'yaml';
import { createKey } from '../../core/context';
import { failedPrecondition } from '../../core/errors';
import { serverMeta } from '../../core/metadata';
import type { NetworkServiceElement } from '../../core/networkservice';
import { log as rootLog, type Logger } from '../../log';
import { addressOf, contains, normalizePrefixes, parsePrefix } from '../ipam/cidr';
import { ipContextOf } from '../ipam/context';

export const DEFAULT_EXCLUDED_PREFIXES_FILE = '/var/lib/networkservicemesh/config/excluded_prefixes.yaml';
/** A file larger than this is not read (a list of CIDRs is a few kB). */
const MAX_FILE = 1 << 20;
const MAX_PREFIXES = 10_000;

/** Parses the file's content; throws with what is wrong. An empty document is no prefixes. */
export function parseExcludedPrefixes(text: string): string[] {
  const doc = parse(text) as unknown;
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a map with a prefixes list');
  const key = Object.keys(doc).find((k) => k.toLowerCase() === 'prefixes');
  const list = key === undefined ? [] : (doc as Record<string, unknown>)[key];
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string')) throw new Error('prefixes must be a list of CIDR strings');
  if (list.length > MAX_PREFIXES) throw new Error(`more than ${MAX_PREFIXES} prefixes`);
  return normalizePrefixes(list as string[]);
}

export interface ExcludedPrefixesOptions {
  /** The YAML file (default upstream's path). */
  path?: string;
  log?: Logger;
}

export type ExcludedPrefixes = NetworkServiceElement & {
  /** The current set, normalised. */
  prefixes(): string[];
  /** Stops watching the file. */
  dispose(): void;
};

const addedKey = createKey<string[]>('excludedprefixes.added');

export function excludedPrefixes(opts: ExcludedPrefixesOptions = {}): ExcludedPrefixes {
  const path = opts.path ?? DEFAULT_EXCLUDED_PREFIXES_FILE;
  const log = opts.log ?? rootLog;
  let current: string[] = [];
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;

  const load = () => {
    try {
      const text = existsSync(path) ? readFileSync(path, { encoding: 'utf8', flag: 'r' }).slice(0, MAX_FILE + 1) : '';
      if (text.length > MAX_FILE) throw new Error(`larger than ${MAX_FILE} bytes`);
      const next = parseExcludedPrefixes(text);
      if (JSON.stringify(next) !== JSON.stringify(current)) log.info({ path, prefixes: next }, 'excluded prefixes loaded');
      current = next;
    } catch (err) {
      log.warn({ path, err: (err as Error).message }, 'excluded prefixes file not valid; keeping the previous set');
    }
  };
  const start = () => {
    if (watcher) return;
    load();
    if (!existsSync(dirname(path))) {
      log.info({ path }, 'no excluded prefixes directory: none excluded');
      return;
    }
    try {
      // The directory, not the file: a ConfigMap (or an editor) replaces the file, which ends a
      // watch on the file itself.
      watcher = watch(dirname(path), (_event, name) => {
        if (name && name !== basename(path) && !name.startsWith('..')) return;
        clearTimeout(timer);
        timer = setTimeout(load, 50);
      });
      watcher.on('error', (err) => log.warn({ path, err: String(err) }, 'watching the excluded prefixes file failed'));
    } catch (err) {
      log.warn({ path, err: (err as Error).message }, 'cannot watch the excluded prefixes directory; the file is read once');
    }
  };
  start();

  return {
    prefixes: () => current,
    dispose() {
      clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
    async request(ctx, req, next) {
      const ip = ipContextOf(req.connection!);
      // A refresh carries back what was added last time: a prefix since taken out of the file goes.
      const meta = serverMeta(ctx);
      const before = meta.get(addedKey) ?? [];
      ip.excludedPrefixes = ip.excludedPrefixes.filter((p) => !before.includes(p) || current.includes(p));
      const added = current.filter((p) => !ip.excludedPrefixes.includes(p) || before.includes(p));
      for (const p of current) if (!ip.excludedPrefixes.includes(p)) ip.excludedPrefixes.push(p);
      meta.set(addedKey, added);
      const excluded = ip.excludedPrefixes.flatMap((p) => {
        try {
          return [parsePrefix(p)];
        } catch {
          return [];
        }
      });
      const out = await next.request(ctx, req);
      const got = out.context?.ipContext;
      const bad = [...(got?.srcIpAddrs ?? []), ...(got?.dstIpAddrs ?? [])].flatMap((a) => {
        const x = addressOf(a);
        const hit = x && excluded.find((p) => contains(p, x.v6, x.n));
        return hit ? [`${a} (in ${hit.text})`] : [];
      });
      if (bad.length) {
        await next.close(ctx, out).catch((err) => log.warn({ id: out.id, err: String(err) }, 'closing a connection with excluded addresses failed'));
        throw failedPrecondition(`the endpoint assigned addresses inside excluded prefixes: ${bad.join(', ')}`);
      }
      return out;
    },
  };
}

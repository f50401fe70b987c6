// Label matching used to choose endpoints and forwarders (api.md §8.6, §8.7): "selector ⊆ labels",
// where a selector value may be a Go-template reference to the request's labels such as {{.nodeName}}.
import type { Match, NetworkService, NetworkServiceEndpoint } from '@nsm/api';
import { renderTemplate } from './template';

export { renderTemplate };

export function isSubset(labels: Record<string, string>, selector: Record<string, string>, vars: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  if (Object.keys(labels).length < keys.length) return false;
  return keys.every((k) => {
    const have = labels[k] ?? '';
    const want = selector[k];
    return have === want || have === renderTemplate(want, vars);
  });
}

const unexpired = (now: number) => (e: NetworkServiceEndpoint) =>
  !e.expirationTime || e.expirationTime.seconds * 1000 + e.expirationTime.nanos / 1e6 > now;

/**
 * The endpoints a request may use. With matches present but none applying, the answer is empty
 * (sdk v1.11 behaviour): v1.1.1 returned every endpoint there, which silently ignores the operator's rules.
 */
export function matchEndpoints(labels: Record<string, string>, ns: NetworkService, nses: NetworkServiceEndpoint[], now: number): NetworkServiceEndpoint[] {
  const live = nses.filter(unexpired(now));
  if (ns.matches.length === 0) return live;
  for (const m of ns.matches) {
    if (!isSubset(labels, m.sourceSelector, labels)) continue;
    const candidates = m.routes.flatMap((d) =>
      live.filter((e) => isSubset(e.networkServiceLabels[ns.name]?.labels ?? {}, d.destinationSelector, labels)),
    );
    if (m.fallthrough && candidates.length === 0) continue;
    if (candidates.length === 0 && m.metadata && m.routes.length === 0) return live;
    return dedupe(candidates);
  }
  return [];
}

/** Forwarders able to serve the request (api.md §8.7); default wanted labels are {p2p: "true"}. */
export function matchForwarders(labels: Record<string, string>, ns: NetworkService | undefined, forwarders: NetworkServiceEndpoint[], serviceName: string): NetworkServiceEndpoint[] {
  if (!ns || ns.matches.length === 0) return forwarders;
  for (const m of ns.matches as Match[]) {
    if (!isSubset(labels, m.sourceSelector, labels)) continue;
    const wanted = m.metadata && Object.keys(m.metadata.labels).length > 0 ? m.metadata.labels : { p2p: 'true' };
    const candidates = forwarders.filter((f) => {
      const fl = f.networkServiceLabels[serviceName]?.labels;
      return fl !== undefined && isSubset(fl, wanted, labels);
    });
    if (m.fallthrough && candidates.length === 0) continue;
    return candidates;
  }
  return [];
}

function dedupe(list: NetworkServiceEndpoint[]): NetworkServiceEndpoint[] {
  const seen = new Set<string>();
  return list.filter((e) => (seen.has(e.name) ? false : (seen.add(e.name), true)));
}

const showMap = (m: Record<string, string>) => `{${Object.entries(m).map(([k, v]) => `${k}: ${v}`).join(', ')}}`;

/**
 * Why matchEndpoints found nothing, for the NOT_FOUND a client sees: the request's labels, and what
 * each match did with them (skipped, fell through, or selected none), so that a wrong template or
 * a missing label shows at once.
 */
export function explainNoCandidates(labels: Record<string, string>, ns: NetworkService, nses: NetworkServiceEndpoint[], now: number): string {
  const live = nses.filter(unexpired(now));
  const expired = nses.length - live.length;
  const head = `no network service endpoint matches network service "${ns.name}" for labels ${showMap(labels)} (${nses.length} registered${expired ? `, ${expired} expired` : ''})`;
  if (ns.matches.length === 0) return head;
  const steps: string[] = [];
  for (const [i, m] of ns.matches.entries()) {
    const n = `match ${i + 1}`;
    if (!isSubset(labels, m.sourceSelector, labels)) {
      steps.push(`${n}: source selector ${showMap(m.sourceSelector)} does not apply`);
      continue;
    }
    const wanted = m.routes.map((d) => showMap(Object.fromEntries(Object.entries(d.destinationSelector).map(([k, v]) => [k, renderTemplate(v, labels)]))));
    steps.push(`${n}${m.fallthrough ? ' (fallthrough)' : ''}: no endpoint with ${wanted.length ? wanted.join(' or ') : 'any route'}`);
    if (!m.fallthrough) break;
  }
  return `${head}: ${steps.join('; ')}`;
}

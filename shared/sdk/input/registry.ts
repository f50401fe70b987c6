// Registry records (api.md §2.4, §8): NetworkServices and NetworkServiceEndpoints as Register sends
// them, and as templates (Find queries, Unregister) where every field may be empty. Names, URLs,
// labels, matches, service lists, path ids and times are parsed and bounded the same way in both.
import { NetworkService, NetworkServiceEndpoint, Payload } from '@nsm/api';
import { invalidArgument } from '../core/errors';
import { checkLabels, checkServiceName, checkTimestamp } from './connection';
import { isEndpointUrl } from './formats';
import { Limits } from './limits';
import { checkText, entries, list, malformed, requireString, show } from './text';

/** 'record': what Register stores (required fields present); 'template': a query or an Unregister. */
export type RecordUse = 'record' | 'template';

const PAYLOADS = new Set<string>(['', Payload.IP, Payload.ETHERNET]);

function checkPathIds(field: string, ids: string[] | undefined): void {
  list(field, ids, Limits.pathIds).forEach((id, i) => checkText(`${field}[${i}]`, id, Limits.spiffeIdBytes, { noSpace: true }));
}

export function checkNetworkService(field: string, ns: NetworkService | undefined, use: RecordUse): void {
  if (!ns || typeof ns !== 'object') throw invalidArgument(`${field} is required`);
  checkServiceName(`${field}.name`, ns.name, use === 'record');
  const payload = requireString(`${field}.payload`, ns.payload ?? '');
  if (!PAYLOADS.has(payload)) throw malformed(`${field}.payload`, payload, 'is not a payload (IP or ETHERNET)');
  list(`${field}.matches`, ns.matches, Limits.matches).forEach((m, i) => {
    const f = `${field}.matches[${i}]`;
    if (!m || typeof m !== 'object') throw invalidArgument(`${f} is empty`);
    checkLabels(`${f}.source_selector`, m.sourceSelector);
    list(`${f}.routes`, m.routes, Limits.matchRoutes).forEach((d, j) => {
      if (!d || typeof d !== 'object') throw invalidArgument(`${f}.routes[${j}] is empty`);
      checkLabels(`${f}.routes[${j}].destination_selector`, d.destinationSelector);
    });
    checkLabels(`${f}.metadata.labels`, m.metadata?.labels);
  });
  checkPathIds(`${field}.path_ids`, ns.pathIds);
}

export function checkNetworkServiceEndpoint(field: string, nse: NetworkServiceEndpoint | undefined, use: RecordUse): void {
  if (!nse || typeof nse !== 'object') throw invalidArgument(`${field} is required`);
  const names = list(`${field}.network_service_names`, nse.networkServiceNames, Limits.serviceNames);
  const labelSets = entries(`${field}.network_service_labels`, nse.networkServiceLabels as unknown as Record<string, string>, Limits.serviceLabelSets);
  if (use === 'record' && !nse.name && !nse.url && names.length === 0 && labelSets.length === 0) {
    throw invalidArgument(`${field} is empty: it needs at least a url and network_service_names`);
  }
  // A registry may name an endpoint that registers without one (api.md §8.1).
  checkServiceName(`${field}.name`, nse.name);
  const url = requireString(`${field}.url`, nse.url ?? '');
  if (use === 'record' && !url) throw invalidArgument(`${field}.url must not be empty`);
  // A query matches URLs by substring, so a template's url is any short plain text.
  if (use === 'template') checkText(`${field}.url`, url, Limits.urlBytes, { noSpace: true });
  else if (!isEndpointUrl(url, Limits.urlBytes)) {
    throw malformed(`${field}.url`, url, `is not a URL (unix:///path, tcp://host:port or inode://dev/ino, at most ${Limits.urlBytes} bytes)`);
  }
  names.forEach((n, i) => checkServiceName(`${field}.network_service_names[${i}]`, n, true));
  for (const [svc, l] of labelSets as unknown as [string, { labels?: Record<string, string> } | undefined][]) {
    checkServiceName(`${field}.network_service_labels key`, svc, true);
    checkLabels(`${field}.network_service_labels[${show(svc)}].labels`, l?.labels);
  }
  checkTimestamp(`${field}.expiration_time`, nse.expirationTime);
  checkTimestamp(`${field}.initial_registration_time`, nse.initialRegistrationTime);
  checkPathIds(`${field}.path_ids`, nse.pathIds);
}

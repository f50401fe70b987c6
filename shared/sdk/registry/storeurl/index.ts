// storeurl (NSE server; nsmgr-proxy, sdk.md §4.14): remembers the URL each Find result had before
// seturl hid it behind this proxy (the other domain's nsmgr-proxy, or a floating endpoint's), by the
// name the local side will ask for; interdomainurl reads the book when a Request for that name comes.
// The book also holds the endpoints of this domain that registered into another one (a floating
// registry: `nse@floating`): the other side asks for the bare name, and this proxy must bring it back
// to the full local name and the local URL (recorded by floatingurls).
import type { NetworkServiceEndpoint } from '@nsm/api';
import type { RegistryElement } from '../../core/registry';

/** Bounded: names come from other domains' registries. */
const MAX_ENTRIES = 65536;

export class UrlBook {
  /** name@domain → the URL it is reached at (the other domain's nsmgr-proxy). */
  readonly remote = new Map<string, string>();
  /** bare name → this domain's full name and its URL inside the domain. */
  readonly local = new Map<string, { name: string; url: string }>();

  setRemote(name: string, url: string): void {
    if (!this.remote.has(name) && this.remote.size >= MAX_ENTRIES) this.remote.delete(this.remote.keys().next().value as string);
    this.remote.set(name, url);
  }
}

export function storeUrl(book: UrlBook): RegistryElement<NetworkServiceEndpoint> {
  return {
    find: (ctx, query, sink, next) =>
      next.find(ctx, query, (r) => {
        if (r.item.name && r.item.url) {
          if (r.deleted) book.remote.delete(r.item.name);
          else book.setRemote(r.item.name, r.item.url);
        }
        return sink(r);
      }),
  };
}

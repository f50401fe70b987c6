// A watch on one resource that survives its stream. A stream that ends (server timeout, dropped
// connection, apiserver restart) is re-opened from the last resourceVersion seen, so nothing is replayed
// twice. When the server no longer has that version (410 Gone / Expired), events are lost for good: we
// list again and diff against what we knew, emitting exactly the puts and deletes that were missed.
import type { StoreEvent } from '@nsm/sdk/registry/store/backend';
import { httpCode } from './api-errors';

export interface CustomObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: unknown;
  [k: string]: unknown;
}

/** Where the watch gets its data: a list with its resourceVersion, and a stream from a version. */
export interface WatchSource {
  list(): Promise<{ items: CustomObject[]; resourceVersion: string }>;
  /** Opens a stream; `done` is called once when it ends, with the reason if it failed. */
  open(resourceVersion: string, onEvent: (type: string, obj: CustomObject) => void, done: (err: unknown) => void): Promise<AbortController>;
}

export interface BackoffOptions {
  /** First delay before retrying after a failure; it doubles up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

interface Session {
  ctrl?: AbortController;
  closed: boolean;
  events: number;
  openedAt: number;
}

/** A stream that lived this long was healthy; its end does not count as a failure. */
const HEALTHY_MS = 1000;

export class ResumingWatch<T> {
  private known = new Map<string, { rv: string; item: T }>();
  private rv = '';
  private session?: Session;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private relistNeeded = false;

  constructor(
    private readonly src: WatchSource,
    private readonly decode: (obj: CustomObject) => T,
    private readonly signal: AbortSignal,
    private readonly onEvent: (ev: StoreEvent<T>) => void,
    private readonly backoff: BackoffOptions,
  ) {}

  /** Lists (so that later changes have a higher version) and opens the first stream. */
  async start(): Promise<void> {
    this.signal.addEventListener('abort', () => this.stop(), { once: true });
    await this.relist(false);
    await this.connect();
  }

  private get stopped(): boolean {
    return this.signal.aborted;
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.session?.ctrl?.abort();
    this.session = undefined;
  }

  private emit(ev: StoreEvent<T>): void {
    if (this.stopped) return;
    try {
      this.onEvent(ev);
    } catch {
      // A failing consumer must not kill the watch for itself; it sees the next event as usual.
    }
  }

  private async relist(emit: boolean): Promise<void> {
    const { items, resourceVersion } = await this.src.list();
    if (this.stopped) return;
    const next = new Map(items.map((o) => [o.metadata.name, { rv: o.metadata.resourceVersion ?? '', item: this.decode(o) }]));
    if (emit) {
      for (const [name, old] of this.known) if (!next.has(name)) this.emit({ type: 'delete', item: old.item });
      for (const [name, cur] of next) if (this.known.get(name)?.rv !== cur.rv) this.emit({ type: 'put', item: cur.item });
    }
    this.known = next;
    this.rv = resourceVersion;
    this.relistNeeded = false;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const session: Session = { closed: false, events: 0, openedAt: Date.now() };
    this.session = session;
    const ctrl = await this.src.open(
      this.rv,
      (type, obj) => {
        if (this.session === session && !this.stopped) this.handle(session, type, obj);
      },
      (err) => {
        if (session.closed) return;
        session.closed = true;
        if (this.session === session && !this.stopped) this.onClosed(session, err);
      },
    );
    session.ctrl = ctrl;
    if (this.session !== session) ctrl.abort();
  }

  private handle(session: Session, type: string, obj: CustomObject): void {
    const name = obj?.metadata?.name;
    const rv = obj?.metadata?.resourceVersion ?? '';
    switch (type) {
      case 'ADDED':
      case 'MODIFIED': {
        session.events++;
        this.rv = rv;
        if (this.known.get(name)?.rv === rv) return;
        const item = this.decode(obj);
        this.known.set(name, { rv, item });
        this.emit({ type: 'put', item });
        return;
      }
      case 'DELETED':
        session.events++;
        this.rv = rv;
        this.known.delete(name);
        this.emit({ type: 'delete', item: this.decode(obj) });
        return;
      case 'BOOKMARK':
        session.events++;
        if (rv) this.rv = rv;
        return;
      case 'ERROR':
        // 410 Expired means our version is gone; for any other failure a fresh list is the safe restart.
        this.relistNeeded = true;
        return;
    }
  }

  private onClosed(session: Session, err: unknown): void {
    this.session = undefined;
    if (httpCode(err) === 410) this.relistNeeded = true;
    const healthy = !this.relistNeeded && (session.events > 0 || Date.now() - session.openedAt >= HEALTHY_MS);
    this.failures = healthy ? 0 : this.failures + 1;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const { backoffMs, maxBackoffMs } = this.backoff;
    const delay = this.failures === 0 ? 0 : Math.min(backoffMs * 2 ** (this.failures - 1), maxBackoffMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.resume();
    }, delay);
  }

  private async resume(): Promise<void> {
    try {
      if (this.relistNeeded) await this.relist(true);
      await this.connect();
    } catch {
      this.failures++;
      this.schedule();
    }
  }
}

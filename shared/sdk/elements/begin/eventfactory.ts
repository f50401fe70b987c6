// The per-connection event factory that begin owns: a FIFO executor plus the last good request, so
// that background work (timeout, refresh, heal) can re-request or close from begin's position.
import { Connection, NetworkServiceRequest } from '@nsm/api';
import { Context, createKey } from '../../core/context';
import { clone } from '../../core/conn';
import type { NetworkServiceHandler } from '../../core/networkservice';

export type FactoryState = 'zero' | 'established' | 'closed';

export interface EventOptions {
  /** Skip the event when this signal has fired before it runs. */
  cancel?: AbortSignal;
  /** Client only: close the old connection and ask the path to choose again. */
  reselect?: boolean;
}

export interface EventFactory {
  readonly id: string;
  /** 'closed' once the connection was closed: an event then does nothing (and does not fail). */
  readonly state: FactoryState;
  request(opts?: EventOptions): Promise<void>;
  close(opts?: EventOptions): Promise<void>;
}

export const eventFactoryKey = createKey<EventFactory>('begin.eventFactory');

/** Runs tasks one at a time in arrival order. */
export class SerialExecutor {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export class ConnectionEventFactory implements EventFactory {
  state: FactoryState = 'zero';
  readonly executor = new SerialExecutor();
  stored?: NetworkServiceRequest;
  returned?: Connection;
  next?: NetworkServiceHandler;
  /** Remaining time budget the first Request had; events get the same. */
  budgetMs?: number;

  constructor(
    readonly id: string,
    private readonly isClient: boolean,
    private readonly onRemove: (f: ConnectionEventFactory) => void,
  ) {}

  eventContext(): { ctx: Context; cancel: () => void } {
    const base = Context.background().with(eventFactoryKey, this as EventFactory);
    if (this.budgetMs === undefined) return { ctx: base, cancel: () => undefined };
    return base.withTimeout(this.budgetMs);
  }

  markClosed(): void {
    this.state = 'closed';
    this.onRemove(this);
  }

  request(opts: EventOptions = {}): Promise<void> {
    return this.executor.run(async () => {
      if (this.state !== 'established' || !this.stored || !this.next || opts.cancel?.aborted) return;
      const { ctx, cancel } = this.eventContext();
      try {
        const req = clone(this.stored);
        const conn = req.connection as Connection;
        if (opts.reselect && this.isClient) {
          await this.next.close(ctx, clone(conn)).catch(() => undefined);
          conn.mechanism = undefined;
          conn.networkServiceEndpointName = '';
        }
        const out = await this.next.request(ctx, req);
        this.stored = { ...req, connection: clone(out) };
        this.returned = clone(out);
      } finally {
        cancel();
      }
    });
  }

  close(opts: EventOptions = {}): Promise<void> {
    return this.executor.run(async () => {
      if (!this.stored || !this.next || opts.cancel?.aborted) return;
      const { ctx, cancel } = this.eventContext();
      try {
        await this.next.close(ctx, clone(this.stored.connection as Connection));
      } finally {
        cancel();
        this.markClosed();
      }
    });
  }
}

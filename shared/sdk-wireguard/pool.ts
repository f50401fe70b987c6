// wireguard-go devices started ahead of need, so that a Request does not wait for a process to start
// (tens to hundreds of milliseconds on a busy node). A connection takes an idle device (down, under a
// pool name) and gives it its name, key and MTU over netlink and the UAPI (WgDevice.configure); Close
// hands it back reset (down, renamed to a pool name, no peer, a fresh random key) for the next
// connection. So with connections coming and going no process is started at all; only when
// more are wanted at once than are idle does a Request start one itself, and the pool refills in the
// background once it runs low. Devices beyond `size` that come back are stopped.
import { randomBytes } from 'node:crypto';
import { log } from '@nsm/sdk/log';
import { WgDevice, WgDeviceSpec } from './device';

export interface WgPoolOptions {
  /** Idle devices kept ready (0: none, every connection starts its own). */
  size: number;
  /** Names of idle devices: this prefix and random hex, 15 characters in all. */
  prefix: string;
  /** Where listen ports come from (wireguard-go devices cannot share one). */
  ports: { take(): number; give(port: number): void };
  /** Starts a device (default: WgDevice.start). */
  start?: (spec: WgDeviceSpec) => Promise<WgDevice>;
}

export class WgPool {
  private readonly idle: WgDevice[] = [];
  private refilling: Promise<void> | undefined;
  private closed = false;
  /** Devices started (by the pool in the background, and by acquire() when none was idle). */
  readonly counts = { startedAhead: 0, startedOnDemand: 0, reused: 0 };

  constructor(private readonly o: WgPoolOptions) {
    if (!/^[a-z0-9]{1,9}$/.test(o.prefix)) throw new Error(`invalid WireGuard device prefix "${o.prefix}"`);
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Starts devices until `size` are idle; resolves once they are up (or starting one failed). */
  fill(): Promise<void> {
    return this.refill();
  }

  /** A started device, taken from the idle ones when there is one. */
  async acquire(): Promise<WgDevice> {
    let dev: WgDevice | undefined;
    while ((dev = this.idle.shift()) && !dev.alive) await this.discard(dev);
    if (this.idle.length < Math.ceil(this.o.size / 2)) {
      this.refill().catch((err) => log.warn({ err: String(err) }, 'starting spare WireGuard devices failed'));
    }
    if (dev) {
      this.counts.reused++;
      return dev;
    }
    return this.startOne('onDemand');
  }

  /** Takes a device back from a connection: reset and kept idle, or stopped when enough are idle. */
  async release(dev: WgDevice): Promise<void> {
    if (!this.closed && dev.alive && this.idle.length < this.o.size) {
      try {
        await dev.reset(dev.uapiName);
        this.idle.push(dev);
        return;
      } catch (err) {
        log.debug({ dev: dev.ifName, err: String(err) }, 'WireGuard device could not be reset; stopping it');
      }
    }
    await this.discard(dev);
  }

  /** Stops the idle devices; devices in use are stopped by their release(). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((d) => this.discard(d)));
  }

  /** One refill at a time; callers that come while it runs share it. */
  private refill(): Promise<void> {
    const run = async () => {
      while (!this.closed && this.idle.length < this.o.size) {
        const dev = await this.startOne('ahead');
        if (this.closed) await this.discard(dev);
        else this.idle.push(dev);
      }
    };
    // .finally runs after the assignment even when run() has nothing to do.
    this.refilling ??= run().finally(() => (this.refilling = undefined));
    return this.refilling;
  }

  private async startOne(why: 'ahead' | 'onDemand'): Promise<WgDevice> {
    const port = this.o.ports.take();
    try {
      const dev = await (this.o.start ?? WgDevice.start)({ ifName: this.poolName(), listenPort: port, up: false });
      if (why === 'ahead') this.counts.startedAhead++;
      else this.counts.startedOnDemand++;
      return dev;
    } catch (err) {
      this.o.ports.give(port);
      throw err;
    }
  }

  private poolName(): string {
    return `${this.o.prefix}${randomBytes(8).toString('hex')}`.slice(0, 15);
  }

  private async discard(dev: WgDevice): Promise<void> {
    try {
      await dev.stop();
    } finally {
      this.o.ports.give(dev.listenPort);
    }
  }
}

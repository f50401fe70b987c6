// Fake VPP API servers for tests: one replays a captured exchange byte for byte, the other answers
// scripted replies to requests it decodes with the real definitions.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiRegistry, Msg } from '../codec';
import { frame, FrameReader } from '../connection';

export interface TraceFrame {
  dir: 'tx' | 'rx';
  hex: string;
  msg: string;
  fields?: Record<string, unknown>;
}

interface Listening {
  path: string;
  server: Server;
  dir: string;
  sockets: Set<Socket>;
}

async function listen(onConn: (s: Socket) => void): Promise<Listening> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-vpp-'));
  const path = join(dir, 'api.sock');
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConn(s);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()));
  return { path, server, dir, sockets };
}

async function stop(l: Listening) {
  for (const s of l.sockets) s.destroy();
  await new Promise<void>((resolve) => l.server.close(() => resolve()));
  rmSync(l.dir, { recursive: true, force: true });
}

/** Replays one trace: each client frame must equal the next captured tx frame (header included);
 *  after it, the captured rx frames that followed are sent back verbatim. */
export class TraceServer {
  /** Index of the first frame not yet matched or sent. */
  position = 0;
  mismatch?: { index: number; msg: string; expected: string; got: string };
  private constructor(
    private readonly l: Listening,
    readonly frames: TraceFrame[],
  ) {}

  get path(): string {
    return this.l.path;
  }

  get done(): boolean {
    return this.position === this.frames.length && !this.mismatch;
  }

  static async start(frames: TraceFrame[]): Promise<TraceServer> {
    // Nobody knows the socket before this returns, so no connection arrives before `self` exists.
    const self: TraceServer = new TraceServer(await listen((s) => self.serve(s)), frames);
    return self;
  }

  private serve(s: Socket) {
    const reader = new FrameReader();
    const sendRx = () => {
      while (this.position < this.frames.length && this.frames[this.position].dir === 'rx') s.write(Buffer.from(this.frames[this.position++].hex, 'hex'));
    };
    sendRx();
    s.on('data', (chunk) => {
      for (const body of reader.push(chunk)) {
        const want = this.frames[this.position];
        const got = frame(body).toString('hex');
        if (!want || want.dir !== 'tx' || want.hex !== got) {
          this.mismatch ??= { index: this.position, msg: want?.msg ?? '(end of trace)', expected: want?.hex ?? '', got };
          s.destroy();
          return;
        }
        this.position++;
        sendRx();
      }
    });
  }

  stop(): Promise<void> {
    return stop(this.l);
  }
}

export interface ScriptedRequest {
  name: string;
  msg: Msg;
}

/** What a scripted VPP answers: reply fields (retval defaults to 0), or details rows for a dump. */
export type Responder = (req: ScriptedRequest) => Msg | Msg[] | undefined;

/** A fake VPP that decodes each request with `registry`, records it, and answers with a well-formed
 *  reply built from the same definitions. The message table comes from a captured handshake. */
export class ScriptedVpp {
  readonly requests: ScriptedRequest[] = [];
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<number, string>();
  private constructor(
    private readonly l: Listening,
    private readonly registry: ApiRegistry,
    private readonly table: Array<{ index: number; name: string }>,
    public respond: Responder,
  ) {
    for (const e of table) {
      this.ids.set(e.name, e.index);
      this.names.set(e.index, e.name.replace(/_[0-9a-f]{8}$/, ''));
    }
  }

  get path(): string {
    return this.l.path;
  }

  /** Names of the requests received, handshake and pings left out. */
  get calls(): string[] {
    return this.requests.map((r) => r.name).filter((n) => !['sockclnt_create', 'control_ping', 'sockclnt_delete'].includes(n));
  }

  static async start(registry: ApiRegistry, table: Array<{ index: number; name: string }>, respond: Responder = () => undefined): Promise<ScriptedVpp> {
    const self: ScriptedVpp = new ScriptedVpp(await listen((s) => self.serve(s)), registry, table, respond);
    return self;
  }

  private id(name: string): number {
    const id = this.ids.get(this.registry.nameWithCrc(name));
    if (id === undefined) throw new Error(`message table lacks ${this.registry.nameWithCrc(name)}`);
    return id;
  }

  private serve(s: Socket) {
    const reader = new FrameReader();
    let pendingDump: { name: string; rows: Msg[] } | undefined;
    const send = (name: string, fields: Msg) => s.write(frame(this.registry.encode(name, { ...fields, _vl_msg_id: this.id(name) })));
    s.on('data', (chunk) => {
      for (const body of reader.push(chunk)) {
        const id = body.readUInt16BE(0);
        const name = id === 15 ? 'sockclnt_create' : this.names.get(id);
        if (!name || !this.registry.has(name)) throw new Error(`fake VPP: unknown message id ${id}`);
        const msg = this.registry.decode(name, body);
        this.requests.push({ name, msg });
        const context = msg.context as number;
        if (name === 'sockclnt_create') {
          send('sockclnt_create_reply', { context, response: 0, index: 0x80000001, message_table: this.table });
        } else if (name === 'sockclnt_delete') {
          send('sockclnt_delete_reply', { context, response: 1 });
        } else if (name === 'control_ping') {
          for (const row of pendingDump?.rows ?? []) send(pendingDump!.name.replace(/_dump$/, '_details'), { ...row, context });
          pendingDump = undefined;
          send('control_ping_reply', { context, retval: 0, vpe_pid: 4242 });
        } else if (name.endsWith('_dump')) {
          const rows = this.respond({ name, msg });
          pendingDump = { name, rows: Array.isArray(rows) ? rows : [] };
        } else {
          const r = this.respond({ name, msg });
          send(`${name}_reply`, { retval: 0, ...(r as Msg | undefined), context });
        }
      }
    });
  }

  stop(): Promise<void> {
    return stop(this.l);
  }
}

/**
 * The captured VPP 25.02 material the tests replay, kept in the repository: VPP's own .api.json
 * definitions (api/) and the exchanges a real VPP had with vpp_papi (traces/, one scenario per file).
 */
export const FIXTURES_DIR = join(__dirname, 'fixtures');

export function loadTrace(name: string, dir = FIXTURES_DIR): TraceFrame[] {
  return JSON.parse(readFileSync(join(dir, 'traces', `${name}.json`), 'utf8')) as TraceFrame[];
}

export function loadApiFiles(dir = FIXTURES_DIR): unknown[] {
  return readdirSync(join(dir, 'api'))
    .filter((f) => f.endsWith('.api.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, 'api', f), 'utf8')) as unknown);
}

// The life of every command: parse the configuration (flags, NSM_* env, defaults), obtain the
// command's SPIFFE identity (NSM components; cmd/identity.ts), print both, start, and on SIGTERM/SIGINT
// stop cleanly and close the identity. A start-up failure exits non-zero with a clear message.
// `<cmd> health-probe <url>` is the image's probe (cmd/probe.ts).
import { Command } from 'commander';
import { Context } from '../core/context';
import { log, setLogLevel } from '../log';
import { addOptions, ConfigOf, describeConfig, resolveConfig, Schema, Setting } from './config';
import { Identity, obtainIdentity } from './identity';
import { HEALTH_PROBE, runHealthProbe } from './probe';

interface BaseSpec<S extends Schema> {
  name: string;
  description: string;
  schema: S;
  /** Extra text for --help (e.g. URL formats). */
  helpFooter?: string;
}

/** A command without an identity (the admission webhook: it serves the Kubernetes API server, not NSM). */
export interface CommandSpec<S extends Schema> extends BaseSpec<S> {
  identity?: false;
  /** Starts the command; resolves with its stop function once it is ready. */
  start(cfg: ConfigOf<S>, ctx: Context): Promise<() => Promise<void>>;
}

/** The settings an NSM component needs for its identity (commonSettings.spiffeEndpointSocket/identityTimeout). */
export type IdentitySchema = { spiffeEndpointSocket: Setting<'string'>; identityTimeout: Setting<'duration'> };

/** An NSM component: it starts with its SPIFFE identity in hand. */
export interface IdentityCommandSpec<S extends Schema & IdentitySchema> extends BaseSpec<S> {
  identity: true;
  start(cfg: ConfigOf<S>, ctx: Context, identity: Identity): Promise<() => Promise<void>>;
}

const IDENTITY_HELP = [
  'Identity: SPIFFE_ENDPOINT_SOCKET names the SPIFFE Workload API (a SPIRE agent; nsm-local runs one per pod) that',
  'hands this command its X.509-SVID and trust bundle, and rotates them. Every gRPC listener and channel, unix',
  'sockets included, is mutual TLS with that SVID (no plaintext), every path token is an ES256 JWT signed with',
  'its key, and Requests and Closes are authorized by the default policies. Start-up waits NSM_IDENTITY_TIMEOUT',
  `for the first SVID. \`${HEALTH_PROBE} <url> [service]\` checks gRPC health at <url> with that SVID (exit 0 = SERVING).`,
].join('\n');

type LogSchema = { logLevel: { kind: 'loglevel' } };

export function runCommand<S extends Schema & LogSchema & IdentitySchema>(spec: IdentityCommandSpec<S>, argv?: string[]): Promise<void>;
export function runCommand<S extends Schema & LogSchema>(spec: CommandSpec<S>, argv?: string[]): Promise<void>;
export async function runCommand(spec: CommandSpec<Schema> | IdentityCommandSpec<Schema & IdentitySchema>, argv = process.argv): Promise<void> {
  const withIdentity = spec.identity === true;
  if (withIdentity && argv[2] === HEALTH_PROBE) process.exit(await runHealthProbe(argv.slice(3)));
  const program = new Command(spec.name).description(spec.description).allowExcessArguments(false);
  addOptions(program, spec.schema);
  if (spec.helpFooter) program.addHelpText('after', `\n${spec.helpFooter}`);
  if (withIdentity) program.addHelpText('after', `\n${IDENTITY_HELP}`);
  program.parse(argv);

  let cfg: ConfigOf<Schema>;
  try {
    cfg = resolveConfig(spec.schema, program.opts(), process.env);
    setLogLevel(cfg.logLevel as string);
  } catch (err) {
    process.stderr.write(`${spec.name}: invalid configuration: ${(err as Error).message}\n`);
    process.exit(2);
  }
  log.setBindings({ cmd: spec.name });
  let identity: Identity | undefined;
  if (withIdentity) {
    const c = cfg as unknown as { spiffeEndpointSocket: string; identityTimeout: number; maxTokenLifetime?: number };
    log.info({ SPIFFE_ENDPOINT_SOCKET: c.spiffeEndpointSocket }, 'waiting for an X.509-SVID from the Workload API');
    try {
      identity = await obtainIdentity({ address: c.spiffeEndpointSocket, timeoutMs: c.identityTimeout, maxTokenLifetimeMs: c.maxTokenLifetime ?? 600_000 });
    } catch (err) {
      log.info({ config: describeConfig(spec.schema, cfg) }, 'effective configuration');
      log.fatal({ err: (err as Error).message }, 'start-up failed');
      process.exit(1);
    }
  }
  const svid = identity?.source.current()?.svid;
  const shown = identity ? { spiffeId: identity.id, svidExpires: svid && new Date(svid.notAfter).toISOString() } : {};
  log.info({ config: { ...describeConfig(spec.schema, cfg), ...shown } }, 'effective configuration');

  const { ctx, cancel } = Context.background().withCancel();
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    cancel();
    const force = setTimeout(() => {
      log.error('clean stop took longer than 15s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    try {
      await stop?.();
      identity?.close();
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err: String(err) }, 'stop failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    stop = spec.identity === true ? await spec.start(cfg as ConfigOf<Schema & IdentitySchema>, ctx, identity!) : await spec.start(cfg, ctx);
    log.info('ready');
  } catch (err) {
    log.fatal({ err: (err as Error).message, stack: (err as Error).stack }, 'start-up failed');
    process.exit(1);
  }
}

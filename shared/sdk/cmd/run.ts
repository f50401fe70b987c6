// The life of every command: parse the configuration (flags, NSM_* env, defaults), print it, start,
// and on SIGTERM/SIGINT stop cleanly. A start-up failure exits non-zero with a clear message.
import { Command } from 'commander';
import { Context } from '../core/context';
import { log, setLogLevel } from '../log';
import { addOptions, ConfigOf, describeConfig, resolveConfig, Schema } from './config';

export interface CommandSpec<S extends Schema> {
  name: string;
  description: string;
  schema: S;
  /** Extra text for --help (e.g. URL formats). */
  helpFooter?: string;
  /** Starts the command; resolves with its stop function once it is ready. */
  start(cfg: ConfigOf<S>, ctx: Context): Promise<() => Promise<void>>;
}

export async function runCommand<S extends Schema & { logLevel: { kind: 'loglevel' } }>(spec: CommandSpec<S>, argv = process.argv): Promise<void> {
  const program = new Command(spec.name).description(spec.description).allowExcessArguments(false);
  addOptions(program, spec.schema);
  if (spec.helpFooter) program.addHelpText('after', `\n${spec.helpFooter}`);
  program.parse(argv);

  let cfg: ConfigOf<S>;
  try {
    cfg = resolveConfig(spec.schema, program.opts(), process.env);
    setLogLevel(cfg.logLevel as string);
  } catch (err) {
    process.stderr.write(`${spec.name}: invalid configuration: ${(err as Error).message}\n`);
    process.exit(2);
  }
  log.setBindings({ cmd: spec.name });
  log.info({ config: describeConfig(spec.schema, cfg) }, 'effective configuration');

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
    stop = await spec.start(cfg, ctx);
    log.info('ready');
  } catch (err) {
    log.fatal({ err: (err as Error).message, stack: (err as Error).stack }, 'start-up failed');
    process.exit(1);
  }
}

// One typed configuration object per command, read from flags and environment variables with
// defaults (flag > env > default). Env parsing follows NSM's envconfig rules: a default applies only
// when the variable is absent; an empty value is an empty string/list/map but an error for numbers,
// durations and booleans. A setting with a fixed set of values (kind 'enum') is checked here, so no
// command checks one by hand.
import { Command, Option } from 'commander';
import { parseDuration, formatDuration } from './duration';
import { toPinoLevel } from '../log';

type Kind = 'string' | 'url' | 'urls' | 'duration' | 'bool' | 'int' | 'list' | 'map' | 'loglevel' | 'enum';

interface KindType {
  string: string;
  url: string;
  urls: string[];
  duration: number;
  bool: boolean;
  int: number;
  list: string[];
  map: Record<string, string>;
  loglevel: string;
  enum: string;
}

export interface Setting<K extends Kind = Kind> {
  kind: K;
  /** Full environment variable name, e.g. NSM_LISTEN_ON. */
  env: string;
  /** Default as it would be written in the environment. */
  default: string;
  description: string;
  /** Shown instead of the default when the default is computed (e.g. from the hostname). */
  defaultText?: string;
  /**
   * For kind 'enum': the accepted values, matched ignoring case and given back as written here. Written
   * `as const`, the config type has exactly these values.
   */
  values?: readonly string[];
}

export type Schema = Record<string, Setting>;
export type ConfigOf<S extends Schema> = {
  [P in keyof S]: S[P] extends { kind: 'enum'; values: readonly (infer V)[] } ? V : KindType[S[P]['kind']];
};


const bools: Record<string, boolean> = { '1': true, t: true, T: true, true: true, TRUE: true, True: true, '0': false, f: false, F: false, false: false, FALSE: false, False: false };

export function parseValue(kind: Kind, raw: string, name: string, values: readonly string[] = []): unknown {
  const fail = (why: string): never => {
    throw new Error(`${name}: ${why}`);
  };
  switch (kind) {
    case 'string':
      return raw;
    case 'url':
      if (raw && !/^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^[^/:]+:\d+$/.test(raw)) fail(`invalid URL "${raw}"`);
      return raw;
    case 'urls':
    case 'list':
      return raw === '' ? [] : raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'duration':
      try {
        return parseDuration(raw);
      } catch (e) {
        return fail((e as Error).message);
      }
    case 'bool':
      if (!(raw in bools)) fail(`invalid boolean "${raw}"`);
      return bools[raw];
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) fail(`invalid integer "${raw}"`);
      return Number(raw);
    }
    case 'map': {
      const out: Record<string, string> = {};
      if (raw === '') return out;
      for (const item of raw.split(',')) {
        const parts = item.split(':');
        if (parts.length !== 2) fail(`invalid map item "${item}" (want key:value)`);
        out[parts[0].trim()] = parts[1].trim();
      }
      return out;
    }
    case 'loglevel':
      if (!toPinoLevel(raw)) fail(`invalid log level "${raw}" (panic, fatal, error, warn, info, debug, trace)`);
      return raw;
    case 'enum': {
      const v = values.find((x) => x.toLowerCase() === raw.trim().toLowerCase());
      if (v === undefined) fail(`invalid value "${raw}" (want ${values.map((x) => (x === '' ? '""' : x)).join(', ')})`);
      return v;
    }
  }
}

const flagOf = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Adds one option per setting to `program`; the help text names the env var and the default. */
export function addOptions(program: Command, schema: Schema): Command {
  for (const [key, s] of Object.entries(schema)) {
    const opt = new Option(`${flagOf(key)} <value>`, `${s.description} [env ${s.env}] (default: ${s.defaultText ?? (s.default === '' ? '""' : s.default)})`);
    if (s.kind === 'bool') opt.argParser((v) => v);
    program.addOption(opt);
  }
  return program;
}

/** Resolves every setting from flags, then env, then default. Throws on the first bad value. */
export function resolveConfig<S extends Schema>(schema: S, flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema)) {
    const raw = flags[key] ?? env[s.env] ?? s.default;
    const source = flags[key] !== undefined ? flagOf(key) : env[s.env] !== undefined ? s.env : `default of ${s.env}`;
    out[key] = parseValue(s.kind, raw, source, s.values);
  }
  return out as ConfigOf<S>;
}

/** A printable copy of a config: durations back in Go syntax. */
export function describeConfig<S extends Schema>(schema: S, cfg: ConfigOf<S>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema)) {
    const v = (cfg as Record<string, unknown>)[key];
    out[s.env] = s.kind === 'duration' ? formatDuration(v as number) : v;
  }
  return out;
}

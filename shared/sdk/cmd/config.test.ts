import { Command } from 'commander';
import { addOptions, describeConfig, parseValue, resolveConfig, Schema } from './config';

const schema = {
  name: { kind: 'string', env: 'NSM_NAME', default: 'nsc', description: 'name' },
  connectTo: { kind: 'url', env: 'NSM_CONNECT_TO', default: 'unix:///nsm.sock', description: 'url' },
  listenOn: { kind: 'urls', env: 'NSM_LISTEN_ON', default: 'unix:///a.sock', description: 'urls' },
  timeout: { kind: 'duration', env: 'NSM_REQUEST_TIMEOUT', default: '15s', description: 'd' },
  verbose: { kind: 'bool', env: 'NSM_VERBOSE', default: 'false', description: 'b' },
  port: { kind: 'int', env: 'NSM_PORT', default: '4789', description: 'i' },
  services: { kind: 'list', env: 'NSM_NETWORK_SERVICES', default: 'a,b', description: 'l' },
  labels: { kind: 'map', env: 'NSM_LABELS', default: 'app:x', description: 'm' },
  level: { kind: 'loglevel', env: 'NSM_LOG_LEVEL', default: 'INFO', description: 'lvl' },
} satisfies Schema;

describe('resolveConfig (envconfig rules)', () => {
  test('absent variables take the default', () => {
    expect(resolveConfig(schema, {}, {})).toEqual({
      name: 'nsc',
      connectTo: 'unix:///nsm.sock',
      listenOn: ['unix:///a.sock'],
      timeout: 15_000,
      verbose: false,
      port: 4789,
      services: ['a', 'b'],
      labels: { app: 'x' },
      level: 'INFO',
    });
  });

  test('empty strings, lists and maps are allowed and are empty, not the default', () => {
    const cfg = resolveConfig(schema, {}, { NSM_NAME: '', NSM_CONNECT_TO: '', NSM_LISTEN_ON: '', NSM_NETWORK_SERVICES: '', NSM_LABELS: '' });
    expect(cfg).toMatchObject({ name: '', connectTo: '', listenOn: [], services: [], labels: {} });
  });

  test.each([
    ['NSM_REQUEST_TIMEOUT', /NSM_REQUEST_TIMEOUT: invalid duration ""/],
    ['NSM_VERBOSE', /NSM_VERBOSE: invalid boolean ""/],
    ['NSM_PORT', /NSM_PORT: invalid integer ""/],
    ['NSM_LOG_LEVEL', /NSM_LOG_LEVEL: invalid log level ""/],
  ])('an empty %s is an error', (env, msg) => {
    expect(() => resolveConfig(schema, {}, { [env]: '' })).toThrow(msg);
  });

  test('flags win over env, env over defaults; errors name the source', () => {
    const cfg = resolveConfig(schema, { name: 'from-flag', timeout: '1m' }, { NSM_NAME: 'from-env', NSM_REQUEST_TIMEOUT: '5s', NSM_PORT: '7' });
    expect(cfg).toMatchObject({ name: 'from-flag', timeout: 60_000, port: 7 });
    expect(() => resolveConfig(schema, { port: 'x' }, {})).toThrow(/--port: invalid integer "x"/);
    const bad = { ...schema, timeout: { ...schema.timeout, default: 'soon' } };
    expect(() => resolveConfig(bad, {}, {})).toThrow(/default of NSM_REQUEST_TIMEOUT: invalid duration "soon"/);
  });
});

describe('parseValue', () => {
  test.each([
    ['duration', '100ms', 100],
    ['duration', '1h30m', 5_400_000],
    ['bool', 'true', true],
    ['bool', 'T', true],
    ['bool', '1', true],
    ['bool', 'FALSE', false],
    ['bool', '0', false],
    ['int', '-12', -12],
    ['int', '0', 0],
    ['list', ' a , b ,,c ', ['a', 'b', 'c']],
    ['urls', 'unix:///a.sock,tcp://:5001', ['unix:///a.sock', 'tcp://:5001']],
    ['map', 'app:web, tier : front', { app: 'web', tier: 'front' }],
    ['url', 'tcp://10.0.0.1:5001', 'tcp://10.0.0.1:5001'],
    ['url', 'localhost:5001', 'localhost:5001'],
    ['loglevel', 'debug', 'debug'],
    ['loglevel', 'TRACE', 'TRACE'],
  ] as const)('%s %j', (kind, raw, want) => expect(parseValue(kind, raw, 'X')).toEqual(want));

  test.each([
    ['bool', 'yes', /invalid boolean "yes"/],
    ['int', '1.5', /invalid integer "1.5"/],
    ['int', '12abc', /invalid integer/],
    ['duration', '10', /invalid duration "10"/],
    ['map', 'novalue', /invalid map item "novalue" \(want key:value\)/],
    ['map', 'a:b:c', /invalid map item "a:b:c"/],
    ['url', 'not a url', /invalid URL "not a url"/],
    ['loglevel', 'loud', /invalid log level "loud"/],
  ] as const)('%s rejects %j', (kind, raw, msg) => expect(() => parseValue(kind, raw, 'X')).toThrow(msg));
});

describe('enum settings', () => {
  const modes = { mode: { kind: 'enum', values: ['', 'tap', 'veth'] as const, env: 'NSM_MODE', default: '', description: 'm' } } satisfies Schema;

  test('a value of the list is taken (ignoring case and spaces) as the schema spells it; the type is the list', () => {
    const cfg = resolveConfig(modes, {}, { NSM_MODE: ' TAP ' });
    const mode: '' | 'tap' | 'veth' = cfg.mode;
    expect(mode).toBe('tap');
    expect(resolveConfig(modes, {}, {}).mode).toBe('');
  });

  test('anything else is refused, naming the source and the values', () => {
    expect(() => resolveConfig(modes, {}, { NSM_MODE: 'vhost' })).toThrow('NSM_MODE: invalid value "vhost" (want "", tap, veth)');
    expect(() => resolveConfig(modes, { mode: 'x' }, {})).toThrow(/--mode: invalid value "x"/);
  });
});

describe('addOptions and describeConfig', () => {
  test('one kebab-case flag per setting, with env and default in the help', () => {
    const program = addOptions(new Command(), schema);
    const help = program.helpInformation();
    expect(help).toMatch(/--connect-to <value>\s+url \[env NSM_CONNECT_TO\] \(default: unix:\/\/\/nsm\.sock\)/);
    expect(help).toMatch(/--request|--timeout <value>/);
    program.parse(['node', 'x', '--connect-to', 'tcp://h:1', '--verbose', 'true'], { from: 'node' });
    expect(program.opts()).toMatchObject({ connectTo: 'tcp://h:1', verbose: 'true' });
  });

  test('an empty default is shown as ""', () => {
    const help = addOptions(new Command(), { x: { kind: 'string', env: 'NSM_X', default: '', description: 'x' } }).helpInformation();
    expect(help).toContain('(default: "")');
  });

  test('describeConfig keys by env name and prints durations in Go syntax', () => {
    const d = describeConfig(schema, resolveConfig(schema, {}, {}));
    expect(d).toMatchObject({ NSM_NAME: 'nsc', NSM_REQUEST_TIMEOUT: '15s', NSM_LABELS: { app: 'x' } });
  });
});

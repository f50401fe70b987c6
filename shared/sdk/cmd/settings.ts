// The settings every command shares, defined once: the same variable, kind and wording everywhere.
// Each command gives its own default, as upstream's commands do, and its own wording where the
// setting means something of its own there (the name).
import type { Setting } from './config';

/** Where the node's nsmgr listens for the pods of its node (a hostPath socket). */
export const NSMGR_SOCKET_URL = 'unix:///var/lib/networkservicemesh/nsm.io.sock';

export const commonSettings = {
  name: (dflt: string, description: string): Setting<'string'> => ({ kind: 'string', env: 'NSM_NAME', default: dflt, description }),
  connectTo: (dflt = NSMGR_SOCKET_URL): Setting<'url'> => ({ kind: 'url', env: 'NSM_CONNECT_TO', default: dflt, description: 'URL of the local nsmgr' }),
  dialTimeout: (dflt: string): Setting<'duration'> => ({ kind: 'duration', env: 'NSM_DIAL_TIMEOUT', default: dflt, description: 'how long to wait when dialling the next hop' }),
  maxTokenLifetime: (dflt: string): Setting<'duration'> => ({
    kind: 'duration',
    env: 'NSM_MAX_TOKEN_LIFETIME',
    default: dflt,
    description: 'lifetime of the tokens this command issues',
  }),
  logLevel: (env = 'NSM_LOG_LEVEL'): Setting<'loglevel'> => ({ kind: 'loglevel', env, default: 'INFO', description: 'log level: panic, fatal, error, warn, info, debug, trace' }),
};

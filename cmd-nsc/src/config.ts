// cmd-nsc settings (components.md §5), NSM_ prefix.
import type { Schema } from '@nsm/sdk/cmd/config';

export const schema = {
  name: { kind: 'string', env: 'NSM_NAME', default: 'nsc', description: 'name of this client: its path segment name and the prefix of its connection ids' },
  connectTo: { kind: 'url', env: 'NSM_CONNECT_TO', default: 'unix:///var/lib/networkservicemesh/nsm.io.sock', description: 'URL of the local nsmgr' },
  dialTimeout: { kind: 'duration', env: 'NSM_DIAL_TIMEOUT', default: '5s', description: 'how long to wait for the nsmgr connection' },
  requestTimeout: { kind: 'duration', env: 'NSM_REQUEST_TIMEOUT', default: '15s', description: 'time limit of one Request attempt; failed attempts are retried every 200ms' },
  maxTokenLifetime: { kind: 'duration', env: 'NSM_MAX_TOKEN_LIFETIME', default: '10m', description: 'lifetime of the tokens this client issues; connections are refreshed well before it ends' },
  labels: { kind: 'map', env: 'NSM_LABELS', default: '', description: 'labels added to every request (key:value,key:value)' },
  mechanism: { kind: 'string', env: 'NSM_MECHANISM', default: 'kernel', description: 'default mechanism for network services whose URL names none' },
  networkServices: { kind: 'list', env: 'NSM_NETWORK_SERVICES', default: '', description: 'comma-separated network service URLs: kernel://<service>[/<interface>][?label=value&...]' },
  livenessCheckInterval: { kind: 'duration', env: 'NSM_LIVENESS_CHECK_INTERVAL', default: '0', description: 'period of the data-path check (ping of the far address); 0 disables it' },
  logLevel: { kind: 'loglevel', env: 'NSM_LOG_LEVEL', default: 'INFO', description: 'log level: panic, fatal, error, warn, info, debug, trace' },
} satisfies Schema;

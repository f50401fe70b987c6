// cmd-nsc: asks the local nsmgr for each configured network service, keeps the connections alive
// (refresh, heal) and closes them on SIGTERM.
import { runCommand } from '@nsm/sdk/cmd/run';
import { startClient } from './client';
import { schema } from './config';

void runCommand({
  name: 'cmd-nsc',
  description: 'Network Service Client: requests network services from the local nsmgr and keeps them up',
  schema,
  identity: true,
  helpFooter: 'Network service URL: <mechanism>://<service>[/<interface>][?label=value&...], e.g. kernel://icmp-responder/nsm-1; memif://icmp-responder asks for a memif (its socket file is logged with the connection, for the pod\'s app to connect to)',
  start: startClient,
});

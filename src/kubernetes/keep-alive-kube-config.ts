/**
 * A kubeconfig whose API calls share one keep-alive HTTPS agent. The library makes a new
 * agent, hence a new TCP and TLS connection, for every call; the work on one cluster makes
 * about twenty calls, and a TLS handshake costs the DCM several milliseconds of CPU each.
 * Watches keep an agent of their own (their connection stays busy while they run).
 */
import https from 'node:https';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

export class KeepAliveKubeConfig extends KubeConfig {
  private agent: https.Agent | undefined;

  /** The shared agent, made once with the options (CA, client certificate) of the library's first one. */
  shared(made: unknown): unknown {
    if (!(made instanceof https.Agent)) return made; // a proxy or plain HTTP: as the library made it
    this.agent ??= new https.Agent({ ...made.options, keepAlive: true, maxSockets: 8 });
    made.destroy();
    return this.agent;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setAgent(this.shared(context.getAgent()) as https.Agent);
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

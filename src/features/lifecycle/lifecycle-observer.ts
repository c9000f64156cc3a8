/** Told how long each cluster of an operation took and how it ended (metrics). */
export interface LifecycleObserver {
  clusterFinished(event: {
    kind: 'apply' | 'terminate';
    provider: string;
    cluster: string;
    outcome: 'success' | 'failure';
    seconds: number;
  }): void;
  operationFinished(event: {
    kind: 'apply' | 'terminate';
    outcome: 'success' | 'failure';
    seconds: number;
    clusters: number;
  }): void;
}

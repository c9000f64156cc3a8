/**
 * The gateway's errors are made in one place from what the library throws: an API server's
 * answer by its status (its Status message kept), a socket that never connected, anything else.
 */
import { describe, expect, it } from '@jest/globals';
import {
  certainlyNotDone,
  ClusterError,
  Conflict,
  Forbidden,
  Invalid,
  NotFound,
  NotServed,
  Refused,
  toClusterError,
  Unreachable,
  watchEndedError,
} from '../../src/kubernetes/cluster-errors.js';

/** What @kubernetes/client-node throws for an answer that is not 2xx (an ApiException). */
const answered = (code: number, message: string) =>
  Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ kind: 'Status', message }) });

describe('cluster errors', () => {
  it.each([
    [404, NotFound],
    [409, Conflict],
    [401, Forbidden],
    [403, Forbidden],
    [400, Invalid],
    [422, Invalid],
    [429, Refused],
  ])('an answer %i is a %p with the API server message, and certainly changed nothing', (code, kind) => {
    const error = toClusterError(answered(code, 'the server said so'), 'apply ConfigMap a/b');
    expect(error).toBeInstanceOf(kind);
    expect(error.message).toBe('apply ConfigMap a/b: the server said so');
    expect(certainlyNotDone(error)).toBe(true);
  });

  it('a server error or an unanswered call is a plain ClusterError that may have done it', () => {
    const error = toClusterError(answered(500, 'etcd timeout'), 'apply Namespace x');
    expect(error).toBeInstanceOf(ClusterError);
    expect(error).not.toBeInstanceOf(Refused);
    expect(certainlyNotDone(error)).toBe(false);
    const reset = toClusterError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'read x');
    expect(reset).not.toBeInstanceOf(Unreachable);
    expect(certainlyNotDone(reset)).toBe(false);
  });

  it('a connection never made is Unreachable, with the reason', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const error = toClusterError(refused, 'GET /version');
    expect(error).toBeInstanceOf(Unreachable);
    expect(error.message).toBe('GET /version: connect ECONNREFUSED 127.0.0.1:1');
    expect(certainlyNotDone(error)).toBe(true);
  });

  it("a watch ended by an answer is typed by the answer's status (the library's Watch says statusCode)", () => {
    const ended = watchEndedError(Object.assign(new Error('Not Found'), { statusCode: 404 }), 'watch v1 Nothing');
    expect(ended).toBeInstanceOf(NotFound);
    expect(ended.message).toBe('watch v1 Nothing: Not Found');
    expect(watchEndedError(new Error('Premature close'), 'watch v1 Pod')).not.toBeInstanceOf(Refused);
  });

  it('a kind not served is a NotFound; a ClusterError passes through as it is', () => {
    const notServed = new NotServed('the cluster does not serve example.com/v1 Nothing');
    expect(notServed).toBeInstanceOf(NotFound);
    expect(toClusterError(notServed, 'watch')).toBe(notServed);
  });
});

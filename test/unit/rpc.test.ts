/**
 * The message layer (src/core/rpc, src/node/rpcPorts.ts): replies matched by id, one error shape, progress,
 * cancel as an AbortSignal on the serving side, timeouts, and a dead worker or child as 'peer-exited'.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelError } from '../../src/core/onnx/errors';
import { RpcClient } from '../../src/core/rpc/client';
import { errorFromInfo } from '../../src/core/rpc/domainErrors';
import { RpcCode, RpcError } from '../../src/core/rpc/errors';
import type { CallerMessage, ServerMessage } from '../../src/core/rpc/messages';
import { RpcServer, type Handlers } from '../../src/core/rpc/server';
import { childClient, workerClient } from '../../src/node/rpcPorts';
import { startWorker } from '../../src/node/workers';
import type { PeerMethods } from '../fixtures/rpcPeer';

const PEER = path.join(__dirname, '..', 'fixtures', 'rpcPeer.ts');

interface Methods {
  add: { params: { a: number; b: number }; result: number };
  slow: { params: { ms: number; tag: string }; result: string };
  boom: { params: Record<string, never>; result: never };
  hang: { params: Record<string, never>; result: never };
}

/** A client and a server joined in memory, as through JSON (what a webview does to messages); `sent`: what the client posted. */
function pair(handlers: Handlers<Methods>) {
  const sent: CallerMessage<Methods>[] = [];
  const client: RpcClient<Methods> = new RpcClient<Methods>((message) => {
    sent.push(message);
    setImmediate(() => server.receive(JSON.parse(JSON.stringify(message))));
  });
  const server = new RpcServer<Methods>((message: ServerMessage) => {
    setImmediate(() => client.receive(JSON.parse(JSON.stringify(message))));
  }, handlers);
  return { client, sent };
}

const handlers = (seen: { aborted: number }): Handlers<Methods> => ({
  add: ({ a, b }) => a + b,
  slow: async ({ ms, tag }) => {
    await sleep(ms);
    return tag;
  },
  boom: () => {
    throw new RangeError('out of range');
  },
  hang: (_p, { signal }) =>
    new Promise((_r, reject) =>
      signal.addEventListener('abort', () => {
        seen.aborted++;
        reject(new Error('stopped'));
      }),
    ),
});

describe('message layer', () => {
  it('matches replies to requests by id, whatever order they come back in', async () => {
    const { client } = pair(handlers({ aborted: 0 }));
    const order: string[] = [];
    const slow = client.request('slow', { ms: 60, tag: 'first' }).then((v) => (order.push(v), v));
    const fast = client.request('slow', { ms: 5, tag: 'second' }).then((v) => (order.push(v), v));
    assert.deepEqual(await Promise.all([slow, fast, client.request('add', { a: 2, b: 3 })]), ['first', 'second', 5]);
    assert.deepEqual(order, ['second', 'first']);
    assert.equal(client.size, 0);
  });

  it('errors cross as {code, message, location}: domain errors are rebuilt, others keep name and message', async () => {
    const { client } = pair(handlers({ aborted: 0 }));
    await assert.rejects(client.request('boom', {}), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, RpcCode.error);
      assert.equal(e.name, 'RangeError');
      assert.equal(e.message, 'out of range');
      return true;
    });
    await assert.rejects(client.request('nope' as 'add', { a: 1, b: 1 }), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, RpcCode.unknownMethod);
      assert.match(e.message, /Unknown request nope/);
      return true;
    });
  });

  it('a cancel reaches the handler as an abort; the caller rejects with its own reason at once', async () => {
    const seen = { aborted: 0 };
    const { client, sent } = pair(handlers(seen));
    const abort = new AbortController();
    const hang = client.request('hang', {}, { signal: abort.signal });
    await sleep(10);
    abort.abort(new Error('user stopped it'));
    await assert.rejects(hang, /user stopped it/);
    await sleep(20);
    assert.equal(seen.aborted, 1);
    assert.deepEqual(sent.at(-1), { type: 'cancel', id: 1 });
    // An already aborted signal sends nothing.
    await assert.rejects(client.request('add', { a: 1, b: 2 }, { signal: abort.signal }), /user stopped it/);
    assert.equal(sent.length, 2);
  });

  it('a request without a reply in time rejects with code timeout and is cancelled', async () => {
    const seen = { aborted: 0 };
    const { client, sent } = pair(handlers(seen));
    await assert.rejects(client.request('hang', {}, { timeoutMs: 30 }), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, RpcCode.timeout);
      assert.equal(e.message, 'hang: no reply within 0.03 s');
      return true;
    });
    await sleep(20);
    assert.equal(seen.aborted, 1);
    assert.equal(sent.at(-1)?.type, 'cancel');
    // A reply in time clears its timer.
    assert.equal(await client.request('add', { a: 1, b: 1 }, { timeoutMs: 1000 }), 2);
  });

  it('closing a client (its peer died) rejects every pending and every later request with that error', async () => {
    const client = new RpcClient<Methods>(() => undefined);
    const pending = [client.request('add', { a: 1, b: 1 }), client.request('hang', {})];
    const dead = new RpcError({ code: RpcCode.peerExited, message: 'gone (exit code 9)' });
    client.close(dead);
    for (const p of pending) await assert.rejects(p, (e) => e === dead);
    await assert.rejects(client.request('add', { a: 1, b: 1 }), (e) => e === dead);
  });
});

for (const kind of ['worker', 'child'] as const) {
  /** A client of the test peer in a worker thread or a child process. */
  const connect = (): { client: RpcClient<PeerMethods>; stop: () => void } => {
    if (kind === 'worker') {
      const worker = startWorker(PEER);
      return {
        client: workerClient<PeerMethods>(worker, { name: 'The test worker', fromInfo: errorFromInfo }),
        stop: () => void worker.terminate(),
      };
    }
    const child = fork(PEER, [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    return {
      client: childClient<PeerMethods>(child, { name: 'The test child', fromInfo: errorFromInfo }),
      stop: () => void child.kill('SIGKILL'),
    };
  };

  describe(`message layer over a ${kind === 'worker' ? 'worker thread' : 'child process'}`, () => {
    // One peer for the whole suite (starting one from TypeScript takes a while); the last test ends it.
    let peer: ReturnType<typeof connect>;
    before(() => {
      peer = connect();
    });
    after(() => peer.stop());

    it('answers, reports progress, keeps non-finite numbers, rebuilds domain errors', async () => {
      const { client } = peer;
      const value = { a: [Infinity, -Infinity, NaN, 1], s: 'NaN', f: new Float32Array([Infinity]) };
      assert.deepEqual(await client.request('echo', { value, ms: 0 }), value);
      const progress: number[] = [];
      assert.equal(await client.request('count', { n: 3 }, { onProgress: (p) => progress.push(p) }), 3);
      assert.deepEqual(progress, [1, 2, 3]);
      await assert.rejects(client.request('fail', { tensor: 'w0' }), (e: unknown) => {
        assert.ok(e instanceof ModelError);
        assert.deepEqual(e.info, { code: 'io', message: "Tensor 'w0' cannot be read.", tensor: 'w0', offset: 12 });
        return true;
      });
    });

    it('cancels a running request by id (the handler sees an aborted signal)', async () => {
      const { client } = peer;
      const abort = new AbortController();
      const waiting = client.request('wait', {}, { signal: abort.signal });
      await client.request('echo', { value: 0, ms: 0 }); // the wait has started
      abort.abort(new Error('enough'));
      await assert.rejects(waiting, /enough/);
      assert.equal(await client.request('cancelled', {}), 1);
    });

    const end = kind === 'worker' ? { code: 7 } : { signal: 'SIGKILL' as const };
    const how = kind === 'worker' ? 'exit code 7' : 'signal SIGKILL';
    it(`a ${kind} that dies (${how}) rejects what is pending, and what follows, with code peer-exited`, async () => {
      const { client } = peer;
      const pending = [client.request('echo', { value: 1, ms: 60_000 }), client.request('wait', {})];
      void client.request('die', end).catch(() => undefined);
      for (const p of pending)
        await assert.rejects(p, (e: unknown) => {
          assert.ok(e instanceof RpcError);
          assert.equal(e.code, RpcCode.peerExited);
          assert.equal(e.message, `The test ${kind} stopped unexpectedly (${how}).`);
          return true;
        });
      await assert.rejects(client.request('cancelled', {}), new RegExp(`\\(${how}\\)`));
      assert.equal(client.size, 0);
    });
  });
}

/**
 * Pure read-replica pieces: write tokens (PostgreSQL LSNs) and their order, the `after` check, and
 * the replica settings' defaults and checks, all before anything connects.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from '../../src/index.ts';
import { resolveConnectConfig } from '../../src/store/config.ts';
import { resolveReplicaConfig } from '../../src/replica/replica-config.ts';
import { afterPosition, formatLsn, lsnValue } from '../../src/replica/write-token.ts';

const primary = resolveConnectConfig({ connectionString: 'postgres://app:secret@primary:5432/store' }, {});

function rejects(argument: string, build: () => unknown): void {
  assert.throws(build, (error: unknown) => error instanceof InvalidArgumentError && error.argument === argument);
}

describe('write tokens', () => {
  test('order as 64-bit WAL positions, not as text', () => {
    assert.ok(lsnValue('0/FFFFFFFF') < lsnValue('1/0'));
    assert.ok(lsnValue('0/9') < lsnValue('0/10'));
    assert.ok(lsnValue('A/0') > lsnValue('9/FFFFFFFF'));
    assert.equal(lsnValue('16/B374D848'), (0x16n << 32n) | 0xb374d848n);
  });

  test('print back as PostgreSQL prints them', () => {
    for (const token of ['0/0', '0/16B3748', '16/B374D848', 'FFFFFFFF/FFFFFFFF']) assert.equal(formatLsn(lsnValue(token)), token);
  });

  test('a read takes a token or null as after, and refuses anything else naming after', () => {
    assert.equal(afterPosition('0/10'), 16n);
    assert.equal(afterPosition(null), null);
    for (const bad of ['', '0/', '/1', '0/1/2', 'G/1', '123456789/0', 16, {}, undefined]) rejects('after', () => afterPosition(bad));
  });
});

describe('replica settings', () => {
  test('without readReplicas (or with none) the client has no replicas', () => {
    assert.equal(resolveReplicaConfig({}, primary), undefined);
    assert.equal(resolveReplicaConfig({ readReplicas: [] }, primary), undefined);
  });

  test('each replica gets the primary pool settings, a password-free target and a host:port/database label', () => {
    const resolved = resolveReplicaConfig({ readReplicas: ['postgres://app:secret@replica-1/store', 'postgresql://replica-2:6432/store'] }, primary);
    assert.ok(resolved);
    assert.deepEqual(
      resolved.replicas.map((replica) => replica.label),
      ['replica-1:5432/store', 'replica-2:6432/store'],
    );
    assert.equal(resolved.replicas[0]?.target.includes('secret'), false);
    assert.equal(resolved.replicas[0]?.engine.maxPoolSize, primary.maxPoolSize);
    assert.equal(resolved.replicas[0]?.engine.connectionString, 'postgres://app:secret@replica-1/store');
  });

  test('defaults: read-your-writes on, a 1000 ms wait, a 2000 ms retry delay', () => {
    const resolved = resolveReplicaConfig({ readReplicas: ['postgres://replica/store'] }, primary);
    assert.deepEqual([resolved?.readYourWrites, resolved?.waitMs, resolved?.retryDelayMs], [true, 1000, 2000]);
    assert.equal(resolveReplicaConfig({ readReplicas: ['postgres://replica/store'], readYourWrites: false }, primary)?.readYourWrites, false);
    assert.equal(resolveReplicaConfig({ readReplicas: ['postgres://replica/store'], replicaWaitMs: 0 }, primary)?.waitMs, 0);
  });

  test('bad settings are refused naming the setting', () => {
    rejects('readReplicas', () => resolveReplicaConfig({ readReplicas: 'postgres://replica/store' as never }, primary));
    rejects('readReplicas[1]', () => resolveReplicaConfig({ readReplicas: ['postgres://a/store', 'http://b/store'] }, primary));
    rejects('readReplicas[0]', () => resolveReplicaConfig({ readReplicas: [42 as never] }, primary));
    rejects('readYourWrites', () => resolveReplicaConfig({ readReplicas: ['postgres://a/store'], readYourWrites: 'yes' as never }, primary));
    rejects('replicaWaitMs', () => resolveReplicaConfig({ readReplicas: ['postgres://a/store'], replicaWaitMs: 1.5 }, primary));
    rejects('replicaRetryDelayMs', () => resolveReplicaConfig({ readReplicas: ['postgres://a/store'], replicaRetryDelayMs: 0 }, primary));
  });
});

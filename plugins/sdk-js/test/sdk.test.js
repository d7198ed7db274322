import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hint, kv, config, clampRelevance, eventFromWit, KvError } from '../index.js';
import { FakeHost, request } from '../testing.js';

test('relevance is rounded and clamped to 0..100', () => {
  assert.equal(new Hint('a', 'b', 300).relevance, 100);
  assert.equal(new Hint('a', 'b', -4).relevance, 0);
  assert.equal(new Hint('a', 'b', 41.6).relevance, 42);
  assert.equal(clampRelevance(NaN), 0);
  assert.throws(() => new Hint('a', 'b', '7'), TypeError);
});

test('kv and config go to the host', () => {
  new FakeHost({ config: { greeting: 'Hi' } }).install();
  kv.setJson('k', { n: 1 });
  assert.deepEqual(kv.getJson('k'), { n: 1 });
  assert.equal(kv.get('missing'), undefined);
  assert.equal(config.get('greeting'), 'Hi');
  assert.equal(config.get('absent', 3), 3);
  new FakeHost({ capabilities: ['log'] }).install();
  assert.throws(() => kv.get('k'), (e) => e instanceof KvError && e.kind === 'denied');
});

test('events become flat objects', () => {
  const d = { source: 'api', account: 'a', dialogId: 'd' };
  const m = { id: '1', role: 'client', text: 'x' };
  assert.deepEqual(eventFromWit({ tag: 'message-added', val: [d, m] }), { kind: 'message-added', dialog: d, message: m });
  assert.deepEqual(eventFromWit({ tag: 'dialog-closed', val: d }), { kind: 'dialog-closed', dialog: d });
});

test('request() builds a context', () => {
  assert.equal(request(['hi', 'hello', 'refund']).lastClientMessage().text, 'refund');
});

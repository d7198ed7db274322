// Unit tests of retrieval-js under node: `npm install && npm test` in this folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost, request } from '@hintd/plugin/testing';
import { Misconfigured } from '@hintd/plugin';
import { Retrieval } from '../plugin.js';
import { rank, tokens } from '../retrieval.js';

const FAQ = [
  { id: 'delivery', question: 'How long does delivery take?', answer: 'Three to five days.' },
  { id: 'returns', question: 'How do I return an item for a refund?', answer: 'Returns are free for 30 days.' },
];

const added = (role, text, dialogId = 'd9') => ({
  kind: 'message-added',
  dialog: { source: 'api', account: 'default', dialogId },
  message: { id: text, role, text, sentAt: 0, private: false },
});

test('tokens drop stopwords and keep any script', () => {
  assert.deepEqual(tokens('Where is my Pedido, olá?'), ['pedido', 'olá']);
  assert.equal(rank([{ id: 'a', text: 'delivery time' }], 'hello').length, 0);
});

test('the FAQ answers the latest client message', () => {
  new FakeHost({ config: { faq: FAQ } }).install();
  const hints = new Retrieval().suggest(request('when does the delivery arrive?'));
  assert.equal(hints[0].text, 'Three to five days.');
  assert.equal(hints[0].id, 'api/default/faq:delivery');
  assert.ok(hints[0].relevance > 0 && hints[0].relevance <= 100);
});

test('answers learned from observed dialogs are suggested, per account', () => {
  const host = new FakeHost({ config: { faq: FAQ } }).install();
  const plugin = new Retrieval();
  plugin.observe(added('client', 'Can I pay with PIX?'));
  plugin.observe(added('operator', 'Yes, PIX is accepted at checkout.'));
  assert.equal(plugin.suggest(request('pix payments accepted'))[0].text, 'Yes, PIX is accepted at checkout.');
  assert.equal(plugin.suggest(request('pix payments accepted', { account: 'other' })).length, 0);
  assert.ok([...host.store.keys()].some((k) => k.startsWith('doc/api/default/')));
});

test('a chosen answer is boosted', () => {
  new FakeHost({ config: { faq: FAQ, min_score: 0 } }).install();
  const plugin = new Retrieval();
  const first = plugin.suggest(request('delivery refund'));
  assert.equal(first.length, 2);
  const other = first[1];
  plugin.feedback({ chosen: other, chosenIsMine: true, shown: first });
  assert.equal(plugin.suggest(request('delivery refund'))[0].id, other.id);
});

test('a bad FAQ entry is named', () => {
  new FakeHost({ config: { faq: [{ id: 'x', question: 'q' }] } }).install();
  assert.throws(() => new Retrieval().suggest(request('q')), (e) => e instanceof Misconfigured && /faq\[0\]\.answer/.test(e.message));
});

// Running a plugin under node without a component: FakeHost stands in for hintd's imports (an
// in-memory kv, a config table, captured log lines, canned HTTP answers).
//
//   const host = new FakeHost({ config: { greeting: 'Hi' } }).install();
//   const hints = new MyPlugin().suggest(request('hello'));
import { HintRequest, HttpError, KvError, setHost } from './index.js';

export class FakeHost {
  constructor({ config = {}, capabilities = ['log', 'kv', 'config', 'http'], kvQuotaBytes = 1 << 20, httpHandler } = {}) {
    this.config = config;
    this.capabilities = new Set(capabilities);
    this.kvQuotaBytes = kvQuotaBytes;
    this.httpHandler = httpHandler;
    this.store = new Map();
    this.logs = [];
  }

  /** Makes this the host of the SDK's helpers; returns this. */
  install() {
    setHost(this);
    return this;
  }

  log(level, message) {
    if (this.capabilities.has('log')) this.logs.push([level, message]);
  }

  #allowed(key) {
    if (!this.capabilities.has('kv')) throw new KvError('denied');
    if (key !== undefined && (key.length === 0 || new TextEncoder().encode(key).length > 256)) {
      throw new KvError('invalid-key');
    }
  }

  kvGet(key) { this.#allowed(key); return this.store.get(key); }

  kvSet(key, value) {
    this.#allowed(key);
    let used = 0;
    for (const [k, v] of this.store) if (k !== key) used += k.length + v.length;
    if (used + key.length + value.length > this.kvQuotaBytes) throw new KvError('quota-exceeded');
    this.store.set(key, value);
  }

  kvDelete(key) { this.#allowed(key); this.store.delete(key); }

  kvScan(prefix, limit) {
    this.#allowed();
    return [...this.store.keys()].filter((k) => k.startsWith(prefix)).sort()
      .slice(0, limit).map((k) => [k, this.store.get(k)]);
  }

  configGetAll() {
    return JSON.stringify(this.capabilities.has('config') ? this.config : {});
  }

  httpSend(req) {
    if (!this.capabilities.has('http') || !this.httpHandler) throw new HttpError('denied', req.url);
    return this.httpHandler(req);
  }
}

/** A hint request whose context alternates client and operator messages, client first. */
export function request(texts, { account = 'default', source = 'api', dialogId = 'd1' } = {}) {
  const list = Array.isArray(texts) ? texts : [texts];
  const context = list.map((text, i) => ({
    id: String(i + 1), role: i % 2 === 0 ? 'client' : 'operator', text, sentAt: i, private: false,
  }));
  return new HintRequest({
    requestId: 'r1', account, source, dialogId, clientId: 'c1',
    messageId: context.length ? context[context.length - 1].id : '', context,
  });
}

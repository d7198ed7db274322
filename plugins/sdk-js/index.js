// @hintd/plugin: write hintd hint-provider plugins in JavaScript.
//
// A thin layer over the bindings componentize-js generates from wit/hint-provider.wit (world
// `hint-provider`, hintd:provider@0.1.0). This module is plain JavaScript (it runs under node
// for unit tests); `@hintd/plugin/component` binds it to the component's imports and exports.
//
//   import { Plugin, Hint } from '@hintd/plugin';
//   export class Greeter extends Plugin {
//     suggest(req) { return [new Hint('hello', 'Hello! How can I help?', 70)]; }
//   }
//
// Errors: throw InvalidRequest, Upstream, Misconfigured or Internal from `suggest` to answer that
// `provider-error`; any other exception is answered as `internal` with its name and message (its
// stack goes to the host's log). Exceptions of `feedback` and `observe` are logged and swallowed.
// Relevance: 0 to 100; a Hint rounds and clamps what it is given (the contract's u8 would
// otherwise wrap: 300 would arrive as 44).

/** The range of `hint.relevance`. */
export const RELEVANCE_MIN = 0;
export const RELEVANCE_MAX = 100;

/** `value` rounded and clamped to 0..100 (NaN: 0). Throws TypeError on a non-number. */
export function clampRelevance(value) {
  if (typeof value === 'bigint') value = Number(value);
  if (typeof value !== 'number') {
    throw new TypeError(`relevance must be a number, not ${typeof value}`);
  }
  if (Number.isNaN(value)) return RELEVANCE_MIN;
  return Math.max(RELEVANCE_MIN, Math.min(RELEVANCE_MAX, Math.round(value)));
}

/** One suggested reply. */
export class Hint {
  /**
   * @param {string} id plugin-local id, given back in feedback
   * @param {string} text the suggested reply
   * @param {number} [relevance=50] 0 to 100, clamped
   * @param {{url?: string, link?: string}} [extra]
   */
  constructor(id, text, relevance = 50, { url, link } = {}) {
    if (typeof id !== 'string') throw new TypeError(`hint id must be a string, not ${typeof id}`);
    if (typeof text !== 'string') throw new TypeError(`hint text must be a string, not ${typeof text}`);
    this.id = id;
    this.text = text;
    this.relevance = clampRelevance(relevance);
    this.url = url ?? undefined;
    this.link = link ?? undefined;
  }
}

/** A request for hints. Fields as in the contract, camelCase; `context` oldest first. */
export class HintRequest {
  constructor(fields) {
    Object.assign(this, {
      requestId: '', account: 'default', source: 'api', dialogId: '', clientId: '',
      messageId: '', context: [], maxHints: 5, deadlineMs: 0, operatorId: undefined,
      channelId: undefined, transport: undefined, externalKey: undefined,
    }, fields);
  }

  /** The most recent client message of the context, or undefined. */
  lastClientMessage() {
    for (let i = this.context.length - 1; i >= 0; i--) {
      if (this.context[i].role === 'client') return this.context[i];
    }
    return undefined;
  }
}

/** Why `suggest` gave no hints; `kind` is the contract's case. Throw a subclass. */
export class ProviderError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'ProviderError';
    this.kind = kind;
    // The `provider-error` value: componentize-js answers a thrown value's own `payload` as
    // the `result`'s error.
    this.payload = { tag: kind, val: message };
  }
}
export class InvalidRequest extends ProviderError {
  constructor(message) { super('invalid-request', message); this.name = 'InvalidRequest'; }
}
export class Upstream extends ProviderError {
  constructor(message) { super('upstream', message); this.name = 'Upstream'; }
}
export class Misconfigured extends ProviderError {
  constructor(message) { super('misconfigured', message); this.name = 'Misconfigured'; }
}
export class Internal extends ProviderError {
  constructor(message) { super('internal', message); this.name = 'Internal'; }
}

/** A kv call failed; `kind`: denied, quota-exceeded, invalid-key, unavailable. */
export class KvError extends Error {
  constructor(kind, message) {
    super(message ? `${kind}: ${message}` : kind);
    this.name = 'KvError';
    this.kind = kind;
  }
}

/** An http call failed; `kind`: denied, invalid-request, timeout, too-large, transport. */
export class HttpError extends Error {
  constructor(kind, message) {
    super(message ? `${kind}: ${message}` : kind);
    this.name = 'HttpError';
    this.kind = kind;
  }
}

/**
 * A hint provider. Set `name`, `version`, `description` (or override `describe`) and
 * implement `suggest`; `feedback` and `observe` ignore what they get unless overridden.
 * One object serves the calls of one component instance (`instance = "reuse"` keeps it across
 * calls of an account); keep what must last in kv.
 */
export class Plugin {
  get name() { return 'plugin'; }
  get version() { return '0.1.0'; }
  get description() { return ''; }
  /** @returns {{name: string, version: string, description: string}} */
  describe() {
    return { name: this.name, version: this.version, description: this.description };
  }
  /** @param {HintRequest} _req @returns {Hint[]} ranked hints, best first */
  suggest(_req) {
    throw new Error(`${this.constructor.name}.suggest is not implemented`);
  }
  /** The operator's choice among the hints shown. */
  feedback(_fb) {}
  /** A change in a conversation: `{kind, dialog, message?, messageId?, operatorId?}`. */
  observe(_event) {}
}

let host = null;
let configTable = null;

/** Routes the helpers below to `h` (the component's imports, or a FakeHost). */
export function setHost(h) {
  host = h;
  configTable = null;
}

function current() {
  if (!host) {
    throw new Error('no hintd host: export the plugin with @hintd/plugin/component, or use FakeHost from @hintd/plugin/testing in tests');
  }
  return host;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Log lines, tagged with the plugin's name by the host. */
export const log = {
  write(level, message) { current().log(level, String(message)); },
  trace(message) { log.write('trace', message); },
  debug(message) { log.write('debug', message); },
  info(message) { log.write('info', message); },
  warn(message) { log.write('warn', message); },
  error(message) { log.write('error', message); },
};

/** The plugin's key-value store (capability `kv`); failures throw KvError. */
export const kv = {
  /** @returns {Uint8Array|undefined} */
  get(key) { return current().kvGet(key); },
  /** @param {Uint8Array|string} value */
  set(key, value) {
    current().kvSet(key, typeof value === 'string' ? encoder.encode(value) : value);
  },
  delete(key) { current().kvDelete(key); },
  /** Up to `limit` [key, value] entries whose key starts with `prefix`, in key order. */
  scan(prefix, limit = 100) { return current().kvScan(prefix, limit); },
  getText(key) {
    const v = kv.get(key);
    return v === undefined ? undefined : decoder.decode(v);
  },
  getJson(key, fallback = undefined) {
    const v = kv.getText(key);
    return v === undefined ? fallback : JSON.parse(v);
  },
  setJson(key, value) { kv.set(key, JSON.stringify(value)); },
};

/** The `[config]` table of the manifest (capability `config`), read once per instance. */
export const config = {
  all() {
    if (configTable === null) {
      const parsed = JSON.parse(current().configGetAll() || '{}');
      configTable = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
    }
    return configTable;
  },
  get(key, fallback = undefined) {
    const table = config.all();
    return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : fallback;
  },
};

/** Outbound HTTP through the host (capability `http`, `allowed_hosts` only). */
export const http = {
  /** @returns {{status: number, headers: [string, string][], body: Uint8Array, text(): string, json(): any}} */
  send({ method = 'GET', url, headers = [], body = new Uint8Array(), timeoutMs = 5000 }) {
    const bytes = typeof body === 'string' ? encoder.encode(body) : body;
    const res = current().httpSend({ method, url, headers, body: bytes, timeoutMs });
    return {
      ...res,
      text() { return decoder.decode(res.body); },
      json() { return JSON.parse(decoder.decode(res.body)); },
    };
  },
};

/** A contract event as the SDK's flat object: `{kind, dialog, message?, messageId?, operatorId?}`. */
export function eventFromWit(e) {
  const [dialog, rest] = Array.isArray(e.val) ? e.val : [e.val, undefined];
  const out = { kind: e.tag, dialog };
  if (e.tag === 'message-added' || e.tag === 'message-updated') out.message = rest;
  if (e.tag === 'message-deleted') out.messageId = rest;
  if (e.tag === 'dialog-transferred') out.operatorId = rest ?? undefined;
  return out;
}

// Binds a Plugin to the component: the contract's imports become the SDK's host, and
// exportPlugin() makes the `provider` object componentize-js exports. Only a component build
// can import this module (the `hintd:provider/...` modules exist only there).
//
//   import { exportPlugin } from '@hintd/plugin/component';
//   import { Greeter } from './plugin.js';
//   export const provider = exportPlugin(Greeter);
import * as wlog from 'hintd:provider/log@0.1.0';
import * as wkv from 'hintd:provider/kv@0.1.0';
import * as wconfig from 'hintd:provider/config@0.1.0';
import * as whttp from 'hintd:provider/http@0.1.0';
import {
  Hint, HintRequest, HttpError, Internal, KvError, Plugin, ProviderError, clampRelevance,
  eventFromWit, setHost,
} from './index.js';

// An import's `result` error arrives as a thrown value carrying the variant.
function variant(e) {
  return e && typeof e === 'object' && 'payload' in e ? e.payload : e;
}

function kvCall(f) {
  try {
    return f();
  } catch (e) {
    const v = variant(e);
    throw new KvError(v?.tag ?? 'unavailable', typeof v?.val === 'string' ? v.val : '');
  }
}

const componentHost = {
  log(level, message) { wlog.write(level, message); },
  kvGet(key) { return kvCall(() => wkv.get(key) ?? undefined); },
  kvSet(key, value) { kvCall(() => wkv.set(key, value)); },
  kvDelete(key) { kvCall(() => wkv.delete(key)); },
  kvScan(prefix, limit) { return kvCall(() => wkv.scan(prefix, limit)); },
  configGetAll() { return wconfig.getAll(); },
  httpSend(req) {
    try {
      return whttp.send(req);
    } catch (e) {
      const v = variant(e);
      throw new HttpError(v?.tag ?? 'transport', typeof v?.val === 'string' ? v.val : '');
    }
  },
};

const message = (m) => ({ ...m, sentAt: Number(m.sentAt) });

function hintToWit(h) {
  if (!h || typeof h.id !== 'string' || typeof h.text !== 'string') {
    throw new TypeError('suggest must return hints with a string id and text');
  }
  const out = { id: h.id, text: h.text, relevance: clampRelevance(h.relevance ?? 50) };
  if (h.url != null) out.url = h.url;
  if (h.link != null) out.link = h.link;
  return out;
}

const hintFromWit = (h) => new Hint(h.id, h.text, h.relevance, { url: h.url, link: h.link });

function logError(fn, e) {
  const what = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
  wlog.write('error', `${fn} threw ${what}`);
}

/**
 * The `provider` export of a plugin class. The object is made at the first call, not when the
 * module is evaluated: componentize-js runs the module's top level while building, with no host.
 * @param {typeof Plugin} PluginClass
 */
export function exportPlugin(PluginClass) {
  if (typeof PluginClass !== 'function' || !(PluginClass.prototype instanceof Plugin)) {
    throw new TypeError('exportPlugin takes a subclass of Plugin');
  }
  let plugin = null;
  const instance = () => {
    if (!plugin) {
      setHost(componentHost);
      plugin = new PluginClass();
    }
    return plugin;
  };
  return {
    describe() {
      const info = instance().describe();
      return { name: String(info.name), version: String(info.version), description: String(info.description) };
    },
    suggest(req) {
      const p = instance();
      let hints;
      try {
        hints = p.suggest(new HintRequest({ ...req, context: req.context.map(message) }));
      } catch (e) {
        if (e instanceof ProviderError) throw e;
        logError('suggest', e);
        throw new Internal(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      }
      return (hints ?? []).map(hintToWit);
    },
    feedback(fb) {
      const p = instance();
      try {
        p.feedback({
          ...fb,
          chosen: hintFromWit(fb.chosen),
          shown: fb.shown.map(hintFromWit),
          context: fb.context.map(message),
        });
      } catch (e) {
        logError('feedback', e);
      }
    },
    observe(event) {
      const p = instance();
      try {
        const e = eventFromWit(event);
        if (e.message) e.message = message(e.message);
        p.observe(e);
      } catch (e) {
        logError('observe', e);
      }
    },
  };
}

// retrieval-js: suggests the answers of a configured FAQ and the answers operators gave to
// similar client questions in earlier dialogs (learned through `observe`, kept in kv per source
// and account), ranked by TF-IDF cosine and by how often operators chose them.
import { Hint, Misconfigured, Plugin, config, kv, log } from '@hintd/plugin';
import { boosted, fingerprint, rank } from './retrieval.js';

// Learned answers of one account, read at most this many.
const MAX_LEARNED = 500;

function readFaq(value) {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Misconfigured('faq must be an array of tables');
  return value.map((e, i) => {
    for (const key of ['id', 'question', 'answer']) {
      if (typeof e?.[key] !== 'string' || e[key] === '') {
        throw new Misconfigured(`faq[${i}].${key} must be a non-empty string`);
      }
    }
    if (e.id.includes('/')) throw new Misconfigured(`faq[${i}].id must not contain '/'`);
    return { id: `faq:${e.id}`, text: e.question, answer: e.answer, url: e.url };
  });
}

function number(key, fallback, min, max) {
  const v = config.get(key, fallback);
  if (typeof v !== 'number' || !(v >= min && v <= max)) {
    throw new Misconfigured(`${key} must be a number from ${min} to ${max}`);
  }
  return v;
}

const tenant = (source, account) => `${source}/${account}`;

export class Retrieval extends Plugin {
  get name() { return 'retrieval-js'; }
  get version() { return '0.1.0'; }
  get description() { return 'Answers from a configured FAQ and from what operators answered before'; }

  settings() {
    // Read once per instance: reused instances keep it.
    this.cached ??= {
      faq: readFaq(config.get('faq')),
      maxHints: number('max_hints', 3, 1, 20),
      minScore: number('min_score', 0.2, 0, 1),
      historyWeight: number('history_weight', 0.3, 0, 1),
      learn: config.get('learn_from_dialogs', true) === true,
    };
    return this.cached;
  }

  suggest(req) {
    const s = this.settings();
    const last = req.lastClientMessage();
    if (!last) return [];
    const earlier = req.context.filter((m) => m.role === 'client' && m !== last).slice(-3).map((m) => m.text);
    const t = tenant(req.source, req.account);
    const docs = [...s.faq];
    const boosts = new Map();
    try {
      if (s.learn) {
        for (const [key, value] of kv.scan(`doc/${t}/`, MAX_LEARNED)) {
          const d = JSON.parse(new TextDecoder().decode(value));
          docs.push({ id: `op:${key.slice(key.lastIndexOf('/') + 1)}`, text: d.q, answer: d.a });
        }
      }
      for (const [key, value] of kv.scan(`chosen/${t}/`, MAX_LEARNED)) {
        boosts.set(key.slice(key.lastIndexOf('/') + 1), Number(new TextDecoder().decode(value)));
      }
    } catch (e) {
      // Without kv the FAQ still answers.
      log.warn(`kv unavailable, answering from the FAQ only: ${e.message}`);
    }
    const seen = new Set();
    return rank(docs, last.text, earlier, s.historyWeight)
      .map(({ doc, score }) => ({ doc, score: boosted(score, boosts.get(doc.id) ?? 0) }))
      .filter(({ doc, score }) => score >= s.minScore && !seen.has(doc.answer) && seen.add(doc.answer))
      .sort((a, b) => b.score - a.score)
      .slice(0, Math.min(s.maxHints, req.maxHints))
      .map(({ doc, score }) => new Hint(`${t}/${doc.id}`, doc.answer, Math.min(score, 1) * 100, { url: doc.url }));
  }

  feedback(fb) {
    if (!fb.chosenIsMine) return;
    const id = fb.chosen.id;
    const cut = id.lastIndexOf('/');
    if (cut < 0) return;
    const key = `chosen/${id.slice(0, cut)}/${id.slice(cut + 1)}`;
    kv.set(key, String(Number(kv.getText(key) ?? '0') + 1));
  }

  observe(event) {
    if (event.kind !== 'message-added' || !this.settings().learn) return;
    const { dialog, message } = event;
    const t = tenant(dialog.source, dialog.account);
    const pending = `pending/${t}/${dialog.dialogId}`;
    if (message.private || message.text.trim() === '') return;
    if (message.role === 'client') {
      // The question an operator's next reply answers.
      const before = kv.getText(pending);
      kv.set(pending, before ? `${before}\n${message.text}` : message.text);
    } else if (message.role === 'operator') {
      const question = kv.getText(pending);
      if (!question) return;
      kv.delete(pending);
      kv.setJson(`doc/${t}/${fingerprint(message.text)}`, { q: question, a: message.text });
    } else if (message.role === 'system') {
      return;
    }
  }
}

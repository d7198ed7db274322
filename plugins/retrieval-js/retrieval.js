// Ranking of retrieval-js: TF-IDF cosine between the client's words and each document (a FAQ
// entry, or a client question an operator answered in an earlier dialog). Plain JavaScript.

const STOPWORDS = new Set(
  ('a an and are as at be but by can could do does for from has have how i if in is it its me my ' +
   'no not of on or our please so that the their there this to was we what when where which who ' +
   'why will with would you your').split(' '),
);

// Word separators: whitespace and ASCII punctuation. (The component's regular expressions have
// no Unicode property classes, so words of any script are what lies between these.)
const SEPARATORS = /[\s!-\/:-@\[-`{-~\u00a1\u00bf\u2010-\u2027]+/;

/** Lowercased content words of `text` (letters and digits of any script). */
export function tokens(text) {
  return text.toLowerCase().split(SEPARATORS).filter(
    (w) => w.length > 1 && !STOPWORDS.has(w),
  );
}

function counts(words, weight = 1, into = new Map()) {
  for (const w of words) into.set(w, (into.get(w) ?? 0) + weight);
  return into;
}

/**
 * Scores `docs` ([{id, text}]) against the query (the latest client message counts fully, the
 * earlier ones of `history` with `historyWeight`). Returns [{doc, score}] with score in 0..1,
 * best first, zero scores left out.
 */
export function rank(docs, query, history = [], historyWeight = 0.3) {
  if (docs.length === 0) return [];
  const docTerms = docs.map((d) => counts(tokens(d.text)));
  const df = new Map();
  for (const terms of docTerms) for (const w of terms.keys()) df.set(w, (df.get(w) ?? 0) + 1);
  const idf = (w) => Math.log(1 + docs.length / (df.get(w) ?? 0.5));
  const q = counts(tokens(query));
  for (const h of history) counts(tokens(h), historyWeight, q);
  const weigh = (terms) => {
    const v = new Map();
    let norm = 0;
    for (const [w, c] of terms) {
      const x = c * idf(w);
      v.set(w, x);
      norm += x * x;
    }
    return { v, norm: Math.sqrt(norm) };
  };
  const qv = weigh(q);
  if (qv.norm === 0) return [];
  const ranked = [];
  docs.forEach((doc, i) => {
    const dv = weigh(docTerms[i]);
    if (dv.norm === 0) return;
    let dot = 0;
    for (const [w, x] of qv.v) dot += x * (dv.v.get(w) ?? 0);
    const score = dot / (qv.norm * dv.norm);
    if (score > 0) ranked.push({ doc, score });
  });
  ranked.sort((a, b) => b.score - a.score || (a.doc.id < b.doc.id ? -1 : 1));
  return ranked;
}

/** Each choice of a document multiplies its score by this, up to MAX_BOOSTS choices. */
export const BOOST = 1.5;
export const MAX_BOOSTS = 3;

export function boosted(score, chosen) {
  return score * BOOST ** Math.min(chosen, MAX_BOOSTS);
}

/** FNV-1a of `text`, 8 hex digits: the id of a learned answer. */
export function fingerprint(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

//! What the plugin keeps in kv: learned candidates and each open dialog's pending client
//! messages. kv failures are logged and skipped: learning is best effort, it never breaks a
//! conversation.

use crate::candidate::Candidate;
use crate::names;
use hintd_plugin::{DialogRef, kv, log};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Client messages remembered per dialog until an operator answers.
const PENDING_MESSAGES: usize = 3;
/// Longest text learned, bytes (longer replies are letters, not reusable answers).
const MAX_REPLY_BYTES: usize = 2_000;

/// A dialog's state between an operator reply and the next.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Pending {
    /// Client messages since the last operator reply.
    pub client: Vec<String>,
    /// The client's name, when it was said.
    pub name: Option<String>,
}

/// The kv prefix of one account's candidates.
pub fn candidate_prefix(source: &str, account: &str) -> String {
    format!("c/{}/{}/", escape(source), escape(account))
}

/// Keeps key parts from containing the separator.
fn escape(part: &str) -> String {
    part.replace('%', "%25").replace('/', "%2F")
}

/// The kv key of one account's candidate generation: it changes whenever a candidate of the
/// account is written, so a warm instance knows when its parsed candidates are stale.
pub fn generation_key(source_and_account: &str) -> String {
    format!("g/{source_and_account}")
}

/// The current generation of the account whose candidates live under `prefix`
/// (`c/<source>/<account>/`).
pub fn generation(prefix: &str) -> u64 {
    let account = prefix.trim_start_matches("c/").trim_end_matches('/');
    load::<u64>(&generation_key(account)).unwrap_or(0)
}

/// Moves the generation on after a write to `candidate_key`. The new value hashes the old
/// one with what was written, so concurrent writers still change it.
pub fn bump_generation(candidate_key: &str, written: &[u8]) {
    let rest = candidate_key.trim_start_matches("c/");
    let Some((account, _hash)) = rest.rsplit_once('/') else {
        return;
    };
    let key = generation_key(account);
    let old = load::<u64>(&key).unwrap_or(0);
    let mut h: u64 = 0xcbf29ce484222325 ^ old;
    for b in candidate_key.bytes().chain(written.iter().copied()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    save(&key, &(h >> 11));
}

fn pending_key(at: &DialogRef) -> String {
    format!(
        "d/{}/{}/{}",
        escape(&at.source),
        escape(&at.account),
        escape(&at.dialog_id)
    )
}

/// A stable id of a reply text: FNV-1a of its normal form.
pub fn text_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in hintd_textkit::normalize(text).bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// Reads a JSON value from kv; `None` when absent or unreadable (logged).
pub fn load<T: DeserializeOwned>(key: &str) -> Option<T> {
    kv::get_json(key).unwrap_or_else(|e| {
        log::warn(&format!("kv get {key}: {e}"));
        None
    })
}

/// Writes a JSON value to kv.
pub fn save<T: Serialize>(key: &str, value: &T) {
    if let Err(e) = kv::set_json(key, value) {
        log::warn(&format!("kv set {key}: {e}"));
    }
}

/// Writes a candidate and moves its account's generation on.
pub fn save_candidate(key: &str, candidate: &Candidate) {
    let written = kv::encode(key, candidate).and_then(|bytes| {
        kv::set(key, &bytes)?;
        Ok(bytes)
    });
    match written {
        Ok(bytes) => bump_generation(key, &bytes),
        Err(e) => log::warn(&format!("kv set {key}: {e}")),
    }
}

/// A client message: remembered until an operator answers.
pub fn remember_client_message(at: &DialogRef, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    let key = pending_key(at);
    let mut pending: Pending = load(&key).unwrap_or_default();
    if let Some(name) = names::introduced_name(text) {
        pending.name = Some(name);
    }
    pending.client.push(text.to_string());
    if pending.client.len() > PENDING_MESSAGES {
        pending.client.remove(0);
    }
    save(&key, &pending);
}

/// An operator message: becomes (or reinforces) a candidate for the pending client messages.
pub fn learn_reply(at: &DialogRef, text: &str) {
    let text = text.trim();
    let key = pending_key(at);
    let mut pending: Pending = load(&key).unwrap_or_default();
    if pending.name.is_none() {
        pending.name = names::greeted_name(text);
    }
    if text.is_empty() || text.len() > MAX_REPLY_BYTES || pending.client.is_empty() {
        save(&key, &pending);
        return;
    }
    let template = names::templatize(text, pending.name.as_deref());
    let candidate_key = format!(
        "{}{}",
        candidate_prefix(&at.source, &at.account),
        text_hash(&template)
    );
    let mut candidate = match load::<Candidate>(&candidate_key) {
        Some(mut known) => {
            // An operator chose to send it again: a mild positive signal.
            known.alpha += 0.5;
            known
        }
        None => Candidate::new(template),
    };
    candidate.seen += 1;
    candidate.add_example(pending.client.join(" "));
    save_candidate(&candidate_key, &candidate);
    pending.client.clear();
    save(&key, &pending);
}

/// A closed dialog's pending state is dropped.
pub fn forget_dialog(at: &DialogRef) {
    if let Err(e) = kv::delete(&pending_key(at)) {
        log::warn(&format!("kv delete: {e:?}"));
    }
}

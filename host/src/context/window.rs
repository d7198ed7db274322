//! One dialog's recent messages in memory, kept compact (boxed strings, media boxed apart)
//! because a busy hintd holds hundreds of thousands of them.

use crate::core::{Message, Role};
use std::collections::VecDeque;

/// Attachment facts, boxed apart: most messages have none.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Media {
    kind: Option<Box<str>>,
    url: Option<Box<str>>,
}

/// A message as memory holds it: 40 bytes plus one allocation for id and text together.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Compact {
    /// The id's bytes followed by the text's.
    data: Box<str>,
    sent_at_ms: i64,
    id_len: u32,
    role: Role,
    private: bool,
    /// Whether an edit set the text (a late copy of the original must not undo it).
    edited: bool,
    media: Option<Box<Media>>,
}

/// Most deleted message ids remembered per dialog.
const MAX_DELETED: usize = 64;

impl Compact {
    fn from_message(m: Message) -> Self {
        let media = (m.media_type.is_some() || m.media_url.is_some()).then(|| {
            Box::new(Media {
                kind: m.media_type.map(String::into_boxed_str),
                url: m.media_url.map(String::into_boxed_str),
            })
        });
        let mut data = String::with_capacity(m.id.len() + m.text.len());
        data.push_str(&m.id);
        data.push_str(&m.text);
        Compact {
            data: data.into_boxed_str(),
            sent_at_ms: m.sent_at_ms,
            id_len: m.id.len() as u32,
            role: m.role,
            private: m.private,
            edited: false,
            media,
        }
    }

    fn id(&self) -> &str {
        &self.data[..self.id_len as usize]
    }

    fn text(&self) -> &str {
        &self.data[self.id_len as usize..]
    }

    fn to_message(&self) -> Message {
        Message {
            id: self.id().to_string(),
            role: self.role,
            text: self.text().to_string(),
            sent_at_ms: self.sent_at_ms,
            private: self.private,
            media_type: self
                .media
                .as_ref()
                .and_then(|m| m.kind.as_deref().map(str::to_string)),
            media_url: self
                .media
                .as_ref()
                .and_then(|m| m.url.as_deref().map(str::to_string)),
        }
    }
}

/// A dialog's recent messages (oldest first) and what memory knows of its stored row.
#[derive(Debug, Default)]
pub(crate) struct DialogWindow {
    messages: VecDeque<Compact>,
    /// Whether the store's messages have been merged in (after a restart memory starts
    /// empty; new events are applied at once and the older ones loaded on first read).
    pub(crate) complete: bool,
    /// Recently deleted message ids: a late copy of a deleted message (or a load that read
    /// the store before the deletion) must not bring it back, as in the store.
    deleted: Vec<Box<str>>,
    /// Whether this process has written the dialog's row.
    pub(crate) row_written: bool,
    /// Whether the dialog is closed, as far as memory knows.
    pub(crate) closed: bool,
    /// The dialog's operator, as last written.
    pub(crate) operator_id: Option<Box<str>>,
    /// Last activity, seconds since the service started (for idle eviction).
    pub(crate) touched_s: u32,
}

impl DialogWindow {
    /// Adds a message or replaces the one with the same id (an edit when `edit`), keeping
    /// time order, then drops the oldest beyond `max`. Mirrors the store: a deleted message
    /// stays deleted, and the original arriving after an edit does not undo the edit.
    pub(crate) fn upsert(&mut self, message: Message, edit: bool, max: usize) {
        if self.deleted.iter().any(|d| **d == *message.id) {
            return;
        }
        let mut compact = Compact::from_message(message);
        compact.edited = edit;
        if let Some(pos) = self.messages.iter().rposition(|m| m.id() == compact.id()) {
            if self.messages[pos].edited && !edit {
                return;
            }
            compact.edited |= self.messages[pos].edited;
            if self.messages[pos].sent_at_ms == compact.sent_at_ms {
                self.messages[pos] = compact;
                return;
            }
            self.messages.remove(pos);
        }
        // Messages mostly arrive in order: search from the back.
        let at = self
            .messages
            .iter()
            .rposition(|m| m.sent_at_ms <= compact.sent_at_ms)
            .map_or(0, |p| p + 1);
        if self.messages.len() == self.messages.capacity() {
            // Grow by a quarter rather than doubling: memory holds many small windows.
            self.messages
                .reserve_exact((self.messages.len() / 4).max(2));
        }
        self.messages.insert(at, compact);
        while self.messages.len() > max {
            self.messages.pop_front();
        }
    }

    /// Removes a message, and remembers that it is deleted.
    pub(crate) fn delete(&mut self, id: &str) {
        self.messages.retain(|m| m.id() != id);
        if !self.deleted.iter().any(|d| &**d == id) {
            if self.deleted.len() == MAX_DELETED {
                self.deleted.remove(0);
            }
            self.deleted.push(id.into());
        }
    }

    /// Merges the store's newest messages under what memory already has (memory's copies are
    /// as new or newer), and marks the window complete.
    pub(crate) fn merge_loaded(&mut self, loaded: Vec<Message>, max: usize) {
        let newer = std::mem::take(&mut self.messages);
        for m in loaded {
            if !self.deleted.iter().any(|d| **d == *m.id) {
                self.messages.push_back(Compact::from_message(m));
            }
        }
        for m in newer {
            let edited = m.edited;
            self.upsert(m.to_message(), edited, max);
        }
        while self.messages.len() > max {
            self.messages.pop_front();
        }
        self.messages.shrink_to(self.messages.len() + 2);
        self.complete = true;
    }

    /// Replaces memory's messages by the store's (when other processes write the store too).
    pub(crate) fn replace_with(&mut self, loaded: Vec<Message>, max: usize) {
        self.messages.clear();
        self.complete = false;
        self.merge_loaded(loaded, max);
    }

    /// Drops messages sent before `cutoff_ms`; returns whether any remain.
    pub(crate) fn purge_before(&mut self, cutoff_ms: i64) -> bool {
        self.messages.retain(|m| m.sent_at_ms >= cutoff_ms);
        !self.messages.is_empty()
    }

    /// Every message, private notes included, oldest first.
    pub(crate) fn all(&self) -> Vec<Message> {
        self.messages.iter().map(Compact::to_message).collect()
    }

    /// What plugins see: no private notes; the newest messages whose texts fit in
    /// `max_chars` characters, oldest first. A newest message longer than the budget on its
    /// own is cut to the budget rather than leaving the context empty.
    pub(crate) fn visible(&self, max_chars: usize) -> Vec<Message> {
        let mut out = Vec::new();
        let mut used = 0usize;
        for m in self.messages.iter().rev().filter(|m| !m.private) {
            let len = m.text().chars().count();
            if used + len > max_chars {
                if out.is_empty() {
                    let mut cut = m.to_message();
                    cut.text = m
                        .text()
                        .chars()
                        .rev()
                        .take(max_chars)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    out.push(cut);
                }
                break;
            }
            used += len;
            out.push(m.to_message());
        }
        out.reverse();
        out
    }

    /// The newest client message (not a private note): its id and time.
    pub(crate) fn latest_client(&self) -> Option<(String, i64)> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::Client && !m.private)
            .map(|m| (m.id().to_string(), m.sent_at_ms))
    }

    /// Number of messages held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.messages.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str, role: Role, text: &str, at: i64) -> Message {
        Message {
            id: id.into(),
            role,
            text: text.into(),
            sent_at_ms: at,
            private: false,
            media_type: None,
            media_url: None,
        }
    }

    fn ids(v: &[Message]) -> Vec<&str> {
        v.iter().map(|m| m.id.as_str()).collect()
    }

    #[test]
    fn keeps_time_order_and_the_newest_n() {
        let mut w = DialogWindow::default();
        for (i, at) in [(1, 10), (2, 30), (3, 20), (4, 40)] {
            w.upsert(msg(&i.to_string(), Role::Client, "x", at), false, 3);
        }
        assert_eq!(ids(&w.all()), ["3", "2", "4"]);
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn edits_and_deletions() {
        let mut w = DialogWindow {
            complete: true,
            ..Default::default()
        };
        w.upsert(msg("a", Role::Client, "hello", 1), false, 10);
        w.upsert(msg("b", Role::Operator, "hi", 2), false, 10);
        w.upsert(msg("a", Role::Client, "hello there", 1), true, 10);
        assert_eq!(w.all()[0].text, "hello there");
        // A late copy of the original does not undo the edit.
        w.upsert(msg("a", Role::Client, "hello", 1), false, 10);
        assert_eq!(w.all()[0].text, "hello there");
        w.delete("a");
        assert_eq!(ids(&w.all()), ["b"]);
        // A late copy of a deleted message does not bring it back.
        w.upsert(msg("a", Role::Client, "hello", 1), false, 10);
        assert_eq!(ids(&w.all()), ["b"]);
    }

    #[test]
    fn budget_and_private_notes() {
        let mut w = DialogWindow::default();
        w.upsert(msg("1", Role::Client, "aaaaa", 1), false, 10);
        w.upsert(msg("2", Role::Operator, "bbbbb", 2), false, 10);
        let mut note = msg("3", Role::Operator, "secret note", 3);
        note.private = true;
        w.upsert(note, false, 10);
        w.upsert(msg("4", Role::Client, "ccccc", 4), false, 10);
        assert_eq!(ids(&w.visible(100)), ["1", "2", "4"]);
        assert_eq!(ids(&w.visible(10)), ["2", "4"]);
        assert_eq!(ids(&w.visible(9)), ["4"]);
        let cut = w.visible(3);
        assert_eq!((cut.len(), cut[0].text.as_str()), (1, "ccc"));
        assert_eq!(w.all().len(), 4);
        assert_eq!(w.latest_client(), Some(("4".into(), 4)));
    }

    #[test]
    fn merging_a_load_keeps_newer_memory_and_tombstones() {
        let mut w = DialogWindow::default();
        w.upsert(msg("3", Role::Client, "new", 3), false, 10);
        w.upsert(msg("2", Role::Client, "edited", 2), true, 10);
        w.delete("1");
        w.merge_loaded(
            vec![
                msg("0", Role::Client, "old", 0),
                msg("1", Role::Client, "gone", 1),
                msg("2", Role::Client, "orig", 2),
            ],
            10,
        );
        assert!(w.complete);
        let all = w.all();
        assert_eq!(ids(&all), ["0", "2", "3"]);
        assert_eq!(all[1].text, "edited");
    }

    #[test]
    fn compact_messages_stay_small() {
        assert!(
            std::mem::size_of::<Compact>() <= 40,
            "{}",
            std::mem::size_of::<Compact>()
        );
    }

    #[test]
    fn media_round_trips() {
        let mut w = DialogWindow::default();
        let mut m = msg("1", Role::Client, "", 1);
        m.media_type = Some("image".into());
        m.media_url = Some("https://x/1.jpg".into());
        w.upsert(m.clone(), false, 10);
        assert_eq!(w.all(), vec![m]);
    }
}

//! Who waits for a dialog's next client message: an open hint panel subscribes to its dialog
//! and is told as soon as one is stored, so it refreshes without polling. In-process and
//! bounded: a few watchers per dialog, a few thousand dialogs watched at once.

use super::service::ClientMessageRef;
use crate::core::DialogKey;
use dashmap::DashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::broadcast;

/// Watchers of one dialog at most (panels of several operators on the same dialog).
pub const MAX_WATCHERS_PER_DIALOG: usize = 32;
/// Dialogs watched at once at most.
pub const MAX_WATCHED_DIALOGS: usize = 10_000;
/// Messages a slow watcher may fall behind by; beyond, it skips to the newest, which is all
/// a panel shows anyway.
const BACKLOG: usize = 4;

/// Why a dialog cannot be watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// The dialog has [`MAX_WATCHERS_PER_DIALOG`] watchers already.
    #[error("the dialog has {MAX_WATCHERS_PER_DIALOG} watchers already")]
    TooManyWatchers,
    /// [`MAX_WATCHED_DIALOGS`] dialogs are watched already.
    #[error("{MAX_WATCHED_DIALOGS} dialogs are watched already")]
    TooManyDialogs,
    /// The server is stopping.
    #[error("the server is stopping")]
    Closed,
}

/// The watchers of every dialog.
#[derive(Default)]
pub(super) struct DialogWatch {
    dialogs: DashMap<DialogKey, broadcast::Sender<ClientMessageRef>>,
    closed: AtomicBool,
}

impl DialogWatch {
    /// Subscribes to `key`'s new client messages. The subscription ends when the receiver is
    /// dropped, or with [`DialogWatch::close`].
    pub(super) fn subscribe(
        &self,
        key: &DialogKey,
    ) -> Result<broadcast::Receiver<ClientMessageRef>, WatchError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(WatchError::Closed);
        }
        if !self.dialogs.contains_key(key) && self.dialogs.len() >= MAX_WATCHED_DIALOGS {
            // Dialogs whose watchers all left keep their entry until room is needed.
            self.dialogs.retain(|_, tx| tx.receiver_count() > 0);
            if self.dialogs.len() >= MAX_WATCHED_DIALOGS {
                return Err(WatchError::TooManyDialogs);
            }
        }
        let tx = self
            .dialogs
            .entry(key.clone())
            .or_insert_with(|| broadcast::channel(BACKLOG).0);
        if tx.receiver_count() >= MAX_WATCHERS_PER_DIALOG {
            return Err(WatchError::TooManyWatchers);
        }
        Ok(tx.subscribe())
    }

    /// Tells `key`'s watchers that `message` was stored. Costs one map lookup when nobody
    /// watches, which is the ingest path's common case.
    pub(super) fn notify(&self, key: &DialogKey, message: ClientMessageRef) {
        let left = match self.dialogs.get(key) {
            Some(tx) => tx.send(message).is_err(),
            None => return,
        };
        if left {
            self.dialogs
                .remove_if(key, |_, tx| tx.receiver_count() == 0);
        }
    }

    /// Ends every subscription and refuses new ones: open event streams end, so that a
    /// graceful shutdown does not wait for them.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.dialogs.clear();
    }

    /// Dialogs with an entry (some may have no watcher left).
    pub(super) fn len(&self) -> usize {
        self.dialogs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Source;

    fn key(id: &str) -> DialogKey {
        DialogKey::new(Source::Chatwoot, "shop", id)
    }

    fn msg(id: &str) -> ClientMessageRef {
        ClientMessageRef {
            id: id.into(),
            sent_at_ms: 1,
        }
    }

    #[tokio::test]
    async fn watchers_hear_their_dialog_only() {
        let watch = DialogWatch::default();
        let mut a = watch.subscribe(&key("1")).unwrap();
        let mut b = watch.subscribe(&key("2")).unwrap();
        watch.notify(&key("1"), msg("m1"));
        assert_eq!(a.recv().await.unwrap().id, "m1");
        assert!(b.try_recv().is_err());
        watch.notify(&key("3"), msg("m3"));
        assert_eq!(watch.len(), 2, "an unwatched dialog gets no entry");
    }

    #[tokio::test]
    async fn entries_go_when_their_watchers_leave() {
        let watch = DialogWatch::default();
        drop(watch.subscribe(&key("1")).unwrap());
        watch.notify(&key("1"), msg("m1"));
        assert_eq!(watch.len(), 0);
    }

    #[tokio::test]
    async fn bounded_per_dialog_and_closable() {
        let watch = DialogWatch::default();
        let held: Vec<_> = (0..MAX_WATCHERS_PER_DIALOG)
            .map(|_| watch.subscribe(&key("1")).unwrap())
            .collect();
        assert_eq!(
            watch.subscribe(&key("1")).unwrap_err(),
            WatchError::TooManyWatchers
        );
        let mut one = watch.subscribe(&key("2")).unwrap();
        watch.close();
        assert!(matches!(
            one.recv().await,
            Err(broadcast::error::RecvError::Closed)
        ));
        assert_eq!(watch.subscribe(&key("3")).unwrap_err(), WatchError::Closed);
        drop(held);
    }
}

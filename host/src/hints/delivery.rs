//! How an answer reaches the operator, per `[sources.<x>] delivery`: the one decision every
//! entry point (a platform's hints webhook, `POST /api/v1/hints`, a new client message) makes
//! through [`Hints::deliver`] and [`Hints::note_on_client_message`].

use super::HintsError;
use super::callback::CallbackOutcome;
use super::note::{failure_reason, note_body, note_content, note_url};
use super::service::{HintQuery, Hints, Served};
use crate::core::Role;
use crate::ingest::{ChatwootApi, Delivery, Event, EventKind, SourcesConfig};

/// What [`Hints::deliver`] did with a request.
#[derive(Debug)]
pub enum Delivered {
    /// The answer belongs in the HTTP response (`inline`; `both`, whose callback is on its
    /// way too).
    Inline(Served),
    /// The hints go out in the background (`callback` to `callback_url`, `note` into the
    /// Chatwoot conversation): the request is only acknowledged.
    Accepted(Delivery),
}

impl Hints {
    /// Serves `query` the way its source and account are configured to receive hints. A
    /// source or account without settings gets the answer inline.
    pub async fn deliver(
        &self,
        query: HintQuery,
        sources: &SourcesConfig,
    ) -> Result<Delivered, HintsError> {
        let d = &query.dialog;
        let settings = sources.account(d.source, Some(&d.account)).ok();
        let delivery = settings.map_or(Delivery::Inline, |s| s.delivery);
        let callback_url = settings.and_then(|s| s.callback_url.map(str::to_owned));
        let chatwoot = sources.chatwoot_api(d.source, &d.account);
        match (delivery, callback_url, chatwoot) {
            (Delivery::Callback, Some(url), _) => {
                let this = self.clone();
                tokio::spawn(async move {
                    match this.request(query).await {
                        Ok(served) => this.spawn_callback(&served, url),
                        Err(e) => {
                            tracing::warn!(error = %e, "hints for a callback could not be computed")
                        }
                    }
                });
                Ok(Delivered::Accepted(Delivery::Callback))
            }
            (Delivery::Both, Some(url), _) => {
                let served = self.request(query).await?;
                self.spawn_callback(&served, url);
                Ok(Delivered::Inline(served))
            }
            (Delivery::Note, _, Some(api)) => {
                let this = self.clone();
                tokio::spawn(async move {
                    match this.request(query).await {
                        Ok(served) => this.post_note(&served, &api).await,
                        Err(e) => {
                            tracing::warn!(error = %e, "hints for a private note could not be computed")
                        }
                    }
                });
                Ok(Delivered::Accepted(Delivery::Note))
            }
            _ => Ok(Delivered::Inline(self.request(query).await?)),
        }
    }

    /// After a client message was stored: in `note` delivery, its conversation gets one
    /// private note once it has been quiet for `[hints] note_debounce_ms`, for the latest
    /// client message then. Other events and deliveries do nothing.
    pub fn note_on_client_message(&self, event: &Event, sources: &SourcesConfig) {
        let EventKind::MessageAdded { message } = &event.kind else {
            return;
        };
        if message.role != Role::Client || message.private {
            return;
        }
        let Some(dialog) = event.meta.dialog_key() else {
            return;
        };
        let Some(api) = sources.chatwoot_api(dialog.source, &dialog.account) else {
            return;
        };
        let Some(slot) = self.note_debounce().touch(&dialog) else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            this.note_debounce().settle(&dialog, slot).await;
            match this.request(HintQuery::new(dialog)).await {
                Ok(served) => this.post_note(&served, &api).await,
                Err(e) => {
                    tracing::warn!(error = %e, "hints for a private note could not be computed")
                }
            }
        });
    }

    /// Lasting failures of private notes, for `/readyz` warnings.
    pub fn note_warnings(&self) -> Vec<String> {
        self.note_failures().warnings()
    }

    /// Posts `served` as one private note (retried; skipped when a newer client message made
    /// it stale, since that message gets its own), counting and reporting the outcome. The
    /// access token goes only into the request header, never into a log line.
    async fn post_note(&self, served: &Served, api: &ChatwootApi) {
        let answer = &served.answer;
        let Some(content) = note_content(answer) else {
            metrics::counter!("hintd_chatwoot_notes_total", "outcome" => "empty").increment(1);
            return;
        };
        let url = note_url(api, &answer.dialog);
        let outcome = self
            .note_sender()
            .deliver_note(&url, &api.access_token, &note_body(&content), || {
                self.outdated(answer, &served.baseline)
            })
            .await;
        metrics::counter!("hintd_chatwoot_notes_total", "outcome" => outcome.label()).increment(1);
        if let Some(reason) = failure_reason(&outcome) {
            metrics::counter!("hintd_chatwoot_note_failures_total", "reason" => reason)
                .increment(1);
        }
        self.note_failures()
            .record(&answer.dialog.account, &outcome);
        let dialog = &answer.dialog;
        match &outcome {
            CallbackOutcome::Sent { attempts } => {
                tracing::debug!(%dialog, answer = %answer.id, attempts, "private note posted")
            }
            CallbackOutcome::Failed {
                attempts, error, ..
            } => {
                tracing::warn!(%dialog, answer = %answer.id, attempts, error = %error, "private note given up")
            }
            CallbackOutcome::Suppressed { attempts } => {
                tracing::info!(%dialog, answer = %answer.id, attempts, "private note suppressed: a newer client message arrived")
            }
        }
    }
}

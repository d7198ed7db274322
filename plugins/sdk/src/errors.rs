//! How the capabilities' errors become a [`ProviderError`], so `?` works in `suggest`.
//!
//! What the host is told follows whose fault it is: a capability the manifest does not
//! grant, or a host it does not allow, is `misconfigured`; a failing or slow peer or store
//! is `upstream`; a request the plugin built wrong is `internal`.

use crate::ProviderError;
use crate::http::{BodyError, HttpError, StatusError};
use crate::kv::{JsonError, KvError};

impl From<KvError> for ProviderError {
    fn from(e: KvError) -> Self {
        match e {
            KvError::Denied => {
                ProviderError::Misconfigured("kv: the manifest does not grant `kv`".into())
            }
            KvError::QuotaExceeded => {
                ProviderError::Internal("kv: the plugin's storage quota is used up".into())
            }
            KvError::InvalidKey => {
                ProviderError::Internal("kv: a key is empty or longer than the host allows".into())
            }
            KvError::Unavailable(why) => {
                ProviderError::Upstream(format!("kv: the store is unavailable: {why}"))
            }
        }
    }
}

impl From<JsonError> for ProviderError {
    fn from(e: JsonError) -> Self {
        match e {
            JsonError::Kv(e) => e.into(),
            other => ProviderError::Internal(other.to_string()),
        }
    }
}

impl From<HttpError> for ProviderError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Denied(why) => ProviderError::Misconfigured(format!("http: denied: {why}")),
            HttpError::InvalidRequest(why) => {
                ProviderError::Internal(format!("http: invalid request: {why}"))
            }
            HttpError::Timeout => ProviderError::Upstream("http: the request timed out".into()),
            HttpError::TooLarge => {
                ProviderError::Upstream("http: the response is larger than the host accepts".into())
            }
            HttpError::Transport(why) => ProviderError::Upstream(format!("http: {why}")),
        }
    }
}

impl From<StatusError> for ProviderError {
    fn from(e: StatusError) -> Self {
        ProviderError::Upstream(e.to_string())
    }
}

impl From<BodyError> for ProviderError {
    fn from(e: BodyError) -> Self {
        ProviderError::Upstream(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `?` makes of the error `r` inside a function returning `ProviderError`.
    fn question_mark<E>(r: Result<(), E>) -> ProviderError
    where
        ProviderError: From<E>,
    {
        let suggest = || -> Result<(), ProviderError> {
            r?;
            Ok(())
        };
        suggest().unwrap_err()
    }

    #[test]
    fn faults_are_told_by_whose_they_are() {
        assert!(
            matches!(question_mark(Err(KvError::Denied)), ProviderError::Misconfigured(m) if m.contains("`kv`"))
        );
        assert!(
            matches!(question_mark(Err(KvError::Unavailable("db down".into()))), ProviderError::Upstream(m) if m.contains("db down"))
        );
        assert!(
            matches!(question_mark(Err(HttpError::Denied("host not allowed".into()))), ProviderError::Misconfigured(m) if m.contains("host not allowed"))
        );
        assert!(matches!(
            question_mark(Err(HttpError::Timeout)),
            ProviderError::Upstream(_)
        ));
        assert!(
            matches!(question_mark(Err(HttpError::InvalidRequest("bad url".into()))), ProviderError::Internal(m) if m.contains("bad url"))
        );
        let status = StatusError {
            status: 502,
            body: "bad gateway".into(),
        };
        assert!(
            matches!(question_mark(Err(status)), ProviderError::Upstream(m) if m == "status 502: bad gateway")
        );
        let decode = crate::kv::decode::<u8>("n", b"[]").unwrap_err();
        assert!(
            matches!(question_mark(Err(decode)), ProviderError::Internal(m) if m.contains("`n`"))
        );
        assert!(
            matches!(question_mark(Err(JsonError::Kv(KvError::QuotaExceeded))), ProviderError::Internal(m) if m.contains("quota"))
        );
    }
}

//! `GET /api/v1/hints/stats/series`: acceptance per plugin over time, in UTC hour or day
//! buckets, from the same answers and filters as `GET /api/v1/hints/stats`.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::QueryParams;
use crate::app::App;
use crate::core::Source;
use crate::store::{SeriesFilter, SeriesPoint, StatsFilter};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Most buckets one request may span: bounds the answer and the chart that draws it.
pub const MAX_BUCKETS: i64 = 1000;
/// Span covered when `since_ms` is not given, in buckets: a week of hours, three months of
/// days.
const DEFAULT_HOURS: i64 = 7 * 24;
const DEFAULT_DAYS: i64 = 90;

/// The series route (admin key).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(series))
}

/// Bucket width.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// One UTC hour.
    Hour,
    /// One UTC day.
    Day,
}

impl Bucket {
    fn width_ms(self) -> i64 {
        match self {
            Bucket::Hour => HOUR_MS,
            Bucket::Day => DAY_MS,
        }
    }
}

/// Query of `GET /api/v1/hints/stats/series`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// `hour` or `day`.
    pub bucket: Bucket,
    /// Only answers for this source (`chat2desk`, `chatwoot`, `whazing`, `api`).
    #[param(value_type = Option<Source>)]
    pub source: Option<String>,
    /// Only answers for this account.
    pub account: Option<String>,
    /// Only answers served at or after this time, unix ms (default: 7 days of hours or 90
    /// days before `until_ms`).
    #[param(minimum = 0)]
    pub since_ms: Option<i64>,
    /// Only answers served before this time, unix ms (default: now).
    #[param(minimum = 0)]
    pub until_ms: Option<i64>,
}

/// Acceptance per plugin and bucket.
#[derive(Debug, Serialize, ToSchema)]
pub struct HintSeries {
    /// The bucket width asked for.
    pub bucket: Bucket,
    /// Width of a bucket, ms.
    pub bucket_ms: i64,
    /// Start of the span covered (the start of its first bucket), unix ms.
    pub since_ms: i64,
    /// End of the span covered (exclusive), unix ms.
    pub until_ms: i64,
    /// Only buckets in which a plugin was shown, by plugin, then time.
    pub points: Vec<SeriesPoint>,
}

/// Answers shown, answers with a choice and acceptance, per plugin and UTC time bucket.
#[utoipa::path(get, operation_id = "get_hint_series", path = "/api/v1/hints/stats/series",
    tag = "hints", params(SeriesQuery),
    responses(
        (status = 200, description = "Acceptance per plugin and bucket", body = HintSeries),
        (status = 400, description = "A query parameter is wrong (named in `field`)", body = ErrorBody)))]
async fn series(
    State(app): State<App>,
    QueryParams(q): QueryParams<SeriesQuery>,
) -> Result<Json<HintSeries>, ApiError> {
    if let Some(s) = &q.source
        && let Err(e) = s.parse::<Source>()
    {
        return Err(ApiError::invalid("source", format!("source {e}")));
    }
    let width = q.bucket.width_ms();
    let (since_ms, until_ms) = span(q.bucket, q.since_ms, q.until_ms, crate::core::now_ms())?;
    let points = app
        .store
        .hint_series(&SeriesFilter {
            stats: StatsFilter {
                source: q.source,
                account: q.account,
                since_ms: Some(since_ms),
            },
            until_ms,
            bucket_ms: width,
        })
        .await?;
    Ok(Json(HintSeries {
        bucket: q.bucket,
        bucket_ms: width,
        since_ms,
        until_ms,
        points,
    }))
}

/// The span asked for, its start floored to a bucket so the first bucket is whole; 400 naming
/// the parameter when it is negative, reversed or wider than [`MAX_BUCKETS`].
fn span(
    bucket: Bucket,
    since: Option<i64>,
    until: Option<i64>,
    now_ms: i64,
) -> Result<(i64, i64), ApiError> {
    let width = bucket.width_ms();
    for (field, v) in [("since_ms", since), ("until_ms", until)] {
        if v.is_some_and(|v| v < 0) {
            return Err(ApiError::invalid(
                field,
                format!("{field} must not be negative"),
            ));
        }
    }
    let until = until.unwrap_or(now_ms);
    let default_buckets = match bucket {
        Bucket::Hour => DEFAULT_HOURS,
        Bucket::Day => DEFAULT_DAYS,
    };
    let since = since.unwrap_or_else(|| until.saturating_sub(default_buckets * width).max(0));
    if since >= until {
        return Err(ApiError::invalid(
            "until_ms",
            "until_ms must be after since_ms",
        ));
    }
    // The first bucket is whole, so its counts compare with the others.
    let since = since - since % width;
    // Both ends are non-negative and ordered, so the difference cannot overflow; adding
    // `width - 1` to it could, near `i64::MAX`.
    let span = until - since;
    let buckets = span / width + i64::from(span % width != 0);
    if buckets > MAX_BUCKETS {
        return Err(ApiError::invalid(
            "since_ms",
            format!("the span holds {buckets} buckets; at most {MAX_BUCKETS}"),
        ));
    }
    Ok((since, until))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_floored_bounded_and_ordered() {
        let (s, u) = span(Bucket::Hour, Some(HOUR_MS + 5), Some(3 * HOUR_MS), 0).unwrap();
        assert_eq!((s, u), (HOUR_MS, 3 * HOUR_MS));
        let (s, _) = span(Bucket::Day, None, Some(100 * DAY_MS), 0).unwrap();
        assert_eq!(s, 10 * DAY_MS);
        assert!(span(Bucket::Hour, Some(0), Some(1000 * HOUR_MS), 0).is_ok());
        let too_wide = span(Bucket::Hour, Some(0), Some(1000 * HOUR_MS + 1), 0).unwrap_err();
        assert_eq!(too_wide.field.as_deref(), Some("since_ms"));
        let reversed = span(Bucket::Day, Some(5 * DAY_MS), Some(DAY_MS), 0).unwrap_err();
        assert_eq!(reversed.field.as_deref(), Some("until_ms"));
        assert!(span(Bucket::Day, Some(-1), None, 0).is_err());
        let huge = span(Bucket::Hour, Some(0), Some(i64::MAX), 0).unwrap_err();
        assert_eq!(huge.field.as_deref(), Some("since_ms"));
    }
}

//! The routes: Open Inference Protocol, JSON rows, metrics, admin.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::control::StrategyKind;
use super::errors::ApiError;
use super::oip::{self, InferRequest, InferResponse, ModelMetadata};
use super::service::Service;

/// Every route of the service.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/v2/health/live", get(|| async { Json(json!({ "live": true })) }))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{name}", get(metadata))
        .route("/v2/models/{name}/ready", get(model_ready))
        .route("/v2/models/{name}/infer", post(infer))
        .route("/predict", post(predict_rows))
        .route("/metrics", get(metrics))
        .route("/admin/rollout", get(admin_status))
        .route("/admin/rollout/{action}", post(admin_action))
        .layer(middleware::from_fn_with_state(Arc::clone(&service), count_responses))
        .with_state(service)
}

/// Counts every answer by status (for `/metrics`).
async fn count_responses(State(service): State<Arc<Service>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    service.count_response(response.status());
    response
}

async fn ready(State(service): State<Arc<Service>>) -> Response {
    let ready = service.is_ready();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({ "ready": ready }))).into_response()
}

async fn model_ready(State(service): State<Arc<Service>>, Path(name): Path<String>) -> Result<Response, ApiError> {
    service.check_model(&name)?;
    let ready = service.is_ready();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, Json(json!({ "name": name, "ready": ready }))).into_response())
}

async fn metadata(
    State(service): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<ModelMetadata>, ApiError> {
    service.authenticate(&headers, peer)?;
    service.check_model(&name)?;
    let live = service.live()?;
    Ok(Json(ModelMetadata {
        name,
        versions: live.deployment.state().loaded.iter().map(u64::to_string).collect(),
        platform: "mlops-rs".to_owned(),
        inputs: oip::tensors_of(&live.signature.to_arrow_schema()),
        outputs: oip::tensors_of(&live.outputs),
    }))
}

/// Authenticates, checks the model, throttles, then reads the body (within the
/// size limit): in that order, so that a refused client costs no body read.
async fn admitted_body(
    service: &Service,
    peer: SocketAddr,
    headers: &HeaderMap,
    name: Option<&str>,
    body: Body,
) -> Result<(axum::body::Bytes, tokio::sync::OwnedSemaphorePermit), ApiError> {
    let client = service.authenticate(headers, peer)?;
    if let Some(name) = name {
        service.check_model(name)?;
    }
    service.live()?;
    let permit = service.admit(&client)?;
    let bytes = axum::body::to_bytes(body, service.config.max_body_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body over {} bytes", service.config.max_body_bytes),
            )
        })?;
    Ok((bytes, permit))
}

async fn infer(
    State(service): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Json<InferResponse>, ApiError> {
    let (parts, body) = request.into_parts();
    let (bytes, _permit) = admitted_body(&service, peer, &parts.headers, Some(&name), body).await?;
    let request: InferRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("not an inference request: {e}")))?;
    let live = service.live()?;
    let batch =
        oip::request_to_batch(&request, &live.signature).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let answer = service.predict(&parts.headers, batch).await?;
    Ok(Json(InferResponse {
        model_name: name,
        model_version: answer.version.to_string(),
        id: request.id,
        parameters: json!({
            "rejected_rows": answer.prediction.rejected_rows,
            "flagged": answer.prediction.flagged,
        }),
        outputs: oip::batch_to_outputs(&answer.prediction.batch),
    }))
}

/// `POST /predict`: `{"rows": [{column: value, …}, …]}` or a bare array of rows.
async fn predict_rows(
    State(service): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (parts, body) = request.into_parts();
    let (bytes, _permit) = admitted_body(&service, peer, &parts.headers, None, body).await?;
    let body: Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("not JSON: {e}")))?;
    let rows = match &body {
        Value::Array(rows) => rows.as_slice(),
        Value::Object(o) => o
            .get("rows")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "expected {\"rows\": [{column: value, …}]} or an array of rows",
                )
            })?,
        _ => return Err(ApiError::new(StatusCode::BAD_REQUEST, "expected an array of rows")),
    };
    let live = service.live()?;
    // A column no row mentions is missing, not null: the same 400 as a
    // missing tensor. (A key absent from some rows only is a null there.)
    if !rows.is_empty()
        && let Some(field) = live
            .signature
            .fields
            .iter()
            .find(|f| rows.iter().all(|r| r.get(&f.name).is_none()))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("missing input column `{}` (no row has it)", field.name),
        ));
    }
    let batch =
        mlops_serve::rows_to_batch(rows, &live.signature, "request body").map_err(|e| ApiError::from_runtime(&e))?;
    let answer = service.predict(&parts.headers, batch).await?;
    Ok(Json(json!({
        "model": service.model,
        "version": answer.version,
        "predictions": mlops_serve::batch_to_rows(&answer.prediction.batch),
        "rejected_rows": answer.prediction.rejected_rows,
        "flagged": answer.prediction.flagged,
    })))
}

async fn metrics(State(service): State<Arc<Service>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        service.metrics_text(),
    )
        .into_response()
}

async fn admin_status(State(service): State<Arc<Service>>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    service.authenticate_admin(&headers)?;
    let live = service.live()?;
    let control = live.control.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(Json(control.status()))
}

/// `POST /admin/rollout/{start|promote|abort}` with `{"strategy": …}` or `{"reason": …}`.
async fn admin_action(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    Path(action): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    service.authenticate_admin(&headers)?;
    let live = service.live()?;
    let args: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("not JSON: {e}")))?
    };
    let reason = args.get("reason").and_then(Value::as_str).unwrap_or("admin request");
    let conflict = |e: String| ApiError::new(StatusCode::CONFLICT, e);
    // Control calls are short (a pointer swap, a record); hooks never block them.
    let mut control = live.control.lock().unwrap_or_else(PoisonError::into_inner);
    let status = match action.as_str() {
        "start" => {
            let name = args.get("strategy").and_then(Value::as_str).unwrap_or("canary");
            let kind = StrategyKind::parse(name).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
            control.start(kind).map_err(conflict)?
        }
        "promote" => control.promote(reason).map_err(conflict)?,
        "abort" => control.abort(reason).map_err(conflict)?,
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("unknown admin action `{other}` (start, promote, abort)"),
            ));
        }
    };
    tracing::info!(action = %action, "admin rollout action");
    Ok(Json(status))
}

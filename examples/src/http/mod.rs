//! An HTTP service template for a [`Deployment`](mlops_serve::deployment::Deployment):
//! the Open Inference Protocol (KServe v2), JSON rows, Prometheus metrics,
//! API keys, throttling and rollout control. The library stays server-free;
//! this is the code a user copies to put a model behind HTTP.
//!
//! | route | what |
//! |---|---|
//! | `GET /v2/health/live`, `GET /v2/health/ready` | liveness; readiness (503 until the model is loaded and smoke-tested) |
//! | `GET /v2/models/{name}` | metadata: inputs and outputs from the signature |
//! | `POST /v2/models/{name}/infer` | OIP inference |
//! | `POST /predict` | JSON rows in, JSON rows out |
//! | `GET /metrics` | Prometheus text |
//! | `GET /admin/rollout`, `POST /admin/rollout/{start,promote,abort}` | rollout control (admin key) |

pub mod auth;
pub mod control;
pub mod errors;
pub mod oip;
pub mod routes;
pub mod service;
pub mod throttle;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use routes::router;
pub use service::{Service, ServiceConfig};

/// Serves `service` on `listener` until `shutdown` resolves, then lets the
/// requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(service).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

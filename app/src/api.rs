//! JSON over HTTP to the server, with its error message when it refuses.

use gloo_net::http::{Request, RequestBuilder};
use protocol::ErrorBody;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn builder(method: &str, path: &str) -> RequestBuilder {
    match method {
        "POST" => Request::post(path),
        "PUT" => Request::put(path),
        "PATCH" => Request::patch(path),
        "DELETE" => Request::delete(path),
        _ => Request::get(path),
    }
}

/// Sends `body` (if any) and returns the answer's JSON, or the server's
/// reason for refusing, ready to show.
pub async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, String> {
    let response = send(method, path, body).await?;
    response
        .json()
        .await
        .map_err(|_| "Unexpected answer from the server.".to_owned())
}

/// Like [`call`] for answers without a body (204).
pub async fn call_empty(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<(), String> {
    send(method, path, body).await.map(|_| ())
}

/// Uploads a file as the body of `POST /api/files?name=…`; the file as
/// the server kept it (its type decided from its content), or why not.
pub async fn upload(file: &web_sys::File) -> Result<protocol::FileRef, String> {
    let path = format!(
        "/api/files?name={}",
        js_sys::encode_uri_component(&file.name())
    );
    let request = Request::post(&path)
        .body(wasm_bindgen::JsValue::from(file.clone()))
        .map_err(|_| "Could not prepare the upload.".to_owned())?;
    let response = request
        .send()
        .await
        .map_err(|_| "The server cannot be reached; try again.".to_owned())?;
    let response = refused(response).await?;
    response
        .json()
        .await
        .map_err(|_| "Unexpected answer from the server.".to_owned())
}

async fn send(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<gloo_net::http::Response, String> {
    let request = match body {
        Some(body) => builder(method, path)
            .json(body)
            .map_err(|_| "Could not prepare the request.".to_owned())?,
        None => builder(method, path)
            .build()
            .map_err(|_| "Could not prepare the request.".to_owned())?,
    };
    let response = request
        .send()
        .await
        .map_err(|_| "The server cannot be reached; try again.".to_owned())?;
    refused(response).await
}

/// The answer if it is a success, else the server's reason.
async fn refused(response: gloo_net::http::Response) -> Result<gloo_net::http::Response, String> {
    if response.ok() {
        return Ok(response);
    }
    Err(response.json::<ErrorBody>().await.map_or_else(
        |_| format!("The server refused ({}).", response.status()),
        |b| b.error.message,
    ))
}

/// No body: for `call(…, NONE)`.
pub const NONE: Option<&()> = None;

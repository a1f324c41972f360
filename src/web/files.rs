//! The model files in the browser: downloaded in chunks with progress, checked against the
//! manifest, and kept in the Cache API for the next visit (offline too).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use js_sys::{Reflect, Uint8Array};

use super::js::{describe, js_error, lab_error, weights_error};
use crate::weights::{self, FileEntry};

/// fetch() from the window or the worker global scope.
pub(super) async fn fetch(url: &str) -> Result<web_sys::Response, JsValue> {
    let global = js_sys::global();
    let promise = if let Some(w) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        w.fetch_with_str(url)
    } else if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        w.fetch_with_str(url)
    } else {
        return Err(js_error("no fetch() in this context"));
    };
    let resp: web_sys::Response =
        JsFuture::from(promise).await.map_err(|e| weights_error(format!("could not download {url}: {}", describe(&e))))?.dyn_into()?;
    if !resp.ok() {
        return Err(weights_error(format!("could not download {url}: HTTP {} {}", resp.status(), resp.status_text())));
    }
    Ok(resp)
}

/// A manifest is a few hundred bytes; anything past this is not one (and must not fill the memory).
pub(super) const MANIFEST_MAX_BYTES: usize = 1 << 20;

/// Downloads `url` chunk by chunk, calling `on_bytes(n)` as bytes arrive; a body longer than
/// `max_bytes` (the manifest's size for a model file) is cut off with an error, not buffered.
pub(super) async fn download(url: &str, max_bytes: usize, mut on_bytes: impl FnMut(usize)) -> Result<Vec<u8>, JsValue> {
    let resp = fetch(url).await?;
    let body = resp.body().ok_or_else(|| weights_error(format!("{url}: empty response body")))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().dyn_into()?;
    let mut out = Vec::new();
    loop {
        let chunk =
            JsFuture::from(reader.read()).await.map_err(|e| weights_error(format!("download of {url} broke off: {}", describe(&e))))?;
        if Reflect::get(&chunk, &"done".into())?.as_bool().unwrap_or(true) {
            break;
        }
        let bytes: Uint8Array = Reflect::get(&chunk, &"value".into())?.dyn_into()?;
        let start = out.len();
        if start + bytes.length() as usize > max_bytes {
            let _ = reader.cancel();
            return Err(weights_error(format!("{url} is larger than the {max_bytes} bytes the manifest gives for it")));
        }
        out.resize(start + bytes.length() as usize, 0);
        bytes.copy_to(&mut out[start..]);
        on_bytes(bytes.length() as usize);
    }
    Ok(out)
}

/// The Cache API store of model files, when the context offers one (it does not on plain http
/// origins other than localhost, nor in some private modes): then everything just downloads.
pub(super) async fn open_cache() -> Option<web_sys::Cache> {
    let global = js_sys::global();
    let storage = if let Some(w) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        w.caches().ok()?
    } else {
        global.dyn_ref::<web_sys::Window>()?.caches().ok()?
    };
    JsFuture::from(storage.open(MODEL_CACHE)).await.ok()?.dyn_into().ok()
}

const MODEL_CACHE: &str = "diffusion-lab-models";

pub(super) async fn cache_get(cache: &web_sys::Cache, url: &str) -> Option<Vec<u8>> {
    let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    let resp: web_sys::Response = hit.dyn_into().ok()?;
    let buf = JsFuture::from(resp.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buf).to_vec())
}

/// Stores a verified file. A full quota or a refused write only costs the next visit a download;
/// the error says why the browser refused it (the DOMException's name and message, e.g.
/// "QuotaExceededError: …"), for the load to report.
pub(super) async fn cache_put(cache: &web_sys::Cache, url: &str, bytes: &mut [u8]) -> Result<(), String> {
    let why = |e: JsValue| e.dyn_ref::<js_sys::Error>().map_or_else(|| describe(&e), |e| format!("{}: {}", e.name(), e.message()));
    let resp = web_sys::Response::new_with_opt_u8_array(Some(bytes)).map_err(why)?;
    JsFuture::from(cache.put_with_str(url, &resp)).await.map(|_| ()).map_err(why)
}

/// A model file, from the cache when a copy there matches the manifest's size and sha256,
/// else downloaded (and then verified and cached). A tampered or stale cached copy is replaced.
/// Why the cache refused the file, if it did, goes to `cache_warning` (the first reason stays).
pub(super) async fn model_file(
    cache: Option<&web_sys::Cache>,
    url: &str,
    entry: &FileEntry,
    cache_warning: &mut Option<String>,
    on_bytes: impl FnMut(usize),
) -> Result<Vec<u8>, JsValue> {
    let mut on_bytes = on_bytes;
    if let Some(cache) = cache {
        if let Some(bytes) = cache_get(cache, url).await {
            if weights::verify(entry, &bytes).is_ok() {
                on_bytes(bytes.len());
                return Ok(bytes);
            }
        }
    }
    let max_bytes = usize::try_from(entry.bytes).unwrap_or(usize::MAX);
    let mut bytes = download(url, max_bytes, on_bytes).await?;
    weights::verify(entry, &bytes).map_err(lab_error)?;
    if let Some(cache) = cache {
        if let Err(why) = cache_put(cache, url, &mut bytes).await {
            cache_warning.get_or_insert(why);
        }
    }
    Ok(bytes)
}

pub(super) fn resolve(base: &str, name: &str) -> Result<String, JsValue> {
    Ok(web_sys::Url::new_with_base(name, base)?.href())
}

//! Lets the browser's event loop run between two CPU-bound steps of a run, so that a "cancel"
//! message reaches the worker in time; natively there is nothing to wait for.

#[cfg(target_arch = "wasm32")]
pub async fn yield_now() {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let global = js_sys::global();
        if let Ok(set_timeout) = Reflect::get(&global, &"setTimeout".into()).and_then(|f| f.dyn_into::<Function>()) {
            let _ = set_timeout.call2(&global, &resolve, &JsValue::from(0));
        } else {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[cfg(not(target_arch = "wasm32"))]
pub async fn yield_now() {}

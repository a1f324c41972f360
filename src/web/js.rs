//! JS values for the wasm API: errors with a `code`, plain objects, options read strictly.

use js_sys::{Object, Reflect, Uint8ClampedArray};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::pipeline;
use crate::Error;

pub(super) fn js_error_code(message: &str, code: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    let _ = Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

pub(super) fn js_error(e: impl std::fmt::Display) -> JsValue {
    js_error_code(&e.to_string(), "other")
}

pub(super) fn lab_error(e: Error) -> JsValue {
    js_error_code(&e.to_string(), e.code())
}

/// A model file (or the manifest) that could not be had: code "weights".
pub(super) fn weights_error(message: String) -> JsValue {
    lab_error(Error::Weights(message))
}

pub(super) fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

pub(super) fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // setting a property on a fresh plain object cannot fail
    let _ = Reflect::set(obj, &key.into(), &value.into());
}

pub(super) fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map_or_else(|| format!("{e:?}"), |e| String::from(e.message()))
}

/// Options from JS: undefined or null for the defaults, else a plain object whose every key is a
/// field of `T` (serde-wasm-bindgen alone would let `{stpes: 50}` or a string pass as defaults).
pub(super) fn read_options<T: Default + for<'de> Deserialize<'de>>(options: JsValue) -> Result<T, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(T::default());
    }
    let input = |m: String| lab_error(Error::Input(m));
    let known = pipeline::field_names::<T>();
    if !options.is_object() || js_sys::Array::is_array(&options) || options.is_function() {
        let what = if js_sys::Array::is_array(&options) {
            "an array".to_string()
        } else {
            format!("a {}", options.js_typeof().as_string().unwrap_or_default())
        };
        return Err(input(format!("options must be an object such as {{ {}: … }}, got {what}", known.first().unwrap_or(&"steps"))));
    }
    for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(input(format!("options: unknown option {key:?} (known: {})", known.join(", "))));
        }
    }
    serde_wasm_bindgen::from_value(options).map_err(|e| {
        let why = e.to_string();
        input(format!("options: {}", why.strip_prefix("Error: ").unwrap_or(&why)))
    })
}

pub(super) fn rgba_array(bytes: &[u8]) -> Uint8ClampedArray {
    let a = Uint8ClampedArray::new_with_length(bytes.len() as u32);
    a.copy_from(bytes);
    a
}

/// A Rust value as a plain JS object (None as null, as the page tests `== null`).
pub(super) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true)).map_err(js_error)
}

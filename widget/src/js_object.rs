//! Reading the plain JS objects the loader hands over (the server's config,
//! the page's context) field by field. Deriving serde for them instead cost
//! the widget several KB of WASM.

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};

fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `object[key]` if it is a string.
pub fn string(object: &JsValue, key: &str) -> Option<String> {
    field(object, key).as_string()
}

/// `object[key]` if it is `true`.
pub fn flag(object: &JsValue, key: &str) -> bool {
    field(object, key).as_bool().unwrap_or(false)
}

/// `object[key]` if it is an object (not null).
pub fn object(object: &JsValue, key: &str) -> Option<JsValue> {
    Some(field(object, key)).filter(JsValue::is_object)
}

/// The items of the array `object[key]`; none if it is not an array.
pub fn items(object: &JsValue, key: &str) -> Vec<JsValue> {
    field(object, key)
        .dyn_into::<Array>()
        .map(|array| array.iter().collect())
        .unwrap_or_default()
}

/// The strings of the array `object[key]`, other items skipped.
pub fn strings(object: &JsValue, key: &str) -> Vec<String> {
    items(object, key)
        .iter()
        .filter_map(JsValue::as_string)
        .collect()
}

//! Reading plain JSON-shaped objects field by field: the loader's JS objects
//! (the server's config, the page's context) and the server's frames after
//! the browser's `JSON.parse`. Deriving serde for them instead cost the
//! widget several KB of WASM.
//!
//! The readers are written against [`JsonView`], so the very code the
//! widget runs can be checked on the host against `serde_json` values.

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// A JSON value as the readers need it.
pub(crate) trait JsonView: Sized {
    /// `self[key]`; a missing field reads as null/undefined.
    fn field(&self, key: &str) -> Self;
    fn text(&self) -> Option<String>;
    fn number(&self) -> Option<f64>;
    fn boolean(&self) -> Option<bool>;
    /// Whether this is an object (not null, not an array).
    fn is_object(&self) -> bool;
    /// The first key of an object.
    fn first_key(&self) -> Option<String>;
    /// The items of an array; none if it is not one.
    fn list(&self) -> Vec<Self>;
}

impl JsonView for JsValue {
    fn field(&self, key: &str) -> JsValue {
        Reflect::get(self, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    fn text(&self) -> Option<String> {
        self.as_string()
    }

    fn number(&self) -> Option<f64> {
        self.as_f64()
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn is_object(&self) -> bool {
        JsValue::is_object(self) && !Array::is_array(self)
    }

    fn first_key(&self) -> Option<String> {
        js_sys::Object::keys(self.dyn_ref::<js_sys::Object>()?)
            .get(0)
            .as_string()
    }

    fn list(&self) -> Vec<JsValue> {
        self.dyn_ref::<Array>()
            .map(|array| array.iter().collect())
            .unwrap_or_default()
    }
}

/// `object[key]` if it is a string.
pub(crate) fn string<J: JsonView>(object: &J, key: &str) -> Option<String> {
    object.field(key).text()
}

/// `object[key]` if it is `true`.
pub(crate) fn flag<J: JsonView>(object: &J, key: &str) -> bool {
    object.field(key).boolean().unwrap_or(false)
}

/// `object[key]` if it is an object (not null).
pub(crate) fn object<J: JsonView>(object: &J, key: &str) -> Option<J> {
    Some(object.field(key)).filter(JsonView::is_object)
}

/// The items of the array `object[key]`; none if it is not an array.
pub(crate) fn items(object: &JsValue, key: &str) -> Vec<JsValue> {
    object.field(key).list()
}

/// The strings of the array `object[key]`, other items skipped.
pub(crate) fn strings(object: &JsValue, key: &str) -> Vec<String> {
    items(object, key)
        .iter()
        .filter_map(JsValue::as_string)
        .collect()
}

#[cfg(test)]
impl JsonView for serde_json::Value {
    fn field(&self, key: &str) -> serde_json::Value {
        self.get(key).cloned().unwrap_or(serde_json::Value::Null)
    }

    fn text(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }

    fn number(&self) -> Option<f64> {
        self.as_f64()
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn is_object(&self) -> bool {
        serde_json::Value::is_object(self)
    }

    fn first_key(&self) -> Option<String> {
        self.as_object()?.keys().next().cloned()
    }

    fn list(&self) -> Vec<serde_json::Value> {
        self.as_array().cloned().unwrap_or_default()
    }
}

//! Times as the shopper reads them, in their browser's language and time
//! zone: "14:02" beside each message, and the day above the first of each.

use js_sys::{Date, Object, Reflect};
use wasm_bindgen::JsValue;

fn date(ms: i64) -> Date {
    Date::new(&JsValue::from_f64(ms as f64))
}

fn options(pairs: &[(&str, &str)]) -> JsValue {
    let options = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    options.into()
}

/// "14:02".
pub(crate) fn time(ms: i64, locale: &str) -> String {
    date(ms)
        .to_locale_time_string_with_options(
            locale,
            &options(&[("hour", "2-digit"), ("minute", "2-digit")]),
        )
        .into()
}

/// The calendar day `ms` falls on, to tell days apart.
pub(crate) fn day(ms: i64) -> String {
    date(ms).to_date_string().into()
}

/// `today`, `yesterday`, or the date ("Mon 30 Nov").
pub(crate) fn day_label(ms: i64, locale: &str, today: &str, yesterday: &str) -> String {
    let now = Date::now() as i64;
    let this = day(ms);
    if this == day(now) {
        today.to_owned()
    } else if this == day(now - 86_400_000) {
        yesterday.to_owned()
    } else {
        date(ms)
            .to_locale_date_string(
                locale,
                &options(&[("weekday", "short"), ("day", "numeric"), ("month", "short")]),
            )
            .into()
    }
}

//! Times as the agent reads them: in their browser's language and time
//! zone ("14:02", "Today", "Mon 30 Nov"), or on the shopper's clock.

use js_sys::{Date, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// `date.toLocaleTimeString(locale, options)`, which throws for a time
/// zone the browser does not know: called so that the throw is an `Err`.
fn time_string(date: &Date, locale: &str, options: &JsValue) -> Result<String, JsValue> {
    let method: Function =
        Reflect::get(date, &JsValue::from_str("toLocaleTimeString"))?.dyn_into()?;
    method
        .call2(date, &JsValue::from_str(locale), options)?
        .as_string()
        .ok_or(JsValue::NULL)
}

/// The browser's language tag, for formatting.
fn locale() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().language())
        .unwrap_or_else(|| "en".to_owned())
}

fn options(pairs: &[(&str, &str)]) -> JsValue {
    let options = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    options.into()
}

fn date(ms: i64) -> Date {
    Date::new(&JsValue::from_f64(ms as f64))
}

/// "14:02" (in `zone`, an IANA name, when given; else the reader's).
pub fn time_of_day(ms: i64, zone: Option<&str>) -> String {
    let mut pairs = vec![("hour", "2-digit"), ("minute", "2-digit")];
    if let Some(zone) = zone {
        pairs.push(("timeZone", zone));
    }
    let at = date(ms);
    // An unknown zone throws: fall back to the reader's clock.
    time_string(&at, &locale(), &options(&pairs))
        .or_else(|_| time_string(&at, &locale(), &options(&pairs[..2])))
        .unwrap_or_default()
}

/// Whether two instants fall on the same day on the reader's calendar.
pub fn same_day(a: i64, b: i64) -> bool {
    date(a).to_date_string() == date(b).to_date_string()
}

/// "Today", "Yesterday", or "Mon 30 Nov" on the reader's calendar.
pub fn day_label(ms: i64) -> String {
    let now = Date::now() as i64;
    if same_day(ms, now) {
        "Today".to_owned()
    } else if same_day(ms, now - 24 * 3600 * 1000) {
        "Yesterday".to_owned()
    } else {
        String::from(date(ms).to_locale_date_string(
            &locale(),
            &options(&[("weekday", "short"), ("day", "numeric"), ("month", "short")]),
        ))
    }
}

/// "30 Nov 2026" (in the reader's language, as every date here is).
pub fn date_only(ms: i64) -> String {
    String::from(date(ms).to_locale_date_string(
        &locale(),
        &options(&[("day", "numeric"), ("month", "short"), ("year", "numeric")]),
    ))
}

/// "30 Nov 2026, 14:02".
pub fn date_and_time(ms: i64) -> String {
    format!("{}, {}", date_only(ms), time_of_day(ms, None))
}

/// The time now on a clock in `zone` (an IANA name), as the reader writes times.
pub fn now_in(zone: &str) -> String {
    time_of_day(Date::now() as i64, Some(zone))
}

/// "14:02" today, else "Mon 30 Nov 14:02": when something last happened.
pub fn when(ms: i64) -> String {
    let time = time_of_day(ms, None);
    if same_day(ms, Date::now() as i64) {
        time
    } else {
        format!("{} {time}", day_label(ms))
    }
}

//! Help articles (issue in progress): what owners write for shoppers to
//! read before they ask. So far: their Markdown made into HTML that is safe
//! inside the widget, the inbox and the public help pages.

pub mod markdown;

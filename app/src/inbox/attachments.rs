//! Files in the inbox: the agent's files on their way into a reply (picked,
//! pasted or dropped, uploaded at once, each removable or sent again after
//! a failure), and how a message's files and links are shown.

use leptos::prelude::*;
use protocol::{FileRef, Segment};

/// A file the agent attached to the reply being written.
#[derive(Clone, Debug, PartialEq)]
pub struct Attaching {
    /// Stable while it is shown.
    pub key: u32,
    pub file: web_sys::File,
    pub state: Upload,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Upload {
    Sending,
    Ready(FileRef),
    Failed(String),
}

/// The reply's files, as the composer holds them.
#[derive(Clone, Copy, Debug)]
pub struct Tray {
    pub items: RwSignal<Vec<Attaching>>,
    next_key: StoredValue<u32>,
}

impl Tray {
    pub fn new() -> Tray {
        Tray {
            items: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
        }
    }

    /// Uploads each file of `list`, at most [`protocol::MAX_FILES_PER_MESSAGE`] in all.
    pub fn add(self, list: Option<web_sys::FileList>) {
        let Some(list) = list else { return };
        for index in 0..list.length() {
            if self.items.with_untracked(Vec::len) >= protocol::MAX_FILES_PER_MESSAGE {
                break;
            }
            if let Some(file) = list.get(index) {
                let key = self.next_key.get_value();
                self.next_key.set_value(key + 1);
                self.items.update(|items| {
                    items.push(Attaching {
                        key,
                        file: file.clone(),
                        state: Upload::Sending,
                    });
                });
                self.send(key, file);
            }
        }
    }

    /// Uploads (again) the file under `key`.
    pub fn send(self, key: u32, file: web_sys::File) {
        self.set(key, Upload::Sending);
        leptos::task::spawn_local(async move {
            let state = match crate::api::upload(&file).await {
                Ok(stored) => Upload::Ready(stored),
                Err(reason) => Upload::Failed(reason),
            };
            self.set(key, state);
        });
    }

    fn set(self, key: u32, state: Upload) {
        self.items.update(|items| {
            if let Some(item) = items.iter_mut().find(|i| i.key == key) {
                item.state = state;
            }
        });
    }

    pub fn remove(self, key: u32) {
        self.items.update(|items| items.retain(|i| i.key != key));
    }

    /// Whether a file is still on its way.
    pub fn busy(self) -> bool {
        self.items
            .with_untracked(|items| items.iter().any(|i| i.state == Upload::Sending))
    }

    /// The files ready to go with the reply.
    pub fn ready(self) -> Vec<FileRef> {
        self.items.with_untracked(|items| {
            items
                .iter()
                .filter_map(|i| match &i.state {
                    Upload::Ready(file) => Some(file.clone()),
                    _ => None,
                })
                .collect()
        })
    }
}

/// The files on their way, above the reply box.
#[component]
pub fn TrayView(tray: Tray) -> impl IntoView {
    view! {
        <ul class="tray" aria-live="polite">
            <For each=move || tray.items.get() key=|item| (item.key, format!("{:?}", item.state))
                children=move |item| {
                    let key = item.key;
                    let file = item.file.clone();
                    let name = item.file.name();
                    let state = match item.state {
                        Upload::Sending => view! { <progress aria-label=format!("Uploading {name}")></progress> }.into_any(),
                        Upload::Ready(stored) => view! { <span class="size">{stored.size_text()}</span> }.into_any(),
                        Upload::Failed(reason) => view! {
                            <span class="error">{reason}</span>
                            <button type="button" class="link" on:click=move |_| tray.send(key, file.clone())>"Retry"</button>
                        }.into_any(),
                    };
                    view! {
                        <li class="tray-file">
                            <span class="name">{item.file.name()}</span>
                            {state}
                            <button type="button" class="link" on:click=move |_| tray.remove(key)>"Remove"</button>
                        </li>
                    }
                } />
        </ul>
    }
}

/// A message's text, its `http`/`https` links made links (new tab, the
/// linked page told nothing); nothing else is ever markup.
pub fn linked(text: &str) -> impl IntoView + use<> {
    protocol::segments(text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(plain) => plain.to_owned().into_any(),
            Segment::Link(link) => view! {
                <a href=link.to_owned() target="_blank" rel="noopener noreferrer nofollow">{link.to_owned()}</a>
            }
            .into_any(),
        })
        .collect_view()
}

/// A message's files: pictures as thumbnails that open full size, other
/// files as a named download with their size.
pub fn shown(files: Vec<FileRef>) -> impl IntoView {
    files
        .into_iter()
        .map(|file| {
            let size = file.size_text();
            let (href, name) = (file.url.clone(), file.name.clone());
            if file.is_image() {
                view! {
                    <a class="file image" href=href target="_blank" rel="noopener noreferrer">
                        <img src=file.url alt=file.name loading="lazy" />
                    </a>
                }
                .into_any()
            } else {
                view! {
                    <a class="file" href=href download=name rel="noopener noreferrer">
                        {file.name}" ("{size}")"
                    </a>
                }
                .into_any()
            }
        })
        .collect_view()
}

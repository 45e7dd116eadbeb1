//! Help articles in the console: each site's articles with how they did
//! (views, "answered my question", still asked for a person, read and
//! never asked), and the editor: per language, a collection, a title, a
//! one-line description, the Markdown body with a preview as shoppers will
//! see it, draft or published, and every save in the history. Owners
//! write; agents where the site allows it (the server decides).

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{ArticleEdit, ArticlePreview, ArticleView, SaveArticle, WIDGET_LANGUAGES};
use serde::Deserialize;

use crate::api::{NONE, call, call_empty};

/// A site as `GET /api/articles/sites` gives it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct ArticleSite {
    id: String,
    name: String,
    help_url: String,
    may_write: bool,
}

/// The article and language being edited; `None`: a new article.
#[derive(Clone, Debug, PartialEq)]
struct Editing {
    id: Option<String>,
    language: String,
}

/// The editor's fields.
#[derive(Clone, Debug, Default, PartialEq)]
struct Fields {
    collection: String,
    title: String,
    description: String,
    body: String,
    published: bool,
}

#[component]
pub fn Articles() -> impl IntoView {
    let sites = RwSignal::new(Vec::<ArticleSite>::new());
    let site = RwSignal::new(None::<String>);
    let list = RwSignal::new(Vec::<ArticleView>::new());
    let editing = RwSignal::new(None::<Editing>);
    let fields = RwSignal::new(Fields::default());
    let preview = RwSignal::new(String::new());
    let history = RwSignal::new(Vec::<ArticleEdit>::new());
    let problem = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);

    let load_list = move || {
        let Some(id) = site.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match call::<Vec<ArticleView>>("GET", &format!("/api/articles?site={id}"), NONE).await {
                Ok(found) => list.set(found),
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    spawn_local(async move {
        match call::<Vec<ArticleSite>>("GET", "/api/articles/sites", NONE).await {
            Ok(found) => {
                site.set(found.first().map(|s| s.id.clone()));
                sites.set(found);
                load_list();
            }
            Err(message) => problem.set(Some(message)),
        }
    });
    let chosen = move || {
        let id = site.get();
        sites.with(|all| all.iter().find(|s| Some(&s.id) == id.as_ref()).cloned())
    };
    // Fills the editor with the article's text in `language` (blank if it
    // has none yet), and its history.
    let edit = move |id: Option<String>, language: String| {
        let article = id
            .as_ref()
            .and_then(|id| list.with_untracked(|l| l.iter().find(|a| &a.id == id).cloned()));
        let text = article
            .as_ref()
            .and_then(|a| a.texts.iter().find(|t| t.language == language).cloned());
        fields.set(Fields {
            collection: article
                .as_ref()
                .map(|a| a.collection.clone())
                .unwrap_or_default(),
            title: text.as_ref().map(|t| t.title.clone()).unwrap_or_default(),
            description: text
                .as_ref()
                .map(|t| t.description.clone())
                .unwrap_or_default(),
            body: text.as_ref().map(|t| t.body.clone()).unwrap_or_default(),
            published: text.as_ref().is_some_and(|t| t.published),
        });
        preview.set(String::new());
        history.set(Vec::new());
        problem.set(None);
        notice.set(None);
        if let Some(id) = id.clone() {
            spawn_local(async move {
                if let Ok(found) =
                    call::<Vec<ArticleEdit>>("GET", &format!("/api/articles/{id}/history"), NONE)
                        .await
                {
                    history.set(found);
                }
            });
        }
        editing.set(Some(Editing { id, language }));
    };
    let show_preview = move || {
        let body = fields.with_untracked(|f| f.body.clone());
        spawn_local(async move {
            match call::<ArticlePreview>(
                "POST",
                "/api/articles/preview",
                Some(&serde_json::json!({ "body": body })),
            )
            .await
            {
                Ok(shown) => preview.set(shown.html),
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(Editing { id, language }) = editing.get_untracked() else {
            return;
        };
        let f = fields.get_untracked();
        let draft = SaveArticle {
            site_id: site.get_untracked(),
            language: Some(language.clone()),
            collection: f.collection,
            title: f.title,
            description: f.description,
            body: f.body,
            published: f.published,
        };
        spawn_local(async move {
            let saved = match &id {
                Some(id) => {
                    call::<ArticleView>(
                        "PUT",
                        &format!("/api/articles/{id}/{language}"),
                        Some(&draft),
                    )
                    .await
                }
                None => call::<ArticleView>("POST", "/api/articles", Some(&draft)).await,
            };
            match saved {
                Ok(view) => {
                    problem.set(None);
                    notice.set(Some(if draft.published {
                        "Saved and published.".to_owned()
                    } else {
                        "Saved as a draft: shoppers do not see it.".to_owned()
                    }));
                    editing.set(Some(Editing {
                        id: Some(view.id.clone()),
                        language,
                    }));
                    let id = view.id.clone();
                    list.update(|l| match l.iter_mut().find(|a| a.id == view.id) {
                        Some(old) => *old = view,
                        None => l.push(view),
                    });
                    if let Ok(found) = call::<Vec<ArticleEdit>>(
                        "GET",
                        &format!("/api/articles/{id}/history"),
                        NONE,
                    )
                    .await
                    {
                        history.set(found);
                    }
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    let delete = move || {
        let Some(Editing { id: Some(id), .. }) = editing.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match call_empty("DELETE", &format!("/api/articles/{id}"), NONE).await {
                Ok(()) => {
                    editing.set(None);
                    load_list();
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    let field = move |get: fn(&Fields) -> String, set: fn(&mut Fields, String)| {
        (
            move || fields.with(get),
            move |ev: leptos::ev::Event| fields.update(|f| set(f, event_target_value(&ev))),
        )
    };
    let (collection, set_collection) = field(|f| f.collection.clone(), |f, v| f.collection = v);
    let (title, set_title) = field(|f| f.title.clone(), |f, v| f.title = v);
    let (description, set_description) = field(|f| f.description.clone(), |f, v| f.description = v);
    let (body, set_body) = field(|f| f.body.clone(), |f, v| f.body = v);

    view! {
        <section class="articles">
            <h2>"Help articles"</h2>
            <p>"Shoppers find these in the chat (the help button, and up to three offered after their first question) and on the site's public help pages. Agents send one from a reply with /a and a word."</p>
            <div class="articles-site">
                <label>"Site "
                    <select on:change=move |ev| { site.set(Some(event_target_value(&ev))); editing.set(None); load_list(); }
                        prop:value=move || site.get().unwrap_or_default()>
                        {move || sites.get().into_iter().map(|s| view! { <option value=s.id.clone()>{s.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                {move || chosen().map(|s| view! {
                    " " <a href=s.help_url.clone() target="_blank" rel="noopener">"Public help pages"</a>
                    {(!s.may_write).then_some(" (only owners write this site's articles)")}
                })}
                " " <button type="button" on:click=move |_| edit(None, "en".to_owned())>"New article"</button>
            </div>
            <table class="articles-list">
                <thead><tr>
                    <th scope="col">"Article"</th><th scope="col">"Languages"</th><th scope="col">"Collection"</th>
                    <th scope="col">"Views"</th><th scope="col">"Answered"</th><th scope="col">"Still asked"</th>
                    <th scope="col">"Read, never asked"</th>
                </tr></thead>
                <tbody>
                    {move || list.get().into_iter().map(|article| {
                        let name = article.texts.first().map(|t| t.title.clone()).unwrap_or_default();
                        let languages = article.texts.iter()
                            .map(|t| format!("{}{}", t.language, if t.published { "" } else { " (draft)" }))
                            .collect::<Vec<_>>().join(", ");
                        let first = article.texts.first().map(|t| t.language.clone()).unwrap_or_else(|| "en".into());
                        let id = article.id.clone();
                        view! {
                            <tr>
                                <td><button type="button" class="link" on:click=move |_| edit(Some(id.clone()), first.clone())>{name}</button></td>
                                <td>{languages}</td>
                                <td>{article.collection.clone()}</td>
                                <td>{article.stats.views}</td>
                                <td>{article.stats.answered}</td>
                                <td>{article.stats.talked}</td>
                                <td>{article.stats.self_served}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <p class="hint">"Counts cover the last 90 days. \"Read, never asked\": the shopper said it answered their question and started no conversation after it."</p>
            {move || editing.get().map(|Editing { id, language }| {
                let id_for_language = id.clone();
                view! {
                    <form class="article-editor" on:submit=save>
                        <h3>{if id.is_some() { "Edit article" } else { "New article" }}</h3>
                        <label>"Language "
                            <select name="article-language" prop:value=language.clone()
                                on:change=move |ev| edit(id_for_language.clone(), event_target_value(&ev))>
                                {WIDGET_LANGUAGES.iter().map(|code| view! { <option value=*code>{protocol::language_name(code)}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"Collection " <input name="article-collection" placeholder="Returns and refunds"
                            prop:value=collection on:input=set_collection /></label>
                        <label>"Title " <input name="article-title" required maxlength="200"
                            prop:value=title on:input=set_title /></label>
                        <label>"Description (one line, for lists and search engines; empty: the start of the text) "
                            <input name="article-description" maxlength="300"
                            prop:value=description on:input=set_description /></label>
                        <label>"Text (Markdown) "
                            <textarea name="article-body" rows="12" required
                                prop:value=body on:input=set_body></textarea></label>
                        <label class="attach">"Add a picture "
                            <input type="file" accept="image/*" name="article-picture"
                                on:change=move |ev| {
                                    let input: web_sys::HtmlInputElement = event_target(&ev);
                                    let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
                                    input.set_value("");
                                    let Some(images) = chosen().map(|s| format!("{}/images/", s.help_url)) else { return };
                                    spawn_local(async move {
                                        match crate::api::upload(&file).await {
                                            // Kept for the article, and shown once it is published.
                                            Ok(uploaded) => fields.update(|f| {
                                                let label = uploaded.name.replace([']', '[', '\n'], " ");
                                                f.body.push_str(&format!("\n\n![{label}]({images}{})\n", uploaded.id));
                                            }),
                                            Err(message) => problem.set(Some(message)),
                                        }
                                    });
                                } />
                        </label>
                        <label><input type="checkbox" name="article-published"
                            prop:checked=move || fields.with(|f| f.published)
                            on:change=move |ev| fields.update(|f| f.published = event_target_checked(&ev)) />
                            " Published (shoppers see it)"</label>
                        <div class="buttons">
                            <button type="submit">"Save"</button>
                            <button type="button" on:click=move |_| show_preview()>"Preview"</button>
                            {id.is_some().then(|| view! { <button type="button" on:click=move |_| delete()>"Delete article"</button> })}
                            <button type="button" on:click=move |_| editing.set(None)>"Close"</button>
                        </div>
                        <p class="notice" role="status">{move || notice.get()}</p>
                        // Cleaned by the server (no script, handler or style).
                        <div class="article-preview" hidden=move || preview.with(String::is_empty) inner_html=move || preview.get()></div>
                        <h4 hidden=move || history.with(Vec::is_empty)>"History"</h4>
                        <ul class="article-history">
                            {move || history.get().into_iter().map(|edit| view! {
                                <li>{format!("{} · {} · {}: {}{}", crate::clock::date_and_time(edit.at_ms), edit.agent_name,
                                    edit.language, edit.title, if edit.published { "" } else { " (draft)" })}</li>
                            }).collect_view()}
                        </ul>
                    </form>
                }
            })}
            <p class="error" role="alert">{move || problem.get()}</p>
        </section>
    }
}

//! The owner console's people: invite by email link, set each person's
//! role, teams, languages and capacity, deactivate.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{InviteView, NewInvite, People, Person, PersonChange, Role, Team};

use crate::api::{NONE, call, call_empty};

#[component]
pub fn PeoplePanel() -> impl IntoView {
    let people = RwSignal::new(None::<People>);
    let teams = RwSignal::new(Vec::<Team>::new());
    let problem = RwSignal::new(None::<String>);
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Agent);
    let sent = RwSignal::new(None::<InviteView>);
    let reload = move || {
        spawn_local(async move {
            match call::<People>("GET", "/api/admin/people", NONE).await {
                Ok(loaded) => people.set(Some(loaded)),
                Err(message) => problem.set(Some(message)),
            }
            if let Ok(list) = call::<Vec<Team>>("GET", "/api/teams", NONE).await {
                teams.set(list);
            }
        });
    };
    reload();
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let invite = NewInvite {
            email: email.get_untracked(),
            role: role.get_untracked(),
        };
        spawn_local(async move {
            match call::<InviteView>("POST", "/api/admin/invites", Some(&invite)).await {
                Ok(created) => {
                    problem.set(None);
                    email.set(String::new());
                    sent.set(Some(created));
                    reload();
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    view! {
        <section class="people">
            <h2>"People"</h2>
            <form class="invite" on:submit=invite>
                <label>"Invite by email"
                    <input type="email" name="invite-email" required prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev)) /></label>
                <label>"as"
                    <select name="invite-role" on:change=move |ev| role.set(
                        if event_target_value(&ev) == "owner" { Role::Owner } else { Role::Agent })>
                        <option value="agent">"Agent"</option>
                        <option value="owner">"Owner"</option>
                    </select></label>
                <button type="submit">"Send invitation"</button>
            </form>
            {move || sent.get().map(|invite| view! {
                <p class="invite-sent" role="status">
                    {if invite.emailed { format!("Invitation mailed to {}. ", invite.email) }
                     else { format!("No mail server is set up: send {} this link yourself. ", invite.email) }}
                    "The link works once, for 7 days: "
                    <code class="invite-link">{invite.link.unwrap_or_default()}</code>
                </p>
            })}
            <p class="error" role="alert">{move || problem.get()}</p>
            <table class="people-table">
                <thead><tr><th>"Name"</th><th>"Role"</th><th>"Teams"</th><th>"Languages"</th><th>"Chats at once"</th><th>"Picture (https URL)"</th><th>"Active"</th></tr></thead>
                <tbody>
                    {move || people.get().map(|p| p.people.into_iter().map(|person| {
                        view! { <PersonRow person teams problem reload /> }
                    }).collect_view())}
                </tbody>
            </table>
            <h3>"Open invitations"</h3>
            <ul class="invites">
                {move || people.get().map(|p| p.invites.into_iter().map(|i| {
                    let revoke = move |_| {
                        let path = format!("/api/admin/invites/{}", i.id);
                        spawn_local(async move {
                            if let Err(message) = call_empty("DELETE", &path, NONE).await {
                                problem.set(Some(message));
                            }
                            reload();
                        });
                    };
                    view! {
                        <li>{format!("{} ({}) ", i.email, if i.role == Role::Owner { "owner" } else { "agent" })}
                            <button type="button" on:click=revoke aria-label=format!("Revoke the invitation of {}", i.email)>"Revoke"</button>
                        </li>
                    }
                }).collect_view())}
            </ul>
        </section>
    }
}

#[component]
fn PersonRow(
    person: Person,
    teams: RwSignal<Vec<Team>>,
    problem: RwSignal<Option<String>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = StoredValue::new(person.id.clone());
    let apply = move |change: PersonChange| {
        spawn_local(async move {
            let path = format!("/api/admin/people/{}", id.get_value());
            match call::<Person>("PATCH", &path, Some(&change)).await {
                Ok(_) => problem.set(None),
                Err(message) => problem.set(Some(message)),
            }
            reload();
        });
    };
    let member_of = person.teams.clone();
    let languages = person.languages.join(", ");
    let capacity = person.capacity.map(|c| c.to_string()).unwrap_or_default();
    let owner = person.role == Role::Owner;
    view! {
        <tr class:inactive=!person.active>
            <td>{person.name.clone()} <br /> <small>{person.email.clone()}</small></td>
            <td><select aria-label=format!("Role of {}", person.name) on:change=move |ev| apply(PersonChange {
                    role: Some(if event_target_value(&ev) == "owner" { Role::Owner } else { Role::Agent }),
                    ..PersonChange::default()
                })>
                <option value="agent" selected=!owner>"Agent"</option>
                <option value="owner" selected=owner>"Owner"</option>
            </select></td>
            <td>{move || teams.get().into_iter().map(|team| {
                let checked = member_of.contains(&team.id);
                let team_id = team.id.clone();
                let current = member_of.clone();
                view! {
                    <label class="team-choice"><input type="checkbox" checked=checked on:change=move |ev| {
                        let mut chosen = current.clone();
                        chosen.retain(|t| *t != team_id);
                        if event_target_checked(&ev) { chosen.push(team_id.clone()); }
                        apply(PersonChange { teams: Some(chosen), ..PersonChange::default() });
                    } /> {team.name}</label>
                }
            }).collect_view()}</td>
            <td><input aria-label=format!("Languages of {}", person.name) value=languages placeholder="en, nl"
                on:change=move |ev| apply(PersonChange {
                    languages: Some(event_target_value(&ev).split(',').map(str::trim)
                        .filter(|l| !l.is_empty()).map(str::to_owned).collect()),
                    ..PersonChange::default()
                }) /></td>
            <td><input type="number" min="1" max="50" aria-label=format!("Chats at once for {}", person.name)
                value=capacity placeholder="default"
                on:change=move |ev| apply(PersonChange {
                    capacity: Some(event_target_value(&ev).trim().parse().ok()),
                    ..PersonChange::default()
                }) /></td>
            <td><input type="url" aria-label=format!("Picture of {}", person.name) value=person.avatar_url.clone()
                placeholder="initials" on:change=move |ev| apply(PersonChange {
                    avatar_url: Some(Some(event_target_value(&ev).trim().to_owned()).filter(|u| !u.is_empty())),
                    ..PersonChange::default()
                }) /></td>
            <td><input type="checkbox" aria-label=format!("{} is active", person.name) checked=person.active
                on:change=move |ev| apply(PersonChange { active: Some(event_target_checked(&ev)), ..PersonChange::default() }) /></td>
        </tr>
    }
}

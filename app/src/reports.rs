//! Reports, for owners: a period's figures (in a time zone, per site, team
//! or agent, in business hours or not), each a button that shows the
//! conversations it counts in the table below, where each opens in the
//! inbox; the ratings and the busiest hours beside the hours agents were
//! online drawn as SVG, each with its table; the table as CSV.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{HourOfWeek, Report, ReportRow, RequeueReason, SiteView, Team, TeamMember};

use crate::{Navigation, api};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Which conversations the table shows: those one figure counts.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Focus {
    All,
    ByEmail,
    Answered,
    Closed,
    Unanswered,
    Waited,
    GaveUp,
    AnsweredByEmail,
    ClosedPanel,
    Requeued(RequeueReason),
    AnyRating,
    Rated(u8),
    Promised,
    Hour(u8, u8),
}

impl Focus {
    fn counts(self, row: &ReportRow) -> bool {
        match self {
            Focus::All => true,
            Focus::ByEmail => row.channel == "email",
            Focus::Answered => row.answered_openings > 0,
            Focus::Closed => row.closed_openings > 0,
            Focus::Unanswered => row.unanswered_openings > 0,
            Focus::Waited => row.waited_ms.is_some(),
            Focus::GaveUp => row.gave_up_after_ms.is_some(),
            Focus::AnsweredByEmail => row.answered_by_email,
            Focus::ClosedPanel => row.closed_panel_after_ms.is_some(),
            Focus::Requeued(reason) => row.requeues.contains(&reason),
            Focus::AnyRating => row.rating.is_some(),
            Focus::Rated(score) => row.rating == Some(score),
            Focus::Promised => {
                row.waited_after_promise_ms.is_some() && row.promised_wait_ms.is_some()
            }
            Focus::Hour(weekday, hour) => row.weekday == weekday && row.hour == hour,
        }
    }

    fn label(self) -> String {
        match self {
            Focus::All => "All conversations".to_owned(),
            Focus::ByEmail => "Started by email".to_owned(),
            Focus::Answered => "Answered (first response)".to_owned(),
            Focus::Closed => "Closed (time to close)".to_owned(),
            Focus::Unanswered => "Closed without a reply".to_owned(),
            Focus::Waited => "Waited in the line".to_owned(),
            Focus::GaveUp => "Gave up waiting".to_owned(),
            Focus::AnsweredByEmail => "Gave up, answered by email".to_owned(),
            Focus::ClosedPanel => "Closed the chat while waiting".to_owned(),
            Focus::Requeued(reason) => format!("Requeued: {}", reason_label(reason)),
            Focus::AnyRating => "Rated".to_owned(),
            Focus::Rated(score) => format!("Rated {score}"),
            Focus::Promised => "Promised a wait".to_owned(),
            Focus::Hour(weekday, hour) => format!(
                "Started {} {hour:02}:00–{hour:02}:59",
                WEEKDAYS[usize::from(weekday)]
            ),
        }
    }
}

fn reason_label(reason: RequeueReason) -> &'static str {
    match reason {
        RequeueReason::NoReply => "no reply in time",
        RequeueReason::WentOffline => "agent went offline",
        RequeueReason::Deactivated => "agent deactivated",
        RequeueReason::HandedBack => "handed back",
    }
}

/// "45s", "3m 05s", "2h 05m"; "—" for none.
pub fn duration(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "\u{2014}".to_owned();
    };
    let secs = ms.div_euclid(1000);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The filters, as the report's query string.
#[derive(Clone, Default, PartialEq)]
struct Filters {
    from: String,
    to: String,
    zone: String,
    site: String,
    team: String,
    agent: String,
    business_hours: bool,
}

impl Filters {
    fn query(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("from", &self.from),
            ("to", &self.to),
            ("zone", &self.zone),
            ("site", &self.site),
            ("team", &self.team),
            ("agent", &self.agent),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", js_sys::encode_uri_component(value)));
            }
        }
        if self.business_hours {
            parts.push("business_hours=true".to_owned());
        }
        parts.join("&")
    }
}

#[component]
pub fn Reports() -> impl IntoView {
    let nav: Navigation = expect_context();
    let filters = RwSignal::new(Filters::default());
    let report = RwSignal::new(None::<Report>);
    let focus = RwSignal::new(Focus::All);
    let problem = RwSignal::new(None::<String>);
    let sites =
        LocalResource::new(|| api::call::<Vec<SiteView>>("GET", "/api/admin/sites", api::NONE));
    let teams = LocalResource::new(|| api::call::<Vec<Team>>("GET", "/api/teams", api::NONE));
    let agents =
        LocalResource::new(|| api::call::<Vec<TeamMember>>("GET", "/api/agents", api::NONE));
    let load = move || {
        let path = format!("/api/reports?{}", filters.get_untracked().query());
        spawn_local(async move {
            match api::call::<Report>("GET", &path, api::NONE).await {
                Ok(answer) => {
                    // The period and zone the server chose become the form's.
                    filters.update(|f| {
                        f.from.clone_from(&answer.from);
                        f.to.clone_from(&answer.to);
                        f.zone.clone_from(&answer.time_zone);
                    });
                    focus.set(Focus::All);
                    report.set(Some(answer));
                    problem.set(None);
                }
                Err(reason) => problem.set(Some(reason)),
            }
        });
    };
    // Fresh each time the page is shown.
    Effect::new(move |_| {
        if nav.mode.get() == crate::Mode::Reports {
            load();
        }
    });
    let text_input = move |label: &'static str,
                           name: &'static str,
                           kind: &'static str,
                           get: fn(&Filters) -> String,
                           set: fn(&mut Filters, String)| {
        view! {
            <label>{label}
                <input type=kind name=name prop:value=move || filters.with(get)
                    on:change=move |ev| filters.update(|f| set(f, event_target_value(&ev))) />
            </label>
        }
    };
    let csv_href = move || {
        format!(
            "/api/reports/conversations.csv?{}",
            filters.with(Filters::query)
        )
    };
    view! {
        <section class="reports" aria-labelledby="reports-title">
            <h1 id="reports-title">"Reports"</h1>
            <form class="report-filters" on:submit=move |ev| { ev.prevent_default(); load(); }>
                {text_input("From", "from", "date", |f| f.from.clone(), |f, v| f.from = v)}
                {text_input("To", "to", "date", |f| f.to.clone(), |f, v| f.to = v)}
                {text_input("Time zone", "zone", "text", |f| f.zone.clone(), |f, v| f.zone = v)}
                <label>"Site"
                    <select name="site" on:change=move |ev| filters.update(|f| f.site = event_target_value(&ev))>
                        <option value="">"All sites"</option>
                        {move || sites.get().and_then(Result::ok).unwrap_or_default().into_iter()
                            .map(|s| view! { <option value=s.id.clone()>{s.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Team"
                    <select name="team" on:change=move |ev| filters.update(|f| f.team = event_target_value(&ev))>
                        <option value="">"All teams"</option>
                        {move || teams.get().and_then(Result::ok).unwrap_or_default().into_iter()
                            .map(|t| view! { <option value=t.id.clone()>{t.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Agent"
                    <select name="agent" on:change=move |ev| filters.update(|f| f.agent = event_target_value(&ev))>
                        <option value="">"All agents"</option>
                        {move || agents.get().and_then(Result::ok).unwrap_or_default().into_iter()
                            .map(|a| view! { <option value=a.id.clone()>{a.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" name="business-hours" prop:checked=move || filters.with(|f| f.business_hours)
                        on:change=move |ev| filters.update(|f| f.business_hours = event_target_checked(&ev)) />
                    "Business hours only"
                </label>
                <button type="submit" class="primary">"Show"</button>
                <a class="download" href=csv_href download="">"Download CSV"</a>
            </form>
            <p class="error" role="alert">{move || problem.get()}</p>
            {move || report.get().map(|r| view! { <ReportView report=r focus /> })}
        </section>
    }
}

/// A figure: its value, what it is, and the conversations it counts.
fn figure(focus: RwSignal<Focus>, value: String, label: String, shows: Focus) -> impl IntoView {
    view! {
        <button type="button" class="figure" aria-pressed=move || (focus.get() == shows).to_string()
            on:click=move |_| focus.set(shows)>
            <span class="figure-value">{value}</span>
            <span class="figure-label">{label}</span>
        </button>
    }
}

#[component]
fn ReportView(report: Report, focus: RwSignal<Focus>) -> impl IntoView {
    let r = &report;
    let spread =
        |s: &protocol::Spread| format!("{} · p90 {}", duration(s.median_ms), duration(s.p90_ms));
    let rated: u64 = r.ratings.by_score.iter().sum();
    let average = r
        .ratings
        .average
        .map_or("\u{2014}".to_owned(), |a| format!("{a:.1}"));
    let figures = vec![
        figure(
            focus,
            r.started.to_string(),
            format!("conversations started ({} by chat)", r.started_by_chat),
            Focus::All,
        )
        .into_any(),
        figure(
            focus,
            r.started_by_email.to_string(),
            "started by email".to_owned(),
            Focus::ByEmail,
        )
        .into_any(),
        figure(
            focus,
            spread(&r.first_response),
            format!(
                "first response, median ({} openings)",
                r.first_response.count
            ),
            Focus::Answered,
        )
        .into_any(),
        figure(
            focus,
            spread(&r.time_to_close),
            format!("time to close, median ({} openings)", r.time_to_close.count),
            Focus::Closed,
        )
        .into_any(),
        figure(
            focus,
            r.unanswered.to_string(),
            "openings closed without a reply".to_owned(),
            Focus::Unanswered,
        )
        .into_any(),
        figure(
            focus,
            spread(&r.waited),
            format!("waited in the line, median ({} chats)", r.waited.count),
            Focus::Waited,
        )
        .into_any(),
        figure(
            focus,
            r.gave_up.waited.count.to_string(),
            format!(
                "gave up waiting, after {} (median)",
                duration(r.gave_up.waited.median_ms)
            ),
            Focus::GaveUp,
        )
        .into_any(),
        figure(
            focus,
            r.gave_up.answered_by_email.to_string(),
            "of those answered by email".to_owned(),
            Focus::AnsweredByEmail,
        )
        .into_any(),
        figure(
            focus,
            r.closed_panel_waiting.count.to_string(),
            format!(
                "closed the chat while waiting, after {} (median)",
                duration(r.closed_panel_waiting.median_ms)
            ),
            Focus::ClosedPanel,
        )
        .into_any(),
        figure(
            focus,
            format!("{} of {}", r.promise.kept, r.promise.count),
            format!(
                "promised waits kept (median overrun {})",
                duration(r.promise.median_overrun_ms)
            ),
            Focus::Promised,
        )
        .into_any(),
        figure(
            focus,
            average.clone(),
            format!("average rating ({rated} of {} asked)", r.ratings.asked),
            Focus::AnyRating,
        )
        .into_any(),
    ];
    let requeues = r
        .requeues
        .iter()
        .map(|q| {
            figure(
                focus,
                q.count.to_string(),
                format!("requeued: {}", reason_label(q.reason)),
                Focus::Requeued(q.reason),
            )
        })
        .collect_view();
    let rows = r.rows.clone();
    let shown = move || {
        let f = focus.get();
        rows.iter()
            .filter(|row| f.counts(row))
            .cloned()
            .collect::<Vec<_>>()
    };
    view! {
        <p class="report-period">{format!("{} to {} · {}{}", r.from, r.to, r.time_zone,
            if r.business_hours { " · business hours only" } else { "" })}</p>
        <div class="figures">{figures}</div>
        <div class="figures requeues">{requeues}</div>
        <p class="help-figures">{format!(
            "Help articles: {} read in the chat, {} answered the shopper's question, {} still asked for a person, {} read and never asked.",
            r.help.views, r.help.answered, r.help.talked, r.help.self_served
        )}</p>
        <div class="charts">
            <RatingChart by_score=r.ratings.by_score focus />
            <HourCharts hours=r.hours.clone() focus />
        </div>
        <ConversationTable shown=Signal::derive(shown) focus />
    }
}

#[component]
fn RatingChart(by_score: [u64; 5], focus: RwSignal<Focus>) -> impl IntoView {
    let most = by_score.iter().copied().max().unwrap_or(0).max(1);
    let bars = (1_u8..=5).zip(by_score).map(|(score, count)| {
        let height = 80.0 * count as f64 / most as f64;
        let x = f64::from(score - 1) * 36.0 + 4.0;
        view! {
            <rect class="bar" x=x.to_string() y=(90.0 - height).to_string() width="28" height=height.to_string() />
            <text x=(x + 14.0).to_string() y="104" text-anchor="middle">{score.to_string()}</text>
        }
    }).collect_view();
    view! {
        <figure class="chart ratings-chart">
            <figcaption>"Ratings"</figcaption>
            <svg viewBox="0 0 184 110" role="img" aria-label="Ratings from 1 to 5, as bars (the table below has the numbers)">{bars}</svg>
            <table>
                <thead><tr><th scope="col">"Rating"</th><th scope="col">"Chats"</th></tr></thead>
                <tbody>
                    {(1_u8..=5).zip(by_score).map(|(score, count)| view! {
                        <tr><th scope="row">{score.to_string()}</th>
                            <td><button type="button" class="count-link" aria-label=format!("{count} chats rated {score}")
                                on:click=move |_| focus.set(Focus::Rated(score))>{count.to_string()}</button></td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </figure>
    }
}

/// One heat map over the week: a cell's shade is its share of the busiest.
fn heat_map(
    hours: &[HourOfWeek],
    value: fn(&HourOfWeek) -> f64,
    label: &'static str,
    focus: RwSignal<Focus>,
) -> impl IntoView + use<> {
    let most = hours.iter().map(value).fold(0.0_f64, f64::max);
    let cells = hours.iter().map(|cell| {
        let share = if most > 0.0 { value(cell) / most } else { 0.0 };
        // Conversations started while nobody was online: short-staffed.
        let short = cell.started > 0 && cell.agents_online == 0.0;
        let (weekday, hour) = (cell.weekday, cell.hour);
        view! {
            <rect class=if short { "cell short" } else { "cell" }
                x=(30 + u32::from(hour) * 14).to_string() y=(u32::from(weekday) * 14).to_string()
                width="13" height="13" fill-opacity=format!("{:.2}", 0.08 + 0.92 * share)
                on:click=move |_| focus.set(Focus::Hour(weekday, hour))>
                <title>{format!("{} {hour:02}:00 · {} started · {:.1} agents online", WEEKDAYS[usize::from(weekday)], cell.started, cell.agents_online)}</title>
            </rect>
        }
    }).collect_view();
    let days = WEEKDAYS
        .iter()
        .enumerate()
        .map(|(i, day)| {
            view! {
                <text x="0" y=(i * 14 + 10).to_string()>{*day}</text>
            }
        })
        .collect_view();
    view! {
        <svg class="heat-map" viewBox="0 0 370 100" role="img" aria-label=label>{days}{cells}</svg>
    }
}

#[component]
fn HourCharts(hours: Vec<HourOfWeek>, focus: RwSignal<Focus>) -> impl IntoView {
    let started = heat_map(
        &hours,
        |c| c.started as f64,
        "Conversations started by weekday and hour (the table below has the numbers)",
        focus,
    );
    let online = heat_map(
        &hours,
        |c| c.agents_online,
        "Agents online on average by weekday and hour (the table below has the numbers)",
        focus,
    );
    let table = (0..7_u8).map(|weekday| {
        let cells = hours.iter().filter(|c| c.weekday == weekday).map(|cell| {
            let hour = cell.hour;
            let text = format!("{} / {:.1}", cell.started, cell.agents_online);
            if cell.started > 0 {
                view! { <td><button type="button" class="count-link" on:click=move |_| focus.set(Focus::Hour(weekday, hour))>{text}</button></td> }.into_any()
            } else {
                view! { <td>{text}</td> }.into_any()
            }
        }).collect_view();
        view! { <tr><th scope="row">{WEEKDAYS[usize::from(weekday)]}</th>{cells}</tr> }
    }).collect_view();
    view! {
        <figure class="chart hours-chart">
            <figcaption>"Busiest hours (left) and agents online (right); a red edge: chats came while nobody was online"</figcaption>
            <div class="heat-maps">{started}{online}</div>
            <details>
                <summary>"As a table: conversations started / agents online on average"</summary>
                <div class="table-scroll">
                    <table class="hours-table">
                        <thead><tr><th scope="col">"Day"</th>{(0..24).map(|h| view! { <th scope="col">{format!("{h:02}")}</th> }).collect_view()}</tr></thead>
                        <tbody>{table}</tbody>
                    </table>
                </div>
            </details>
        </figure>
    }
}

#[component]
fn ConversationTable(shown: Signal<Vec<ReportRow>>, focus: RwSignal<Focus>) -> impl IntoView {
    let nav: Navigation = expect_context();
    view! {
        <h2 class="report-rows-title">{move || format!("{} — {} conversation{}", focus.get().label(),
            shown.with(Vec::len), if shown.with(Vec::len) == 1 { "" } else { "s" })}</h2>
        <button type="button" class="show-all" hidden=move || focus.get() == Focus::All
            on:click=move |_| focus.set(Focus::All)>"Show all"</button>
        <div class="table-scroll">
            <table class="report-rows">
                <thead><tr>
                    <th scope="col">"Started"</th><th scope="col">"Site"</th><th scope="col">"Agent"</th>
                    <th scope="col">"Channel"</th><th scope="col">"First response"</th><th scope="col">"To close"</th>
                    <th scope="col">"Waited"</th><th scope="col">"Gave up after"</th><th scope="col">"Requeues"</th>
                    <th scope="col">"Rating"</th><th scope="col">"Comment"</th>
                </tr></thead>
                <tbody>
                    {move || shown.get().into_iter().map(|row| {
                        let id = row.conversation_id.clone();
                        view! {
                            <tr data-conversation=row.conversation_id.clone()>
                                <td><a class="open-conversation" href=format!("#conversation-{id}")
                                    on:click=move |ev| { ev.prevent_default(); nav.open_conversation(id.clone()); }>{row.started_local.clone()}</a></td>
                                <td>{row.site.clone()}</td>
                                <td>{row.agent.clone().unwrap_or_default()}</td>
                                <td>{row.channel.clone()}</td>
                                <td class="first-response">{duration(row.first_response_ms)}</td>
                                <td class="time-to-close">{duration(row.time_to_close_ms)}</td>
                                <td class="waited">{duration(row.waited_ms)}</td>
                                <td>{duration(row.gave_up_after_ms)}</td>
                                <td>{row.requeues.len().to_string()}</td>
                                <td class="rating">{row.rating.map(|r| r.to_string()).unwrap_or_default()}</td>
                                <td>{row.rating_comment.clone().unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

//! The widget's fixed strings, named. The server sends them translated in
//! [`crate::WidgetConfig::texts`], in this order, so no language is
//! compiled into the widget and a new one costs it nothing.

/// One string of the widget's interface. `{n}`, `{m}`, `{name}` and
/// `{time}` are filled in by the widget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumCount)]
#[repr(u8)]
pub enum WidgetText {
    /// The dialog's accessible name and the launcher's default label.
    Chat,
    Online,
    Connecting,
    CloseChat,
    WhatAbout,
    WaitingForAgent,
    NoAgentOnline,
    /// `{n}`: place in line, `{m}`: minutes.
    QueueWithEstimate,
    /// `{n}`: place in line.
    QueueNoEstimate,
    MessageLabel,
    MessagePlaceholder,
    Send,
    /// `{name}`: the agent.
    AgentJoined,
    ChatEnded,
    /// `{time}`: when the team is back, in the shopper's own time.
    BackAt,
    EmailLabel,
    LeaveMessage,
    MessageLeft,
    /// Offered while the shopper waits: an address to be answered at.
    EmailAsk,
    EmailSave,
    /// `{email}`: the address given.
    EmailSaved,
    /// The button that emails the conversation.
    Transcript,
    /// `{email}`: where the transcript goes.
    TranscriptSent,
    /// Beside a message the shopper sent by email.
    ViaEmail,
    /// `{name}`: the agent, as the site shows agents.
    Typing,
    /// Under the shopper's last message the agents have read.
    Seen,
    /// On a message that could not be sent.
    Retry,
    Today,
    Yesterday,
    /// The page's title while a reply waits unseen: "(2) New message".
    NewMessage,
    /// A limit refused the shopper's message or new chat for now.
    SlowDown,
    /// Above a long conversation's newest page: show the page before.
    Earlier,
    /// In the header while nobody can answer now (the socket may well be up).
    Away,
    /// After a chat ended: the button that opens a new one.
    NewConversation,
    /// `{email}`: a link to prove the address went there; the transcript
    /// follows once it is used.
    ConfirmSent,
    /// `{n}`: the shopper's rating of the chat, out of 5.
    Rated,
    /// The composer's button that attaches a file (or takes a photo).
    AttachFile,
    /// Beside a file on its way up.
    Uploading,
    /// Beside a file that could not be sent (with the server's reason).
    UploadFailed,
    /// Takes a file back out of the message before it is sent.
    Remove,
    /// After a chat ended: the rating's question.
    RateAsk,
    /// The five points of the rating, worst first (each button's name).
    RateWorst,
    RateBad,
    RateOkay,
    RateGood,
    RateBest,
    /// The optional comment's label.
    RateComment,
    /// The button that sends the rating.
    RateSend,
    /// Once the rating is taken.
    RateThanks,
    /// The panel's button that opens the help articles.
    Help,
    /// The help view's search box.
    HelpSearch,
    /// A search that found nothing.
    HelpNone,
    /// Above the articles offered after a shopper's first question.
    MightHelp,
    /// Under an article: it was enough.
    HelpAnswered,
    /// Under an article: it was not; the shopper still wants a person.
    HelpTalk,
    /// Back from an article to the chat or the list.
    HelpBack,
    /// After "This answered my question".
    HelpThanks,
}

impl WidgetText {
    /// How many texts a complete set holds.
    pub const COUNT: usize = <WidgetText as strum::EnumCount>::COUNT;
}

/// A set of texts as sent; a missing entry reads as empty rather than
/// failing, so an older server never breaks a newer widget.
pub fn text(texts: &[String], which: WidgetText) -> &str {
    texts.get(which as usize).map_or("", String::as_str)
}

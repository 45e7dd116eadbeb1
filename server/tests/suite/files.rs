//! Files both ways, on both backends (a folder beside SQLite, the database
//! itself on PostgreSQL): uploaded over HTTP, carried by a message over the
//! socket, fetched by signed links by the conversation's people only; every
//! refusal leaves nothing stored; a photo's location never reaches the
//! store; erasing a contact or a site erases their files' bytes.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::common;

use common::{SHOP_ORIGIN, TestApp, is_assigned};
use rapport_server::files::{FileConfig, Files};
use rapport_server::store::now_ms;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PHOTO: &[u8] = include_bytes!("../fixtures/gps-photo.jpg");

/// A one-page PDF, as small as a reader still opens.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// `POST /api/widget/files` as the shopper holding `token`, from the shop.
pub(crate) async fn shopper_upload(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(app.url(&format!(
            "/api/widget/files?site={}&name={}",
            app.site.site_key,
            url_encode(name)
        )))
        .header("origin", SHOP_ORIGIN)
        .header("authorization", format!("Bearer {token}"))
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    answer(response).await
}

/// A response's status and JSON body (null if none).
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `POST /api/files` as the agent signed in with `cookie`.
async fn agent_upload(app: &TestApp, cookie: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/files?name={}", url_encode(name))))
        .header("cookie", cookie)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    answer(response).await
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub(crate) async fn fetch(app: &TestApp, link: &str) -> reqwest::Response {
    reqwest::get(app.url(link)).await.unwrap()
}

/// Bytes kept in the file store, whichever it is.
pub(crate) async fn stored_blobs(app: &TestApp) -> i64 {
    match app.store.backend() {
        rapport_server::store::Backend::Postgres => {
            app.count("SELECT COUNT(DISTINCT storage_key) FROM file_chunks")
                .await
        }
        rapport_server::store::Backend::Sqlite => {
            let dir = std::path::Path::new(
                app.database_url
                    .strip_prefix("sqlite://")
                    .unwrap()
                    .trim_end_matches("rapport.db"),
            )
            .join("files/files");
            std::fs::read_dir(dir).map_or(0, |entries| entries.count() as i64)
        }
    }
}

/// The server's file service, as the test's own handle (to sweep now).
pub(crate) fn files_of(app: &TestApp) -> Files {
    let config = FileConfig::default();
    Files::new(
        app.store.clone(),
        config.blobs(&app.store, &app.database_url).unwrap(),
        config.settings(),
    )
}

on_both_backends!(
    a_photo_reaches_the_agent_without_its_location,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, token) = app.new_shopper().await;
        let (status, uploaded) = shopper_upload(&app, &token, "IMG_2041.JPG", PHOTO).await;
        assert_eq!(status, 200, "{uploaded}");
        assert_eq!(uploaded["content_type"], "image/jpeg");
        assert_eq!(uploaded["name"], "IMG_2041.JPG");
        let id = uploaded["id"].as_str().unwrap().to_owned();
        // The shopper's own preview link works before the message is sent.
        assert_eq!(
            fetch(&app, uploaded["url"].as_str().unwrap())
                .await
                .status(),
            200
        );

        let send = json!({"type": "send", "client_id": "p1", "body": "", "files": [id]});
        shopper.send(send.clone()).await;
        let ack = shopper.until("ack", |f| f["client_id"] == "p1").await;
        let conversation = ack["conversation_id"].as_str().unwrap().to_owned();
        // Sent again (the ack was lost): the same message, not a second one.
        shopper.send(send).await;
        let again = shopper.until("ack", |f| f["client_id"] == "p1").await;
        assert_eq!(again["seq"], ack["seq"]);

        shopper.until("event", is_assigned).await;
        agent
            .send(json!({"type": "open", "conversation_id": conversation}))
            .await;
        let seen = agent
            .until("event", |f| {
                f["event"]["body"]["message"]["files"].is_array()
            })
            .await;
        let file = &seen["event"]["body"]["message"]["files"][0];
        assert_eq!(file["id"], id.as_str());
        assert_eq!(file["name"], "IMG_2041.JPG");
        let link = file["url"].as_str().unwrap();
        assert!(link.starts_with(&format!("/files/{id}?e=")), "{link}");

        let response = fetch(&app, link).await;
        assert_eq!(response.status(), 200);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert_eq!(header("content-type"), "image/jpeg");
        assert!(header("content-disposition").starts_with("inline;"));
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert!(header("content-security-policy").starts_with("sandbox"));
        let kept = response.bytes().await.unwrap();
        // No location, no maker: only the orientation is left.
        assert!(!kept.windows(10).any(|w| w == b"PhoneMaker"));
        let exif = exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(kept.to_vec()))
            .unwrap();
        assert!(
            exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
                .is_none()
        );
        assert!(exif.get_field(exif::Tag::Make, exif::In::PRIMARY).is_none());
        assert_eq!(
            exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
                .unwrap()
                .value
                .get_uint(0),
            Some(6)
        );
        assert!(kept.len() < PHOTO.len());
        // The fixture had it all, so the test can fail.
        assert!(PHOTO.windows(10).any(|w| w == b"PhoneMaker"));

        // The inbox's preview of a message of files alone names them.
        let summary = app
            .store
            .conversation(&conversation)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(summary.last_message.as_deref(), Some("IMG_2041.JPG"));
        // One message, one file, tied to the conversation.
        let stored = app.store.file_by_id(&id).await.unwrap().unwrap();
        assert_eq!(
            stored.conversation_id.as_deref(),
            Some(conversation.as_str())
        );
        let messages = app
            .store
            .events_after(&conversation, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| matches!(e.body, protocol::EventBody::Message { .. }))
            .count();
        assert_eq!(messages, 1);
    }
);

on_both_backends!(
    an_agent_sends_a_pdf_the_shopper_downloads,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, _) = app.new_shopper().await;
        let conversation = shopper.say("m1", "Can I have the invoice?").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        shopper.until("event", is_assigned).await;
        let cookie = app.login(&app.agent.email).await;
        let (status, uploaded) = agent_upload(&app, &cookie, "Invoice 1042.pdf", PDF).await;
        assert_eq!(status, 200, "{uploaded}");
        let id = uploaded["id"].as_str().unwrap();
        agent
            .send(json!({"type": "send", "conversation_id": conversation, "client_id": "a1", "body": "Here it is", "files": [id]}))
            .await;
        agent.until("ack", |f| f["client_id"] == "a1").await;
        let seen = shopper
            .until("event", |f| {
                f["event"]["body"]["message"]["files"].is_array()
            })
            .await;
        let message = &seen["event"]["body"]["message"];
        assert_eq!(message["text"], "Here it is");
        let response = fetch(&app, message["files"][0]["url"].as_str().unwrap()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/pdf");
        let disposition = response.headers()["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment;") && disposition.contains("Invoice%201042.pdf"),
            "{disposition}"
        );
        assert_eq!(response.bytes().await.unwrap().as_ref(), PDF);
    }
);

/// Sends `len` bytes of text to the shopper's upload door in chunks and
/// without a length, as a browser streaming a file would; returns the
/// status line.
async fn streamed_upload(app: &TestApp, token: &str, len: usize) -> String {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/widget/files?site={}&name=big.txt HTTP/1.1\r\nHost: {}\r\nOrigin: {SHOP_ORIGIN}\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\n",
        app.site.site_key, app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0;
    while sent < len {
        let part = &chunk[..chunk.len().min(len - sent)];
        let framed = [format!("{:x}\r\n", part.len()).as_bytes(), part, b"\r\n"].concat();
        // The server may answer (and stop reading) before the end.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
        sent += part.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&answer[..read])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

on_both_backends_with!(
    refused_uploads_leave_nothing_stored,
    |config: &mut rapport_server::config::Config| {
        config.files.max_file_mb = 1;
        config.files.per_person_per_day_mb = 2;
    },
    |app: TestApp| async move {
        let (_shopper, token) = app.new_shopper().await;
        let text = |n: usize| "order 1042\n".repeat(n / 11).into_bytes();
        // Markup named as a picture: the content decides.
        let (status, body) =
            shopper_upload(&app, &token, "cat.png", b"<html><script>alert(1)</script>").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (415, Some("file_type_not_allowed"))
        );
        // A program.
        let exe = [b"MZ\x90\x00\x03\x00\x00\x00".as_slice(), &[0u8; 120]].concat();
        let (status, _) = shopper_upload(&app, &token, "setup.exe", &exe).await;
        assert_eq!(status, 415);
        // Too large, said up front.
        let (status, body) = shopper_upload(&app, &token, "big.txt", &text(1_100_000)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (413, Some("too_large"))
        );
        // Too large, found while streaming (no length given).
        let status = streamed_upload(&app, &token, 3_000_000).await;
        assert!(status.contains("413"), "{status}");
        // No token, someone else's site's page, a made-up token.
        let (status, _) = shopper_upload(&app, "", "a.txt", b"hello").await;
        assert_eq!(status, 401);
        let (status, _) = shopper_upload(&app, "not-a-token", "a.txt", b"hello").await;
        assert_eq!(status, 401);
        let response = reqwest::Client::new()
            .post(app.url(&format!(
                "/api/widget/files?site={}&name=a.txt",
                app.site.site_key
            )))
            .header("origin", "https://evil.test")
            .header("authorization", format!("Bearer {token}"))
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        assert_eq!(app.count("SELECT COUNT(*) FROM files").await, 0);
        assert_eq!(stored_blobs(&app).await, 0, "nothing refused was kept");

        // Two uploads fit the day's 2 MB, the third does not.
        for _ in 0..2 {
            let (status, body) = shopper_upload(&app, &token, "log.txt", &text(900_000)).await;
            assert_eq!(status, 200, "{body}");
        }
        let (status, body) = shopper_upload(&app, &token, "log.txt", &text(900_000)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (413, Some("quota_exceeded"))
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM files").await, 2);
        assert_eq!(stored_blobs(&app).await, 2);
    }
);

on_both_backends!(
    a_message_carries_only_its_senders_own_files,
    |app: TestApp| async move {
        let _agent = app.online_inbox_of(&app.agent.email).await;
        let (mut grace, grace_token) = app.new_shopper().await;
        let (mut mallory, _) = app.new_shopper().await;
        let (_, file) = shopper_upload(&app, &grace_token, "receipt.txt", b"Order 1042").await;
        let id = file["id"].as_str().unwrap();
        // Another shopper names Grace's file: refused, nothing stored.
        mallory
            .send(json!({"type": "send", "client_id": "x1", "body": "mine now", "files": [id]}))
            .await;
        let refused = mallory.until("error", |_| true).await;
        assert_eq!(refused["code"], "unknown_file");
        assert_eq!(refused["client_id"], "x1");
        // An agent of another account uploads; Ada cannot attach it.
        let elsewhere = app.store.create_account("Elsewhere").await.unwrap();
        common::add_agent(&app.store, &elsewhere, "eve@else.test", "Eve").await;
        let eve = app.login("eve@else.test").await;
        let (status, theirs) = agent_upload(&app, &eve, "notes.txt", b"elsewhere").await;
        assert_eq!(status, 200);
        // Grace's message with her own file goes through.
        grace
            .send(json!({"type": "send", "client_id": "g1", "body": "receipt", "files": [id]}))
            .await;
        let ack = grace.until("ack", |f| f["client_id"] == "g1").await;
        let conversation = ack["conversation_id"].as_str().unwrap();
        let mut ada = app.inbox_of(&app.agent.email).await;
        ada.send(json!({"type": "send", "conversation_id": conversation, "client_id": "a1", "body": "x", "files": [theirs["id"]]}))
            .await;
        assert_eq!(ada.until("error", |_| true).await["code"], "unknown_file");
        // Nor Grace's (a shopper's file is not an agent's to send).
        ada.send(json!({"type": "send", "conversation_id": conversation, "client_id": "a2", "body": "x", "files": [id]}))
            .await;
        assert_eq!(ada.until("error", |_| true).await["code"], "unknown_file");
        // A file already in one message is not put in another.
        grace
            .send(json!({"type": "send", "client_id": "g2", "body": "again", "files": [id]}))
            .await;
        assert_eq!(grace.until("error", |_| true).await["code"], "unknown_file");
        // At most ten per message.
        let many: Vec<String> = (0..11).map(|i| format!("f{i}")).collect();
        grace
            .send(json!({"type": "send", "client_id": "g3", "body": "", "files": many}))
            .await;
        assert_eq!(
            grace.until("error", |_| true).await["code"],
            "too_many_files"
        );
        // Nothing of the refused messages was stored.
        assert_eq!(
            app.count("SELECT COUNT(*) FROM events WHERE kind = 'message'")
                .await,
            1
        );
    }
);

on_both_backends!(
    file_links_are_signed_and_expire,
    |app: TestApp| async move {
        let (_shopper, token) = app.new_shopper().await;
        let (_, file) = shopper_upload(&app, &token, "a.txt", b"hello there").await;
        let id = file["id"].as_str().unwrap();
        let link = file["url"].as_str().unwrap();
        assert_eq!(fetch(&app, link).await.status(), 200);
        // Tampered, cut short, or another file's signature.
        let tampered = format!("{}x", &link[..link.len() - 1]);
        assert_eq!(fetch(&app, &tampered).await.status(), 403);
        assert_eq!(fetch(&app, &format!("/files/{id}")).await.status(), 403);
        let other = app.store.file_links().link("another-file", now_ms());
        let (_, signature) = other.split_once("?").unwrap();
        assert_eq!(
            fetch(&app, &format!("/files/{id}?{signature}"))
                .await
                .status(),
            403
        );
        // Expired: signed by this server, its day is over.
        let past = app
            .store
            .file_links()
            .link_for_days(id, now_ms() - 3 * 86_400_000, 0);
        let response = fetch(&app, &past).await;
        assert_eq!(response.status(), 410);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "link_expired");
        // A signed link to nothing.
        let nothing = app.store.file_links().link("no-such-file", now_ms());
        assert_eq!(fetch(&app, &nothing).await.status(), 404);
    }
);

on_both_backends!(
    erasing_a_contact_or_a_site_erases_their_files,
    |app: TestApp| async move {
        // A verified customer with a file, and an anonymous shopper with one.
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let claims = json!({"sub": "cust-7", "aud": app.site.site_key, "exp": now_ms() / 1000 + 600, "name": "Grace"});
        let signed = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        let (mut grace, _) = app.new_shopper().await;
        grace
            .send(json!({"type": "identify", "token": signed}))
            .await;
        let welcome = grace.until("welcome", |_| true).await;
        let grace_token = welcome["visitor_token"].as_str().unwrap().to_owned();
        let (_, file) = shopper_upload(&app, &grace_token, "receipt.txt", b"Order 1042").await;
        grace
            .send(json!({"type": "send", "client_id": "g1", "body": "receipt", "files": [file["id"]]}))
            .await;
        grace.until("ack", |_| true).await;
        let (_other, other_token) = app.new_shopper().await;
        let (status, _) = shopper_upload(&app, &other_token, "other.txt", b"Someone else").await;
        assert_eq!(status, 200);
        assert_eq!(stored_blobs(&app).await, 2);

        let hash = common::test_password_hash().to_owned();
        app.store
            .create_agent(
                &app.agent.account_id,
                "olga@shop.test",
                "Olga",
                protocol::Role::Owner,
                &hash,
            )
            .await
            .unwrap();
        let olga = app.login("olga@shop.test").await;
        let (_, found) = app
            .call(Method::GET, "/api/contacts?external_id=cust-7", &olga, None)
            .await;
        let contact = found[0]["id"].as_str().unwrap().to_owned();
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/contacts/{contact}"),
                &olga,
                None,
            )
            .await;
        assert_eq!(status, 204);
        files_of(&app).sweep().await.unwrap();
        assert_eq!(
            stored_blobs(&app).await,
            1,
            "Grace's file is gone, the other stays"
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM files").await, 1);
        assert_eq!(
            fetch(&app, file["url"].as_str().unwrap()).await.status(),
            404
        );

        // The site goes, and every file of it.
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/admin/sites/{}", app.site.id),
                &olga,
                None,
            )
            .await;
        assert_eq!(status, 204);
        files_of(&app).sweep().await.unwrap();
        assert_eq!(stored_blobs(&app).await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM files").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM file_erasures").await, 0);
    }
);

/// The S3-compatible server tests use (`RAPPORT_TEST_S3_URL`, e.g. moto's
/// `moto_server -p 9000`, which `cargo xtask test` starts), or `None`
/// (loudly; in CI a failure).
fn s3_endpoint() -> Option<String> {
    let endpoint = std::env::var("RAPPORT_TEST_S3_URL").ok();
    if endpoint.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but RAPPORT_TEST_S3_URL is not: the bucket store must be tested"
        );
        eprintln!("SKIPPED the bucket store: set RAPPORT_TEST_S3_URL (e.g. http://127.0.0.1:9000)");
    }
    endpoint
}

/// The file settings of a server on a fresh bucket of `endpoint`.
async fn bucket_config(endpoint: &str) -> FileConfig {
    let bucket = format!("rapport-{}", uuid::Uuid::new_v4().simple());
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    FileConfig {
        store: Some(format!("s3://{bucket}")),
        s3_endpoint: Some(endpoint.to_owned()),
        s3_access_key_id: Some("test-key".to_owned()),
        s3_secret_access_key: Some("test-secret".to_owned()),
        s3_region: Some("us-east-1".to_owned()),
        ..FileConfig::default()
    }
}

async fn objects_in_bucket(config: &FileConfig) -> usize {
    let endpoint = config.s3_endpoint.as_deref().unwrap();
    let bucket = config.store.as_deref().unwrap().trim_start_matches("s3://");
    let listing = reqwest::get(format!("{endpoint}/{bucket}?list-type=2"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    listing.matches("<Key>").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_keeps_files_as_the_folder_does() {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    let files = bucket_config(&endpoint).await;
    let configured = files.clone();
    let Some(app) = TestApp::start_with(common::Backend::Sqlite, move |config| {
        config.offline_grace_secs = 0;
        config.files = configured;
    })
    .await
    else {
        return;
    };
    let (mut shopper, token) = app.new_shopper().await;
    let (status, uploaded) = shopper_upload(&app, &token, "parcel.jpg", PHOTO).await;
    assert_eq!(status, 200, "{uploaded}");
    shopper
        .send(json!({"type": "send", "client_id": "p1", "body": "", "files": [uploaded["id"]]}))
        .await;
    shopper.until("ack", |_| true).await;
    assert_eq!(objects_in_bucket(&files).await, 1);
    let kept = fetch(&app, uploaded["url"].as_str().unwrap())
        .await
        .bytes()
        .await
        .unwrap();
    assert!(kept.starts_with(&[0xFF, 0xD8]));
    assert!(!kept.windows(10).any(|w| w == b"PhoneMaker"));
    // Nothing stays in a bucket of a site that is erased.
    let sweeper = Files::new(
        app.store.clone(),
        files.blobs(&app.store, &app.database_url).unwrap(),
        files.settings(),
    );
    app.store
        .conversation_book()
        .delete_site(&app.site.id)
        .await
        .unwrap();
    sweeper.sweep().await.unwrap();
    assert_eq!(objects_in_bucket(&files).await, 0);
}

on_both_backends!(
    an_upload_no_message_took_is_forgotten_after_a_day,
    |app: TestApp| async move {
        let (mut shopper, token) = app.new_shopper().await;
        let (_, kept) = shopper_upload(&app, &token, "sent.txt", b"Sent with a message").await;
        let (_, left) = shopper_upload(&app, &token, "left.txt", b"Never sent").await;
        shopper
            .send(json!({"type": "send", "client_id": "k1", "body": "", "files": [kept["id"]]}))
            .await;
        shopper.until("ack", |_| true).await;
        files_of(&app).sweep().await.unwrap();
        assert_eq!(
            stored_blobs(&app).await,
            2,
            "a fresh upload waits for its message"
        );
        let day_and_more = 25 * 3600 * 1000;
        app.sql(
            &format!("UPDATE files SET created_at = created_at - {day_and_more}"),
            &format!("UPDATE files SET created_at = created_at - {day_and_more}"),
        )
        .await;
        files_of(&app).sweep().await.unwrap();
        assert_eq!(
            stored_blobs(&app).await,
            1,
            "the one no message took is gone"
        );
        assert!(
            app.store
                .file_by_id(left["id"].as_str().unwrap())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            app.store
                .file_by_id(kept["id"].as_str().unwrap())
                .await
                .unwrap()
                .is_some()
        );
    }
);

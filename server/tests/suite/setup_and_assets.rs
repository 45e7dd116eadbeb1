//! First-run setup and static files.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Backend, fresh_database};
use rapport_server::cli;
use rapport_server::config::Config;
use rapport_server::store::Store;

async fn first_run_creates_one_owner_and_a_demo_site(backend: Backend) {
    let Some(database) = fresh_database(backend).await else {
        return;
    };
    let url = database.url.clone();
    let store = Store::connect(&url).await.unwrap();
    let config = Config::for_database(&url);
    cli::first_run(&store, &config).await.unwrap();
    cli::first_run(&store, &config).await.unwrap();
    assert_eq!(
        store.count_agents().await.unwrap(),
        1,
        "a second start creates nobody"
    );
    let owner = store
        .agent_by_email("owner@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.role, protocol::Role::Owner);
    assert!(owner.password_hash.starts_with("$argon2id$"));
    assert!(!rapport_server::identity::verify_password(
        "",
        &owner.password_hash
    ));
    let demo = store.first_site().await.unwrap().unwrap();
    assert_eq!(demo.account_id, owner.account_id);
    assert!(
        demo.allowed_origins.is_empty(),
        "the local demo site allows any origin"
    );
}

#[tokio::test]
async fn first_run_sqlite() {
    first_run_creates_one_owner_and_a_demo_site(Backend::Sqlite).await;
}

#[tokio::test]
async fn first_run_postgres() {
    first_run_creates_one_owner_and_a_demo_site(Backend::Postgres).await;
}

#[tokio::test]
async fn assets_are_cached_by_kind_and_importable_cross_origin() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let url = database.url.clone();
    let assets = database.dir().unwrap().join("dist");
    std::fs::create_dir_all(assets.join("assets")).unwrap();
    std::fs::create_dir_all(assets.join("app")).unwrap();
    std::fs::write(assets.join("assets/widget-abc.js"), "export default 1;").unwrap();
    std::fs::write(assets.join("widget.js"), "/* loader */").unwrap();
    std::fs::write(
        assets.join("app/index.html"),
        "<!doctype html><title>inbox</title>",
    )
    .unwrap();
    let mut config = Config::for_database(&url);
    config.assets_dir = assets;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(rapport_server::serve(
        listener,
        config,
        std::future::pending(),
    ));
    let health = format!("http://{addr}/healthz");
    while !reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let hashed = reqwest::get(format!("http://{addr}/assets/widget-abc.js"))
        .await
        .unwrap();
    assert_eq!(hashed.status(), 200);
    assert_eq!(hashed.headers()["access-control-allow-origin"], "*");
    assert!(
        hashed.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );

    let loader = reqwest::get(format!("http://{addr}/widget.js"))
        .await
        .unwrap();
    assert_eq!(loader.headers()["cache-control"], "public, max-age=300");

    for path in ["/app", "/app/", "/app/conversations/x"] {
        let page = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(page.headers()["cache-control"], "no-cache");
        assert!(page.text().await.unwrap().contains("<title>inbox</title>"));
    }
}

//! A real SMTP listener on port 0 that keeps every mail it receives, for
//! tests of what Rapport sends. It speaks just enough SMTP for a client:
//! greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One mail as received: envelope recipients and the raw message.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Clone, Debug)]
pub struct SmtpListener {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpListener {
    pub async fn start() -> SmtpListener {
        SmtpListener::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    /// A listener on a given address (a mail server that comes back up
    /// where it was).
    pub async fn start_on(addr: SocketAddr) -> SmtpListener {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 test ESMTP\r\n").await.ok();
                    let mut to = Vec::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 test\r\n",
                            "MAIL" | "NOOP" => b"250 ok\r\n",
                            "RSET" => {
                                to.clear();
                                b"250 ok\r\n"
                            }
                            "RCPT" => {
                                to.push(
                                    line[line.find('<').unwrap_or(0)..]
                                        .trim_matches(['<', '>'])
                                        .to_owned(),
                                );
                                b"250 ok\r\n"
                            }
                            "DATA" => {
                                write.write_all(b"354 go on\r\n").await.ok();
                                let mut data = String::new();
                                while let Ok(Some(line)) = lines.next_line().await {
                                    if line == "." {
                                        break;
                                    }
                                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                                    data.push('\n');
                                }
                                kept.lock().unwrap().push(Mail {
                                    to: std::mem::take(&mut to),
                                    data,
                                });
                                b"250 queued\r\n"
                            }
                            "QUIT" => {
                                write.write_all(b"221 bye\r\n").await.ok();
                                break;
                            }
                            _ => b"502 not here\r\n",
                        };
                        write.write_all(reply).await.ok();
                    }
                });
            }
        });
        SmtpListener { addr, mails }
    }

    /// `smtp://127.0.0.1:PORT` for RAPPORT_SMTP_URL.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every mail to `to` so far.
    pub fn mails_to(&self, to: &str) -> Vec<Mail> {
        self.mails
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .cloned()
            .collect()
    }

    /// Waits up to 10 s for a mail to `to`.
    pub async fn mail_to(&self, to: &str) -> Mail {
        for _ in 0..100 {
            if let Some(mail) = self
                .mails
                .lock()
                .unwrap()
                .iter()
                .find(|m| m.to.iter().any(|t| t == to))
            {
                return mail.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no mail to {to} arrived");
    }
}

/// A free port on loopback, nothing listening on it (yet).
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Speaks SMTP to `addr` as a sending mail server would: the replies to
/// `RCPT TO` and (if every recipient was taken) to the end of `DATA`.
pub async fn deliver(
    addr: SocketAddr,
    from: &str,
    to: &[&str],
    data: &str,
) -> (Vec<String>, Option<String>) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    assert!(next_reply(&mut lines).await.starts_with("220"));
    write.write_all(b"EHLO sender.test\r\n").await.unwrap();
    assert!(next_reply(&mut lines).await.starts_with("250"));
    write
        .write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes())
        .await
        .unwrap();
    assert!(next_reply(&mut lines).await.starts_with("250"));
    let mut rcpt = Vec::new();
    for to in to {
        write
            .write_all(format!("RCPT TO:<{to}>\r\n").as_bytes())
            .await
            .unwrap();
        rcpt.push(next_reply(&mut lines).await);
    }
    if !rcpt.iter().all(|r| r.starts_with("250")) {
        write.write_all(b"QUIT\r\n").await.unwrap();
        return (rcpt, None);
    }
    write.write_all(b"DATA\r\n").await.unwrap();
    assert!(next_reply(&mut lines).await.starts_with("354"));
    let mut body = String::new();
    for line in data.replace("\r\n", "\n").split('\n') {
        if line.starts_with('.') {
            body.push('.');
        }
        body.push_str(line);
        body.push_str("\r\n");
    }
    body.push_str(".\r\n");
    write.write_all(body.as_bytes()).await.unwrap();
    let end = next_reply(&mut lines).await;
    write.write_all(b"QUIT\r\n").await.unwrap();
    (rcpt, Some(end))
}

type ReplyLines = tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>;

/// One SMTP reply; multi-line replies ("250-…") end with a line "250 …".
async fn next_reply(lines: &mut ReplyLines) -> String {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("an SMTP reply in time")
            .unwrap()
            .unwrap_or_default();
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    }
}

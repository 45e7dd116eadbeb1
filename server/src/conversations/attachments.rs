//! Which uploaded files a message may carry: only its sender's own, of the
//! sender's account, not already in another message (the same message
//! sent again may name them again).

use protocol::FileRef;

use super::Conversations;
use crate::store::{StoreError, Uploader};

/// A message names a file that is not its sender's to attach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnknownFile(pub String);

impl Conversations {
    /// The files `ids` as the message will carry them, in the order named.
    pub(super) async fn attachable(
        &self,
        uploader: &Uploader,
        account_id: &str,
        ids: &[String],
        client_id: &str,
    ) -> Result<Result<Vec<FileRef>, UnknownFile>, StoreError> {
        if ids.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        let mut unique = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != ids.len() {
            return Ok(Err(UnknownFile(
                "A file is named twice in one message.".into(),
            )));
        }
        let found = self.store.files_by_ids(ids).await?;
        let mut files = Vec::with_capacity(ids.len());
        for id in ids {
            let usable = found.iter().find(|file| {
                &file.id == id
                    && file.account_id == account_id
                    && file.uploaded_by(uploader)
                    && file
                        .client_id
                        .as_deref()
                        .is_none_or(|attached_by| attached_by == client_id)
            });
            match usable {
                Some(file) => files.push(file.reference()),
                None => {
                    return Ok(Err(UnknownFile(
                        "A file of this message was not uploaded by you, or is already in another message; upload it again."
                            .into(),
                    )));
                }
            }
        }
        Ok(Ok(files))
    }
}

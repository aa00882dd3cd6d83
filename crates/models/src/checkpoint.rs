//! Training checkpoints: the best `keep_top_k` epochs by validation loss are kept, plus the
//! last (so an interrupted run resumes exactly where it stopped). Each checkpoint is a
//! directory written whole and renamed into place; `checkpoints.json` lists them and is
//! replaced by an atomic rename, so a crash leaves either the old or the new state.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// One saved epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Epoch number (0-based).
    pub epoch: usize,
    /// Validation loss at the end of the epoch.
    pub val_loss: f64,
    /// Directory name under the checkpoint root.
    pub dir: String,
}

/// A run's checkpoint directory.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    root: PathBuf,
    keep_top_k: usize,
}

fn io(path: &Path, e: impl Into<crate::error::Cause>) -> ModelError {
    ModelError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    }
}

impl Checkpoints {
    /// Checkpoints in `root`, keeping the best `keep_top_k` plus the last.
    pub fn new(root: impl Into<PathBuf>, keep_top_k: usize) -> Checkpoints {
        Checkpoints {
            root: root.into(),
            keep_top_k: keep_top_k.max(1),
        }
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("checkpoints.json")
    }

    /// The checkpoints kept, in epoch order.
    ///
    /// # Errors
    /// [`ModelError::Io`] naming the index file when it is unreadable or corrupt.
    pub fn list(&self) -> Result<Vec<Checkpoint>, ModelError> {
        let path = self.index_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| io(&path, format!("corrupt checkpoint index ({e})")))
    }

    /// Saves an epoch's files, then drops the checkpoints that are neither among the best
    /// `keep_top_k` nor the last.
    ///
    /// # Errors
    /// [`ModelError::Io`] when a write fails (the previous state is then intact).
    pub fn save(
        &self,
        epoch: usize,
        val_loss: f64,
        files: &[(&str, &[u8])],
    ) -> Result<Checkpoint, ModelError> {
        std::fs::create_dir_all(&self.root).map_err(|e| io(&self.root, e))?;
        let name = format!("epoch-{epoch:05}");
        let tmp = self
            .root
            .join(format!(".{name}.{}.tmp", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp).map_err(|e| io(&tmp, e))?;
        for (file, bytes) in files {
            std::fs::write(tmp.join(file), bytes).map_err(|e| io(&tmp.join(file), e))?;
        }
        let target = self.root.join(&name);
        let _ = std::fs::remove_dir_all(&target);
        std::fs::rename(&tmp, &target).map_err(|e| io(&target, e))?;

        let mut all: Vec<Checkpoint> = self
            .list()?
            .into_iter()
            .filter(|c| c.epoch != epoch)
            .collect();
        let saved = Checkpoint {
            epoch,
            val_loss,
            dir: name,
        };
        all.push(saved.clone());
        all.sort_by_key(|c| c.epoch);
        let last_epoch = all.last().map(|c| c.epoch);
        let mut by_loss = all.clone();
        by_loss.sort_by(|a, b| {
            a.val_loss
                .total_cmp(&b.val_loss)
                .then(a.epoch.cmp(&b.epoch))
        });
        let best: Vec<usize> = by_loss
            .iter()
            .take(self.keep_top_k)
            .map(|c| c.epoch)
            .collect();
        let (keep, drop): (Vec<Checkpoint>, Vec<Checkpoint>) = all
            .into_iter()
            .partition(|c| best.contains(&c.epoch) || Some(c.epoch) == last_epoch);
        self.write_index(&keep)?;
        // Only after the index no longer names them.
        for c in drop {
            let _ = std::fs::remove_dir_all(self.root.join(&c.dir));
        }
        Ok(saved)
    }

    fn write_index(&self, list: &[Checkpoint]) -> Result<(), ModelError> {
        let path = self.index_path();
        let json = serde_json::to_vec_pretty(list).map_err(|e| io(&path, e))?;
        qts_core::fs::write_atomic(&path, &json).map_err(|e| io(&path, e))
    }

    /// The checkpoint with the lowest validation loss.
    ///
    /// # Errors
    /// As [`Checkpoints::list`].
    pub fn best(&self) -> Result<Option<Checkpoint>, ModelError> {
        Ok(self.list()?.into_iter().min_by(|a, b| {
            a.val_loss
                .total_cmp(&b.val_loss)
                .then(a.epoch.cmp(&b.epoch))
        }))
    }

    /// The latest checkpoint, where `--resume` continues from.
    ///
    /// # Errors
    /// As [`Checkpoints::list`].
    pub fn last(&self) -> Result<Option<Checkpoint>, ModelError> {
        Ok(self.list()?.into_iter().max_by_key(|c| c.epoch))
    }

    /// The kept checkpoints ordered by validation loss (best first), at most `keep_top_k`:
    /// the members of a checkpoint ensemble.
    ///
    /// # Errors
    /// As [`Checkpoints::list`].
    pub fn best_k(&self) -> Result<Vec<Checkpoint>, ModelError> {
        let mut all = self.list()?;
        all.sort_by(|a, b| {
            a.val_loss
                .total_cmp(&b.val_loss)
                .then(a.epoch.cmp(&b.epoch))
        });
        all.truncate(self.keep_top_k);
        Ok(all)
    }

    /// Deletes every checkpoint (a fresh run over an old one); the index goes first, so a
    /// crash midway leaves no index naming a deleted checkpoint.
    ///
    /// # Errors
    /// [`ModelError::Io`] when the index cannot be removed.
    pub fn clear(&self) -> Result<(), ModelError> {
        let list = self.list().unwrap_or_default();
        let index = self.index_path();
        if index.exists() {
            std::fs::remove_file(&index).map_err(|e| io(&index, e))?;
        }
        for c in list {
            let _ = std::fs::remove_dir_all(self.root.join(&c.dir));
        }
        Ok(())
    }

    /// The directory of a checkpoint.
    pub fn path(&self, c: &Checkpoint) -> PathBuf {
        self.root.join(&c.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_k_and_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let ck = Checkpoints::new(dir.path(), 2);
        let losses = [0.9, 0.5, 0.7, 0.4, 0.8, 0.6];
        for (e, l) in losses.iter().enumerate() {
            ck.save(
                e,
                *l,
                &[("weights.safetensors", format!("w{e}").as_bytes())],
            )
            .unwrap();
        }
        let kept: Vec<usize> = ck.list().unwrap().iter().map(|c| c.epoch).collect();
        assert_eq!(kept, vec![1, 3, 5], "best two (3, 1) and the last (5)");
        assert_eq!(ck.best().unwrap().unwrap().epoch, 3);
        let last = ck.last().unwrap().unwrap();
        assert_eq!(last.epoch, 5);
        assert_eq!(
            std::fs::read(ck.path(&last).join("weights.safetensors")).unwrap(),
            b"w5"
        );
        let dirs = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir())
            .count();
        assert_eq!(
            dirs, 3,
            "dropped checkpoints are deleted, no temporary left"
        );
    }

    #[test]
    fn a_corrupt_index_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("checkpoints.json"), "{not json").unwrap();
        let e = Checkpoints::new(dir.path(), 3)
            .last()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("checkpoints.json") && e.contains("corrupt checkpoint index"),
            "{e}"
        );
    }
}

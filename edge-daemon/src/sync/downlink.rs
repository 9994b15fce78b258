//! Applying the cloud's downlink documents (catalog, PLU map, key directory, recall alerts…).
//!
//! Why record them in the ledger: what the box priced and displayed with at any moment must be
//! reconstructible, so each applied document is a `downlink_applied` entry (type, version and
//! the digest of its canonical bytes) appended in one transaction. The document itself is kept
//! as `{docs_dir}/{doc_type}.json` for the parts of the box that use it.
//!
//! Design: a document is applied only if its version is newer than the applied one, because
//! the broker re-delivers retained downlinks on every reconnect; re-delivery must not append a
//! new entry each time. The entry is appended before the file is written: a crash in between
//! re-applies the document once more (one extra entry), never leaves an unrecorded document.

use super::SyncError;
use crate::ledger::Ledger;
use rusqlite::OptionalExtension;
use std::collections::BTreeMap;
use std::path::PathBuf;
use trace_core::event::{DownlinkApplied, SamplingInspection};
use trace_core::wire::{AppliedDoc, DocType, envelope};
use trace_core::{DownlinkDoc, EntryDraft, Event, WIRE_VERSION, canonical_bytes};

/// Largest downlink document accepted (a full catalog is far smaller).
const MAX_DOC: usize = 8 * 1024 * 1024;

#[derive(Debug, Default)]
pub(super) struct Docs {
    dir: Option<PathBuf>,
    applied: BTreeMap<DocType, u64>,
}

fn type_name(t: DocType) -> String {
    serde_json::to_string(&t)
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned()
}

impl Docs {
    /// The versions already applied, from the documents kept in `dir`.
    pub(super) fn load(dir: Option<PathBuf>) -> Docs {
        let mut applied = BTreeMap::new();
        if let Some(d) = &dir
            && let Ok(rd) = std::fs::read_dir(d)
        {
            for e in rd.flatten() {
                let doc = std::fs::read(e.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice::<DownlinkDoc>(&b).ok());
                if let Some(doc) = doc {
                    applied.insert(doc.doc_type, doc.version);
                }
            }
        }
        Docs { dir, applied }
    }

    pub(super) fn applied(&self) -> Vec<AppliedDoc> {
        self.applied
            .iter()
            .map(|(t, v)| AppliedDoc {
                doc_type: *t,
                version: *v,
            })
            .collect()
    }

    /// Apply one `down` payload (JSON, or JSON in an envelope). `Ok(None)`: nothing to do (an
    /// empty retained message, or a version already applied).
    pub(super) fn apply(
        &mut self,
        ledger: &mut Ledger,
        payload: &[u8],
    ) -> Result<Option<AppliedDoc>, SyncError> {
        if payload.is_empty() {
            return Ok(None);
        }
        let doc: DownlinkDoc = if payload.starts_with(&envelope::MAGIC) {
            envelope::decode(payload, MAX_DOC).map_err(|e| SyncError::Downlink(e.to_string()))?
        } else {
            serde_json::from_slice(payload).map_err(|e| SyncError::Downlink(e.to_string()))?
        };
        if doc.v != WIRE_VERSION {
            return Err(SyncError::Downlink(format!(
                "wire version {} (this build speaks {WIRE_VERSION})",
                doc.v
            )));
        }
        if doc.doc_type == DocType::Unknown {
            return Err(SyncError::Downlink(
                "document type unknown to this version".into(),
            ));
        }
        if self
            .applied
            .get(&doc.doc_type)
            .is_some_and(|v| *v >= doc.version)
        {
            return Ok(None);
        }
        let bytes = canonical_bytes(&doc).map_err(|e| SyncError::Downlink(e.to_string()))?;
        let digest = ledger.hash_alg().digest(&[bytes.as_slice()]);
        let mut drafts = vec![EntryDraft::new(Event::DownlinkApplied(DownlinkApplied {
            doc_type: doc.doc_type,
            version: doc.version,
            digest,
        }))];
        if doc.doc_type == DocType::Inspections {
            drafts.extend(inspection_drafts(ledger, &doc.body)?);
        }
        // One transaction: the document and the results it brought, or neither.
        ledger.append_batch(drafts)?;
        if let Some(dir) = &self.dir {
            let name = type_name(doc.doc_type);
            let tmp = dir.join(format!(".{name}.json.tmp"));
            let path = dir.join(format!("{name}.json"));
            let write = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&tmp, serde_json::to_vec(&doc).unwrap_or_default()))
                .and_then(|()| std::fs::rename(&tmp, &path));
            if let Err(e) = write {
                tracing::error!(path = %path.display(), error = %e, "applied document not kept on disk");
            }
        }
        self.applied.insert(doc.doc_type, doc.version);
        Ok(Some(AppliedDoc {
            doc_type: doc.doc_type,
            version: doc.version,
        }))
    }
}

/// The `inspections` document's results not yet in the ledger (or changed since), as
/// `sampling_inspection` drafts, so the 抽检公示 board and the sync to the cloud read them
/// from the ledger like every other fact. Body: `{"results": [SamplingInspection, …]}`.
/// A malformed result refuses the whole document (nothing is appended).
fn inspection_drafts(
    ledger: &Ledger,
    body: &serde_json::Value,
) -> Result<Vec<EntryDraft>, SyncError> {
    let results: Vec<SamplingInspection> = match body.get("results") {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| SyncError::Downlink(format!("inspections: {e}")))?,
    };
    let mut out = Vec::new();
    for r in results {
        r.validate()
            .map_err(|e| SyncError::Downlink(format!("inspection {}: {e}", r.sample_no)))?;
        let known: Option<String> = ledger
            .conn()
            .query_row(
                "SELECT body FROM stall_inspections WHERE sample_no = ?1",
                [&r.sample_no],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| SyncError::Downlink(e.to_string()))?;
        let same = known
            .and_then(|b| serde_json::from_str::<SamplingInspection>(&b).ok())
            .is_some_and(|k| k == r);
        if !same {
            out.push(EntryDraft::new(Event::SamplingInspection(r)));
        }
    }
    Ok(out)
}

/// Apply one downlink payload to `ledger` and keep the document in `docs_dir`, as the sync
/// client does on `…/down`. For the installer CLI and tests; `Ok(false)`: nothing to do.
pub fn apply_downlink(
    ledger: &mut Ledger,
    docs_dir: &std::path::Path,
    payload: &[u8],
) -> Result<bool, SyncError> {
    let mut docs = Docs::load(Some(docs_dir.to_path_buf()));
    Ok(docs.apply(ledger, payload)?.is_some())
}

//! Provisioning a box: `baytrace-cloud device add` issues its identity and secrets.
//!
//! Why the cloud generates the signing key (rather than the box generating it and sending the
//! public half): a box is commissioned by an installer who carries one file from the cloud to
//! the box (`baytrace-edge init --credentials FILE`); one step, no enrolment protocol to secure.
//! The cloud keeps only the public key and the code key (it must decode ticket codes); the
//! private key exists in the credentials file, written 0600, which the installer deletes after
//! the box has taken it.
//!
//! The file is JSON ([`DeviceCredentials`], `v` = 1): do not rename fields, add new ones as
//! optional, as for the wire types.

use crate::store::{CloudStore, DeviceRecord, ErrorKind, MAX_DEVICE_NO, StoreError};
use rand::Rng;
use std::path::{Path, PathBuf};
use trace_core::wire::sign::SignKey;
use trace_core::{DeviceId, HashAlg};

pub use trace_core::credentials::{CREDENTIALS_VERSION, DeviceCredentials, MqttCredentials};

/// The credentials file on disk (the format itself is `trace_core::credentials`).
pub trait CredentialsFile: Sized {
    fn read(path: &Path) -> Result<Self, ProvisionError>;
    /// Write as `{dir}/{id}.credentials.json`, readable by the owner only. Refuses to overwrite.
    fn write_to(&self, dir: &Path) -> Result<PathBuf, ProvisionError>;
}

impl CredentialsFile for DeviceCredentials {
    fn read(path: &Path) -> Result<DeviceCredentials, ProvisionError> {
        let text = std::fs::read(path).map_err(|e| ProvisionError::Io(path.to_owned(), e))?;
        DeviceCredentials::from_json(&text).map_err(|e| ProvisionError::Json(e.to_string()))
    }

    fn write_to(&self, dir: &Path) -> Result<PathBuf, ProvisionError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = dir.join(format!("{}.credentials.json", self.device));
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| ProvisionError::Json(e.to_string()))?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| ProvisionError::Io(path.clone(), e))?;
        f.write_all(&json)
            .map_err(|e| ProvisionError::Io(path.clone(), e))?;
        Ok(path)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no free device number found; pass --device-no")]
    NoDeviceNo,
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("credentials JSON: {0}")]
    Json(String),
    #[error("mosquitto_passwd failed: {0}")]
    Passwd(String),
}

/// What `device add` is asked for.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: DeviceId,
    pub entity: String,
    /// Market name and stall number shown on the trace page (empty: not shown).
    pub market: String,
    pub stall_no: String,
    /// None: a random free number (sequential numbers would tell how many stalls exist).
    pub device_no: Option<u32>,
    pub hash_alg: HashAlg,
    pub mqtt_url: String,
    pub public_host: String,
}

/// Generate the keys and password, register the device, return its credentials.
pub async fn add_device<S: CloudStore>(
    store: &S,
    req: NewDevice,
) -> Result<DeviceCredentials, ProvisionError> {
    let mut seed = [0u8; 32];
    let mut code_key = [0u8; 32];
    let mut pw = [0u8; 18];
    {
        let mut rng = rand::rng();
        rng.fill(&mut seed);
        rng.fill(&mut code_key);
        rng.fill(&mut pw);
    }
    let sign = SignKey::ed25519_from_seed(&seed);
    let public_key = sign.verify_key().to_bytes();
    let mut tries = 0;
    let device_no = loop {
        let no = match req.device_no {
            Some(n) => n,
            None => rand::rng().random_range(100_000..=MAX_DEVICE_NO),
        };
        let rec = DeviceRecord {
            id: req.id.clone(),
            entity: req.entity.clone(),
            market: req.market.clone(),
            stall_no: req.stall_no.clone(),
            device_no: no,
            public_key: public_key.clone(),
            code_key,
            hash_alg: req.hash_alg,
        };
        match store.register_device(rec).await {
            Ok(()) => break no,
            Err(StoreError::DeviceNoTaken(_)) if req.device_no.is_none() && tries < 20 => {
                tries += 1;
            }
            Err(e) if e.kind() == ErrorKind::Conflict && req.device_no.is_none() && tries >= 20 => {
                return Err(ProvisionError::NoDeviceNo);
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(DeviceCredentials {
        v: CREDENTIALS_VERSION,
        device: req.id.clone(),
        entity: req.entity,
        device_no,
        hash_alg: req.hash_alg,
        sign_alg: "ed25519".into(),
        signing_key: hex::encode(seed),
        public_key: hex::encode(&public_key),
        code_key: hex::encode(code_key),
        mqtt: MqttCredentials {
            url: req.mqtt_url,
            username: req.id.to_string(),
            password: hex::encode(pw),
        },
        public_host: req.public_host,
    })
}

/// Add or replace the device's entry in a Mosquitto password file (`mosquitto_passwd -b`;
/// creates the file when missing). Mosquitto reloads it on SIGHUP.
pub fn mosquitto_passwd(file: &Path, username: &str, password: &str) -> Result<(), ProvisionError> {
    let mut cmd = std::process::Command::new("mosquitto_passwd");
    if !file.exists() {
        cmd.arg("-c");
    }
    let out = cmd
        .arg("-b")
        .arg(file)
        .arg(username)
        .arg(password)
        .output()
        .map_err(|e| {
            ProvisionError::Passwd(format!(
                "cannot run mosquitto_passwd (apt install mosquitto): {e}"
            ))
        })?;
    if !out.status.success() {
        return Err(ProvisionError::Passwd(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqliteConfig, SqliteStore};

    #[tokio::test]
    async fn add_registers_and_writes_usable_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(SqliteConfig::new(dir.path().join("c.sqlite"))).unwrap();
        let id = DeviceId::new("stall-a01").unwrap();
        let req = NewDevice {
            id: id.clone(),
            entity: "老陈鲜肉".into(),
            market: "东门市场".into(),
            stall_no: "A-12".into(),
            device_no: None,
            hash_alg: HashAlg::Sha256,
            mqtt_url: "mqtt://127.0.0.1:1883".into(),
            public_host: "trace.example".into(),
        };
        let cred = add_device(&store, req.clone()).await.unwrap();
        assert!((100_000..=MAX_DEVICE_NO).contains(&cred.device_no));
        let rec = store.get_device(&id).await.unwrap().unwrap();
        assert_eq!(
            rec.public_key,
            cred.sign_key().unwrap().verify_key().to_bytes()
        );
        assert_eq!(rec.code_key, cred.code_key().unwrap());
        assert_eq!(cred.mqtt.username, "stall-a01");
        assert!(!format!("{cred:?}").contains(&cred.signing_key));
        let path = cred.write_to(dir.path()).unwrap();
        assert_eq!(DeviceCredentials::read(&path).unwrap(), cred);
        assert!(cred.write_to(dir.path()).is_err(), "never overwrites");
        let again = add_device(&store, req).await.unwrap_err();
        assert!(
            matches!(again, ProvisionError::Store(StoreError::DeviceExists(_))),
            "{again}"
        );
    }
}
